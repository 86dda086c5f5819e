//! The sections of a body: which exist, in what order, how each is written
//! in each format, and which of them a compose request carries.

use super::error::ComposeError;
use super::host_zone::HostZone;
use super::values::{self, ShownAt};
use crate::interface::{ComposeRequest, Direction, LogFormat, User};

/// Every section App Connect writes, in body order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Note,
    SessionId,
    RingCentralUserName,
    RingCentralNumber,
    Subject,
    ContactNumber,
    DateTime,
    Duration,
    Result,
    CallRecording,
    VoicemailRecording,
    AiNote,
    Transcript,
    AceTranscript,
    AceSummary,
    CallScore,
    AceBulletedSummary,
    AceLink,
    CallJourney,
}

impl Kind {
    pub const ALL: [Kind; 19] = [
        Kind::Note,
        Kind::SessionId,
        Kind::RingCentralUserName,
        Kind::RingCentralNumber,
        Kind::Subject,
        Kind::ContactNumber,
        Kind::DateTime,
        Kind::Duration,
        Kind::Result,
        Kind::CallRecording,
        Kind::VoicemailRecording,
        Kind::AiNote,
        Kind::Transcript,
        Kind::AceTranscript,
        Kind::AceSummary,
        Kind::CallScore,
        Kind::AceBulletedSummary,
        Kind::AceLink,
        Kind::CallJourney,
    ];

    /// Position in body order; also a bit in a set of kinds.
    pub fn rank(self) -> usize {
        self as usize
    }

    pub fn shape(self) -> Shape {
        match self {
            Kind::Note => Shape::Note,
            Kind::AiNote
            | Kind::Transcript
            | Kind::AceTranscript
            | Kind::AceSummary
            | Kind::AceBulletedSummary => Shape::Block,
            Kind::CallJourney => Shape::Journey,
            _ => Shape::Item,
        }
    }

    /// In HTML, App Connect's core follows only these two blocks with a
    /// break; the ACE blocks and the journey are not.
    pub fn html_trailing_break(self) -> bool {
        matches!(self, Kind::AiNote | Kind::Transcript)
    }

    /// The user setting that turns the section on, and its default.
    fn setting(self) -> (&'static str, bool) {
        match self {
            Kind::Note => ("addCallLogNote", true),
            Kind::SessionId => ("addCallSessionId", false),
            Kind::RingCentralUserName => ("addRingCentralUserName", false),
            Kind::RingCentralNumber => ("addRingCentralNumber", false),
            Kind::Subject => ("addCallLogSubject", true),
            Kind::ContactNumber => ("addCallLogContactNumber", false),
            Kind::DateTime => ("addCallLogDateTime", true),
            Kind::Duration => ("addCallLogDuration", true),
            Kind::Result => ("addCallLogResult", true),
            Kind::CallRecording | Kind::VoicemailRecording => ("addCallLogRecording", true),
            Kind::AiNote => ("addCallLogAiNote", true),
            Kind::Transcript => ("addCallLogTranscript", true),
            Kind::AceTranscript => ("addCallLogRingSenseRecordingTranscript", true),
            Kind::AceSummary => ("addCallLogRingSenseRecordingSummary", true),
            Kind::CallScore => ("addCallLogRingSenseRecordingAIScore", true),
            Kind::AceBulletedSummary => ("addCallLogRingSenseRecordingBulletedSummary", true),
            Kind::AceLink => ("addCallLogRingSenseRecordingLink", true),
            Kind::CallJourney => ("addCallLogLegs", true),
        }
    }

    pub fn enabled(self, user: Option<&User>) -> bool {
        let (key, default) = self.setting();
        setting_enabled(user, key, default)
    }

