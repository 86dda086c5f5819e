//! The App Connect connector interface, as data.
//!
//! These serde types mirror the `createCallLog` input and output, the
//! `updateCallLog` and `getCallLog` answers, the compose request, and the
//! message-log calls (`messages.rs`) exactly (camelCase JSON). This module only reads and writes
//! them: what a value means (which settings are on, which score is shown,
//! how a time reads in a zone) is the composer's and the connector's
//! business. Whatever App Connect sends is kept as sent: an input's fields
//! mockcrm does not read, and unknown fields of the user, the contact, the
//! call-log record and its parties, legs, recording and voicemail, land in
//! an `extra` map and are written back out; nothing is rejected for being
//! unknown. The answers (`…Output`, `ReturnMessage`) are mockcrm's own and
//! carry only their documented fields.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};

pub use crate::js::StartReading;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

mod messages;

pub use messages::{
    CreateMessageLogOutput, ExistingMessageLog, MessageLogInput, MessageRecord,
    SharedSmsLogContent, UpdateMessageLogOutput,
};

/// The call and everything said about it: what a log's body is composed
/// from. A createCallLog input and a compose request both carry it.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogContent {
    pub user: Option<User>,
    pub call_log: CallLog,
    pub note: Option<String>,
    pub ai_note: Option<String>,
    pub transcript: Option<String>,
    pub ring_sense_transcript: Option<String>,
    pub ring_sense_summary: Option<String>,
    /// A number or a string, kept as sent: `0` stays `0`. Which scores the
    /// body shows (App Connect skips a falsy one) is the composer's rule.
    #[serde(rename = "ringSenseAIScore", default)]
    pub ring_sense_ai_score: Option<Value>,
    pub ring_sense_bulleted_summary: Option<String>,
    pub ring_sense_link: Option<String>,
}

/// Everything App Connect hands a connector's `createCallLog`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCallLogInput {
    pub contact_info: ContactInfo,
    #[serde(flatten)]
    pub content: LogContent,
    pub auth_header: Option<String>,
    pub additional_submission: Option<Value>,
    pub composed_log_details: Option<String>,
    pub hashed_account_id: Option<String>,
    #[serde(rename = "isFromSSCL", default)]
    pub is_from_sscl: Option<bool>,
    pub proxy_config: Option<Value>,
    /// Fields App Connect sends that mockcrm does not read, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What `createCallLog` answers. No `logId` means the log failed.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCallLogOutput {
    pub log_id: Option<String>,
    pub return_message: Option<ReturnMessage>,
    pub extra_data_tracking: Option<Value>,
}

/// What `updateCallLog` answers.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCallLogOutput {
    pub updated_note: Option<String>,
    pub return_message: Option<ReturnMessage>,
}

/// What `getCallLog` answers; no `callLogInfo` means the read failed.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCallLogOutput {
    pub call_log_info: Option<CallLogInfo>,
    pub return_message: Option<ReturnMessage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLogInfo {
    pub subject: String,
    /// The agent note, parsed back out of the body.
    pub note: String,
    pub full_body: String,
    /// The CRM's activity as it answered.
    pub full_log_response: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnMessage {
    pub message: String,
    pub message_type: MessageType,
    pub ttl: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Success,
    Warning,
    Danger,
}

/// The App Connect user the call belongs to.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    pub timezone_offset: Option<TimezoneOffset>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_settings: BTreeMap<String, Setting>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `user.userSettings`: App Connect wraps every value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    #[serde(default)]
    pub value: Value,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `user.timezoneOffset`: `"+05:30"`, `"-4"`, `330`, ….
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimezoneOffset {
    Number(f64),
    Text(String),
}

/// The matched CRM contact.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactInfo {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    pub phone_number: Option<String>,
    #[serde(rename = "type", default)]
    pub contact_type: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A RingCentral call-log record, with App Connect's additions.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLog {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub session_id: Option<String>,
    pub telephony_session_id: Option<String>,
    pub direction: Option<Direction>,
    pub start_time: Option<StartTime>,
    pub duration: Option<CallDuration>,
    pub result: Option<String>,
    pub from: Option<Party>,
    pub to: Option<Party>,
    pub recording: Option<Recording>,
    pub voicemail: Option<Voicemail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legs: Vec<Leg>,
    pub custom_subject: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        }
    }
}

