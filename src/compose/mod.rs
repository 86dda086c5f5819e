//! The log-body composer: turns a compose request (README.md, "Reviewing log bodies") into the body
//! App Connect's core would write, in text/plain, text/html or text/markdown,
//! and updates an existing body in one of two styles.
//!
//! Pure: no I/O, no clock, no environment. The same request and options
//! always give the same bytes; the host's time zone is an option, never
//! looked up here. Composing from an empty body matches App Connect's core
//! byte for byte. An update (`existingBody`) comes in two styles:
//!
//! - `core` (`core_update.rs`) reproduces what App Connect core 1.7.42 writes, its
//!   regular-expression quirks included, since that is what a connector's
//!   CRM holds after App Connect updates a log;
//! - `clean` parses the existing body into sections first (`parse`), each
//!   carried section replaces its own in place, new ones are appended, and
//!   recomposing the same request changes nothing.

mod core_regex;
mod core_update;
mod error;
#[cfg(test)]
mod golden;
mod host_zone;
mod message_log;
mod parse;
mod sections;
mod shared_sms;
mod values;

pub use crate::interface::UpdateStyle;
use crate::interface::{ComposeRequest, LogFormat, User};
pub use error::ComposeError;
pub use host_zone::{HostZone, UnknownZone};
pub use message_log::{
    add_message, compose_message_log, creation_time, message_day, MessageLogError,
};
use parse::{Hints, Segment};
pub use sections::setting_enabled;
use sections::{Kind, Rendered, MARKDOWN_DETAILS};
pub use shared_sms::{
    compose_shared_sms, Conversation, Entity, JsText, JsTime, Message, Owner, Person,
    SharedSmsError, SharedSmsLog, SharedSmsOptions, SharedSmsRequest, SharedSmsStyle,
};
pub use values::duration as format_duration;

/// How to compose: the format, how to update an existing body, and the zone
/// App Connect's host would format dates in when the user has no offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComposeOptions {
    pub format: LogFormat,
    pub update_style: UpdateStyle,
    pub host_zone: HostZone,
}

impl ComposeOptions {
    /// `format`, updated the way App Connect's core updates, on a host in UTC.
    pub fn new(format: LogFormat) -> Self {
        ComposeOptions {
            format,
            update_style: UpdateStyle::default(),
            host_zone: HostZone::UTC,
        }
    }

    pub fn with_update_style(self, update_style: UpdateStyle) -> Self {
        ComposeOptions {
            update_style,
            ..self
        }
    }

    pub fn with_host_zone(self, host_zone: HostZone) -> Self {
        ComposeOptions { host_zone, ..self }
    }
}

/// The body for `request`: composed from nothing, or, with `existingBody`,
/// that body updated with each carried section in `options.update_style`.
pub fn compose(request: &ComposeRequest, options: &ComposeOptions) -> Result<String, ComposeError> {
    let format = options.format;
    let existing = request.existing_body.as_deref().unwrap_or_default();
    if !existing.is_empty() && options.update_style == UpdateStyle::Core {
        let carried = sections::values(request, &options.host_zone)?;
        return Ok(core_update::update(existing, &carried, format));
    }
    let carried = sections::carried(request, format, &options.host_zone)?;
    let hints = Hints {
        expected: &carried,
        user: request.content.user.as_ref(),
    };
    let mut body = apply(existing, &carried, format, &hints);
    if existing.is_empty() {
        // A fresh body holds every carried section exactly as rendered and
        // nothing else, so reading it back changes nothing.
        return Ok(body);
    }
    // An old body can hold labels that one pass reads as text and the next
    // as a section. Settle on a body the same request leaves unchanged, so
    // that recomposing is always a no-op. In the property tests the first
    // pass has always been settled already, so this costs one extra parse;
    // the bound keeps a pathological body from looping.
    for _ in 0..MAX_SETTLING_PASSES {
        let again = apply(&body, &carried, format, &hints);
        if again == body {
            break;
        }
        body = again;
    }
    Ok(body)
}

const MAX_SETTLING_PASSES: usize = 4;

