//! Bullhorn's people on the store's contacts: `search/{entity}` with the
//! connector's Lucene query, `entity/{entity}` create and get for
//! ClientContacts, Candidates, Leads and ClientCorporations, their `meta`,
//! `settings/commentActionList`, and `query/CorporateUser` over the
//! organisation's users. A person's status is shown (the entity's first
//! status) but not kept: the store's contact has no column for it.

use serde_json::{json, Map, Value};

use super::errors::{Answer, BullhornError};
use super::query::{where_clauses, Query, PHONE_FIELDS};
use super::wire::{self, Person};
use crate::store::{Caller, Contact, ContactFilter, NewContact};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// The note actions the connector offers (`settings/commentActionList`).
const COMMENT_ACTIONS: [&str; 6] = [
    "Call",
    "Email",
    "Left Message",
    "Meeting",
    "Outbound Call",
    "Other",
];

/// How many contacts one search reads at most.
const SEARCH_LIMIT: u32 = 10_000;

fn person_entity(entity: &str) -> Result<Person, BullhornError> {
    Person::from_entity(entity).ok_or_else(|| {
        BullhornError::BadRequest(format!(
            "Invalid entity type '{entity}': this face serves ClientContact, Candidate, Lead, \
             ClientCorporation, Note and CorporateUser"
        ))
    })
}

/// `POST search/{entity}` (`{"query": …}`) or `GET search/{entity}?query=…`.
pub async fn search(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    entity: &str,
) -> Answer {
    let person = person_entity(entity)?;
    let text = match request.method.as_str() {
        "GET" => request.query_param("query"),
        _ => {
            let body = request.json_object()?;
            match body.get("query") {
                Some(Value::String(text)) => Some(text.clone()),
                None | Some(Value::Null) => None,
                Some(_) => return Err(BullhornError::BadRequest("query must be a string".into())),
            }
        }
    }
    .or_else(|| request.query_param("query"))
    .ok_or_else(|| {
        BullhornError::BadRequest("Missing required parameter: query (send {\"query\": …})".into())
    })?;
    let query = Query::parse(&text)
        .map_err(|error| BullhornError::BadRequest(format!("Invalid query {text:?}: {error}")))?;
    let wanted = wire::wanted_fields(
        request.query_param("fields").as_deref(),
        person.fields(),
        entity,
    )?;
    let (start, count) = wire::window(request.query_param("start"), request.query_param("count"))?;
    let terms: Vec<(String, String)> = query
        .positive_terms()
        .into_iter()
        .map(|(field, value)| (field.to_owned(), value.to_owned()))
        .collect();
    let org = caller.organisation_id;
    let mut found = state
        .store
        .read(move |store| {
            let mut found: Vec<Contact> = Vec::new();
            let mut narrowed = false;
            for (field, value) in &terms {
                if PHONE_FIELDS.contains(&field.as_str()) {
                    narrowed = true;
                    found.extend(store.contacts_with_phone_digits(org, value, SEARCH_LIMIT)?);
                } else if ["name", "firstName", "lastName"].contains(&field.as_str()) {
                    narrowed = true;
                    let name = value.trim_end_matches('*').to_owned();
                    let filter = ContactFilter {
                        name: Some(name),
                        before_seq: None,
                        limit: SEARCH_LIMIT,
                    };
                    found.extend(store.list_contacts(org, &filter)?.items);
                }
            }
            if !narrowed {
                let filter = ContactFilter {
                    name: None,
                    before_seq: None,
                    limit: SEARCH_LIMIT,
                };
                found = store.list_contacts(org, &filter)?.items;
            }
            Ok(found)
        })
        .await?;
    found.sort_by_key(|contact| contact.number);
    found.dedup_by_key(|contact| contact.number);
    let matching: Vec<&Contact> = found
        .iter()
        .filter(|contact| Person::of(contact) == person)
        .filter(|contact| query.matches(&|field| wire::person_text(contact, field)))
        .collect();
    let data: Vec<Value> = matching
        .iter()
        .skip(start)
        .take(count)
        .map(|contact| {
            let mut shown = wire::person(contact, &wanted);
            shown["_score"] = json!(1.0);
            shown
        })
        .collect();
    Ok(ApiResponse::ok(json!({
        "total": matching.len(),
        "start": start,
        "count": data.len(),
        "data": data,
    })))
}

/// `GET entity/{entity}/{id}` for a person.
pub async fn get(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    entity: &str,
    id: &str,
) -> Answer {
    let person = person_entity(entity)?;
    let wanted = wire::wanted_fields(
        request.query_param("fields").as_deref(),
        person.fields(),
        entity,
    )?;
    let not_found = || BullhornError::EntityNotFound {
        entity: entity.to_owned(),
        id: id.to_owned(),
    };
    let number: i64 = id.parse().map_err(|_| not_found())?;
    let org = caller.organisation_id;
    let contact = state
        .store
        .read(move |store| store.contact_by_number(org, number))
        .await?
        .filter(|contact| Person::of(contact) == person)
        .ok_or_else(not_found)?;
    Ok(ApiResponse::ok(
        json!({"data": wire::person(&contact, &wanted)}),
    ))
}

