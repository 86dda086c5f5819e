//! The `clean` style: core's layout with each of its quirks fixed (README.md,
//! "The shared-SMS composer", lists them side by side):
//!
//! - times are instants whatever their form: entries newest first (ties in
//!   the thread's order), `Started` the earliest time the conversation
//!   carries and `Ended` the latest (the last message's or entry's), so the
//!   duration is never negative, and it reads "1 d 3 h", not "1 d 27 h";
//! - every participant once: the customer's own name (an inbound
//!   message's `from`) is not listed again as an agent;
//! - a missing name reads `Unknown`, never `undefined` or `null`;
//! - text is escaped for the format: HTML line breaks are `<br>`, Markdown
//!   punctuation is backslash-escaped and its line breaks are hard breaks;
//! - the owner is a call queue by its extension type when it has one (a
//!   user named "Maria Queuedo" is not a queue);
//! - `timezoneOffset` is read as for call logs (`"-300"` is -5 hours, not
//!   -30); no trailing space ends the duration line.
//!
//! It reads no clock: a time that is missing where an entry needs one, or
//! that is not a date, is an error.

use chrono::DateTime;

use super::core::escape;
use super::input::{name_of, or, Entity, JsText, JsTime, SharedSmsRequest};
use super::layout::{self, OwnerLine, Summary};
use super::moment::Moment;
use super::outcome::{shown_value, SharedSmsError, SharedSmsLog};
use crate::compose::host_zone::HostZone;
use crate::compose::values::{format_date_time, shown_at, ShownAt};
use crate::interface::LogFormat;

