//! The HTTP API of the mock CRM (README.md, "HTTP API"; `GET /openapi.json`): routing, auth, request parsing and
//! error mapping.
//!
//! warp reads the request off the wire (method, path, query, headers, a body
//! capped at 1 MiB); `dispatch` then looks it up in the route table
//! (`routes.rs`) and answers with one `match`, so every failure — unknown
//! path, wrong method, bad key, bad JSON — gets exactly the status and error
//! body README.md names, instead of whichever rejection warp's combinators
//! would rank highest. `openapi.json` describes the same table for clients.
//! Requests an App Connect proxy config served with `--proxy-config` takes
//! are answered by `proxy` instead, behind the same harness. Handlers
//! parse, call the store, and answer: no SQL here.

mod activities;
mod admin;
mod admin_activities;
mod auth;
mod contacts;
mod error;
mod openapi;
mod paging;
mod proxy;
mod request;
mod response;
pub mod routes;
mod tenants;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::json;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::{Buf, Filter};

pub(crate) use activities::ActivityJson;
pub(crate) use admin_activities::org_param;
pub use auth::{api_key_from_header, basic_header_for_key};
pub use error::{ApiError, OVERLOAD_RETRY_AFTER};
pub(crate) use paging::{encode_cursor, page_params};
pub use proxy::{check_native_collisions, ProxyServing};
pub use request::{ApiRequest, BODY_LIMIT};
pub use response::ApiResponse;

use crate::harness::{kept, FaultKind, Harness, JournalEntry};
use crate::store::{Caller, Seed, StoreHandle};
use routes::{Area, Crm, Endpoint, Resolution};

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: StoreHandle,
    pub harness: Arc<Harness>,
    /// The key for `/__admin/` routes.
    pub admin_key: Arc<str>,
    /// What `POST /__admin/reset` goes back to.
    pub seed: Arc<Seed>,
    /// The review page's access rules (`page::Access`).
    pub page: Arc<crate::page::PageState>,
    /// `serve --strict`: writes with fields the API does not know are refused.
    pub strict: bool,
    /// The App Connect proxy configs served beside the native API.
    pub proxy: Arc<ProxyServing>,
}

/// The whole API as one warp filter. A body must arrive within
/// `read_timeout` of the headers.
pub fn routes(
    state: AppState,
    read_timeout: Duration,
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
                    let deadline = tokio::time::Instant::now() + read_timeout;
                    let body = match read_limited(body, &headers, BODY_LIMIT, deadline).await {
                        Ok(body) => body,
                        Err(BodyTimedOut) => {
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
                    handle(&state, request).await
                }
            },
        )
}

/// A body under the limit did not finish arriving before the deadline.
struct BodyTimedOut;

/// Reads the body until it ends or passes `limit`; `Ok(None)` past the
/// limit, or when `Content-Length` already says it will be. An oversized
/// body is still read to its end (up to `DRAIN_LIMIT`, and until
/// `deadline`) and thrown away, so the client is not cut off mid-upload and
/// sees the 413; nothing past the limit is kept. A body that breaks off
/// mid-way is treated as what arrived, which then fails JSON parsing with a
/// clear message.
async fn read_limited<S, B>(
    body: S,
    headers: &HeaderMap,
    limit: usize,
    deadline: tokio::time::Instant,
) -> Result<Option<Bytes>, BodyTimedOut>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
    let mut too_large = headers
        .get("content-length")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .is_some_and(|length| length > limit as u64);
    let waits_for_continue = headers
        .get("expect")
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if too_large && waits_for_continue {
        // The client sends the body only after `100 Continue`, which hyper
        // sends when the body is first read: not reading it spares the
        // upload, and the connection stays clean for the 413.
        return Ok(None);
    }
    let mut body = std::pin::pin!(body);
    let mut collected = BytesMut::new();
    let mut seen = 0usize;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            // Past the limit the answer is 413 whatever else arrives.
            Err(_) if too_large => break,
            Err(_) => return Err(BodyTimedOut),
        };
        let Ok(mut chunk) = chunk else { break };
        seen = seen.saturating_add(chunk.remaining());
        too_large |= seen > limit;
        if too_large {
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
    Ok((!too_large).then(|| collected.freeze()))
}

/// What the connection must do with an answer instead of sending it as
/// it is: a connection-level fault. The reply carries it in its extensions
/// (never on the wire), and `server::connection_faults` carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionFault {
    /// Close the connection with a TCP reset, answering nothing.
    Reset,
    /// Close the connection, answering nothing.
    Empty,
    /// Send the head and half of the body, then close.
    Truncated,
    /// Send the answer in pieces spread over this long.
    Dribble(Duration),
}

