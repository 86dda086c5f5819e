//! An incoming request, already read off the wire, and the parsing every
//! handler shares: JSON bodies, query strings, well-known headers.

use bytes::Bytes;
use serde_json::{Map, Value};
use warp::http::{HeaderMap, Method};

use super::error::ApiError;

/// Bodies over this many bytes are refused with 413 `payload_too_large`.
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub headers: HeaderMap,
    /// `None` when the body was over `BODY_LIMIT` and reading stopped.
    pub body: Option<Bytes>,
    /// The id the journal will record this request under, reserved before
    /// it is answered so that what it writes can name it (a revision
    /// does); `None` for requests that are not journaled.
    pub journal_id: Option<u64>,
}

impl ApiRequest {
    /// The body as a JSON object, after the media-type and size checks.
    pub fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        if let Some(content_type) = self.headers.get("content-type") {
            let content_type = content_type.to_str().unwrap_or("(not text)");
            let essence = content_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType(content_type.to_owned()));
            }
        }
        let body = self
            .body
            .as_ref()
            .ok_or(ApiError::PayloadTooLarge { limit: BODY_LIMIT })?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::InvalidJson(
                "the body is empty; send a JSON object".into(),
            ));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) => Ok(object),
            Ok(other) => Err(ApiError::InvalidJson(format!(
                "expected a JSON object, got {}",
                json_kind(&other)
            ))),
            Err(error) => Err(ApiError::InvalidJson(error.to_string())),
        }
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .last()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Typed access to the fields of a JSON object body, with errors that name
/// the field.
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn new(object: &'a Map<String, Value>) -> Fields<'a> {
        Fields { object }
    }

    pub fn has(&self, name: &str) -> bool {
        self.object.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name)
    }

    /// A string that must be present and not blank.
    pub fn required_text(&self, name: &str) -> Result<String, ApiError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Err(ApiError::field(name, "is required")),
            Some(_) => self
                .optional_text(name)?
                .ok_or_else(|| ApiError::field(name, "is required")),
        }
    }

    /// A string when present; `null` counts as absent; blank is refused.
    pub fn optional_text(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => {
                Err(ApiError::field(name, "must not be empty"))
            }
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(ApiError::field(
                name,
                format!("must be a string, got {}", json_kind(other)),
            )),
        }
    }

    /// A string that may be empty (bodies).
    pub fn optional_any_text(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.object.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(ApiError::field(
                name,
                format!("must be a string, got {}", json_kind(other)),
            )),
        }
    }
}
