//! The `core` style: `composeSharedSMSLog` of App Connect core 1.7.42 step
//! by step, with JavaScript's and moment's semantics where they decide
//! what is written. README.md ("The shared-SMS composer") lists what that
//! gives which a reader would not expect; the comments below say where
//! each comes from.

use super::input::{name_of, or, Conversation, Entity, JsText, JsTime, SharedSmsRequest};
use super::layout::{self, OwnerLine, Summary};
use super::moment::{offset_given, DiffUnit, Moment};
use super::outcome::{SharedSmsError, SharedSmsLog};
use crate::compose::host_zone::HostZone;
use crate::interface::LogFormat;
use crate::js;

pub(super) fn compose(
    request: &SharedSmsRequest,
    host: &HostZone,
    now: Option<f64>,
) -> Result<SharedSmsLog, SharedSmsError> {
    let format = request.log_format.unwrap_or(LogFormat::Plain);
    let conversation = &request.conversation;
    let offset = offset_given(request.timezone_offset.as_ref());
    let moment = |value: Option<&JsTime>, field: &dyn Fn() -> String| {
        let moment =
            Moment::of(value, now, host).map_err(|e| SharedSmsError::time(field(), value, e))?;
        match offset {
            Some(offset) => moment
                .with_utc_offset(offset)
                .map_err(|e| SharedSmsError::time(field(), value, e)),
            None => Ok(moment),
        }
    };
    let created = moment(conversation.creation_time.as_ref(), &|| {
        "conversation.creationTime".into()
    })?;
    let latest = latest_modified(conversation);
    let updated = match &latest {
        Latest::Zero => moment(Some(&JsTime::Millis(0.0)), &|| {
            "conversation.messages".into()
        })?,
        Latest::Message(index) => {
            let value = conversation.messages[*index].last_modified_time.as_ref();
            moment(value, &|| {
                format!("conversation.messages[{index}].lastModifiedTime")
            })?
        }
    };
    let contact = request.contact_name.as_ref();
    let subject = layout::subject(format, &template(contact));
    let entities = conversation.entities.as_deref().unwrap_or_default();
    let shown = |value: Option<&JsText>| match format {
        LogFormat::Html => escape_html(value),
        LogFormat::Plain | LogFormat::Markdown => template(value),
    };
    let mut entries = Vec::new();
    for (index, entity) in entities.iter().enumerate() {
        // Core formats every entity's time, then drops the records it does
        // not list; a time of a dropped one cannot change the body.
        if !LISTED.contains(&entity.record_type.as_deref().unwrap_or_default()) {
            continue;
        }
        let field = || format!("conversation.entities[{index}].creationTime");
        let time = moment(entity.creation_time.as_ref(), &field)?;
        let time = time
            .format(layout::ENTRY_TIME, host)
            .map_err(|e| SharedSmsError::time(field(), entity.creation_time.as_ref(), e))?;
        if let Some(content) = entry(format, entity, contact, &time, &shown) {
            entries.push((entity.creation_time.as_ref(), content));
        }
    }
    // `(a, b) => b.creationTime - a.creationTime`: ISO strings subtract to
    // NaN, "equal" to everything, so only numeric times move.
    let entries = crate::js_sort::sorted(entries, |a, b| time_number(b.0) - time_number(a.0));
    let (messages, notes) = count(entities);
    let show = |moment: &Moment, pattern: &str, field: &str| {
        moment
            .format(pattern, host)
            .map_err(|e| SharedSmsError::time(field.into(), None, e))
    };
    let summary = Summary {
        started: (
            show(&created, layout::DAY, "conversation.creationTime")?,
            show(&created, layout::TIME, "conversation.creationTime")?,
        ),
        ended: (
            show(&updated, layout::DAY, "conversation.messages")?,
            show(&updated, layout::TIME, "conversation.messages")?,
        ),
        duration: format!(
            "{} d {} h",
            js::number_to_string(updated.diff(&created, DiffUnit::Days, host)),
            js::number_to_string(updated.diff(&created, DiffUnit::Hours, host)),
        ),
        duration_trailing_space: true,
        customer: shown(contact),
        agents: agents(entities)
            .into_iter()
            .map(|name| match format {
                LogFormat::Html => escape(name),
                LogFormat::Plain | LogFormat::Markdown => name.to_owned(),
            })
            .collect(),
        owner: owner(conversation, format),
        messages,
        notes,
        entries: entries.into_iter().map(|(_, content)| content).collect(),
    };
    Ok(SharedSmsLog {
        subject,
        body: layout::body(format, &summary),
    })
}

/// The record types core writes an entry for.
const LISTED: [&str; 3] = ["AliveMessage", "ThreadAssignedHint", "AliveNote"];

/// What `findLatestModifiedTime` keeps: its starting `0`, or the message
/// whose `lastModifiedTime` last compared greater (`>`), which an ISO
/// string never does against a number.
enum Latest {
    Zero,
    Message(usize),
}

