//! Redtail's JSON, both ways: contacts, activities, notes, categories and
//! users as Redtail answers them (integer ids, which are the records'
//! numbers; `snake_case`; times as `2026-07-14T03:00:00.000Z`), and the
//! activity fields a request sends, read into the store's activity model.
//! No store access and no HTTP here: handlers fetch, this shapes.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::errors::RedtailError;
use crate::store::{Activity, Caller, Contact, NewActivity, UserRecord};
use crate::web::crm::derived_conversation;
use crate::web::json_kind;

/// The contact type App Connect's connector creates, and the only one a
/// contact of the store is shown as.
pub const INDIVIDUAL: &str = "Crm::Contact::Individual";
/// Redtail's phone type for a mobile number, the one the connector sends.
const MOBILE_PHONE: i64 = 6;
/// How the activities written through Redtail are stored: App Connect's
/// connector writes HTML (`getLogFormatType`).
const BODY_FORMAT: &str = "text/html";
/// A call log's type in the store, as every face stores calls.
const CALL_TYPE: &str = "PhoneCommunication";

/// The note categories every database has (`GET /lists/categories`):
/// `(id, name, deleted)`. App Connect defaults to category 2.
pub const CATEGORIES: [(i64, &str, bool); 6] = [
    (1, "Client Service", false),
    (2, "Prospecting", false),
    (3, "Planning", false),
    (4, "Marketing", false),
    (5, "Administrative", false),
    (9, "Archived", true),
];

/// Activity fields Redtail has beside the ones with a column of their
/// own; the face keeps them as the activity's extras.
const REDTAIL_EXTRAS: [&str; 8] = [
    "end_date",
    "activity_code_id",
    "category_id",
    "repeats",
    "completed",
    "attendees",
    "all_day",
    "priority",
];
/// Fields with a column of their own (or, for `linked_contacts`, read
/// into the contact).
const REDTAIL_COLUMNS: [&str; 4] = ["subject", "description", "start_date", "linked_contacts"];
/// Fields the server sets, never taken from a request.
const SERVER_FIELDS: [&str; 3] = ["id", "created_at", "updated_at"];

/// A time as Redtail writes it: UTC, milliseconds, `Z`.
pub fn time(text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .map(|time| format_time(time.with_timezone(&Utc)))
        .unwrap_or_else(|_| text.to_owned())
}

pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored name as Redtail's first, middle and last names: one word is a
/// last name (as App Connect's connector creates it), the first of several
/// the first name, the last the last name, any between the middle name.
pub fn name_parts(name: &str) -> (String, String, String) {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.as_slice() {
        [] => (String::new(), String::new(), String::new()),
        [only] => (String::new(), String::new(), (*only).to_owned()),
        [first, middle @ .., last] => ((*first).to_owned(), middle.join(" "), (*last).to_owned()),
    }
}

/// A stored phone number as Redtail's national number and country code.
fn phone_parts(phone: &str) -> (String, Option<i64>) {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        11 if digits.starts_with('1') => (digits[1..].to_owned(), Some(1)),
        10 => (digits, Some(1)),
        _ => (digits, None),
    }
}

pub fn contact_json(contact: &Contact) -> Value {
    let (first, middle, last) = name_parts(&contact.name);
    let (number, country_code) = phone_parts(&contact.phone_number);
    let phones: Vec<Value> = if number.is_empty() {
        Vec::new()
    } else {
        vec![json!({
            "id": contact.number,
            "phone_type": MOBILE_PHONE,
            "number": number,
            "country_code": country_code,
            "is_primary": true,
        })]
    };
    let emails: Vec<Value> = contact
        .email
        .iter()
        .map(|address| json!({"id": contact.number, "address": address, "is_primary": true}))
        .collect();
    let created = time(&contact.created_at);
    json!({
        "id": contact.number,
        "type": INDIVIDUAL,
        "first_name": first,
        "middle_name": middle,
        "last_name": last,
        "full_name": contact.name,
        "job_title": "",
        "phones": phones,
        "emails": emails,
        "created_at": created,
        "updated_at": created,
    })
}

