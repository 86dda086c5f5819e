//! Insightly's events over the store's activities: App Connect's connector
//! logs a call or a message as an event (`POST /Events`), links it to the
//! contact or lead (`POST /Events/{id}/Links`), reads it back
//! (`GET /Events/{id}`) and updates it (`PUT /Events`, the id in the
//! body); `GET /Events/Search` by `TITLE` or `LOCATION` is how a connector
//! finds the event a create whose answer was lost wrote. Title, details, start and end (kept as the start and a duration
//! in seconds) and the contact link map onto the activity's own fields, so
//! an update here is a revision like any other; a few more event fields
//! are kept as the activity's extras under their Insightly names. Every
//! write names this face (`via`) and the request that made it.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::contacts::{count, DEFAULT_TOP, MAX_SKIP, MAX_TOP};
use super::errors::{Answer, InsightlyError};
use super::wire::{
    event_json, format_date, link_json, parse_date, path_id, read_id, stored_date, Kind,
    EXTRA_EVENT_FIELDS,
};
use super::NAME;
use crate::store::{
    Activity, ActivityField, ActivityPatch, Caller, Contact, NewActivity, Origin, Store,
};
use crate::web::crm::derived_conversation;
use crate::web::{json_kind, ApiRequest, ApiResponse, AppState};

/// The store's type for a call log.
const CALL_TYPE: &str = "PhoneCommunication";

/// What an event request says, read off its body. `None` is a field the
/// body left out.
#[derive(Debug, Default)]
struct EventFields {
    title: Option<String>,
    details: Option<String>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    /// The kept extras present in the body (`null` among them clears one).
    extras: Map<String, Value>,
    /// The contacts and leads a `LINKS` array in the body names, each once.
    links: Vec<(Kind, i64)>,
}

fn read_event(object: &Map<String, Value>) -> Result<EventFields, String> {
    // Only DETAILS may be sent as null: the title and the dates are what
    // an event is, so a null one is refused rather than taken as left out.
    let text = |name: &str| match object.get(name) {
        None => Ok(None),
        Some(Value::Null) if name == "DETAILS" => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(format!("{name} must be text, got {}", json_kind(other))),
    };
    let date = |name: &str| -> Result<Option<DateTime<Utc>>, String> {
        match object.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => parse_date(text)
                .map(Some)
                .map_err(|problem| format!("{name}: {problem}")),
            Some(other) => Err(format!("{name} must be a date, got {}", json_kind(other))),
        }
    };
    let title = text("TITLE")?;
    if title
        .as_deref()
        .is_some_and(|title| title.trim().is_empty())
    {
        return Err("TITLE must not be empty".into());
    }
    let mut extras = Map::new();
    for name in EXTRA_EVENT_FIELDS {
        let Some(value) = object.get(name) else {
            continue;
        };
        let value = match (name, value) {
            (_, Value::Null) => Value::Null,
            ("LOCATION", Value::String(_)) => value.clone(),
            ("ALL_DAY" | "PUBLICLY_VISIBLE" | "REMINDER_SENT", Value::Bool(_)) => value.clone(),
            ("OWNER_USER_ID", _) if read_id(value).is_some() => {
                Value::from(read_id(value).unwrap_or_default())
            }
            ("REMINDER_DATE_UTC", Value::String(text)) => Value::from(format_date(
                parse_date(text).map_err(|p| format!("{name}: {p}"))?,
            )),
            _ => {
                return Err(format!(
                    "{name} cannot be {}; see GET /openapi.json for the event's fields",
                    json_kind(value)
                ))
            }
        };
        extras.insert(name.to_owned(), value);
    }
    Ok(EventFields {
        title,
        details: text("DETAILS")?,
        start: date("START_DATE_UTC")?,
        end: date("END_DATE_UTC")?,
        extras,
        links: body_links(object.get("LINKS"))?,
    })
}

