//! The OpenAPI 3.1 document (`openapi.json` beside this file) and its route,
//! `GET /openapi.json`. It is served as it is, with no auth, and is not
//! journaled: it describes the server rather than being part of the CRM.

use bytes::Bytes;
use warp::http::StatusCode;

use super::request::ApiRequest;
use super::response::ApiResponse;
use super::routes::{self, Endpoint};

/// The document, as it is served. `tests/suite/openapi.rs` checks that it parses
/// and that it describes exactly the route table.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub fn answer(request: &ApiRequest) -> warp::reply::Response {
    let found = super::resolved(
        request,
        routes::resolve(&request.method, &request.path),
        |endpoint| (endpoint == Endpoint::OpenApi).then_some(()),
        "the document is GET /openapi.json",
    );
    let response = match found {
        Ok(_) => ApiResponse {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Some(Bytes::from_static(DOCUMENT.as_bytes())),
        },
        Err(error) => error.into_response(),
    };
    response.into_warp()
}
