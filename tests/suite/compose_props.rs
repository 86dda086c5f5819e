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

use std::collections::BTreeMap;

use mockcrm::interface::{
    CallDuration, CallLog, ComposeRequest, ContactInfo, Direction, Leg, LogContent, LogFormat,
    Party, Recording, Setting, StartTime, TimezoneOffset, User, Voicemail,
};
use mockcrm::{ComposeOptions, UpdateStyle};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value};

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

/// The settings that switch sections, with App Connect's defaults.
const SETTINGS: [(&str, bool); 18] = [
    ("addCallLogNote", true),
    ("addCallSessionId", false),
    ("addRingCentralUserName", false),
    ("addRingCentralNumber", false),
    ("addCallLogSubject", true),
    ("addCallLogContactNumber", false),
    ("addCallLogDateTime", true),
    ("addCallLogDuration", true),
    ("addCallLogResult", true),
    ("addCallLogRecording", true),
    ("addCallLogAiNote", true),
    ("addCallLogTranscript", true),
    ("addCallLogRingSenseRecordingTranscript", true),
    ("addCallLogRingSenseRecordingSummary", true),
    ("addCallLogRingSenseRecordingAIScore", true),
    ("addCallLogRingSenseRecordingBulletedSummary", true),
    ("addCallLogRingSenseRecordingLink", true),
    ("addCallLogLegs", true),
];

const DATE_FORMATS: [&str; 6] = [
    "YYYY-MM-DD HH:mm:ss",
    "YYYY-MM-DD hh:mm:ss A",
    "MM/DD/YYYY hh:mm:ss A",
    "MM/DD/YYYY HH:mm:ss",
    "DD/MM/YYYY HH:mm:ss",
    "DD/MM/YYYY hh:mm:ss A",
];

/// Text a user might type, including text that looks like the body's own
/// labels and markers, and JavaScript replacement patterns.
const FRAGMENTS: [&str; 24] = [
    "Customer asked for pricing.",
    "Résumé reviewed ✅",
    "李小龙 called back",
    "Zoë <VIP>",
    "O'Brien & Sons",
    "- Duration: 5",
    "**Result**: maybe",
    "<b>Summary</b>",
    "--- END",
    "$1",
    "$&",
    "- Summary: fake",
    "<li><b>Result</b>: y</li>",
    "### Transcript",
    "## Call details",
    "- Call recording link: (pending...)",
    "<div><b>AI Note</b><br>x</div>",
    "- AI Note:",
    "--- JOURNEY END",
    "**Duration**: 1 minute",
    "<br>",
    "tab\tand  spaces",
    "line\r\nbreak",
    "- Note: inner",
];

fn text() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(FRAGMENTS.to_vec()).prop_map(str::to_owned),
        1 => "[a-zA-Z0-9éü中 .,:!?-]{1,20}",
    ];
    let join = proptest::sample::select(vec![" ", "\n", "\n\n"]);
    (
        proptest::collection::vec(piece, 1..4),
        proptest::collection::vec(join, 3),
    )
        .prop_map(|(pieces, joins)| {
            let mut out = String::new();
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 {
                    out.push_str(joins[i % joins.len()]);
                }
                out.push_str(piece);
            }
            out
        })
        .boxed()
}

/// A subject: one line, as CRM subjects are, but free to look like a label.
fn subject() -> BoxedStrategy<String> {
    proptest::collection::vec(
        proptest::sample::select(FRAGMENTS.to_vec())
            .prop_filter("one line", |f| !f.contains(['\r', '\n'])),
        1..3,
    )
    .prop_map(|pieces| pieces.join(" "))
    .boxed()
}

fn name() -> BoxedStrategy<String> {
    proptest::sample::select(vec![
        "Jane Contact",
        "José Müller",
        "李小龙",
        "Ana-Maria Popescu",
        "Test Agent",
    ])
    .prop_map(str::to_owned)
    .boxed()
}

fn phone() -> BoxedStrategy<String> {
    "\\+1415555[0-9]{4}".boxed()
}

fn party() -> BoxedStrategy<Party> {
    (
        proptest::option::of(phone()),
        proptest::option::of("[1-9][0-9]{2}"),
        proptest::option::of(name()),
    )
        .prop_map(|(phone_number, extension_number, name)| Party {
            phone_number,
            extension_number,
            name,
            ..Party::default()
        })
        .boxed()
}

