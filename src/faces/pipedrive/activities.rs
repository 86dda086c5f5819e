//! Pipedrive's activities (API v2) on the store's activity model: App
//! Connect's call logs (type "call") and message logs (type "sms", stored
//! as SMS, Fax or Voicemail). `note` is the body (HTML), `due_date` and
//! `due_time` the start, `duration` (`HH:MM`) seconds, the primary
//! participant the contact; Pipedrive's other fields are kept as extras.
//! An update is a revision like any other, made `via` pipedrive.
//! `GET /api/v2/activities?person_id=` lists a person's activities newest
//! first (how a connector finds what a create whose answer was lost wrote).

use serde_json::{Map, Value};
use warp::http::StatusCode;

use super::errors::{Answer, PipedriveError};
use super::persons::person_number;
use super::wire::{self, ACTIVITY_TYPES};
use crate::store::{
    Activity, ActivityFilter, ActivityPatch, Caller, Contact, NewActivity, Origin, Store,
};
use crate::web::crm::{derived_conversation, is_message_type};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// The format of every note: App Connect writes Pipedrive's logs as HTML.
const NOTE_FORMAT: &str = "text/html";

/// Fields read into the store's columns; all others are kept as extras.
const MAPPED_FIELDS: [&str; 7] = [
    "subject",
    "note",
    "type",
    "due_date",
    "due_time",
    "duration",
    "participants",
];
/// Pipedrive's other activity fields, kept as extras: a write made only of
/// fields outside these and `MAPPED_FIELDS` changes nothing Pipedrive
/// shows, which `checks` reports (`unknown_fields`).
const OTHER_FIELDS: [&str; 10] = [
    "owner_id",
    "deal_id",
    "lead_id",
    "org_id",
    "project_id",
    "done",
    "busy",
    "location",
    "public_description",
    "priority",
];
/// Fields the server sets, never taken from a request.
const SERVER_FIELDS: [&str; 7] = [
    "id",
    "add_time",
    "update_time",
    "is_deleted",
    "marked_as_done_time",
    "person_id",
    "attendees",
];

/// What a create or update says, read off the request.
#[derive(Debug, Default)]
struct Sent {
    subject: Option<String>,
    note: Option<String>,
    type_key: Option<String>,
    due_date: Option<chrono::NaiveDate>,
    due_time: Option<chrono::NaiveTime>,
    duration: Option<u64>,
    person: Option<i64>,
    extra: Map<String, Value>,
    /// The write's fields when none of them is one Pipedrive knows.
    only_unknown: Vec<String>,
}

/// `POST /api/v2/activities`.
pub async fn create(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let object = request.json_object()?;
    if state.strict {
        refuse_unknown(&object)?;
    }
    let sent = read(&object)?;
    let new = stored_activity(sent);
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let (activity, person) = state
        .store
        .run(move |store| {
            let activity = store.create_activity(org, &new, origin)?;
            let person = person_of(store, org, &activity)?;
            Ok((activity, person))
        })
        .await?;
    Ok(ApiResponse::json(
        StatusCode::OK,
        wire::envelope(wire::activity(&activity, person.as_ref(), caller)),
    ))
}

/// `GET /api/v2/activities/{id}`.
pub async fn get(state: &AppState, caller: &Caller, id: &str) -> Answer {
    let number = person_number(id).map_err(|_| not_a_number(id))?;
    let org = caller.organisation_id;
    let found = state
        .store
        .read(move |store| {
            let Some(activity) = store.activity(org, &number.to_string())? else {
                return Ok(None);
            };
            let person = person_of(store, org, &activity)?;
            Ok(Some((activity, person)))
        })
        .await?;
    let (activity, person) = found.ok_or_else(activity_not_found)?;
    Ok(ApiResponse::ok(wire::activity_answer(
        &activity,
        person.as_ref(),
        caller,
    )))
}

/// The most activities one page of the listing holds, and the default.
const MAX_LIMIT: u32 = 500;
const DEFAULT_LIMIT: u32 = 100;