/// One pass: split `existing` into sections and put each carried one in.
fn apply(existing: &str, carried: &[Rendered], format: LogFormat, hints: &Hints<'_>) -> String {
    let mut segments = parse::parse(existing, format, hints);
    for section in carried {
        upsert(&mut segments, section, format);
    }
    segments
        .iter()
        .map(|segment| match segment {
            Segment::Text(text) | Segment::Section { text, .. } => text.as_str(),
        })
        .collect()
}

/// The agent note written in `body`, if it has one. `user` (the settings the
/// body was written with) helps tell a note line that looks like a label from
/// a real section; without it every label counts.
pub fn parse_note(body: &str, format: LogFormat, user: Option<&User>) -> Option<String> {
    let segments = parse::parse(
        body,
        format,
        &Hints {
            expected: &[],
            user,
        },
    );
    segments.iter().find_map(|segment| match segment {
        Segment::Section {
            kind: Kind::Note,
            text,
        } => Some(parse::note_value(text, format).to_owned()),
        _ => None,
    })
}

fn upsert(segments: &mut Vec<Segment>, section: &Rendered, format: LogFormat) {
    let existing = segments.iter_mut().find_map(|segment| match segment {
        Segment::Section { kind, text } if *kind == section.kind => Some(text),
        _ => None,
    });
    if let Some(text) = existing {
        text.clone_from(&section.text);
        return;
    }
    if section.kind == Kind::Note {
        prepend_note(segments, section, format);
        return;
    }
    let new = Segment::Section {
        kind: section.kind,
        text: section.text.clone(),
    };
    if format == LogFormat::Html
        && matches!(section.kind, Kind::CallRecording | Kind::VoicemailRecording)
    {
        // App Connect's core slips a new recording link into a body's list
        // when it has one. Only a list outside our sections is considered:
        // splitting a section's text would break it.
        if let Some((index, at)) = segments.iter().enumerate().find_map(|(i, s)| match s {
            Segment::Text(text) => text.find("</ul>").map(|at| (i, at)),
            Segment::Section { .. } => None,
        }) {
            if let Segment::Text(text) = &mut segments[index] {
                let after = text.split_off(at);
                let before = std::mem::take(text);
                segments.splice(
                    index..=index,
                    [Segment::Text(before), new, Segment::Text(after)]
                        .into_iter()
                        .filter(|s| !matches!(s, Segment::Text(t) if t.is_empty())),
                );
                return;
            }
        }
    }
    if format != LogFormat::Html {
        // A section starts on its own line, even after text that did not end
        // its last line.
        let ends_open = segments.last().is_some_and(|segment| match segment {
            Segment::Text(text) | Segment::Section { text, .. } => !text.ends_with('\n'),
        });
        if ends_open {
            segments.push(Segment::Text("\n".into()));
        }
    }
    segments.push(new);
}

fn prepend_note(segments: &mut Vec<Segment>, note: &Rendered, format: LogFormat) {
    // A Markdown body that already opens its call details gets only the
    // note's half of the header, as App Connect's core does.
    let opens_details = format == LogFormat::Markdown
        && matches!(segments.first(), Some(Segment::Text(text)) if text.starts_with(MARKDOWN_DETAILS));
    let text = if opens_details {
        note.text
            .strip_suffix(MARKDOWN_DETAILS)
            .unwrap_or(&note.text)
    } else {
        &note.text
    };
    segments.insert(
        0,
        Segment::Section {
            kind: Kind::Note,
            text: text.to_owned(),
        },
    );
}

#[cfg(test)]
mod tests {
    //! Clean updates where label-like user text competes with a real
    //! section; the property tests in `tests/suite/compose_props.rs` found
    //! each.

    use super::*;

    fn request(json: serde_json::Value) -> ComposeRequest {
        serde_json::from_value(json).expect("a valid compose request")
    }

    fn clean(format: LogFormat) -> ComposeOptions {
        ComposeOptions::new(format).with_update_style(UpdateStyle::Clean)
    }

    /// `earlier` composed, then `later` composed on top of that body.
    fn update(earlier: &serde_json::Value, later: &serde_json::Value, format: LogFormat) -> String {
        let body = compose(&request(earlier.clone()), &clean(format)).expect("composes");
        let mut update = request(later.clone());
        update.existing_body = Some(body);
        compose(&update, &clean(format)).expect("composes")
    }

