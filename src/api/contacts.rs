//! `/contact` routes: create, find by phone number, get by id.

use serde_json::json;
use warp::http::StatusCode;

use super::error::ApiError;
use super::request::{ApiRequest, Fields};
use super::response::ApiResponse;
use super::AppState;
use crate::store::{Caller, NewContact};

const CONTACT_FIELDS: [&str; 4] = ["name", "phone_number", "email", "type"];

pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let object = request.json_object()?;
    if let Some(unknown) = object
        .keys()
        .find(|key| !CONTACT_FIELDS.contains(&key.as_str()))
    {
        return Err(ApiError::field(
            unknown.clone(),
            "is not a contact field; a contact has name, phone_number, email and type",
        ));
    }
    let fields = Fields::new(&object);
    let new = NewContact {
        name: fields.required_text("name")?,
        phone_number: fields.required_text("phone_number")?,
        email: fields.optional_text("email")?,
        contact_type: fields.optional_text("type")?,
    };
    if !new.phone_number.chars().any(|c| c.is_ascii_digit()) {
        return Err(ApiError::field(
            "phone_number",
            "has no digits; send a number such as +14155550199",
        ));
    }
    let org = caller.organisation_id;
    let contact = state
        .store
        .run(move |store| store.create_contact(org, &new))
        .await?;
    Ok(ApiResponse::json(StatusCode::CREATED, json!(contact)))
}

pub async fn search(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let phone = request
        .query_param("phone")
        .filter(|phone| phone.chars().any(|c| c.is_ascii_digit()))
        .ok_or_else(|| {
            ApiError::field(
                "phone",
                "query parameter with a phone number is required, e.g. /contact?phone=%2B14155550199",
            )
        })?;
    let org = caller.organisation_id;
    let contacts = state
        .store
        .read(move |store| store.contacts_by_phone(org, &phone))
        .await?;
    Ok(ApiResponse::ok(json!({ "items": contacts })))
}

pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Result<ApiResponse, ApiError> {
    let org = caller.organisation_id;
    let lookup = id.to_owned();
    state
        .store
        .read(move |store| store.contact(org, &lookup))
        .await?
        .map(|contact| ApiResponse::ok(json!(contact)))
        .ok_or_else(|| ApiError::NotFound(format!("no contact with id {id:?}")))
}
