//! Bullhorn's Notes on the store's activity model: App Connect's call logs
//! and message logs. `comments` is the body (HTML), `dateAdded` the start
//! (ISO text or epoch milliseconds in; epoch milliseconds out),
//! `minutesSpent` the duration, `externalID` the call session,
//! `personReference` the contact; `action` and `commentingPerson` are kept
//! as extras. `PUT entity/Note` creates, `POST entity/Note/{id}` changes
//! only what it sends (a revision like any other, made `via` bullhorn),
//! `GET entity/Note/{id}?fields=…` answers the fields asked for, with the
//! `clientContacts`/`candidates`/`leads` associations as `{total, data}`;
//! `GET query/Note?where=…` finds Notes by `externalID` and
//! `personReference.id` (how a connector finds the Note a create whose
//! answer was lost already wrote).

use serde_json::{json, Map, Value};

use super::errors::{Answer, BullhornError};
use super::query::where_clauses;
use super::wire::{self, Person};
use crate::store::{
    Activity, ActivityFilter, ActivityPatch, Caller, Contact, NewActivity, Origin, StoreError,
};
use crate::web::crm::{derived_conversation, is_message_type};
use crate::web::{ApiRequest, ApiResponse, AppState};

const ENTITY: &str = "Note";

/// The fields of a Note this face shows (kept with the other entities'
/// in `wire`, which builds the `fields` parameter's names from them).
const FIELDS: [&str; 13] = wire::NOTE_FIELDS;

/// The fields a write may send.
const WRITABLE: [&str; 7] = [
    "comments",
    "action",
    "dateAdded",
    "minutesSpent",
    "externalID",
    "personReference",
    "commentingPerson",
];

/// What a create or update says, read off the request.
#[derive(Debug, Default, Clone, PartialEq)]
struct Sent {
    comments: Option<String>,
    action: Option<String>,
    date_added: Option<String>,
    /// Seconds, from `minutesSpent`.
    duration: Option<i64>,
    external_id: Option<String>,
    /// The contact's id and the subtype the request named.
    person: Option<(String, Option<String>)>,
    commenting_person: Option<Value>,
}

/// `PUT entity/Note`.
pub async fn create(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let body = request.json_object()?;
    let sent = read(&body)?;
    if sent.person.is_none() {
        return Err(BullhornError::required(ENTITY, "personReference"));
    }
    if sent.comments.is_none() {
        return Err(BullhornError::required(ENTITY, "comments"));
    }
    let new = stored_activity(&sent);
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let activity = state
        .store
        .run(move |store| store.create_activity(org, &new, origin))
        .await?;
    Ok(ApiResponse::ok(wire::changed(
        ENTITY,
        activity.number,
        "INSERT",
        Value::Object(body),
    )))
}

/// `POST entity/Note/{id}`: only the fields sent change.
pub async fn update(state: &AppState, caller: &Caller, request: &ApiRequest, id: &str) -> Answer {
    let number = note_number(id)?;
    let body = request.json_object()?;
    if body.is_empty() {
        return Err(BullhornError::BadRequest(
            "Nothing to update: send at least one Note field".into(),
        ));
    }
    let sent = read(&body)?;
    let patch = activity_patch(sent);
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let updated = state
        .store
        .run(move |store| store.update_activity(org, &number.to_string(), &patch, origin))
        .await?;
    let activity = updated.ok_or_else(|| not_found(id))?;
    Ok(ApiResponse::ok(wire::changed(
        ENTITY,
        activity.number,
        "UPDATE",
        Value::Object(body),
    )))
}

/// `GET entity/Note/{id}?fields=…`.
pub async fn get(state: &AppState, caller: &Caller, request: &ApiRequest, id: &str) -> Answer {
    let number = note_number(id)?;
    let wanted = wire::wanted_fields(request.query_param("fields").as_deref(), &FIELDS, ENTITY)?;
    let org = caller.organisation_id;
    let found = state
        .store
        .read(move |store| {
            let Some(activity) = store.activity(org, &number.to_string())? else {
                return Ok(None);
            };
            let contact = match &activity.contact_id {
                Some(contact) => store.contact(org, contact)?,
                None => None,
            };
            Ok::<_, StoreError>(Some((activity, contact)))
        })
        .await?;
    let (activity, contact) = found.ok_or_else(|| not_found(id))?;
    Ok(ApiResponse::ok(json!({
        "data": note(&activity, contact.as_ref(), caller, &wanted),
    })))
}

