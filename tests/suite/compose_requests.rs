//! The compose requests the composer's properties (`compose_props`) run on:
//! proptest strategies for any request (every field may be absent, every
//! setting on or off, unicode and label-like text, every offset form, the
//! six date formats, legs of any length) and for a request that carries
//! every section, and the changes a property makes to one (new values for
//! some fields, the note's markers cleared). It checks nothing itself.

use std::collections::BTreeMap;

use mockcrm::interface::{
    CallDuration, CallLog, ComposeRequest, ContactInfo, Direction, Leg, LogContent, LogFormat,
    Party, Recording, Setting, StartTime, TimezoneOffset, User, Voicemail,
};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// The settings that switch sections, with App Connect's defaults.
pub const SETTINGS: [(&str, bool); 18] = [
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

pub fn setting(value: Value) -> Setting {
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

pub fn format() -> BoxedStrategy<LogFormat> {
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
pub fn any_request() -> BoxedStrategy<ComposeRequest> {
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
pub fn complete_request() -> BoxedStrategy<ComposeRequest> {
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

/// A note as a user types it: words, unicode, punctuation and line breaks.
/// It holds none of what core's patterns look for (labels, `<`, `#`, `*`,
/// `-`, `:`, `$`): core would rewrite such text inside the note, as README's
/// list of quirks says.
pub fn typed_note() -> BoxedStrategy<String> {
    "[a-zA-Z0-9éü中 .,!?'&()]{1,30}(\n{1,2}[a-zA-Z0-9éü中 .,!?'&()]{1,30}){0,3}".boxed()
}

/// `r` with every user text cleared of the note's own markers, so that the
/// body core creates from it holds a note marker only where its note is.
/// Core looks for the note by its marker anywhere in a body, and a marker
/// quoted in a transcript sends the new note into the transcript, which a
/// later section then replaces: that loss is one of the quirks core keeps.
pub fn without_note_markers(mut r: ComposeRequest) -> ComposeRequest {
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

/// A copy of `r` with the fields picked by `mask` given new values.
pub fn changed(r: &ComposeRequest, mask: u16, fresh: &ComposeRequest) -> ComposeRequest {
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
