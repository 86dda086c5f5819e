//! The cases `mockcrm contract` plays: what the App Connect client sends
//! core for one call (the call-log record, the note and AI texts, the
//! user's settings), what it sends when it updates that log later, and the
//! fault schedule the CRM runs under meanwhile; and the proptest strategies
//! that generate them, awkward values included, so that a failing case
//! shrinks towards a plain one.
//!
//! Data and strategies only: nothing here calls the connector or the CRM.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::faults::Schedule;
use crate::interface::{
    CallDuration, CallLog, Direction, Leg, LogFormat, Party, Recording, Setting, StartTime,
    TimezoneOffset, Voicemail,
};

/// One generated call, from the first log to the update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    /// The App Connect user's time zone and settings (what the composer reads).
    pub user: UserProfile,
    /// The CRM contact the call was matched to.
    pub contact: ContactRef,
    pub create: CreateIn,
    pub update: UpdateIn,
    /// The faults the CRM answers with, each during one connector call.
    pub faults: Schedule,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone_offset: Option<TimezoneOffset>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_settings: BTreeMap<String, Setting>,
}

/// A contact of the run's pool, found or created in the CRM before the
/// first case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactRef {
    pub name: String,
    pub phone_number: String,
    #[serde(rename = "type")]
    pub contact_type: String,
}

/// What the client sends core to log a call (`POST /callLog`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateIn {
    pub call_log: CallLog,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_summary: Option<String>,
    /// A number or a string, as App Connect sends it.
    #[serde(
        rename = "ringSenseAIScore",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ring_sense_ai_score: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_bulleted_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_link: Option<String>,
    /// Server-side call logging (epoch start time, duration `"pending"`).
    #[serde(rename = "isFromSSCL", default)]
    pub is_from_sscl: bool,
}

/// What the client sends core when the log is updated (`PATCH /callLog`):
/// the values that arrive after the call. Start time, direction, parties
/// and legs are the create's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<CallDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_summary: Option<String>,
}

impl Case {
    /// The call session this case logs.
    pub fn session_id(&self) -> Option<&str> {
        self.create.call_log.session_id.as_deref()
    }

    /// The case with its call under a fresh session id (sessions must not
    /// repeat across cases, or one case's activity counts in another's).
    pub fn with_session(mut self, session: &str) -> Case {
        let call = &mut self.create.call_log;
        call.session_id = Some(session.to_owned());
        call.telephony_session_id = Some(format!("s-{session}"));
        call.id = Some(format!("Y3b{session}"));
        self
    }
}

/// The contacts cases are logged against: the default seed's, and one with
/// a name full of markup and replacement patterns.
pub const CONTACTS: [(&str, &str); 4] = [
    ("Jane Contact", "+14155550199"),
    ("李小龙", "+8613800138000"),
    ("O'Brien & Sons", "+14155550177"),
    ("Zoë \"Boss\" <VIP> $&", "+442079460958"),
];

/// The agent's own line.
const AGENT_NUMBER: &str = "+14155550101";

/// The settings App Connect's composer reads, each drawn as absent, on or off.
const SETTINGS: [&str; 18] = [
    "addCallLogNote",
    "addCallSessionId",
    "addRingCentralUserName",
    "addRingCentralNumber",
    "addCallLogSubject",
    "addCallLogContactNumber",
    "addCallLogDateTime",
    "addCallLogDuration",
    "addCallLogResult",
    "addCallLogRecording",
    "addCallLogAiNote",
    "addCallLogTranscript",
    "addCallLogRingSenseRecordingTranscript",
    "addCallLogRingSenseRecordingSummary",
    "addCallLogRingSenseRecordingAIScore",
    "addCallLogRingSenseRecordingBulletedSummary",
    "addCallLogRingSenseRecordingLink",
    "addCallLogLegs",
];

const DATE_FORMATS: [&str; 6] = [
    "YYYY-MM-DD hh:mm:ss A",
    "YYYY-MM-DD HH:mm:ss",
    "MM/DD/YYYY hh:mm:ss A",
    "MM/DD/YYYY HH:mm:ss",
    "DD/MM/YYYY HH:mm:ss",
    "DD/MM/YYYY hh:mm:ss A",
];

