//! The App Connect connector interface, as data.
//!
//! These serde types mirror the `createCallLog` input and output and the
//! compose request of SPEC §4–§5 exactly (camelCase JSON). They hold no logic
//! beyond parsing: composing lives in `compose`, talking to the CRM in
//! `connector`. Unknown fields are kept (`extra`), never rejected, so a record
//! that App Connect grows tomorrow still parses today.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Everything App Connect hands a connector's `createCallLog`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCallLogInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    pub contact_info: ContactInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    pub call_log: CallLog,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_submission: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_summary: Option<String>,
    #[serde(
        rename = "ringSenseAIScore",
        default,
        deserialize_with = "score",
        skip_serializing_if = "Option::is_none"
    )]
    pub ring_sense_ai_score: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_bulleted_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composed_log_details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashed_account_id: Option<String>,
    #[serde(
        rename = "isFromSSCL",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub is_from_sscl: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_config: Option<Value>,
}

/// What `createCallLog` answers. No `logId` means the log failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCallLogOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_message: Option<ReturnMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_data_tracking: Option<Value>,
}

/// What `updateCallLog` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCallLogOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_message: Option<ReturnMessage>,
}

/// What `getCallLog` answers; no `callLogInfo` means the read failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCallLogOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_log_info: Option<CallLogInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// `user.timezoneOffset`: `"+05:30"`, `"-4"`, `330`, … (SPEC §5 Date/time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimezoneOffset {
    Number(f64),
    Text(String),
}

/// The matched CRM contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactInfo {
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub contact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A RingCentral call-log record, with App Connect's additions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallLog {
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub telephony_session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<StartTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<CallDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<Recording>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voicemail: Option<Voicemail>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legs: Vec<Leg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub extension_number: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub extension_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    #[serde(
        default,
        deserialize_with = "lenient_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub recording_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_uri: Option<String>,
    /// Added by App Connect: `"(pending...)"` until the recording is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Voicemail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One leg of the call journey.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leg {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<StartTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<CallDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leg_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Party>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// What a start time says: an instant, or a wall-clock time without an
/// offset (which App Connect's core, through moment, reads in its host's
/// zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartReading {
    Instant(DateTime<Utc>),
    Local(NaiveDateTime),
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
            StartTime::Iso(text) => parse_iso_start(text).ok_or_else(|| {
                format!("callLog.startTime {text:?} is not ISO 8601 (e.g. 2024-01-15T15:30:00.000Z) or epoch milliseconds")
            }),
        }
    }
}

fn parse_iso_start(text: &str) -> Option<StartReading> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(StartReading::Instant(time.with_timezone(&Utc)));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .map(StartReading::Local)
}

impl User {
    /// `user.userSettings.<key>.value ?? default`, read with JavaScript
    /// truthiness as App Connect's core does (`false`, `0`, `""` are off).
    pub fn setting_enabled(&self, key: &str, default: bool) -> bool {
        match self.user_settings.get(key).map(|setting| &setting.value) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(on)) => *on,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0 && !n.is_nan()),
            Some(Value::String(text)) => !text.is_empty(),
            Some(Value::Array(_) | Value::Object(_)) => true,
        }
    }
}

/// `setting_enabled` for an optional user: no user means every default.
pub fn setting_enabled(user: Option<&User>, key: &str, default: bool) -> bool {
    user.map_or(default, |user| user.setting_enabled(key, default))
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

/// The part of a createCallLog input that shapes the body (SPEC §5). A
/// createCallLog input is also a valid compose request: serde ignores the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComposeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<LogFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    pub call_log: CallLog,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_info: Option<ContactInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_summary: Option<String>,
    #[serde(
        rename = "ringSenseAIScore",
        default,
        deserialize_with = "score",
        skip_serializing_if = "Option::is_none"
    )]
    pub ring_sense_ai_score: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_bulleted_summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_sense_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_body: Option<String>,
    /// How `existing_body` is updated; absent means `core`. Snake case, as
    /// mockcrm's own fields are: App Connect has no such field.
    #[serde(
        rename = "update_style",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub update_style: Option<UpdateStyle>,
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
            format: None,
            user: input.user.clone(),
            call_log: input.call_log.clone(),
            contact_info: Some(input.contact_info.clone()),
            note: input.note.clone(),
            ai_note: input.ai_note.clone(),
            transcript: input.transcript.clone(),
            ring_sense_transcript: input.ring_sense_transcript.clone(),
            ring_sense_summary: input.ring_sense_summary.clone(),
            ring_sense_ai_score: input.ring_sense_ai_score.clone(),
            ring_sense_bulleted_summary: input.ring_sense_bulleted_summary.clone(),
            ring_sense_link: input.ring_sense_link.clone(),
            existing_body: None,
            update_style: None,
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

/// `ringSenseAIScore`: a number or a string. App Connect's core skips a
/// falsy score, and the number 0 is falsy where the string "0" is not.
fn score<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => None,
        Some(Value::Number(n)) => Some(match n.as_f64() {
            Some(v) if !n.is_i64() && !n.is_u64() => js_float_text(v),
            _ => n.to_string(),
        }),
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
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
            Ok(Some(js_float_text(v)))
        }
    }
    deserializer.deserialize_option(LenientVisitor)
}

/// A float as JavaScript's `String(n)` prints it where it matters here:
/// whole floats without a fraction (`87.0` is `87`).
fn js_float_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn settings_follow_javascript_truthiness() {
        let user: User = serde_json::from_str(
            r#"{"userSettings": {"a": {"value": false}, "b": {"value": "yes"}, "c": {"value": 0}, "d": {"value": null}}}"#,
        )
        .expect("parses");
        assert!(!user.setting_enabled("a", true));
        assert!(user.setting_enabled("b", false));
        assert!(!user.setting_enabled("c", true));
        assert!(user.setting_enabled("d", true));
        assert!(!user.setting_enabled("missing", false));
    }

    #[test]
    fn a_numeric_zero_score_is_no_score() {
        let parse = |json: &str| {
            serde_json::from_str::<ComposeRequest>(json)
                .expect("parses")
                .ring_sense_ai_score
        };
        assert_eq!(parse(r#"{"callLog": {}, "ringSenseAIScore": 0}"#), None);
        assert_eq!(
            parse(r#"{"callLog": {}, "ringSenseAIScore": "0"}"#),
            Some("0".into())
        );
        assert_eq!(
            parse(r#"{"callLog": {}, "ringSenseAIScore": 87}"#),
            Some("87".into())
        );
        // As JavaScript prints them: a whole float has no fraction.
        assert_eq!(
            parse(r#"{"callLog": {}, "ringSenseAIScore": 87.0}"#),
            Some("87".into())
        );
        assert_eq!(
            parse(r#"{"callLog": {}, "ringSenseAIScore": 87.5}"#),
            Some("87.5".into())
        );
        assert_eq!(parse(r#"{"callLog": {}, "ringSenseAIScore": 0.0}"#), None);
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