fn full_party() -> BoxedStrategy<Party> {
    (phone(), proptest::option::of("[1-9][0-9]{2}"), name())
        .prop_map(|(phone_number, extension_number, name)| Party {
            phone_number: Some(phone_number),
            extension_number,
            name: Some(name),
            ..Party::default()
        })
        .boxed()
}

fn direction() -> BoxedStrategy<Direction> {
    prop_oneof![Just(Direction::Inbound), Just(Direction::Outbound)].boxed()
}

fn leg() -> BoxedStrategy<Leg> {
    (
        direction(),
        party(),
        party(),
        0u64..400,
        proptest::option::of(proptest::sample::select(vec![
            "PstnToSip",
            "SipToPstnMetered",
            "Accept",
        ])),
    )
        .prop_map(|(direction, from, to, duration, leg_type)| Leg {
            direction: Some(direction),
            from: Some(from),
            to: Some(to),
            duration: Some(CallDuration::Seconds(duration)),
            leg_type: leg_type.map(str::to_owned),
            ..Leg::default()
        })
        .boxed()
}

fn start_time() -> BoxedStrategy<StartTime> {
    // 2001 to 2033, in milliseconds.
    (978_307_200_000i64..2_000_000_000_000)
        .prop_flat_map(|millis| {
            prop_oneof![
                Just(StartTime::EpochMillis(millis)),
                Just(StartTime::Iso(
                    chrono::DateTime::from_timestamp_millis(millis)
                        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
                        .unwrap_or_default()
                )),
            ]
        })
        .boxed()
}

fn offset() -> BoxedStrategy<Option<TimezoneOffset>> {
    prop_oneof![
        Just(None),
        Just(Some(TimezoneOffset::Text(String::new()))),
        (-12i32..=14, prop_oneof![Just(0), Just(30), Just(45)]).prop_map(|(h, m)| {
            let sign = if h < 0 { '-' } else { '+' };
            Some(TimezoneOffset::Text(format!("{sign}{:02}:{m:02}", h.abs())))
        }),
        (-12i32..=14).prop_map(|h| Some(TimezoneOffset::Text(h.to_string()))),
        (-24i32..=28).prop_map(|half| Some(TimezoneOffset::Number(f64::from(half) / 2.0))),
        (-720i32..=840)
            .prop_filter("minutes form", |m| m.abs() >= 16)
            .prop_map(|m| Some(TimezoneOffset::Number(f64::from(m)))),
        (-720i32..=840)
            .prop_filter("minutes form", |m| m.abs() >= 16)
            .prop_map(|m| Some(TimezoneOffset::Text(m.to_string()))),
    ]
    .boxed()
}

fn settings() -> BoxedStrategy<BTreeMap<String, Setting>> {
    (
        proptest::collection::vec(proptest::option::of(any::<bool>()), SETTINGS.len()),
        proptest::option::of(proptest::sample::select(DATE_FORMATS.to_vec())),
    )
        .prop_map(|(switches, date_format)| {
            let mut map = BTreeMap::new();
            for ((key, _), value) in SETTINGS.iter().zip(switches) {
                if let Some(on) = value {
                    map.insert((*key).to_owned(), setting(Value::Bool(on)));
                }
            }
            if let Some(pattern) = date_format {
                map.insert("logDateFormat".into(), setting(Value::from(pattern)));
            }
            map
        })
        .boxed()
}

fn setting(value: Value) -> Setting {
    Setting {
        value,
        extra: Map::new(),
    }
}

fn user() -> BoxedStrategy<User> {
    (settings(), offset())
        .prop_map(|(user_settings, timezone_offset)| User {
            timezone_offset,
            user_settings,
            ..User::default()
        })
        .boxed()
}

fn format() -> BoxedStrategy<LogFormat> {
    proptest::sample::select(LogFormat::ALL.to_vec()).boxed()
}

fn link(pending_ok: bool) -> impl Strategy<Value = String> {
    let real = "[a-z0-9]{1,8}".prop_map(|id| format!("https://media.example.com/rec/{id}"));
    if pending_ok {
        prop_oneof![Just("(pending...)".to_owned()), real].boxed()
    } else {
        real.boxed()
    }
}