fn latest_modified(conversation: &Conversation) -> Latest {
    let mut latest = Latest::Zero;
    for (index, message) in conversation.messages.iter().enumerate() {
        let result = match &latest {
            Latest::Zero => Some(JsTime::Millis(0.0)),
            Latest::Message(at) => conversation.messages[*at].last_modified_time.clone(),
        };
        if greater(message.last_modified_time.as_ref(), result.as_ref()) {
            latest = Latest::Message(index);
        }
    }
    latest
}

/// JavaScript's `a > b` for two times: strings compare by UTF-16 code
/// units, anything else as numbers (NaN compares false).
fn greater(a: Option<&JsTime>, b: Option<&JsTime>) -> bool {
    if let (Some(JsTime::Text(a)), Some(JsTime::Text(b))) = (a, b) {
        return a.encode_utf16().cmp(b.encode_utf16()) == std::cmp::Ordering::Greater;
    }
    time_number(a) > time_number(b)
}

/// `+time`: milliseconds stay, strings go through `Number()`, `null` is 0,
/// `undefined` NaN.
fn time_number(time: Option<&JsTime>) -> f64 {
    match time {
        None => f64::NAN,
        Some(JsTime::Null) => 0.0,
        Some(JsTime::Millis(millis)) => *millis,
        Some(JsTime::Text(text)) => js::string_to_number(text).unwrap_or(f64::NAN),
    }
}

/// One entry of the body, or `None` for a record core leaves out.
fn entry(
    format: LogFormat,
    entity: &Entity,
    contact: Option<&JsText>,
    time: &str,
    shown: &dyn Fn(Option<&JsText>) -> String,
) -> Option<String> {
    let text = |first: &Option<String>, second: &Option<String>| {
        [first, second]
            .into_iter()
            .flatten()
            .find(|text| !text.is_empty())
            .cloned()
            .unwrap_or_default()
    };
    let html_or_raw = |text: String| match format {
        LogFormat::Html => escape(&text),
        LogFormat::Plain | LogFormat::Markdown => text,
    };
    match entity.record_type.as_deref()? {
        "AliveMessage" => {
            let sender = if entity.direction.as_deref() == Some("Inbound") {
                contact
            } else {
                or(
                    name_of(entity.author.as_ref()),
                    name_of(entity.from.as_ref()),
                )
            };
            let text = html_or_raw(text(&entity.text, &entity.subject));
            Some(layout::message(format, &shown(sender), time, &text))
        }
        "ThreadAssignedHint" => {
            let assignee = truthy_name(name_of(entity.assignee.as_ref())).unwrap_or("Unknown");
            Some(layout::assignment(
                format,
                &html_or_raw(assignee.to_owned()),
            ))
        }
        "AliveNote" => {
            let author = or(
                name_of(entity.author.as_ref()),
                name_of(entity.initiator.as_ref()),
            );
            let author = truthy_name(author).unwrap_or("Unknown");
            let text = html_or_raw(text(&entity.text, &entity.body));
            Some(layout::note(
                format,
                &html_or_raw(author.to_owned()),
                time,
                &text,
            ))
        }
        _ => None,
    }
}

fn truthy_name(name: Option<&JsText>) -> Option<&str> {
    name.and_then(JsText::as_str)
        .filter(|name| !name.is_empty())
}

/// `gatherAgents`: every truthy author, from, initiator and assignee name of
/// every entity, listed or not, once each in the order first seen; the
/// customer's own name (an inbound message's `from`) included.
fn agents(entities: &[Entity]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for entity in entities {
        for person in [
            &entity.author,
            &entity.from,
            &entity.initiator,
            &entity.assignee,
        ] {
            if let Some(name) = truthy_name(name_of(person.as_ref())) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

/// `getOwnerInfo`: a call queue when the owner is a `Department` or its
/// name holds "queue" in any case.
fn owner(conversation: &Conversation, format: LogFormat) -> Option<OwnerLine> {
    let owner = conversation.owner.as_ref()?;
    let name = owner.name.clone().unwrap_or_default();
    let call_queue = owner.extension_type.as_deref() == Some("Department")
        || name.to_lowercase().contains("queue");
    Some(OwnerLine {
        call_queue,
        name: match format {
            LogFormat::Html => escape(&name),
            LogFormat::Plain | LogFormat::Markdown => name,
        },
    })
}

/// `countEntities`: `AliveMessage`s and `AliveNote`s.
fn count(entities: &[Entity]) -> (usize, usize) {
    let of = |kind: &str| {
        entities
            .iter()
            .filter(|e| e.record_type.as_deref() == Some(kind))
            .count()
    };
    (of("AliveMessage"), of("AliveNote"))
}

/// `${value}` of a possibly undefined string.
fn template(value: Option<&JsText>) -> String {
    match value {
        None => "undefined".into(),
        Some(JsText::Null) => "null".into(),
        Some(JsText::Text(text)) => text.clone(),
    }
}

/// Core's `escapeHtml`: empty for a falsy value.
fn escape_html(value: Option<&JsText>) -> String {
    value
        .and_then(JsText::as_str)
        .map(escape)
        .unwrap_or_default()
}

/// `&`, `<`, `>`, `"` and `'` as entities, as core's `escapeHtml` writes them.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#039;"),
            _ => out.push(c),
        }
    }
    out
}
