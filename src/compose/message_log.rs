//! Message-log bodies the way App Connect's built-in connectors write them
//! (Insightly's and Clio's `createMessageLog` and `updateMessageLog`, in
//! plain text): a subject `SMS conversation with <name> - YY/MM/DD`; a body
//! with `Conversation summary`, the day, the participants,
//! `Conversation(N messages)`, then `BEGIN`, `------------`, one entry per
//! message, `------------`, `END`. An update inserts the new entry before
//! the end marker and counts it. MMS attachments are links in their entry;
//! a voicemail or a fax is a log of its own with a titled link. A shared-SMS
//! conversation is not written here: core composes it (`shared_sms`).
//!
//! **Pure**: the user's name (which the connector asks the CRM for) and the
//! host's zone are passed in.

use chrono::{DateTime, Utc};

use super::values::{format_date_time, shown_at, ShownAt};
use super::{ComposeError, HostZone};
use crate::interface::{ContactInfo, MessageLogInput, MessageRecord, User};

/// The line that closes a conversation's entries; an update inserts before it.
const END_MARKER: &str = "------------\nEND";
const FOOTER: &str = "\n\n--- Created via RingCentral App Connect";

/// What a message log records, as its activity `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Sms,
    Voicemail,
    Fax,
}

impl MessageKind {
    /// The activity type of a log of this kind.
    pub fn activity_type(self) -> &'static str {
        match self {
            MessageKind::Sms => "SMS",
            MessageKind::Voicemail => "Voicemail",
            MessageKind::Fax => "Fax",
        }
    }

    /// A voicemail by its recording link or its type, a fax by its document
    /// link or its type, anything else (SMS, MMS, pager) a conversation.
    pub fn of(input: &MessageLogInput) -> MessageKind {
        let message_type = input
            .message
            .as_ref()
            .and_then(|message| message.message_type.as_deref());
        if input.recording_link.is_some() || message_type == Some("VoiceMail") {
            MessageKind::Voicemail
        } else if input.fax_doc_link.is_some() || message_type == Some("Fax") {
            MessageKind::Fax
        } else {
            MessageKind::Sms
        }
    }
}

/// Why a message cannot be written into a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageLogError {
    #[error("the input has no message: createMessageLog and updateMessageLog need `message` (or `sharedSMSLogContent` for a shared SMS)")]
    NoMessage,
    #[error("message.{0} is missing: core always sends it")]
    Missing(&'static str),
    #[error("message.creationTime {0:?} is not an ISO 8601 time such as 2025-06-03T14:05:09.000Z")]
    CreationTime(String),
    #[error(transparent)]
    Offset(#[from] ComposeError),
}

/// A new log's subject and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageLogDraft {
    pub kind: MessageKind,
    pub subject: String,
    pub body: String,
}

/// The instant a message was created.
pub fn creation_time(message: &MessageRecord) -> Result<DateTime<Utc>, MessageLogError> {
    let text = message
        .creation_time
        .as_deref()
        .ok_or(MessageLogError::Missing("creationTime"))?;
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| MessageLogError::CreationTime(text.to_owned()))
}

/// `moment(time).utcOffset(user.timezoneOffset).format(pattern)`, or the
/// host's zone when the user has no offset.
fn format_at(
    time: DateTime<Utc>,
    user: Option<&User>,
    host: &HostZone,
    pattern: &str,
) -> Result<String, MessageLogError> {
    let offset = match shown_at(user.and_then(|user| user.timezone_offset.as_ref()))? {
        ShownAt::Offset(seconds) => seconds,
        ShownAt::Host => host.offset_at(time),
    };
    Ok(format_date_time(time, offset, pattern))
}

/// The day of `time` where the user is, `YYYY-MM-DD`: how a conversation's
/// messages are grouped into one log per day.
pub fn message_day(
    time: DateTime<Utc>,
    user: Option<&User>,
    host: &HostZone,
) -> Result<String, MessageLogError> {
    format_at(time, user, host, "YYYY-MM-DD")
}

fn contact_name(contact: &ContactInfo) -> &str {
    [contact.name.as_deref(), contact.phone_number.as_deref()]
        .into_iter()
        .flatten()
        .find(|text| !text.trim().is_empty())
        .unwrap_or("unknown contact")
}

