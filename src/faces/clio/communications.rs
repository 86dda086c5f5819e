//! Clio's communications on the store's activity model: App Connect's call
//! logs and message logs (both `PhoneCommunication`s; a message log is
//! stored as SMS, Voicemail or Fax by the subject the connector writes).
//! `subject` and `body` (plain text) are the activity's, `received_at` its
//! start, the Contact participant its contact and the side it is on its
//! direction (a sender: inbound), the User participant and the matter are
//! kept as extras. A communication's time entry (`POST /activities.json`,
//! type `TimeEntry`) is kept on it: its `quantity` is the activity's
//! duration, its id the communication's number. Every change is a revision
//! like any other, made `via` clio.

use serde_json::{Map, Value};
use warp::http::StatusCode;

use super::contacts::record_number;
use super::errors::{Answer, ClioError};
use super::wire::{self, raw_query_param, select, MATTER, TIME_ENTRY, USER_ID};
use crate::store::{
    Activity, ActivityFilter, ActivityPatch, Caller, Contact, NewActivity, Origin, Store,
    StoreError,
};
use crate::web::crm::{derived_conversation, is_message_type};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// App Connect writes Clio's logs as plain text.
const BODY_FORMAT: &str = "text/plain";
/// The communication types Clio has.
const COMMUNICATION_TYPES: [&str; 2] = ["PhoneCommunication", "EmailCommunication"];
/// How many recent activities a time-entry listing without a
/// `communication_id` looks through.
const TIME_ENTRY_SCAN: u32 = 200;

/// Which side of a communication a participant is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Sender,
    Receiver,
}

/// What a create or update says about a communication.
#[derive(Debug, Default)]
struct Sent {
    subject: Option<String>,
    body: Option<String>,
    received_at: Option<String>,
    /// The Contact participant, and its side.
    contact: Option<(i64, Side)>,
    /// The User participant, and its side.
    user: Option<(i64, Side)>,
    matter: Option<Value>,
    extra: Map<String, Value>,
}

impl Sent {
    /// The direction the participants say: a contact that sends is
    /// inbound; without a contact, a user that sends is outbound.
    fn direction(&self) -> Option<&'static str> {
        match (self.contact, self.user) {
            (Some((_, Side::Sender)), _) | (None, Some((_, Side::Receiver))) => Some("Inbound"),
            (Some((_, Side::Receiver)), _) | (None, Some((_, Side::Sender))) => Some("Outbound"),
            (None, None) => None,
        }
    }
}

/// The `data` object of a Clio write.
fn data_of(request: &ApiRequest) -> Result<Map<String, Value>, ClioError> {
    let mut object = request.json_object()?;
    match object.remove("data") {
        Some(Value::Object(data)) => Ok(data),
        _ => Err(ClioError::BadRequest(
            "the body must be {\"data\": {…the record…}}".into(),
        )),
    }
}

/// `POST /api/v4/communications.json`.
pub async fn create(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::COMMUNICATION_FIELDS)?;
    let data = data_of(request)?;
    let sent = read(&data, true)?;
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let viewer = caller.clone();
    let shown = state
        .store
        .run(move |store| {
            if let Err(error) = check_people(store, org, &sent)? {
                return Ok(Err(error));
            }
            let activity = store.create_activity(org, &stored_activity(sent), origin)?;
            Ok(Ok(shown(store, &viewer, &activity)?))
        })
        .await??;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        wire::envelope(select(&shown, &fields)?),
    ))
}

/// `GET /api/v4/communications/{id}.json?fields=`.
pub async fn get(state: &AppState, caller: &Caller, request: &ApiRequest, id: &str) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::COMMUNICATION_FIELDS)?;
    let number = record_number(id, "id")?;
    let org = caller.organisation_id;
    let viewer = caller.clone();
    let shown = state
        .store
        .read(
            move |store| match store.activity(org, &number.to_string())? {
                Some(activity) => Ok(Some(shown(store, &viewer, &activity)?)),
                None => Ok(None),
            },
        )
        .await?
        .ok_or_else(|| not_found("Communication", number))?;
    Ok(ApiResponse::ok(wire::envelope(select(&shown, &fields)?)))
}