impl ConnectionFault {
    /// Whether any of the answer reaches the client.
    pub fn sends_answer(self) -> bool {
        matches!(
            self,
            ConnectionFault::Truncated | ConnectionFault::Dribble(_)
        )
    }
}

/// Answers one request: admin routes go straight to `admin`, the review
/// page to `page`, and the OpenAPI document is served as it is; everything
/// else passes the rate limiter and the fault rules, is answered, and is
/// written to the journal under the caller's organisation.
pub async fn handle(state: &AppState, mut request: ApiRequest) -> warp::reply::Response {
    match routes::area(&request.path) {
        Area::Admin => return admin::dispatch(state, &request).await.into_warp(),
        Area::Document => return openapi::answer(&request, state.proxy.document()),
        Area::Page => return crate::page::handle(state, &request).await,
        Area::Crm => {}
    }
    request.journal_id = state.harness.journal.reserve();
    let started = Instant::now();
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let resolution = routes::resolve(&request.method, &request.path);
    let (answered, org) = match identify(state, &request, &resolution).await {
        Ok(caller) => {
            let org = caller.as_ref().map(|caller| Arc::clone(&caller.org));
            let answered = answer_with_harness(state, &request, resolution, caller).await;
            (answered, org)
        }
        Err(error) => (Answered::plain(error.into_response()), None),
    };
    let Answered {
        response,
        fault_id,
        connection,
    } = answered;
    let body = response.body_bytes();
    let sent = connection.is_none_or(ConnectionFault::sends_answer);
    state.harness.journal.record(JournalEntry {
        id: request.journal_id.unwrap_or_default(),
        at,
        method: request.method.to_string(),
        path: request.path.clone(),
        query: request.query.clone(),
        // 0: no answer went out (a reset or empty fault).
        status: if sent { response.status.as_u16() } else { 0 },
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
        request_body: request.body.as_ref().map(kept).unwrap_or_default(),
        response_body: if sent { kept(&body) } else { Bytes::new() },
        fault_id,
        org,
    });
    let mut reply = response.into_warp_with(body);
    if let Some(connection) = connection {
        reply.extensions_mut().insert(connection);
    }
    reply
}

/// The caller behind the request's API key, looked up before anything
/// else so that the rate limit, the faults and the journal know its
/// organisation. `None` without a key or with an unknown one (`route`
/// answers 401 where a key is needed), and for routes that need none, so
/// `/health` never waits for the store.
///
/// The key is found as the rate limiter finds it (`request_api_key`: the
/// native header, else a served proxy config's), so every route family,
/// and any added later, gets per-organisation journal entries and faults
/// without more work.
async fn identify(
    state: &AppState,
    request: &ApiRequest,
    resolution: &Resolution,
) -> Result<Option<Caller>, ApiError> {
    if matches!(
        resolution,
        Resolution::Found {
            endpoint: Endpoint::Crm(Crm::Health),
            ..
        }
    ) {
        return Ok(None);
    }
    let Some(key) = request_api_key(state, request) else {
        return Ok(None);
    };
    Ok(state.store.caller_for_key(key).await?)
}

/// An answer, the fault that shaped it, and what the connection must do.
struct Answered {
    response: ApiResponse,
    fault_id: Option<String>,
    connection: Option<ConnectionFault>,
}

impl Answered {
    fn plain(response: ApiResponse) -> Answered {
        Answered {
            response,
            fault_id: None,
            connection: None,
        }
    }
}

/// The rate limit and injected faults around `dispatch`.
async fn answer_with_harness(
    state: &AppState,
    request: &ApiRequest,
    resolution: Resolution,
    caller: Option<Caller>,
) -> Answered {
    if let Some(limiter) = &state.harness.rate_limiter {
        if let Some(key) = request_api_key(state, request) {
            if let Err(wait) = limiter.check(&key) {
                let error = ApiError::RateLimited {
                    per_second: limiter.per_second(),
                    retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
                };
                return Answered::plain(error.into_response());
            }
        }
    }
    let method = request.method.as_str();
    let org = caller.as_ref().map(|caller| &*caller.org);
    let Some(fault) = state.harness.faults.fire(method, &request.path, org) else {
        return Answered::plain(dispatch(state, request, resolution, caller.as_ref()).await);
    };
    let run = || dispatch(state, request, resolution.clone(), caller.as_ref());
    // A dribble spreads its delay over the answer instead.
    if fault.delay_ms > 0 && fault.kind != FaultKind::Dribble {
        state
            .harness
            .clock
            .wait(Duration::from_millis(fault.delay_ms))
            .await;
    }
    let injected = |status: u16| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        ApiError::Injected {
            fault_id: fault.fault_id.clone(),
            status,
            retry_after: fault.retry_after,
        }
        .into_response()
    };
    // The answer the fault sends (or cuts, or dribbles): the injected
    // status when it has one (after the real request when `after_commit`),
    // else the real answer.
    let answer = match fault.status {
        Some(status) => {
            if fault.after_commit {
                // The write happens; only its answer is lost.
                run().await;
            }
            injected(status)
        }
        None if matches!(fault.kind, FaultKind::Reset | FaultKind::Empty) => {
            if fault.after_commit {
                run().await;
            }
            // Never sent: the connection closes instead.
            injected(503)
        }
        None => run().await,
    };
    let connection = match fault.kind {
        FaultKind::Status => None,
        FaultKind::Reset => Some(ConnectionFault::Reset),
        FaultKind::Empty => Some(ConnectionFault::Empty),
        FaultKind::Truncated => Some(ConnectionFault::Truncated),
        FaultKind::Dribble => Some(ConnectionFault::Dribble(Duration::from_millis(
            fault.delay_ms,
        ))),
    };
    Answered {
        response: answer,
        fault_id: Some(fault.fault_id),
        connection,
    }
}