/// One end of a call or leg.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub extension_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub extension_id: Option<String>,
    pub name: Option<String>,
    pub location: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    pub uri: Option<String>,
    #[serde(rename = "type", default)]
    pub recording_type: Option<String>,
    pub content_uri: Option<String>,
    /// Added by App Connect: `"(pending...)"` until the recording is ready.
    pub link: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Voicemail {
    pub link: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One leg of the call journey.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leg {
    pub start_time: Option<StartTime>,
    pub duration: Option<CallDuration>,
    pub direction: Option<Direction>,
    pub result: Option<String>,
    pub leg_type: Option<String>,
    pub master: Option<bool>,
    pub from: Option<Party>,
    pub to: Option<Party>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `callLog.startTime`: ISO 8601 from the client, epoch milliseconds from
/// server-side logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StartTime {
    EpochMillis(i64),
    Iso(String),
}

impl StartTime {
    /// The instant this start time names. ISO strings without an offset are
    /// taken as UTC, as RingCentral means them.
    pub fn to_utc(&self) -> Result<DateTime<Utc>, String> {
        self.read().map(|reading| match reading {
            StartReading::Instant(instant) => instant,
            StartReading::Local(naive) => naive.and_utc(),
        })
    }

    /// The start time as written, keeping apart a time with no offset.
    pub fn read(&self) -> Result<StartReading, String> {
        match self {
            StartTime::EpochMillis(millis) => DateTime::from_timestamp_millis(*millis)
                .map(StartReading::Instant)
                .ok_or_else(|| format!("callLog.startTime {millis} is out of range for epoch milliseconds")),
            StartTime::Iso(text) => crate::js::read_iso_time(text).ok_or_else(|| {
                format!("callLog.startTime {text:?} is not ISO 8601 (e.g. 2024-01-15T15:30:00.000Z) or epoch milliseconds")
            }),
        }
    }
}

/// `callLog.duration`: whole seconds, or a word such as `"pending"` while
/// server-side logging waits for the call to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum CallDuration {
    Seconds(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for CallDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = CallDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative number of seconds or a word such as \"pending\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(CallDuration::Seconds(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v).map(CallDuration::Seconds).map_err(|_| {
                    E::custom(format!(
                        "duration {v} is negative; give seconds >= 0 or \"pending\""
                    ))
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                // RingCentral sends whole seconds; a fractional value is rounded
                // down, as the reference composer's arithmetic would.
                if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                    Ok(CallDuration::Seconds(v.floor() as u64))
                } else {
                    Err(E::custom(format!(
                        "duration {v} is not a non-negative number of seconds"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CallDuration::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// What the composer takes: the log's content, the contact, and
/// for an update the body to update and how. A createCallLog input is also
/// a compose request: its other fields land in `extra`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComposeRequest {
    pub format: Option<LogFormat>,
    pub contact_info: Option<ContactInfo>,
    #[serde(flatten)]
    pub content: LogContent,
    pub existing_body: Option<String>,
    /// How `existing_body` is updated; absent means `core`. Snake case, as
    /// mockcrm's own fields are: App Connect has no such field.
    #[serde(rename = "update_style", default)]
    pub update_style: Option<UpdateStyle>,
    /// Fields the composer does not read, kept as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// How a body that already exists is updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStyle {
    /// The bytes App Connect core 1.7.42 writes, its regular-expression
    /// quirks included: what a connector's CRM really holds.
    #[default]
    Core,
    /// Each section replaced in place, new ones added, nothing lost or
    /// doubled; composing the same request twice changes nothing.
    Clean,
}

impl UpdateStyle {
    pub const ALL: [UpdateStyle; 2] = [UpdateStyle::Core, UpdateStyle::Clean];

    pub fn name(self) -> &'static str {
        match self {
            UpdateStyle::Core => "core",
            UpdateStyle::Clean => "clean",
        }
    }
}

impl fmt::Display for UpdateStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for UpdateStyle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UpdateStyle::ALL
            .into_iter()
            .find(|style| style.name() == s)
            .ok_or_else(|| format!("unknown update style {s:?}: use core or clean"))
    }
}

impl From<&CreateCallLogInput> for ComposeRequest {
    fn from(input: &CreateCallLogInput) -> Self {
        ComposeRequest {
            contact_info: Some(input.contact_info.clone()),
            content: input.content.clone(),
            ..ComposeRequest::default()
        }
    }
}

/// The three body formats App Connect's core composes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LogFormat {
    #[serde(rename = "text/plain")]
    Plain,
    #[serde(rename = "text/html")]
    Html,
    #[serde(rename = "text/markdown")]
    Markdown,
}