pub(super) fn compose(
    request: &SharedSmsRequest,
    host: &HostZone,
) -> Result<SharedSmsLog, SharedSmsError> {
    let format = request.log_format.unwrap_or(LogFormat::Plain);
    let conversation = &request.conversation;
    let at = shown_at(request.timezone_offset.as_ref()).map_err(SharedSmsError::Offset)?;
    let show = |millis: i64, pattern: &str| {
        let instant = DateTime::from_timestamp_millis(millis).ok_or(SharedSmsError::OutOfRange)?;
        let offset = match at {
            ShownAt::Offset(seconds) => seconds,
            ShownAt::Host => host.offset_at(instant),
        };
        Ok::<_, SharedSmsError>(format_date_time(instant, offset, pattern))
    };
    // An optional time that is null is one not given.
    let instant = |value: Option<&JsTime>, field: &dyn Fn() -> String| match value {
        None | Some(JsTime::Null) => Ok(None),
        Some(time) => match Moment::of(Some(time), None, host) {
            Ok(moment) if moment.is_valid() => Ok(Some(moment.value_of() as i64)),
            Ok(_) => Err(SharedSmsError::NotADate {
                field: field(),
                value: shown_value(time),
            }),
            Err(error) => Err(SharedSmsError::time(field(), value, error)),
        },
    };

    let customer = request
        .contact_name
        .as_ref()
        .and_then(JsText::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(UNKNOWN);
    let entities = conversation.entities.as_deref().unwrap_or_default();
    let mut times = Vec::new();
    let mut entries = Vec::new();
    for (index, entity) in entities.iter().enumerate() {
        let Some(kind) = entity.record_type.as_deref().filter(|k| LISTED.contains(k)) else {
            continue;
        };
        let field = || format!("conversation.entities[{index}].creationTime");
        let time = instant(entity.creation_time.as_ref(), &field)?
            .ok_or_else(|| SharedSmsError::Missing { field: field() })?;
        let shown = show(time, layout::ENTRY_TIME)?;
        times.push(time);
        entries.push((time, entry(format, kind, entity, customer, &shown)));
    }
    // Newest first, as core means to; a stable sort keeps the thread's
    // order among entries of one time.
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    for (index, message) in conversation.messages.iter().enumerate() {
        let (value, name) = match &message.last_modified_time {
            Some(time) if *time != JsTime::Null => (Some(time), "lastModifiedTime"),
            _ => (message.creation_time.as_ref(), "creationTime"),
        };
        let field = || format!("conversation.messages[{index}].{name}");
        times.extend(instant(value, &field)?);
    }
    let created = instant(conversation.creation_time.as_ref(), &|| {
        "conversation.creationTime".into()
    })?;
    times.extend(created);
    let started = times.iter().copied().min().ok_or(SharedSmsError::NoTime)?;
    let ended = times.iter().copied().max().ok_or(SharedSmsError::NoTime)?;
    let elapsed = ended - started;
    let (days, hours) = (elapsed / DAY_MS, elapsed % DAY_MS / HOUR_MS);

    let agents = agents(entities, customer)
        .into_iter()
        .map(|name| name_for(format, name))
        .collect();
    let owner = conversation.owner.as_ref().map(|owner| {
        let name = owner
            .name
            .as_deref()
            .filter(|name| !name.is_empty())
            .unwrap_or(UNKNOWN);
        OwnerLine {
            call_queue: match owner.extension_type.as_deref() {
                Some(kind) => kind == "Department",
                None => name.to_lowercase().contains("queue"),
            },
            name: name_for(format, name),
        }
    });
    let count = |kind: &str| {
        entities
            .iter()
            .filter(|e| e.record_type.as_deref() == Some(kind))
            .count()
    };
    let summary = Summary {
        started: (show(started, layout::DAY)?, show(started, layout::TIME)?),
        ended: (show(ended, layout::DAY)?, show(ended, layout::TIME)?),
        duration: format!("{days} d {hours} h"),
        duration_trailing_space: false,
        customer: name_for(format, customer),
        agents,
        owner,
        messages: count("AliveMessage"),
        notes: count("AliveNote"),
        entries: entries.into_iter().map(|(_, content)| content).collect(),
    };
    let subject_name = match format {
        LogFormat::Markdown => name_for(format, customer),
        LogFormat::Plain | LogFormat::Html => customer.to_owned(),
    };
    Ok(SharedSmsLog {
        subject: layout::subject(format, &subject_name),
        body: layout::body(format, &summary),
    })
}

const LISTED: [&str; 3] = ["AliveMessage", "ThreadAssignedHint", "AliveNote"];
const UNKNOWN: &str = "Unknown";
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

fn entry(format: LogFormat, kind: &str, entity: &Entity, customer: &str, time: &str) -> String {
    let first_text = |first: &Option<String>, second: &Option<String>| {
        [first, second]
            .into_iter()
            .flatten()
            .find(|text| !text.is_empty())
            .map_or_else(String::new, |text| text_for(format, text))
    };
    let named = |name: Option<&JsText>| {
        let name = name
            .and_then(JsText::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or(UNKNOWN);
        name_for(format, name)
    };
    match kind {
        "AliveMessage" => {
            let sender = if entity.direction.as_deref() == Some("Inbound") {
                name_for(format, customer)
            } else {
                named(or(
                    name_of(entity.author.as_ref()),
                    name_of(entity.from.as_ref()),
                ))
            };
            layout::message(
                format,
                &sender,
                time,
                &first_text(&entity.text, &entity.subject),
            )
        }
        "AliveNote" => {
            let author = named(or(
                name_of(entity.author.as_ref()),
                name_of(entity.initiator.as_ref()),
            ));
            layout::note(
                format,
                &author,
                time,
                &first_text(&entity.text, &entity.body),
            )
        }
        _ => layout::assignment(format, &named(name_of(entity.assignee.as_ref()))),
    }
}

/// The names of the people who took part besides the customer, once each,
/// in the order first seen: authors, initiators, assignees, and senders of
/// outbound messages (an inbound message's sender is the customer).
fn agents<'a>(entities: &'a [Entity], customer: &str) -> Vec<&'a str> {
    let mut names: Vec<&str> = Vec::new();
    for entity in entities {
        let inbound = entity.direction.as_deref() == Some("Inbound");
        let from = if inbound { None } else { entity.from.as_ref() };
        for person in [
            entity.author.as_ref(),
            from,
            entity.initiator.as_ref(),
            entity.assignee.as_ref(),
        ] {
            let name = name_of(person).and_then(JsText::as_str).unwrap_or_default();
            if !name.is_empty() && name != customer && !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// A name as the format shows it literally, on one line.
fn name_for(format: LogFormat, name: &str) -> String {
    match format {
        LogFormat::Plain => name.to_owned(),
        LogFormat::Html => escape(name),
        LogFormat::Markdown => lines(name)
            .map(escape_markdown)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Message or note text as the format shows it literally, its line breaks
/// kept: `<br>` in HTML, a backslash hard break in Markdown (a blank line
/// there would end the paragraph, so empty lines are hard breaks too, and
/// trailing ones are dropped: a hard break cannot end a paragraph).
fn text_for(format: LogFormat, text: &str) -> String {
    match format {
        LogFormat::Plain => text.to_owned(),
        LogFormat::Html => lines(text).map(escape).collect::<Vec<_>>().join("<br>"),
        LogFormat::Markdown => {
            let mut shown: Vec<String> = lines(text).map(escape_markdown).collect();
            while shown.last().is_some_and(String::is_empty) {
                shown.pop();
            }
            shown.join("\\\n")
        }
    }
}

/// The lines of `text`, split at `\r\n`, `\n` or `\r` (CommonMark's line
/// endings).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut at = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let ending = match bytes[at] {
                b'\n' => 1,
                b'\r' if bytes.get(at + 1) == Some(&b'\n') => 2,
                b'\r' => 1,
                _ => 0,
            };
            if ending > 0 {
                let line = &text[start..at];
                at += ending;
                start = at;
                return Some(line);
            }
            at += 1;
        }
        if done {
            return None;
        }
        done = true;
        Some(&text[start..])
    })
}