/// `PATCH /api/v4/communications/{id}.json`: only the fields sent change.
pub async fn update(state: &AppState, caller: &Caller, request: &ApiRequest, id: &str) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::COMMUNICATION_FIELDS)?;
    let number = record_number(id, "id")?;
    let data = data_of(request)?;
    if data.is_empty() {
        return Err(ClioError::BadRequest(
            "send at least one field to change in data".into(),
        ));
    }
    let sent = read(&data, false)?;
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let viewer = caller.clone();
    let shown = state
        .store
        .run(move |store| {
            if let Err(error) = check_people(store, org, &sent)? {
                return Ok(Err(error));
            }
            let patch = communication_patch(sent);
            match store.update_activity(org, &number.to_string(), &patch, origin)? {
                Some(activity) => Ok(Ok(Some(shown(store, &viewer, &activity)?))),
                None => Ok(Ok(None)),
            }
        })
        .await??
        .ok_or_else(|| not_found("Communication", number))?;
    Ok(ApiResponse::ok(wire::envelope(select(&shown, &fields)?)))
}

fn not_found(what: &str, number: i64) -> ClioError {
    ClioError::NotFound(format!("{what} {number} not found"))
}

/// A stored activity as a communication, with its contact and user.
pub(super) fn shown(
    store: &Store,
    viewer: &Caller,
    activity: &Activity,
) -> Result<Value, StoreError> {
    let contact = contact_of(store, viewer.organisation_id, activity)?;
    let user = user_of(store, viewer, activity)?;
    Ok(wire::communication(activity, contact.as_ref(), &user))
}

fn contact_of(store: &Store, org: i64, activity: &Activity) -> Result<Option<Contact>, StoreError> {
    match &activity.contact_id {
        Some(id) => store.contact(org, id),
        None => Ok(None),
    }
}

/// The user a communication names (its User participant), else the viewer.
fn user_of(store: &Store, viewer: &Caller, activity: &Activity) -> Result<Caller, StoreError> {
    let Some(number) = activity.extra.get(USER_ID).and_then(Value::as_i64) else {
        return Ok(viewer.clone());
    };
    if number == viewer.user_number {
        return Ok(viewer.clone());
    }
    let users = store.users(viewer.organisation_id)?;
    Ok(users
        .into_iter()
        .find(|user| user.number == number)
        .map_or_else(
            || viewer.clone(),
            |user| Caller {
                user_id: user.id,
                user_number: user.number,
                user_name: user.name,
                email: user.email,
                timezone_offset: user.timezone_offset,
                ..viewer.clone()
            },
        ))
}

/// The participants must be the firm's: a contact that exists, a user of
/// the organisation (Clio's 404 for a record it cannot find otherwise).
fn check_people(store: &Store, org: i64, sent: &Sent) -> Result<Result<(), ClioError>, StoreError> {
    if let Some((number, _)) = sent.contact {
        if store.contact_by_number(org, number)?.is_none() {
            return Ok(Err(ClioError::NotFound(format!(
                "Contact {number} not found; create it with POST /api/v4/contacts.json"
            ))));
        }
    }
    if let Some((number, _)) = sent.user {
        if !store.users(org)?.iter().any(|user| user.number == number) {
            return Ok(Err(ClioError::NotFound(format!(
                "User {number} not found in this firm (GET /api/v4/users.json lists them)"
            ))));
        }
    }
    Ok(Ok(()))
}

/// THE SEAM where a Clio communication becomes the stored activity. A
/// message log is stored as SMS, Voicemail or Fax by the subject App
/// Connect's connector writes (it posts one communication type for every
/// log). When the store gains `conversation_log_id`/`message_ids`, this is
/// the one place that sets them (Clio's request carries neither: they
/// would come from the body or stay empty).
fn stored_activity(sent: Sent) -> NewActivity {
    let direction = sent.direction().map(str::to_owned);
    let subject = sent.subject.unwrap_or_default();
    let mut extra = sent.extra;
    if let Some((number, _)) = sent.user {
        extra.insert(USER_ID.into(), Value::from(number));
    }
    if let Some(matter) = sent.matter {
        extra.insert(MATTER.into(), matter);
    }
    let activity_type = stored_type(&subject).to_owned();
    let contact_id = sent.contact.map(|(number, _)| number.to_string());
    // Clio is sent no conversation id: a message log's is derived.
    let conversation_log_id = is_message_type(&activity_type)
        .then(|| derived_conversation(super::NAME, contact_id.as_deref(), &subject));
    NewActivity {
        activity_type,
        direction,
        subject,
        body: sent.body.unwrap_or_default(),
        body_format: BODY_FORMAT.to_owned(),
        received_at: sent.received_at,
        contact_id,
        session_id: None,
        duration: None,
        extra,
        conversation_log_id,
        message_ids: Vec::new(),
        note: None,
    }
}

