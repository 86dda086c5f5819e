//! Pipedrive's persons (the store's contacts, by their numbers) and what
//! App Connect reads about them: search by phone or name, one person, a new
//! person, the person's open deals and leads (this store keeps neither, so
//! those lists are empty), and the company's users and activity types.

use serde_json::{json, Value};
use warp::http::StatusCode;

use super::errors::{Answer, PipedriveError};
use super::wire;
use crate::store::{Caller, ContactFilter, NewContact};
use crate::web::{ApiRequest, ApiResponse, AppState, Fields};

/// Most hits a search answers (Pipedrive's `limit` default).
const SEARCH_LIMIT: u32 = 100;

/// `GET /api/v2/persons/search?term=&fields=phone|name[&exact_match=]`.
pub async fn search(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let term = request.query_param("term").unwrap_or_default();
    let term = term.trim().to_owned();
    let exact = match request.query_param("exact_match").as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(other) => {
            return Err(PipedriveError::BadRequest(format!(
                "exact_match must be true or false, not {other:?}"
            )))
        }
    };
    if term.chars().count() < if exact { 1 } else { 2 } {
        return Err(PipedriveError::BadRequest(
            "term is required: at least 2 characters (1 with exact_match=true)".into(),
        ));
    }
    let fields = request
        .query_param("fields")
        .unwrap_or_else(|| "name,phone".to_owned());
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    for field in &wanted {
        if !["name", "phone", "email", "notes", "custom_fields"].contains(field) {
            return Err(PipedriveError::BadRequest(format!(
                "fields: {field:?} is not a person search field; use name, phone, email, notes or custom_fields"
            )));
        }
    }
    let (by_phone, by_name) = (wanted.contains(&"phone"), wanted.contains(&"name"));
    let org = caller.organisation_id;
    let lookup = term.clone();
    let found = state
        .store
        .read(move |store| {
            let mut found = Vec::new();
            if by_phone {
                found.extend(store.contacts_with_phone_digits(org, &lookup, SEARCH_LIMIT)?);
            }
            if by_name {
                let filter = ContactFilter {
                    name: Some(lookup.clone()),
                    before_seq: None,
                    limit: SEARCH_LIMIT,
                };
                let mut named = store.list_contacts(org, &filter)?.items;
                // Oldest first, as the phone search answers.
                named.reverse();
                found.extend(named);
            }
            Ok(found)
        })
        .await?;
    let mut seen = std::collections::HashSet::new();
    let items: Vec<Value> = found
        .iter()
        .filter(|contact| seen.insert(contact.number))
        .filter(|contact| !exact || contact.name.eq_ignore_ascii_case(&term) || by_phone)
        .map(|contact| wire::search_item(contact, caller))
        .collect();
    Ok(ApiResponse::ok(json!({
        "success": true,
        "data": {"items": items},
        "additional_data": {"next_cursor": Value::Null},
    })))
}

/// A person's id from the path: Pipedrive's ids are whole numbers.
pub fn person_number(text: &str) -> Result<i64, PipedriveError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|number| *number > 0)
        .ok_or_else(|| {
            PipedriveError::BadRequest(format!("id must be a positive integer, not {text:?}"))
        })
}

/// `GET /api/v2/persons/{id}`.
pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Answer {
    let number = person_number(id)?;
    let org = caller.organisation_id;
    let contact = state
        .store
        .read(move |store| store.contact_by_number(org, number))
        .await?
        .ok_or_else(|| PipedriveError::NotFound("Person not found".into()))?;
    Ok(ApiResponse::ok(wire::envelope(wire::person_v2(
        &contact, caller,
    ))))
}

/// `POST /v1/persons {name, phone?, email?}`: `phone` and `email` as a
/// string, a list of strings, or a list of `{value, primary, label}`; the
/// primary (else first) one is kept.
pub async fn create(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let object = request.json_object()?;
    let fields = Fields::new(&object);
    let name = match fields.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(PipedriveError::BadRequest("Name must be given.".into()))
        }
        Some(_) => return Err(PipedriveError::BadRequest("name must be a string".into())),
    };
    let phone = contact_point(fields.get("phone"), "phone")?.unwrap_or_default();
    let email = contact_point(fields.get("email"), "email")?;
    let new = NewContact {
        name,
        phone_number: phone,
        email,
        contact_type: None,
    };
    let org = caller.organisation_id;
    let contact = state
        .store
        .run(move |store| store.create_contact(org, &new))
        .await?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        wire::envelope(wire::person_v1(&contact, caller)),
    ))
}