/// `GET /api/v2/activities?person_id=&limit=&cursor=`: activities newest
/// first, a person's when `person_id` is given; `next_cursor` continues.
pub async fn list(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let person = match request.query_param("person_id") {
        Some(id) => Some(person_number(&id).map_err(|_| {
            PipedriveError::BadRequest(format!("person_id must be a positive integer, not {id:?}"))
        })?),
        None => None,
    };
    let limit = match request.query_param("limit") {
        None => DEFAULT_LIMIT,
        Some(text) => text
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|limit| (1..=MAX_LIMIT).contains(limit))
            .ok_or_else(|| {
                PipedriveError::BadRequest(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}, not {text:?}"
                ))
            })?,
    };
    let before_seq = match request.query_param("cursor") {
        None => None,
        Some(cursor) => Some(read_cursor(&cursor).ok_or_else(|| {
            PipedriveError::BadRequest(format!(
                "cursor {cursor:?} is not one this server gave (use additional_data.next_cursor of the previous page)"
            ))
        })?),
    };
    let org = caller.organisation_id;
    let found = state
        .store
        .read(move |store| {
            let contact_id = match person {
                Some(number) => match store.contact_by_number(org, number)? {
                    Some(contact) => Some(contact.id),
                    None => return Ok(None),
                },
                None => None,
            };
            let filter = ActivityFilter {
                contact_id,
                before_seq,
                limit,
                ..ActivityFilter::default()
            };
            let page = store.list_activities(org, &filter)?;
            let mut shown = Vec::new();
            for activity in &page.items {
                let person = person_of(store, org, activity)?;
                shown.push((activity.clone(), person));
            }
            Ok(Some((shown, page.next_seq)))
        })
        .await?;
    let (shown, next) = found.ok_or_else(|| PipedriveError::NotFound("Person not found".into()))?;
    let data: Vec<Value> = shown
        .iter()
        .map(|(activity, person)| wire::activity(activity, person.as_ref(), caller))
        .collect();
    Ok(ApiResponse::ok(serde_json::json!({
        "success": true,
        "data": data,
        "additional_data": {"next_cursor": next.map(cursor_of)},
    })))
}

/// A listing's position as the opaque cursor Pipedrive hands out.
fn cursor_of(seq: i64) -> String {
    format!("seq:{seq}")
}

fn read_cursor(cursor: &str) -> Option<i64> {
    cursor
        .strip_prefix("seq:")?
        .parse::<i64>()
        .ok()
        .filter(|seq| *seq > 0)
}

/// `PATCH /api/v2/activities/{id}`: only the fields sent change.
pub async fn update(state: &AppState, caller: &Caller, request: &ApiRequest, id: &str) -> Answer {
    let number = person_number(id).map_err(|_| not_a_number(id))?;
    let object = request.json_object()?;
    if object.is_empty() {
        return Err(PipedriveError::BadRequest(
            "send at least one field to change".into(),
        ));
    }
    if state.strict {
        refuse_unknown(&object)?;
    }
    let sent = read(&object)?;
    let due = (sent.due_date, sent.due_time);
    let mut patch = activity_patch(sent);
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let updated = state
        .store
        .run(move |store| {
            let id = number.to_string();
            if due.0.is_some() || due.1.is_some() {
                // A new date keeps the time, a new time the date.
                let Some(current) = store.activity(org, &id)? else {
                    return Ok(None);
                };
                patch.received_at = start(due.0, due.1, Some(&current.received_at));
            }
            let Some(activity) = store.update_activity(org, &id, &patch, origin)? else {
                return Ok(None);
            };
            let person = person_of(store, org, &activity)?;
            Ok(Some((activity, person)))
        })
        .await?;
    let (activity, person) = updated.ok_or_else(activity_not_found)?;
    Ok(ApiResponse::ok(wire::envelope(wire::activity(
        &activity,
        person.as_ref(),
        caller,
    ))))
}

fn activity_not_found() -> PipedriveError {
    PipedriveError::NotFound("Activity not found".into())
}

fn not_a_number(id: &str) -> PipedriveError {
    PipedriveError::BadRequest(format!("id must be a positive integer, not {id:?}"))
}

/// The contact an activity is about.
fn person_of(
    store: &Store,
    org: i64,
    activity: &Activity,
) -> Result<Option<Contact>, crate::store::StoreError> {
    match &activity.contact_id {
        Some(id) => store.contact(org, id),
        None => Ok(None),
    }
}