pub fn categories_json() -> Value {
    let categories: Vec<Value> = CATEGORIES
        .iter()
        .map(|(id, name, deleted)| json!({"id": id, "name": name, "deleted": deleted}))
        .collect();
    json!({ "categories": categories })
}

pub fn database_users_json(users: &[UserRecord]) -> Value {
    let users: Vec<Value> = users
        .iter()
        .map(|user| {
            let (first, _, last) = name_parts(&user.name);
            json!({
                "id": user.number,
                "first_name": first,
                "last_name": last,
                "email": user.email,
            })
        })
        .collect();
    json!({ "database_users": users })
}

/// The `authenticated_user` of `GET /authentication`.
pub fn authenticated_user(caller: &Caller, user_key: &str) -> Value {
    let (first, _, last) = name_parts(&caller.user_name);
    json!({
        "id": caller.user_number,
        "user_key": user_key,
        "database_id": caller.organisation_id,
        "first_name": first,
        "last_name": last,
        "name": caller.user_name,
        "email": caller.email,
    })
}

/// An activity as Redtail answers it. `linked` is its contact, shown as
/// `linked_contacts` only when the request asked (`include:
/// linked_contacts`): `None` leaves the key out.
pub fn activity_json(activity: &Activity, linked: Option<Option<&Contact>>) -> Value {
    let extra = &activity.extra;
    let start = time(&activity.received_at);
    let mut object = Map::new();
    object.insert("id".into(), Value::from(activity.number));
    object.insert("subject".into(), Value::from(activity.subject.as_str()));
    object.insert("description".into(), Value::from(activity.body.as_str()));
    object.insert(
        "end_date".into(),
        Value::from(end_date(activity).unwrap_or_else(|| start.clone())),
    );
    object.insert("start_date".into(), Value::from(start));
    for (name, default) in [
        ("activity_code_id", Value::Null),
        ("category_id", Value::Null),
        ("repeats", Value::from("never")),
        ("completed", Value::Bool(false)),
        ("all_day", Value::Bool(false)),
        ("attendees", json!([])),
    ] {
        object.insert(name.into(), extra.get(name).cloned().unwrap_or(default));
    }
    object.insert("created_at".into(), Value::from(time(&activity.created_at)));
    object.insert("updated_at".into(), Value::from(time(&activity.updated_at)));
    if let Some(contact) = linked {
        let linked: Vec<Value> = contact.iter().map(|c| linked_contact(c)).collect();
        object.insert("linked_contacts".into(), Value::Array(linked));
    }
    json!({ "activity": object })
}

fn linked_contact(contact: &Contact) -> Value {
    let (first, middle, last) = name_parts(&contact.name);
    json!({
        "contact_id": contact.number,
        "first_name": first,
        "middle_name": middle,
        "last_name": last,
        "full_name": contact.name,
    })
}

/// When the activity ends: as sent, or its start and duration.
pub fn end_date(activity: &Activity) -> Option<String> {
    if let Some(end) = activity.extra.get("end_date").and_then(Value::as_str) {
        return Some(time(end));
    }
    let start = DateTime::parse_from_rfc3339(&activity.received_at).ok()?;
    let seconds = activity.duration.as_ref().and_then(Value::as_i64)?;
    Some(format_time(
        start.with_timezone(&Utc) + chrono::Duration::seconds(seconds),
    ))
}