const RESULTS: [&str; 9] = [
    "Accepted",
    "Call connected",
    "Missed",
    "Voicemail",
    "Rejected",
    "Busy",
    "No Answer",
    "Hang Up",
    // A value App Connect core's plain-text pattern cannot read back.
    "No-Answer",
];

/// Pieces an agent's note is made of: plain words first (what shrinking
/// goes back to), then the awkward: replacement patterns, markup of every
/// format, labels quoted in the middle of a line, unicode, whitespace.
const NOTE_PIECES: [&str; 20] = [
    "Called back about the invoice.",
    "Wants a demo on Monday",
    "cost $& and $1, $$ and $'",
    "Zoë café naïve – “quoted” ‘text’",
    "😀👍🏽 李小龙 שלום עולם",
    "<b>not bold</b> & <i>x</i> &amp; <br>",
    "**not bold** _x_ `code`",
    "was - Duration: 5 minutes",
    "Summary: said mid-line",
    "- Follow Up: Monday",
    "### AI Note",
    "**Duration**: 5",
    "<li><b>Duration</b>: 5</li>",
    "## Call details",
    "<b>Call details</b>",
    "tab\tseparated",
    "  two leading spaces",
    "trailing spaces   ",
    "back\\slash and /slash {{user.id}}",
    "Ünïcödé ∑ ≠ ∞ \u{0301}",
];

/// What may join two note pieces.
const JOINS: [&str; 4] = [" ", "\n", "\n\n", ""];

const AI_PIECES: [&str; 10] = [
    "Customer confirmed 20 seats for Q3.",
    "Action: send the order form by Friday.",
    "- Summary: quoted label line",
    "### Transcript",
    "<li><b>Result</b>: Missed</li>",
    "--- END",
    "$& twice $1",
    "😀 ✓ 李",
    "\n",
    "Line with a trailing newline\n",
];

const TRANSCRIPT_PIECES: [&str; 7] = [
    "Agent: Hello, this is Acme.",
    "Customer: Hi, I am calling about my order.",
    "Agent: Let me check - Duration: 3 minutes, roughly.",
    "Customer: Zoë here, 👋",
    "**Result**: quoted",
    "--- JOURNEY END",
    "Agent: $$ cost",
];

const SUBJECTS: [&str; 6] = [
    "Follow-up call",
    "Zoë <VIP> & Co",
    "$& price check $1",
    "😀 renewal",
    "Call with \"quotes\" and 'apostrophes'",
    "  padded subject  ",
];

const AGENT_NAMES: [&str; 4] = ["Test Agent", "Zoë Ångström", "代理人", "O'Neil <Ops>"];

/// Whether a note of these pieces is one no connector could read back out
/// of a body in `format`: where a note ends is told by a label line in
/// plain text and by the "Call details" header in the other two.
fn note_piece_is_ambiguous(piece: &str, format: Option<LogFormat>) -> bool {
    match format {
        Some(LogFormat::Plain) => piece.starts_with("- ") || piece.contains("\n- "),
        Some(LogFormat::Markdown) => piece.contains("## Call details"),
        Some(LogFormat::Html) => piece.contains("<b>Call details</b>"),
        None => false,
    }
}

fn text_from(pieces: Vec<&'static str>, max: usize) -> BoxedStrategy<String> {
    vec((select(pieces), select(JOINS.to_vec())), 1..=max)
        .prop_map(|parts| {
            let mut text = String::new();
            for (index, (piece, join)) in parts.into_iter().enumerate() {
                if index > 0 {
                    text.push_str(join);
                }
                text.push_str(piece);
            }
            text
        })
        .boxed()
}

/// An agent note that every connector can be asked to give back.
fn note(format: Option<LogFormat>) -> BoxedStrategy<String> {
    let pieces: Vec<&'static str> = NOTE_PIECES
        .iter()
        .copied()
        .filter(|piece| !note_piece_is_ambiguous(piece, format))
        .collect();
    // Every piece holds text, so a note is never blank.
    text_from(pieces, 4)
}

