//! Properties of the composer over arbitrary compose requests: every setting
//! on and off, every format, unicode and label-like text, every offset form,
//! the six date formats, legs of any length.
//!
//! In the `clean` update style:
//! - recomposing is idempotent, on top of any existing body;
//! - a section that is on and has a value appears exactly once, and one that
//!   is off or has no value does not appear (label-like user text aside);
//! - updating some fields changes only their sections;
//! - the note parses back out of the body;
//!
//! in the `core` style, on a body composed from nothing and then updated with
//! random changes, twice:
//! - the update never fails or panics, and the note it carries is in the body;
//!
//! and durations up to 10⁷ seconds (every one of the first 111 hours) read
//! back as their seconds.
//!
//! Cases default to 1,000 per property; `PROPTEST_CASES` overrides.
//!
//! The requests come from `compose_requests`.

use mockcrm::interface::{
    CallDuration, CallLog, ComposeRequest, Direction, LogContent, LogFormat, StartTime, User,
};
use mockcrm::{ComposeOptions, UpdateStyle};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;

use crate::compose_requests::{
    any_request, changed, complete_request, format, setting, typed_note, without_note_markers,
    SETTINGS,
};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    Config {
        cases,
        ..Config::default()
    }
}

/// In the `clean` style, whose properties most of this file checks.
fn compose(request: &ComposeRequest, format: LogFormat) -> String {
    compose_in(request, format, UpdateStyle::Clean)
}

fn compose_in(request: &ComposeRequest, format: LogFormat, style: UpdateStyle) -> String {
    let options = ComposeOptions::new(format).with_update_style(style);
    mockcrm::compose(request, &options).unwrap_or_else(|e| panic!("compose failed: {e}"))
}

fn on(request: &ComposeRequest, key: &str) -> bool {
    let default = SETTINGS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, d)| *d)
        .unwrap_or(true);
    let value = request
        .content
        .user
        .as_ref()
        .and_then(|u| u.user_settings.get(key))
        .map(|s| &s.value);
    match value {
        None | Some(Value::Null) => default,
        Some(Value::Bool(b)) => *b,
        Some(other) => panic!("the generator only writes booleans, got {other}"),
    }
}

fn filled(text: Option<&str>) -> bool {
    text.is_some_and(|t| !t.is_empty())
}

/// For each section: the markers that open it in `format`, and whether the
/// request carries it (switched on, with a value).
fn expected_sections(r: &ComposeRequest, format: LogFormat) -> Vec<(Vec<String>, bool)> {
    let call = &r.content.call_log;
    let inbound = call.direction == Some(Direction::Inbound);
    let own = if inbound { &call.to } else { &call.from };
    let item = |label: &str| match format {
        LogFormat::Plain => format!("- {label}: "),
        LogFormat::Markdown => format!("**{label}**: "),
        LogFormat::Html => format!("<li><b>{label}</b>: "),
    };
    let block = |label: &str| match format {
        LogFormat::Plain => format!("- {label}:\n"),
        LogFormat::Markdown => format!("### {label}\n"),
        LogFormat::Html => format!("<div><b>{label}</b><br>"),
    };
    let note = match format {
        LogFormat::Plain => "- Note: ",
        LogFormat::Markdown => "## Agent notes\n",
        LogFormat::Html => "<b>Agent notes</b><br>",
    };
    let html = format == LogFormat::Html;
    let started = match &call.start_time {
        Some(StartTime::EpochMillis(ms)) => *ms != 0,
        Some(StartTime::Iso(s)) => !s.is_empty(),
        None => false,
    };
    vec![
        (
            vec![note.to_owned()],
            on(r, "addCallLogNote") && filled(r.content.note.as_deref()),
        ),
        (
            vec![item("Session Id")],
            on(r, "addCallSessionId") && filled(call.session_id.as_deref()),
        ),
        (
            vec![item("RingCentral user name")],
            on(r, "addRingCentralUserName") && filled(own.as_ref().and_then(|p| p.name.as_deref())),
        ),
        (
            vec![item("RingCentral number and extension")],
            on(r, "addRingCentralNumber")
                && filled(own.as_ref().and_then(|p| p.phone_number.as_deref())),
        ),
        (
            vec![item("Summary")],
            on(r, "addCallLogSubject") && filled(call.custom_subject.as_deref()),
        ),
        (
            if html {
                vec![item("Caller phone number"), item("Recipient phone number")]
            } else {
                vec![item("Contact Number")]
            },
            on(r, "addCallLogContactNumber")
                && filled(
                    r.contact_info
                        .as_ref()
                        .and_then(|c| c.phone_number.as_deref()),
                ),
        ),
        (
            vec![item(if html { "Date/time" } else { "Date/Time" })],
            on(r, "addCallLogDateTime") && started,
        ),
        (
            vec![item("Duration")],
            on(r, "addCallLogDuration") && call.duration.is_some(),
        ),
        (
            vec![item("Result")],
            on(r, "addCallLogResult") && filled(call.result.as_deref()),
        ),
        (
            vec![item("Call recording link")],
            on(r, "addCallLogRecording")
                && filled(call.recording.as_ref().and_then(|x| x.link.as_deref())),
        ),
        (
            vec![item("Voicemail recording link")],
            on(r, "addCallLogRecording")
                && filled(call.voicemail.as_ref().and_then(|x| x.link.as_deref())),
        ),
        (
            vec![block("AI Note")],
            on(r, "addCallLogAiNote") && filled(r.content.ai_note.as_deref()),
        ),
        (
            vec![block("Transcript")],
            on(r, "addCallLogTranscript") && filled(r.content.transcript.as_deref()),
        ),
        (
            vec![block("ACE transcript")],
            on(r, "addCallLogRingSenseRecordingTranscript")
                && filled(r.content.ring_sense_transcript.as_deref()),
        ),
        (
            vec![block("ACE summary")],
            on(r, "addCallLogRingSenseRecordingSummary")
                && filled(r.content.ring_sense_summary.as_deref()),
        ),
        (
            vec![item("Call score")],
            on(r, "addCallLogRingSenseRecordingAIScore")
                && filled(
                    r.content
                        .ring_sense_ai_score
                        .as_ref()
                        .and_then(Value::as_str),
                ),
        ),
        (
            vec![block("ACE bulleted summary")],
            on(r, "addCallLogRingSenseRecordingBulletedSummary")
                && filled(r.content.ring_sense_bulleted_summary.as_deref()),
        ),
        (
            vec![item("ACE recording link")],
            on(r, "addCallLogRingSenseRecordingLink")
                && filled(r.content.ring_sense_link.as_deref()),
        ),
        (
            vec![block("Call journey")],
            on(r, "addCallLogLegs") && !call.legs.is_empty(),
        ),
    ]
}

