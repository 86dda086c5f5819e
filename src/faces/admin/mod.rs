//! `/__admin/` routes: reset, the request journal, fault injection,
//! contract checks, tenants (`tenants.rs`) and expiring an organisation's
//! CRM tokens (`tokens.rs`). They need the admin key, and
//! are neither journaled nor subject to faults or the rate limit, so a
//! test's own bookkeeping never shows up in what it inspects.
//!
//! Every read and reset takes `?org=<id>` (`org_scope`): with it, a route
//! sees and changes only that organisation's data, journal entries and
//! faults, so CI jobs sharing a server each work in their own tenant. A
//! new admin route over organisation data calls `org_scope` and scopes by
//! what it returns.

mod activities;
mod crms;
mod tenants;
mod tokens;

use std::sync::Arc;

use serde_json::json;
use warp::http::StatusCode;

use super::routes::{self, Admin, Endpoint, Resolution};
use crate::harness::{FaultSpec, JournalFilter};
use crate::store::{OrgRef, Seed, Violation};
use crate::web::crm::{CrmFace, Place};
use crate::web::{org_scope, ApiError, ApiRequest, ApiResponse, AppState};

const DEFAULT_JOURNAL_LIMIT: usize = 100;

/// What the admin face reads of the other faces: the CRM faces served,
/// through their common contract only, and where the server is reached.
pub async fn dispatch(
    state: &AppState,
    faces: &[Arc<dyn CrmFace>],
    place: &Place,
    request: &ApiRequest,
) -> ApiResponse {
    match route(state, faces, place, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn route(
    state: &AppState,
    faces: &[Arc<dyn CrmFace>],
    place: &Place,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let resolution = routes::resolve(&request.method, &request.path);
    if matches!(resolution, Resolution::NotFound) {
        return Err(routes::no_route(request));
    }
    // The key is checked before the method, so a caller without it learns
    // nothing about which admin methods exist.
    authenticate(state, request)?;
    // `handle` only sends `/__admin` paths here, and only admin routes live
    // there.
    let (admin, params) = routes::resolved(request, resolution, |endpoint| match endpoint {
        Endpoint::Admin(admin) => Some(admin),
        _ => None,
    })?;
    // Every admin template has at most one parameter, an id.
    let id = params.into_iter().next().unwrap_or_default();
    match admin {
        Admin::Crms => crms::list(state, faces, place, request).await,
        Admin::ExpireTokens => tokens::expire(state, faces, request).await,
        Admin::CreateTenant => tenants::create(state, request).await,
        Admin::ListTenants => tenants::list(state, request).await,
        Admin::DeleteTenant => tenants::delete(state, &id).await,
        Admin::Reset => reset(state, request).await,
        Admin::ListRequests => requests(state, request).await,
        Admin::ClearRequests => {
            let org = org_scope(state, request).await?;
            state.harness.journal.clear(public_id(&org));
            Ok(ApiResponse::no_content())
        }
        Admin::AddFault => add_fault(state, request).await,
        Admin::ListFaults => {
            let org = org_scope(state, request).await?;
            Ok(ApiResponse::ok(
                json!({"items": state.harness.faults.list(public_id(&org))}),
            ))
        }
        Admin::ClearFaults => {
            let org = org_scope(state, request).await?;
            state.harness.faults.clear(public_id(&org));
            Ok(ApiResponse::no_content())
        }
        Admin::DeleteFault => {
            let org = org_scope(state, request).await?;
            if state.harness.faults.remove(&id, public_id(&org)) {
                Ok(ApiResponse::no_content())
            } else {
                // Another organisation's fault does not exist for this one.
                Err(ApiError::NotFound(format!("no fault with id {id:?}")))
            }
        }
        Admin::Checks => checks(state, request).await,
        Admin::ListActivities => activities::list(state, request).await,
        Admin::ActivityRevisions => activities::revisions(state, request, id).await,
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

/// The public id the harness (journal, faults) scopes by.
fn public_id(org: &Option<OrgRef>) -> Option<&str> {
    org.as_ref().map(|org| org.organisation.id.as_str())
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
    if let Some(org) = org_scope(state, request).await? {
        let seed = std::sync::Arc::clone(&state.seed);
        let key = org.key;
        state
            .store
            .run(move |store| store.reset_organisation(key, &seed, empty))
            .await?;
        state.harness.journal.clear(Some(&org.organisation.id));
        state.harness.faults.clear(Some(&org.organisation.id));
        return Ok(ApiResponse::no_content());
    }
    let seed = if empty {
        Seed::empty()
    } else {
        (*state.seed).clone()
    };
    state.store.run(move |store| store.reset(&seed)).await?;
    state.harness.journal.clear(None);
    state.harness.faults.clear(None);
    Ok(ApiResponse::no_content())
}

async fn requests(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
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
    let org = org_scope(state, request).await?;
    let filter = JournalFilter {
        limit,
        method: request.query_param("method"),
        path: request.query_param("path"),
        org: public_id(&org).map(str::to_owned),
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

async fn add_fault(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let object = request.json_object()?;
    let mut spec: FaultSpec = serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|error| ApiError::field("fault", error.to_string()))?;
    spec.validate()
        .map_err(|(field, message)| ApiError::field(field, message))?;
    // `?org=` scopes the fault as the body's `org` does; both must agree.
    let scoped = org_scope(state, request).await?;
    match (public_id(&scoped), spec.org.as_deref()) {
        (Some(query), Some(body)) if query != body => {
            return Err(ApiError::field(
                "org",
                format!("is {body:?} but ?org= is {query:?}; give one, or the same in both"),
            ))
        }
        (Some(query), _) => spec.org = Some(query.to_owned()),
        (None, Some(body)) => {
            let lookup = body.to_owned();
            let known = state
                .store
                .read(move |store| store.organisation(&lookup))
                .await?;
            if known.is_none() {
                return Err(ApiError::field(
                    "org",
                    format!("no organisation with id {body:?}; GET /__admin/tenants lists them"),
                ));
            }
        }
        (None, None) => {}
    }
    let fault = state.harness.faults.add(spec);
    Ok(ApiResponse::json(StatusCode::CREATED, json!(fault)))
}

async fn checks(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let org = org_scope(state, request).await?.map(|org| org.key);
    let violations = state.store.read(move |store| store.violations(org)).await?;
    Ok(ApiResponse::ok(json!({
        "checks": Violation::KINDS,
        "violations": violations,
    })))
}