fn block_text(pieces: &[&'static str]) -> BoxedStrategy<String> {
    text_from(pieces.to_vec(), 4)
}

fn timezone() -> BoxedStrategy<Option<TimezoneOffset>> {
    option::of(select(vec![
        TimezoneOffset::Text("-05:00".into()),
        TimezoneOffset::Text("+05:30".into()),
        TimezoneOffset::Text("+00:00".into()),
        TimezoneOffset::Text("-4".into()),
        TimezoneOffset::Number(330.0),
        TimezoneOffset::Number(-8.0),
        TimezoneOffset::Text(String::new()),
    ]))
    .boxed()
}

fn settings() -> BoxedStrategy<BTreeMap<String, Setting>> {
    (
        vec(option::weighted(0.3, any::<bool>()), SETTINGS.len()),
        option::weighted(0.4, select(DATE_FORMATS.to_vec())),
    )
        .prop_map(|(switches, date_format)| {
            let mut settings = BTreeMap::new();
            for (key, switch) in SETTINGS.iter().zip(switches) {
                if let Some(on) = switch {
                    settings.insert((*key).to_owned(), setting(Value::Bool(on)));
                }
            }
            if let Some(format) = date_format {
                settings.insert("logDateFormat".into(), setting(Value::from(format)));
            }
            settings
        })
        .boxed()
}

fn setting(value: Value) -> Setting {
    Setting {
        value,
        extra: Default::default(),
    }
}

/// 2020-01-01 to 2029-12-31, in seconds.
const FIRST_START: i64 = 1_577_836_800;
const LAST_START: i64 = 1_893_455_999;

fn iso_start(seconds: i64, offset_minutes: Option<i32>) -> StartTime {
    let utc = DateTime::from_timestamp(seconds, 0).unwrap_or_default();
    let text = match offset_minutes.and_then(|minutes| FixedOffset::east_opt(minutes * 60)) {
        Some(offset) => utc
            .with_timezone(&offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
        None => utc.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    };
    StartTime::Iso(text)
}

fn agent(name: Option<&'static str>, extension: Option<&'static str>) -> Party {
    Party {
        phone_number: Some(AGENT_NUMBER.into()),
        extension_number: extension.map(str::to_owned),
        extension_id: Some("400129".into()),
        name: name.map(str::to_owned),
        location: None,
        extra: Default::default(),
    }
}

fn contact_party(contact: &ContactRef, named: bool, located: bool) -> Party {
    Party {
        phone_number: Some(contact.phone_number.clone()),
        extension_number: None,
        extension_id: None,
        name: named.then(|| contact.name.clone()),
        location: located.then(|| "San Francisco, CA".to_owned()),
        extra: Default::default(),
    }
}

fn leg() -> BoxedStrategy<Leg> {
    (
        any::<bool>(),
        0u64..600,
        option::of(select(vec![
            "PstnToSip",
            "SipToPstnMetered",
            "Accept",
            "FindMe",
        ])),
        option::of(select(vec![("Priya Raman", "+14155550142", "102")])),
        option::of(select(AGENT_NAMES.to_vec())),
    )
        .prop_map(|(inbound, duration, leg_type, transfer, name)| {
            let direction = if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let other = Party {
                phone_number: transfer.map(|(_, phone, _)| phone.to_owned()),
                extension_number: transfer.map(|(_, _, extension)| extension.to_owned()),
                extension_id: None,
                name: transfer.map(|(name, _, _)| name.to_owned()),
                location: None,
                extra: Default::default(),
            };
            let me = agent(name, Some("101"));
            let (from, to) = if inbound { (other, me) } else { (me, other) };
            Leg {
                start_time: None,
                duration: Some(CallDuration::Seconds(duration)),
                direction: Some(direction),
                result: Some("Accepted".into()),
                leg_type: leg_type.map(str::to_owned),
                master: None,
                from: Some(from),
                to: Some(to),
                extra: Default::default(),
            }
        })
        .boxed()
}

/// How the recording stands when the call is first logged.
#[derive(Debug, Clone, Copy)]
enum RecordingAtCreate {
    None,
    /// App Connect's `"(pending...)"`: the link arrives with the update.
    Pending,
    Ready,
}

fn recording(id: u64, state: RecordingAtCreate) -> Option<Recording> {
    let link = match state {
        RecordingAtCreate::None => return None,
        RecordingAtCreate::Pending => "(pending...)".to_owned(),
        RecordingAtCreate::Ready => recording_link(id),
    };
    Some(Recording {
        id: Some(id.to_string()),
        uri: Some(format!(
            "https://media.ringcentral.com/restapi/v1.0/account/400128/recording/{id}"
        )),
        recording_type: Some("OnDemand".into()),
        content_uri: None,
        link: Some(link),
        extra: Default::default(),
    })
}

fn recording_link(id: u64) -> String {
    format!("https://media.example.com/rec/{id}?a=1&b=2")
}

/// Every case in `format` (`None`: a connector that composes its own
/// body), with its schedule drawn from `schedules`.
pub fn cases(format: Option<LogFormat>, schedules: Vec<Schedule>) -> BoxedStrategy<Case> {
    let call = (
        any::<bool>(),
        0..CONTACTS.len(),
        FIRST_START..LAST_START,
        prop_oneof![
            4 => Just(None),
            1 => (-12i32..=14).prop_map(|hours| Some(hours * 60 + 30 * (hours % 2))),
        ],
        prop_oneof![
            4 => select(vec![0u64, 1, 59, 60, 61, 3599, 3600, 3661, 86_400]),
            6 => 0u64..7200,
        ],
        select(RESULTS.to_vec()),
        (
            any::<bool>(),
            any::<bool>(),
            option::of(select(AGENT_NAMES.to_vec())),
            option::of(Just("101")),
        ),
        (
            select(vec![
                RecordingAtCreate::None,
                RecordingAtCreate::Pending,
                RecordingAtCreate::Ready,
            ]),
            1_000_000u64..9_999_999,
        ),
        vec(leg(), 0..=3),
        option::of(select(SUBJECTS.to_vec())),
        any::<bool>(),
    );
    let texts = (
        option::of(note(format)),
        option::weighted(0.3, block_text(&AI_PIECES)),
        option::weighted(0.3, block_text(&TRANSCRIPT_PIECES)),
        option::weighted(
            0.15,
            (
                block_text(&TRANSCRIPT_PIECES),
                block_text(&AI_PIECES),
                select(vec![
                    Value::from("87"),
                    Value::from(87),
                    Value::from("0"),
                    Value::from(62.5),
                ]),
                block_text(&AI_PIECES),
            ),
        ),
    );
    let update = (
        option::weighted(0.3, select(SUBJECTS.to_vec())),
        option::of(note(format)),
        option::weighted(0.8, 1u64..7200),
        option::weighted(0.5, select(RESULTS.to_vec())),
        any::<bool>(),
        option::weighted(0.3, block_text(&AI_PIECES)),
        option::weighted(0.2, block_text(&TRANSCRIPT_PIECES)),
        option::weighted(0.1, block_text(&AI_PIECES)),
    );
    let profile = (timezone(), settings());
    let schedule = select(schedules);
    (call, texts, update, profile, schedule)
        .prop_map(|(call, texts, update, profile, faults)| {
            let (
                inbound,
                contact_index,
                start,
                offset,
                duration,
                result,
                (contact_named, contact_located, agent_name, extension),
                (recording_state, recording_id),
                legs,
                subject,
                server_side,
            ) = call;
            let (note, ai_note, transcript, ring_sense) = texts;
            let (name, phone) = CONTACTS[contact_index];
            let contact = ContactRef {
                name: name.to_owned(),
                phone_number: phone.to_owned(),
                contact_type: "Contact".to_owned(),
            };
            let direction = if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let them = contact_party(&contact, contact_named, contact_located);
            let me = agent(agent_name, extension);
            let (from, to) = if inbound { (them, me) } else { (me, them) };
            let start_time = if server_side {
                StartTime::EpochMillis(start * 1000)
            } else {
                iso_start(start, offset)
            };
            let voicemail = (result == "Voicemail").then(|| Voicemail {
                link: Some(format!("https://media.example.com/vm/{recording_id}")),
                extra: Default::default(),
            });
            let call_log = CallLog {
                id: None,
                session_id: None,
                telephony_session_id: None,
                direction: Some(direction),
                start_time: Some(start_time),
                duration: Some(if server_side {
                    CallDuration::Text("pending".into())
                } else {
                    CallDuration::Seconds(duration)
                }),
                result: Some(result.to_owned()),
                from: Some(from),
                to: Some(to),
                recording: recording(recording_id, recording_state),
                voicemail,
                legs,
                custom_subject: subject.map(str::to_owned),
                extra: [
                    ("type".to_owned(), Value::from("Voice")),
                    ("action".to_owned(), Value::from("Phone Call")),
                ]
                .into_iter()
                .collect(),
            };
            let (ring_sense_transcript, ring_sense_summary, ring_sense_ai_score, bulleted) =
                match ring_sense {
                    Some((transcript, summary, score, bullets)) => {
                        (Some(transcript), Some(summary), Some(score), Some(bullets))
                    }
                    None => (None, None, None, None),
                };
            let ring_sense_link = ring_sense_transcript
                .as_ref()
                .map(|_| format!("https://ace.example.com/r/{recording_id}"));
            let create = CreateIn {
                call_log,
                note,
                ai_note,
                transcript,
                ring_sense_transcript,
                ring_sense_summary,
                ring_sense_ai_score,
                ring_sense_bulleted_summary: bulleted,
                ring_sense_link,
                is_from_sscl: server_side,
            };
            let (
                new_subject,
                new_note,
                final_duration,
                new_result,
                recording_arrives,
                new_ai_note,
                new_transcript,
                new_summary,
            ) = update;
            // The recording a pending link stood for arrives with the update.
            let recording_link = (matches!(recording_state, RecordingAtCreate::Pending)
                || recording_arrives)
                .then(|| recording_link(recording_id));
            let update = UpdateIn {
                subject: new_subject.map(str::to_owned),
                note: new_note,
                duration: final_duration.map(CallDuration::Seconds),
                result: new_result.map(str::to_owned),
                recording_link,
                ai_note: new_ai_note,
                transcript: new_transcript,
                ring_sense_summary: new_summary,
            };
            Case {
                user: UserProfile {
                    timezone_offset: profile.0,
                    user_settings: profile.1,
                },
                contact,
                create,
                update,
                faults,
            }
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    fn sample(format: Option<LogFormat>, count: usize) -> Vec<Case> {
        let strategy = cases(format, vec![Vec::new()]);
        let mut runner = TestRunner::deterministic();
        (0..count)
            .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
            .collect()
    }

    #[test]
    fn plain_text_notes_never_hold_a_line_that_starts_like_a_label() {
        for case in sample(Some(LogFormat::Plain), 300) {
            for note in [&case.create.note, &case.update.note].into_iter().flatten() {
                assert!(
                    !note.lines().skip(1).any(|line| line.starts_with("- ")),
                    "{note:?}"
                );
                assert!(!note.starts_with("- "), "{note:?}");
            }
        }
    }

    #[test]
    fn markdown_and_html_notes_never_hold_their_end_marker() {
        for (format, marker) in [
            (LogFormat::Markdown, "## Call details"),
            (LogFormat::Html, "<b>Call details</b>"),
        ] {
            for case in sample(Some(format), 300) {
                for note in [&case.create.note, &case.update.note].into_iter().flatten() {
                    assert!(!note.contains(marker), "{note:?}");
                }
            }
        }
    }

    #[test]
    fn cases_cover_the_awkward_shapes() {
        let cases = sample(None, 400);
        let any = |test: &dyn Fn(&Case) -> bool| cases.iter().any(test);
        assert!(any(&|c| c.create.is_from_sscl));
        assert!(any(&|c| !c.create.call_log.legs.is_empty()));
        assert!(any(&|c| c
            .create
            .note
            .as_deref()
            .is_some_and(|n| n.contains("$&"))));
        assert!(any(&|c| c.create.ai_note.is_some()));
        assert!(any(&|c| c.create.ring_sense_summary.is_some()));
        assert!(any(&|c| c
            .create
            .call_log
            .recording
            .as_ref()
            .and_then(|r| r.link.as_deref())
            == Some("(pending...)")
            && c.update.recording_link.is_some()));
        assert!(any(&|c| c.user.timezone_offset.is_none()));
        assert!(any(&|c| !c.user.user_settings.is_empty()));
    }

    #[test]
    fn a_case_survives_its_fixture_round_trip() {
        for case in sample(None, 50) {
            let case = case.with_session("4503991004");
            let json = serde_json::to_value(&case).expect("serialises");
            let back: Case = serde_json::from_value(json).expect("parses");
            assert_eq!(back, case);
        }
    }
}