fn communication_patch(sent: Sent) -> ActivityPatch {
    let direction = sent.direction().map(|d| Some(d.to_owned()));
    let mut extra = sent.extra;
    if let Some((number, _)) = sent.user {
        extra.insert(USER_ID.into(), Value::from(number));
    }
    if let Some(matter) = sent.matter {
        extra.insert(MATTER.into(), matter);
    }
    ActivityPatch {
        activity_type: sent.subject.as_deref().map(|s| stored_type(s).to_owned()),
        subject: sent.subject,
        body_format: sent.body.as_ref().map(|_| BODY_FORMAT.to_owned()),
        body: sent.body,
        received_at: sent.received_at,
        contact_id: sent.contact.map(|(number, _)| Some(number.to_string())),
        direction,
        extra,
        ..ActivityPatch::default()
    }
}

/// The store's type for a communication App Connect wrote, by its subject.
fn stored_type(subject: &str) -> &'static str {
    if subject.starts_with("SMS conversation") || subject.starts_with("SMS ") {
        "SMS"
    } else if subject.starts_with("Voicemail") {
        "Voicemail"
    } else if subject.starts_with("Fax") {
        "Fax"
    } else {
        "Call"
    }
}

/// An optional string field; `null` is absent.
fn text(data: &Map<String, Value>, name: &str) -> Result<Option<String>, ClioError> {
    match data.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ClioError::Invalid(format!("{name} must be a string"))),
    }
}

/// A record reference's id: a number, or digits in a string (App Connect
/// sends ids back as it stored them).
fn id_of(value: Option<&Value>, what: &str) -> Result<i64, ClioError> {
    let wrong = || ClioError::Invalid(format!("{what} must be a positive integer id"));
    match value {
        // A JSON integer may be written `7.0`.
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f < 9.0e15)
                    .map(|f| f as i64)
            })
            .filter(|id| *id > 0)
            .ok_or_else(wrong),
        Some(Value::String(text)) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(wrong),
        _ => Err(wrong()),
    }
}

/// Reads a create's (`creating`) or update's `data` as Clio takes it.
fn read(data: &Map<String, Value>, creating: bool) -> Result<Sent, ClioError> {
    let mut sent = Sent {
        subject: text(data, "subject")?,
        body: text(data, "body")?,
        ..Sent::default()
    };
    if creating && sent.subject.as_deref().is_none_or(|s| s.trim().is_empty()) {
        return Err(ClioError::Invalid("Subject can't be blank".into()));
    }
    if data.get("type") == Some(&Value::Null) {
        return Err(ClioError::Invalid(
            "type must be PhoneCommunication or EmailCommunication, not null".into(),
        ));
    }
    match text(data, "type")? {
        Some(kind) if COMMUNICATION_TYPES.contains(&kind.as_str()) => {}
        Some(kind) => {
            return Err(ClioError::Invalid(format!(
                "type {kind:?} is not valid: use PhoneCommunication or EmailCommunication"
            )))
        }
        None if creating => return Err(ClioError::Invalid("Type can't be blank".into())),
        None => {}
    }
    for name in ["received_at", "date"] {
        if let Some(when) = text(data, name)? {
            let read = wire::read_time(&when).ok_or_else(|| {
                ClioError::Invalid(format!("{name} must be an ISO 8601 time, not {when:?}"))
            })?;
            sent.received_at.get_or_insert(read);
        }
    }
    for (name, side) in [("senders", Side::Sender), ("receivers", Side::Receiver)] {
        participants(data.get(name), name, side, &mut sent)?;
    }
    sent.matter = match data.get("matter") {
        None => None,
        Some(Value::Null) => Some(Value::Null),
        Some(Value::Object(matter)) if matter.get("id").is_none_or(Value::is_null) => {
            Some(Value::Null)
        }
        Some(Value::Object(matter)) => {
            let id = id_of(matter.get("id"), "matter.id")?;
            return Err(ClioError::Invalid(format!(
                "Matter {id} does not exist: mockcrm's Clio face keeps no matters (GET /api/v4/matters.json)"
            )));
        }
        Some(_) => return Err(ClioError::Invalid("matter must be {\"id\": …}".into())),
    };
    for (name, value) in data {
        match name.as_str() {
            "subject" | "body" | "type" | "received_at" | "date" | "senders" | "receivers"
            | "matter" => {}
            wire::EXTERNAL_PROPERTIES => {
                let kept = wire::external_properties(value)?;
                sent.extra.insert(name.clone(), kept);
            }
            "id" | "etag" | "created_at" | "updated_at" => {
                return Err(ClioError::Invalid(format!(
                    "{name} is set by Clio and cannot be sent"
                )))
            }
            _ => {
                sent.extra.insert(name.clone(), value.clone());
            }
        }
    }
    Ok(sent)
}