/// Any request: every field may be absent.
fn any_request() -> BoxedStrategy<ComposeRequest> {
    let call = (
        (
            proptest::option::of(direction()),
            proptest::option::of("45[0-9]{8}"),
            proptest::option::of(start_time()),
            proptest::option::of(prop_oneof![
                (0u64..200_000).prop_map(CallDuration::Seconds),
                Just(CallDuration::Text("pending".into())),
            ]),
            proptest::option::of(proptest::sample::select(vec![
                "Accepted",
                "Call connected",
                "Missed",
                "Voicemail",
                "",
            ])),
        ),
        (
            proptest::option::of(party()),
            proptest::option::of(party()),
            proptest::option::of(link(true)),
            proptest::option::of(link(true)),
            proptest::collection::vec(leg(), 0..5),
            proptest::option::of(subject()),
        ),
    )
        .prop_map(
            |(
                (direction, session_id, start_time, duration, result),
                (from, to, recording, voicemail, legs, custom_subject),
            )| CallLog {
                direction,
                session_id,
                start_time,
                duration,
                result: result.map(str::to_owned),
                from,
                to,
                recording: recording.map(|link| Recording {
                    link: Some(link),
                    ..Recording::default()
                }),
                voicemail: voicemail.map(|link| Voicemail {
                    link: Some(link),
                    extra: Map::new(),
                }),
                legs,
                custom_subject,
                ..CallLog::default()
            },
        );
    let texts = (
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of("[0-9]{1,3}"),
        proptest::option::of(text()),
        proptest::option::of(link(false)),
    );
    (
        proptest::option::of(user()),
        call,
        proptest::option::of(phone()),
        texts,
    )
        .prop_map(|(user, call_log, contact_phone, texts)| {
            let (note, ai_note, transcript, ace_transcript, ace_summary, score, bullets, ace_link) =
                texts;
            ComposeRequest {
                contact_info: Some(ContactInfo {
                    phone_number: contact_phone,
                    ..ContactInfo::default()
                }),
                content: LogContent {
                    user,
                    call_log,
                    note,
                    ai_note,
                    transcript,
                    ring_sense_transcript: ace_transcript,
                    ring_sense_summary: ace_summary,
                    ring_sense_ai_score: score.map(Value::String),
                    ring_sense_bulleted_summary: bullets,
                    ring_sense_link: ace_link,
                },
                ..ComposeRequest::default()
            }
        })
        .boxed()
}

/// A request that carries a value for every section. Plain text cannot mark
/// where a note ends, so a note line quoting the label of a section that is
/// on but absent from the call is indistinguishable from that section (the
/// README says so); these requests leave no section absent, which is the
/// shape of a real call's update.
fn complete_request() -> BoxedStrategy<ComposeRequest> {
    (
        any_request(),
        user(),
        direction(),
        full_party(),
        full_party(),
        start_time(),
        0u64..200_000,
        proptest::collection::vec(leg(), 1..5),
        (text(), subject(), text(), text(), text(), text(), text()),
        (link(true), link(true), link(false), "[0-9]{1,3}", phone()),
    )
        .prop_map(
            |(mut r, user, direction, from, to, start, seconds, legs, texts, links)| {
                let (note, subject, ai_note, transcript, ace_transcript, ace_summary, bullets) =
                    texts;
                let (recording, voicemail, ace_link, score, contact_phone) = links;
                r.content.user = Some(user);
                r.content.call_log.direction = Some(direction);
                r.content.call_log.session_id = Some("4500000001".into());
                r.content.call_log.from = Some(from);
                r.content.call_log.to = Some(to);
                r.content.call_log.start_time = Some(start);
                r.content.call_log.duration = Some(CallDuration::Seconds(seconds));
                r.content.call_log.result = Some("Call connected".into());
                r.content.call_log.legs = legs;
                r.content.call_log.custom_subject = Some(subject);
                r.content.call_log.recording = Some(Recording {
                    link: Some(recording),
                    ..Recording::default()
                });
                r.content.call_log.voicemail = Some(Voicemail {
                    link: Some(voicemail),
                    extra: Map::new(),
                });
                r.contact_info = Some(ContactInfo {
                    phone_number: Some(contact_phone),
                    ..ContactInfo::default()
                });
                r.content.note = Some(note);
                r.content.ai_note = Some(ai_note);
                r.content.transcript = Some(transcript);
                r.content.ring_sense_transcript = Some(ace_transcript);
                r.content.ring_sense_summary = Some(ace_summary);
                r.content.ring_sense_ai_score = Some(Value::String(score));
                r.content.ring_sense_bulleted_summary = Some(bullets);
                r.content.ring_sense_link = Some(ace_link);
                r
            },
        )
        .boxed()
}

