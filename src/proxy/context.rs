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
//! Pure: the current time is a parameter (moment reads an absent start time
//! as now).

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::interface::CreateCallLogInput;

use super::{js, path, Operation};

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

/// `findContact({user, authHeader, phoneNumber, overridingFormat,
/// isExtension})`. App Connect adds `parsedPhoneNumber` from the
/// awesome-phonenumber library; a `parsedPhoneNumber` argument is used as
/// given, else the fields this module can work out are filled
/// (see `parsed_phone_number`).
pub fn find_contact(args: &Args) -> Result<OperationCall, ContextError> {
    let phone = match arg(args, "phoneNumber") {
        Some(Value::String(phone)) => phone,
        None | Some(Value::Null) => {
            return Err(ContextError::Missing {
                operation: Operation::FindContact,
                field: "phoneNumber",
            })
        }
        Some(_) => {
            return Err(ContextError::WrongType {
                operation: Operation::FindContact,
                field: "phoneNumber",
                expected: "a string",
            })
        }
    };
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["phoneNumber"]);
    let parsed = match arg(args, "parsedPhoneNumber") {
        Some(given) => given.clone(),
        // A `+` arrives as a space in a query string; App Connect puts the
        // first one back before parsing.
        None => parsed_phone_number(&phone.replacen(' ', "+", 1)),
    };
    inputs.insert("parsedPhoneNumber".into(), parsed);
    copy(&mut inputs, args, &["overridingFormat", "isExtension"]);
    Ok(call(Operation::FindContact, inputs, args, true))
}

/// The part of awesome-phonenumber's `parsePhoneNumber` result this module
/// can work out without its metadata: `number.input` always; `number.e164`
/// for `+` and 8 to 15 digits; and for North American numbers (`+1` and ten
/// digits) also `valid`, `countryCode`, `number.international`,
/// `number.national`, `number.rfc3966` and `number.significant`.
pub fn parsed_phone_number(text: &str) -> Value {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let plain = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
    let mut number = Map::new();
    number.insert("input".into(), Value::from(text));
    let mut parsed = Map::new();
    if plain && text.trim_start().starts_with('+') && (8..=15).contains(&digits.len()) {
        number.insert("e164".into(), Value::from(format!("+{digits}")));
        if digits.len() == 11 && digits.starts_with('1') {
            let (area, exchange, line) = (&digits[1..4], &digits[4..7], &digits[7..]);
            number.insert(
                "international".into(),
                Value::from(format!("+1 {area}-{exchange}-{line}")),
            );
            number.insert(
                "national".into(),
                Value::from(format!("({area}) {exchange}-{line}")),
            );
            number.insert(
                "rfc3966".into(),
                Value::from(format!("tel:+1-{area}-{exchange}-{line}")),
            );
            number.insert("significant".into(), Value::from(&digits[1..]));
            parsed.insert("valid".into(), Value::Bool(true));
            parsed.insert("countryCode".into(), Value::from(1));
        }
    }
    parsed.insert("number".into(), Value::Object(number));
    Value::Object(parsed)
}

/// `createContact({user, authHeader, phoneNumber, newContactName,
/// newContactType, additionalSubmission})`.
pub fn create_contact(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(
        &mut inputs,
        args,
        &[
            "phoneNumber",
            "newContactName",
            "newContactType",
            "additionalSubmission",
        ],
    );
    call(Operation::CreateContact, inputs, args, true)
}

/// `findContactWithName({user, authHeader, name})`.
pub fn find_contact_with_name(args: &Args) -> OperationCall {
    let mut inputs = Map::new();
    copy(&mut inputs, args, &["name"]);
    call(Operation::FindContactWithName, inputs, args, true)
}

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

