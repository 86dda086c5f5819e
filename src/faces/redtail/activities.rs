//! The Redtail face's activities: create, get (with `include:
//! linked_contacts`), update (`PUT` and `PATCH` alike), a contact's
//! activities (`GET /contacts/{id}/activities`, how a connector finds what
//! a create whose answer was lost wrote), and the notes added to one. Each write is one write of the store's activity, so an
//! update or a note is a revision like any other, made `via` redtail.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use warp::http::StatusCode;

use super::errors::RedtailError;
use super::wire::{self, ActivityInput};
use super::NAME;
use crate::store::{
    Activity, ActivityFilter, ActivityPatch, Caller, Contact, Origin, Store, StoreError,
};
use crate::web::{ApiRequest, ApiResponse, AppState};

pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, RedtailError> {
    let object = request.json_object()?;
    let input = ActivityInput::read(&object)?;
    if input.subject.is_none() {
        return Err(RedtailError::field("subject", "can't be blank"));
    }
    let start = input
        .start_date
        .ok_or_else(|| RedtailError::field("start_date", "can't be blank"))?;
    let new = wire::stored_activity(input, start);
    let org = caller.organisation_id;
    let origin = Origin::through(NAME, request.journal_id);
    let (activity, contact) = state
        .store
        .run(move |store| {
            let activity = store.create_activity(org, &new, origin)?;
            let contact = contact_of(store, org, &activity)?;
            Ok((activity, contact))
        })
        .await?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        wire::activity_json(&activity, linked(request, contact.as_ref())),
    ))
}

pub async fn get(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, RedtailError> {
    let number = activity_number(id)?;
    let org = caller.organisation_id;
    let (activity, contact) = state
        .store
        .read(move |store| {
            let Some(activity) = store.activity(org, &number.to_string())? else {
                return Ok(None);
            };
            let contact = contact_of(store, org, &activity)?;
            Ok(Some((activity, contact)))
        })
        .await?
        .ok_or_else(|| activity_not_found(id))?;
    Ok(ApiResponse::ok(wire::activity_json(
        &activity,
        linked(request, contact.as_ref()),
    )))
}

/// Activities one page of `GET /contacts/{id}/activities` holds.
const PAGE_SIZE: usize = 100;
/// Past this page no contact has activities (a million at most).
const MAX_PAGE: usize = 10_000;

/// `GET /contacts/{id}/activities?page=N`: the activities linked to the
/// contact, newest first, `PAGE_SIZE` a page, with Redtail's `meta`.
pub async fn of_contact(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, RedtailError> {
    let not_found = || RedtailError::NotFound(format!("Contact {id} not found"));
    let number = id
        .parse::<i64>()
        .ok()
        .filter(|number| *number > 0)
        .ok_or_else(not_found)?;
    let page = match request.query_param("page") {
        None => 1,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|page| (1..=MAX_PAGE).contains(page))
            .ok_or_else(|| {
                RedtailError::field(
                    "page",
                    format!("{text:?} is not a page; pages count from 1 to {MAX_PAGE}"),
                )
            })?,
    };
    let org = caller.organisation_id;
    let listed = state
        .store
        .read(move |store| {
            let Some(contact) = store.contact_by_number(org, number)? else {
                return Ok(None);
            };
            let filter = ActivityFilter {
                contact_id: Some(contact.id),
                limit: u32::MAX,
                ..ActivityFilter::default()
            };
            Ok(Some(store.list_activities(org, &filter)?.items))
        })
        .await?
        .ok_or_else(not_found)?;
    let total = listed.len();
    let activities: Vec<Value> = listed
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|activity| wire::activity_json(activity, None)["activity"].take())
        .collect();
    Ok(ApiResponse::ok(json!({
        "activities": activities,
        "meta": {"total_records": total, "total_pages": total.div_ceil(PAGE_SIZE)},
    })))
}

