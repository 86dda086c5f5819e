//! `GET /__admin/activities` and `GET /__admin/activities/{id}/revisions`:
//! every organisation's activities and how each write changed them, for
//! tooling (the review page reads the same store methods). Both take
//! `?org=` to keep to one organisation.

use serde::Serialize;
use serde_json::json;
use warp::http::StatusCode;

use crate::store::{AdminActivityFilter, Organisation};
use crate::web::ApiRequest;
use crate::web::ApiResponse;
use crate::web::AppState;
use crate::web::{encode_cursor, page_params};
use crate::web::{org_scope, ActivityJson, ApiError};

pub async fn list(state: &AppState, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let organisation_id = org_scope(state, request).await?.map(|org| org.key);
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
    .map_err(ApiError::encoding)
}

pub async fn revisions(
    state: &AppState,
    request: &ApiRequest,
    id: String,
) -> Result<ApiResponse, ApiError> {
    let org = org_scope(state, request).await?.map(|org| org.key);
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
