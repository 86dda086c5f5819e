//! The parser against bodies written by mockcrm's own composers (the
//! built-in connectors' message logs and core's shared-SMS composer in both
//! styles and all three formats), so a change to either shows here.

use super::*;
use crate::compose::{
    add_message, compose_message_log, compose_shared_sms, HostZone, SharedSmsOptions,
    SharedSmsRequest, SharedSmsStyle,
};
use crate::interface::MessageLogInput;
use serde_json::{json, Value};

fn input(value: Value) -> MessageLogInput {
    serde_json::from_value(value).expect("a message-log input")
}

fn sms(id: &str, direction: &str, time: &str, text: &str) -> Value {
    json!({"id": id, "conversationId": "c", "type": "SMS", "direction": direction,
           "creationTime": time, "subject": text})
}

fn said(entry: &Entry) -> (EntryKind, Option<&str>, &str, &str) {
    (
        entry.kind,
        entry.time.as_deref(),
        entry.speaker.as_str(),
        entry.text.as_str(),
    )
}

#[test]
fn a_plain_sms_conversation_is_its_entries_in_order() {
    let first = input(json!({
        "user": {"timezoneOffset": "-05:00"},
        "contactInfo": {"id": "c1", "name": "Jane Contact", "phoneNumber": "+14155550199"},
        "message": sms("1", "Inbound", "2025-06-03T14:05:09.000Z", "Hi, 3pm?\nOr 4?"),
    }));
    let draft = compose_message_log(&first, "Test User", &HostZone::UTC).expect("composes");
    let mut second = first.clone();
    second.message =
        serde_json::from_value(sms("2", "Outbound", "2025-06-03T14:14:48Z", "Sure")).ok();
    let body = add_message(&draft.body, &second, "Test User", &HostZone::UTC).expect("adds");
    let parsed = parse(&body, "text/plain", &draft.subject).expect("a conversation");
    assert_eq!(parsed.layout, Layout::Conversation);
    assert_eq!(parsed.messages(), 2);
    let entries: Vec<_> = parsed.entries.iter().map(said).collect();
    assert_eq!(
        entries,
        [
            (
                EntryKind::Message,
                Some("09:05 AM"),
                "Jane Contact (+14155550199)",
                "Hi, 3pm?\nOr 4?"
            ),
            (EntryKind::Message, Some("09:14 AM"), "Test User", "Sure"),
        ]
    );
}

#[test]
fn a_group_sms_names_each_speaker_and_an_mms_its_links() {
    let group = input(json!({
        "contactInfo": {"id": "c1", "name": "Rahul Verma"},
        "correspondents": [[{"name": "Ana Ruiz"}]],
        "message": sms("1-c1", "Inbound", "2025-06-03T14:05:09Z", "Team, photos below"),
        "imageLink": "https://media.example/img.png",
        "videoLink": "javascript:alert(1)",
    }));
    let draft = compose_message_log(&group, "Test User", &HostZone::UTC).expect("composes");
    let mut reply = group.clone();
    reply.image_link = None;
    reply.video_link = None;
    reply.message =
        serde_json::from_value(sms("2-c1", "Outbound", "2025-06-03T15:00:00Z", "Thanks!")).ok();
    let body = add_message(&draft.body, &reply, "Test User", &HostZone::UTC).expect("adds");
    let parsed = parse(&body, "text/plain", &draft.subject).expect("a conversation");
    assert_eq!(parsed.entries.len(), 2);
    let first = &parsed.entries[0];
    assert_eq!(
        (first.speaker.as_str(), first.text.as_str()),
        ("Rahul Verma", "Team, photos below")
    );
    assert_eq!(
        first.links,
        [
            Link {
                title: "Image".into(),
                href: "https://media.example/img.png".into()
            },
            Link {
                title: "Video".into(),
                href: "javascript:alert(1)".into()
            },
        ]
    );
    assert_eq!(said(&parsed.entries[1]).2, "Test User");
    assert!(parsed.entries[1].links.is_empty());
}

#[test]
fn a_voicemail_and_a_fax_are_one_file_entry_each() {
    let voicemail = input(json!({
        "contactInfo": {"name": "Rahul Verma"},
        "recordingLink": "https://media.example/vm.mp3",
        "message": {"id": 5, "type": "VoiceMail", "direction": "Inbound",
                    "creationTime": "2025-06-03T17:20:05.000Z"},
    }));
    let draft = compose_message_log(&voicemail, "U", &HostZone::UTC).expect("composes");
    let parsed = parse(&draft.body, "text/plain", &draft.subject).expect("a voicemail");
    assert_eq!(parsed.layout, Layout::Voicemail);
    assert_eq!(parsed.messages(), 0);
    assert_eq!(
        (parsed.entries[0].kind, parsed.entries[0].speaker.as_str()),
        (EntryKind::File, "Rahul Verma")
    );
    assert_eq!(
        parsed.entries[0].links[0].href,
        "https://media.example/vm.mp3"
    );

    let fax = input(json!({
        "contactInfo": {"name": "Northside Clinic"},
        "message": {"id": 6, "type": "Fax", "direction": "Outbound",
                    "creationTime": "2025-06-03T18:45:31.000Z"},
    }));
    let draft = compose_message_log(&fax, "U", &HostZone::UTC).expect("composes");
    let parsed = parse(&draft.body, "text/plain", &draft.subject).expect("a fax");
    assert_eq!(parsed.layout, Layout::Fax);
    assert_eq!(parsed.entries[0].speaker, "Northside Clinic");
    assert_eq!(
        parsed.entries[0].links[0],
        Link {
            title: "Fax document".into(),
            href: "(pending...)".into()
        }
    );
}

