//! How App Connect core reads the connector's answers, and the checks on
//! one answer at a time: what a `createCallLog` answer means for the call,
//! whether a stored body is `composedLogDetails`, whether `getCallLog`
//! gave back what the CRM holds, and the words a breach is told in.
//!
//! Pure: it judges values handed to it, and must not call the connector
//! or the CRM.

use serde_json::Value;

use super::bridge::{Settled, Thrown};
use super::cases::Case;
use super::core;
use super::properties::{self, Property, Verdicts};
use crate::interface::User;

/// What the last `createCallLog` left: a log (its id as core stores it)
/// or none (and what the user was told).
pub(super) enum Created {
    Logged(String),
    NotLogged(Value),
}

pub(super) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

pub(super) fn compose_user(case: &Case) -> User {
    User {
        id: None,
        timezone_offset: case.user.timezone_offset.clone(),
        user_settings: case.user.user_settings.clone(),
        extra: Default::default(),
    }
}

pub(super) fn stored_body(activity: &Value) -> Option<String> {
    activity
        .get("body")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The warning core shows when it could not even call the connector.
pub(super) fn core_error(function: &str) -> Value {
    core::thrown_message(
        function,
        &Thrown {
            kind: "threw".into(),
            name: "Error".into(),
            message: String::new(),
            stack: None,
            status: None,
        },
    )
}

/// What core makes of a `createCallLog` answer.
/// `numbers`: a CRM face's connector, whose CRM's ids are numbers, which
/// core's text column keeps as their digits.
pub(super) fn read_created(answer: Settled, verdicts: &mut Verdicts, numbers: bool) -> Created {
    let value = match answer {
        Settled::Threw(thrown) => {
            return Created::NotLogged(core::thrown_message("createCallLog", &thrown))
        }
        Settled::Returned { value, .. } => value,
    };
    let Some(object) = value.as_ref().filter(|value| value.is_object()) else {
        verdicts.broke(
            Property::NothingThrows,
            format!(
                "createCallLog returned {}, which App Connect core cannot destructure: it answers \"Error creating call log\"; return {{logId, returnMessage}}",
                value.as_ref().map_or("undefined".into(), short_json)
            ),
        );
        return Created::NotLogged(core_error("createCallLog"));
    };
    let log_id = object.get("logId").cloned().unwrap_or(Value::Null);
    let message = object.get("returnMessage").cloned().unwrap_or(Value::Null);
    if !crate::js::truthy(Some(&log_id)) {
        return Created::NotLogged(message);
    }
    match log_id {
        Value::String(id) => Created::Logged(id),
        Value::Number(number) if numbers => Created::Logged(number.to_string()),
        other => {
            verdicts.broke(
                Property::NeverLost,
                format!(
                    "createCallLog returned logId {other}, not a string; App Connect keeps it as text: return the CRM's id as a string"
                ),
            );
            Created::Logged(crate::js::to_string(&other))
        }
    }
}

pub(super) fn check_body(
    verdicts: &mut Verdicts,
    after: &str,
    composed: &str,
    stored: Option<&str>,
) {
    match stored {
        Some(stored) => verdicts.check(Property::BodyStored, stored == composed, || {
            format!(
                "after {after}, the CRM's body is not composedLogDetails: {}",
                properties::first_difference(composed, stored)
            )
        }),
        None => verdicts.broke(
            Property::BodyStored,
            format!("after {after}, the CRM's activity has no body"),
        ),
    }
}

/// `getCallLog` gives back what the CRM holds, and the note the body holds
/// (`expected` is `None` when that note cannot be told).
pub(super) fn check_get(
    verdicts: &mut Verdicts,
    answer: &Settled,
    stored: Option<&str>,
    expected_note: Option<&properties::ExpectedNote>,
) {
    let Settled::Returned { value, .. } = answer else {
        return;
    };
    let info = value
        .as_ref()
        .and_then(|value| value.get("callLogInfo"))
        .filter(|info| info.is_object());
    let Some(info) = info else {
        let message = value
            .as_ref()
            .and_then(|value| value.get("returnMessage"))
            .map_or("none".into(), short_json);
        verdicts.broke(
            Property::GetCallLogRoundTrip,
            format!("getCallLog answered no callLogInfo (returnMessage {message}): App Connect cannot show or update the log"),
        );
        return;
    };
    let full_body = info.get("fullBody").and_then(Value::as_str);
    match (full_body, stored) {
        (Some(full), Some(stored)) if full == stored => verdicts.held(Property::GetCallLogRoundTrip),
        (Some(full), Some(stored)) => verdicts.broke(
            Property::GetCallLogRoundTrip,
            format!(
                "getCallLog's fullBody is not the body the CRM holds: {}",
                properties::first_difference(stored, full)
            ),
        ),
        (None, _) => verdicts.broke(
            Property::GetCallLogRoundTrip,
            "getCallLog's callLogInfo has no fullBody: App Connect core then composes the update on the note alone and the rest of the body is lost",
        ),
        (Some(_), None) => {}
    }
    if let Some(expected) = expected_note {
        let note = info.get("note");
        verdicts.check(
            Property::GetCallLogRoundTrip,
            expected.accepts(note),
            || match note {
                None => format!(
                    "getCallLog's callLogInfo has no note; {}",
                    expected.describe()
                ),
                Some(note) => format!(
                    "getCallLog's note is {}; {}",
                    short_json(note),
                    expected.describe()
                ),
            },
        );
    }
}

pub(super) fn short_json(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

pub(super) fn threw_reason(function: &str, thrown: &Thrown) -> String {
    let how = match thrown.kind.as_str() {
        "threw" => "threw",
        "rejected" => "rejected",
        "unserializable" => "returned what JSON cannot carry",
        _ => "failed",
    };
    let core = match thrown.status {
        Some(status) => format!(
            " (HTTP {status}; App Connect core shows its own warning instead of the connector's)"
        ),
        None => String::new(),
    };
    format!("{function} {how}: {}{core}", with_place(thrown))
}

/// The error's first line and the connector's frame it came from.
pub(super) fn with_place(thrown: &Thrown) -> String {
    let frame = thrown.stack.as_deref().and_then(|stack| {
        stack
            .lines()
            .skip(1)
            .map(str::trim)
            .find(|line| line.starts_with("at ") && !line.contains("node:internal"))
    });
    match frame {
        Some(frame) => format!("{} ({frame})", thrown.headline()),
        None => thrown.headline(),
    }
}
