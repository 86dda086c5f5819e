//! How the Insightly face fails: Insightly's API is ASP.NET Web API, whose
//! errors are a status and `{"Message": "…"}`. Every failure of this face,
//! the kit's own (a body that is not JSON, a store that is busy) included,
//! is answered in that shape, and so are the harness's refusals in front
//! of it (an injected fault, the rate limit: `CrmFace::error_answer`),
//! with their status and `Retry-After`. It never answers in mockcrm's
//! `{"error": …}` shape.

use serde_json::json;
use warp::http::StatusCode;

use crate::store::StoreError;
use crate::web::{ApiError, ApiResponse};

/// The header that lists, on a 404 for a path this face does not serve,
/// the routes it does.
pub const HINT_HEADER: &str = "x-mockcrm-hint";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum InsightlyError {
    #[error(
        "Authorization has been denied for this request. Send \
         `Authorization: Basic base64(<API key>:)` with the API key of a user \
         (`mockcrm crms` or GET /__admin/crms prints it)."
    )]
    Unauthorized,
    /// A route this face does not serve; `hint` lists those it does.
    #[error("No HTTP resource was found that matches the request URI '{path}'.")]
    NoRoute { path: String, hint: String },
    #[error("The requested resource does not support http method '{method}'.")]
    WrongMethod { method: String, allowed: String },
    /// A record that is not there (or is not of the kind asked for).
    #[error("{0}")]
    NotFound(String),
    /// A field missing or malformed, or a search Insightly cannot run.
    #[error("{0}")]
    BadRequest(String),
    /// A write the record's state does not allow (a second person linked
    /// to an event).
    #[error("{0}")]
    Conflict(String),
    /// The kit refused the request (its body, its size, its media type),
    /// the store could not answer, or the harness refused it (a fault, the
    /// rate limit): its status and headers, in Insightly's shape.
    #[error("{0}")]
    Kit(ApiError),
}

impl InsightlyError {
    pub fn status(&self) -> StatusCode {
        match self {
            InsightlyError::Unauthorized => StatusCode::UNAUTHORIZED,
            InsightlyError::NoRoute { .. } | InsightlyError::NotFound(_) => StatusCode::NOT_FOUND,
            InsightlyError::WrongMethod { .. } => StatusCode::METHOD_NOT_ALLOWED,
            InsightlyError::BadRequest(_) => StatusCode::BAD_REQUEST,
            InsightlyError::Conflict(_) => StatusCode::CONFLICT,
            InsightlyError::Kit(error) => error.status(),
        }
    }

    /// A missing or malformed field, named as Insightly names it.
    pub fn field(name: &str, problem: impl std::fmt::Display) -> InsightlyError {
        InsightlyError::BadRequest(format!("{name}: {problem}"))
    }

    pub fn into_response(self) -> ApiResponse {
        let response = ApiResponse::json(self.status(), json!({"Message": self.to_string()}));
        match self {
            InsightlyError::Unauthorized => {
                response.with_header("www-authenticate", "Basic realm=\"Insightly\"")
            }
            InsightlyError::NoRoute { hint, .. } => response.with_header(HINT_HEADER, hint),
            InsightlyError::WrongMethod { allowed, .. } => response.with_header("allow", allowed),
            // The kit's headers that tell a client what to do (`Retry-After`,
            // `Allow`) stay; its Bearer challenge is not Insightly's.
            InsightlyError::Kit(error) => {
                let mut response = response;
                response.headers.extend(
                    error
                        .into_response()
                        .headers
                        .into_iter()
                        .filter(|(name, _)| *name != "www-authenticate"),
                );
                response
            }
            _ => response,
        }
    }
}

impl From<ApiError> for InsightlyError {
    fn from(error: ApiError) -> InsightlyError {
        match error {
            ApiError::Unauthorized => InsightlyError::Unauthorized,
            ApiError::NotFound(message) => InsightlyError::NotFound(message),
            ApiError::InvalidField { field, message } => {
                InsightlyError::BadRequest(format!("{field}: {message}"))
            }
            other => InsightlyError::Kit(other),
        }
    }
}

impl From<StoreError> for InsightlyError {
    fn from(error: StoreError) -> InsightlyError {
        match error {
            StoreError::UnknownContact { contact_id } => {
                InsightlyError::BadRequest(format!("LINK_OBJECT_ID: no contact {contact_id}"))
            }
            other => InsightlyError::from(ApiError::from(other)),
        }
    }
}

pub type Answer = Result<ApiResponse, InsightlyError>;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body(response: &ApiResponse) -> Value {
        serde_json::from_slice(&response.body_bytes()).expect("JSON")
    }

    #[test]
    fn every_error_is_a_message_with_its_status() {
        let response =
            InsightlyError::NotFound("No Event with EVENT_ID 7 was found.".into()).into_response();
        assert_eq!(response.status, StatusCode::NOT_FOUND);
        assert_eq!(
            body(&response),
            json!({"Message": "No Event with EVENT_ID 7 was found."})
        );
        let kit = InsightlyError::from(ApiError::InvalidJson("EOF".into())).into_response();
        assert_eq!(kit.status, StatusCode::BAD_REQUEST);
        assert!(body(&kit)["Message"]
            .as_str()
            .is_some_and(|m| m.contains("EOF")));
        assert!(body(&kit).get("error").is_none(), "never mockcrm's shape");
    }

    #[test]
    fn an_unserved_route_carries_the_hint_and_a_wrong_method_the_allow_header() {
        let response = InsightlyError::NoRoute {
            path: "/v3.1/tasks".into(),
            hint: "GET /v3.1/users/me".into(),
        }
        .into_response();
        assert!(response
            .headers
            .contains(&(HINT_HEADER, "GET /v3.1/users/me".to_owned())));
        let response = InsightlyError::WrongMethod {
            method: "DELETE".into(),
            allowed: "GET".into(),
        }
        .into_response();
        assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(response.headers.contains(&("allow", "GET".to_owned())));
    }

    #[test]
    fn the_harness_refusals_keep_status_and_retry_after() {
        let limited = InsightlyError::from(ApiError::RateLimited {
            per_second: 5,
            retry_after: 2,
        })
        .into_response();
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(limited.headers.contains(&("retry-after", "2".to_owned())));
        assert!(body(&limited)["Message"].is_string());
        let busy = InsightlyError::from(StoreError::Busy { capacity: 3 }).into_response();
        assert_eq!(busy.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(busy.headers.iter().any(|(name, _)| *name == "retry-after"));
        assert!(body(&busy).get("error").is_none(), "never mockcrm's shape");
    }

    #[test]
    fn a_gone_organisation_is_a_401() {
        let error = InsightlyError::from(StoreError::OrganisationGone);
        assert_eq!(error, InsightlyError::Unauthorized);
    }
}
