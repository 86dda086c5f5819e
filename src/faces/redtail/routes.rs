//! The Redtail face's routes: its table (what it serves, below
//! `/api/public/v1`), the sign-in check every route but an unserved one
//! makes, and the handlers for signing in, contacts and lists. Activities
//! and their notes are `activities.rs`'s. Handlers parse, call the store
//! and answer in Redtail's shape: no SQL here.

use serde_json::{json, Map, Value};
use warp::http::{Method, StatusCode};

use super::activities;
use super::errors::{RedtailError, UNAUTHORIZED};
use super::wire::{self, INDIVIDUAL};
use super::{partner_key, BASE_PATH, NAME, PARTNER_KEY, USER_KEY};
use crate::store::{Caller, ContactFilter, CrmSecret, NewContact};
use crate::web::table::{self, Resolution, Route};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// Most contacts one search answers with.
const SEARCH_LIMIT: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Authentication,
    SearchContacts,
    CreateContact,
    GetContact,
    ContactActivities,
    Categories,
    DatabaseUsers,
    CreateActivity,
    GetActivity,
    PutActivity,
    PatchActivity,
    CreateNote,
    ListNotes,
}

const fn route(method: Method, path: &'static str, endpoint: Endpoint) -> Route<Endpoint> {
    Route {
        method,
        path,
        endpoint,
    }
}

/// Every route the face serves, below `BASE_PATH`. A literal segment
/// before a parameter in the same place (`search_basic` before `{id}`).
pub const ROUTES: [Route<Endpoint>; 13] = [
    route(Method::GET, "/authentication", Endpoint::Authentication),
    route(
        Method::GET,
        "/contacts/search_basic",
        Endpoint::SearchContacts,
    ),
    route(Method::POST, "/contacts", Endpoint::CreateContact),
    route(Method::GET, "/contacts/{id}", Endpoint::GetContact),
    route(
        Method::GET,
        "/contacts/{id}/activities",
        Endpoint::ContactActivities,
    ),
    route(Method::GET, "/lists/categories", Endpoint::Categories),
    route(
        Method::GET,
        "/lists/database_users",
        Endpoint::DatabaseUsers,
    ),
    route(Method::POST, "/activities", Endpoint::CreateActivity),
    route(Method::GET, "/activities/{id}", Endpoint::GetActivity),
    route(Method::PUT, "/activities/{id}", Endpoint::PutActivity),
    route(Method::PATCH, "/activities/{id}", Endpoint::PatchActivity),
    route(Method::POST, "/activities/{id}/notes", Endpoint::CreateNote),
    route(Method::GET, "/activities/{id}/notes", Endpoint::ListNotes),
];

/// The routes as a sentence, for the hint on a 404.
pub fn served_routes() -> String {
    table::listing(&ROUTES, BASE_PATH)
}

pub async fn answer(
    state: &AppState,
    request: &ApiRequest,
    path: &str,
    caller: Option<&Caller>,
) -> ApiResponse {
    serve(state, request, path, caller)
        .await
        .unwrap_or_else(RedtailError::into_response)
}