/// The notes of an activity, as the face keeps them in its extras.
pub fn notes_of(activity: &Activity) -> Vec<Value> {
    activity
        .extra
        .get("notes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The activity fields of one request body, read and checked.
#[derive(Debug, Default)]
pub struct ActivityInput {
    pub subject: Option<String>,
    pub description: Option<String>,
    pub start_date: Option<DateTime<Utc>>,
    pub end_date: Option<DateTime<Utc>>,
    /// The first linked contact's id, as sent (a number, as text).
    pub contact: Option<String>,
    /// Redtail's other fields and any the face does not know, as sent.
    pub extra: Map<String, Value>,
    /// The names of the fields sent when none of them was one Redtail's
    /// activity has: such a write changes nothing Redtail keeps.
    pub only_unknown_fields: Vec<String>,
}

impl ActivityInput {
    pub fn read(object: &Map<String, Value>) -> Result<ActivityInput, RedtailError> {
        let mut input = ActivityInput {
            subject: optional_text(object, "subject")?,
            description: match object.get("description") {
                None => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(other) => return Err(must_be("description", "a string", other)),
            },
            start_date: optional_time(object, "start_date")?,
            end_date: optional_time(object, "end_date")?,
            contact: linked_contact_id(object)?,
            ..ActivityInput::default()
        };
        if let (Some(start), Some(end)) = (input.start_date, input.end_date) {
            if end < start {
                return Err(RedtailError::field(
                    "end_date",
                    "must not be before start_date",
                ));
            }
        }
        for name in ["activity_code_id", "category_id", "priority"] {
            match object.get(name) {
                None => {}
                Some(value) if is_integer(value) => {}
                Some(other) => return Err(must_be(name, "an integer", other)),
            }
        }
        match object.get("repeats") {
            None | Some(Value::String(_)) => {}
            Some(other) => return Err(must_be("repeats", "a string", other)),
        }
        match object.get("attendees") {
            None | Some(Value::Array(_)) => {}
            Some(other) => return Err(must_be("attendees", "an array", other)),
        }
        if let Some(category) = object.get("category_id").and_then(integer) {
            if !CATEGORIES
                .iter()
                .any(|(id, _, deleted)| *id == category && !deleted)
            {
                return Err(RedtailError::field(
                    "category_id",
                    format!(
                        "{category} is not an active category; GET /lists/categories lists them"
                    ),
                ));
            }
        }
        for name in ["completed", "all_day"] {
            match object.get(name) {
                None | Some(Value::Bool(_)) => {}
                Some(other) => return Err(must_be(name, "true or false", other)),
            }
        }
        for (name, value) in object {
            let name = name.as_str();
            if REDTAIL_COLUMNS.contains(&name) || SERVER_FIELDS.contains(&name) {
                continue;
            }
            let value = match (name, input.end_date) {
                ("end_date", Some(end)) => Value::from(format_time(end)),
                _ => value.clone(),
            };
            input.extra.insert(name.to_owned(), value);
        }
        let known = |name: &str| {
            REDTAIL_COLUMNS.contains(&name)
                || REDTAIL_EXTRAS.contains(&name)
                || SERVER_FIELDS.contains(&name)
        };
        if !object.is_empty() && !object.keys().any(|name| known(name)) {
            input.only_unknown_fields = object.keys().cloned().collect();
        }
        Ok(input)
    }

    /// Seconds from start to end, when both are known.
    pub fn seconds_between(start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
        Value::from((end - start).num_seconds())
    }
}

/// What kind of log a new activity is, as App Connect's connector writes
/// it: its message logs carry no category and open their subject with the
/// kind; its call logs always carry one.
fn log_kind(input: &ActivityInput) -> &'static str {
    let subject = input.subject.as_deref().unwrap_or_default();
    if subject.starts_with("Voicemail left by") {
        "Voicemail"
    } else if subject.starts_with("Fax document sent from") {
        "Fax"
    } else if subject.starts_with("SMS conversation with")
        || !input.extra.contains_key("category_id")
    {
        "SMS"
    } else {
        CALL_TYPE
    }
}

/// The one place a Redtail activity becomes a stored one: what kind of log
/// it is, its direction, duration and call session as far as Redtail's
/// fields tell them. A message log's conversation is derived
/// (`derived_conversation`): Redtail's request carries no conversation id.
pub fn stored_activity(input: ActivityInput, start: DateTime<Utc>) -> NewActivity {
    let kind = log_kind(&input);
    let call = kind == CALL_TYPE;
    let description = input.description.unwrap_or_default();
    let subject = input.subject.unwrap_or_default();
    let conversation =
        (!call).then(|| derived_conversation(super::NAME, input.contact.as_deref(), &subject));
    let direction = call
        .then(|| {
            let lower = subject.to_ascii_lowercase();
            if lower.starts_with("inbound") {
                Some("Inbound".to_owned())
            } else if lower.starts_with("outbound") {
                Some("Outbound".to_owned())
            } else {
                None
            }
        })
        .flatten();
    NewActivity {
        session_id: call.then(|| session_id(&description)).flatten(),
        duration: call
            .then(|| {
                input
                    .end_date
                    .map(|end| ActivityInput::seconds_between(start, end))
            })
            .flatten(),
        subject,
        body: description,
        body_format: BODY_FORMAT.to_owned(),
        activity_type: kind.to_owned(),
        received_at: Some(format_time(start)),
        contact_id: input.contact,
        direction,
        conversation_log_id: conversation,
        extra: input.extra,
        message_ids: Vec::new(),
        note: None,
    }
}

/// Whether a stored activity is a call log (its duration follows its
/// dates).
pub fn is_call(activity: &Activity) -> bool {
    activity.activity_type == CALL_TYPE
}

/// The call session App Connect's composed HTML names (`<li><b>Session
/// Id</b>: 123</li>`), when the user has it added.
fn session_id(description: &str) -> Option<String> {
    let (_, rest) = description.split_once("<b>Session Id</b>:")?;
    let value = rest.split("</li>").next()?.trim();
    (!value.is_empty() && !value.contains('<')).then(|| value.to_owned())
}

pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

fn optional_text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, RedtailError> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::Null) => Err(RedtailError::field(name, "can't be blank")),
        Some(Value::String(text)) if text.trim().is_empty() => {
            Err(RedtailError::field(name, "can't be blank"))
        }
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(must_be(name, "a string", other)),
    }
}