/// Every ASCII punctuation character backslash-escaped, which CommonMark
/// always reads as the character itself.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compose_clean(request: serde_json::Value) -> Result<SharedSmsLog, SharedSmsError> {
        let request: SharedSmsRequest = serde_json::from_value(request).expect("a request");
        compose(&request, &HostZone::UTC)
    }

    fn line(body: &str, starts: &str) -> String {
        body.lines()
            .find(|line| line.starts_with(starts))
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn offsets_read_as_for_call_logs_and_null_times_are_not_given() {
        let log = compose_clean(json!({
            "timezoneOffset": "-300",
            "contactName": "C",
            "conversation": {
                "creationTime": null,
                "messages": [{"lastModifiedTime": null, "creationTime": "2025-10-05T04:11:00Z"}],
                "entities": []
            }
        }))
        .expect("composes");
        // "-300" is five hours behind here, where core reads thirty.
        assert_eq!(
            line(&log.body, "Started"),
            "Started: Saturday, October 04, 2025 at 11:11 PM"
        );
    }

    #[test]
    fn the_extension_type_decides_whether_the_owner_is_a_call_queue() {
        let owner = |owner: serde_json::Value| {
            let log = compose_clean(json!({
                "conversation": {"creationTime": 0, "messages": [], "owner": owner}
            }))
            .expect("composes");
            log.body.lines().nth(8).unwrap_or_default().to_owned()
        };
        assert_eq!(
            owner(json!({"name": "Maria Queuedo", "extensionType": "User"})),
            "Owner: Maria Queuedo"
        );
        assert_eq!(
            owner(json!({"name": "Sales", "extensionType": "Department"})),
            "Receiving call queue: Sales"
        );
        assert_eq!(
            owner(json!({"name": "Sales queue"})),
            "Receiving call queue: Sales queue"
        );
        assert_eq!(owner(json!({"name": ""})), "Owner: Unknown");
    }

    #[test]
    fn line_breaks_are_kept_in_each_format() {
        assert_eq!(
            lines("a\r\nb\rc\n").collect::<Vec<_>>(),
            ["a", "b", "c", ""]
        );
        assert_eq!(text_for(LogFormat::Html, "a\n<b>"), "a<br>&lt;b&gt;");
        assert_eq!(text_for(LogFormat::Markdown, "a*\n\nb\n"), "a\\*\\\n\\\nb");
        assert_eq!(name_for(LogFormat::Markdown, "A_b\nC"), "A\\_b C");
    }

    #[test]
    fn an_entry_without_a_time_is_an_error_naming_it() {
        let error = compose_clean(json!({
            "conversation": {"messages": [], "entities": [{"recordType": "AliveMessage", "creationTime": null}]}
        }))
        .expect_err("no time");
        assert_eq!(
            error,
            SharedSmsError::Missing {
                field: "conversation.entities[0].creationTime".into()
            }
        );
    }
}
