//! The one response type handlers build; turned into a warp reply at the edge.

use bytes::Bytes;
use serde_json::Value;
use warp::http::{HeaderValue, StatusCode};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    /// `None` for bodiless answers such as 204.
    pub body: Option<Value>,
}

impl ApiResponse {
    pub fn json(status: StatusCode, body: Value) -> ApiResponse {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn ok(body: Value) -> ApiResponse {
        ApiResponse::json(StatusCode::OK, body)
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

    /// The body as the bytes that go on the wire (empty when there is none).
    pub fn body_bytes(&self) -> Bytes {
        match &self.body {
            Some(value) => Bytes::from(value.to_string()),
            None => Bytes::new(),
        }
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