/// `PUT` or `PATCH /activities/{id}`: the fields sent change, the others
/// stay (Redtail's update is partial either way).
pub async fn update(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, RedtailError> {
    let number = activity_number(id)?;
    let object = request.json_object()?;
    let input = ActivityInput::read(&object)?;
    let org = caller.organisation_id;
    let origin = Origin::through(NAME, request.journal_id);
    let (activity, contact) = state
        .store
        .run(move |store| {
            let Some(existing) = store.activity(org, &number.to_string())? else {
                return Ok(None);
            };
            let patch = patch_for(&existing, input);
            let Some(activity) = store.update_activity(org, &existing.id, &patch, origin)? else {
                return Ok(None);
            };
            let contact = contact_of(store, org, &activity)?;
            Ok(Some((activity, contact)))
        })
        .await?
        .ok_or_else(|| activity_not_found(id))?;
    Ok(ApiResponse::ok(wire::activity_json(
        &activity,
        linked(request, contact.as_ref()),
    )))
}

/// The store's patch for `input` on `existing`: a call's duration follows
/// its dates, whichever of them the update moves.
fn patch_for(existing: &Activity, input: ActivityInput) -> ActivityPatch {
    let duration =
        if wire::is_call(existing) && (input.start_date.is_some() || input.end_date.is_some()) {
            let start = input
                .start_date
                .or_else(|| wire::parse_time(&existing.received_at));
            let end = input.end_date.or_else(|| {
                wire::end_date(existing)
                    .as_deref()
                    .and_then(wire::parse_time)
            });
            match (start, end) {
                (Some(start), Some(end)) => {
                    Some(Some(ActivityInput::seconds_between(start, end.max(start))))
                }
                _ => None,
            }
        } else {
            None
        };
    ActivityPatch {
        subject: input.subject,
        body: input.description,
        received_at: input.start_date.map(wire::format_time),
        contact_id: input.contact.map(Some),
        duration,
        extra: input.extra,
        only_unknown_fields: input.only_unknown_fields,
        ..ActivityPatch::default()
    }
}

/// `POST /activities/{id}/notes {body, category_id, note_type}`: the
/// activity keeps its notes (an extra, `notes`) and the latest as its note.
pub async fn create_note(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    id: &str,
) -> Result<ApiResponse, RedtailError> {
    let number = activity_number(id)?;
    let object = request.json_object()?;
    let fields = NoteFields::read(&object)?;
    let org = caller.organisation_id;
    let added_by = caller.user_number;
    let origin = Origin::through(NAME, request.journal_id);
    let note = state
        .store
        .run(move |store| {
            let Some(existing) = store.activity(org, &number.to_string())? else {
                return Ok(None);
            };
            let mut notes = wire::notes_of(&existing);
            let now = now();
            let note = json!({
                "id": notes.len() + 1,
                "category_id": fields.category_id,
                "note_type": fields.note_type,
                "body": fields.body,
                "added_by": added_by,
                "pinned": false,
                "draft": false,
                "deleted": false,
                "created_at": now,
                "updated_at": now,
            });
            notes.push(note.clone());
            let mut extra = Map::new();
            extra.insert("notes".into(), Value::Array(notes));
            let patch = ActivityPatch {
                note: Some(Some(fields.body)),
                extra,
                ..ActivityPatch::default()
            };
            store.update_activity(org, &existing.id, &patch, origin)?;
            Ok(Some(note))
        })
        .await?
        .ok_or_else(|| activity_not_found(id))?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        json!({ "note": note }),
    ))
}

pub async fn notes(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<ApiResponse, RedtailError> {
    let number = activity_number(id)?;
    let org = caller.organisation_id;
    let activity = state
        .store
        .read(move |store| store.activity(org, &number.to_string()))
        .await?
        .ok_or_else(|| activity_not_found(id))?;
    Ok(ApiResponse::ok(
        json!({ "notes": wire::notes_of(&activity) }),
    ))
}

struct NoteFields {
    body: String,
    category_id: Value,
    /// As sent: any whole number.
    note_type: Value,
}

impl NoteFields {
    fn read(object: &Map<String, Value>) -> Result<NoteFields, RedtailError> {
        let body = match object.get("body") {
            Some(Value::String(body)) if !body.trim().is_empty() => body.clone(),
            None | Some(Value::String(_)) => {
                return Err(RedtailError::field("body", "can't be blank"))
            }
            Some(other) => return Err(wire::must_be("body", "a string", other)),
        };
        let integer = |name: &str, default: i64| match object.get(name) {
            None => Ok(Value::from(default)),
            Some(value) if wire::is_integer(value) => Ok(value.clone()),
            Some(value) => Err(wire::must_be(name, "an integer", value)),
        };
        let category_id = integer("category_id", 2)?;
        if !wire::CATEGORIES
            .iter()
            .any(|(id, _, deleted)| category_id.as_i64() == Some(*id) && !deleted)
        {
            return Err(RedtailError::field(
                "category_id",
                format!(
                    "{category_id} is not an active category; GET /lists/categories lists them"
                ),
            ));
        }
        Ok(NoteFields {
            body,
            category_id,
            note_type: integer("note_type", 1)?,
        })
    }
}

/// An activity's contact, shown as its linked contact.
fn contact_of(store: &Store, org: i64, activity: &Activity) -> Result<Option<Contact>, StoreError> {
    match &activity.contact_id {
        Some(contact_id) => store.contact(org, contact_id),
        None => Ok(None),
    }
}

/// The linked contacts to show: only when the request asks for them, as
/// Redtail's `include` header (or query) does.
fn linked<'a>(request: &ApiRequest, contact: Option<&'a Contact>) -> Option<Option<&'a Contact>> {
    let asks = |value: &str| {
        value
            .split(',')
            .any(|part| part.trim() == "linked_contacts")
    };
    let wanted = request.header("include").is_some_and(asks)
        || request.query_param("include").as_deref().is_some_and(asks);
    wanted.then_some(contact)
}

/// An activity id: Redtail's are integers, so anything else names none.
fn activity_number(id: &str) -> Result<i64, RedtailError> {
    id.parse::<i64>()
        .ok()
        .filter(|number| *number > 0)
        .ok_or_else(|| activity_not_found(id))
}

fn activity_not_found(id: &str) -> RedtailError {
    RedtailError::NotFound(format!("Activity {id} not found"))
}

fn now() -> String {
    let now: DateTime<Utc> = Utc::now();
    now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
