//! mockcrm as App Connect core 1.7.42: the exact arguments core passes the
//! connector's `createCallLog`, `getCallLog` and `updateCallLog` for a case
//! (`CORE_CALLS.md`), the bodies it composes for them, and how it reads
//! their answers (the format, the existing body of an update, the warning
//! a throw becomes).
//!
//! Pure: it builds JSON and composes with `crate::compose`; calling the
//! connector and asking the CRM are the runner's.

use serde_json::{json, Map, Value};

use super::bridge::{Settled, Thrown};
use super::cases::Case;
use crate::compose::{self, ComposeError, ComposeOptions};
use crate::interface::{
    CallLog, ComposeRequest, ContactInfo, Direction, LogContent, LogFormat, Recording, User,
    Voicemail,
};

/// The platform name core passes `getLogFormatType` and writes in its rows.
pub const PLATFORM: &str = "mockcrm";

/// When core's user row says it was made; fixed, so runs compare.
const ROW_TIME: &str = "2024-01-01T00:00:00.000Z";

/// Who the connector works for and where the CRM is.
#[derive(Debug, Clone)]
pub struct Account {
    /// The CRM's base URL (`http://127.0.0.1:8787`).
    pub server_url: String,
    pub api_key: String,
    /// The CRM user the key belongs to (`GET /me`).
    pub crm_user_id: String,
    /// What the extension sends in the `rc-account-id` header.
    pub hashed_account_id: String,
    /// The user's proxy-connector config, when the connector is one: core
    /// then hands it to every call as `proxyConfig`.
    pub proxy_config: Option<Value>,
    /// The platform core knows the connector as (`PLATFORM`, or the CRM's
    /// name with `--crm`).
    pub platform: String,
}

/// The proxy id App Connect keeps for a proxy connector's user.
const PROXY_ID: &str = "mockcrm-contract";

impl Account {
    /// `proxyConfig` as core passes it to `getCallLog`, `updateCallLog`
    /// and `getLogFormatType` on update: the config, else `null`.
    pub fn proxy_config_or_null(&self) -> Value {
        self.proxy_config.clone().unwrap_or(Value::Null)
    }

    /// `getAuthType`'s argument, `{proxyId, proxyConfig}` (an undefined
    /// one left out); `updating` is a call where core declares the config
    /// `null` rather than leaving it undefined.
    pub fn auth_type_argument(&self, updating: bool) -> Value {
        match &self.proxy_config {
            Some(config) => json!({"proxyId": PROXY_ID, "proxyConfig": config}),
            None if updating => json!({"proxyConfig": null}),
            None => json!({}),
        }
    }

    /// `getLogFormatType(platform, proxyConfig)`'s arguments: createCallLog
    /// leaves `proxyConfig` undefined without a proxy connector,
    /// updateCallLog passes `null`.
    pub fn log_format_arguments(&self, updating: bool) -> Vec<Value> {
        match (&self.proxy_config, updating) {
            (Some(config), _) => vec![json!(self.platform), config.clone()],
            (None, true) => vec![json!(self.platform), Value::Null],
            (None, false) => vec![json!(self.platform)],
        }
    }

    /// App Connect's user id: the CRM user's id and the platform.
    pub fn user_id(&self) -> String {
        format!("{}-{}", self.crm_user_id, self.platform)
    }

    /// The host App Connect keeps for the user, without a scheme.
    pub fn hostname(&self) -> String {
        let without_scheme = self
            .server_url
            .split_once("://")
            .map_or(self.server_url.as_str(), |(_, rest)| rest);
        without_scheme
            .split('/')
            .next()
            .unwrap_or(without_scheme)
            .to_owned()
    }
}

/// What core composes in, as `getLogFormatType` answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreFormat {
    Composed(LogFormat),
    /// Anything else: core composes nothing (`composedLogDetails` is `''`)
    /// and the connector writes its own body. Says what the answer was.
    Custom(String),
}

impl CoreFormat {
    pub fn log_format(&self) -> Option<LogFormat> {
        match self {
            CoreFormat::Composed(format) => Some(*format),
            CoreFormat::Custom(_) => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            CoreFormat::Composed(format) => format.mime().to_owned(),
            CoreFormat::Custom(what) => format!("custom ({what}): core composes nothing"),
        }
    }
}