/// The free text the request puts into the body, as it appears there, with
/// the character the composer writes after it (a label the text ends with
/// may be completed by it).
fn user_text_in_body(r: &ComposeRequest, format: LogFormat) -> Vec<String> {
    let html = format == LogFormat::Html;
    let block = |text: &str| {
        if html {
            text.replace("\r\n", "<br>").replace(['\r', '\n'], "<br>") + "</div>"
        } else {
            format!("{text}\n")
        }
    };
    let raw = |text: &str, html_after: &str| {
        if html {
            format!("{text}{html_after}")
        } else {
            format!("{text}\n")
        }
    };
    let mut texts = Vec::new();
    let mut add = |key: &str, value: Option<&String>, shown: &dyn Fn(&str) -> String| {
        if let Some(value) = value.filter(|v| !v.is_empty() && on(r, key)) {
            texts.push(shown(value));
        }
    };
    add("addCallLogNote", r.content.note.as_ref(), &|t| {
        raw(t, "<br>")
    });
    add(
        "addCallLogSubject",
        r.content.call_log.custom_subject.as_ref(),
        &|t| raw(t, "</li>"),
    );
    add("addCallLogAiNote", r.content.ai_note.as_ref(), &block);
    add(
        "addCallLogTranscript",
        r.content.transcript.as_ref(),
        &block,
    );
    add(
        "addCallLogRingSenseRecordingTranscript",
        r.content.ring_sense_transcript.as_ref(),
        &block,
    );
    add(
        "addCallLogRingSenseRecordingSummary",
        r.content.ring_sense_summary.as_ref(),
        &block,
    );
    add(
        "addCallLogRingSenseRecordingBulletedSummary",
        r.content.ring_sense_bulleted_summary.as_ref(),
        &block,
    );
    texts
}

fn count(haystack: &str, needle: &str) -> usize {
    let mut n = 0;
    let mut from = 0;
    while let Some(at) = haystack[from..].find(needle) {
        n += 1;
        from += at + 1;
        while !haystack.is_char_boundary(from) {
            from += 1;
        }
    }
    n
}

