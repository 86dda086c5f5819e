//! Clio's contacts (the store's contacts, by their numbers) and what App
//! Connect reads about them: the search by phone or name (`query`), one
//! contact, a new contact, the contact's matters and relationships (the
//! store keeps no matters, so those lists are empty), and the firm's users.

use serde_json::Value;
use warp::http::StatusCode;

use super::errors::{Answer, ClioError};
use super::wire::{self, fields_of, raw_query_param, select};
use crate::store::{Caller, ContactFilter, NewContact};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// Clio's page size when `limit` is not given, and its largest.
const PAGE_LIMIT: u32 = 200;

/// A record id from a path or a query: Clio's ids are positive integers.
pub fn record_number(text: &str, what: &str) -> Result<i64, ClioError> {
    text.trim()
        .parse::<i64>()
        .ok()
        .filter(|number| *number > 0)
        .ok_or_else(|| {
            ClioError::BadRequest(format!("{what} must be a positive integer, not {text:?}"))
        })
}

/// The page size of a list request.
pub(super) fn limit_of(request: &ApiRequest) -> Result<u32, ClioError> {
    match raw_query_param(&request.query, "limit")? {
        None => Ok(PAGE_LIMIT),
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=PAGE_LIMIT).contains(limit))
            .ok_or_else(|| {
                ClioError::BadRequest(format!(
                    "limit must be a whole number from 1 to {PAGE_LIMIT}, not {text:?}"
                ))
            }),
    }
}

/// Whether a query is a phone number: digits and phone punctuation only.
fn is_phone(query: &str) -> bool {
    query.chars().any(|c| c.is_ascii_digit())
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
}

/// `GET /api/v4/contacts.json?query=&fields=&limit=&page_token=`: a phone
/// query finds the contacts whose number holds its digits, any other the
/// contacts whose name holds it (any case); no query lists them all,
/// newest first, a page at a time (`meta.paging.next`).
pub async fn search(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::CONTACT_FIELDS)?;
    let limit = limit_of(request)?;
    let query = raw_query_param(&request.query, "query")?
        .map(|query| query.trim().to_owned())
        .filter(|query| !query.is_empty());
    let before = match raw_query_param(&request.query, "page_token")? {
        Some(token) => Some(record_number(&token, "page_token")?),
        None => None,
    };
    let org = caller.organisation_id;
    let (found, next) = state
        .store
        .read(move |store| match query {
            Some(query) if is_phone(&query) => {
                let found = store.contacts_with_phone_digits(org, &query, limit)?;
                Ok((found, None))
            }
            name => {
                let filter = ContactFilter {
                    name,
                    before_seq: before,
                    limit,
                };
                let page = store.list_contacts(org, &filter)?;
                Ok((page.items, page.next_seq))
            }
        })
        .await?;
    let data = found
        .iter()
        .map(|contact| select(&wire::contact(contact), &fields))
        .collect::<Result<Vec<_>, _>>()?;
    let next = next.map(|seq| next_page(request, seq));
    Ok(ApiResponse::ok(wire::list(data, next)))
}

/// The absolute URL of the next page: the request's own, with its
/// `page_token` replaced. Clio is served over HTTPS, so the URL is too.
pub(super) fn next_page(request: &ApiRequest, seq: i64) -> String {
    let host = request.header("host").unwrap_or("app.clio.com");
    let kept: Vec<&str> = request
        .query
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("page_token="))
        .collect();
    let mut query = kept.join("&");
    if !query.is_empty() {
        query.push('&');
    }
    format!("https://{host}{}?{query}page_token={seq}", request.path)
}

/// `GET /api/v4/contacts/{id}.json?fields=`.
pub async fn get(state: &AppState, caller: &Caller, request: &ApiRequest, id: &str) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::CONTACT_FIELDS)?;
    let number = record_number(id, "id")?;
    let org = caller.organisation_id;
    let contact = state
        .store
        .read(move |store| store.contact_by_number(org, number))
        .await?
        .ok_or_else(|| ClioError::NotFound(format!("Contact {number} not found")))?;
    Ok(ApiResponse::ok(wire::envelope(select(
        &wire::contact(&contact),
        &fields,
    )?)))
}

/// `POST /api/v4/contacts.json {data: {name | first_name/last_name, type,
/// phone_numbers: [{name, number, default_number}], email_addresses?}}`:
/// the default (else first) phone number and email address are kept.
pub async fn create(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let object = request.json_object()?;
    let Some(Value::Object(data)) = object.get("data") else {
        return Err(ClioError::BadRequest(
            "the body must be {\"data\": {…the contact…}}".into(),
        ));
    };
    let text = |name: &str| -> Result<Option<String>, ClioError> {
        match data.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty())),
            Some(_) => Err(ClioError::Invalid(format!("{name} must be a string"))),
        }
    };
    let kind = match text("type")?.as_deref() {
        None | Some("Person") => "Person",
        Some("Company") => "Company",
        Some(other) => {
            return Err(ClioError::Invalid(format!(
                "type {other:?} is not valid: use Person or Company"
            )))
        }
    };
    let joined = [text("first_name")?, text("last_name")?]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = text("name")?
        .or(Some(joined).filter(|name| !name.is_empty()))
        .ok_or_else(|| {
            ClioError::Invalid("Name can't be blank: send name (or first_name/last_name)".into())
        })?;
    let phone = chosen(
        data.get("phone_numbers"),
        "phone_numbers",
        "number",
        "default_number",
    )?;
    let email = chosen(
        data.get("email_addresses"),
        "email_addresses",
        "address",
        "primary",
    )?;
    let new = NewContact {
        name,
        phone_number: phone.unwrap_or_default(),
        email,
        contact_type: Some(kind.to_owned()),
    };
    let fields = wire::fields_for(&request.query, &wire::CONTACT_FIELDS)?;
    let org = caller.organisation_id;
    let contact = state
        .store
        .run(move |store| store.create_contact(org, &new))
        .await?;
    // The connector reads `data.id` and `data.name` whatever it asked for.
    let mut shown = select(&wire::contact(&contact), &fields)?;
    shown["name"] = Value::from(contact.name.as_str());
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        wire::envelope(shown),
    ))
}