async fn serve(
    state: &AppState,
    request: &ApiRequest,
    path: &str,
    caller: Option<&Caller>,
) -> Result<ApiResponse, RedtailError> {
    let no_route = || RedtailError::NoRoute {
        method: request.method.to_string(),
        path: request.path.clone(),
        hint: format!("this face serves {}", served_routes()),
    };
    let rest = path
        .strip_prefix(BASE_PATH)
        .filter(|rest| rest.starts_with('/'))
        .ok_or_else(no_route)?;
    let (endpoint, params) = match table::resolve(&ROUTES, &request.method, rest) {
        Resolution::Found { endpoint, params } => (endpoint, params),
        Resolution::WrongMethod { allowed } => {
            return Err(RedtailError::WrongMethod {
                method: request.method.to_string(),
                path: request.path.clone(),
                allowed,
                hint: format!("this face serves {}", served_routes()),
            })
        }
        Resolution::NotFound => return Err(no_route()),
    };
    let caller = signed_in(request, caller)?;
    let id = params.into_iter().next().unwrap_or_default();
    match endpoint {
        Endpoint::Authentication => authentication(state, caller).await,
        Endpoint::SearchContacts => search_contacts(state, caller, request).await,
        Endpoint::CreateContact => create_contact(state, caller, request).await,
        Endpoint::GetContact => get_contact(state, caller, &id).await,
        Endpoint::ContactActivities => activities::of_contact(state, caller, request, &id).await,
        Endpoint::Categories => Ok(ApiResponse::ok(wire::categories_json())),
        Endpoint::DatabaseUsers => {
            let org = caller.organisation_id;
            let users = state.store.read(move |store| store.users(org)).await?;
            Ok(ApiResponse::ok(wire::database_users_json(&users)))
        }
        Endpoint::CreateActivity => activities::create(state, caller, request).await,
        Endpoint::GetActivity => activities::get(state, caller, request, &id).await,
        Endpoint::PutActivity | Endpoint::PatchActivity => {
            activities::update(state, caller, request, &id).await
        }
        Endpoint::CreateNote => activities::create_note(state, caller, request, &id).await,
        Endpoint::ListNotes => activities::notes(state, caller, &id).await,
    }
}

/// The caller, when the request is signed in with this server's partner
/// key and a user's password or user key.
fn signed_in<'a>(
    request: &ApiRequest,
    caller: Option<&'a Caller>,
) -> Result<&'a Caller, RedtailError> {
    match (caller, partner_key(request)) {
        (Some(caller), Some(key)) if key == PARTNER_KEY => Ok(caller),
        (Some(_), _) => Err(RedtailError::Unauthorized(format!(
            "Unauthorized: the API key is not this integration's ({PARTNER_KEY}, REDTAIL_API_KEY of GET /__admin/crms)"
        ))),
        (None, _) => Err(RedtailError::Unauthorized(UNAUTHORIZED.into())),
    }
}

/// `GET /authentication`: the user and the user key later calls send.
async fn authentication(state: &AppState, caller: &Caller) -> Result<ApiResponse, RedtailError> {
    let org = caller.organisation_id;
    let user_id = caller.user_id.clone();
    let user_key = state
        .store
        .run(move |store| {
            store.crm_secret(
                org,
                &user_id,
                &CrmSecret {
                    crm: NAME,
                    kind: USER_KEY,
                },
                || format!("user_key_{}", uuid::Uuid::new_v4().simple()),
            )
        })
        .await?;
    Ok(ApiResponse::ok(json!({
        "authenticated_user": wire::authenticated_user(caller, &user_key),
    })))
}

/// `GET /contacts/search_basic?phone_number=…` (the national digits App
/// Connect sends match a number stored with its country code) or
/// `?name=…` (a part of the name, any case); with neither, the newest.
async fn search_contacts(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, RedtailError> {
    let org = caller.organisation_id;
    let phone = request.query_param("phone_number");
    let name = request.query_param("name");
    let contacts = match (phone, name) {
        (Some(phone), _) => {
            if !phone.chars().any(|c| c.is_ascii_digit()) {
                return Err(RedtailError::field(
                    "phone_number",
                    "has no digits; send the number's digits, e.g. phone_number=4155550199",
                ));
            }
            state
                .store
                .read(move |store| store.contacts_by_phone(org, &phone))
                .await?
        }
        (None, name) => {
            // No criterion (or a blank name): every contact, newest first.
            let name = name
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty());
            let filter = ContactFilter {
                name,
                before_seq: None,
                limit: SEARCH_LIMIT,
            };
            state
                .store
                .read(move |store| store.list_contacts(org, &filter))
                .await?
                .items
        }
    };
    let total = contacts.len();
    let contacts: Vec<Value> = contacts.iter().map(wire::contact_json).collect();
    Ok(ApiResponse::ok(json!({
        "contacts": contacts,
        "meta": {"total_records": total, "total_pages": usize::from(total > 0)},
    })))
}

/// `POST /contacts`: an individual, with its first phone and email kept.
async fn create_contact(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, RedtailError> {
    let object = request.json_object()?;
    let new = new_contact(&object)?;
    let org = caller.organisation_id;
    let contact = state
        .store
        .run(move |store| store.create_contact(org, &new))
        .await?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        json!({ "contact": wire::contact_json(&contact) }),
    ))
}