/// The first log of a message: a conversation with its first entry, or a
/// voicemail's or fax's titled link. `user_name` is the CRM user's name.
pub fn compose_message_log(
    input: &MessageLogInput,
    user_name: &str,
    host: &HostZone,
) -> Result<MessageLogDraft, MessageLogError> {
    let message = input.message.as_ref().ok_or(MessageLogError::NoMessage)?;
    let time = creation_time(message)?;
    let user = input.user.as_ref();
    let name = contact_name(&input.contact_info);
    let day = format_at(time, user, host, "YY/MM/DD")?;
    let kind = MessageKind::of(input);
    let (subject, body) = match kind {
        MessageKind::Voicemail => (
            format!("Voicemail left by {name} - {day}"),
            format!(
                "Voicemail recording link: {}{FOOTER}",
                link_or_pending(input.recording_link.as_deref(), message, "AudioRecording")
            ),
        ),
        MessageKind::Fax => {
            let way = if message.direction.as_deref() == Some("Outbound") {
                "to"
            } else {
                "from"
            };
            (
                format!("Fax document sent {way} {name} - {day}"),
                format!(
                    "Fax document link: {}{FOOTER}",
                    link_or_pending(input.fax_doc_link.as_deref(), message, "RenderedDocument")
                ),
            )
        }
        MessageKind::Sms => {
            let mut participants = format!("    {user_name}\n    {name}\n");
            for correspondent in input.correspondents.iter().flatten() {
                let shown = correspondent
                    .get(0)
                    .and_then(|first| first.get("name"))
                    .and_then(|name| name.as_str())
                    .unwrap_or("Unknown");
                participants.push_str(&format!("    {shown}\n"));
            }
            let body = format!(
                "Conversation summary\n{}\nParticipants\n{participants}Conversation(1 messages)\n\
                 BEGIN\n------------\n{}{END_MARKER}{FOOTER}",
                format_at(time, user, host, "dddd, MMMM DD, YYYY")?,
                entry(input, message, user_name, host)?,
            );
            (format!("SMS conversation with {name} - {day}"), body)
        }
    };
    Ok(MessageLogDraft {
        kind,
        subject,
        body,
    })
}

/// `body` with the input's message added: its entry before the end marker
/// and the count one more, or, in a body with no entries (a voicemail's,
/// or one written by someone else), the entry at the end.
pub fn add_message(
    body: &str,
    input: &MessageLogInput,
    user_name: &str,
    host: &HostZone,
) -> Result<String, MessageLogError> {
    let message = input.message.as_ref().ok_or(MessageLogError::NoMessage)?;
    let entry = entry(input, message, user_name, host)?;
    let Some(at) = body.find(END_MARKER) else {
        let separator = if body.is_empty() || body.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        return Ok(format!("{body}{separator}{entry}"));
    };
    let mut updated = String::with_capacity(body.len() + entry.len() + 2);
    updated.push_str(&body[..at]);
    updated.push_str(&entry);
    updated.push_str(&body[at..]);
    Ok(recount(&updated))
}

/// `Conversation(N messages)` with N one more.
fn recount(body: &str) -> String {
    const OPEN: &str = "Conversation(";
    const CLOSE: &str = " messages)";
    let Some(start) = body.find(OPEN) else {
        return body.to_owned();
    };
    let digits_at = start + OPEN.len();
    let rest = &body[digits_at..];
    let Some(end) = rest.find(CLOSE) else {
        return body.to_owned();
    };
    let Ok(count) = rest[..end].parse::<u64>() else {
        return body.to_owned();
    };
    format!(
        "{}{}{}",
        &body[..digits_at],
        count.saturating_add(1),
        &rest[end..]
    )
}

/// One message as its entry: who and when, then what was said and any
/// attachment as a link, then a blank line.
fn entry(
    input: &MessageLogInput,
    message: &MessageRecord,
    user_name: &str,
    host: &HostZone,
) -> Result<String, MessageLogError> {
    let time = creation_time(message)?;
    let who = if message.direction.as_deref() == Some("Inbound") {
        let contact = &input.contact_info;
        match contact.phone_number.as_deref() {
            Some(phone) if !phone.is_empty() => {
                format!("{} ({phone})", contact_name(contact))
            }
            _ => contact_name(contact).to_owned(),
        }
    } else {
        user_name.to_owned()
    };
    let mut entry = format!(
        "{who} {}\n",
        format_at(time, input.user.as_ref(), host, "hh:mm A")?
    );
    if let Some(text) = message.subject.as_deref().filter(|text| !text.is_empty()) {
        entry.push_str(text);
        entry.push('\n');
    }
    for (title, link) in [("Image", &input.image_link), ("Video", &input.video_link)] {
        if let Some(link) = link {
            entry.push_str(&format!("{title}: {link}\n"));
        }
    }
    entry.push('\n');
    Ok(entry)
}

