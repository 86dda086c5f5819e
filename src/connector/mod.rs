//! The reference connector: App Connect's `createCallLog`, and
//! `updateCallLog` and `getCallLog`, written in Rust against the mock CRM's
//! HTTP API, and `createMessageLog` and `updateMessageLog` (`messages.rs`).
//!
//! It shows what a well-behaved connector does: one activity per call
//! session, the composed body written verbatim, and every failure turned into
//! a `returnMessage` without a `logId` — never a panic. It talks to the CRM
//! only over HTTP (`client`), never to the store. `proxy` is the same
//! connector speaking an App Connect proxy-connector config instead of
//! mockcrm's own API.

mod client;
mod messages;
mod proxy;
mod retry;

use serde_json::{json, Map, Value};

pub use client::{CrmClient, CrmError};
pub use messages::{
    conversation_log_id, create_message_log, succeeded as message_logged, update_message_log,
    MessageError,
};
pub use proxy::{Exchange, ProxyCallError, ProxyConnector};
pub use retry::RetryPolicy;

use crate::compose::{self, ComposeOptions, HostZone, UpdateStyle};
use crate::interface::{
    CallDuration, CallLogInfo, ComposeRequest, CreateCallLogInput, CreateCallLogOutput, Direction,
    GetCallLogOutput, LogFormat, MessageType, ReturnMessage, UpdateCallLogOutput, User,
};

/// The activity type the reference connector writes.
pub const ACTIVITY_TYPE: &str = "PhoneCommunication";

/// How the reference connector writes a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// The format of the body: used to compose when `composedLogDetails` is
    /// empty, and sent as the activity's `body_format`.
    pub format: LogFormat,
    /// Where App Connect's host formats a date when the user has no offset.
    pub host_zone: HostZone,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            format: LogFormat::Plain,
            host_zone: HostZone::UTC,
        }
    }
}

/// How the reference connector updates a log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateOptions {
    /// `core` writes what App Connect's core writes; `clean` updates each
    /// section in place.
    pub update_style: UpdateStyle,
    /// Where App Connect's host formats a date when the user has no offset.
    pub host_zone: HostZone,
}

/// Why a log could not be written; each becomes a warning for the user.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LogError {
    #[error("the call cannot be logged: {0}")]
    InvalidInput(String),
    #[error("this call session was already logged with different details; update that log instead of creating another")]
    AlreadyLogged,
    #[error(transparent)]
    Crm(#[from] CrmError),
}

/// `createCallLog`: writes one activity for the call and reports the outcome
/// in the interface's shape. Never panics; no `logId` means it failed.
pub async fn create_call_log(
    crm: &CrmClient,
    input: &CreateCallLogInput,
    options: LogOptions,
) -> CreateCallLogOutput {
    match write_activity(crm, input, options).await {
        Ok(log_id) => CreateCallLogOutput {
            log_id: Some(log_id),
            return_message: Some(success("Call logged")),
            extra_data_tracking: Some(extra_data_tracking(input)),
        },
        Err(error) => failure(&error),
    }
}

/// The warning a failed log shows the user.
pub fn failure(error: &LogError) -> CreateCallLogOutput {
    CreateCallLogOutput {
        log_id: None,
        return_message: Some(warning(error)),
        extra_data_tracking: None,
    }
}

fn warning(error: &LogError) -> ReturnMessage {
    ReturnMessage {
        message: capitalise(&error.to_string()),
        message_type: MessageType::Warning,
        ttl: 5000,
    }
}

fn success(message: &str) -> ReturnMessage {
    ReturnMessage {
        message: message.into(),
        message_type: MessageType::Success,
        ttl: 2000,
    }
}