fn shared_request(format: &str) -> SharedSmsRequest {
    serde_json::from_value(json!({
        "logFormat": format,
        "contactName": "Cara <Customer>",
        "timezoneOffset": "+00:00",
        "conversation": {
            "creationTime": "2025-10-04T17:00:00Z",
            "owner": {"name": "Support Queue", "extensionType": "Department"},
            "messages": [{"lastModifiedTime": "2025-10-04T19:00:00Z"}],
            "entities": [
                {"recordType": "AliveMessage", "direction": "Inbound",
                 "creationTime": 1759597200000u64, "from": {"name": "Cara <Customer>"},
                 "text": "Is my order *shipped*?\nIt's #42 & late"},
                {"recordType": "ThreadAssignedHint", "creationTime": 1759598100000u64,
                 "assignee": {"name": "Ann O'Neil"}},
                {"recordType": "AliveNote", "creationTime": 1759599000000u64,
                 "author": {"name": "Ann O'Neil"}, "text": "Check the <warehouse>"},
                {"recordType": "AliveMessage", "direction": "Outbound",
                 "creationTime": 1759599900000u64, "author": {"name": "Ann O'Neil"},
                 "text": "Shipped today"}
            ]
        }
    }))
    .expect("a shared-SMS request")
}

#[test]
fn a_shared_sms_thread_in_every_format_and_style_marks_notes_and_assignments() {
    for style in SharedSmsStyle::ALL {
        for (format, mime) in [
            ("text/plain", "text/plain"),
            ("text/markdown", "text/markdown"),
            ("text/html", "text/html"),
        ] {
            let options = SharedSmsOptions::default().with_style(style);
            let log = compose_shared_sms(&shared_request(format), &options).expect("composes");
            let case = format!("{style} {format}:\n{}", log.body);
            let parsed = parse(&log.body, mime, &log.subject).expect(&case);
            assert_eq!(parsed.layout, Layout::SharedSms, "{case}");
            let mut entries: Vec<_> = parsed.entries.iter().map(said).collect();
            // Both styles list newest first; core's order is the thread's
            // for numeric times too, so compare as a set of rows.
            entries.sort_by_key(|entry| entry.1.map(str::to_owned));
            assert_eq!(
                entries,
                [
                    (EntryKind::Assignment, None, "Ann O'Neil", ""),
                    (
                        EntryKind::Message,
                        Some("2025-10-04 05:00 PM"),
                        "Cara <Customer>",
                        "Is my order *shipped*?\nIt's #42 & late"
                    ),
                    (
                        EntryKind::Note,
                        Some("2025-10-04 05:30 PM"),
                        "Ann O'Neil",
                        "Check the <warehouse>"
                    ),
                    (
                        EntryKind::Message,
                        Some("2025-10-04 05:45 PM"),
                        "Ann O'Neil",
                        "Shipped today"
                    ),
                ],
                "{case}"
            );
            assert_eq!(parsed.messages(), 2, "{case}");
        }
    }
}

#[test]
fn a_body_it_cannot_read_is_none() {
    for (body, format) in [
        ("", "text/plain"),
        ("Just a note about the call", "text/plain"),
        // An entry list with no header before its text.
        (
            "Conversation(1 messages)\nBEGIN\n------------\nno header\n------------\nEND",
            "text/plain",
        ),
        // BEGIN without END.
        (
            "Conversation(1 messages)\nBEGIN\n------------\nA 09:00 AM\nhi\n",
            "text/plain",
        ),
        (
            "<div>BEGIN</div><hr><p>not an entry</p><hr><div>END</div>",
            "text/html",
        ),
        (
            "<div>BEGIN</div><hr><p><b>x</b> said on t:<br>open",
            "text/html",
        ),
        // No entries at all.
        (
            "Conversation(0 messages)\nBEGIN\n------------\n------------\nEND",
            "text/plain",
        ),
    ] {
        assert_eq!(parse(body, format, "subject"), None, "{body}");
    }
}

#[test]
fn clock_headers_need_a_speaker_and_a_clock() {
    assert_eq!(clock_header("A B 09:05 AM"), Some(("A B", "09:05 AM")));
    assert_eq!(clock_header("09:05 AM"), None);
    assert_eq!(clock_header("A 9:05 AM"), None);
    assert_eq!(clock_header("A 09:05 XM"), None);
    assert_eq!(unescape_markdown("a\\*b\\\\c\\d"), "a*b\\c\\d");
    assert_eq!(unescape_html("&amp;lt; &#039;"), "&lt; '");
}