/// The contacts and leads a create's `LINKS` names, each once (Insightly
/// takes links inside the event as well as one by one).
fn body_links(links: Option<&Value>) -> Result<Vec<(Kind, i64)>, String> {
    let links = match links {
        None => return Ok(Vec::new()),
        Some(Value::Array(links)) => links,
        Some(other) => return Err(format!("LINKS must be an array, got {}", json_kind(other))),
    };
    let mut found = Vec::new();
    for link in links {
        let Some(link) = link.as_object() else {
            return Err("each of LINKS must be an object".into());
        };
        let person = read_link(link)?;
        if !found.contains(&person) {
            found.push(person);
        }
    }
    Ok(found)
}

const ONE_LINK: &str = "mockcrm keeps one contact or lead per event; log one event per person";

/// A link's object: its kind and number.
fn read_link(link: &Map<String, Value>) -> Result<(Kind, i64), String> {
    let name = match link.get("LINK_OBJECT_NAME") {
        Some(Value::String(name)) => name,
        None | Some(Value::Null) => return Err("LINK_OBJECT_NAME is required".into()),
        Some(other) => {
            return Err(format!(
                "LINK_OBJECT_NAME must be text, got {}",
                json_kind(other)
            ))
        }
    };
    let kind = Kind::from_link_name(name).ok_or_else(|| {
        format!(
            "LINK_OBJECT_NAME {name:?}: mockcrm's Insightly face links events to a Contact or \
             a Lead only (it keeps no organisations, opportunities or projects)"
        )
    })?;
    let id = link
        .get("LINK_OBJECT_ID")
        .and_then(read_id)
        .ok_or("LINK_OBJECT_ID is required: the number of the contact or lead")?;
    Ok((kind, id))
}

/// The seam where an event becomes the activity stored for it: a call
/// log, or, when its title is one App Connect writes for a message log
/// (`SMS conversation with …`, shared SMS's `**SMS conversation with …`,
/// `Voicemail left by …`, `Fax document sent from …`), a message log of
/// that type. Insightly's events carry no conversation or message ids: a
/// message log's conversation is derived (`derived_conversation`).
fn stored_activity(
    title: String,
    details: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    extra: Map<String, Value>,
) -> NewActivity {
    let message_type = message_log_type(&title);
    // App Connect titles a call `Inbound Call from …` or `Outbound Call to …`.
    let direction = ["Inbound", "Outbound"]
        .into_iter()
        .find(|direction| message_type.is_none() && title.starts_with(direction))
        .map(str::to_owned);
    NewActivity {
        // Its contact is linked after the create (`POST /Events/{id}/Links`):
        // the key has the title alone, which names the contact.
        conversation_log_id: message_type.map(|_| derived_conversation(NAME, None, &title)),
        subject: title,
        body: details,
        body_format: "text/plain".into(),
        activity_type: message_type.unwrap_or(CALL_TYPE).into(),
        received_at: Some(stored_date(start)),
        direction,
        duration: Some(Value::from((end - start).num_seconds())),
        // A null on a create means "not set": nothing to keep.
        extra: extra
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .collect(),
        ..NewActivity::default()
    }
}

/// The message log type a title names, if it is a message log's.
fn message_log_type(title: &str) -> Option<&'static str> {
    let title = title.trim_start_matches('*').trim_start();
    [
        ("SMS conversation with", "SMS"),
        ("Voicemail left by", "Voicemail"),
        ("Fax document", "Fax"),
    ]
    .into_iter()
    .find(|(prefix, _)| title.starts_with(prefix))
    .map(|(_, kind)| kind)
}