/// Core's reading of a `getLogFormatType` answer (`None`: the connector
/// exports none). Core does not await it, so a Promise is no format.
pub fn format_from(answer: Option<&Settled>) -> Result<CoreFormat, Thrown> {
    let Some(answer) = answer else {
        return Ok(CoreFormat::Composed(LogFormat::Plain));
    };
    match answer {
        Settled::Threw(thrown) => Err(thrown.clone()),
        Settled::Returned { is_async: true, .. } => Ok(CoreFormat::Custom(
            "getLogFormatType is async and App Connect core does not await it, so it sees a Promise; make it a plain function".into(),
        )),
        Settled::Returned { value, .. } => {
            let text = value.as_ref().and_then(Value::as_str);
            match text.and_then(|text| text.parse::<LogFormat>().ok()) {
                Some(format) => Ok(CoreFormat::Composed(format)),
                None => Ok(CoreFormat::Custom(match value {
                    Some(value) => format!("getLogFormatType returned {value}"),
                    None => "getLogFormatType returned undefined".into(),
                })),
            }
        }
    }
}

/// The `users` row core hands every call.
pub fn user(account: &Account, case: &Case) -> Value {
    let mut user = Map::new();
    user.insert("id".into(), Value::from(account.user_id()));
    user.insert("rcAccountId".into(), Value::from("400128"));
    user.insert("hostname".into(), Value::from(account.hostname()));
    user.insert("timezoneName".into(), Value::from(""));
    if let Some(offset) = &case.user.timezone_offset {
        user.insert("timezoneOffset".into(), json!(offset));
    }
    user.insert("platform".into(), Value::from(account.platform.clone()));
    user.insert("accessToken".into(), Value::from(account.api_key.clone()));
    user.insert("refreshToken".into(), Value::Null);
    user.insert("tokenExpiry".into(), Value::Null);
    let mut info = json!({"apiUrl": account.server_url});
    if account.proxy_config.is_some() {
        info["proxyId"] = json!(PROXY_ID);
    }
    user.insert("platformAdditionalInfo".into(), info);
    user.insert("hashedRcExtensionId".into(), Value::from(HASHED_EXTENSION));
    user.insert("userSettings".into(), json!(case.user.user_settings));
    user.insert("createdAt".into(), Value::from(ROW_TIME));
    user.insert("updatedAt".into(), Value::from(ROW_TIME));
    Value::Object(user)
}

const HASHED_EXTENSION: &str = "7c3e1f0d9b2a4c6e8f1a3b5d7e9f0a2c";

/// The user as the composer reads it (time zone and settings).
fn compose_user(account: &Account, case: &Case) -> User {
    User {
        id: Some(account.user_id()),
        timezone_offset: case.user.timezone_offset.clone(),
        user_settings: case.user.user_settings.clone(),
        extra: Map::new(),
    }
}

/// The number core looks the contact up by: the caller of an inbound call,
/// the callee of an outbound one.
fn contact_number(call: &CallLog) -> Option<String> {
    let party = match call.direction {
        Some(Direction::Inbound) => call.from.as_ref(),
        _ => call.to.as_ref(),
    };
    party.and_then(|party| party.phone_number.clone())
}

/// Core's `contactInfo`: what the client sent, `type` and `name` as `""`
/// when it sent none.
fn contact_info(case: &Case, contact_id: &str) -> ContactInfo {
    ContactInfo {
        id: Some(contact_id.to_owned()),
        phone_number: contact_number(&case.create.call_log),
        contact_type: Some(case.contact.contact_type.clone()),
        name: Some(case.contact.name.clone()),
        extra: Map::new(),
    }
}

fn voicemail_link(case: &Case) -> Option<String> {
    case.create
        .call_log
        .voicemail
        .as_ref()
        .and_then(|voicemail| voicemail.link.clone())
}