    /// The labels this section can carry in `format`. Only the contact
    /// number has two (HTML names the caller or the recipient).
    pub fn labels(self, format: LogFormat) -> &'static [&'static str] {
        let html = format == LogFormat::Html;
        match self {
            Kind::Note => &["Note"],
            Kind::SessionId => &["Session Id"],
            Kind::RingCentralUserName => &["RingCentral user name"],
            Kind::RingCentralNumber => &["RingCentral number and extension"],
            Kind::Subject => &["Summary"],
            Kind::ContactNumber if html => &["Caller phone number", "Recipient phone number"],
            Kind::ContactNumber => &["Contact Number"],
            Kind::DateTime if html => &["Date/time"],
            Kind::DateTime => &["Date/Time"],
            Kind::Duration => &["Duration"],
            Kind::Result => &["Result"],
            Kind::CallRecording => &["Call recording link"],
            Kind::VoicemailRecording => &["Voicemail recording link"],
            Kind::AiNote => &["AI Note"],
            Kind::Transcript => &["Transcript"],
            Kind::AceTranscript => &["ACE transcript"],
            Kind::AceSummary => &["ACE summary"],
            Kind::CallScore => &["Call score"],
            Kind::AceBulletedSummary => &["ACE bulleted summary"],
            Kind::AceLink => &["ACE recording link"],
            Kind::CallJourney => &["Call journey"],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The agent note: first in the body, free text.
    Note,
    /// One labelled value.
    Item,
    /// A labelled block of free text.
    Block,
    /// The call journey: a block with its own end marker in plain text.
    Journey,
}

/// The agent-note header that HTML and Markdown close with before the call
/// details.
pub const HTML_NOTE_OPEN: &str = "<b>Agent notes</b><br>";
pub const HTML_NOTE_CLOSE: &str = "<br><br><b>Call details</b><br>";
pub const MARKDOWN_NOTE_OPEN: &str = "## Agent notes\n";
pub const MARKDOWN_NOTE_CLOSE: &str = "\n\n## Call details\n";
pub const MARKDOWN_DETAILS: &str = "## Call details\n";
pub const PLAIN_NOTE_OPEN: &str = "- Note: ";
/// App Connect's core also reads this older plain-text note label.
pub const PLAIN_NOTE_OPEN_OLD: &str = "- Agent notes: ";
pub const PLAIN_BLOCK_END: &str = "\n--- END\n";
pub const PLAIN_JOURNEY_END: &str = "\n--- JOURNEY END\n";

/// One section as the request would write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub kind: Kind,
    pub text: String,
}

/// One section's value as the request carries it, before it is written in
/// a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub kind: Kind,
    pub value: String,
}

/// The sections a request carries, in body order: those switched on whose
/// value is present, each written in `format`.
pub fn carried(
    request: &ComposeRequest,
    format: LogFormat,
    host_zone: &HostZone,
) -> Result<Vec<Rendered>, ComposeError> {
    let outbound = request.content.call_log.direction == Some(Direction::Outbound);
    Ok(values(request, host_zone)?
        .into_iter()
        .map(|carried| Rendered {
            kind: carried.kind,
            text: render(carried.kind, &carried.value, format, outbound),
        })
        .collect())
}

/// The values a request carries, in body order: those of the sections
/// switched on whose value is present, as App Connect's core reads them.
pub fn values(
    request: &ComposeRequest,
    host_zone: &HostZone,
) -> Result<Vec<Carried>, ComposeError> {
    let user = request.content.user.as_ref();
    let call = &request.content.call_log;
    let inbound = call.direction == Some(Direction::Inbound);
    let (own_side, other_side) = if inbound {
        (&call.to, &call.from)
    } else {
        (&call.from, &call.to)
    };
    let present = |text: Option<&str>| text.filter(|s| !s.is_empty()).map(str::to_owned);

    let mut sections = Vec::new();
    for kind in Kind::ALL {
        if !kind.enabled(user) {
            continue;
        }
        let value = match kind {
            Kind::Note => present(request.content.note.as_deref()),
            Kind::SessionId => present(call.session_id.as_deref()),
            Kind::RingCentralUserName => present(own_side.as_ref().and_then(|p| p.name.as_deref())),
            Kind::RingCentralNumber => {
                present(own_side.as_ref().and_then(|p| p.phone_number.as_deref())).map(|number| {
                    // The extension comes from the other side of the call, as
                    // App Connect's core takes it.
                    let extension = other_side
                        .as_ref()
                        .and_then(|p| p.extension_number.as_deref())
                        .unwrap_or_default();
                    format!("{number} {extension}")
                })
            }
            Kind::Subject => present(call.custom_subject.as_deref()),
            Kind::ContactNumber => present(
                request
                    .contact_info
                    .as_ref()
                    .and_then(|c| c.phone_number.as_deref()),
            ),
            Kind::DateTime => match values::start_instant(call.start_time.as_ref(), host_zone)? {
                Some(instant) => {
                    let offset =
                        match values::shown_at(user.and_then(|u| u.timezone_offset.as_ref()))? {
                            ShownAt::Offset(seconds) => seconds,
                            ShownAt::Host => host_zone.offset_at(instant),
                        };
                    let pattern = date_pattern(user);
                    Some(values::format_date_time(instant, offset, &pattern))
                }
                None => None,
            },
            Kind::Duration => call.duration.as_ref().map(values::duration),
            Kind::Result => present(call.result.as_deref()),
            Kind::CallRecording => present(call.recording.as_ref().and_then(|r| r.link.as_deref())),
            Kind::VoicemailRecording => {
                present(call.voicemail.as_ref().and_then(|v| v.link.as_deref()))
            }
            Kind::AiNote => present(request.content.ai_note.as_deref()),
            Kind::Transcript => present(request.content.transcript.as_deref()),
            Kind::AceTranscript => present(request.content.ring_sense_transcript.as_deref()),
            Kind::AceSummary => present(request.content.ring_sense_summary.as_deref()),
            // App Connect skips a falsy score: the number 0 is no score, the
            // string "0" is one; a score is shown as JavaScript prints it.
            Kind::CallScore => request
                .content
                .ring_sense_ai_score
                .as_ref()
                .filter(|score| crate::js::truthy(Some(score)))
                .map(crate::js::to_string),
            Kind::AceBulletedSummary => {
                present(request.content.ring_sense_bulleted_summary.as_deref())
            }
            Kind::AceLink => present(request.content.ring_sense_link.as_deref()),
            Kind::CallJourney if call.legs.is_empty() => None,
            Kind::CallJourney => Some(values::call_journey(&call.legs)),
        };
        if let Some(value) = value {
            sections.push(Carried { kind, value });
        }
    }
    Ok(sections)
}

