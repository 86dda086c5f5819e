//! The OpenAPI 3.1 document (`openapi.json` beside this file) and its route,
//! `GET /openapi.json`. It is served as it is, with no auth, and is not
//! journaled: it describes the server rather than being part of the CRM.

use bytes::Bytes;
use warp::http::HeaderValue;

use super::error::ApiError;
use super::request::ApiRequest;
use super::routes::{self, Endpoint, Resolution};

/// The document, as it is served. `tests/openapi.rs` checks that it parses
/// and that it describes exactly the route table.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn answer(request: &ApiRequest) -> warp::reply::Response {
    let error = match routes::resolve(&request.method, &request.path) {
        Resolution::Found {
            endpoint: Endpoint::OpenApi,
            ..
        } => {
            let mut response =
                warp::reply::Response::new(Bytes::from_static(DOCUMENT.as_bytes()).into());
            response.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            return response;
        }
        Resolution::WrongMethod { allowed } => ApiError::MethodNotAllowed {
            method: request.method.to_string(),
            path: request.path.clone(),
            allowed,
        },
        Resolution::Found { .. } | Resolution::NotFound => {
            ApiError::NotFound(format!("no route {} {}", request.method, request.path))
        }
    };
    error.into_response().into_warp()
}