impl LogFormat {
    pub const ALL: [LogFormat; 3] = [LogFormat::Plain, LogFormat::Html, LogFormat::Markdown];

    pub fn mime(self) -> &'static str {
        match self {
            LogFormat::Plain => "text/plain",
            LogFormat::Html => "text/html",
            LogFormat::Markdown => "text/markdown",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mime())
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogFormat::ALL
            .into_iter()
            .find(|f| f.mime() == s)
            .ok_or_else(|| {
                format!("unknown format {s:?}: use text/plain, text/html or text/markdown")
            })
    }
}

/// Ids and extension numbers arrive as strings from one RingCentral API and
/// as numbers from another; both mean the same thing.
fn lenient_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct LenientVisitor;
    impl<'de> Visitor<'de> for LenientVisitor {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(crate::js::number_to_string(v)))
        }
    }
    deserializer.deserialize_option(LenientVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_strings_both_parse_as_ids() {
        let call: CallLog =
            serde_json::from_str(r#"{"sessionId": 4503991004, "id": "abc"}"#).expect("parses");
        assert_eq!(call.session_id.as_deref(), Some("4503991004"));
        assert_eq!(call.id.as_deref(), Some("abc"));
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let raw = r#"{"sessionId":"1","billing":{"costIncluded":0.0},"to":{"phoneNumber":"+1","carrier":"x"}}"#;
        let call: CallLog = serde_json::from_str(raw).expect("parses");
        let back = serde_json::to_value(&call).expect("serialises");
        assert_eq!(back["billing"]["costIncluded"], 0.0);
        assert_eq!(back["to"]["carrier"], "x");
    }

    #[test]
    fn negative_duration_is_a_clear_error() {
        let err = serde_json::from_str::<CallLog>(r#"{"duration": -3}"#).expect_err("rejected");
        assert!(err.to_string().contains("negative"), "{err}");
    }

    #[test]
    fn start_times_in_every_shape_agree() {
        let expected = DateTime::parse_from_rfc3339("2024-01-15T15:30:00Z").expect("valid");
        for start in [
            StartTime::EpochMillis(1_705_332_600_000),
            StartTime::Iso("2024-01-15T15:30:00.000Z".into()),
            StartTime::Iso("2024-01-15T10:30:00-05:00".into()),
            StartTime::Iso("2024-01-15T15:30:00".into()),
        ] {
            assert_eq!(
                start.to_utc(),
                Ok(expected.with_timezone(&Utc)),
                "{start:?}"
            );
        }
        assert!(StartTime::Iso("yesterday".into()).to_utc().is_err());
    }

    /// Parsing keeps what was sent: a score of 0, unknown fields at every
    /// level, and a createCallLog input read as a compose request keeps its
    /// other fields aside instead of dropping them.
    #[test]
    fn inputs_survive_a_round_trip_as_sent() {
        let raw = json!({
            "contactInfo": {"id": 42, "name": "Jane", "crmSpecific": true},
            "callLog": {"sessionId": "1", "duration": 5, "billing": {"costIncluded": 0.0}},
            "ringSenseAIScore": 0,
            "note": "n",
            "authHeader": "Basic eDo=",
            "someFieldAppConnectAddsLater": [1, 2],
        });
        let input: CreateCallLogInput = serde_json::from_value(raw.clone()).expect("parses");
        assert_eq!(input.content.ring_sense_ai_score, Some(json!(0)));
        assert_eq!(input.contact_info.id.as_deref(), Some("42"));
        let mut expected = raw.clone();
        expected["contactInfo"]["id"] = json!("42");
        assert_eq!(serde_json::to_value(&input).expect("serialises"), expected);

        let request: ComposeRequest = serde_json::from_value(raw).expect("parses");
        assert_eq!(request.content, input.content);
        assert_eq!(request.extra.get("authHeader"), Some(&json!("Basic eDo=")));
        assert!(
            request.extra.get("note").is_none(),
            "a content field is not an extra"
        );
        assert_eq!(ComposeRequest::from(&input).content, input.content);
    }

    #[test]
    fn pending_duration_and_epoch_start_parse() {
        let call: CallLog =
            serde_json::from_str(r#"{"duration": "pending", "startTime": 1705332600000}"#)
                .expect("parses");
        assert_eq!(call.duration, Some(CallDuration::Text("pending".into())));
        assert_eq!(call.start_time, Some(StartTime::EpochMillis(1705332600000)));
    }
}
