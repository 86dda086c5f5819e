//! `/__admin/tenants`: organisations created at run time, one per CI job
//! sharing a server. Creating one answers its public id and a fresh API
//! key; deleting one removes it with all its data, and its journal entries
//! and faults.

use serde_json::{json, Value};
use warp::http::StatusCode;

use crate::store::{NewTenant, TenantDeletion};
use crate::web::ApiResponse;
use crate::web::AppState;
use crate::web::{no_such_organisation, org_scope, ApiError};
use crate::web::{ApiRequest, Fields};

/// Longest tenant name taken: long enough for a CI job's name and run id.
const MAX_NAME: usize = 200;

pub async fn create(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    // No body at all is a tenant with every default; a body that is sent
    // must be a JSON object, as everywhere else.
    let absent = request.body.as_ref().is_some_and(|body| body.is_empty());
    let object = if absent {
        serde_json::Map::new()
    } else {
        request.json_object()?
    };
    if let Some(unknown) = object.keys().find(|key| key.as_str() != "name") {
        return Err(ApiError::field(
            unknown.clone(),
            "is not a tenant field; a tenant takes only an optional name",
        ));
    }
    let name = Fields::new(&object).optional_text("name")?;
    if let Some(name) = &name {
        if name.chars().count() > MAX_NAME {
            return Err(ApiError::field(
                "name",
                format!("is longer than {MAX_NAME} characters"),
            ));
        }
    }
    let (user, contacts) = state.seed.tenant_template();
    let new = NewTenant {
        name,
        user,
        contacts,
    };
    let created = state
        .store
        .run(move |store| store.create_tenant(&new))
        .await?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        json!({
            "id": created.organisation.id,
            "name": created.organisation.name,
            "api_key": created.api_key,
        }),
    ))
}

/// Every organisation, oldest first, or (`?org=`) the one named. Keys are
/// not listed: they are shown once, when a tenant is created.
pub async fn list(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let items: Vec<Value> = match org_scope(state, request).await? {
        Some(org) => vec![json!(org.organisation)],
        None => state
            .store
            .read(|store| store.organisations())
            .await?
            .into_iter()
            .map(|organisation| json!(organisation))
            .collect(),
    };
    Ok(ApiResponse::ok(json!({ "items": items })))
}

pub async fn delete(state: &AppState, id: &str) -> Result<ApiResponse, ApiError> {
    let lookup = id.to_owned();
    let deleted = state
        .store
        .run(move |store| store.delete_tenant(&lookup))
        .await?;
    match deleted {
        TenantDeletion::Deleted => {
            state.harness.journal.clear(Some(id));
            state.harness.faults.clear(Some(id));
            Ok(ApiResponse::no_content())
        }
        TenantDeletion::NotFound => Err(no_such_organisation(id)),
        TenantDeletion::Seeded { name } => Err(ApiError::Conflict(format!(
            "organisation {name:?} comes from the seed, and only tenants are deleted; \
             POST /__admin/reset?org={id} puts it back to its seed instead"
        ))),
    }
}