/// The API key a request carries, read as the native API reads it
/// (`Authorization: Bearer|Basic`) or, failing that, as a served proxy
/// config's auth builds it (`Userkeyauth …`, `X-Api-Key: …`): what the
/// harness counts a caller by, whichever route the request takes.
fn request_api_key(state: &AppState, request: &ApiRequest) -> Option<String> {
    request
        .header("authorization")
        .and_then(api_key_from_header)
        .or_else(|| state.proxy.api_key(request))
}

/// Routes one request and turns every error into its JSON answer.
async fn dispatch(
    state: &AppState,
    request: &ApiRequest,
    resolution: Resolution,
    caller: Option<&Caller>,
) -> ApiResponse {
    match route(state, request, resolution, caller).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// The endpoint a resolved request reaches in one area of the route table
/// (`pick` keeps that area's endpoints), or the 405 or 404 it earns instead.
pub(crate) fn resolved<T>(
    request: &ApiRequest,
    resolution: Resolution,
    pick: impl FnOnce(Endpoint) -> Option<T>,
) -> Result<(T, Vec<String>), ApiError> {
    let not_found = || no_route(request);
    match resolution {
        Resolution::Found { endpoint, params } => {
            pick(endpoint).map(|t| (t, params)).ok_or_else(not_found)
        }
        Resolution::WrongMethod { allowed } => Err(ApiError::MethodNotAllowed {
            method: request.method.to_string(),
            path: request.path.clone(),
            allowed,
        }),
        Resolution::NotFound => Err(not_found()),
    }
}

/// The 404 for a path no route has: the route it probably meant, and
/// where every route is listed.
pub(crate) fn no_route(request: &ApiRequest) -> ApiError {
    let guess = routes::closest(&request.method, &request.path)
        .map(|route| format!(" (did you mean {route}?)"))
        .unwrap_or_default();
    ApiError::NotFound(format!(
        "no route {} {}{guess}; every route is listed at GET /openapi.json",
        request.method, request.path
    ))
}

async fn route(
    state: &AppState,
    request: &ApiRequest,
    resolution: Resolution,
    caller: Option<&Caller>,
) -> Result<ApiResponse, ApiError> {
    let native_knows_path = !matches!(resolution, Resolution::NotFound);
    if let Some(answer) = proxy::answer(state, request, native_knows_path).await {
        return answer;
    }
    // `handle` sends other areas elsewhere; a CRM path with no route is a 404.
    let (crm, params) = resolved(request, resolution, |endpoint| match endpoint {
        Endpoint::Crm(crm) => Some(crm),
        _ => None,
    })?;
    // Every template has at most one parameter, an id.
    let id = params.into_iter().next().unwrap_or_default();
    if crm == Crm::Health {
        return Ok(health());
    }
    let caller = caller.ok_or(ApiError::Unauthorized)?;
    match crm {
        Crm::Health => Ok(health()),
        Crm::Me => Ok(ApiResponse::ok(json!({
            "id": caller.user_id,
            "name": caller.user_name,
            "email": caller.email,
            "organisation": caller.organisation,
            "timezone_offset": caller.timezone_offset,
        }))),
        Crm::ListUsers => contacts::users(state, caller).await,
        Crm::CreateContact => contacts::create(state, caller, request).await,
        Crm::FindContacts => contacts::search(state, caller, request).await,
        Crm::GetContact => contacts::get(state, caller, &id).await,
        Crm::CreateActivity => activities::create(state, caller, request).await,
        Crm::ListActivities => activities::list(state, caller, request).await,
        Crm::GetActivity => activities::get(state, caller, id).await,
        Crm::UpdateActivity => activities::update(state, caller, id, request).await,
        Crm::DeleteActivity => activities::delete(state, caller, id).await,
    }
}

fn health() -> ApiResponse {
    ApiResponse::ok(json!({"status": "ok"}))
}