/// Reads `senders` or `receivers`: `[{id, type}]`, type `Contact` (or
/// Clio's `Person`/`Company`) or `User`; one contact and one user at most.
fn participants(
    value: Option<&Value>,
    name: &str,
    side: Side,
    sent: &mut Sent,
) -> Result<(), ClioError> {
    let items = match value {
        None => return Ok(()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ClioError::Invalid(format!(
                "{name} must be a list of {{id, type}} objects"
            )))
        }
    };
    for item in items {
        let id = id_of(item.get("id"), &format!("{name}[].id"))?;
        let slot = match item.get("type").and_then(Value::as_str) {
            Some("Contact" | "Person" | "Company") => &mut sent.contact,
            Some("User") => &mut sent.user,
            _ => {
                return Err(ClioError::Invalid(format!(
                    "{name}[].type must be Contact or User"
                )))
            }
        };
        if slot.is_some() {
            return Err(ClioError::Invalid(
                "mockcrm's Clio face keeps one Contact and one User per communication".into(),
            ));
        }
        *slot = Some((id, side));
    }
    Ok(())
}

/// `POST /api/v4/activities.json {data: {type: "TimeEntry", communication:
/// {id}, quantity, date, non_billable, note, matter?}}`: the
/// communication's time entry.
pub async fn create_time_entry(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::TIME_ENTRY_FIELDS)?;
    let data = data_of(request)?;
    match text(&data, "type")?.as_deref() {
        Some("TimeEntry") => {}
        Some(other) => {
            return Err(ClioError::Invalid(format!(
                "type {other:?} is not served: mockcrm's Clio face keeps TimeEntry activities only"
            )))
        }
        None => return Err(ClioError::Invalid("Type can't be blank".into())),
    }
    let communication = match data.get("communication") {
        Some(Value::Object(object)) => id_of(object.get("id"), "communication.id")?,
        _ => {
            return Err(ClioError::Invalid(
                "communication can't be blank: mockcrm's Clio face keeps a time entry on its communication ({\"id\": …})".into(),
            ))
        }
    };
    let entry = read_time_entry(&data, Map::new())?;
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let viewer = caller.clone();
    let created = state
        .store
        .run(move |store| {
            let Some(activity) = store.activity(org, &communication.to_string())? else {
                return Ok(Err(not_found("Communication", communication)));
            };
            if activity.extra.contains_key(TIME_ENTRY) {
                return Ok(Err(ClioError::Conflict(format!(
                    "Communication {communication} has a time entry already (mockcrm keeps one per communication; PATCH /api/v4/activities/{communication}.json)"
                ))));
            }
            let updated = store.update_activity(org, &activity.id, &entry, origin)?;
            Ok(Ok(updated.and_then(|a| wire::time_entry(&a, &viewer))))
        })
        .await??
        .ok_or_else(|| not_found("Communication", communication))?;
    Ok(ApiResponse::json(
        StatusCode::CREATED,
        wire::envelope(select(&created, &fields)?),
    ))
}

