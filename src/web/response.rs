//! The one response type handlers build; turned into a warp reply at the edge.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;
use warp::http::{HeaderValue, StatusCode};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body as it goes on the wire, encoded once, shared with the
    /// journal; `None` for bodiless answers such as 204.
    pub body: Option<Bytes>,
}

impl ApiResponse {
    pub fn json(status: StatusCode, body: Value) -> ApiResponse {
        ApiResponse::json_text(status, body.to_string())
    }

    pub fn ok(body: Value) -> ApiResponse {
        ApiResponse::json(StatusCode::OK, body)
    }

    /// Encodes `body` straight to JSON text, without building a `Value`,
    /// into a buffer of `capacity` bytes to start with (an activity: its
    /// body and a little), so it is allocated once.
    pub fn encode_sized(
        status: StatusCode,
        body: &impl Serialize,
        capacity: usize,
    ) -> Result<ApiResponse, serde_json::Error> {
        let mut bytes = Vec::with_capacity(capacity);
        serde_json::to_writer(&mut bytes, body)?;
        bytes.shrink_to_fit();
        Ok(ApiResponse {
            status,
            headers: Vec::new(),
            body: Some(Bytes::from(bytes)),
        })
    }

    /// A body that is already JSON text (a stored idempotent answer).
    pub fn json_text(status: StatusCode, text: String) -> ApiResponse {
        let mut bytes = text.into_bytes();
        // The journal keeps this buffer; growth slack would be kept with it.
        bytes.shrink_to_fit();
        ApiResponse {
            status,
            headers: Vec::new(),
            body: Some(Bytes::from(bytes)),
        }
    }

    pub fn no_content() -> ApiResponse {
        ApiResponse {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> ApiResponse {
        self.headers.push((name, value.into()));
        self
    }

    /// The body as the bytes that go on the wire (empty when there is none);
    /// a cheap clone of the shared buffer.
    pub fn body_bytes(&self) -> Bytes {
        self.body.clone().unwrap_or_default()
    }

    pub fn into_warp(self) -> warp::reply::Response {
        let body = self.body_bytes();
        self.into_warp_with(body)
    }

    /// Builds the reply around a body already encoded by `body_bytes`.
    pub fn into_warp_with(self, body: Bytes) -> warp::reply::Response {
        let mut response = warp::reply::Response::new(body.into());
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if self.body.is_some() {
            headers.insert(
                "content-type",
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
        for (name, value) in self.headers {
            // Header values are built by mockcrm itself; one that is not
            // valid would be a bug, and is dropped rather than answered.
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}
