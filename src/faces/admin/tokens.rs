//! `POST /__admin/tokens/expire?org=ID`: the access tokens (and Bullhorn
//! sessions) of one organisation's users expire now, so a test can make a
//! token expire at an exact moment instead of racing `--token-ttl`. Which
//! kinds of secret expire is each served face's (`CrmFace::expiring_secrets`);
//! the expiry itself is the store's. It must never delete a secret (an
//! expired token answers the CRM's "expired" 401, an unknown one another)
//! nor touch refresh tokens (the connector refreshes with them).

use std::sync::Arc;

use serde_json::json;

use crate::web::crm::CrmFace;
use crate::web::{org_scope, ApiError, ApiRequest, ApiResponse, AppState};

pub async fn expire(
    state: &AppState,
    faces: &[Arc<dyn CrmFace>],
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let Some(org) = org_scope(state, request).await? else {
        return Err(ApiError::field(
            "org",
            "is required: name the organisation whose tokens expire (GET /__admin/tenants lists them)",
        ));
    };
    let mut kinds: Vec<&'static str> = faces
        .iter()
        .flat_map(|face| face.expiring_secrets().iter().copied())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    let key = org.key;
    let expired = state
        .store
        .run(move |store| store.expire_crm_secrets(key, &kinds))
        .await?;
    Ok(ApiResponse::ok(json!({ "expired": expired })))
}
