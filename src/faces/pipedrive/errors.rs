//! Every way a Pipedrive request fails, answered in Pipedrive's own error
//! shape (`{"success": false, "error": …, "error_info": …}`, with
//! `errorCode` on a 401) and status. It never answers in mockcrm's own
//! shape: a connector written for Pipedrive reads these, the harness's
//! refusals in front of the face (an injected fault, the rate limit:
//! `CrmFace::error_answer`) included, with their `Retry-After`.

use serde_json::{json, Value};
use warp::http::StatusCode;

use crate::store::StoreError;
use crate::web::{ApiError, ApiResponse};

/// Where a user learns what this face serves; Pipedrive points at its
/// developer site here, mockcrm at its own docs.
const ERROR_INFO: &str =
    "mockcrm's Pipedrive face: see README.md (section Pipedrive) or GET /openapi.json";

pub use crate::web::oauth::TokenProblem;

#[derive(Debug, thiserror::Error)]
pub enum PipedriveError {
    #[error("{}", unauthorized_message(*.0))]
    Unauthorized(TokenProblem),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("Unknown route {method} {path}: mockcrm's Pipedrive face serves only what App Connect's Pipedrive connector calls (header x-mockcrm-hint lists them)")]
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
        TokenProblem::Missing => "unauthorized access: send Authorization: Bearer <access token> (mockcrm crms gives one, or exchange its code at the token endpoint)",
        TokenProblem::Invalid => "Invalid token: access token is invalid (unknown or revoked); get a new one from the token endpoint",
        TokenProblem::Expired => "Invalid token: access token has expired; refresh it with grant_type=refresh_token at the token endpoint",
    }
}

impl PipedriveError {
    fn status(&self) -> StatusCode {
        match self {
            PipedriveError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            PipedriveError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PipedriveError::NotFound(_) | PipedriveError::UnknownRoute { .. } => {
                StatusCode::NOT_FOUND
            }
            PipedriveError::WrongMethod { .. } => StatusCode::METHOD_NOT_ALLOWED,
            PipedriveError::Kit(error) => error.status(),
        }
    }

    pub fn into_response(self) -> ApiResponse {
        let status = self.status();
        let mut body = json!({
            "success": false,
            "error": self.to_string(),
            "error_info": ERROR_INFO,
            "data": Value::Null,
            "additional_data": Value::Null,
        });
        if status == StatusCode::UNAUTHORIZED {
            body["errorCode"] = json!(401);
        }
        let response = ApiResponse::json(status, body);
        match self {
            PipedriveError::UnknownRoute { served, .. } => {
                response.with_header("x-mockcrm-hint", served)
            }
            PipedriveError::WrongMethod { allowed, .. } => response.with_header("allow", allowed),
            PipedriveError::Kit(error) => crate::web::crm::with_kit_advice(response, error),
            _ => response,
        }
    }
}

impl From<ApiError> for PipedriveError {
    fn from(error: ApiError) -> PipedriveError {
        match error {
            ApiError::InvalidJson(_)
            | ApiError::InvalidField { .. }
            | ApiError::UnsupportedMediaType(_) => PipedriveError::BadRequest(error.to_string()),
            other => PipedriveError::Kit(other),
        }
    }
}

impl From<StoreError> for PipedriveError {
    fn from(error: StoreError) -> PipedriveError {
        match error {
            StoreError::UnknownContact { contact_id } => PipedriveError::NotFound(format!(
                "Person with id {contact_id} not found in your company; create it with POST /v1/persons"
            )),
            other => PipedriveError::Kit(ApiError::from(other)),
        }
    }
}

pub type Answer = Result<ApiResponse, PipedriveError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_says_why_in_pipedrives_shape() {
        let response = PipedriveError::Unauthorized(TokenProblem::Expired).into_response();
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        let body: Value = serde_json::from_slice(&response.body_bytes()).expect("JSON");
        assert_eq!(body["success"], false);
        assert_eq!(body["errorCode"], 401);
        assert!(body["error"]
            .as_str()
            .is_some_and(|text| text.contains("expired")));
    }

    #[test]
    fn an_overloaded_store_keeps_its_retry_after() {
        let error = PipedriveError::from(StoreError::Busy { capacity: 3 });
        let response = error.into_response();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(response
            .headers
            .iter()
            .any(|(name, _)| *name == "retry-after"));
    }
}
