//! The variables App Connect hands each operation's templates.
//!
//! For every interface, index.ts takes the arguments App Connect's core
//! passes the connector function (`{user, contactInfo, authHeader, callLog,
//! …}`) and builds the operation's inputs from them: createCallLog's
//! `subject` from `customSubject` or "<direction> Call to|from <name>",
//! `startTime`/`endTime` as UTC ISO strings, empty RingSense fields, and so
//! on. These builders do the same, from the arguments as JSON, so numbers
//! stay numbers. `render` then adds `user`, `authHeader`, `apiKey` and
//! `secretKey`.
//!
//! This file holds what every operation shares and the user and licence
//! operations; `contacts.rs` and `logs.rs` build the contact and log
//! operations' inputs, and `core_args.rs` the arguments core passes the log
//! functions, from mockcrm's own inputs.
//!
//! Pure: the current time is a parameter (moment reads an absent start time
//! as now).

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::{js, Operation};

/// One operation call: its inputs, and the `user` and `authHeader` index.ts
/// hands `performRequest` alongside them.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationCall {
    pub operation: Operation,
    pub inputs: Map<String, Value>,
    /// `None` for `undefined`.
    pub user: Option<Value>,
    pub auth_header: Option<String>,
}

/// Arguments App Connect itself could not build inputs from (its JavaScript
/// throws a TypeError for each of these).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error("{operation} needs {field}: App Connect reads it and fails without it")]
    Missing {
        operation: Operation,
        field: &'static str,
    },
    #[error("{operation}: {field} must be {expected}")]
    WrongType {
        operation: Operation,
        field: &'static str,
        expected: &'static str,
    },
}

/// The JavaScript arguments object; absent keys are `undefined`.
type Args = Map<String, Value>;

fn arg<'a>(args: &'a Args, key: &str) -> Option<&'a Value> {
    args.get(key)
}

/// Copies the named arguments that are defined.
fn copy(inputs: &mut Map<String, Value>, args: &Args, keys: &[&str]) {
    for key in keys {
        if let Some(value) = args.get(*key) {
            inputs.insert((*key).to_owned(), value.clone());
        }
    }
}

fn put(inputs: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        inputs.insert(key.to_owned(), value);
    }
}

/// `value?.key`.
fn field<'a>(value: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    match value {
        Some(Value::Object(map)) => map.get(key),
        _ => None,
    }
}

/// `moment(x).utc()[.add(d, 'seconds')].toISOString()`: a string, or `null`
/// for an invalid date.
fn iso(start: Option<&Value>, add: Option<&Value>, now: DateTime<Utc>) -> Value {
    js::moment_iso(start, add, now).map_or(Value::Null, Value::String)
}

/// The RingSense fields default to `''` when undefined (a default
/// parameter: `null` stays `null`).
fn ring_sense(inputs: &mut Map<String, Value>, args: &Args) {
    for key in [
        "ringSenseTranscript",
        "ringSenseSummary",
        "ringSenseAIScore",
        "ringSenseBulletedSummary",
        "ringSenseLink",
    ] {
        let value = args.get(key).cloned().unwrap_or_else(|| Value::from(""));
        inputs.insert(key.to_owned(), value);
    }
}

fn auth_header(args: &Args) -> Option<String> {
    arg(args, "authHeader")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn call(
    operation: Operation,
    inputs: Map<String, Value>,
    args: &Args,
    with_auth: bool,
) -> OperationCall {
    OperationCall {
        operation,
        inputs,
        user: arg(args, "user").cloned(),
        auth_header: if with_auth { auth_header(args) } else { None },
    }
}

/// `getUserInfo({authHeader, hostname, additionalInfo, platform, apiKey,
/// userEmail})`: performRequest gets `user: {}`.
pub fn get_user_info(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(
        &mut inputs,
        args,
        &[
            "additionalInfo",
            "apiKey",
            "hostname",
            "platform",
            "userEmail",
        ],
    );
    OperationCall {
        operation: Operation::GetUserInfo,
        inputs,
        user: Some(json!({})),
        auth_header: auth_header(args),
    }
}

/// `getUserList({user, authHeader})`.
pub fn get_user_list(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["user"]);
    call(Operation::GetUserList, inputs, args, true)
}

/// `unAuthorize({user})`: no inputs, and no authHeader.
pub fn un_authorize(args: &Args) -> OperationCall {
    call(Operation::UnAuthorize, Map::new(), args, false)
}

/// `getLicenseStatus({userId, platform})`: App Connect loads the user
/// itself; pass it as `user`. No authHeader.
pub fn get_license_status(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["userId", "platform"]);
    call(Operation::GetLicenseStatus, inputs, args, false)
}

/// The call for any operation, from the arguments App Connect passes it.
pub fn for_operation(
    op: Operation,
    args: &Args,
    now: DateTime<Utc>,
) -> Result<OperationCall, ContextError> {
    Ok(match op {
        Operation::GetUserInfo => get_user_info(args),
        Operation::FindContact => find_contact(args)?,
        Operation::FindContactWithName => find_contact_with_name(args),
        Operation::CreateContact => create_contact(args),
        Operation::CreateCallLog => create_call_log(args, now)?,
        Operation::GetCallLog => get_call_log(args),
        Operation::UpdateCallLog => update_call_log(args, now),
        Operation::UpsertCallDisposition => upsert_call_disposition(args),
        Operation::CreateMessageLog => create_message_log(args, now)?,
        Operation::UpdateMessageLog => update_message_log(args, now)?,
        Operation::GetUserList => get_user_list(args),
        Operation::GetLicenseStatus => get_license_status(args),
        Operation::UnAuthorize => un_authorize(args),
    })
}

mod contacts;
mod core_args;
mod logs;

pub use contacts::{create_contact, find_contact, find_contact_with_name};
pub use core_args::{get_call_log_args, update_call_log_args};
pub use logs::{
    create_call_log, create_message_log, get_call_log, update_call_log, update_message_log,
    upsert_call_disposition,
};

#[cfg(test)]
mod tests;