/// THE SEAM where a Pipedrive create becomes the stored activity. A message
/// log ("sms" type) is stored as SMS, or as Voicemail or Fax when its
/// subject says so (App Connect's connector writes one type for all
/// three and tells them apart only there). Pipedrive's request carries no
/// conversation or message id: a message log's conversation is derived
/// (`derived_conversation`), its message ids stay empty.
fn stored_activity(sent: Sent) -> NewActivity {
    let type_key = sent.type_key.unwrap_or_else(|| "call".to_owned());
    let subject = sent
        .subject
        .unwrap_or_else(|| type_name(&type_key).to_owned());
    let activity_type = stored_type(&type_key, &subject);
    let contact_id = sent.person.map(|number| number.to_string());
    NewActivity {
        conversation_log_id: is_message_type(&activity_type)
            .then(|| derived_conversation(super::NAME, contact_id.as_deref(), &subject)),
        activity_type,
        direction: direction(&subject),
        subject,
        body: sent.note.unwrap_or_default(),
        body_format: NOTE_FORMAT.to_owned(),
        received_at: start(sent.due_date, sent.due_time, None),
        contact_id,
        session_id: None,
        duration: sent.duration.map(Value::from),
        extra: sent.extra,
        message_ids: Vec::new(),
        note: None,
    }
}

fn activity_patch(sent: Sent) -> ActivityPatch {
    let activity_type = sent
        .type_key
        .as_deref()
        .map(|key| stored_type(key, sent.subject.as_deref().unwrap_or_default()));
    ActivityPatch {
        direction: sent.subject.as_deref().and_then(direction).map(Some),
        subject: sent.subject,
        body_format: sent.note.as_ref().map(|_| NOTE_FORMAT.to_owned()),
        body: sent.note,
        activity_type,
        received_at: None,
        contact_id: sent.person.map(|number| Some(number.to_string())),
        duration: sent.duration.map(|seconds| Some(Value::from(seconds))),
        extra: sent.extra,
        only_unknown_fields: sent.only_unknown,
        ..ActivityPatch::default()
    }
}

/// The store's type for a Pipedrive type key.
fn stored_type(key: &str, subject: &str) -> String {
    if key != "sms" {
        return key.to_owned();
    }
    if subject.starts_with("Voicemail") {
        "Voicemail".to_owned()
    } else if subject.starts_with("Fax") {
        "Fax".to_owned()
    } else {
        "SMS".to_owned()
    }
}

/// The direction App Connect's subject names (`Inbound Call from …`).
fn direction(subject: &str) -> Option<String> {
    ["Inbound", "Outbound"]
        .into_iter()
        .find(|word| subject.starts_with(word))
        .map(str::to_owned)
}

fn type_name(key: &str) -> &'static str {
    ACTIVITY_TYPES
        .iter()
        .find(|(known, _, _)| *known == key)
        .map_or("Activity", |(_, name, _)| name)
}

/// `serve --strict`: a field Pipedrive's activities do not have is refused
/// instead of kept as an extra.
fn refuse_unknown(object: &Map<String, Value>) -> Result<(), PipedriveError> {
    let unknown: Vec<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|key| !MAPPED_FIELDS.contains(key) && !OTHER_FIELDS.contains(key))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(PipedriveError::BadRequest(format!(
        "{} not an activity field, and this server runs with --strict, which refuses unknown fields; the fields are {}, {}",
        unknown.join(", "),
        MAPPED_FIELDS.join(", "),
        OTHER_FIELDS.join(", ")
    )))
}

