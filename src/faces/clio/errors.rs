//! Every way a Clio request fails, answered in Clio's own error shape
//! (`{"error": {"type", "message"}}`) and status: 401 for a missing, bad or
//! expired token, 404 for a missing record or route, 422 for a record that
//! does not validate, 400 for a request that cannot be read. It never
//! answers in mockcrm's own shape: a connector written for Clio reads
//! these. (Faults and the rate limit, which stand for a gateway in front of
//! the CRM, are the harness's and keep mockcrm's shape.)

use serde_json::json;
use warp::http::StatusCode;

use crate::store::StoreError;
use crate::web::{ApiError, ApiResponse};

pub use crate::web::oauth::TokenProblem;

#[derive(Debug, thiserror::Error)]
pub enum ClioError {
    #[error("{}", unauthorized_message(*.0))]
    Unauthorized(TokenProblem),
    /// A request Clio cannot read (a bad `fields`, a bad id, bad JSON).
    #[error("{0}")]
    BadRequest(String),
    /// A record that does not validate.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// A write this face cannot keep beside what is there (a second time
    /// entry on one communication).
    #[error("{0}")]
    Conflict(String),
    #[error("Unknown route {method} {path}: mockcrm's Clio face serves only what App Connect's Clio connector calls (header x-mockcrm-hint lists them; README.md, section Clio)")]
    UnknownRoute {
        method: String,
        path: String,
        served: String,
    },
    #[error("Method {method} is not allowed here; allowed: {allowed}")]
    WrongMethod { method: String, allowed: String },
    /// What went wrong beneath the face (the store, a body the kit could
    /// not read), kept with its status.
    #[error("{0}")]
    Kit(ApiError),
}

fn unauthorized_message(problem: TokenProblem) -> &'static str {
    match problem {
        TokenProblem::Missing => "Unauthorized: send Authorization: Bearer <access token> (mockcrm crms gives one, or exchange its code at the token endpoint)",
        TokenProblem::Invalid => "Unauthorized: the access token is invalid (unknown or revoked); get a new one from the token endpoint",
        TokenProblem::Expired => "Unauthorized: the access token has expired; refresh it with grant_type=refresh_token at the token endpoint",
    }
}

impl ClioError {
    fn status(&self) -> StatusCode {
        match self {
            ClioError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ClioError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ClioError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ClioError::NotFound(_) | ClioError::UnknownRoute { .. } => StatusCode::NOT_FOUND,
            ClioError::WrongMethod { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ClioError::Conflict(_) => StatusCode::CONFLICT,
            ClioError::Kit(error) => error.status(),
        }
    }

    /// Clio's name for the kind of error, its `error.type`.
    fn kind(&self) -> &'static str {
        match self {
            ClioError::Unauthorized(_) => "Unauthorized",
            ClioError::BadRequest(_) => "BadRequest",
            ClioError::Invalid(_) => "ValidationError",
            ClioError::NotFound(_) | ClioError::UnknownRoute { .. } => "RecordNotFound",
            ClioError::WrongMethod { .. } => "MethodNotAllowed",
            ClioError::Conflict(_) => "Conflict",
            ClioError::Kit(error) if error.status().is_server_error() => "ServiceUnavailable",
            ClioError::Kit(_) => "BadRequest",
        }
    }

    pub fn into_response(self) -> ApiResponse {
        let status = self.status();
        let body = json!({"error": {"type": self.kind(), "message": self.to_string()}});
        let response = ApiResponse::json(status, body);
        match self {
            ClioError::UnknownRoute { served, .. } => {
                response.with_header("x-mockcrm-hint", served)
            }
            ClioError::WrongMethod { allowed, .. } => response.with_header("allow", allowed),
            ClioError::Kit(error) => crate::web::crm::with_kit_advice(response, error),
            _ => response,
        }
    }
}

impl From<ApiError> for ClioError {
    fn from(error: ApiError) -> ClioError {
        match error {
            ApiError::InvalidJson(_)
            | ApiError::InvalidField { .. }
            | ApiError::UnsupportedMediaType(_) => ClioError::BadRequest(error.to_string()),
            other => ClioError::Kit(other),
        }
    }
}

impl From<StoreError> for ClioError {
    fn from(error: StoreError) -> ClioError {
        match error {
            StoreError::UnknownContact { contact_id } => ClioError::NotFound(format!(
                "Contact {contact_id} not found; create it with POST /api/v4/contacts.json"
            )),
            other => ClioError::Kit(ApiError::from(other)),
        }
    }
}

pub type Answer = Result<ApiResponse, ClioError>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn a_401_says_why_in_clios_shape() {
        let response = ClioError::Unauthorized(TokenProblem::Expired).into_response();
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        let body: Value = serde_json::from_slice(&response.body_bytes()).expect("JSON");
        assert_eq!(body["error"]["type"], "Unauthorized");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|text| text.contains("expired")));
    }

    #[test]
    fn an_overloaded_store_keeps_its_retry_after() {
        let response = ClioError::from(StoreError::Busy { capacity: 3 }).into_response();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(response
            .headers
            .iter()
            .any(|(name, _)| *name == "retry-after"));
    }
}
