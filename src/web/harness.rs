//! What wraps every face whose traffic a test inspects (the native API,
//! served proxy configs, CRM faces): the per-key rate limit, the injected
//! faults (a status, a delay, after the write committed or instead of it,
//! or a connection-level fault the socket carries out), and the journal
//! entry each request leaves. Its refusals (an injected status, the rate
//! limit's 429) are written by the face it fronts: mockcrm's own error
//! shape on the native API and proxy configs, the CRM's own shape on a CRM
//! face (`CrmFace::error_answer`), so that a connector reads a fault as its
//! CRM would send it; the status and `Retry-After` are the harness's.
//!
//! It runs the face's answer as a closure and never looks inside it, so a
//! face gets all of this by being called through `answer` and `record`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use warp::http::StatusCode;

use super::error::ApiError;
use super::request::ApiRequest;
use super::response::ApiResponse;
use super::state::AppState;
use crate::harness::{kept, FaultKind, JournalEntry};
use crate::store::Caller;

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

/// When a journaled request arrived, taken before anything else is done
/// with it, so the journal's duration covers identifying the caller too.
pub struct Arrival {
    started: Instant,
    at: String,
}

impl Arrival {
    /// Now; also reserves the request's journal id, so that what the
    /// request writes can name it (a revision does).
    pub fn reserve(state: &AppState, request: &mut ApiRequest) -> Arrival {
        request.journal_id = state.harness.journal.reserve();
        Arrival {
            started: Instant::now(),
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        }
    }
}

/// An answer, the fault that shaped it, and what the connection must do.
pub struct Answered {
    response: ApiResponse,
    fault_id: Option<String>,
    connection: Option<ConnectionFault>,
}

impl Answered {
    /// An answer no fault touched (one given before the harness ran, such
    /// as a 401 for credentials the store could not check).
    pub fn plain(response: ApiResponse) -> Answered {
        Answered {
            response,
            fault_id: None,
            connection: None,
        }
    }
}

/// The rate limit and injected faults around `run`, the face's answer to
/// `request` from `caller`. `rate_key` is what the rate limit counts the
/// request by (the credential it carries, whichever face reads it).
///
/// `render` writes the harness's own refusals (the rate limit, an injected
/// status) in the face's error shape, so that a CRM face's client reads a
/// fault as that CRM would send it; the status and `Retry-After` are the
/// error's whatever the shape.
pub async fn answer<Run, Answering, Render>(
    state: &AppState,
    request: &ApiRequest,
    caller: Option<&Caller>,
    rate_key: Option<&str>,
    render: Render,
    run: Run,
) -> Answered
where
    Run: Fn() -> Answering,
    Answering: Future<Output = ApiResponse>,
    Render: Fn(ApiError) -> ApiResponse,
{
    if let (Some(limiter), Some(key)) = (&state.harness.rate_limiter, rate_key) {
        if let Err(wait) = limiter.check(key) {
            let error = ApiError::RateLimited {
                per_second: limiter.per_second(),
                retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
            };
            return Answered::plain(render(error));
        }
    }
    let method = request.method.as_str();
    let org = caller.map(|caller| &*caller.org);
    let Some(fault) = state.harness.faults.fire(method, &request.path, org) else {
        return Answered::plain(run().await);
    };
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
        render(ApiError::Injected {
            fault_id: fault.fault_id.clone(),
            status,
            retry_after: fault.retry_after,
        })
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

/// Writes the journal entry of an answered request, under the caller's
/// organisation (public id), and turns the answer into the reply, carrying
/// its connection fault for the socket.
pub fn record(
    state: &AppState,
    request: &ApiRequest,
    arrival: Arrival,
    answered: Answered,
    org: Option<Arc<str>>,
) -> warp::reply::Response {
    let Answered {
        response,
        fault_id,
        connection,
    } = answered;
    let body = response.body_bytes();
    let sent = connection.is_none_or(ConnectionFault::sends_answer);
    state.harness.journal.record(JournalEntry {
        id: request.journal_id.unwrap_or_default(),
        at: arrival.at,
        method: request.method.to_string(),
        path: request.path.clone(),
        query: request.query.clone(),
        // 0: no answer went out (a reset or empty fault).
        status: if sent { response.status.as_u16() } else { 0 },
        duration_ms: arrival.started.elapsed().as_secs_f64() * 1000.0,
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
