//! The arguments App Connect's core passes the log functions, built from
//! mockcrm's own inputs (an input file, a log id, what getCallLog answered),
//! for the reference connector and the command line to play core.

use serde_json::{json, Map, Value};

use super::{copy, field, put, Args};
use crate::interface::CreateCallLogInput;

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