/// `PATCH /api/v4/activities/{id}.json {data: {quantity?, note?, date?,
/// non_billable?}}`.
pub async fn update_time_entry(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
    id: &str,
) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::TIME_ENTRY_FIELDS)?;
    let number = record_number(id, "id")?;
    let data = data_of(request)?;
    let org = caller.organisation_id;
    let origin = Origin::through(super::NAME, request.journal_id);
    let viewer = caller.clone();
    let updated = state
        .store
        .run(move |store| {
            let Some(activity) = store.activity(org, &number.to_string())? else {
                return Ok(Ok(None));
            };
            let Some(Value::Object(kept)) = activity.extra.get(TIME_ENTRY).cloned() else {
                return Ok(Ok(None));
            };
            let patch = match read_time_entry(&data, kept) {
                Ok(patch) => patch,
                Err(error) => return Ok(Err(error)),
            };
            let updated = store.update_activity(org, &activity.id, &patch, origin)?;
            Ok(Ok(updated.and_then(|a| wire::time_entry(&a, &viewer))))
        })
        .await??
        .ok_or_else(|| not_found("Activity", number))?;
    Ok(ApiResponse::ok(wire::envelope(select(&updated, &fields)?)))
}

/// The patch a time entry's fields make to its communication: `quantity`
/// (seconds) is the duration, the rest is kept over `kept`.
fn read_time_entry(
    data: &Map<String, Value>,
    mut kept: Map<String, Value>,
) -> Result<ActivityPatch, ClioError> {
    let mut patch = ActivityPatch::default();
    match data.get("quantity") {
        None | Some(Value::Null) => {}
        Some(Value::Number(n)) if n.as_f64().is_some_and(|q| q >= 0.0) => {
            patch.duration = Some(Some(Value::Number(n.clone())));
        }
        Some(_) => {
            return Err(ClioError::Invalid(
                "quantity must be a number of seconds, 0 or more".into(),
            ))
        }
    }
    if let Some(date) = text(data, "date")? {
        wire::read_time(&date).ok_or_else(|| {
            ClioError::Invalid(format!(
                "date must be an ISO 8601 date or time, not {date:?}"
            ))
        })?;
        kept.insert("date".into(), Value::from(date));
    }
    if let Some(note) = text(data, "note")? {
        kept.insert("note".into(), Value::from(note));
    }
    match data.get("non_billable") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(flag)) => {
            kept.insert("non_billable".into(), Value::Bool(*flag));
        }
        Some(_) => return Err(ClioError::Invalid("non_billable must be a boolean".into())),
    }
    if let Some(matter) = data.get("matter").filter(|m| !m.is_null()) {
        if matter.get("id").is_some_and(|id| !id.is_null()) {
            return Err(ClioError::Invalid(
                "matter: mockcrm's Clio face keeps no matters (GET /api/v4/matters.json)".into(),
            ));
        }
    }
    kept.entry("non_billable").or_insert(Value::Bool(false));
    kept.entry("note").or_insert(Value::Null);
    kept.entry("date").or_insert(Value::Null);
    patch.extra.insert(TIME_ENTRY.into(), Value::Object(kept));
    Ok(patch)
}

