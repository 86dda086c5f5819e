//! `GET /__admin/activities` and `GET /__admin/activities/{id}/revisions`:
//! every organisation's activities and how each write changed them, for
//! tooling (the review page reads the same store methods). Both take
//! `?org=` to keep to one organisation.

use serde::Serialize;
use serde_json::json;
use warp::http::StatusCode;

use super::activities::{encode_cursor, page_params, ActivityJson};
use super::error::ApiError;
use super::request::ApiRequest;
use super::response::ApiResponse;
use super::AppState;
use crate::store::{AdminActivityFilter, Organisation};

pub async fn list(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let organisation_id = org_param(state, request).await?;
    let (limit, before_seq) = page_params(request)?;
    let filter = AdminActivityFilter {
        organisation_id,
        contact_id: request.query_param("contact_id"),
        session_id: request.query_param("session_id"),
        text: request.query_param("q").filter(|q| !q.is_empty()),
        before_seq,
        limit,
    };
    let page = state
        .store
        .read(move |store| store.admin_activities(&filter))
        .await?;
    let items: Vec<Listed<'_>> = page
        .items
        .iter()
        .map(|item| Listed {
            organisation: &item.organisation,
            revisions: item.revisions,
            activity: ActivityJson(&item.activity),
        })
        .collect();
    let capacity = page
        .items
        .iter()
        .map(|i| i.activity.body.len() + 1024)
        .sum();
    ApiResponse::encode_sized(
        StatusCode::OK,
        &json!({
            "items": items,
            "next_cursor": page.next_seq.map(encode_cursor),
        }),
        capacity,
    )
}

pub async fn revisions(
    state: &AppState,
    request: &ApiRequest,
    id: String,
) -> Result<ApiResponse, ApiError> {
    let org = org_param(state, request).await?;
    let lookup = id.clone();
    let Some((organisation, revisions)) = state
        .store
        .read(move |store| store.revisions(org, &lookup))
        .await?
    else {
        return Err(ApiError::NotFound(format!("no activity with id {id:?}")));
    };
    let items: Vec<_> = revisions
        .iter()
        .map(|revision| {
            json!({
                "number": revision.number,
                "at": revision.state.updated_at,
                "request_id": revision.request_id,
                "activity": ActivityJson(&revision.state),
            })
        })
        .collect();
    Ok(ApiResponse::ok(json!({
        "activity_id": id,
        "organisation": organisation,
        "items": items,
    })))
}

/// One item of the listing: the activity with its organisation and how
/// many revisions it has.
#[derive(Serialize)]
struct Listed<'a> {
    activity: ActivityJson<'a>,
    organisation: &'a Organisation,
    revisions: u32,
}

/// `?org=`: an organisation id as these routes show it, which must exist.
pub(crate) async fn org_param(
    state: &AppState,
    request: &ApiRequest,
) -> Result<Option<i64>, ApiError> {
    let Some(text) = request.query_param("org").filter(|org| !org.is_empty()) else {
        return Ok(None);
    };
    // Digits only, no sign or leading zero: the form the document states.
    let canonical =
        text.len() <= 18 && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    let id = text
        .parse::<i64>()
        .ok()
        .filter(|_| canonical)
        .ok_or_else(|| {
            ApiError::field(
                "org",
                format!("must be an organisation id (a whole number >= 1), got {text:?}"),
            )
        })?;
    let organisations = state.store.read(|store| store.organisations()).await?;
    if organisations
        .iter()
        .any(|organisation| organisation.id == id)
    {
        Ok(Some(id))
    } else {
        Err(ApiError::NotFound(format!(
            "no organisation with id {id}; GET /__admin/activities lists each activity's organisation"
        )))
    }
}
