//! `/__admin/` routes: reset, the request journal, fault injection and
//! contract checks. They need the admin key, and are neither journaled nor
//! subject to faults or the rate limit, so a test's own bookkeeping never
//! shows up in what it inspects.

use serde_json::json;
use warp::http::StatusCode;

use super::error::ApiError;
use super::request::ApiRequest;
use super::response::ApiResponse;
use super::routes::{self, Admin, Endpoint, Resolution};
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
    let resolution = routes::resolve(&request.method, &request.path);
    if matches!(resolution, Resolution::NotFound) {
        return Err(super::no_route(request));
    }
    // The key is checked before the method, so a caller without it learns
    // nothing about which admin methods exist.
    authenticate(state, request)?;
    // `handle` only sends `/__admin` paths here, and only admin routes live
    // there.
    let (admin, params) = super::resolved(request, resolution, |endpoint| match endpoint {
        Endpoint::Admin(admin) => Some(admin),
        _ => None,
    })?;
    match admin {
        Admin::Reset => reset(state, request).await,
        Admin::ListRequests => requests(state, request),
        Admin::ClearRequests => {
            state.harness.journal.clear();
            Ok(ApiResponse::no_content())
        }
        Admin::AddFault => add_fault(state, request),
        Admin::ListFaults => Ok(ApiResponse::ok(
            json!({"items": state.harness.faults.list()}),
        )),
        Admin::ClearFaults => {
            state.harness.faults.clear();
            Ok(ApiResponse::no_content())
        }
        Admin::DeleteFault => {
            let id = params.into_iter().next().unwrap_or_default();
            if state.harness.faults.remove(&id) {
                Ok(ApiResponse::no_content())
            } else {
                Err(ApiError::NotFound(format!("no fault with id {id:?}")))
            }
        }
        Admin::Checks => checks(state).await,
        Admin::ListActivities => super::admin_activities::list(state, request).await,
        Admin::ActivityRevisions => {
            let id = params.into_iter().next().unwrap_or_default();
            super::admin_activities::revisions(state, request, id).await
        }
    }
}

pub(crate) fn authenticate(state: &AppState, request: &ApiRequest) -> Result<(), ApiError> {
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
        // Parsed as u64, not usize, so the upper bound (which openapi.json
        // states) is the same on every platform.
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|limit| *limit >= 1)
            .map(|limit| usize::try_from(limit).unwrap_or(usize::MAX))
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