/// `composedLogDetails` of the create, from an empty body.
pub fn compose_create(
    account: &Account,
    case: &Case,
    contact_id: &str,
    format: LogFormat,
    options: &ComposeOptions,
) -> Result<String, ComposeError> {
    let create = &case.create;
    let request = ComposeRequest {
        format: None,
        contact_info: Some(contact_info(case, contact_id)),
        content: LogContent {
            user: Some(compose_user(account, case)),
            call_log: create.call_log.clone(),
            note: create.note.clone(),
            ai_note: create.ai_note.clone(),
            transcript: create.transcript.clone(),
            ring_sense_transcript: create.ring_sense_transcript.clone(),
            ring_sense_summary: create.ring_sense_summary.clone(),
            ring_sense_ai_score: create.ring_sense_ai_score.clone(),
            ring_sense_bulleted_summary: create.ring_sense_bulleted_summary.clone(),
            ring_sense_link: create.ring_sense_link.clone(),
        },
        existing_body: None,
        update_style: None,
        extra: Map::new(),
    };
    compose::compose(&request, &ComposeOptions { format, ..*options })
}

/// The call record core composes an update from: the row's session and
/// what the client sent with the update.
fn update_call(case: &Case) -> CallLog {
    let created = &case.create.call_log;
    let update = &case.update;
    CallLog {
        session_id: created.session_id.clone(),
        start_time: created.start_time.clone(),
        duration: update.duration.clone(),
        result: update.result.clone(),
        direction: created.direction,
        from: created.from.clone(),
        to: created.to.clone(),
        legs: created.legs.clone(),
        recording: update.recording_link.as_ref().map(|link| Recording {
            link: Some(link.clone()),
            ..Recording::default()
        }),
        voicemail: None::<Voicemail>,
        custom_subject: update.subject.clone(),
        ..CallLog::default()
    }
}

/// `composedLogDetails` of the update: the update's values composed on
/// `existing_body` in `options.update_style`.
pub fn compose_update(
    account: &Account,
    case: &Case,
    existing_body: &str,
    format: LogFormat,
    options: &ComposeOptions,
) -> Result<String, ComposeError> {
    let update = &case.update;
    let request = ComposeRequest {
        format: None,
        contact_info: None,
        content: LogContent {
            user: Some(compose_user(account, case)),
            call_log: update_call(case),
            note: update.note.clone(),
            ai_note: update.ai_note.clone(),
            transcript: update.transcript.clone(),
            ring_sense_transcript: None,
            ring_sense_summary: update.ring_sense_summary.clone(),
            ring_sense_ai_score: None,
            ring_sense_bulleted_summary: None,
            ring_sense_link: None,
        },
        existing_body: Some(existing_body.to_owned()),
        update_style: None,
        extra: Map::new(),
    };
    compose::compose(&request, &ComposeOptions { format, ..*options })
}

/// Inserts `value` under `key` unless it is absent: core's `undefined`
/// fields are left out of the object.
fn put(object: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        object.insert(key.to_owned(), value);
    }
}

fn text(value: &Option<String>) -> Option<Value> {
    value.clone().map(Value::from)
}

/// `createCallLog`'s one argument: the fields core sets (an absent one is
/// left out, as JavaScript's `undefined` is by JSON).
pub fn create_args(
    account: &Account,
    case: &Case,
    contact_id: &str,
    auth_header: &str,
    composed: &str,
) -> Value {
    let create = &case.create;
    let mut args = Map::new();
    args.insert("user".into(), user(account, case));
    args.insert("contactInfo".into(), json!(contact_info(case, contact_id)));
    args.insert("authHeader".into(), Value::from(auth_header));
    args.insert("callLog".into(), json!(create.call_log));
    put(&mut args, "note", text(&create.note));
    put(&mut args, "aiNote", text(&create.ai_note));
    put(&mut args, "transcript", text(&create.transcript));
    put(&mut args, "voicemailLink", text(&voicemail_link(case)));
    put(
        &mut args,
        "ringSenseTranscript",
        text(&create.ring_sense_transcript),
    );
    put(
        &mut args,
        "ringSenseSummary",
        text(&create.ring_sense_summary),
    );
    put(
        &mut args,
        "ringSenseAIScore",
        create.ring_sense_ai_score.clone(),
    );
    put(
        &mut args,
        "ringSenseBulletedSummary",
        text(&create.ring_sense_bulleted_summary),
    );
    put(&mut args, "ringSenseLink", text(&create.ring_sense_link));
    args.insert("composedLogDetails".into(), Value::from(composed));
    args.insert(
        "hashedAccountId".into(),
        Value::from(account.hashed_account_id.clone()),
    );
    args.insert("isFromSSCL".into(), Value::from(create.is_from_sscl));
    put(&mut args, "proxyConfig", account.proxy_config.clone());
    Value::Object(args)
}

