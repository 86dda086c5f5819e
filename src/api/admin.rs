//! `/__admin/` routes: reset, the request journal, fault injection and
//! contract checks. They need the admin key, and are neither journaled nor
//! subject to faults or the rate limit, so a test's own bookkeeping never
//! shows up in what it inspects.

use serde_json::json;
use warp::http::{Method, StatusCode};

use super::error::ApiError;
use super::request::ApiRequest;
use super::response::ApiResponse;
use super::AppState;
use crate::harness::{FaultSpec, JournalFilter};
use crate::store::Seed;

const DEFAULT_JOURNAL_LIMIT: usize = 100;

pub async fn dispatch(state: &AppState, request: &ApiRequest) -> ApiResponse {
    match route(state, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn route(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let path = request.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    let not_allowed = |allowed: &'static str| ApiError::MethodNotAllowed {
        method: request.method.to_string(),
        path: request.path.clone(),
        allowed,
    };
    let route_exists = matches!(
        segments.as_slice(),
        ["reset"] | ["requests"] | ["faults"] | ["faults", _] | ["checks"]
    );
    if !route_exists {
        return Err(ApiError::NotFound(format!(
            "no admin route {} {}; admin routes are /__admin/reset, /requests, /faults, /checks",
            request.method, request.path
        )));
    }
    authenticate(state, request)?;
    let method = &request.method;
    match segments.as_slice() {
        ["reset"] => match *method {
            Method::POST => reset(state, request).await,
            _ => Err(not_allowed("POST")),
        },
        ["requests"] => match *method {
            Method::GET => requests(state, request),
            Method::DELETE => {
                state.harness.journal.clear();
                Ok(ApiResponse::no_content())
            }
            _ => Err(not_allowed("GET, DELETE")),
        },
        ["faults"] => match *method {
            Method::POST => add_fault(state, request),
            Method::GET => Ok(ApiResponse::ok(
                json!({"items": state.harness.faults.list()}),
            )),
            Method::DELETE => {
                state.harness.faults.clear();
                Ok(ApiResponse::no_content())
            }
            _ => Err(not_allowed("GET, POST, DELETE")),
        },
        ["faults", id] => match *method {
            Method::DELETE if state.harness.faults.remove(id) => Ok(ApiResponse::no_content()),
            Method::DELETE => Err(ApiError::NotFound(format!("no fault with id {id:?}"))),
            _ => Err(not_allowed("DELETE")),
        },
        _ => match *method {
            Method::GET => checks(state).await,
            _ => Err(not_allowed("GET")),
        },
    }
}

fn authenticate(state: &AppState, request: &ApiRequest) -> Result<(), ApiError> {
    let given = request
        .header("authorization")
        .and_then(|value| value.trim().strip_prefix("Bearer "))
        .map(str::trim);
    if given == Some(&*state.admin_key) {
        Ok(())
    } else {
        Err(ApiError::AdminUnauthorized)
    }
}

async fn reset(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let empty = match request.query_param("empty").as_deref() {
        None | Some("false") => false,
        Some("true") | Some("") => true,
        Some(other) => {
            return Err(ApiError::field(
                "empty",
                format!("must be true or false, got {other:?}"),
            ))
        }
    };
    let seed = if empty {
        Seed::empty()
    } else {
        (*state.seed).clone()
    };
    state.store.run(move |store| store.reset(&seed)).await?;
    state.harness.journal.clear();
    state.harness.faults.clear();
    Ok(ApiResponse::no_content())
}

fn requests(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let limit = match request.query_param("limit") {
        None => DEFAULT_JOURNAL_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| *limit >= 1)
            .ok_or_else(|| {
                ApiError::field(
                    "limit",
                    format!("must be a whole number >= 1, got {text:?}"),
                )
            })?,
    };
    let filter = JournalFilter {
        limit,
        method: request.query_param("method"),
        path: request.query_param("path"),
    };
    let items: Vec<_> = state
        .harness
        .journal
        .list(&filter)
        .iter()
        .map(|entry| entry.view())
        .collect();
    Ok(ApiResponse::ok(json!({ "items": items })))
}

fn add_fault(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let object = request.json_object()?;
    let spec: FaultSpec = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|error| ApiError::field("fault", error.to_string()))?;
    spec.validate()
        .map_err(|(field, message)| ApiError::field(field, message))?;
    let fault = state.harness.faults.add(spec);
    Ok(ApiResponse::json(StatusCode::CREATED, json!(fault)))
}

async fn checks(state: &AppState) -> Result<ApiResponse, ApiError> {
    let violations = state.store.read(|store| store.violations()).await?;
    Ok(ApiResponse::ok(json!({ "violations": violations })))
}
