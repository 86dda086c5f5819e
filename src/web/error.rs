//! Every way an HTTP request can fail, and the JSON body each one answers.

use serde_json::json;
use warp::http::StatusCode;

use super::response::ApiResponse;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ApiError {
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("{field}: {message}")]
    InvalidField { field: String, message: String },
    #[error("missing or unknown API key: send `Authorization: Bearer <api key>` or `Authorization: Basic base64(<api key>:)`")]
    Unauthorized,
    /// A served proxy config's credentials were missing or named no user.
    #[error("missing or unknown API key: {0}")]
    ProxyUnauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{method} is not allowed on {path}; allowed: {allowed}")]
    MethodNotAllowed {
        method: String,
        path: String,
        allowed: String,
    },
    #[error("request body is larger than {limit} bytes; send a smaller body")]
    PayloadTooLarge { limit: usize },
    #[error("the request body did not arrive within {} s; send the whole body without pausing", .0.as_secs_f64())]
    RequestTimeout(std::time::Duration),
    #[error("Content-Type {0:?} is not supported; send `Content-Type: application/json`")]
    UnsupportedMediaType(String),
    #[error("Idempotency-Key {0:?} was already used with a different request body; use a new key for a different request")]
    IdempotencyMismatch(String),
    #[error(
        "more than {per_second} requests per second for this API key; retry after {retry_after} s"
    )]
    RateLimited { per_second: u32, retry_after: u64 },
    #[error("fault {fault_id} injected by a test (see GET /__admin/faults)")]
    Injected {
        fault_id: String,
        status: StatusCode,
        retry_after: Option<u64>,
    },
    #[error("missing or wrong admin key: send `Authorization: Bearer <admin key>` (the server's --admin-key)")]
    AdminUnauthorized,
    /// A request the review page will not act on (another site's form, a
    /// stale token, a host name that is not this server's).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The server is at a limit (its store's queue or its connections):
    /// nothing of the request was done.
    #[error("mockcrm is overloaded ({reason}); nothing was done, retry after {retry_after} s")]
    Overloaded { reason: String, retry_after: u64 },
    /// A request hyper could not parse (it answers those itself; see
    /// `server::parse_errors`): 400, 414 or 431.
    #[error("{}", unreadable_message(*.0))]
    Unreadable(StatusCode),
    #[error("internal error: {0}; this is a mockcrm bug, please report it")]
    Internal(String),
}

impl ApiError {
    /// An answer that could not be written as JSON: a bug, never the
    /// client's doing.
    pub fn encoding(error: serde_json::Error) -> ApiError {
        ApiError::Internal(format!("cannot encode the answer: {error}"))
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidJson(_) | ApiError::InvalidField { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::ProxyUnauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::IdempotencyMismatch(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Injected { status, .. } => *status,
            ApiError::AdminUnauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unreadable(status) => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::InvalidField { .. } => "invalid_field",
            ApiError::Unauthorized | ApiError::ProxyUnauthorized(_) => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::IdempotencyMismatch(_) => "idempotency_mismatch",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Injected { status, .. } => injected_code(*status),
            ApiError::AdminUnauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::Overloaded { .. } => "overloaded",
            ApiError::Unreadable(status) => match status.as_u16() {
                414 => "uri_too_long",
                431 => "headers_too_large",
                _ => "bad_request",
            },
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn into_response(self) -> ApiResponse {
        let body = json!({"error": {"code": self.code(), "message": self.to_string()}});
        let response = ApiResponse::json(self.status(), body);
        match self {
            ApiError::MethodNotAllowed { allowed, .. } => response.with_header("allow", allowed),
            ApiError::Unauthorized
            | ApiError::ProxyUnauthorized(_)
            | ApiError::AdminUnauthorized => response.with_header("www-authenticate", "Bearer"),
            ApiError::RateLimited { retry_after, .. }
            | ApiError::Overloaded { retry_after, .. }
            | ApiError::Injected {
                retry_after: Some(retry_after),
                ..
            } => response.with_header("retry-after", retry_after.to_string()),
            _ => response,
        }
    }
}

/// Seconds an overloaded server asks a client to wait: long enough for a
/// queue of group commits to drain, short enough not to stall a test run.
pub const OVERLOAD_RETRY_AFTER: u64 = 1;

fn unreadable_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        414 => "the request target is too long; send a shorter path and query",
        431 => "the request headers are too large; send fewer or shorter headers",
        _ => "the request is not valid HTTP/1.1 (its request line, a header, or the body's framing); send a well-formed request",
    }
}

/// The code an injected status answers with: the one mockcrm itself would
/// use for that status, so connectors see realistic bodies.
fn injected_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "invalid_field",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        408 => "request_timeout",
        409 => "conflict",
        413 => "payload_too_large",
        422 => "idempotency_mismatch",
        429 => "rate_limited",
        500 => "internal",
        502 => "bad_gateway",
        503 => "service_unavailable",
        504 => "gateway_timeout",
        _ => "injected_fault",
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            StoreError::UnknownContact { contact_id } => ApiError::field(
                "contact_id",
                format!(
                    "no contact with id {contact_id:?} in your organisation; \
                     create it with POST /contact or leave contact_id out"
                ),
            ),
            StoreError::NotFound(what) => ApiError::NotFound(format!("no such {what}")),
            // The key was good when the request came in; it is not now.
            StoreError::OrganisationGone => ApiError::Unauthorized,
            StoreError::NameTaken(_) => ApiError::Conflict(error.to_string()),
            StoreError::Busy { .. } => ApiError::Overloaded {
                reason: error.to_string(),
                retry_after: OVERLOAD_RETRY_AFTER,
            },
            other => {
                tracing::error!(error = %other, "store failed");
                ApiError::Internal(other.to_string())
            }
        }
    }
}