/// The `callLogs` row core writes once `createCallLog` returned a `logId`.
#[derive(Debug, Clone)]
pub struct CallLogRow {
    /// `telephonySessionId || id` of the record.
    pub id: String,
    pub session_id: String,
    pub extension_number: Option<String>,
    /// The `logId`, as core stores it (text).
    pub third_party_log_id: String,
    pub contact_id: String,
}

impl CallLogRow {
    pub fn new(case: &Case, log_id: String, contact_id: &str) -> CallLogRow {
        let call = &case.create.call_log;
        let agent = match call.direction {
            Some(Direction::Inbound) => call.to.as_ref(),
            _ => call.from.as_ref(),
        };
        CallLogRow {
            id: call
                .telephony_session_id
                .clone()
                .or_else(|| call.id.clone())
                .unwrap_or_default(),
            session_id: call.session_id.clone().unwrap_or_default(),
            extension_number: agent.and_then(|party| party.extension_number.clone()),
            third_party_log_id: log_id,
            contact_id: contact_id.to_owned(),
        }
    }

    fn json(&self, account: &Account) -> Value {
        json!({
            "id": self.id,
            "sessionId": self.session_id,
            "extensionNumber": self.extension_number,
            "hashedExtensionId": HASHED_EXTENSION,
            "platform": account.platform,
            "thirdPartyLogId": self.third_party_log_id,
            "userId": account.user_id(),
            "contactId": self.contact_id,
            "createdAt": ROW_TIME,
            "updatedAt": ROW_TIME,
        })
    }
}

/// `getCallLog`'s one argument (from the log view, and before an update).
pub fn get_args(account: &Account, case: &Case, row: &CallLogRow, auth_header: &str) -> Value {
    json!({
        "user": user(account, case),
        "telephonySessionId": row.id,
        "callLogId": row.third_party_log_id,
        "contactId": row.contact_id,
        "authHeader": auth_header,
        "proxyConfig": account.proxy_config_or_null(),
    })
}

/// `existingCallLogDetails` as core passes it to `updateCallLog`.
#[derive(Debug, Clone, PartialEq)]
pub enum ExistingDetails {
    /// `null`: the format is custom, or `getCallLog` threw.
    Null,
    /// `undefined`: the answer had no `callLogInfo.fullLogResponse`.
    Absent,
    Value(Value),
}