/// `POST /Events`: a title, a start and an end are required.
pub async fn create(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let object = request.json_object()?;
    let fields = read_event(&object).map_err(InsightlyError::BadRequest)?;
    let title = fields
        .title
        .ok_or_else(|| InsightlyError::field("TITLE", "is required"))?;
    let start = fields
        .start
        .ok_or_else(|| InsightlyError::field("START_DATE_UTC", "is required"))?;
    let end = fields
        .end
        .ok_or_else(|| InsightlyError::field("END_DATE_UTC", "is required"))?;
    if end < start {
        return Err(InsightlyError::field(
            "END_DATE_UTC",
            "must not be before START_DATE_UTC",
        ));
    }
    let mut new = stored_activity(
        title,
        fields.details.unwrap_or_default(),
        start,
        end,
        fields.extras,
    );
    if fields.links.len() > 1 {
        return Err(InsightlyError::Conflict(ONE_LINK.into()));
    }
    let link = fields.links.first().copied();
    let org = caller.organisation_id;
    let origin = Origin::through(NAME, request.journal_id);
    let (activity, contact) = state
        .store
        .run(move |store| {
            let contact = match link {
                Some((kind, number)) => match linked(store, org, kind, number)? {
                    Ok(contact) => Some(contact),
                    Err(refused) => return Ok(Err(refused)),
                },
                None => None,
            };
            new.contact_id = contact.as_ref().map(|contact| contact.id.clone());
            let activity = store.create_activity(org, &new, origin)?;
            Ok(Ok((activity, contact)))
        })
        .await??;
    Ok(ApiResponse::ok(event_json(
        &activity,
        contact.as_ref(),
        caller.user_number,
    )))
}

/// `PUT /Events`: the event `EVENT_ID` names, with the fields the body
/// carries changed and the rest as they were (App Connect's message log
/// update sends only `DETAILS` and `END_DATE_UTC`).
pub async fn update(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let object = request.json_object()?;
    let number = match object.get("EVENT_ID") {
        None | Some(Value::Null) => return Err(InsightlyError::field("EVENT_ID", "is required")),
        Some(value) => read_id(value).ok_or_else(|| {
            InsightlyError::field("EVENT_ID", format!("{value} is not an event's number"))
        })?,
    };
    let fields = read_event(&object).map_err(InsightlyError::BadRequest)?;
    let org = caller.organisation_id;
    let origin = Origin::through(NAME, request.journal_id);
    let (activity, contact) = state
        .store
        .run(move |store| {
            let Some(existing) = store.activity(org, &number.to_string())? else {
                return Ok(Err(no_event(number)));
            };
            let patch = match event_patch(&existing, fields) {
                Ok(patch) => patch,
                Err(refused) => return Ok(Err(refused)),
            };
            let updated = store
                .update_activity(org, &existing.id, &patch, origin)?
                .ok_or(crate::store::StoreError::NotFound("event"))?;
            let contact = contact_of(store, org, &updated)?;
            Ok(Ok((updated, contact)))
        })
        .await??;
    Ok(ApiResponse::ok(event_json(
        &activity,
        contact.as_ref(),
        caller.user_number,
    )))
}

/// The change a `PUT` makes to `existing`: the end stays where it was
/// unless the body moves it, so a new start changes the duration.
fn event_patch(existing: &Activity, fields: EventFields) -> Result<ActivityPatch, InsightlyError> {
    let old_start = parse_date(&existing.received_at).ok();
    let old_end = old_start
        .map(|start| start + chrono::Duration::seconds(super::wire::duration_seconds(existing)));
    let mut patch = ActivityPatch {
        subject: fields.title,
        body: fields.details,
        extra: fields.extras,
        ..ActivityPatch::default()
    };
    if fields.start.is_some() || fields.end.is_some() {
        let start = fields.start.or(old_start).ok_or_else(|| {
            InsightlyError::field("START_DATE_UTC", "is required: the event has no start")
        })?;
        let end = fields.end.or(old_end).unwrap_or(start);
        if end < start {
            return Err(InsightlyError::field(
                "END_DATE_UTC",
                "must not be before START_DATE_UTC",
            ));
        }
        patch.received_at = fields.start.map(stored_date);
        patch.duration = Some(Some(Value::from((end - start).num_seconds())));
    }
    Ok(patch)
}

/// `GET /Events/{id}`.
pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Answer {
    let (activity, contact) = event(state, caller, id).await?;
    Ok(ApiResponse::ok(event_json(
        &activity,
        contact.as_ref(),
        caller.user_number,
    )))
}