/// The link core found, else the message's own attachment of that type,
/// else `(pending...)` as App Connect shows a link not ready yet.
fn link_or_pending(link: Option<&str>, message: &MessageRecord, attachment: &str) -> String {
    let attached = || {
        message
            .extra
            .get("attachments")?
            .as_array()?
            .iter()
            .find(|a| a.get("type").and_then(|t| t.as_str()) == Some(attachment))?
            .get("link")?
            .as_str()
            .map(str::to_owned)
    };
    link.map(str::to_owned)
        .or_else(attached)
        .unwrap_or_else(|| "(pending...)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(value: serde_json::Value) -> MessageLogInput {
        serde_json::from_value(value).expect("a message-log input")
    }

    fn sms(direction: &str, time: &str, text: &str) -> serde_json::Value {
        json!({"id": 1, "conversationId": "c", "type": "SMS", "direction": direction,
               "creationTime": time, "subject": text})
    }

    #[test]
    fn a_conversation_starts_with_one_entry_and_grows_before_its_end() {
        let first = input(json!({
            "user": {"timezoneOffset": "-05:00"},
            "contactInfo": {"id": "c1", "name": "Jane Contact", "phoneNumber": "+14155550199"},
            "correspondents": [[{"name": "Rahul Verma"}]],
            "message": sms("Inbound", "2025-06-03T14:05:09.000Z", "Hi, 3pm?"),
        }));
        let draft = compose_message_log(&first, "Test User", &HostZone::UTC).expect("composes");
        assert_eq!(draft.kind, MessageKind::Sms);
        assert_eq!(
            draft.subject,
            "SMS conversation with Jane Contact - 25/06/03"
        );
        assert_eq!(
            draft.body,
            "Conversation summary\nTuesday, June 03, 2025\nParticipants\n    Test User\n    \
             Jane Contact\n    Rahul Verma\nConversation(1 messages)\nBEGIN\n------------\n\
             Jane Contact (+14155550199) 09:05 AM\nHi, 3pm?\n\n------------\nEND\n\n\
             --- Created via RingCentral App Connect"
        );
        let mut second = first.clone();
        second.message = serde_json::from_value(sms("Outbound", "2025-06-03T14:14:48Z", "Sure"))
            .expect("message");
        second.image_link = Some("https://media/1".into());
        let body = add_message(&draft.body, &second, "Test User", &HostZone::UTC).expect("adds");
        assert!(body.contains("Conversation(2 messages)"), "{body}");
        assert!(
            body.contains(
                "Hi, 3pm?\n\nTest User 09:14 AM\nSure\nImage: https://media/1\n\n------------\nEND"
            ),
            "{body}"
        );
    }

    #[test]
    fn voicemail_and_fax_are_titled_links() {
        let voicemail = input(json!({
            "contactInfo": {"name": "Rahul Verma"},
            "recordingLink": "https://media/vm",
            "message": {"id": 5, "type": "VoiceMail", "direction": "Inbound",
                        "creationTime": "2025-06-03T17:20:05.000Z"},
        }));
        let draft = compose_message_log(&voicemail, "Test User", &HostZone::UTC).expect("ok");
        assert_eq!(
            (draft.kind.activity_type(), draft.subject.as_str()),
            ("Voicemail", "Voicemail left by Rahul Verma - 25/06/03")
        );
        assert!(draft
            .body
            .starts_with("Voicemail recording link: https://media/vm\n\n"));
        let fax = input(json!({
            "contactInfo": {"name": "Northside Clinic"},
            "message": {"id": 6, "type": "Fax", "direction": "Outbound",
                        "creationTime": "2025-06-03T18:45:31.000Z",
                        "attachments": [{"type": "RenderedDocument", "link": "https://media/fax"}]},
        }));
        let draft = compose_message_log(&fax, "Test User", &HostZone::UTC).expect("ok");
        assert_eq!(
            draft.subject,
            "Fax document sent to Northside Clinic - 25/06/03"
        );
        assert!(draft
            .body
            .starts_with("Fax document link: https://media/fax\n"));
    }

    #[test]
    fn bad_input_is_an_error_that_says_what_to_send() {
        let none = input(json!({"contactInfo": {"name": "J"}}));
        assert_eq!(
            compose_message_log(&none, "U", &HostZone::UTC),
            Err(MessageLogError::NoMessage)
        );
        let bad_time = input(json!({"message": sms("Inbound", "yesterday", "x")}));
        assert!(matches!(
            compose_message_log(&bad_time, "U", &HostZone::UTC),
            Err(MessageLogError::CreationTime(_))
        ));
        let bad_offset = input(json!({"user": {"timezoneOffset": "soon"},
                                      "message": sms("Inbound", "2025-06-03T14:05:09Z", "x")}));
        assert!(matches!(
            compose_message_log(&bad_offset, "U", &HostZone::UTC),
            Err(MessageLogError::Offset(_))
        ));
        assert_eq!(recount("no count here"), "no count here");
        assert_eq!(
            add_message("someone else's body", &bad_offset, "U", &HostZone::UTC).map(|_| ()),
            Err(MessageLogError::Offset(ComposeError::TimezoneOffset(
                "soon".into()
            )))
        );
    }
}
