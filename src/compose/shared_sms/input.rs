//! What App Connect core's `createMessageLog` handler passes to its
//! shared-SMS composer (`composeSharedSMSLog`), as serde types: the log
//! format, the conversation (RingCentral's shared-SMS thread with its
//! message-store records and thread entities), the contact's name and the
//! user's offset.
//!
//! Only what the composer reads is here; other fields (`conversationId`,
//! `correspondents`, a message's `id`, …) are ignored, never rejected.
//! Where JavaScript tells `null` from an absent field in what core writes
//! (a name printed through a template literal reads `null` or
//! `undefined`), the type keeps the difference; a value of a type core
//! cannot have meant (a number for a name) is an error naming its field.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::interface::{LogFormat, TimezoneOffset};

/// `composeSharedSMSLog`'s argument.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedSmsRequest {
    /// Absent: text/plain, as core's default.
    pub log_format: Option<LogFormat>,
    pub conversation: Conversation,
    /// `contactInfo.name`; absent prints `undefined` in core's plain text.
    #[serde(default, deserialize_with = "present")]
    pub contact_name: Option<JsText>,
    /// `user.timezoneOffset`, read by moment's `utcOffset`.
    pub timezone_offset: Option<TimezoneOffset>,
}

/// The shared-SMS thread (App Connect's `logInfo`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    #[serde(default, deserialize_with = "present")]
    pub creation_time: Option<JsTime>,
    /// The call queue or user the thread belongs to; it is what makes a
    /// conversation a shared one.
    pub owner: Option<Owner>,
    /// The message-store records; core reads their `lastModifiedTime`.
    pub messages: Vec<Message>,
    /// The thread's entities (messages, notes, assignments and hints), the
    /// entries of the body.
    pub entities: Option<Vec<Entity>>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub name: Option<String>,
    /// `Department` for a call queue.
    pub extension_type: Option<String>,
}

/// A message-store record.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(default, deserialize_with = "present")]
    pub creation_time: Option<JsTime>,
    #[serde(default, deserialize_with = "present")]
    pub last_modified_time: Option<JsTime>,
}

/// One entity of the thread: an `AliveMessage`, `AliveNote`,
/// `ThreadAssignedHint`, or a record core leaves out of the body
/// (`ThreadCreatedHint`, `ThreadResolvedHint`, `DeletedMessage`, …).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    pub record_type: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub creation_time: Option<JsTime>,
    /// `Inbound` or `Outbound`, for messages.
    pub direction: Option<String>,
    pub author: Option<Person>,
    pub from: Option<Person>,
    pub initiator: Option<Person>,
    pub assignee: Option<Person>,
    pub text: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// Someone an entity names. Core reads only `name`, through `?.`, so a
/// value that is not an object has no name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub struct Person {
    pub name: Option<JsText>,
}

/// A string field JavaScript may find `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum JsText {
    Null,
    Text(String),
}

/// A time as RingCentral sends it: epoch milliseconds or an ISO 8601
/// string (or `null`, which moment reads as an invalid date).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum JsTime {
    Null,
    Millis(f64),
    Text(String),
}

impl JsText {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsText::Null => None,
            JsText::Text(text) => Some(text),
        }
    }
}

/// `a || b` over possibly undefined strings: `a` when it is a non-empty
/// string, else `b` as it is.
pub fn or<'a>(a: Option<&'a JsText>, b: Option<&'a JsText>) -> Option<&'a JsText> {
    match a {
        Some(JsText::Text(text)) if !text.is_empty() => a,
        _ => b,
    }
}

/// A truthy name (a non-empty string), as `if (entity.author?.name)` asks.
pub fn name_of(person: Option<&Person>) -> Option<&JsText> {
    person.and_then(|p| p.name.as_ref())
}

impl TryFrom<Value> for JsText {
    type Error = String;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        match value {
            Value::Null => Ok(JsText::Null),
            Value::String(text) => Ok(JsText::Text(text)),
            other => Err(format!(
                "expected a string or null, found {}",
                crate::js::describe(&other)
            )),
        }
    }
}

impl From<JsText> for Value {
    fn from(text: JsText) -> Value {
        match text {
            JsText::Null => Value::Null,
            JsText::Text(text) => Value::String(text),
        }
    }
}

impl TryFrom<Value> for JsTime {
    type Error = String;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        match value {
            Value::Null => Ok(JsTime::Null),
            Value::Number(n) => Ok(JsTime::Millis(crate::js::number_f64(&n))),
            Value::String(text) => Ok(JsTime::Text(text)),
            other => Err(format!(
                "expected epoch milliseconds or an ISO 8601 string such as 2025-06-03T14:05:09.000Z, found {}",
                crate::js::describe(&other)
            )),
        }
    }
}

impl From<JsTime> for Value {
    fn from(time: JsTime) -> Value {
        match time {
            JsTime::Null => Value::Null,
            JsTime::Millis(millis) => {
                serde_json::Number::from_f64(millis).map_or(Value::Null, Value::Number)
            }
            JsTime::Text(text) => Value::String(text),
        }
    }
}

impl TryFrom<Value> for Person {
    type Error = String;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        let Value::Object(mut fields) = value else {
            return Ok(Person::default());
        };
        let name = match fields.remove("name") {
            None => None,
            Some(name) => Some(JsText::try_from(name).map_err(|e| format!("name: {e}"))?),
        };
        Ok(Person { name })
    }
}

impl From<Person> for Value {
    fn from(person: Person) -> Value {
        let mut fields = serde_json::Map::new();
        if let Some(name) = person.name {
            fields.insert("name".into(), name.into());
        }
        Value::Object(fields)
    }
}

/// A field that is there, `null` included: `Some(value)`. With
/// `#[serde(default)]`, an absent field stays `None` (JavaScript's
/// `undefined`), where a plain `Option` would make `null` absent too.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