/// `PUT entity/{entity}` for a person or a ClientCorporation.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    entity: &str,
) -> Answer {
    let person = person_entity(entity)?;
    let body = request.json_object()?;
    check_declared_fields(entity, &body)?;
    let text = |field: &str| -> Result<Option<String>, BullhornError> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.trim().to_owned())),
            Some(_) => Err(BullhornError::invalid(entity, field, "must be a string")),
        }
    };
    let name = match text("name")? {
        Some(name) => name,
        None => {
            let parts: Vec<String> = [text("firstName")?, text("lastName")?]
                .into_iter()
                .flatten()
                .collect();
            if parts.is_empty() {
                return Err(BullhornError::required(entity, "name"));
            }
            parts.join(" ")
        }
    };
    text("status")?;
    let corporation = match person {
        Person::ClientContact => Some(corporation_id(&body)?),
        _ => None,
    };
    let new = NewContact {
        name,
        phone_number: text("phone")?.unwrap_or_default(),
        email: text("email")?,
        contact_type: Some(person.stored_type().to_owned()),
    };
    let org = caller.organisation_id;
    let created = state
        .store
        .run(move |store| {
            if let Some(number) = corporation {
                let known = store
                    .contact_by_number(org, number)?
                    .is_some_and(|contact| Person::of(&contact) == Person::ClientCorporation);
                if !known {
                    return Ok(Err(number));
                }
            }
            Ok(Ok(store.create_contact(org, &new)?))
        })
        .await?;
    let contact = created.map_err(|number| {
        BullhornError::invalid(
            entity,
            "clientCorporation",
            format!(
                "names no ClientCorporation with id {number}; create one with PUT entity/ClientCorporation"
            ),
        )
    })?;
    Ok(ApiResponse::ok(wire::changed(
        entity,
        contact.number,
        "INSERT",
        Value::Object(body),
    )))
}

/// `PUT entity/{entity}` takes one body shape for every entity (a Note's
/// fields among a person's), and a person stores none of a Note's; they
/// still keep the types the document gives them, so that what the document
/// says is refused is refused on every entity, not only on Notes.
fn check_declared_fields(entity: &str, body: &Map<String, Value>) -> Result<(), BullhornError> {
    let whole = |value: &Value| value.is_i64() || value.is_u64();
    // Null is "not sent", as on a Note.
    let sent = |field: &str| body.get(field).filter(|value| !value.is_null());
    for field in ["comments", "action", "externalID"] {
        let text =
            |value: &Value| value.is_string() || (field == "externalID" && value.is_number());
        if sent(field).is_some_and(|value| !text(value)) {
            return Err(BullhornError::invalid(entity, field, "must be a string"));
        }
    }
    if let Some(minutes) = sent("minutesSpent") {
        if !minutes.as_f64().is_some_and(|minutes| minutes >= 0.0) {
            return Err(BullhornError::invalid(
                entity,
                "minutesSpent",
                "must be a number of minutes, 0 or more",
            ));
        }
    }
    if let Some(added) = sent("dateAdded") {
        let valid = whole(added)
            || added.as_str().is_some_and(|text| {
                let digits = text.strip_prefix('-').unwrap_or(text);
                (!digits.is_empty()
                    && digits.len() <= 15
                    && digits.bytes().all(|b| b.is_ascii_digit()))
                    || chrono::DateTime::parse_from_rfc3339(text).is_ok()
            });
        if !valid {
            return Err(BullhornError::invalid(
                entity,
                "dateAdded",
                "must be milliseconds since the epoch or an ISO 8601 date-time",
            ));
        }
    }
    let id_ok = |object: &Map<String, Value>| {
        object
            .get("id")
            .is_none_or(|id| whole(id) || id.is_string())
    };
    if let Some(reference) = sent("personReference") {
        let valid = reference.as_object().is_some_and(|object| {
            object.contains_key("id")
                && id_ok(object)
                && ["personSubtype", "_subtype"]
                    .iter()
                    .all(|field| object.get(*field).is_none_or(Value::is_string))
        });
        if !valid {
            return Err(BullhornError::invalid(
                entity,
                "personReference",
                "must be an object with an id",
            ));
        }
    }
    if let Some(corporation) = sent("clientCorporation") {
        if !corporation.as_object().is_some_and(id_ok) {
            return Err(BullhornError::invalid(
                entity,
                "clientCorporation",
                "must be an object {\"id\": N}",
            ));
        }
    }
    Ok(())
}

