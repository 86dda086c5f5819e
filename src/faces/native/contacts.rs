//! `/contact` routes: create, find by phone number or by name, list, get by
//! id; and `/users`, the caller's organisation.

use serde_json::json;
use warp::http::StatusCode;

use crate::store::{Caller, ContactFilter, NewContact};
use crate::web::ApiError;
use crate::web::ApiResponse;
use crate::web::AppState;
use crate::web::{encode_cursor, page_params};
use crate::web::{ApiRequest, Fields};

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

/// `GET /contact`: by `phone` (every match), by `name` (a part of it, any
/// case), both, or all; a page at a time, newest first, unless by phone.
pub async fn search(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let org = caller.organisation_id;
    let name = request.query_param("name");
    if name.as_deref().is_some_and(|name| name.trim().is_empty()) {
        return Err(ApiError::field(
            "name",
            "must not be empty; leave it out to list every contact",
        ));
    }
    // Checked whatever else is asked, so a bad value is never ignored.
    let (limit, before_seq) = page_params(request)?;
    let Some(phone) = request.query_param("phone") else {
        let filter = ContactFilter {
            name,
            before_seq,
            limit,
        };
        let page = state
            .store
            .read(move |store| store.list_contacts(org, &filter))
            .await?;
        return Ok(ApiResponse::ok(json!({
            "items": page.items,
            "next_cursor": page.next_seq.map(encode_cursor),
        })));
    };
    if !phone.chars().any(|c| c.is_ascii_digit()) {
        return Err(ApiError::field(
            "phone",
            "must hold a phone number, e.g. /contact?phone=%2B14155550199",
        ));
    }
    let mut contacts = state
        .store
        .read(move |store| store.contacts_by_phone(org, &phone))
        .await?;
    if let Some(name) = name.map(|name| name.to_lowercase()) {
        contacts.retain(|contact| contact.name.to_lowercase().contains(&name));
    }
    Ok(ApiResponse::ok(
        json!({ "items": contacts, "next_cursor": null }),
    ))
}

/// `GET /users`: the users of the caller's organisation.
pub async fn users(state: &AppState, caller: &Caller) -> Result<ApiResponse, ApiError> {
    let org = caller.organisation_id;
    let users = state.store.read(move |store| store.users(org)).await?;
    Ok(ApiResponse::ok(json!({ "items": users })))
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
