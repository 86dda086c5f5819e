//! The log operations' variables: call logs (subject, times, RingSense
//! defaults), their dispositions, and message logs.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{arg, call, copy, field, iso, put, ring_sense, Args, ContextError, OperationCall};
use crate::proxy::{js, path, Operation};

/// `createCallLog({user, contactInfo, authHeader, callLog, note, …})`.
pub fn create_call_log(args: &Args, now: DateTime<Utc>) -> Result<OperationCall, ContextError> {
    let op = Operation::CreateCallLog;
    let call_log = match arg(args, "callLog") {
        Some(v @ Value::Object(_)) => v,
        None | Some(Value::Null) => {
            return Err(ContextError::Missing {
                operation: op,
                field: "callLog",
            })
        }
        Some(_) => {
            return Err(ContextError::WrongType {
                operation: op,
                field: "callLog",
                expected: "an object",
            })
        }
    };
    let mut inputs = Map::new();
    copy(
        &mut inputs,
        args,
        &[
            "contactInfo",
            "callLog",
            "note",
            "additionalSubmission",
            "aiNote",
            "transcript",
            "voicemailLink",
            "voicemailMessageId",
            "composedLogDetails",
            "hashedAccountId",
            "isFromSSCL",
        ],
    );
    let subject = match field(Some(call_log), "customSubject") {
        Some(subject) if !subject.is_null() => subject.clone(),
        _ => {
            let direction = field(Some(call_log), "direction");
            let contact = match arg(args, "contactInfo") {
                Some(c) if !c.is_null() => c,
                _ => {
                    return Err(ContextError::Missing {
                        operation: op,
                        field: "contactInfo",
                    })
                }
            };
            let to_from = if direction.and_then(Value::as_str) == Some("Outbound") {
                "to"
            } else {
                "from"
            };
            Value::from(format!(
                "{} Call {to_from} {}",
                js::to_string_or_undefined(direction),
                js::to_string_or_undefined(path::get(contact, "name").as_deref()),
            ))
        }
    };
    inputs.insert("subject".into(), subject);
    let start = field(Some(call_log), "startTime");
    inputs.insert("startTime".into(), iso(start, None, now));
    inputs.insert(
        "endTime".into(),
        iso(start, field(Some(call_log), "duration"), now),
    );
    ring_sense(&mut inputs, args);
    Ok(call(op, inputs, args, true))
}

/// `getCallLog({user, callLogId, contactId, authHeader})`.
pub fn get_call_log(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    put(
        &mut inputs,
        "thirdPartyLogId",
        arg(args, "callLogId").cloned(),
    );
    copy(&mut inputs, args, &["contactId"]);
    call(Operation::GetCallLog, inputs, args, true)
}

/// `updateCallLog({user, existingCallLog, authHeader, recordingLink, …})`.
pub fn update_call_log(args: &Args, now: DateTime<Utc>) -> OperationCall {
    let mut inputs = Map::new();
    put(
        &mut inputs,
        "thirdPartyLogId",
        field(arg(args, "existingCallLog"), "thirdPartyLogId").cloned(),
    );
    copy(
        &mut inputs,
        args,
        &[
            "existingCallLog",
            "recordingLink",
            "recordingDownloadLink",
            "voicemailLink",
            "voicemailMessageId",
            "subject",
            "note",
        ],
    );
    let start = arg(args, "startTime");
    inputs.insert("startTime".into(), iso(start, None, now));
    inputs.insert("endTime".into(), iso(start, arg(args, "duration"), now));
    copy(
        &mut inputs,
        args,
        &[
            "duration",
            "result",
            "aiNote",
            "transcript",
            "legs",
            "additionalSubmission",
            "composedLogDetails",
            "existingCallLogDetails",
            "hashedAccountId",
            "isFromSSCL",
        ],
    );
    ring_sense(&mut inputs, args);
    call(Operation::UpdateCallLog, inputs, args, true)
}

/// `upsertCallDisposition({user, existingCallLog, authHeader, dispositions})`.
pub fn upsert_call_disposition(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["existingCallLog", "dispositions"]);
    put(
        &mut inputs,
        "thirdPartyLogId",
        field(arg(args, "existingCallLog"), "thirdPartyLogId").cloned(),
    );
    call(Operation::UpsertCallDisposition, inputs, args, true)
}

fn message(args: &Args, op: Operation) -> Result<&Value, ContextError> {
    match arg(args, "message") {
        None | Some(Value::Null) => Err(ContextError::Missing {
            operation: op,
            field: "message",
        }),
        Some(m) => Ok(m),
    }
}

/// `createMessageLog({user, contactInfo, authHeader, message, …})`.
pub fn create_message_log(args: &Args, now: DateTime<Utc>) -> Result<OperationCall, ContextError> {
    let op = Operation::CreateMessageLog;
    let message = message(args, op)?;
    let mut inputs = Map::new();
    copy(
        &mut inputs,
        args,
        &[
            "contactInfo",
            "message",
            "additionalSubmission",
            "recordingLink",
            "faxDocLink",
            "faxDownloadLink",
            "imageLink",
            "videoLink",
        ],
    );
    inputs.insert(
        "creationTime".into(),
        iso(path::get(message, "creationTime").as_deref(), None, now),
    );
    Ok(call(op, inputs, args, true))
}

/// `updateMessageLog({user, contactInfo, existingMessageLog, message, …})`.
pub fn update_message_log(args: &Args, now: DateTime<Utc>) -> Result<OperationCall, ContextError> {
    let op = Operation::UpdateMessageLog;
    let message = message(args, op)?;
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["contactInfo", "existingMessageLog"]);
    put(
        &mut inputs,
        "thirdPartyLogId",
        field(arg(args, "existingMessageLog"), "thirdPartyLogId").cloned(),
    );
    copy(
        &mut inputs,
        args,
        &["message", "additionalSubmission", "imageLink", "videoLink"],
    );
    inputs.insert(
        "creationTime".into(),
        iso(path::get(message, "creationTime").as_deref(), None, now),
    );
    Ok(call(op, inputs, args, true))
}