/// Reads a create's or update's fields as Pipedrive takes them.
fn read(object: &Map<String, Value>) -> Result<Sent, PipedriveError> {
    let mut sent = Sent::default();
    if let Some(field) = SERVER_FIELDS.iter().find(|f| object.contains_key(**f)) {
        return Err(PipedriveError::BadRequest(format!(
            "{field} is set by Pipedrive and cannot be sent"
        )));
    }
    sent.subject = text(object, "subject")?;
    sent.note = match object.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(note)) => Some(note.clone()),
        Some(_) => return Err(PipedriveError::BadRequest("note must be a string".into())),
    };
    sent.type_key = text(object, "type")?;
    if let Some(key) = &sent.type_key {
        if !ACTIVITY_TYPES.iter().any(|(known, _, _)| known == key) {
            let known: Vec<&str> = ACTIVITY_TYPES.iter().map(|(key, _, _)| *key).collect();
            return Err(PipedriveError::BadRequest(format!(
                "type {key:?} is not an active activity type; GET /v1/activityTypes lists them ({})",
                known.join(", ")
            )));
        }
    }
    sent.due_date = match text(object, "due_date")? {
        None => None,
        Some(date) => Some(
            chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").map_err(|_| {
                PipedriveError::BadRequest(format!("due_date must be YYYY-MM-DD, not {date:?}"))
            })?,
        ),
    };
    sent.due_time = match text(object, "due_time")? {
        None => None,
        Some(time) => Some(
            chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M")
                .or_else(|_| chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M:%S"))
                .map_err(|_| {
                    PipedriveError::BadRequest(format!("due_time must be HH:MM, not {time:?}"))
                })?,
        ),
    };
    sent.duration = match text(object, "duration")? {
        None => None,
        Some(duration) => Some(wire::duration_seconds(&duration).ok_or_else(|| {
            PipedriveError::BadRequest(format!("duration must be HH:MM, not {duration:?}"))
        })?),
    };
    sent.person = primary_participant(object.get("participants"))?;
    let known = |name: &String| {
        MAPPED_FIELDS.contains(&name.as_str()) || OTHER_FIELDS.contains(&name.as_str())
    };
    if !object.keys().any(known) {
        sent.only_unknown = object.keys().cloned().collect();
    }
    for (name, value) in object {
        if MAPPED_FIELDS.contains(&name.as_str()) {
            continue;
        }
        let value = match name.as_str() {
            "owner_id" | "deal_id" | "org_id" | "project_id" => id_field(name, value)?,
            "done" | "busy" => match value {
                Value::Bool(_) => value.clone(),
                Value::Number(n) if whole(n) == Some(0) || whole(n) == Some(1) => {
                    Value::Bool(whole(n) == Some(1))
                }
                _ => {
                    return Err(PipedriveError::BadRequest(format!(
                        "{name} must be a boolean"
                    )))
                }
            },
            // A lead's id is a UUID in Pipedrive: text, or none.
            "lead_id" => match value {
                Value::String(_) | Value::Null => value.clone(),
                _ => {
                    return Err(PipedriveError::BadRequest(
                        "lead_id must be a lead's id (text) or null".into(),
                    ))
                }
            },
            _ => value.clone(),
        };
        sent.extra.insert(name.clone(), value);
    }
    Ok(sent)
}

/// The largest id a JSON client holds exactly (2^53 - 1): Pipedrive's ids
/// are never larger.
const MAX_ID: i64 = 9_007_199_254_740_991;

/// A JSON number that is a whole number (`7` or `7.0`) from 0 to `MAX_ID`.
fn whole(number: &serde_json::Number) -> Option<i64> {
    number
        .as_i64()
        .or_else(|| {
            number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() <= MAX_ID as f64)
                .map(|f| f as i64)
        })
        .filter(|id| (0..=MAX_ID).contains(id))
}

/// An optional string field; `null` is absent.
fn text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, PipedriveError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(PipedriveError::BadRequest(format!(
            "{name} must be a string"
        ))),
    }
}

/// An id Pipedrive takes as an integer: a number, digits in a string (App
/// Connect sends ids back as it stored them), or `""`/`null` for none
/// (App Connect sends `deal_id: ""` when no deal is chosen).
fn id_field(name: &str, value: &Value) -> Result<Value, PipedriveError> {
    let wrong = || PipedriveError::BadRequest(format!("{name} must be an integer id"));
    match value {
        Value::Null => Ok(Value::Null),
        Value::Number(n) => whole(n).map(Value::from).ok_or_else(wrong),
        Value::String(text) if text.trim().is_empty() => Ok(Value::Null),
        Value::String(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|id| (0..=MAX_ID).contains(id))
            .map(Value::from)
            .ok_or_else(wrong),
        _ => Err(wrong()),
    }
}

/// The primary participant's person id (else the first's).
fn primary_participant(value: Option<&Value>) -> Result<Option<i64>, PipedriveError> {
    let wrong = || {
        PipedriveError::BadRequest(
            "participants must be a list of {person_id, primary} objects".into(),
        )
    };
    let participants = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(wrong()),
    };
    let mut first = None;
    for participant in participants {
        let id = match participant.get("person_id") {
            Some(Value::Number(n)) => whole(n).filter(|id| *id > 0).ok_or_else(wrong)?,
            Some(Value::String(text)) => text.trim().parse::<i64>().map_err(|_| wrong())?,
            _ => return Err(wrong()),
        };
        let primary = match participant.get("primary") {
            None => false,
            Some(Value::Bool(primary)) => *primary,
            Some(_) => return Err(wrong()),
        };
        if primary {
            return Ok(Some(id));
        }
        first.get_or_insert(id);
    }
    Ok(first)
}