/// The one phone or email a person keeps, from the shapes Pipedrive takes.
fn contact_point(value: Option<&Value>, field: &str) -> Result<Option<String>, PipedriveError> {
    let wrong = || {
        PipedriveError::BadRequest(format!(
            "{field} must be a string or a list of strings or of {{value, primary, label}} objects"
        ))
    };
    let text = |value: &Value| -> Result<Option<String>, PipedriveError> {
        let primary_ok = value
            .get("primary")
            .is_none_or(|primary| primary.is_boolean() || primary.is_null());
        let label_ok = value
            .get("label")
            .is_none_or(|label| label.is_string() || label.is_null());
        if !primary_ok || !label_ok {
            return Err(wrong());
        }
        match value {
            Value::String(text) => Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty())),
            Value::Object(object) => match object.get("value") {
                Some(Value::String(text)) => {
                    Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()))
                }
                Some(Value::Null) | None => Ok(None),
                Some(_) => Err(wrong()),
            },
            Value::Null => Ok(None),
            _ => Err(wrong()),
        }
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => {
            let primary = items
                .iter()
                .find(|item| item.get("primary") == Some(&Value::Bool(true)))
                .or_else(|| items.first());
            for item in items {
                if !item.is_string() && !item.is_object() {
                    return Err(wrong());
                }
                text(item)?;
            }
            primary.map_or(Ok(None), text)
        }
        Some(Value::String(_)) => text(value.unwrap_or(&Value::Null)),
        Some(_) => Err(wrong()),
    }
}

/// The `person_id` of a deals or leads query, which must be a person of the
/// caller's company when given.
async fn person_filter(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<(), PipedriveError> {
    let Some(id) = request.query_param("person_id") else {
        return Ok(());
    };
    let number = person_number(&id)?;
    let org = caller.organisation_id;
    let exists = state
        .store
        .read(move |store| store.contact_by_number(org, number))
        .await?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(PipedriveError::NotFound("Person not found".into()))
    }
}

/// `GET /api/v2/deals?person_id=&status=`: the store keeps no deals.
pub async fn deals(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    if let Some(status) = request.query_param("status") {
        if !["open", "won", "lost", "deleted", "all_not_deleted"].contains(&status.as_str()) {
            return Err(PipedriveError::BadRequest(format!(
                "status {status:?} is not one of open, won, lost, deleted, all_not_deleted"
            )));
        }
    }
    person_filter(state, caller, request).await?;
    Ok(ApiResponse::ok(json!({
        "success": true,
        "data": [],
        "additional_data": {"next_cursor": Value::Null},
    })))
}

/// `GET /v1/leads?person_id=`: the store keeps no leads.
pub async fn leads(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    person_filter(state, caller, request).await?;
    Ok(ApiResponse::ok(json!({
        "success": true,
        "data": [],
        "additional_data": {"pagination": {
            "start": 0, "limit": 100, "more_items_in_collection": false
        }},
    })))
}

/// `GET /v1/users`: the company's users.
pub async fn users(state: &AppState, caller: &Caller) -> Answer {
    let org = caller.organisation_id;
    let users = state.store.read(move |store| store.users(org)).await?;
    let data: Vec<Value> = users
        .iter()
        .map(|user| {
            let mut shown = wire::user(&Caller {
                user_id: user.id.clone(),
                user_number: user.number,
                user_name: user.name.clone(),
                email: user.email.clone(),
                timezone_offset: user.timezone_offset.clone(),
                ..caller.clone()
            });
            shown["is_you"] = Value::Bool(user.id == caller.user_id);
            shown
        })
        .collect();
    Ok(ApiResponse::ok(wire::envelope(Value::Array(data))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_comes_in_any_of_pipedrives_shapes() {
        let cases = [
            (json!("+1 415"), Some("+1 415")),
            (json!(["+1", "+2"]), Some("+1")),
            (
                json!([{"value": "+2", "primary": false}, {"value": "+3", "primary": true}]),
                Some("+3"),
            ),
            (json!([]), None),
            (Value::Null, None),
        ];
        for (value, expected) in cases {
            assert_eq!(
                contact_point(Some(&value), "phone").expect("readable"),
                expected.map(str::to_owned),
                "{value}"
            );
        }
        assert!(contact_point(Some(&json!(5)), "phone").is_err());
        assert!(contact_point(Some(&json!([{"value": 5}])), "phone").is_err());
        assert!(contact_point(Some(&json!([{"value": "1", "primary": {}}])), "phone").is_err());
        assert!(contact_point(Some(&json!([{"value": "1", "label": 5}])), "phone").is_err());
        assert!(contact_point(Some(&json!([null])), "phone").is_err());
        assert!(contact_point(Some(&json!({"value": "1"})), "phone").is_err());
    }

    #[test]
    fn ids_are_positive_integers() {
        assert_eq!(person_number("12").ok(), Some(12));
        for bad in ["0", "-1", "abc", "1.5", ""] {
            assert!(person_number(bad).is_err(), "{bad}");
        }
    }
}
