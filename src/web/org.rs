//! `?org=`, the organisation (public id) an admin read, reset or review
//! page view is limited to: read and looked up the same way by every
//! tooling face.

use super::error::ApiError;
use super::request::ApiRequest;
use super::state::AppState;
use crate::store::OrgRef;

/// The organisation `?org=` names, or `None` without the parameter: the
/// whole server. An id that names no organisation is a 404, so a job whose
/// tenant was deleted is told so rather than shown someone else's data.
pub async fn org_scope(state: &AppState, request: &ApiRequest) -> Result<Option<OrgRef>, ApiError> {
    let Some(id) = request.query_param("org") else {
        return Ok(None);
    };
    if id.is_empty() {
        return Err(ApiError::field(
            "org",
            "is empty; give an organisation id (org_…) from POST or GET /__admin/tenants",
        ));
    }
    let lookup = id.clone();
    state
        .store
        .read(move |store| store.organisation(&lookup))
        .await?
        .map(Some)
        .ok_or_else(|| no_such_organisation(&id))
}

pub fn no_such_organisation(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no organisation with id {id:?}; GET /__admin/tenants lists them"
    ))
}

/// `?org=` as the review page sends it: its organisation filter sends it
/// empty for every organisation. The admin routes are stricter (an empty
/// `?org=` is refused there, see `admin::org_scope`), since a CI job whose
/// organisation id came out empty must not be shown every organisation.
pub async fn org_param(state: &AppState, request: &ApiRequest) -> Result<Option<OrgRef>, ApiError> {
    if request
        .query_param("org")
        .is_some_and(|org| org.trim().is_empty())
    {
        return Ok(None);
    }
    org_scope(state, request).await
}