/// The fields `query/Note`'s `where` takes.
const QUERY_FIELDS: [&str; 2] = ["externalID", "personReference.id"];

/// `GET query/Note?where=externalID='…' AND personReference.id=…&fields=…`:
/// the Notes whose fields equal the where's values, newest first, within
/// `start` and `count`.
pub async fn query(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let wanted = wire::wanted_fields(request.query_param("fields").as_deref(), &FIELDS, ENTITY)?;
    let clause = request
        .query_param("where")
        .ok_or_else(|| BullhornError::BadRequest("Missing required parameter: where".into()))?;
    let clauses = where_clauses(&clause)
        .map_err(|error| BullhornError::BadRequest(format!("Invalid where {clause:?}: {error}")))?;
    let mut session = None;
    let mut person = None;
    for (field, value) in clauses {
        match field.as_str() {
            "externalID" => session = Some(value),
            "personReference.id" => {
                let number = value.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    BullhornError::BadRequest(format!(
                        "Invalid where {clause:?}: personReference.id must be a record id (a positive whole number), not {value:?}"
                    ))
                })?;
                person = Some(number);
            }
            other => {
                return Err(BullhornError::BadRequest(format!(
                    "Invalid field '{other}' in where; this face queries Notes by {}",
                    QUERY_FIELDS.join(" and ")
                )))
            }
        }
    }
    let (start, count) = wire::window(request.query_param("start"), request.query_param("count"))?;
    let org = caller.organisation_id;
    let found = state
        .store
        .read(move |store| {
            let contact_id = match person {
                Some(number) => match store.contact_by_number(org, number)? {
                    Some(contact) => Some(contact.id),
                    // No such person: no Note names them.
                    None => return Ok(Vec::new()),
                },
                None => None,
            };
            let filter = ActivityFilter {
                contact_id,
                session_id: session,
                limit: u32::try_from(start + count).unwrap_or(u32::MAX),
                ..ActivityFilter::default()
            };
            let page = store.list_activities(org, &filter)?;
            let mut notes = Vec::new();
            for activity in page.items.into_iter().skip(start) {
                let contact = match &activity.contact_id {
                    Some(contact) => store.contact(org, contact)?,
                    None => None,
                };
                notes.push((activity, contact));
            }
            Ok::<_, StoreError>(notes)
        })
        .await?;
    let data: Vec<Value> = found
        .iter()
        .map(|(activity, contact)| note(activity, contact.as_ref(), caller, &wanted))
        .collect();
    Ok(ApiResponse::ok(json!({
        "start": start,
        "count": data.len(),
        "data": data,
    })))
}