/// `user.userSettings.<key>.value ?? default`, read with JavaScript
/// truthiness as App Connect's core does (`false`, `0`, `""` are off); no
/// user means every default.
pub fn setting_enabled(user: Option<&User>, key: &str, default: bool) -> bool {
    match user.and_then(|user| user.user_settings.get(key)) {
        None => default,
        Some(setting) if setting.value.is_null() => default,
        Some(setting) => crate::js::truthy(Some(&setting.value)),
    }
}

fn date_pattern(user: Option<&User>) -> String {
    let configured = user
        .and_then(|u| u.user_settings.get("logDateFormat"))
        .and_then(|setting| setting.value.as_str())
        .filter(|pattern| !pattern.is_empty());
    configured.unwrap_or("YYYY-MM-DD hh:mm:ss A").to_owned()
}

/// One section written in `format`, exactly as App Connect's core writes it
/// when it appends the section.
pub fn render(kind: Kind, value: &str, format: LogFormat, outbound: bool) -> String {
    let label = match kind {
        Kind::ContactNumber if format == LogFormat::Html && outbound => "Recipient phone number",
        _ => kind.labels(format)[0],
    };
    let open = marker(kind, label, format);
    match (kind.shape(), format) {
        (Shape::Note, LogFormat::Plain) => format!("{open}{value}\n"),
        (Shape::Note, LogFormat::Html) => format!("{open}{value}{HTML_NOTE_CLOSE}"),
        (Shape::Note, LogFormat::Markdown) => format!("{open}{value}{MARKDOWN_NOTE_CLOSE}"),
        (Shape::Item, LogFormat::Plain | LogFormat::Markdown) => format!("{open}{value}\n"),
        (Shape::Item, LogFormat::Html) => format!("{open}{}</li>", item_value(kind, value, format)),
        (Shape::Block, LogFormat::Plain) => {
            format!(
                "\n{open}{}{PLAIN_BLOCK_END}",
                block_value(kind, value, format)
            )
        }
        (Shape::Journey, LogFormat::Plain) => format!("{open}{value}{PLAIN_JOURNEY_END}"),
        (Shape::Block | Shape::Journey, LogFormat::Markdown) => {
            format!("{open}{}\n", block_value(kind, value, format))
        }
        (Shape::Block | Shape::Journey, LogFormat::Html) => {
            let gap = if kind.html_trailing_break() {
                "<br>"
            } else {
                ""
            };
            format!("{open}{}</div>{gap}", block_value(kind, value, format))
        }
    }
}

/// An item's value as written: in HTML a recording link is an anchor, or
/// `(pending...)` until it is a URL, and the ACE link is always an anchor.
pub fn item_value(kind: Kind, value: &str, format: LogFormat) -> String {
    match kind {
        _ if format != LogFormat::Html => value.to_owned(),
        Kind::CallRecording | Kind::VoicemailRecording if !value.starts_with("http") => {
            "(pending...)".to_owned()
        }
        Kind::CallRecording | Kind::VoicemailRecording | Kind::AceLink => {
            format!("<a target=\"_blank\" href=\"{value}\">open</a>")
        }
        _ => value.to_owned(),
    }
}

