//! How the Redtail face fails: Redtail's statuses, with its error body
//! `{"errors": ["…"]}` (the shape of its Rails API: a list of messages).
//! Errors from the kit (a body that is not JSON, a store that is busy) and
//! the harness's refusals in front of the face (an injected fault, the rate
//! limit: `CrmFace::error_answer`) keep their status and `Retry-After` and
//! get the same body. Never mockcrm's own error shape.

use serde_json::json;
use warp::http::StatusCode;

use crate::store::StoreError;
use crate::web::{ApiError, ApiResponse};

/// The header that tells a caller which routes the face serves, on a 404
/// for a route it does not.
pub const HINT_HEADER: &str = "x-mockcrm-hint";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RedtailError {
    /// No credentials, unknown ones, or another partner's API key.
    #[error("{0}")]
    Unauthorized(String),
    /// A record the caller's database does not hold.
    #[error("{0}")]
    NotFound(String),
    /// A route the face does not serve; `hint` lists the ones it does.
    #[error("no route matches {method} {path}")]
    NoRoute {
        method: String,
        path: String,
        hint: String,
    },
    /// A served path with a method it does not take.
    #[error("{method} is not allowed on {path}; allowed: {allowed}")]
    WrongMethod {
        method: String,
        path: String,
        allowed: String,
        hint: String,
    },
    /// A field missing or of the wrong kind, as Redtail refuses a record it
    /// cannot save.
    #[error("{field} {message}")]
    Unprocessable { field: String, message: String },
    /// Anything the kit or the store refused, with its own status.
    #[error("{0}")]
    Kit(ApiError),
}

impl RedtailError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> RedtailError {
        RedtailError::Unprocessable {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn into_response(self) -> ApiResponse {
        let message = self.to_string();
        let body = |status| ApiResponse::json(status, json!({ "errors": [message] }));
        match self {
            RedtailError::Unauthorized(_) => body(StatusCode::UNAUTHORIZED),
            RedtailError::NotFound(_) => body(StatusCode::NOT_FOUND),
            RedtailError::NoRoute { hint, .. } => {
                body(StatusCode::NOT_FOUND).with_header(HINT_HEADER, hint)
            }
            RedtailError::WrongMethod { allowed, hint, .. } => body(StatusCode::METHOD_NOT_ALLOWED)
                .with_header("allow", allowed)
                .with_header(HINT_HEADER, hint),
            RedtailError::Unprocessable { .. } => body(StatusCode::UNPROCESSABLE_ENTITY),
            RedtailError::Kit(error) => {
                // The kit's headers (Retry-After on 503) stay; its body
                // becomes Redtail's.
                let mut response = error.into_response();
                response
                    .headers
                    .retain(|(name, _)| *name != "www-authenticate");
                let status = response.status;
                let headers = std::mem::take(&mut response.headers);
                let mut answer = body(status);
                answer.headers = headers;
                answer
            }
        }
    }
}

impl From<ApiError> for RedtailError {
    fn from(error: ApiError) -> RedtailError {
        match error {
            ApiError::NotFound(message) => RedtailError::NotFound(message),
            ApiError::Unauthorized | ApiError::ProxyUnauthorized(_) => {
                RedtailError::Unauthorized(UNAUTHORIZED.into())
            }
            other => RedtailError::Kit(other),
        }
    }
}

impl From<StoreError> for RedtailError {
    fn from(error: StoreError) -> RedtailError {
        match error {
            StoreError::UnknownContact { contact_id } => RedtailError::field(
                "linked_contacts",
                format!("names contact {contact_id}, which is not in your database; find it with GET /contacts/search_basic or create it with POST /contacts"),
            ),
            other => ApiError::from(other).into(),
        }
    }
}

/// What a request without usable credentials is told.
pub const UNAUTHORIZED: &str = "Unauthorized: sign in with GET /authentication and `Authorization: Basic base64(<api key>:<username>:<password>)`, then send `Authorization: base64(<api key>:<user_key>)`; `mockcrm crms` prints the key, username and password";