/// `GET /api/v4/activities[.json]?communication_id=&fields=`: the time
/// entries (of one communication, or of the recent ones).
pub async fn time_entries(state: &AppState, caller: &Caller, request: &ApiRequest) -> Answer {
    let fields = wire::fields_for(&request.query, &wire::TIME_ENTRY_FIELDS)?;
    let communication = match raw_query_param(&request.query, "communication_id")? {
        Some(id) => Some(record_number(&id, "communication_id")?),
        None => None,
    };
    let org = caller.organisation_id;
    let activities = state
        .store
        .read(move |store| match communication {
            Some(number) => Ok(store
                .activity(org, &number.to_string())?
                .into_iter()
                .collect()),
            None => {
                let filter = ActivityFilter {
                    limit: TIME_ENTRY_SCAN,
                    ..ActivityFilter::default()
                };
                Ok(store.list_activities(org, &filter)?.items)
            }
        })
        .await?;
    let data = activities
        .iter()
        .filter_map(|activity| wire::time_entry(activity, caller))
        .map(|entry| select(&entry, &fields))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ApiResponse::ok(wire::list(data, None)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => Map::new(),
        }
    }

    #[test]
    fn app_connects_call_log_maps_onto_the_store() {
        let sent = read(
            &data(json!({
                "subject": "[Call] Outbound Call to Jane [+14155550199]", "body": "- Note: hi",
                "type": "PhoneCommunication", "received_at": "2024-05-01T10:30:00.000Z",
                "senders": [{"id": "1", "type": "User"}], "receivers": [{"id": 7, "type": "Contact"}],
                "notification_event_subscribers": [{"user_id": "1"}]
            })),
            true,
        )
        .expect("readable");
        let new = stored_activity(sent);
        assert_eq!(new.activity_type, "Call");
        assert_eq!(new.direction.as_deref(), Some("Outbound"));
        assert_eq!(new.received_at.as_deref(), Some("2024-05-01T10:30:00.000Z"));
        assert_eq!(new.contact_id.as_deref(), Some("7"));
        assert_eq!(new.extra[USER_ID], json!(1));
        assert!(new.extra.contains_key("notification_event_subscribers"));
        assert!(!new.extra.contains_key("senders"));
    }

    #[test]
    fn an_inbound_message_log_is_stored_by_its_kind() {
        let sent = read(
            &data(json!({
                "subject": "SMS conversation with Jane - 05/01/2024", "type": "PhoneCommunication",
                "senders": [{"id": 7, "type": "Contact"}], "receivers": [{"id": 1, "type": "User"}]
            })),
            true,
        )
        .expect("readable");
        let new = stored_activity(sent);
        assert_eq!(new.activity_type, "SMS");
        assert_eq!(new.direction.as_deref(), Some("Inbound"));
        assert_eq!(
            stored_type("Voicemail left by Jane - 05/01/2024"),
            "Voicemail"
        );
        assert_eq!(stored_type("Fax document sent from Jane - 24/05/01"), "Fax");
    }

    #[test]
    fn bad_fields_are_422s() {
        for bad in [
            json!({"type": "PhoneCommunication"}),
            json!({"subject": "s"}),
            json!({"subject": "s", "type": "Letter"}),
            json!({"subject": "s", "type": "PhoneCommunication", "received_at": "yesterday"}),
            json!({"subject": "s", "type": "PhoneCommunication", "senders": [{"id": "x", "type": "User"}]}),
            json!({"subject": "s", "type": "PhoneCommunication", "senders": [{"id": 1, "type": "Robot"}]}),
            json!({"subject": "s", "type": "PhoneCommunication", "matter": {"id": 3}}),
            json!({"subject": "s", "type": "PhoneCommunication", "id": 3}),
            json!({"subject": 5, "type": "PhoneCommunication"}),
        ] {
            assert!(read(&data(bad.clone()), true).is_err(), "{bad}");
        }
        assert!(read(&data(json!({"body": "only the body"})), false).is_ok());
    }

    #[test]
    fn a_time_entry_is_the_duration_and_kept_fields() {
        let patch = read_time_entry(
            &data(
                json!({"quantity": 65, "date": "2024-05-01T10:30:00.000Z", "type": "TimeEntry",
                         "non_billable": true, "note": "n", "communication": {"id": 3}}),
            ),
            Map::new(),
        )
        .expect("readable");
        assert_eq!(patch.duration, Some(Some(json!(65))));
        assert_eq!(patch.extra[TIME_ENTRY]["non_billable"], json!(true));
        assert!(read_time_entry(&data(json!({"quantity": "1h"})), Map::new()).is_err());
        assert!(read_time_entry(&data(json!({"non_billable": "no"})), Map::new()).is_err());
        assert_eq!(id_of(Some(&json!(7.0)), "id").ok(), Some(7));
        assert!(id_of(Some(&json!(7.5)), "id").is_err());
        assert!(id_of(Some(&json!(0)), "id").is_err());
    }
}