/// The start (UTC, as the store keeps it) a write's `due_date` and
/// `due_time` give over `current`, the stored start of an activity being
/// updated: what is not sent is kept, a new activity's date is today and
/// its time midnight. `None` when neither is sent.
fn start(
    date: Option<chrono::NaiveDate>,
    time: Option<chrono::NaiveTime>,
    current: Option<&str>,
) -> Option<String> {
    if date.is_none() && time.is_none() {
        return None;
    }
    let current = current
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&chrono::Utc).naive_utc());
    let day = date
        .or(current.map(|at| at.date()))
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let at = time
        .or(current.map(|at| at.time()))
        .unwrap_or(chrono::NaiveTime::MIN);
    Some(
        day.and_time(at)
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn app_connects_call_log_maps_onto_the_store() {
        let sent = read(&object(json!({
            "owner_id": 1, "subject": "Outbound Call to Jane", "duration": "00:02",
            "deal_id": "", "note": "<b>hi</b>", "done": true, "due_date": "2024-05-01",
            "due_time": "10:30", "type": "call",
            "participants": [{"person_id": 7, "primary": true}]
        })))
        .expect("readable");
        let new = stored_activity(sent);
        assert_eq!(new.activity_type, "call");
        assert_eq!(new.direction.as_deref(), Some("Outbound"));
        assert_eq!(new.received_at.as_deref(), Some("2024-05-01T10:30:00.000Z"));
        assert_eq!(new.duration, Some(json!(120)));
        assert_eq!(new.contact_id.as_deref(), Some("7"));
        assert_eq!(new.body, "<b>hi</b>");
        assert_eq!(new.extra["deal_id"], Value::Null);
        assert_eq!(new.extra["done"], json!(true));
        assert!(!new.extra.contains_key("participants"));
    }

    #[test]
    fn a_new_date_keeps_the_time_and_a_new_time_the_date() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 5, 2);
        let time = chrono::NaiveTime::from_hms_opt(9, 15, 0);
        let current = Some("2026-05-01T14:30:00.000Z");
        assert_eq!(
            start(day, None, current).as_deref(),
            Some("2026-05-02T14:30:00.000Z")
        );
        assert_eq!(
            start(None, time, current).as_deref(),
            Some("2026-05-01T09:15:00.000Z")
        );
        assert_eq!(
            start(day, None, None).as_deref(),
            Some("2026-05-02T00:00:00.000Z")
        );
        assert_eq!(start(None, None, current), None);
    }

    #[test]
    fn a_write_of_only_unknown_fields_is_told_apart() {
        let unknown = read(&object(json!({"subjekt": "typo"}))).expect("readable");
        assert_eq!(activity_patch(unknown).only_unknown_fields, ["subjekt"]);
        let known = read(&object(json!({"subjekt": "typo", "done": true}))).expect("readable");
        assert!(activity_patch(known).only_unknown_fields.is_empty());
    }

    #[test]
    fn strict_refuses_what_pipedrive_does_not_have() {
        assert!(refuse_unknown(&object(json!({"subject": "s", "done": true}))).is_ok());
        assert!(refuse_unknown(&object(json!({"subject": "s", "notes": "x"}))).is_err());
    }

    #[test]
    fn message_logs_are_stored_by_their_kind() {
        assert_eq!(stored_type("sms", "SMS conversation with Jane"), "SMS");
        assert_eq!(stored_type("sms", "Voicemail left by Jane"), "Voicemail");
        assert_eq!(stored_type("sms", "Fax document sent from Jane"), "Fax");
        assert_eq!(stored_type("meeting", "Voicemail"), "meeting");
    }

    #[test]
    fn bad_fields_are_400s() {
        for bad in [
            json!({"type": "nope"}),
            json!({"duration": "2 minutes"}),
            json!({"due_date": "01/05/2024"}),
            json!({"due_time": "10"}),
            json!({"participants": [{"person_id": "x"}]}),
            json!({"deal_id": "abc"}),
            json!({"deal_id": -1}),
            json!({"org_id": 1e300}),
            json!({"done": "yes"}),
            json!({"subject": 5}),
            json!({"id": 5}),
        ] {
            assert!(read(&object(bad.clone())).is_err(), "{bad}");
        }
    }
}
