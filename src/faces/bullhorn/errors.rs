//! Every way a Bullhorn request fails, answered in Bullhorn's own error
//! shape (`{"errorMessage", "errorMessageKey", "errorCode"}`, with
//! `entityName` and `errors[]` for an entity that cannot be saved) and
//! status; the OAuth server's are RFC 6749's (`{"error",
//! "error_description"}`). It never answers in mockcrm's own shape: a
//! connector written for Bullhorn reads these. (Faults and the rate limit,
//! which stand for a gateway in front of the CRM, are the harness's.)

use serde_json::{json, Value};
use warp::http::StatusCode;

use crate::store::StoreError;
use crate::web::oauth::OAuthError;
use crate::web::{ApiError, ApiResponse};

#[derive(Debug, thiserror::Error)]
pub enum BullhornError {
    /// No `BhRestToken`, an unknown or expired one, or one of another
    /// corporation.
    #[error("Bad 'BhRestToken' or timed-out. Sign in again: POST …/rest-services/login?version=2.0&access_token=<access token> (mockcrm crms gives one)")]
    BadSession,
    /// `/login` with no access token, or one unknown or expired.
    #[error("Invalid or expired OAuth access token; get a new one from the token endpoint (grant_type=refresh_token, or the code mockcrm crms gives)")]
    BadAccessToken,
    /// A field of an entity to save is missing or wrong.
    #[error("error persisting an entity of type: {entity}: {property} {problem}")]
    CannotPersist {
        entity: String,
        property: String,
        problem: String,
        kind: &'static str,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("Cannot find entity of type: {entity} with id: {id}")]
    EntityNotFound { entity: String, id: String },
    #[error("Unknown route {method} {path}: mockcrm's Bullhorn face serves only what App Connect's Bullhorn connector calls (header x-mockcrm-hint lists them)")]
    UnknownRoute {
        method: String,
        path: String,
        served: String,
    },
    #[error("HTTP method {method} is not supported by this URL; allowed: {allowed}")]
    WrongMethod { method: String, allowed: String },
    /// The OAuth server's refusals.
    #[error(transparent)]
    OAuth(OAuthError),
    /// What went wrong beneath the face (the store, a body the kit could
    /// not read), kept with its status.
    #[error("{0}")]
    Kit(ApiError),
}

impl BullhornError {
    fn status(&self) -> StatusCode {
        match self {
            BullhornError::BadSession | BullhornError::BadAccessToken => StatusCode::UNAUTHORIZED,
            BullhornError::CannotPersist { .. } | BullhornError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            BullhornError::EntityNotFound { .. } | BullhornError::UnknownRoute { .. } => {
                StatusCode::NOT_FOUND
            }
            BullhornError::WrongMethod { .. } => StatusCode::METHOD_NOT_ALLOWED,
            BullhornError::OAuth(error) => match error {
                OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
                OAuthError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            },
            BullhornError::Kit(error) => error.status(),
        }
    }

    fn message_key(&self) -> &'static str {
        match self {
            BullhornError::BadSession => "errors.authentication.invalidRestToken",
            BullhornError::BadAccessToken => "errors.authentication.invalidAccessToken",
            BullhornError::CannotPersist { .. } => "errors.cannotPersistEntity",
            BullhornError::BadRequest(_) => "errors.badRequest",
            BullhornError::EntityNotFound { .. } => "errors.cannotFindEntity",
            BullhornError::UnknownRoute { .. } => "errors.notFound",
            BullhornError::WrongMethod { .. } => "errors.methodNotAllowed",
            BullhornError::OAuth(_) => "errors.oauth",
            BullhornError::Kit(_) => "errors.internal",
        }
    }

    pub fn into_response(self) -> ApiResponse {
        let status = self.status();
        if let BullhornError::OAuth(error) = &self {
            return ApiResponse::json(
                status,
                json!({"error": error.code(), "error_description": error.to_string()}),
            );
        }
        let mut body = json!({
            "errorMessage": self.to_string(),
            "errorMessageKey": self.message_key(),
            "errorCode": status.as_u16(),
        });
        match &self {
            BullhornError::CannotPersist {
                entity,
                property,
                problem,
                kind,
            } => {
                body["entityName"] = Value::from(entity.as_str());
                body["errors"] = json!([{
                    "propertyName": property,
                    "severity": "ERROR",
                    "type": kind,
                    "detailMessage": problem,
                }]);
            }
            BullhornError::EntityNotFound { entity, .. } => {
                body["entityName"] = Value::from(entity.as_str());
            }
            _ => {}
        }
        let response = ApiResponse::json(status, body);
        match self {
            BullhornError::UnknownRoute { served, .. } => {
                response.with_header("x-mockcrm-hint", served)
            }
            BullhornError::WrongMethod { allowed, .. } => response.with_header("allow", allowed),
            BullhornError::Kit(error) => crate::web::crm::with_kit_advice(response, error),
            _ => response,
        }
    }

    /// A required property of `entity` missing from the request.
    pub fn required(entity: &str, property: &str) -> BullhornError {
        BullhornError::CannotPersist {
            entity: entity.to_owned(),
            property: property.to_owned(),
            problem: "is required".into(),
            kind: "MISSING_REQUIRED_PROPERTY",
        }
    }

    /// A property of `entity` whose value cannot be taken.
    pub fn invalid(entity: &str, property: &str, problem: impl Into<String>) -> BullhornError {
        BullhornError::CannotPersist {
            entity: entity.to_owned(),
            property: property.to_owned(),
            problem: problem.into(),
            kind: "INVALID_VALUE",
        }
    }
}

impl From<ApiError> for BullhornError {
    fn from(error: ApiError) -> BullhornError {
        match error {
            ApiError::InvalidJson(_)
            | ApiError::InvalidField { .. }
            | ApiError::UnsupportedMediaType(_) => BullhornError::BadRequest(error.to_string()),
            other => BullhornError::Kit(other),
        }
    }
}

impl From<StoreError> for BullhornError {
    fn from(error: StoreError) -> BullhornError {
        match error {
            StoreError::UnknownContact { contact_id } => BullhornError::invalid(
                "Note",
                "personReference",
                format!("names no ClientContact, Candidate or Lead with id {contact_id}"),
            ),
            other => BullhornError::Kit(ApiError::from(other)),
        }
    }
}

impl From<OAuthError> for BullhornError {
    fn from(error: OAuthError) -> BullhornError {
        BullhornError::OAuth(error)
    }
}

pub type Answer = Result<ApiResponse, BullhornError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &ApiResponse) -> Value {
        serde_json::from_slice(&response.body_bytes()).expect("JSON")
    }

    #[test]
    fn a_bad_session_is_bullhorns_401() {
        let response = BullhornError::BadSession.into_response();
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        let body = body(&response);
        assert_eq!(body["errorCode"], 401);
        assert_eq!(
            body["errorMessageKey"],
            "errors.authentication.invalidRestToken"
        );
    }

    #[test]
    fn a_missing_property_names_it() {
        let response = BullhornError::required("Note", "personReference").into_response();
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        let body = body(&response);
        assert_eq!(body["entityName"], "Note");
        assert_eq!(body["errors"][0]["propertyName"], "personReference");
    }

    #[test]
    fn an_overloaded_store_keeps_its_retry_after() {
        let response = BullhornError::from(StoreError::Busy { capacity: 3 }).into_response();
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(response
            .headers
            .iter()
            .any(|(name, _)| *name == "retry-after"));
    }
}