/// What core takes from the `getCallLog` it runs before an update: the
/// body to compose on (`fullBody`, else `note`, else empty) and the details.
pub fn existing_from(answer: &Settled) -> (String, ExistingDetails) {
    let value = match answer {
        Settled::Threw(_) => return (String::new(), ExistingDetails::Null),
        Settled::Returned { value, .. } => value,
    };
    let info = value.as_ref().and_then(|value| value.get("callLogInfo"));
    let details = match info.and_then(|info| info.get("fullLogResponse")) {
        Some(details) => ExistingDetails::Value(details.clone()),
        None => ExistingDetails::Absent,
    };
    let truthy_text = |field: &str| {
        info.and_then(|info| info.get(field))
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let body = truthy_text("fullBody")
        .or_else(|| truthy_text("note"))
        .unwrap_or_default();
    (body, details)
}

/// `updateCallLog`'s one argument, likewise.
pub fn update_args(
    account: &Account,
    case: &Case,
    row: &CallLogRow,
    auth_header: &str,
    composed: &str,
    details: &ExistingDetails,
) -> Value {
    let update = &case.update;
    let created = &case.create.call_log;
    let mut args = Map::new();
    args.insert("user".into(), user(account, case));
    args.insert("existingCallLog".into(), row.json(account));
    args.insert("authHeader".into(), Value::from(auth_header));
    put(&mut args, "recordingLink", text(&update.recording_link));
    put(&mut args, "subject", text(&update.subject));
    put(&mut args, "note", text(&update.note));
    put(
        &mut args,
        "startTime",
        created.start_time.as_ref().map(|start| json!(start)),
    );
    put(
        &mut args,
        "duration",
        update.duration.as_ref().map(|duration| json!(duration)),
    );
    put(&mut args, "result", text(&update.result));
    put(&mut args, "aiNote", text(&update.ai_note));
    put(&mut args, "transcript", text(&update.transcript));
    args.insert("legs".into(), json!(created.legs));
    put(
        &mut args,
        "ringSenseSummary",
        text(&update.ring_sense_summary),
    );
    args.insert("composedLogDetails".into(), Value::from(composed));
    match details {
        ExistingDetails::Null => {
            args.insert("existingCallLogDetails".into(), Value::Null);
        }
        ExistingDetails::Absent => {}
        ExistingDetails::Value(value) => {
            args.insert("existingCallLogDetails".into(), value.clone());
        }
    }
    args.insert(
        "hashedAccountId".into(),
        Value::from(account.hashed_account_id.clone()),
    );
    args.insert("isFromSSCL".into(), Value::from(case.create.is_from_sscl));
    args.insert("proxyConfig".into(), account.proxy_config_or_null());
    Value::Object(args)
}

/// The `returnMessage` core's `handleApiError` gives the user for a
/// connector call that threw, chosen by the thrown HTTP status.
pub fn thrown_message(function: &str, thrown: &Thrown) -> Value {
    let message = match thrown.status {
        Some(429) => "Rate limit exceeded".to_owned(),
        Some(400..=409) => "Authorization error".to_owned(),
        _ => match function {
            "createCallLog" => "Error creating call log".to_owned(),
            "updateCallLog" => "Error updating call log".to_owned(),
            "getCallLog" => "Error getting call log".to_owned(),
            other => format!("Error in {other}"),
        },
    };
    json!({"message": message, "messageType": "warning", "ttl": 5000})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::cases::{ContactRef, CreateIn, UpdateIn, UserProfile};
    use crate::interface::{CallDuration, Party, StartTime};

    fn account() -> Account {
        Account {
            server_url: "http://127.0.0.1:4321".into(),
            api_key: "mockcrm-dev-key".into(),
            crm_user_id: "crm-user-1".into(),
            hashed_account_id: "acct".into(),
            proxy_config: None,
            platform: PLATFORM.into(),
        }
    }

    fn case() -> Case {
        let call = CallLog {
            direction: Some(Direction::Inbound),
            start_time: Some(StartTime::Iso("2024-07-04T18:00:00.000Z".into())),
            duration: Some(CallDuration::Seconds(65)),
            result: Some("Accepted".into()),
            from: Some(Party {
                phone_number: Some("+14155550199".into()),
                ..Party::default()
            }),
            to: Some(Party {
                phone_number: Some("+14155550101".into()),
                extension_number: Some("101".into()),
                ..Party::default()
            }),
            ..CallLog::default()
        };
        Case {
            user: UserProfile::default(),
            contact: ContactRef {
                name: "Jane Contact".into(),
                phone_number: "+14155550199".into(),
                contact_type: "Contact".into(),
            },
            create: CreateIn {
                call_log: call,
                note: Some("hello".into()),
                ai_note: None,
                transcript: None,
                ring_sense_transcript: None,
                ring_sense_summary: None,
                ring_sense_ai_score: None,
                ring_sense_bulleted_summary: None,
                ring_sense_link: None,
                is_from_sscl: false,
            },
            update: UpdateIn {
                duration: Some(CallDuration::Seconds(125)),
                ..UpdateIn::default()
            },
            faults: Vec::new(),
        }
        .with_session("4503991004")
    }

    #[test]
    fn the_create_argument_has_cores_fields_and_leaves_out_what_is_absent() {
        let args = create_args(&account(), &case(), "contact-1", "Basic x", "body");
        let keys: Vec<&str> = args
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "user",
            "contactInfo",
            "authHeader",
            "callLog",
            "note",
            "composedLogDetails",
            "hashedAccountId",
            "isFromSSCL",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        for absent in ["aiNote", "proxyConfig", "voicemailLink"] {
            assert!(!keys.contains(&absent), "{absent} in {keys:?}");
        }
        assert_eq!(args["contactInfo"]["phoneNumber"], "+14155550199");
        assert_eq!(args["user"]["hostname"], "127.0.0.1:4321");
        assert_eq!(
            args["user"]["platformAdditionalInfo"]["apiUrl"],
            "http://127.0.0.1:4321"
        );
        assert_eq!(args["callLog"]["sessionId"], "4503991004");
    }

    #[test]
    fn get_and_update_arguments_name_the_row() {
        let case = case();
        let row = CallLogRow::new(&case, "act_1".into(), "contact-1");
        let get = get_args(&account(), &case, &row, "Basic x");
        assert_eq!(get["telephonySessionId"], "s-4503991004");
        assert_eq!(get["callLogId"], "act_1");
        assert_eq!(get["proxyConfig"], Value::Null);
        let update = update_args(
            &account(),
            &case,
            &row,
            "Basic x",
            "new body",
            &ExistingDetails::Absent,
        );
        assert_eq!(update["existingCallLog"]["thirdPartyLogId"], "act_1");
        assert_eq!(update["existingCallLog"]["extensionNumber"], "101");
        assert_eq!(update["duration"], 125);
        assert_eq!(update["legs"], json!([]));
        assert!(update.get("existingCallLogDetails").is_none());
    }

    #[test]
    fn an_update_composes_on_the_existing_body() {
        let options = ComposeOptions::new(LogFormat::Markdown);
        let case = case();
        let created = compose_create(
            &account(),
            &case,
            "contact-1",
            LogFormat::Markdown,
            &options,
        )
        .expect("composes");
        assert!(created.starts_with("## Agent notes\nhello\n"), "{created}");
        assert!(
            created.contains("**Duration**: 1 minute, 5 seconds"),
            "{created}"
        );
        let updated = compose_update(&account(), &case, &created, LogFormat::Markdown, &options)
            .expect("composes");
        assert!(
            updated.contains("**Duration**: 2 minutes, 5 seconds"),
            "{updated}"
        );
        assert!(updated.starts_with("## Agent notes\nhello\n"), "{updated}");
    }

    #[test]
    fn core_reads_the_format_as_it_calls_it_without_await() {
        let returned = |value: Value, is_async| Settled::Returned {
            value: Some(value),
            is_async,
        };
        assert_eq!(
            format_from(None),
            Ok(CoreFormat::Composed(LogFormat::Plain))
        );
        assert_eq!(
            format_from(Some(&returned(json!("text/html"), false))),
            Ok(CoreFormat::Composed(LogFormat::Html))
        );
        assert!(matches!(
            format_from(Some(&returned(json!("text/html"), true))),
            Ok(CoreFormat::Custom(_))
        ));
        assert!(matches!(
            format_from(Some(&returned(json!("text/x-custom"), false))),
            Ok(CoreFormat::Custom(_))
        ));
    }

    #[test]
    fn the_existing_body_is_the_full_body_else_the_note() {
        let answer = |info: Value| Settled::Returned {
            value: Some(json!({"callLogInfo": info})),
            is_async: true,
        };
        let (body, details) = existing_from(&answer(
            json!({"fullBody": "b", "note": "n", "fullLogResponse": {"id": 1}}),
        ));
        assert_eq!(body, "b");
        assert_eq!(details, ExistingDetails::Value(json!({"id": 1})));
        let (body, details) = existing_from(&answer(json!({"fullBody": "", "note": "n"})));
        assert_eq!((body.as_str(), details), ("n", ExistingDetails::Absent));
        let thrown = Thrown {
            kind: "rejected".into(),
            name: "Error".into(),
            message: "x".into(),
            stack: None,
            status: Some(429),
        };
        assert_eq!(
            existing_from(&Settled::Threw(thrown.clone())),
            (String::new(), ExistingDetails::Null)
        );
        assert_eq!(
            thrown_message("createCallLog", &thrown)["message"],
            "Rate limit exceeded"
        );
    }
}
