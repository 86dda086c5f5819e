//! What a request says about the activity it writes or names: the values
//! its templates bound, read for the body, subject, contact, time, session,
//! direction, duration, note, message and log id.
//!
//! Pure: bindings in, a meaning out.

use std::borrow::Cow;

use serde_json::Value;

use crate::proxy::template::Bindings;
use crate::proxy::{js, Operation};

/// What a request says about the activity it writes or names, from the
/// values its templates bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meaning {
    /// `composedLogDetails` (for a message log, `message.subject` if no
    /// composed body was sent).
    pub body: Option<String>,
    pub subject: Option<String>,
    /// `contactInfo.id`, else getCallLog's `contactId`.
    pub contact_id: Option<Value>,
    /// `startTime`, else `callLog.startTime`, else a message's `creationTime`.
    pub start_time: Option<Value>,
    pub session_id: Option<Value>,
    /// `callLog.duration`, else `duration`.
    pub duration: Option<Value>,
    /// `callLog.direction`, else `message.direction`.
    pub direction: Option<String>,
    pub note: Option<String>,
    /// `message.id`: present for a message log.
    pub message_id: Option<Value>,
    /// `thirdPartyLogId`, else `existingCallLog.thirdPartyLogId` or
    /// `existingMessageLog.thirdPartyLogId`.
    pub log_id: Option<Value>,
    /// The conversation and day a message log records: `conversationLogId`
    /// or `existingMessageLog.conversationLogId` (core's own key, which
    /// App Connect's engine hands only to updateMessageLog), else made as
    /// core makes it from `message.conversationId` and the day of the
    /// message's time (UTC: the engine does not hand the user's zone).
    pub conversation_log_id: Option<String>,
}

impl Meaning {
    /// A message log (by its operation, or because it carries `message.id`).
    pub fn is_message(&self, op: Operation) -> bool {
        op.is_message_log() || self.message_id.is_some()
    }
}

fn first(bindings: &Bindings, paths: &[&str]) -> Option<Value> {
    paths.iter().find_map(|p| {
        bindings
            .get(p)
            .filter(|v| !v.is_null())
            .map(Cow::into_owned)
    })
}

fn text(value: Option<Value>) -> Option<String> {
    value.map(|v| match v {
        Value::String(s) => s,
        other => js::to_string(&other),
    })
}

/// The activity's meaning from a request's bound values.
pub fn meaning(op: Operation, bindings: &Bindings) -> Meaning {
    let body = first(bindings, &["composedLogDetails"]).or_else(|| {
        op.is_message_log()
            .then(|| first(bindings, &["message.subject"]))
            .flatten()
    });
    Meaning {
        body: text(body),
        subject: text(first(bindings, &["subject", "callLog.customSubject"])),
        contact_id: first(bindings, &["contactInfo.id", "contactId"]),
        start_time: first(
            bindings,
            &[
                "startTime",
                "callLog.startTime",
                "creationTime",
                "message.creationTime",
            ],
        ),
        session_id: first(bindings, &["callLog.sessionId"]),
        duration: first(bindings, &["callLog.duration", "duration"]),
        direction: text(first(bindings, &["callLog.direction", "message.direction"])),
        note: text(first(bindings, &["note"])),
        message_id: first(bindings, &["message.id"]),
        log_id: first(
            bindings,
            &[
                "thirdPartyLogId",
                "existingCallLog.thirdPartyLogId",
                "existingMessageLog.thirdPartyLogId",
            ],
        ),
        conversation_log_id: conversation_log_id(bindings),
    }
}

/// See `Meaning::conversation_log_id`.
fn conversation_log_id(bindings: &Bindings) -> Option<String> {
    let given = text(first(
        bindings,
        &["conversationLogId", "existingMessageLog.conversationLogId"],
    ));
    if given.is_some() {
        return given;
    }
    let conversation = text(first(
        bindings,
        &["message.conversationId", "message.conversation.id"],
    ))?;
    let time = text(first(bindings, &["message.creationTime", "creationTime"]))?;
    let day = chrono::DateTime::parse_from_rfc3339(time.trim())
        .ok()?
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%d");
    Some(format!("{conversation}-{day}"))
}