/// Each section `r` can carry, composed on its own (a request with only
/// that field), trimmed of the line breaks around it; empty when `r` does
/// not carry it. Always in the same order, one entry per section.
fn sections_alone(r: &ComposeRequest, format: LogFormat) -> Vec<String> {
    type CopyField = fn(&ComposeRequest, &mut ComposeRequest);
    let fields: [CopyField; 15] = [
        |r, q| q.content.note.clone_from(&r.content.note),
        |r, q| {
            q.content
                .call_log
                .custom_subject
                .clone_from(&r.content.call_log.custom_subject)
        },
        |r, q| {
            q.content
                .call_log
                .start_time
                .clone_from(&r.content.call_log.start_time)
        },
        |r, q| {
            q.content
                .call_log
                .duration
                .clone_from(&r.content.call_log.duration)
        },
        |r, q| {
            q.content
                .call_log
                .result
                .clone_from(&r.content.call_log.result)
        },
        |r, q| {
            q.content
                .call_log
                .recording
                .clone_from(&r.content.call_log.recording)
        },
        |r, q| {
            q.content
                .call_log
                .voicemail
                .clone_from(&r.content.call_log.voicemail)
        },
        |r, q| q.content.call_log.legs.clone_from(&r.content.call_log.legs),
        |r, q| q.content.ai_note.clone_from(&r.content.ai_note),
        |r, q| q.content.transcript.clone_from(&r.content.transcript),
        |r, q| {
            q.content
                .ring_sense_transcript
                .clone_from(&r.content.ring_sense_transcript)
        },
        |r, q| {
            q.content
                .ring_sense_summary
                .clone_from(&r.content.ring_sense_summary)
        },
        |r, q| {
            q.content
                .ring_sense_ai_score
                .clone_from(&r.content.ring_sense_ai_score)
        },
        |r, q| {
            q.content
                .ring_sense_bulleted_summary
                .clone_from(&r.content.ring_sense_bulleted_summary)
        },
        |r, q| {
            q.content
                .ring_sense_link
                .clone_from(&r.content.ring_sense_link)
        },
    ];
    fields
        .iter()
        .map(|copy| {
            let mut alone = ComposeRequest {
                content: LogContent {
                    user: r.content.user.clone(),
                    ..LogContent::default()
                },
                ..ComposeRequest::default()
            };
            copy(r, &mut alone);
            compose(&alone, format).trim_matches('\n').to_owned()
        })
        .collect()
}

/// Whether free text in `before` holds, label and value, a whole section
/// that `after` changes to. The body then holds the section twice, the real
/// one with the old value and a quoted one with the new value, and nothing
/// tells which is which (not to a reader either), so which one an update
/// replaces is a guess: README's "Reviewing log bodies" says so.
fn forges_a_changed_section(
    before: &ComposeRequest,
    after: &ComposeRequest,
    format: LogFormat,
) -> bool {
    let texts = user_text_in_body(before, format);
    sections_alone(before, format)
        .iter()
        .zip(sections_alone(after, format))
        .filter(|(old, new)| !new.is_empty() && *old != new)
        .any(|(_, new)| texts.iter().any(|text| text.contains(new.as_str())))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn recomposing_is_idempotent(
        r in any_request(),
        earlier in any_request(),
        format in format(),
    ) {
        let once = compose(&r, format);
        let mut again = r.clone();
        again.existing_body = Some(once.clone());
        prop_assert_eq!(&compose(&again, format), &once);

        // On top of any body, too: a second pass changes nothing.
        let mut over = r.clone();
        over.existing_body = Some(compose(&earlier, format));
        let first = compose(&over, format);
        over.existing_body = Some(first.clone());
        prop_assert_eq!(compose(&over, format), first);
    }

    #[test]
    fn sections_on_with_a_value_appear_once_and_others_not_at_all(
        r in any_request(),
        format in format(),
    ) {
        let body = compose(&r, format);
        let texts = user_text_in_body(&r, format);
        for (markers, carried) in expected_sections(&r, format) {
            let in_body: usize = markers.iter().map(|m| count(&body, m)).sum();
            let quoted: usize = markers
                .iter()
                .map(|m| texts.iter().map(|t| count(t, m)).sum::<usize>())
                .sum();
            prop_assert_eq!(
                in_body,
                quoted + usize::from(carried),
                "{:?} in {:?}", markers, body
            );
        }
    }

    #[test]
    fn updating_some_fields_changes_only_their_sections(
        r in complete_request(),
        fresh in complete_request(),
        mask in 0u16..(1 << 13),
        format in format(),
    ) {
        let before = compose(&r, format);
        let after = changed(&r, mask, &fresh);
        prop_assume!(!forges_a_changed_section(&r, &after, format));
        let mut update = after.clone();
        update.existing_body = Some(before);
        prop_assert_eq!(compose(&update, format), compose(&after, format));
    }

    #[test]
    fn a_core_update_of_a_body_core_created_keeps_the_note(
        created in any_request(),
        fresh in any_request(),
        mask in 0u16..(1 << 13),
        note in typed_note(),
        format in format(),
    ) {
        let created = without_note_markers(created);
        let body = compose_in(&created, format, UpdateStyle::Core);
        let mut update = changed(&created, mask, &without_note_markers(fresh));
        update.content.note = Some(note.clone());
        update
            .content.user
            .get_or_insert_with(User::default)
            .user_settings
            .insert("addCallLogNote".into(), setting(Value::Bool(true)));
        update.existing_body = Some(body);
        let once = compose_in(&update, format, UpdateStyle::Core);
        prop_assert!(once.contains(&note), "{:?} lost from {:?}", note, once);
        update.existing_body = Some(once);
        let twice = compose_in(&update, format, UpdateStyle::Core);
        prop_assert!(twice.contains(&note), "{:?} lost from {:?}", note, twice);
    }

    #[test]
    fn the_note_parses_back(r in complete_request(), format in format()) {
        let body = compose(&r, format);
        let expected = if on(&r, "addCallLogNote") { r.content.note.clone() } else { None };
        prop_assert_eq!(
            mockcrm::parse_note(&body, format, r.content.user.as_ref()),
            expected,
            "{:?}", body
        );
    }
}

