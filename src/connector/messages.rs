//! The reference connector's `createMessageLog` and `updateMessageLog`:
//! one message log per conversation and day, each message in it once.
//!
//! Core hands `createMessageLog` the first message of a conversation's day
//! and `updateMessageLog` every later one, with the log it recorded
//! (`existingMessageLog.thirdPartyLogId`). Either may come again: core
//! retries a message whose call failed, also when the CRM had in fact
//! written it and only the answer was lost. So neither writes blindly: a
//! create first looks for the conversation's log (`GET
//! /activity?conversation_log_id=`) and adds to it when there is one, and
//! both skip a message whose id the log already holds. A write carries the
//! log's whole list of message ids, so sending it twice is harmless, and a
//! create's `Idempotency-Key` names the conversation and the message, so
//! the CRM answers a retried create with the log it made.
//!
//! Bodies follow App Connect's built-in connectors (`compose::message_log`)
//! in plain text; a shared-SMS conversation's subject and body are core's,
//! written as they come in the connector's format. Never panics: every
//! failure is a warning `returnMessage`.

use serde_json::{Map, Value};

use super::{CrmClient, CrmError, LogOptions};
use crate::compose::{self, MessageLogError};
use crate::interface::{
    CreateMessageLogOutput, LogFormat, MessageLogInput, MessageType, ReturnMessage,
    UpdateMessageLogOutput,
};