fn optional_time(
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, RedtailError> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => parse_time(text).map(Some).ok_or_else(|| {
            RedtailError::field(
                name,
                format!("{text:?} is not a date; send ISO 8601 such as 2026-07-14T03:00:00.000Z"),
            )
        }),
        Some(other) => Err(must_be(name, "a date string", other)),
    }
}

/// The first of `linked_contacts: [{contact_id}]`.
fn linked_contact_id(object: &Map<String, Value>) -> Result<Option<String>, RedtailError> {
    let items = match object.get("linked_contacts") {
        None => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(must_be("linked_contacts", "an array", other)),
    };
    let mut first = None;
    for item in items {
        let id = item.get("contact_id").and_then(integer).ok_or_else(|| {
            RedtailError::field(
                "linked_contacts",
                "must hold objects with an integer contact_id, e.g. [{\"contact_id\": 5}]",
            )
        })?;
        first.get_or_insert(id.to_string());
    }
    Ok(first)
}

/// An integer, or a string of one (App Connect keeps ids as strings).
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(number) => number.as_i64(),
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok()
        }
        _ => None,
    }
}

/// A JSON number that is a whole number, of any size (`7`, `7.0`, `1e30`),
/// as JSON Schema's `integer` takes it.
pub fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(number) => {
            number.is_i64()
                || number.is_u64()
                || number
                    .as_f64()
                    .is_some_and(|n| n.is_finite() && n.fract() == 0.0)
        }
        _ => false,
    }
}