/// `updateCallLog`: reads the activity, recomposes the new values on top of
/// its body (in the body's own format, in `options.update_style`), and
/// `PATCH`es it. `input` carries the new values in createCallLog's shape
/// (final duration, recording link, edited note, AI note, …); a non-empty
/// `composedLogDetails` is written verbatim instead.
pub async fn update_call_log(
    crm: &CrmClient,
    log_id: &str,
    input: &CreateCallLogInput,
    options: UpdateOptions,
) -> UpdateCallLogOutput {
    match patch_activity(crm, log_id, input, options).await {
        Ok(()) => UpdateCallLogOutput {
            updated_note: input.content.note.clone(),
            return_message: Some(success("Call log updated")),
        },
        Err(error) => UpdateCallLogOutput {
            updated_note: None,
            return_message: Some(warning(&error)),
        },
    }
}

async fn patch_activity(
    crm: &CrmClient,
    log_id: &str,
    input: &CreateCallLogInput,
    options: UpdateOptions,
) -> Result<(), LogError> {
    let auth = input.auth_header.as_deref();
    let current = crm.activity(auth, log_id).await?;
    let existing_body = current
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let format = current
        .get("body_format")
        .and_then(Value::as_str)
        .and_then(|format| format.parse::<LogFormat>().ok())
        .unwrap_or(LogFormat::Plain);
    let body = match input.composed_log_details.as_deref() {
        Some(body) if !body.is_empty() => body.to_owned(),
        _ => {
            let mut request = ComposeRequest::from(input);
            request.existing_body = Some(existing_body);
            let compose_options = ComposeOptions::new(format)
                .with_update_style(options.update_style)
                .with_host_zone(options.host_zone);
            compose::compose(&request, &compose_options)
                .map_err(|error| LogError::InvalidInput(error.to_string()))?
        }
    };
    let mut changes = Map::new();
    changes.insert("body".into(), Value::from(body));
    if let Some(subject) = input
        .content
        .call_log
        .custom_subject
        .as_deref()
        .filter(|subject| !subject.trim().is_empty())
    {
        changes.insert("subject".into(), Value::from(subject));
    }
    if let Some(duration) = &input.content.call_log.duration {
        changes.insert("duration".into(), duration_value(duration));
    }
    crm.update_activity(auth, log_id, &Value::Object(changes))
        .await?;
    Ok(())
}

/// `getCallLog`: the activity with its note parsed back out of the body.
/// `user` is App Connect's user, whose settings help tell a note line that
/// looks like a label from a real section; `None` reads every label as one.
pub async fn get_call_log(
    crm: &CrmClient,
    log_id: &str,
    auth_header: Option<&str>,
    user: Option<&User>,
) -> GetCallLogOutput {
    match crm.activity(auth_header, log_id).await {
        Ok(activity) => {
            let text = |field: &str| {
                activity
                    .get(field)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let full_body = text("body");
            let format = text("body_format")
                .parse::<LogFormat>()
                .unwrap_or(LogFormat::Plain);
            let note = compose::parse_note(&full_body, format, user).unwrap_or_default();
            GetCallLogOutput {
                call_log_info: Some(CallLogInfo {
                    subject: text("subject"),
                    note,
                    full_body,
                    full_log_response: activity,
                }),
                return_message: None,
            }
        }
        Err(error) => GetCallLogOutput {
            call_log_info: None,
            return_message: Some(warning(&LogError::Crm(error))),
        },
    }
}

async fn write_activity(
    crm: &CrmClient,
    input: &CreateCallLogInput,
    options: LogOptions,
) -> Result<String, LogError> {
    let activity = activity_for(input, options)?;
    let key = idempotency_key(input);
    let created = crm
        .create_activity(input.auth_header.as_deref(), key.as_deref(), &activity)
        .await
        .map_err(|error| match error.code() {
            Some("idempotency_mismatch") => LogError::AlreadyLogged,
            _ => LogError::Crm(error),
        })?;
    match created.get("id").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_owned()),
        _ => Err(LogError::Crm(CrmError::BadResponse {
            status: 201,
            detail: "the created activity has no id".into(),
        })),
    }
}