/// `GET /Events/Search?field_name=TITLE|LOCATION&field_value=…`: the
/// events whose field is the value (whole, any case), oldest first, with
/// `skip` and `top` paging as the contact searches have.
pub async fn search(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let field = match request
        .query_param("field_name")
        .map(|name| name.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("TITLE") => ActivityField::Subject,
        Some("LOCATION") => ActivityField::Extra("LOCATION".into()),
        None | Some("") => {
            return Err(InsightlyError::field(
                "field_name",
                "is required: mockcrm searches Events by TITLE or LOCATION",
            ))
        }
        Some(other) => {
            return Err(InsightlyError::BadRequest(format!(
                "Invalid field name {other:?} for Events; mockcrm searches Events by TITLE and LOCATION"
            )))
        }
    };
    let value = request.query_param("field_value").unwrap_or_default();
    let skip = count(request, "skip")?.unwrap_or(0);
    if skip > MAX_SKIP {
        return Err(InsightlyError::field(
            "skip",
            format!("must be at most {MAX_SKIP}"),
        ));
    }
    let top = count(request, "top")?.unwrap_or(DEFAULT_TOP);
    if top > MAX_TOP {
        return Err(InsightlyError::field(
            "top",
            format!("must be at most {MAX_TOP}; page with skip"),
        ));
    }
    let org = caller.organisation_id;
    let wanted = u32::try_from(skip + top).unwrap_or(u32::MAX);
    let found = state
        .store
        .read(move |store| {
            let events = store.activities_by_field(org, &field, &value, wanted)?;
            events
                .into_iter()
                .skip(skip)
                .map(|event| {
                    let contact = contact_of(store, org, &event)?;
                    Ok((event, contact))
                })
                .collect::<Result<Vec<_>, crate::store::StoreError>>()
        })
        .await?;
    let events = found
        .iter()
        .map(|(event, contact)| event_json(event, contact.as_ref(), caller.user_number))
        .collect();
    Ok(ApiResponse::ok(Value::Array(events)))
}

/// `GET /Events/{id}/Links`.
pub async fn links(state: &AppState, caller: &Caller, id: &str) -> Answer {
    let (activity, contact) = event(state, caller, id).await?;
    let links = contact
        .iter()
        .map(|contact| link_json(activity.number, contact))
        .collect();
    Ok(ApiResponse::ok(Value::Array(links)))
}

/// `POST /Events/{id}/Links`: links the event to a contact or lead, which
/// becomes the activity's contact (a revision). Linking the one it has
/// again changes nothing; linking another is a 409 (Insightly would add a
/// second link, but an activity has one contact).
pub async fn link(state: &AppState, caller: &Caller, request: &ApiRequest, id: &str) -> Answer {
    let number = path_id(id).ok_or_else(|| no_event(id))?;
    let object = request.json_object()?;
    let (kind, contact_number) = read_link(&object).map_err(InsightlyError::BadRequest)?;
    let org = caller.organisation_id;
    let origin = Origin::through(NAME, request.journal_id);
    let (activity, contact) = state
        .store
        .run(move |store| {
            let Some(activity) = store.activity(org, &number.to_string())? else {
                return Ok(Err(no_event(number)));
            };
            let contact = match linked(store, org, kind, contact_number)? {
                Ok(contact) => contact,
                Err(refused) => return Ok(Err(refused)),
            };
            match activity.contact_id.as_deref() {
                Some(held) if held == contact.id => return Ok(Ok((activity, contact))),
                Some(_) => return Ok(Err(InsightlyError::Conflict(ONE_LINK.into()))),
                None => {}
            }
            let patch = ActivityPatch {
                contact_id: Some(Some(contact.id.clone())),
                ..ActivityPatch::default()
            };
            let updated = store
                .update_activity(org, &activity.id, &patch, origin)?
                .ok_or(crate::store::StoreError::NotFound("event"))?;
            Ok(Ok((updated, contact)))
        })
        .await??;
    Ok(ApiResponse::ok(link_json(activity.number, &contact)))
}