    fn fresh(later: &serde_json::Value, format: LogFormat) -> String {
        compose(&request(later.clone()), &clean(format)).expect("composes")
    }

    #[test]
    fn a_new_note_replaces_every_line_of_the_old_one() {
        // The old note's second line is the label of a section the settings
        // switch off; the new note is the old note's first line.
        let settings = serde_json::json!({"addCallLogRecording": {"value": false}});
        let call = serde_json::json!({"customSubject": "s", "recording": {"link": "(pending...)"}});
        let earlier = serde_json::json!({
            "user": {"userSettings": settings}, "callLog": call,
            "note": "$&\n- Call recording link: (pending...)"
        });
        let later = serde_json::json!({
            "user": {"userSettings": settings}, "callLog": call, "note": "$&"
        });
        let updated = update(&earlier, &later, LogFormat::Plain);
        assert_eq!(updated, "- Note: $&\n- Summary: s\n");
        assert_eq!(updated, fresh(&later, LogFormat::Plain));
    }

    #[test]
    fn a_note_does_not_swallow_the_sections_after_it_to_reach_a_quoted_value() {
        // The old transcript quotes the recording line the update writes, and
        // the sections after it are unchanged: a note that ran on to the
        // quote would anchor more of the body than the note itself.
        let settings = serde_json::json!({
            "addCallLogDateTime": {"value": false}, "addCallLogResult": {"value": false}
        });
        let unchanged = serde_json::json!({
            "ringSenseTranscript": "c", "ringSenseSummary": "c", "ringSenseAIScore": "0",
            "ringSenseBulletedSummary": "c", "ringSenseLink": "https://media.example.com/rec/a"
        });
        let with = |fields: serde_json::Value| {
            let mut request = unchanged.clone();
            if let (Some(all), Some(more)) = (request.as_object_mut(), fields.as_object()) {
                all.extend(more.clone());
            }
            request
        };
        let earlier = with(serde_json::json!({
            "user": {"userSettings": settings},
            "callLog": {"customSubject": "c", "duration": 0,
                        "recording": {"link": "https://media.example.com/rec/a"},
                        "voicemail": {"link": "(pending...)"}},
            "note": "c", "aiNote": "c",
            "transcript": "- Call recording link: (pending...)"
        }));
        let later = with(serde_json::json!({
            "user": {"userSettings": settings},
            "callLog": {"customSubject": "r", "duration": 1,
                        "recording": {"link": "(pending...)"},
                        "voicemail": {"link": "https://media.example.com/rec/a"}},
            "note": "r", "aiNote": "r", "transcript": "c"
        }));
        assert_eq!(
            update(&earlier, &later, LogFormat::Plain),
            fresh(&later, LogFormat::Plain)
        );
    }

    #[test]
    fn a_label_quoted_out_of_order_stays_quoted() {
        // The old ACE transcript ends by quoting the transcript's header;
        // the new ACE transcript is what comes before that quote.
        let earlier = serde_json::json!({
            "callLog": {"customSubject": "s"},
            "aiNote": "a", "transcript": "t",
            "ringSenseTranscript": "**Result**: maybe\n### Transcript"
        });
        let later = serde_json::json!({
            "callLog": {"customSubject": "s"},
            "aiNote": "a2", "transcript": "t2",
            "ringSenseTranscript": "**Result**: maybe"
        });
        assert_eq!(
            update(&earlier, &later, LogFormat::Markdown),
            fresh(&later, LogFormat::Markdown)
        );
    }

    #[test]
    fn a_note_that_ends_with_a_block_label_parses_back_whole() {
        let r = request(serde_json::json!({
            "callLog": {}, "note": "n\n\n- AI Note:", "aiNote": "a"
        }));
        let body = compose(&r, &clean(LogFormat::Plain)).expect("composes");
        assert_eq!(
            parse_note(&body, LogFormat::Plain, None).as_deref(),
            Some("n\n\n- AI Note:")
        );
    }
}