/// The one value of a list of `{<value>: …, <default>: true}` objects a
/// contact keeps: the default one, else the first.
fn chosen(
    list: Option<&Value>,
    field: &str,
    value: &str,
    default: &str,
) -> Result<Option<String>, ClioError> {
    let wrong = || {
        ClioError::Invalid(format!(
            "{field} must be a list of {{{value}, {default}}} objects"
        ))
    };
    let items = match list {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong()),
    };
    let mut values = Vec::new();
    for item in items {
        let Some(Value::String(text)) = item.get(value) else {
            return Err(wrong());
        };
        let is_default = match item.get(default) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(wrong()),
        };
        values.push((text.trim().to_owned(), is_default));
    }
    Ok(values
        .iter()
        .find(|(_, is_default)| *is_default)
        .or_else(|| values.first())
        .map(|(text, _)| text.clone())
        .filter(|text| !text.is_empty()))
}

/// The contact a `client_id` or `contact_id` filter names, which must be
/// one of the caller's firm.
async fn contact_filter(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    name: &str,
) -> Result<(), ClioError> {
    let Some(id) = raw_query_param(&request.query, name)? else {
        return Ok(());
    };
    let number = record_number(&id, name)?;
    let org = caller.organisation_id;
    let exists = state
        .store
        .read(move |store| store.contact_by_number(org, number))
        .await?
        .is_some();
    if exists {
        Ok(())
    } else {
        Err(ClioError::NotFound(format!("Contact {number} not found")))
    }
}

/// `GET /api/v4/matters.json?client_id=&fields=`: the store keeps no
/// matters.
pub async fn matters(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    fields_of(&request.query)?;
    contact_filter(state, caller, request, "client_id").await?;
    Ok(ApiResponse::ok(wire::list(Vec::new(), None)))
}

/// `GET /api/v4/relationships.json?contact_id=&fields=matter{…}`: the
/// store keeps no matters, so no contact has a relationship to one.
pub async fn relationships(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    fields_of(&request.query)?;
    contact_filter(state, caller, request, "contact_id").await?;
    Ok(ApiResponse::ok(wire::list(Vec::new(), None)))
}

/// `GET /api/v4/users/who_am_i.json?fields=`.
pub fn who_am_i(caller: &Caller, request: &ApiRequest) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::USER_FIELDS)?;
    Ok(ApiResponse::ok(wire::envelope(select(
        &wire::user(caller),
        &fields,
    )?)))
}

/// `GET /api/v4/users.json?fields=`: the firm's users.
pub async fn users(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::USER_FIELDS)?;
    let org = caller.organisation_id;
    let users = state.store.read(move |store| store.users(org)).await?;
    let data = users
        .iter()
        .map(|user| {
            let shown = wire::user(&Caller {
                user_id: user.id.clone(),
                user_number: user.number,
                user_name: user.name.clone(),
                email: user.email.clone(),
                timezone_offset: user.timezone_offset.clone(),
                ..caller.clone()
            });
            select(&shown, &fields)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiResponse::ok(wire::list(data, None)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_default_number_is_kept() {
        let list = json!([
            {"name": "Home", "number": "+1 111", "default_number": false},
            {"name": "Work", "number": "+1 222", "default_number": true}
        ]);
        assert_eq!(
            chosen(Some(&list), "phone_numbers", "number", "default_number").expect("readable"),
            Some("+1 222".to_owned())
        );
        assert_eq!(
            chosen(
                Some(&json!([])),
                "phone_numbers",
                "number",
                "default_number"
            )
            .expect("empty"),
            None
        );
        assert!(chosen(
            Some(&json!("+1")),
            "phone_numbers",
            "number",
            "default_number"
        )
        .is_err());
        assert!(chosen(
            Some(&json!([{"number": 5}])),
            "phone_numbers",
            "number",
            "default_number"
        )
        .is_err());
    }

    #[test]
    fn phones_and_names_are_told_apart() {
        assert!(is_phone("+14155550199"));
        assert!(is_phone("(415) 555-0199"));
        assert!(!is_phone("Jane"));
        assert!(!is_phone("Jane 2"));
        assert!(!is_phone("+"));
    }

    #[test]
    fn ids_are_positive_integers() {
        assert_eq!(record_number("12", "id").ok(), Some(12));
        for bad in ["0", "-1", "abc", "1.5", ""] {
            assert!(record_number(bad, "id").is_err(), "{bad}");
        }
    }
}