/// A ClientContact's `clientCorporation: {"id": N}`, which Bullhorn requires.
fn corporation_id(body: &Map<String, Value>) -> Result<i64, BullhornError> {
    let entity = "ClientContact";
    match body.get("clientCorporation") {
        None | Some(Value::Null) => Err(BullhornError::required(entity, "clientCorporation")),
        Some(Value::Object(reference)) => match reference.get("id") {
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
                BullhornError::invalid(entity, "clientCorporation", "id must be a whole number")
            }),
            Some(Value::String(text)) => text.trim().parse().map_err(|_| {
                BullhornError::invalid(entity, "clientCorporation", "id must be a whole number")
            }),
            _ => Err(BullhornError::invalid(
                entity,
                "clientCorporation",
                "needs an id",
            )),
        },
        Some(_) => Err(BullhornError::invalid(
            entity,
            "clientCorporation",
            "must be an object {\"id\": N}",
        )),
    }
}

/// `GET meta/{entity}[?fields=…]`: the fields, and a status's options.
pub fn meta(request: &ApiRequest, rest_url: &str, entity: &str) -> Answer {
    let known: &[&'static str] = match entity {
        "Note" => super::wire::NOTE_FIELDS.as_slice(),
        "CorporateUser" => wire::USER_FIELDS.as_slice(),
        other => person_entity(other)?.fields(),
    };
    let wanted = wire::wanted_fields(request.query_param("fields").as_deref(), known, entity)?;
    let statuses = Person::from_entity(entity).map(Person::statuses);
    let fields: Vec<Value> = wanted
        .iter()
        .map(|name| {
            let mut field = json!({
                "name": name,
                "type": if *name == "id" { "ID" } else { "SCALAR" },
                "dataType": data_type(name),
                "confidential": false,
                "label": label(name),
            });
            if let (true, Some(statuses)) = (*name == "status", statuses) {
                field["options"] = statuses
                    .iter()
                    .map(|status| json!({"value": status, "label": status}))
                    .collect();
            }
            field
        })
        .collect();
    Ok(ApiResponse::ok(json!({
        "entity": entity,
        "entityMetaUrl": format!("{rest_url}meta/{entity}?fields=*"),
        "label": entity,
        "fields": fields,
    })))
}

fn data_type(field: &str) -> &'static str {
    match field {
        "id" | "masterUserID" | "timeZoneOffsetEST" => "Integer",
        "isDeleted" | "enabled" => "Boolean",
        "minutesSpent" => "Integer",
        name if name.starts_with("date") => "Timestamp",
        _ => "String",
    }
}

/// `firstName` → `First Name`.
fn label(field: &str) -> String {
    let mut label = String::new();
    for (i, c) in field.chars().enumerate() {
        if i == 0 {
            label.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            label.push(' ');
            label.push(c);
        } else {
            label.push(c);
        }
    }
    label
}

/// `GET settings/{names}`: the settings asked for that this face knows
/// (`commentActionList`).
pub fn settings(names: &str) -> Answer {
    let mut answer = Map::new();
    for name in names.split(',').map(str::trim) {
        if name == "commentActionList" {
            answer.insert(name.to_owned(), json!(COMMENT_ACTIONS));
        }
    }
    if answer.is_empty() {
        return Err(BullhornError::BadRequest(format!(
            "Unknown setting(s) {names:?}: this face answers commentActionList"
        )));
    }
    Ok(ApiResponse::ok(Value::Object(answer)))
}

/// `GET query/CorporateUser?fields=…&where=…`: the organisation's users
/// whose fields equal the `where`'s values.
pub async fn query_users(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    entity: &str,
) -> Answer {
    if entity != "CorporateUser" {
        return Err(BullhornError::BadRequest(format!(
            "Invalid entity type '{entity}' for query: this face queries CorporateUser and Note (search the others)"
        )));
    }
    let wanted = wire::wanted_fields(
        request.query_param("fields").as_deref(),
        &wire::USER_FIELDS,
        entity,
    )?;
    let clause = request
        .query_param("where")
        .ok_or_else(|| BullhornError::BadRequest("Missing required parameter: where".into()))?;
    let clauses = where_clauses(&clause)
        .map_err(|error| BullhornError::BadRequest(format!("Invalid where {clause:?}: {error}")))?;
    if let Some((field, _)) = clauses
        .iter()
        .find(|(field, _)| !wire::USER_FIELDS.contains(&field.as_str()))
    {
        return Err(BullhornError::BadRequest(format!(
            "Invalid field '{field}' in where; this face knows: {}",
            wire::USER_FIELDS.join(", ")
        )));
    }
    let (start, count) = wire::window(request.query_param("start"), request.query_param("count"))?;
    let org = caller.organisation_id;
    let users = state.store.read(move |store| store.users(org)).await?;
    let data: Vec<Value> = users
        .iter()
        .filter(|user| {
            clauses.iter().all(|(field, value)| {
                wire::user_field(user, field).is_some_and(|held| match held {
                    Value::String(text) => text == *value,
                    // Numbers and booleans as the where writes them.
                    other => value.as_str() == other.to_string().as_str(),
                })
            })
        })
        .skip(start)
        .take(count)
        .map(|user| wire::user(user, &wanted))
        .collect();
    Ok(ApiResponse::ok(json!({
        "start": start,
        "count": data.len(),
        "data": data,
    })))
}