fn note_number(id: &str) -> Result<i64, BullhornError> {
    id.parse::<i64>()
        .ok()
        .filter(|number| *number > 0)
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> BullhornError {
    BullhornError::EntityNotFound {
        entity: ENTITY.into(),
        id: id.to_owned(),
    }
}

fn read(body: &Map<String, Value>) -> Result<Sent, BullhornError> {
    if let Some(unknown) = body
        .keys()
        .find(|key| !WRITABLE.contains(&key.as_str()) && key.as_str() != "id")
    {
        return Err(BullhornError::invalid(
            ENTITY,
            unknown,
            format!(
                "is not a Note field this face keeps ({})",
                WRITABLE.join(", ")
            ),
        ));
    }
    if body.contains_key("id") {
        return Err(BullhornError::invalid(
            ENTITY,
            "id",
            "is assigned by Bullhorn; leave it out",
        ));
    }
    let text = |field: &str| -> Result<Option<String>, BullhornError> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(n)) if field == "externalID" => Ok(Some(n.to_string())),
            Some(_) => Err(BullhornError::invalid(ENTITY, field, "must be a string")),
        }
    };
    let duration = match body.get("minutesSpent") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(minutes) if (0.0..1.0e9).contains(&minutes) => {
                Some((minutes * 60.0).round() as i64)
            }
            _ => {
                return Err(BullhornError::invalid(
                    ENTITY,
                    "minutesSpent",
                    "must be a number of minutes from 0",
                ))
            }
        },
        Some(_) => {
            return Err(BullhornError::invalid(
                ENTITY,
                "minutesSpent",
                "must be a number",
            ))
        }
    };
    let person = match body.get("personReference") {
        None | Some(Value::Null) => None,
        Some(Value::Object(reference)) => {
            let id = match reference.get("id") {
                Some(Value::Number(n)) if n.is_i64() => n.to_string(),
                Some(Value::String(text)) if !text.trim().is_empty() => text.trim().to_owned(),
                _ => return Err(BullhornError::required(ENTITY, "personReference.id")),
            };
            let subtype = reference
                .get("personSubtype")
                .or_else(|| reference.get("_subtype"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Some((id, subtype))
        }
        Some(_) => {
            return Err(BullhornError::invalid(
                ENTITY,
                "personReference",
                "must be an object {\"id\": N, \"personSubtype\": …}",
            ))
        }
    };
    Ok(Sent {
        comments: text("comments")?,
        action: text("action")?,
        date_added: date_added(body.get("dateAdded"))?,
        duration,
        external_id: text("externalID")?.filter(|id| !id.is_empty()),
        person,
        commenting_person: body
            .get("commentingPerson")
            .filter(|value| !value.is_null())
            .cloned(),
    })
}

/// `dateAdded` as RFC 3339: epoch milliseconds (a number or its digits),
/// RFC 3339 text as sent, or a time without a zone taken as UTC.
fn date_added(value: Option<&Value>) -> Result<Option<String>, BullhornError> {
    let bad = |shown: &str| {
        BullhornError::invalid(
            ENTITY,
            "dateAdded",
            format!(
                "{shown} is not a time: send epoch milliseconds (1705332600000) or ISO 8601 \
                 text (2024-01-15T15:30:00Z)"
            ),
        )
    };
    let millis = |millis: i64, shown: &str| {
        chrono::DateTime::from_timestamp_millis(millis)
            .filter(|time| (0..=9999).contains(&chrono::Datelike::year(time)))
            .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .ok_or_else(|| bad(shown))
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(value) => millis(value, &n.to_string()).map(Some),
            None => match n.as_f64() {
                Some(float) if float.fract() == 0.0 && float.abs() < 9.0e15 => {
                    millis(float as i64, &n.to_string()).map(Some)
                }
                _ => Err(bad(&n.to_string())),
            },
        },
        Some(Value::String(text)) => {
            let text = text.trim();
            if let Ok(value) = text.parse::<i64>() {
                return millis(value, text).map(Some);
            }
            if chrono::DateTime::parse_from_rfc3339(text).is_ok() {
                return Ok(Some(text.to_owned()));
            }
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|time| {
                    time.and_utc()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                })
                .map(Some)
                .map_err(|_| bad(&format!("{text:?}")))
        }
        Some(other) => Err(bad(&other.to_string())),
    }
}

/// THE SEAM where a Bullhorn Note becomes the stored activity. App
/// Connect's connector writes call logs and message logs alike as Notes;
/// a call log carries its session (`externalID`) and `minutesSpent`, a
/// message log neither, and says in its comments whether it is an SMS
/// conversation, a voicemail or a fax. When the store gains
/// `conversation_log_id`/`message_ids`, this is the one place that sets
/// them (Bullhorn's request carries neither: they would come from the
/// comments or stay empty).
fn stored_activity(sent: &Sent) -> NewActivity {
    let body = sent.comments.clone().unwrap_or_default();
    let mut extra = Map::new();
    if let Some(action) = &sent.action {
        extra.insert("action".into(), Value::from(action.as_str()));
    }
    if let Some((_, Some(subtype))) = &sent.person {
        extra.insert("personSubtype".into(), Value::from(subtype.as_str()));
    }
    if let Some(person) = &sent.commenting_person {
        extra.insert("commentingPerson".into(), person.clone());
    }
    let activity_type = note_type(sent, &body).to_owned();
    let subject = subject_of(&body, sent.action.as_deref());
    let contact_id = sent.person.as_ref().map(|(id, _)| id.clone());
    // Bullhorn is sent no conversation id: a message log's is derived.
    let conversation_log_id = is_message_type(&activity_type)
        .then(|| derived_conversation(super::NAME, contact_id.as_deref(), &subject));
    NewActivity {
        activity_type,
        subject,
        direction: html_field(&body, "Direction").and_then(|text| direction(&text)),
        body,
        body_format: "text/html".into(),
        received_at: sent.date_added.clone(),
        contact_id,
        session_id: sent.external_id.clone(),
        duration: sent.duration.map(Value::from),
        extra,
        conversation_log_id,
        message_ids: Vec::new(),
        note: None,
    }
}