/// A block's text as written: trimmed as App Connect trims it, with line
/// breaks as `<br>` in HTML.
pub fn block_value(kind: Kind, value: &str, format: LogFormat) -> String {
    let text = block_text(kind, value, format);
    if format == LogFormat::Html {
        html_breaks(&text)
    } else {
        text
    }
}

/// The text a section's rendering starts with (after the blank line a
/// plain-text block opens with). `render` writes it and the parser looks
/// for it, so the two cannot drift apart.
pub fn marker(kind: Kind, label: &str, format: LogFormat) -> String {
    match (kind.shape(), format) {
        (Shape::Note, LogFormat::Plain) => PLAIN_NOTE_OPEN.to_owned(),
        (Shape::Note, LogFormat::Html) => HTML_NOTE_OPEN.to_owned(),
        (Shape::Note, LogFormat::Markdown) => MARKDOWN_NOTE_OPEN.to_owned(),
        (Shape::Item, LogFormat::Plain) => format!("- {label}: "),
        (Shape::Item, LogFormat::Markdown) => format!("**{label}**: "),
        (Shape::Item, LogFormat::Html) => format!("<li><b>{label}</b>: "),
        (Shape::Block | Shape::Journey, LogFormat::Plain) => format!("- {label}:\n"),
        (Shape::Block | Shape::Journey, LogFormat::Markdown) => format!("### {label}\n"),
        (Shape::Block | Shape::Journey, LogFormat::Html) => format!("<div><b>{label}</b><br>"),
    }
}

/// Which blocks drop trailing newlines, in which format: App Connect's core
/// trims the AI note and ACE transcript everywhere, the two ACE summaries
/// only in HTML, and the transcript never.
fn block_text(kind: Kind, value: &str, format: LogFormat) -> String {
    let trimmed = match kind {
        Kind::AiNote | Kind::AceTranscript => true,
        Kind::AceSummary | Kind::AceBulletedSummary => format == LogFormat::Html,
        _ => false,
    };
    if trimmed {
        value.trim_end_matches('\n').to_owned()
    } else {
        value.to_owned()
    }
}

/// Every line break (`\r\n`, `\r`, `\n`) as `<br>`.
fn html_breaks(text: &str) -> String {
    text.replace("\r\n", "<br>").replace(['\r', '\n'], "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_follow_javascript_truthiness() {
        let user: User = serde_json::from_str(
            r#"{"userSettings": {"a": {"value": false}, "b": {"value": "yes"}, "c": {"value": 0}, "d": {"value": null}}}"#,
        )
        .expect("parses");
        let user = Some(&user);
        assert!(!setting_enabled(user, "a", true));
        assert!(setting_enabled(user, "b", false));
        assert!(!setting_enabled(user, "c", true));
        assert!(setting_enabled(user, "d", true));
        assert!(!setting_enabled(user, "missing", false));
        assert!(setting_enabled(None, "missing", true));
    }

    /// App Connect writes a score when it is truthy, as JavaScript prints it.
    #[test]
    fn a_score_shows_unless_it_is_falsy() {
        let score = |value: serde_json::Value| {
            let request = ComposeRequest {
                content: crate::interface::LogContent {
                    ring_sense_ai_score: Some(value),
                    ..Default::default()
                },
                ..ComposeRequest::default()
            };
            carried(&request, LogFormat::Plain, &HostZone::UTC)
                .expect("composes")
                .into_iter()
                .find(|section| section.kind == Kind::CallScore)
                .map(|section| section.text)
        };
        assert_eq!(score(serde_json::json!(0)), None);
        assert_eq!(score(serde_json::json!(0.0)), None);
        assert_eq!(score(serde_json::json!("")), None);
        assert_eq!(score(serde_json::json!(false)), None);
        assert_eq!(
            score(serde_json::json!("0")),
            Some("- Call score: 0\n".into())
        );
        assert_eq!(
            score(serde_json::json!(87)),
            Some("- Call score: 87\n".into())
        );
        assert_eq!(
            score(serde_json::json!(87.0)),
            Some("- Call score: 87\n".into())
        );
        assert_eq!(
            score(serde_json::json!(87.5)),
            Some("- Call score: 87.5\n".into())
        );
    }
}