// Unused until `mockcrm contract` (issue #12) drives proxy configs with its
// generated typed inputs; the command line and the tests keep the input
// file's own JSON instead, as the comment below advises.
#[allow(dead_code)]
/// createCallLog's arguments from mockcrm's typed input. Prefer the input
/// file's own JSON where it is at hand: the typed input has turned numeric
/// ids into strings and a numeric `ringSenseAIScore` into text, which a
/// whole-expression template would send as strings.
pub fn create_call_log_args(input: &CreateCallLogInput) -> Args {
    match serde_json::to_value(input) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// getCallLog's arguments.
pub fn get_call_log_args(
    user: Option<&Value>,
    log_id: &str,
    contact_id: Option<&Value>,
    auth_header: Option<&str>,
) -> Args {
    let mut args = Map::new();
    put(&mut args, "user", user.cloned());
    args.insert("callLogId".into(), Value::from(log_id));
    put(&mut args, "contactId", contact_id.cloned());
    put(&mut args, "authHeader", auth_header.map(Value::from));
    args
}

/// updateCallLog's arguments from a createCallLog-shaped input carrying the
/// values that arrived after the call (mockcrm's `update` fixtures), taken
/// as App Connect's core takes them from its update request: the recording
/// link, custom subject, start time, duration, result and legs from
/// `callLog`, the rest as given. `existingCallLog` names the log by `log_id`;
/// `existing_details` is what getCallLog answered (`fullLogResponse`).
pub fn update_call_log_args(input: &Args, log_id: &str, existing_details: Option<&Value>) -> Args {
    let call_log = input.get("callLog");
    let from_call = |key: &str| field(call_log, key).cloned();
    let mut args = Map::new();
    copy(&mut args, input, &["user", "authHeader"]);
    let mut existing = Map::new();
    existing.insert("thirdPartyLogId".into(), Value::from(log_id));
    put(&mut existing, "sessionId", from_call("sessionId"));
    put(
        &mut existing,
        "contactId",
        field(input.get("contactInfo"), "id").cloned(),
    );
    args.insert("existingCallLog".into(), Value::Object(existing));
    put(
        &mut args,
        "recordingLink",
        field(field(call_log, "recording"), "link").cloned(),
    );
    let voicemail = input
        .get("voicemailLink")
        .or_else(|| field(field(call_log, "voicemail"), "link"));
    put(&mut args, "voicemailLink", voicemail.cloned());
    let voicemail_id = input
        .get("voicemailMessageId")
        .or_else(|| field(field(call_log, "voicemail"), "messageId"));
    put(&mut args, "voicemailMessageId", voicemail_id.cloned());
    put(&mut args, "subject", from_call("customSubject"));
    for key in ["startTime", "duration", "result"] {
        put(&mut args, key, from_call(key));
    }
    args.insert(
        "legs".into(),
        from_call("legs").unwrap_or_else(|| json!([])),
    );
    copy(
        &mut args,
        input,
        &[
            "note",
            "aiNote",
            "transcript",
            "ringSenseTranscript",
            "ringSenseSummary",
            "ringSenseAIScore",
            "ringSenseBulletedSummary",
            "ringSenseLink",
            "additionalSubmission",
            "composedLogDetails",
            "hashedAccountId",
            "isFromSSCL",
        ],
    );
    put(
        &mut args,
        "existingCallLogDetails",
        existing_details.cloned(),
    );
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
            .expect("valid")
            .with_timezone(&Utc)
    }

    fn args(value: Value) -> Args {
        match value {
            Value::Object(map) => map,
            _ => panic!("test arguments are an object"),
        }
    }

    #[test]
    fn create_call_log_builds_what_index_ts_builds() {
        let call = create_call_log(
            &args(json!({
                "user": {"id": "u1-mockcrm"},
                "authHeader": "Basic abc",
                "contactInfo": {"id": 42, "name": "Jane", "phoneNumber": "+1415"},
                "callLog": {"direction": "Inbound", "startTime": 1705332600000u64, "duration": 125, "sessionId": "s1"},
                "note": null,
                "ringSenseSummary": null,
                "composedLogDetails": "body",
            })),
            now(),
        )
        .expect("valid arguments");
        let inputs = &call.inputs;
        assert_eq!(inputs["subject"], json!("Inbound Call from Jane"));
        assert_eq!(inputs["startTime"], json!("2024-01-15T15:30:00.000Z"));
        assert_eq!(inputs["endTime"], json!("2024-01-15T15:32:05.000Z"));
        assert_eq!(
            inputs["contactInfo"]["id"],
            json!(42),
            "numbers stay numbers"
        );
        assert_eq!(inputs["note"], Value::Null, "null passes as null");
        assert_eq!(
            inputs["ringSenseSummary"],
            Value::Null,
            "a default parameter keeps null"
        );
        assert_eq!(inputs["ringSenseLink"], json!(""), "and fills undefined");
        assert!(!inputs.contains_key("aiNote"), "undefined stays undefined");
        assert_eq!(call.auth_header.as_deref(), Some("Basic abc"));
        assert_eq!(call.user, Some(json!({"id": "u1-mockcrm"})));
    }

    #[test]
    fn subjects_follow_javascript_exactly() {
        let subject = |call_log: Value, contact: Value| {
            create_call_log(
                &args(json!({"callLog": call_log, "contactInfo": contact})),
                now(),
            )
            .map(|c| c.inputs["subject"].clone())
        };
        assert_eq!(
            subject(json!({"direction": "Outbound"}), json!({"name": "Jo"})),
            Ok(json!("Outbound Call to Jo"))
        );
        // `??` keeps an empty custom subject.
        assert_eq!(
            subject(json!({"customSubject": ""}), json!({})),
            Ok(json!(""))
        );
        // Template literals print undefined as "undefined".
        assert_eq!(
            subject(json!({}), json!({})),
            Ok(json!("undefined Call from undefined"))
        );
        assert_eq!(
            subject(json!({}), Value::Null),
            Err(ContextError::Missing {
                operation: Operation::CreateCallLog,
                field: "contactInfo"
            })
        );
    }

    #[test]
    fn times_are_moment_iso_strings_or_null() {
        let times = |call_log: Value| {
            let call = create_call_log(
                &args(json!({"callLog": call_log, "contactInfo": {}})),
                now(),
            )
            .expect("valid");
            (
                call.inputs["startTime"].clone(),
                call.inputs["endTime"].clone(),
            )
        };
        assert_eq!(
            times(json!({"startTime": "2024-01-15T10:30:00-05:00", "duration": "pending"})),
            (
                json!("2024-01-15T15:30:00.000Z"),
                json!("2024-01-15T15:30:00.000Z")
            )
        );
        assert_eq!(
            times(json!({"startTime": "soon"})),
            (Value::Null, Value::Null)
        );
        assert_eq!(
            times(json!({})),
            (
                json!("2030-01-01T00:00:00.000Z"),
                json!("2030-01-01T00:00:00.000Z")
            ),
            "moment(undefined) is now"
        );
    }

    #[test]
    fn update_and_get_carry_the_log_id() {
        let call = update_call_log(
            &args(
                json!({"existingCallLog": {"thirdPartyLogId": "act_1"}, "startTime": 0, "duration": 60, "subject": "S"}),
            ),
            now(),
        );
        assert_eq!(call.inputs["thirdPartyLogId"], json!("act_1"));
        assert_eq!(call.inputs["endTime"], json!("1970-01-01T00:01:00.000Z"));
        assert_eq!(call.inputs["subject"], json!("S"));
        let get = get_call_log(&get_call_log_args(
            None,
            "act_1",
            Some(&json!(7)),
            Some("Bearer k"),
        ));
        assert_eq!(
            get.inputs,
            args(json!({"thirdPartyLogId": "act_1", "contactId": 7}))
        );
        assert_eq!(get.auth_header.as_deref(), Some("Bearer k"));
        let none = update_call_log(&args(json!({})), now());
        assert!(!none.inputs.contains_key("thirdPartyLogId"));
    }

    #[test]
    fn the_update_fixture_becomes_update_arguments() {
        let input: Value = serde_json::from_str(include_str!(
            "../../fixtures/update/outbound-recording-ready.json"
        ))
        .expect("fixture is JSON");
        let update = update_call_log_args(&args(input), "act_9", None);
        assert_eq!(
            update["existingCallLog"],
            json!({"thirdPartyLogId": "act_9", "sessionId": "4503991004", "contactId": "contact-1"})
        );
        assert_eq!(
            update["recordingLink"],
            json!("https://media.example.com/rec/2315419004")
        );
        assert_eq!(update["duration"], json!(754));
        assert_eq!(update["subject"], json!("Outbound Call to Jane Contact"));
        let call = update_call_log(&update, now());
        assert_eq!(call.inputs["endTime"], json!("2024-01-15T15:42:34.000Z"));
        assert_eq!(
            call.auth_header.as_deref(),
            Some("Basic bW9ja2NybS1kZXYta2V5Og==")
        );
    }

    #[test]
    fn message_logs_need_a_message() {
        let err =
            create_message_log(&args(json!({"contactInfo": {}})), now()).expect_err("no message");
        assert_eq!(
            err.to_string(),
            "createMessageLog needs message: App Connect reads it and fails without it"
        );
        let call = update_message_log(
            &args(json!({"message": {"id": 5, "creationTime": "2024-01-15T15:30:00Z"}, "existingMessageLog": {"thirdPartyLogId": 9}})),
            now(),
        )
        .expect("valid");
        assert_eq!(
            call.inputs["creationTime"],
            json!("2024-01-15T15:30:00.000Z")
        );
        assert_eq!(call.inputs["thirdPartyLogId"], json!(9));
    }

    #[test]
    fn phone_numbers_are_parsed_where_it_is_safe() {
        let call = find_contact(&args(json!({"phoneNumber": " 14155550199"}))).expect("valid");
        assert_eq!(
            call.inputs["phoneNumber"],
            json!(" 14155550199"),
            "kept as given"
        );
        assert_eq!(
            call.inputs["parsedPhoneNumber"],
            json!({"valid": true, "countryCode": 1, "number": {
                "input": "+14155550199", "e164": "+14155550199", "international": "+1 415-555-0199",
                "national": "(415) 555-0199", "rfc3966": "tel:+1-415-555-0199", "significant": "4155550199"}})
        );
        assert_eq!(
            parsed_phone_number("+442071838750"),
            json!({"number": {"input": "+442071838750", "e164": "+442071838750"}})
        );
        assert_eq!(
            parsed_phone_number("ext 101"),
            json!({"number": {"input": "ext 101"}})
        );
        assert!(find_contact(&args(json!({}))).is_err());
        let given = find_contact(&args(
            json!({"phoneNumber": "1", "parsedPhoneNumber": {"x": 1}}),
        ))
        .expect("valid");
        assert_eq!(given.inputs["parsedPhoneNumber"], json!({"x": 1}));
    }

    #[test]
    fn user_info_gets_an_empty_user_and_unauthorize_no_header() {
        let info = get_user_info(&args(
            json!({"apiKey": "k", "authHeader": "Basic x", "platform": "p"}),
        ));
        assert_eq!(info.user, Some(json!({})));
        assert_eq!(info.inputs, args(json!({"apiKey": "k", "platform": "p"})));
        let out = un_authorize(&args(json!({"user": {"id": "1"}, "authHeader": "Basic x"})));
        assert_eq!(out.auth_header, None);
        assert!(out.inputs.is_empty());
    }
}