fn new_contact(object: &Map<String, Value>) -> Result<NewContact, RedtailError> {
    match object.get("type") {
        None => {}
        Some(Value::String(kind)) if kind == INDIVIDUAL => {}
        Some(other) => {
            return Err(RedtailError::field(
                "type",
                format!("{other} is not served; mockcrm's Redtail creates {INDIVIDUAL} contacts"),
            ))
        }
    }
    let text = |field: &str| match object.get(field) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
        Some(other) => Err(wire::must_be(field, "a string", other)),
    };
    let first = text("first_name")?;
    let middle = text("middle_name")?;
    // An individual needs a last name (App Connect's connector puts a
    // one-word name there).
    let last = text("last_name")?
        .filter(|last| !last.is_empty())
        .ok_or_else(|| {
            RedtailError::field("last_name", "can't be blank; send first_name and last_name")
        })?;
    let name = [first, middle, Some(last)]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(NewContact {
        name,
        phone_number: first_phone(object)?,
        email: first_email(object)?,
        contact_type: None,
    })
}

/// `phones: [{number, country_code}]`: the first, as `+<code><number>`.
fn first_phone(object: &Map<String, Value>) -> Result<String, RedtailError> {
    let phones = match object.get("phones") {
        None => return Ok(String::new()),
        Some(Value::Array(phones)) => phones,
        Some(other) => return Err(wire::must_be("phones", "an array", other)),
    };
    // Only the first is kept, but every one must be a phone.
    if phones
        .iter()
        .any(|phone| !matches!(phone.get("number"), Some(Value::String(_))))
    {
        return Err(RedtailError::field(
            "phones",
            "must hold objects with a number, e.g. [{\"number\": \"4155550199\", \"country_code\": 1}]",
        ));
    }
    let Some(phone) = phones.first() else {
        return Ok(String::new());
    };
    let number = match phone.get("number") {
        Some(Value::String(text)) => text.clone(),
        _ => {
            return Err(RedtailError::field(
                "phones",
                "must hold objects with a number, e.g. [{\"number\": \"4155550199\", \"country_code\": 1}]",
            ))
        }
    };
    if !number.chars().any(|c| c.is_ascii_digit()) {
        return Err(RedtailError::field("phones", "number has no digits"));
    }
    for field in ["country_code", "phone_type"] {
        match phone.get(field) {
            None => {}
            Some(value) if wire::is_integer(value) => {}
            Some(other) => {
                return Err(wire::must_be(
                    &format!("phones {field}"),
                    "an integer",
                    other,
                ))
            }
        }
    }
    let country_code = phone.get("country_code").map(|code| {
        code.as_i64()
            .map_or_else(|| code.to_string(), |n| n.to_string())
    });
    Ok(match country_code {
        Some(code) if !number.trim_start().starts_with('+') => {
            let digits: String = number.chars().filter(char::is_ascii_digit).collect();
            format!("+{code}{digits}")
        }
        _ => number,
    })
}

/// `emails: [{address}]`: the first.
fn first_email(object: &Map<String, Value>) -> Result<Option<String>, RedtailError> {
    match object.get("emails") {
        None => Ok(None),
        Some(Value::Array(emails)) => match emails.first() {
            None => Ok(None),
            Some(email) => match email.get("address") {
                Some(Value::String(address)) if !address.trim().is_empty() => {
                    Ok(Some(address.clone()))
                }
                _ => Err(RedtailError::field(
                    "emails",
                    "must hold objects with an address, e.g. [{\"address\": \"dana@example.com\"}]",
                )),
            },
        },
        Some(other) => Err(wire::must_be("emails", "an array", other)),
    }
}

async fn get_contact(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<ApiResponse, RedtailError> {
    let org = caller.organisation_id;
    let not_found = || RedtailError::NotFound(format!("Contact {id} not found"));
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let contact = state
        .store
        .read(move |store| store.contact_by_number(org, number))
        .await?
        .ok_or_else(not_found)?;
    Ok(ApiResponse::ok(
        json!({ "contact": wire::contact_json(&contact) }),
    ))
}