fn activity_patch(sent: Sent) -> ActivityPatch {
    let mut extra = Map::new();
    if let Some(action) = &sent.action {
        extra.insert("action".into(), Value::from(action.as_str()));
    }
    if let Some((_, Some(subtype))) = &sent.person {
        extra.insert("personSubtype".into(), Value::from(subtype.as_str()));
    }
    if let Some(person) = &sent.commenting_person {
        extra.insert("commentingPerson".into(), person.clone());
    }
    let subject = sent
        .comments
        .as_deref()
        .map(|body| subject_of(body, sent.action.as_deref()));
    let direction = sent
        .comments
        .as_deref()
        .and_then(|body| html_field(body, "Direction"))
        .and_then(|text| direction(&text))
        .map(Some);
    ActivityPatch {
        subject,
        direction,
        body_format: sent.comments.as_ref().map(|_| "text/html".to_owned()),
        body: sent.comments,
        received_at: sent.date_added,
        contact_id: sent.person.map(|(id, _)| Some(id)),
        session_id: sent.external_id.map(Some),
        duration: sent.duration.map(|seconds| Some(Value::from(seconds))),
        extra,
        ..ActivityPatch::default()
    }
}

/// The store's activity type for a Note.
fn note_type(sent: &Sent, body: &str) -> &'static str {
    if sent.external_id.is_some() || sent.duration.is_some() {
        "Call"
    } else if body.contains("Voicemail recording link:") || body.contains("Voicemail left by") {
        "Voicemail"
    } else if body.contains("Fax document link:") || body.contains("Fax document sent from") {
        "Fax"
    } else if body.contains("Conversation(") || body.contains("SMS conversation") {
        "SMS"
    } else {
        "Note"
    }
}

/// A Note's subject: the call's `Summary`, else the first bold line (a
/// message log's title), else its action.
fn subject_of(body: &str, action: Option<&str>) -> String {
    html_field(body, "Summary")
        .or_else(|| {
            let start = body.find("<b>")? + 3;
            let end = body[start..].find("</b>")? + start;
            Some(strip_tags(&body[start..end]))
        })
        .filter(|subject| !subject.trim().is_empty())
        .or_else(|| action.map(str::to_owned))
        .unwrap_or_else(|| ENTITY.to_owned())
}

/// The text after `<b>{label}</b>: ` in App Connect's HTML log, up to the
/// next tag.
fn html_field(body: &str, label: &str) -> Option<String> {
    let marker = format!("<b>{label}</b>: ");
    let start = body.find(&marker)? + marker.len();
    let rest = &body[start..];
    let end = rest.find('<').unwrap_or(rest.len());
    Some(rest[..end].trim().to_owned()).filter(|text| !text.is_empty())
}