/// In the `clean` style, whose properties most of this file checks.
fn compose(request: &ComposeRequest, format: LogFormat) -> String {
    compose_in(request, format, UpdateStyle::Clean)
}

fn compose_in(request: &ComposeRequest, format: LogFormat, style: UpdateStyle) -> String {
    let options = ComposeOptions::new(format).with_update_style(style);
    mockcrm::compose(request, &options).unwrap_or_else(|e| panic!("compose failed: {e}"))
}

/// A note as a user types it: words, unicode, punctuation and line breaks.
/// It holds none of what core's patterns look for (labels, `<`, `#`, `*`,
/// `-`, `:`, `$`): core would rewrite such text inside the note, as README's
/// list of quirks says.
fn typed_note() -> BoxedStrategy<String> {
    "[a-zA-Z0-9éü中 .,!?'&()]{1,30}(\n{1,2}[a-zA-Z0-9éü中 .,!?'&()]{1,30}){0,3}".boxed()
}

/// `r` with every user text cleared of the note's own markers, so that the
/// body core creates from it holds a note marker only where its note is.
/// Core looks for the note by its marker anywhere in a body, and a marker
/// quoted in a transcript sends the new note into the transcript, which a
/// later section then replaces: that loss is one of the quirks core keeps.
fn without_note_markers(mut r: ComposeRequest) -> ComposeRequest {
    let clear = |text: &mut Option<String>| {
        if let Some(text) = text {
            *text = text
                .replace("Note: ", "Note - ")
                .replace("Agent notes", "Agent n.")
                .replace("Call details", "Call d.");
        }
    };
    clear(&mut r.content.note);
    clear(&mut r.content.ai_note);
    clear(&mut r.content.transcript);
    clear(&mut r.content.ring_sense_transcript);
    clear(&mut r.content.ring_sense_summary);
    clear(&mut r.content.ring_sense_bulleted_summary);
    clear(&mut r.content.call_log.custom_subject);
    clear(&mut r.content.call_log.result);
    for party in [&mut r.content.call_log.from, &mut r.content.call_log.to]
        .into_iter()
        .flatten()
    {
        clear(&mut party.name);
    }
    for leg in &mut r.content.call_log.legs {
        for party in [&mut leg.from, &mut leg.to].into_iter().flatten() {
            clear(&mut party.name);
        }
    }
    r
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

/// A copy of `r` with the fields picked by `mask` given new values.
fn changed(r: &ComposeRequest, mask: u16, fresh: &ComposeRequest) -> ComposeRequest {
    let mut out = r.clone();
    let pick = |bit: u16| mask & (1 << bit) != 0;
    if pick(0) {
        out.content.note.clone_from(&fresh.content.note);
    }
    if pick(1) {
        out.content
            .call_log
            .custom_subject
            .clone_from(&fresh.content.call_log.custom_subject);
    }
    if pick(2) {
        out.content
            .call_log
            .duration
            .clone_from(&fresh.content.call_log.duration);
    }
    if pick(3) {
        out.content.call_log.result = Some("Voicemail".into());
    }
    if pick(4) {
        out.content
            .call_log
            .recording
            .clone_from(&fresh.content.call_log.recording);
    }
    if pick(5) {
        out.content
            .call_log
            .voicemail
            .clone_from(&fresh.content.call_log.voicemail);
    }
    if pick(6) {
        out.content.ai_note.clone_from(&fresh.content.ai_note);
    }
    if pick(7) {
        out.content.transcript.clone_from(&fresh.content.transcript);
    }
    if pick(8) {
        out.content
            .ring_sense_transcript
            .clone_from(&fresh.content.ring_sense_transcript);
        out.content
            .ring_sense_summary
            .clone_from(&fresh.content.ring_sense_summary);
    }
    if pick(9) {
        out.content
            .ring_sense_ai_score
            .clone_from(&fresh.content.ring_sense_ai_score);
        out.content
            .ring_sense_bulleted_summary
            .clone_from(&fresh.content.ring_sense_bulleted_summary);
    }
    if pick(10) {
        out.content
            .ring_sense_link
            .clone_from(&fresh.content.ring_sense_link);
    }
    if pick(11) {
        out.content
            .call_log
            .legs
            .clone_from(&fresh.content.call_log.legs);
    }
    if pick(12) {
        out.content
            .call_log
            .start_time
            .clone_from(&fresh.content.call_log.start_time);
    }
    out
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
