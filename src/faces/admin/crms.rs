//! `GET /__admin/crms[?org=ID]`: how to reach each CRM face this server
//! serves, as the organisation's (first) user: the base URL, the
//! environment App Connect's connector reads, the user record it is handed,
//! what the user types into App Connect's sign-in, the real hosts the face
//! also answers and the CA to trust. Everything a test, a CI job or App
//! Connect itself needs, with no reading of README. Without `?org=` it is
//! the seed's first organisation.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::store::CrmSecret;
use crate::web::crm::{CrmFace, CrmUser, Place};
use crate::web::{org_scope, ApiError, ApiRequest, ApiResponse, AppState};

pub async fn list(
    state: &AppState,
    faces: &[Arc<dyn CrmFace>],
    place: &Place,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let org = match org_scope(state, request).await? {
        Some(org) => org.key,
        None => state
            .store
            .read(|store| store.first_organisation())
            .await?
            .ok_or_else(|| ApiError::NotFound("the server has no organisation".into()))?,
    };
    // Which secrets each face hands out, made now (and kept) if the user
    // has none yet: asking twice gives the same credentials.
    let wanted: Vec<(&'static str, &'static str)> = faces
        .iter()
        .flat_map(|face| face.secrets().iter().map(move |kind| (face.name(), *kind)))
        .collect();
    let users = state
        .store
        .run(move |store| {
            let Some(caller) = store.first_user(org)? else {
                return Ok(None);
            };
            let api_key = store.api_key_of(&caller.user_id)?.unwrap_or_default();
            let mut secrets: Vec<(&'static str, &'static str, String)> = Vec::new();
            for (crm, kind) in &wanted {
                let secret =
                    store.crm_secret(org, &caller.user_id, &CrmSecret { crm, kind }, || {
                        new_secret(kind)
                    })?;
                secrets.push((crm, kind, secret));
            }
            Ok(Some((caller, api_key, secrets)))
        })
        .await?;
    let Some((caller, api_key, secrets)) = users else {
        return Err(ApiError::NotFound(
            "the organisation has no user to sign in as".into(),
        ));
    };
    let crms: Vec<Value> = faces
        .iter()
        .map(|face| {
            let secrets: Map<String, Value> = secrets
                .iter()
                .filter(|(crm, _, _)| *crm == face.name())
                .map(|(_, kind, secret)| ((*kind).to_owned(), Value::from(secret.as_str())))
                .collect();
            let user = CrmUser {
                caller: caller.clone(),
                api_key: api_key.clone(),
                secrets,
            };
            serde_json::to_value(face.connection(place, &user)).unwrap_or(Value::Null)
        })
        .collect();
    Ok(ApiResponse::ok(json!({
        "crms": crms,
        "tls": place.tls,
        "proxy": place.proxy,
    })))
}

/// A secret no one can guess: 122 bits from the system's randomness.
fn new_secret(kind: &str) -> String {
    let prefix: String = kind
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(8)
        .collect();
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