/// Why a message could not be logged; each becomes a warning for the user.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MessageError {
    #[error("the message cannot be logged: {0}")]
    InvalidInput(#[from] MessageLogError),
    #[error("the message cannot be logged: updateMessageLog needs existingMessageLog.thirdPartyLogId, the logId createMessageLog answered")]
    NoExistingLog,
    #[error("the message cannot be logged: the CRM answered a message log without {0}")]
    BadLog(&'static str),
    #[error("this message was already logged with different details; update that log instead of creating another")]
    AlreadyLogged,
    #[error(transparent)]
    Crm(#[from] CrmError),
}

/// `createMessageLog`: the message's conversation log, created or (when a
/// log of that conversation and day exists) added to. No `logId` means it
/// failed.
pub async fn create_message_log(
    crm: &CrmClient,
    input: &MessageLogInput,
    options: LogOptions,
) -> CreateMessageLogOutput {
    let result = if input.shared_sms_log_content.is_some() {
        create_shared(crm, input, options).await
    } else {
        create_or_add(crm, input, options).await
    };
    match result {
        Ok(log_id) => CreateMessageLogOutput {
            log_id: Some(log_id),
            return_message: Some(message(MessageType::Success, "Message logged", 1000)),
        },
        Err(error) => CreateMessageLogOutput {
            log_id: None,
            return_message: Some(warning(&error)),
        },
    }
}

/// `updateMessageLog`: the message added to `existingMessageLog`'s log
/// unless it is there already, or a shared-SMS log's body replaced by the
/// one core composed.
pub async fn update_message_log(
    crm: &CrmClient,
    input: &MessageLogInput,
    options: LogOptions,
) -> UpdateMessageLogOutput {
    match update(crm, input, options).await {
        Ok(()) => UpdateMessageLogOutput {
            return_message: Some(message(MessageType::Success, "Message log updated", 1000)),
        },
        Err(error) => UpdateMessageLogOutput {
            return_message: Some(warning(&error)),
        },
    }
}

/// Whether an answer of either call says the message went in.
pub fn succeeded(return_message: Option<&ReturnMessage>) -> bool {
    return_message.is_some_and(|m| m.message_type == MessageType::Success)
}

fn message(message_type: MessageType, text: &str, ttl: u64) -> ReturnMessage {
    ReturnMessage {
        message: text.to_owned(),
        message_type,
        ttl,
    }
}

fn warning(error: &MessageError) -> ReturnMessage {
    message(
        MessageType::Warning,
        &super::capitalise(&error.to_string()),
        5000,
    )
}

/// The conversation and day a message belongs to, as core keys its logs:
/// `<conversationId>-<YYYY-MM-DD>` (the day where the user is), with the
/// `-<contactId>` that core gives each contact's log of a group SMS (whose
/// message ids it has suffixed the same way). A voicemail or a fax is a
/// conversation of its own.
pub fn conversation_log_id(
    input: &MessageLogInput,
    options: LogOptions,
) -> Result<String, MessageLogError> {
    let message = input.message.as_ref().ok_or(MessageLogError::NoMessage)?;
    let message_id = message
        .id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or(MessageLogError::Missing("id"))?;
    let conversation = message
        .conversation_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .unwrap_or(message_id);
    let day = compose::message_day(
        compose::creation_time(message)?,
        input.user.as_ref(),
        &options.host_zone,
    )?;
    let mut id = format!("{conversation}-{day}");
    if let Some(contact) = input.contact_info.id.as_deref() {
        let suffix = format!("-{contact}");
        if message_id.ends_with(&suffix) && !conversation.ends_with(&suffix) {
            id.push_str(&suffix);
        }
    }
    Ok(id)
}

fn message_id(input: &MessageLogInput) -> Result<String, MessageError> {
    input
        .message
        .as_ref()
        .ok_or(MessageLogError::NoMessage)?
        .id
        .clone()
        .filter(|id| !id.is_empty())
        .ok_or(MessageError::InvalidInput(MessageLogError::Missing("id")))
}

async fn create_or_add(
    crm: &CrmClient,
    input: &MessageLogInput,
    options: LogOptions,
) -> Result<String, MessageError> {
    let auth = input.auth_header.as_deref();
    let message_id = message_id(input)?;
    let conversation = conversation_log_id(input, options)?;
    // The oldest is the conversation's log: a later one would be a split.
    if let Some(log) = crm.conversation_logs(auth, &conversation).await?.last() {
        let log_id = text(log, "id").ok_or(MessageError::BadLog("an id"))?;
        add_to(crm, input, options, log, &message_id).await?;
        return Ok(log_id);
    }
    let user_name = user_name(crm, auth).await?;
    let draft = compose::compose_message_log(input, &user_name, &options.host_zone)?;
    let message = input.message.as_ref().ok_or(MessageLogError::NoMessage)?;
    let received_at =
        compose::creation_time(message)?.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut activity = Map::new();
    activity.insert("subject".into(), Value::from(draft.subject));
    activity.insert("body".into(), Value::from(draft.body));
    activity.insert("body_format".into(), Value::from(LogFormat::Plain.mime()));
    activity.insert("type".into(), Value::from(draft.kind.activity_type()));
    activity.insert("received_at".into(), Value::from(received_at));
    activity.insert(
        "conversation_log_id".into(),
        Value::from(conversation.as_str()),
    );
    activity.insert("message_ids".into(), Value::from(vec![message_id.as_str()]));
    if let Some(contact) = input.contact_info.id.as_deref() {
        activity.insert("contact_id".into(), Value::from(contact));
    }
    if let Some(direction) = message.direction.as_deref().filter(|d| !d.is_empty()) {
        activity.insert("direction".into(), Value::from(direction));
    }
    let account = input.hashed_account_id.as_deref().unwrap_or("-");
    let key = format!("createMessageLog:{account}:{conversation}:{message_id}");
    let created = crm
        .create_activity(auth, Some(&key), &Value::Object(activity))
        .await
        .map_err(|error| match error.code() {
            Some("idempotency_mismatch") => MessageError::AlreadyLogged,
            _ => MessageError::Crm(error),
        })?;
    text(&created, "id").ok_or(MessageError::BadLog("an id"))
}

/// A shared-SMS conversation's first log, with core's subject and body.
/// Core names no conversation here, so there is nothing to look up or key
/// a retry by: the create is sent once.
async fn create_shared(
    crm: &CrmClient,
    input: &MessageLogInput,
    options: LogOptions,
) -> Result<String, MessageError> {
    let content = input
        .shared_sms_log_content
        .as_ref()
        .ok_or(MessageLogError::NoMessage)?;
    let mut activity = Map::new();
    let subject = content
        .subject
        .clone()
        .filter(|subject| !subject.trim().is_empty())
        .ok_or(MessageLogError::Missing("sharedSMSLogContent.subject"))?;
    activity.insert("subject".into(), Value::from(subject));
    activity.insert(
        "body".into(),
        Value::from(content.body.clone().unwrap_or_default()),
    );
    activity.insert("body_format".into(), Value::from(options.format.mime()));
    activity.insert("type".into(), Value::from("SMS"));
    if let Some(contact) = input.contact_info.id.as_deref() {
        activity.insert("contact_id".into(), Value::from(contact));
    }
    let created = crm
        .create_activity(input.auth_header.as_deref(), None, &Value::Object(activity))
        .await?;
    text(&created, "id").ok_or(MessageError::BadLog("an id"))
}

async fn update(
    crm: &CrmClient,
    input: &MessageLogInput,
    options: LogOptions,
) -> Result<(), MessageError> {
    let auth = input.auth_header.as_deref();
    let log_id = input
        .existing_message_log
        .as_ref()
        .and_then(|existing| existing.third_party_log_id.as_deref())
        .filter(|id| !id.is_empty())
        .ok_or(MessageError::NoExistingLog)?;
    if let Some(content) = &input.shared_sms_log_content {
        // Core composed the whole conversation again: it replaces the body.
        let mut changes = Map::new();
        changes.insert(
            "body".into(),
            Value::from(content.body.clone().unwrap_or_default()),
        );
        crm.update_activity(auth, log_id, &Value::Object(changes))
            .await?;
        return Ok(());
    }
    let message_id = message_id(input)?;
    let log = crm.activity(auth, log_id).await?;
    add_to(crm, input, options, &log, &message_id).await
}

/// Adds the input's message to `log` unless the log holds it already.
async fn add_to(
    crm: &CrmClient,
    input: &MessageLogInput,
    options: LogOptions,
    log: &Value,
    message_id: &str,
) -> Result<(), MessageError> {
    let auth = input.auth_header.as_deref();
    let log_id = text(log, "id").ok_or(MessageError::BadLog("an id"))?;
    let mut message_ids: Vec<Value> = match log.get("message_ids") {
        Some(Value::Array(ids)) => ids.clone(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(MessageError::BadLog("a list of message_ids")),
    };
    if message_ids.iter().any(|id| id.as_str() == Some(message_id)) {
        return Ok(());
    }
    let user_name = user_name(crm, auth).await?;
    let body = compose::add_message(
        &text(log, "body").unwrap_or_default(),
        input,
        &user_name,
        &options.host_zone,
    )?;
    message_ids.push(Value::from(message_id));
    let mut changes = Map::new();
    changes.insert("body".into(), Value::from(body));
    changes.insert("message_ids".into(), Value::Array(message_ids));
    crm.update_activity(auth, &log_id, &Value::Object(changes))
        .await?;
    Ok(())
}

/// The CRM user's name, as the built-in connectors ask their CRM for it.
async fn user_name(crm: &CrmClient, auth: Option<&str>) -> Result<String, MessageError> {
    let me = crm.me(auth).await?;
    Ok(text(&me, "name")
        .or_else(|| text(&me, "id"))
        .unwrap_or_else(|| "CRM user".to_owned()))
}

fn text(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_conversation_log_id_is_the_conversation_and_the_users_day() {
        let input =
            |value: Value| -> MessageLogInput { serde_json::from_value(value).expect("input") };
        let options = LogOptions::default();
        let sms = input(json!({
            "user": {"timezoneOffset": "-05:00"},
            "contactInfo": {"id": "c-1"},
            "message": {"id": 11, "conversationId": "77", "creationTime": "2025-0604T03:00:00Z"}
        }));
        assert!(matches!(
            conversation_log_id(&sms, options),
            Err(MessageLogError::CreationTime(_))
        ));
        let sms = input(json!({
            "user": {"timezoneOffset": "-05:00"},
            "contactInfo": {"id": "c-1"},
            "message": {"id": 11, "conversationId": "77", "creationTime": "2025-06-04T03:00:00Z"}
        }));
        assert_eq!(
            conversation_log_id(&sms, options).as_deref(),
            Ok("77-2025-06-03")
        );
        let group = input(json!({
            "contactInfo": {"id": "c-1"},
            "message": {"id": "11-c-1", "conversationId": "77", "creationTime": "2025-06-04T03:00:00Z"}
        }));
        assert_eq!(
            conversation_log_id(&group, options).as_deref(),
            Ok("77-2025-06-04-c-1")
        );
        let voicemail = input(json!({
            "message": {"id": 12, "creationTime": "2025-06-04T03:00:00Z"}
        }));
        assert_eq!(
            conversation_log_id(&voicemail, options).as_deref(),
            Ok("12-2025-06-04")
        );
        assert_eq!(
            conversation_log_id(&input(json!({})), options),
            Err(MessageLogError::NoMessage)
        );
    }
}
