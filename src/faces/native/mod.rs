//! The native API (README.md, "HTTP API"; `GET /openapi.json`): mockcrm's
//! own REST API for users, contacts and activities, in snake_case JSON with
//! mockcrm's error shape. The documented route table (`faces::routes`)
//! resolves a request to one of its endpoints; handlers parse, call the
//! store, and answer: no SQL here.

mod activities;
mod contacts;

use serde_json::json;

use super::routes::{self, Crm, Endpoint, Resolution};
use crate::store::Caller;
use crate::web::{ApiError, ApiRequest, ApiResponse, AppState};

/// Answers a request the route table resolved (or did not: then the 404
/// or 405 it earns).
pub async fn answer(
    state: &AppState,
    request: &ApiRequest,
    resolution: Resolution<Endpoint>,
    caller: Option<&Caller>,
) -> Result<ApiResponse, ApiError> {
    let (crm, params) = routes::resolved(request, resolution, |endpoint| match endpoint {
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
            "number": caller.user_number,
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

/// `GET /health` on a connection past the cap (`server`): the server is up,
/// only busy, and a probe must be able to tell the two apart.
pub fn health_while_overloaded() -> ApiResponse {
    ApiResponse::ok(json!({"status": "ok", "overloaded": true}))
}
