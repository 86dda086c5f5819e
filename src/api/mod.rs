//! The HTTP API of the mock CRM (SPEC §3): routing, auth, request parsing and
//! error mapping.
//!
//! warp reads the request off the wire (method, path, query, headers, a body
//! capped at 1 MiB); `dispatch` then routes it with one `match`, so the route
//! table is in one place and every failure — unknown path, wrong method, bad
//! key, bad JSON — gets exactly the status and error body SPEC §3 names,
//! instead of whichever rejection warp's combinators would rank highest.
//! Handlers parse, call the store, and answer: no SQL here.

mod activities;
mod admin;
mod auth;
mod contacts;
mod error;
mod request;
mod response;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::json;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::{Buf, Filter};

pub use auth::{api_key_from_header, basic_header_for_key};
pub use error::ApiError;
pub use request::{ApiRequest, BODY_LIMIT};
pub use response::ApiResponse;

use crate::harness::{kept, Harness, JournalEntry};
use crate::store::{Caller, Seed, StoreHandle};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: StoreHandle,
    pub harness: Arc<Harness>,
    /// The key for `/__admin/` routes.
    pub admin_key: Arc<str>,
    /// What `POST /__admin/reset` goes back to.
    pub seed: Arc<Seed>,
}

/// The whole API as one warp filter.
pub fn routes(
    state: AppState,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
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
                let state = state.clone();
                async move {
                    let body = read_limited(body, BODY_LIMIT).await;
                    let request = ApiRequest {
                        method,
                        path: path.as_str().to_owned(),
                        query,
                        headers,
                        body,
                    };
                    handle(&state, request).await
                }
            },
        )
}

/// Reads the body until it ends or passes `limit`; `None` past the limit.
/// An oversized body is still read to its end (up to `DRAIN_LIMIT`) and
/// thrown away, so the client is not cut off mid-upload and sees the 413.
/// A body that breaks off mid-way is treated as what arrived, which then
/// fails JSON parsing with a clear message.
async fn read_limited<S, B>(body: S, limit: usize) -> Option<Bytes>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
    let mut body = std::pin::pin!(body);
    let mut collected = BytesMut::new();
    let mut seen = 0usize;
    while let Some(chunk) = body.next().await {
        let Ok(mut chunk) = chunk else { break };
        seen = seen.saturating_add(chunk.remaining());
        if seen > limit {
            if seen > DRAIN_LIMIT {
                break;
            }
            continue;
        }
        while chunk.has_remaining() {
            let piece = chunk.chunk();
            collected.extend_from_slice(piece);
            let read = piece.len();
            chunk.advance(read);
        }
    }
    (seen <= limit).then(|| collected.freeze())
}

/// Answers one request: admin routes go straight to `admin`; everything
/// else passes the rate limiter and the fault rules, is answered, and is
/// written to the journal.
pub async fn handle(state: &AppState, request: ApiRequest) -> warp::reply::Response {
    if request.path == "/__admin" || request.path.starts_with("/__admin/") {
        return admin::dispatch(state, &request).await.into_warp();
    }
    let started = Instant::now();
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (response, fault_id) = answer_with_harness(state, &request).await;
    let body = response.body_bytes();
    state.harness.journal.record(JournalEntry {
        id: 0,
        at,
        method: request.method.to_string(),
        path: request.path.clone(),
        query: request.query.clone(),
        status: response.status.as_u16(),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        request_body: request.body.as_ref().map(kept).unwrap_or_default(),
        response_body: kept(&body),
        fault_id,
    });
    response.into_warp_with(body)
}

/// The rate limit and injected faults around `dispatch`; also says which
/// fault, if any, shaped the answer.
async fn answer_with_harness(
    state: &AppState,
    request: &ApiRequest,
) -> (ApiResponse, Option<String>) {
    if let Some(limiter) = &state.harness.rate_limiter {
        let key = request
            .header("authorization")
            .and_then(api_key_from_header);
        if let Some(key) = key {
            if let Err(wait) = limiter.check(&key) {
                let error = ApiError::RateLimited {
                    per_second: limiter.per_second(),
                    retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
                };
                return (error.into_response(), None);
            }
        }
    }
    let method = request.method.as_str();
    let Some(fault) = state.harness.faults.fire(method, &request.path) else {
        return (dispatch(state, request).await, None);
    };
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
    }
    let Some(status) = fault.status else {
        return (dispatch(state, request).await, Some(fault.fault_id));
    };
    if fault.after_commit {
        // The write happens; only its answer is lost.
        dispatch(state, request).await;
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let error = ApiError::Injected {
        fault_id: fault.fault_id.clone(),
        status,
        retry_after: fault.retry_after,
    };
    (error.into_response(), Some(fault.fault_id))
}

/// Routes one request and turns every error into its JSON answer.
pub async fn dispatch(state: &AppState, request: &ApiRequest) -> ApiResponse {
    match route(state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn route(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let segments: Vec<String> = request
        .path
        .trim_start_matches('/')
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = &request.method;
    let not_allowed = |allowed: &'static str| ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: request.path.clone(),
        allowed,
    };
    match segments.as_slice() {
        ["health"] => match *method {
            Method::GET => Ok(ApiResponse::ok(json!({"status": "ok"}))),
            _ => Err(not_allowed("GET")),
        },
        ["me"] => match *method {
            Method::GET => {
                let caller = authenticate(state, request).await?;
                Ok(ApiResponse::ok(json!({
                    "id": caller.user_id,
                    "name": caller.user_name,
                    "email": caller.email,
                    "organisation": caller.organisation,
                    "timezone_offset": caller.timezone_offset,
                })))
            }
            _ => Err(not_allowed("GET")),
        },
        ["contact"] => match *method {
            Method::POST => {
                let caller = authenticate(state, request).await?;
                contacts::create(state, &caller, request).await
            }
            Method::GET => {
                let caller = authenticate(state, request).await?;
                contacts::search(state, &caller, request).await
            }
            _ => Err(not_allowed("GET, POST")),
        },
        ["contact", id] if !id.is_empty() => match *method {
            Method::GET => {
                let caller = authenticate(state, request).await?;
                contacts::get(state, &caller, id).await
            }
            _ => Err(not_allowed("GET")),
        },
        ["activity"] => match *method {
            Method::POST => {
                let caller = authenticate(state, request).await?;
                activities::create(state, &caller, request).await
            }
            Method::GET => {
                let caller = authenticate(state, request).await?;
                activities::list(state, &caller, request).await
            }
            _ => Err(not_allowed("GET, POST")),
        },
        ["activity", id] if !id.is_empty() => {
            let id = (*id).to_owned();
            match *method {
                Method::GET => {
                    let caller = authenticate(state, request).await?;
                    activities::get(state, &caller, id).await
                }
                Method::PATCH => {
                    let caller = authenticate(state, request).await?;
                    activities::update(state, &caller, id, request).await
                }
                Method::DELETE => {
                    let caller = authenticate(state, request).await?;
                    activities::delete(state, &caller, id).await
                }
                _ => Err(not_allowed("GET, PATCH, DELETE")),
            }
        }
        _ => Err(ApiError::NotFound(format!(
            "no route {} {}; see SPEC §3 for the routes mockcrm serves",
            method, request.path
        ))),
    }
}

/// The caller behind the request's API key, or 401.
async fn authenticate(state: &AppState, request: &ApiRequest) -> Result<Caller, ApiError> {
    let key = request
        .header("authorization")
        .and_then(api_key_from_header)
        .ok_or(ApiError::Unauthorized)?;
    state
        .store
        .caller_for_key(key)
        .await?
        .ok_or(ApiError::Unauthorized)
}