/// Reads a duration back as a person would, refusing anything outside the
/// format App Connect writes: non-zero hours, minutes and seconds, largest
/// first, joined by ", ", singular for one, and "0 seconds" alone for zero.
/// It shares nothing with the composer's arithmetic, so it can catch it.
fn read_duration(text: &str) -> Option<u64> {
    if text == "0 seconds" {
        return Some(0);
    }
    let mut total = 0;
    let mut smallest_so_far = u64::MAX;
    for part in text.split(", ") {
        let (count, unit) = part.split_once(' ')?;
        let n: u64 = count.parse().ok()?;
        if n == 0 || count != n.to_string() {
            return None;
        }
        let size = match unit.strip_suffix('s').unwrap_or(unit) {
            "hour" => 3600,
            "minute" => 60,
            "second" => 1,
            _ => return None,
        };
        let plural = unit.ends_with('s');
        if plural == (n == 1) || size >= smallest_so_far || (size < 3600 && n >= 60) {
            return None;
        }
        smallest_so_far = size;
        total += n * size;
    }
    Some(total)
}

/// Durations as App Connect's documentation and examples spell them, then
/// every duration up to 400,000 seconds (111 hours: every way seconds,
/// minutes and hours roll over, in the singular and the plural) and a
/// stride through 10⁷ read back through `read_duration`.
#[test]
fn durations_up_to_ten_million_read_back_as_their_seconds() {
    for (seconds, expected) in [
        (0, "0 seconds"),
        (1, "1 second"),
        (125, "2 minutes, 5 seconds"),
        (3661, "1 hour, 1 minute, 1 second"),
        (86_400, "24 hours"),
        (3_600 * 100 + 1, "100 hours, 1 second"),
    ] {
        assert_eq!(
            mockcrm::format_duration(&CallDuration::Seconds(seconds)),
            expected
        );
    }
    let request = |seconds| ComposeRequest {
        content: LogContent {
            user: Some(User {
                user_settings: [
                    "addCallLogNote",
                    "addCallLogSubject",
                    "addCallLogDateTime",
                    "addCallLogResult",
                    "addCallLogRecording",
                    "addCallLogAiNote",
                    "addCallLogTranscript",
                    "addCallLogLegs",
                ]
                .iter()
                .map(|key| ((*key).to_owned(), setting(Value::Bool(false))))
                .collect(),
                ..User::default()
            }),
            call_log: CallLog {
                duration: Some(CallDuration::Seconds(seconds)),
                ..CallLog::default()
            },
            ..LogContent::default()
        },
        ..ComposeRequest::default()
    };
    // The whole composer on a sample, the duration formatter on every value.
    for seconds in (0..=10_000_000)
        .step_by(9_973)
        .chain([1, 60, 61, 3600, 3601, 3661])
    {
        assert_eq!(
            compose(&request(seconds), LogFormat::Plain),
            format!(
                "- Duration: {}\n",
                mockcrm::format_duration(&CallDuration::Seconds(seconds))
            )
        );
    }
    // The formatter is periodic in 60 and 3,600 past the first hours, so
    // every value of the first 111 hours and a prime stride beyond them
    // meet every case it has, at a twenty-fifth of the cost of all 10⁷.
    for seconds in (0..=400_000u64).chain((400_000..=10_000_000).step_by(997)) {
        let shown = mockcrm::format_duration(&CallDuration::Seconds(seconds));
        assert!(
            read_duration(&shown) == Some(seconds),
            "{seconds} seconds are written {shown:?}"
        );
    }
}