fn strip_tags(text: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

fn direction(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("inbound") {
        Some("Inbound".into())
    } else if lower.starts_with("outbound") {
        Some("Outbound".into())
    } else {
        None
    }
}

/// A stored activity as a Note, with the wanted fields.
fn note(activity: &Activity, contact: Option<&Contact>, caller: &Caller, wanted: &[&str]) -> Value {
    let mut object = Map::new();
    for field in wanted {
        let value = match *field {
            "id" => Value::from(activity.number),
            "comments" => Value::from(activity.body.as_str()),
            "action" => activity.extra.get("action").cloned().unwrap_or(Value::Null),
            "dateAdded" => Value::from(wire::epoch_millis(&activity.received_at)),
            "dateLastModified" => Value::from(wire::epoch_millis(&activity.updated_at)),
            "minutesSpent" => minutes(activity.duration.as_ref()),
            "externalID" => activity.session_id.clone().map_or(Value::Null, Value::from),
            "personReference" => contact.map_or(Value::Null, |contact| {
                let mut person = reference(contact);
                person["_subtype"] = Value::from(Person::of(contact).entity());
                person
            }),
            "clientContacts" => association(contact, Person::ClientContact),
            "candidates" => association(contact, Person::Candidate),
            "leads" => association(contact, Person::Lead),
            "commentingPerson" => {
                let author = wire::user(
                    &wire::caller_as_user(caller),
                    &["id", "firstName", "lastName"],
                );
                activity
                    .extra
                    .get("commentingPerson")
                    .cloned()
                    .unwrap_or(author)
            }
            "isDeleted" => Value::from(false),
            _ => continue,
        };
        object.insert((*field).to_owned(), value);
    }
    Value::Object(object)
}

fn reference(contact: &Contact) -> Value {
    wire::person(contact, &["id", "firstName", "lastName"])
}

/// A to-many association as Bullhorn answers it: `{total, data}`.
fn association(contact: Option<&Contact>, kind: Person) -> Value {
    let data: Vec<Value> = contact
        .filter(|contact| Person::of(contact) == kind)
        .map(reference)
        .into_iter()
        .collect();
    json!({"total": data.len(), "data": data})
}

/// Seconds as `minutesSpent`: whole minutes as an integer, else a fraction.
fn minutes(duration: Option<&Value>) -> Value {
    let Some(seconds) = duration.and_then(Value::as_f64) else {
        return Value::Null;
    };
    let minutes = seconds / 60.0;
    if minutes.fract() == 0.0 {
        Value::from(minutes as i64)
    } else {
        Value::from(minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(body: Value) -> Result<Sent, BullhornError> {
        match body {
            Value::Object(object) => read(&object),
            _ => unreachable!("tests pass objects"),
        }
    }

    #[test]
    fn a_call_log_note_is_a_call_with_its_session_and_subject() {
        let sent = sent(json!({
            "comments": "<ul><li><b>Summary</b>: Call with Jane<li><b>Direction</b>: Inbound</li></ul>",
            "personReference": {"id": "7", "personSubtype": "Contact"},
            "action": "pending note",
            "dateAdded": 1705332600000_i64,
            "externalID": "s-1",
            "minutesSpent": 1.5,
        }))
        .expect("reads");
        let new = stored_activity(&sent);
        assert_eq!(new.activity_type, "Call");
        assert_eq!(new.subject, "Call with Jane");
        assert_eq!(new.direction.as_deref(), Some("Inbound"));
        assert_eq!(new.received_at.as_deref(), Some("2024-01-15T15:30:00.000Z"));
        assert_eq!(new.duration, Some(Value::from(90)));
        assert_eq!(new.session_id.as_deref(), Some("s-1"));
        assert_eq!(new.contact_id.as_deref(), Some("7"));
        assert_eq!(new.extra["action"], "pending note");
    }

    #[test]
    fn message_logs_are_typed_by_their_comments() {
        for (comments, kind) in [
            (
                "<br><b>SMS conversation with A - 24/01/15</b><br>Conversation(1 messages)",
                "SMS",
            ),
            (
                "<br><b>Voicemail left by A - 24/01/15</b><br>Voicemail recording link: x",
                "Voicemail",
            ),
            (
                "<br><b>Fax document sent from A - 24/01/15</b><br>Fax document link: x",
                "Fax",
            ),
        ] {
            let sent =
                sent(json!({"comments": comments, "personReference": {"id": 1}})).expect("reads");
            let new = stored_activity(&sent);
            assert_eq!(new.activity_type, kind);
            assert!(new.subject.starts_with(&comments[7..12]), "{}", new.subject);
        }
    }

    #[test]
    fn dates_come_as_iso_text_or_epoch_millis() {
        assert_eq!(
            date_added(Some(&json!("2024-01-15T15:30:00Z"))).expect("iso"),
            Some("2024-01-15T15:30:00Z".to_owned())
        );
        assert_eq!(
            date_added(Some(&json!("1705332600000"))).expect("digits"),
            Some("2024-01-15T15:30:00.000Z".to_owned())
        );
        assert!(date_added(Some(&json!("yesterday"))).is_err());
        assert!(date_added(Some(&json!(true))).is_err());
    }

    #[test]
    fn unknown_and_wrongly_typed_fields_are_refused() {
        assert!(sent(json!({"nope": 1})).is_err());
        assert!(sent(json!({"minutesSpent": "5"})).is_err());
        assert!(sent(json!({"personReference": 5})).is_err());
        assert!(sent(json!({"id": 5})).is_err());
    }
}