/// The event `id` names, with its contact.
async fn event(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<(Activity, Option<Contact>), InsightlyError> {
    let number = path_id(id).ok_or_else(|| no_event(id))?;
    let org = caller.organisation_id;
    state
        .store
        .read(move |store| {
            let Some(activity) = store.activity(org, &number.to_string())? else {
                return Ok(Err(no_event(number)));
            };
            let contact = contact_of(store, org, &activity)?;
            Ok(Ok((activity, contact)))
        })
        .await?
}

/// The contact of `kind` numbered `number`, or the 404 a link to anyone
/// else earns.
fn linked(
    store: &Store,
    org: i64,
    kind: Kind,
    number: i64,
) -> Result<Result<Contact, InsightlyError>, crate::store::StoreError> {
    Ok(store
        .contact_by_number(org, number)?
        .filter(|contact| Kind::of(contact) == kind)
        .ok_or_else(|| {
            InsightlyError::NotFound(format!(
                "LINK_OBJECT_ID: no {} with {} {number} was found.",
                kind.object_name(),
                kind.id_field()
            ))
        }))
}

fn contact_of(
    store: &Store,
    org: i64,
    activity: &Activity,
) -> Result<Option<Contact>, crate::store::StoreError> {
    match &activity.contact_id {
        Some(contact_id) => store.contact(org, contact_id),
        None => Ok(None),
    }
}

fn no_event(id: impl std::fmt::Display) -> InsightlyError {
    InsightlyError::NotFound(format!("No Event with EVENT_ID {id} was found."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Result<EventFields, String> {
        read_event(value.as_object().expect("object"))
    }

    #[test]
    fn a_call_log_keeps_its_direction_and_duration_and_a_message_log_its_type() {
        let start = parse_date("2024-01-15T15:30:00Z").expect("date");
        let end = parse_date("2024-01-15T15:32:05Z").expect("date");
        let call = stored_activity(
            "Inbound Call from Jane".into(),
            "- Note: hi".into(),
            start,
            end,
            Map::new(),
        );
        assert_eq!(call.activity_type, "PhoneCommunication");
        assert_eq!(call.direction.as_deref(), Some("Inbound"));
        assert_eq!(call.duration, Some(json!(125)));
        assert_eq!(
            call.received_at.as_deref(),
            Some("2024-01-15T15:30:00.000Z")
        );
        for (title, kind) in [
            ("SMS conversation with Jane - 24/01/15", "SMS"),
            ("**SMS conversation with Jane - 24/01/15**", "SMS"),
            ("Voicemail left by Jane - 24/01/15", "Voicemail"),
            ("Fax document sent from Jane - 24/01/15", "Fax"),
        ] {
            let log = stored_activity(title.into(), String::new(), start, start, Map::new());
            assert_eq!(log.activity_type, kind, "{title}");
            assert_eq!(log.direction, None, "{title}");
        }
    }

    #[test]
    fn event_fields_are_checked_and_links_name_one_person() {
        assert!(fields(json!({"TITLE": ""})).is_err());
        assert!(fields(json!({"START_DATE_UTC": "soon"})).is_err());
        assert!(fields(json!({"ALL_DAY": "yes"})).is_err());
        let read = fields(json!({
            "TITLE": "t",
            "OWNER_USER_ID": "7",
            "LINKS": [{"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": "12"}],
        }))
        .expect("valid");
        assert_eq!(read.extras["OWNER_USER_ID"], json!(7));
        assert_eq!(read.links, [(Kind::Contact, 12)]);
        let two = fields(json!({"LINKS": [
            {"LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": 1},
            {"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": "1"},
            {"LINK_OBJECT_NAME": "Lead", "LINK_OBJECT_ID": 2},
        ]}))
        .expect("valid");
        assert_eq!(two.links, [(Kind::Contact, 1), (Kind::Lead, 2)]);
        let org =
            fields(json!({"LINKS": [{"LINK_OBJECT_NAME": "Organisation", "LINK_OBJECT_ID": 1}]}))
                .err()
                .unwrap_or_default();
        assert!(org.contains("Contact or a Lead only"), "{org}");
    }
}