pub fn must_be(name: &str, what: &str, got: &Value) -> RedtailError {
    RedtailError::field(name, format!("must be {what}, got {}", json_kind(got)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_as_the_connector_joins_them() {
        assert_eq!(name_parts("Cher"), ("".into(), "".into(), "Cher".into()));
        assert_eq!(
            name_parts("Dana A Client"),
            ("Dana".into(), "A".into(), "Client".into())
        );
        assert_eq!(
            name_parts(" Taylor  Morgan "),
            ("Taylor".into(), "".into(), "Morgan".into())
        );
    }

    #[test]
    fn phones_show_their_national_number() {
        assert_eq!(
            phone_parts("+1 (415) 555-0199"),
            ("4155550199".into(), Some(1))
        );
        assert_eq!(phone_parts("4155550199"), ("4155550199".into(), Some(1)));
        assert_eq!(phone_parts("+442071234567"), ("442071234567".into(), None));
    }

    #[test]
    fn the_session_id_is_read_from_the_composed_html() {
        let body = "<li><b>Summary</b>: x</li><li><b>Session Id</b>: 4500000000</li>";
        assert_eq!(session_id(body).as_deref(), Some("4500000000"));
        assert_eq!(session_id("<li><b>Summary</b>: x</li>"), None);
    }

    fn read(value: Value) -> Result<ActivityInput, RedtailError> {
        let Value::Object(object) = value else {
            panic!("not an object")
        };
        ActivityInput::read(&object)
    }

    #[test]
    fn logs_are_told_apart_as_the_connector_writes_them() {
        let start = parse_time("2026-07-14T03:00:00Z").expect("time");
        let call = read(
            json!({"subject": "Inbound Call from Dana", "category_id": 2,
            "end_date": "2026-07-14T03:01:05Z", "description": "<li><b>Session Id</b>: 77</li>"}),
        )
        .expect("reads");
        let call = stored_activity(call, start);
        assert_eq!(call.activity_type, CALL_TYPE);
        assert_eq!(call.direction.as_deref(), Some("Inbound"));
        assert_eq!(call.duration, Some(Value::from(65)));
        assert_eq!(call.session_id.as_deref(), Some("77"));
        let sms = read(json!({"subject": "SMS conversation with Dana - 26/07/14"})).expect("reads");
        let sms = stored_activity(sms, start);
        assert_eq!(sms.activity_type, "SMS");
        assert_eq!((sms.direction, sms.duration), (None, None));
        let fax =
            read(json!({"subject": "Fax document sent from Dana - 26/07/14"})).expect("reads");
        assert_eq!(stored_activity(fax, start).activity_type, "Fax");
        let voicemail =
            read(json!({"subject": "Voicemail left by Dana - 26/07/14"})).expect("reads");
        assert_eq!(stored_activity(voicemail, start).activity_type, "Voicemail");
    }

    #[test]
    fn bad_fields_are_refused_by_name() {
        let cases = [
            (json!({"subject": 5}), "subject"),
            (json!({"subject": "  "}), "subject"),
            (json!({"start_date": "yesterday"}), "start_date"),
            (json!({"category_id": 9}), "category_id"),
            (json!({"category_id": "two"}), "category_id"),
            (json!({"completed": "yes"}), "completed"),
            (json!({"linked_contacts": [{"id": 1}]}), "linked_contacts"),
            (
                json!({"start_date": "2026-07-14T03:00:00Z", "end_date": "2026-07-14T02:00:00Z"}),
                "end_date",
            ),
        ];
        for (body, field) in cases {
            match read(body.clone()) {
                Err(RedtailError::Unprocessable { field: got, .. }) => {
                    assert_eq!(got, field, "{body}")
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_write_of_only_unknown_fields_is_marked() {
        let input = read(json!({"colour": "red"})).expect("reads");
        assert_eq!(input.only_unknown_fields, vec!["colour".to_owned()]);
        assert_eq!(input.extra.get("colour"), Some(&Value::from("red")));
        let input = read(json!({"completed": true})).expect("reads");
        assert!(input.only_unknown_fields.is_empty());
    }
}