/// The key that makes a retried or repeated create of one call session
/// write one activity: the RingCentral account and the call session. The
/// CRM scopes keys by organisation as well. No session id, no key.
pub fn idempotency_key(input: &CreateCallLogInput) -> Option<String> {
    let call = &input.content.call_log;
    let session = call
        .session_id
        .as_deref()
        .or(call.telephony_session_id.as_deref())
        .filter(|session| !session.is_empty())?;
    let account = input.hashed_account_id.as_deref().unwrap_or("-");
    Some(format!("createCallLog:{account}:{session}"))
}

/// The `POST /activity` body for a call (`GET /openapi.json` describes it).
pub fn activity_for(input: &CreateCallLogInput, options: LogOptions) -> Result<Value, LogError> {
    let call = &input.content.call_log;
    let body = match input.composed_log_details.as_deref() {
        Some(body) if !body.is_empty() => body.to_owned(),
        _ => compose::compose(
            &ComposeRequest::from(input),
            &ComposeOptions::new(options.format).with_host_zone(options.host_zone),
        )
        .map_err(|error| LogError::InvalidInput(error.to_string()))?,
    };
    let mut activity = Map::new();
    activity.insert("subject".into(), Value::from(subject(input)));
    activity.insert("body".into(), Value::from(body));
    activity.insert("body_format".into(), Value::from(options.format.mime()));
    activity.insert("type".into(), Value::from(ACTIVITY_TYPE));
    if let Some(start) = &call.start_time {
        let received_at = start.to_utc().map_err(LogError::InvalidInput)?;
        activity.insert(
            "received_at".into(),
            Value::from(received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        );
    }
    let optional = [
        ("session_id", call.session_id.clone()),
        ("contact_id", input.contact_info.id.clone()),
        ("direction", call.direction.map(|d| d.as_str().to_owned())),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            activity.insert(name.into(), Value::from(value));
        }
    }
    if let Some(duration) = &call.duration {
        activity.insert("duration".into(), duration_value(duration));
    }
    Ok(Value::Object(activity))
}

fn duration_value(duration: &CallDuration) -> Value {
    match duration {
        CallDuration::Seconds(seconds) => Value::from(*seconds),
        CallDuration::Text(text) => Value::from(text.clone()),
    }
}

/// `callLog.customSubject`, else "<direction> Call to|from <name> [<phone>]".
pub fn subject(input: &CreateCallLogInput) -> String {
    if let Some(subject) = input
        .content
        .call_log
        .custom_subject
        .as_deref()
        .filter(|subject| !subject.trim().is_empty())
    {
        return subject.to_owned();
    }
    let lead = match input.content.call_log.direction {
        Some(Direction::Outbound) => "Outbound Call to",
        Some(Direction::Inbound) => "Inbound Call from",
        None => "Call with",
    };
    let contact = &input.contact_info;
    let name = contact
        .name
        .as_deref()
        .filter(|name| !name.trim().is_empty());
    let phone = contact
        .phone_number
        .as_deref()
        .filter(|phone| !phone.trim().is_empty());
    match (name, phone) {
        (Some(name), Some(phone)) => format!("{lead} {name} [{phone}]"),
        (Some(only), None) | (None, Some(only)) => format!("{lead} {only}"),
        (None, None) => format!("{lead} unknown contact"),
    }
}

/// Whether an AI note and a transcript went into the log, as App Connect's
/// own connectors report it.
fn extra_data_tracking(input: &CreateCallLogInput) -> Value {
    let user = input.content.user.as_ref();
    let present = |text: &Option<String>| text.as_deref().is_some_and(|t| !t.is_empty());
    json!({
        "withSmartNoteLog": present(&input.content.ai_note) && compose::setting_enabled(user, "addCallLogAiNote", true),
        "withTranscript": present(&input.content.transcript) && compose::setting_enabled(user, "addCallLogTranscript", true),
    })
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
