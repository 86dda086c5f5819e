//! The HTTP kit every face stands on: the request as read off the wire, the
//! answer, mockcrm's own error shape, reading credentials, paging, route
//! tables, and the harness (rate limit, faults, journal) that wraps the
//! faces whose traffic a test inspects. It knows no face: `server` hands
//! `routes` the front (`faces::handle`) that picks one.

mod auth;
mod body;
pub mod crm;
mod error;
pub mod harness;
mod idempotency;
pub mod oauth;
mod org;
mod paging;
mod records;
mod request;
mod response;
mod state;
pub mod table;

use std::future::Future;
use std::time::Duration;

use warp::http::{HeaderMap, Method};
use warp::Filter;

pub use auth::{api_key_from_header, basic_header_for_key};
pub use error::{ApiError, OVERLOAD_RETRY_AFTER};
pub use harness::ConnectionFault;
pub use idempotency::{idempotency_key, request_hash};
pub use org::{no_such_organisation, org_param, org_scope};
pub use paging::{encode_cursor, page_params};
pub use records::ActivityJson;
pub use request::{json_kind, ApiRequest, Fields, BODY_LIMIT};
pub use response::ApiResponse;
pub use state::AppState;

/// Every route as one warp filter: reads the request (a body must arrive
/// within `read_timeout` of the headers, and is capped at `BODY_LIMIT`) and
/// hands it to `front`, which picks the face that answers it.
pub fn routes<Front, Answering>(
    front: Front,
    read_timeout: Duration,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone
where
    Front: Fn(ApiRequest) -> Answering + Clone + Send + Sync + 'static,
    Answering: Future<Output = warp::reply::Response> + Send,
{
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .and(warp::body::stream())
        .then(
            move |method: Method,
                  path: warp::path::FullPath,
                  query: String,
                  headers: HeaderMap,
                  body| {
                let front = front.clone();
                async move {
                    let deadline = tokio::time::Instant::now() + read_timeout;
                    let body = match body::read_limited(body, &headers, BODY_LIMIT, deadline).await
                    {
                        Ok(body) => body,
                        Err(body::BodyTimedOut) => {
                            // The rest of the body may still be on its way:
                            // this connection cannot carry another request.
                            return ApiError::RequestTimeout(read_timeout)
                                .into_response()
                                .with_header("connection", "close")
                                .into_warp();
                        }
                    };
                    let request = ApiRequest {
                        method,
                        path: path.as_str().to_owned(),
                        query,
                        headers,
                        body,
                        journal_id: None,
                    };
                    front(request).await
                }
            },
        )
}
