//! Clio's records on the wire: the `{"data": …}` envelope and its list
//! form with `meta.paging`, contacts, users, communications with their
//! senders and receivers, time entries, Clio's `fields` selection and time
//! format, and the query string read as Clio reads it (a raw `+` stays a
//! `+`). Only shapes and conversions: no store, no HTTP.

use serde_json::{json, Map, Value};

use super::errors::ClioError;
use crate::store::{Activity, Caller, Contact};

/// The extra field an activity keeps its time entry in (Clio's
/// `quantity` is the activity's duration; the rest is kept here).
pub const TIME_ENTRY: &str = "time_entry";
/// The extra field an activity keeps the User participant's id in.
pub const USER_ID: &str = "user_id";
/// The extra field an activity keeps its matter in.
pub const MATTER: &str = "matter";

/// The fields of each record this face answers, what `fields` may name
/// (a unit test checks them against the records).
pub const CONTACT_FIELDS: [&str; 13] = [
    "id",
    "etag",
    "name",
    "first_name",
    "last_name",
    "type",
    "is_client",
    "created_at",
    "updated_at",
    "primary_phone_number",
    "primary_email_address",
    "phone_numbers",
    "email_addresses",
];
pub const USER_FIELDS: [&str; 10] = [
    "id",
    "etag",
    "name",
    "first_name",
    "last_name",
    "email",
    "enabled",
    "subscription_type",
    "time_zone",
    "account_owner",
];
pub const COMMUNICATION_FIELDS: [&str; 14] = [
    "id",
    "etag",
    "subject",
    "body",
    "type",
    "date",
    "received_at",
    "created_at",
    "updated_at",
    "senders",
    "receivers",
    "matter",
    "time_entries_count",
    "external_properties",
];
pub const TIME_ENTRY_FIELDS: [&str; 16] = [
    "id",
    "etag",
    "type",
    "date",
    "quantity",
    "quantity_in_hours",
    "note",
    "non_billable",
    "price",
    "total",
    "billed",
    "communication",
    "matter",
    "user",
    "created_at",
    "updated_at",
];

/// A query parameter as Clio reads it: percent-decoded, but a `+` is a
/// plus (App Connect sends `query=+14155550199` unencoded). Given twice,
/// it is a 400: which one was meant cannot be known.
pub fn raw_query_param(query: &str, name: &str) -> Result<Option<String>, ClioError> {
    let mut found = query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        });
    let first = found.next();
    if found.next().is_some() {
        return Err(ClioError::BadRequest(format!(
            "{name} is given more than once; give it once"
        )));
    }
    Ok(first)
}

/// Clio's success envelope for one record.
pub fn envelope(data: Value) -> Value {
    json!({"data": data})
}

/// A time as Clio writes it (`2024-05-01T10:00:00+00:00`).
pub fn time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |time| {
            time.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S+00:00")
                .to_string()
        },
    )
}

/// A time Clio takes (ISO 8601 with an offset, or a bare date), as the
/// store keeps it; `None` when it is neither.
pub fn read_time(text: &str) -> Option<String> {
    let text = text.trim();
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(
            time.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|day| {
            day.and_time(chrono::NaiveTime::MIN)
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
}

/// A fixed offset (`-05:00`) in hours, as App Connect keeps a Clio user's
/// `timezoneOffset` (it reads it with `Number(…)`); 0 for none.
pub fn offset_hours(offset: Option<&str>) -> f64 {
    let Some(offset) = offset.map(str::trim).filter(|o| !o.is_empty()) else {
        return 0.0;
    };
    let (sign, rest) = match offset.as_bytes().first() {
        Some(b'-') => (-1.0, &offset[1..]),
        Some(b'+') => (1.0, &offset[1..]),
        _ => (1.0, offset),
    };
    let mut parts = rest.split(':');
    let hours: f64 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(0.0);
    let minutes: f64 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0.0);
    sign * (hours + minutes / 60.0)
}

/// `offset_hours` as JSON: a whole number when it is one (`-5`, not
/// `-5.0`).
pub fn offset_value(offset: Option<&str>) -> Value {
    let hours = offset_hours(offset);
    if hours.fract() == 0.0 {
        Value::from(hours as i64)
    } else {
        Value::from(hours)
    }
}

/// An IANA zone name for a fixed offset (`-05:00` is `Etc/GMT+5`, whose
/// sign is POSIX's, the other way round); `Etc/UTC` for none or a
/// part-hour one. Clio's `time_zone` is such a name.
pub fn timezone_name(offset: Option<&str>) -> String {
    let hours = offset_hours(offset);
    if hours == 0.0 || hours.fract() != 0.0 {
        return "Etc/UTC".to_owned();
    }
    format!("Etc/GMT{:+}", -(hours as i64))
}

/// One field of a `fields` selection, with its own selection when nested
/// (`matter{id,display_number}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub nested: Option<Vec<Field>>,
}

/// Reads Clio's `fields` parameter (`id,name,matter{id,status}`).
pub fn parse_fields(text: &str) -> Result<Vec<Field>, ClioError> {
    let chars: Vec<char> = text.chars().collect();
    let mut at = 0;
    let fields = parse_list(&chars, &mut at, 0)?;
    if at < chars.len() {
        return Err(bad_fields(text));
    }
    Ok(fields)
}

fn bad_fields(text: &str) -> ClioError {
    ClioError::BadRequest(format!(
        "fields {text:?} cannot be read: write names separated by commas, a nested selection in braces (matter{{id,status}})"
    ))
}

fn parse_list(chars: &[char], at: &mut usize, depth: usize) -> Result<Vec<Field>, ClioError> {
    let text: String = chars.iter().collect();
    if depth > 4 {
        return Err(bad_fields(&text));
    }
    let mut fields = Vec::new();
    loop {
        let start = *at;
        while *at < chars.len() && (chars[*at].is_ascii_alphanumeric() || chars[*at] == '_') {
            *at += 1;
        }
        let name: String = chars[start..*at].iter().collect();
        if name.is_empty() {
            return Err(bad_fields(&text));
        }
        let mut nested = None;
        if chars.get(*at) == Some(&'{') {
            *at += 1;
            nested = Some(parse_list(chars, at, depth + 1)?);
            if chars.get(*at) != Some(&'}') {
                return Err(bad_fields(&text));
            }
            *at += 1;
        }
        fields.push(Field { name, nested });
        match chars.get(*at) {
            Some(',') => *at += 1,
            _ => return Ok(fields),
        }
    }
}

/// The selection of `request`'s `fields` (Clio answers `id` and `etag`
/// when none is asked for).
pub fn fields_of(query: &str) -> Result<Vec<Field>, ClioError> {
    match raw_query_param(query, "fields")? {
        Some(text) => parse_fields(text.trim()),
        None => parse_fields("id,etag"),
    }
}

/// The selection of `query`'s `fields` for a record with the fields
/// `known`: a name it does not have is a 400 even when no record is
/// answered.
pub fn fields_for(query: &str, known: &[&str]) -> Result<Vec<Field>, ClioError> {
    let fields = fields_of(query)?;
    if let Some(unknown) = fields.iter().find(|f| !known.contains(&f.name.as_str())) {
        return Err(ClioError::BadRequest(format!(
            "Invalid field: {:?}; this record has {}",
            unknown.name,
            known.join(", ")
        )));
    }
    Ok(fields)
}

/// `record` cut down to `fields`; a field the record does not have is a
/// 400, as Clio answers it.
pub fn select(record: &Value, fields: &[Field]) -> Result<Value, ClioError> {
    match record {
        Value::Array(items) => items
            .iter()
            .map(|item| select(item, fields))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(object) => {
            let mut chosen = Map::new();
            for field in fields {
                let Some(value) = object.get(&field.name) else {
                    let known: Vec<&str> = object.keys().map(String::as_str).collect();
                    return Err(ClioError::BadRequest(format!(
                        "Invalid field: {:?}; this record has {}",
                        field.name,
                        known.join(", ")
                    )));
                };
                let value = match (&field.nested, value) {
                    (Some(nested), Value::Object(_) | Value::Array(_)) => select(value, nested)?,
                    _ => value.clone(),
                };
                chosen.insert(field.name.clone(), value);
            }
            Ok(Value::Object(chosen))
        }
        other => Ok(other.clone()),
    }
}

/// Clio's list envelope; `next` is the absolute URL of the next page.
pub fn list(data: Vec<Value>, next: Option<String>) -> Value {
    let records = data.len();
    let mut paging = Map::new();
    if let Some(next) = next {
        paging.insert("next".into(), Value::from(next));
    }
    json!({"data": data, "meta": {"paging": paging, "records": records}})
}

/// An etag Clio-style clients can compare: changes whenever the record does.
fn etag(id: i64, updated_at: &str) -> String {
    let digits: String = updated_at.chars().filter(char::is_ascii_digit).collect();
    format!("\"{id}-{digits}\"")
}

fn first_and_last(name: &str) -> (String, String) {
    match name.trim().rsplit_once(' ') {
        Some((first, last)) => (first.to_owned(), last.to_owned()),
        None => (name.trim().to_owned(), String::new()),
    }
}

/// Clio's contact type of a stored contact: `Company` when it was made as
/// one, else `Person` (App Connect's `getCallLog` takes a participant of
/// type `Person` for the contact).
pub fn contact_type(contact: &Contact) -> &'static str {
    match &contact.contact_type {
        Some(kind) if kind.eq_ignore_ascii_case("company") => "Company",
        _ => "Person",
    }
}

/// A contact, every field this face knows.
pub fn contact(contact: &Contact) -> Value {
    let (first, last) = first_and_last(&contact.name);
    let company = contact_type(contact) == "Company";
    let phones = if contact.phone_number.is_empty() {
        json!([])
    } else {
        json!([{
            "id": contact.number, "etag": etag(contact.number, &contact.created_at),
            "name": "Work", "number": contact.phone_number, "default_number": true,
            "created_at": time(&contact.created_at), "updated_at": time(&contact.created_at),
        }])
    };
    let emails = contact.email.as_ref().map_or_else(
        || json!([]),
        |email| {
            json!([{
                "id": contact.number, "etag": etag(contact.number, &contact.created_at),
                "name": "Work", "address": email, "primary": true,
                "created_at": time(&contact.created_at), "updated_at": time(&contact.created_at),
            }])
        },
    );
    json!({
        "id": contact.number,
        "etag": etag(contact.number, &contact.created_at),
        "name": contact.name,
        "first_name": if company { Value::Null } else { Value::from(first) },
        "last_name": if company { Value::Null } else { Value::from(last) },
        "type": contact_type(contact),
        "is_client": false,
        "created_at": time(&contact.created_at),
        "updated_at": time(&contact.created_at),
        "primary_phone_number": if contact.phone_number.is_empty() { Value::Null } else { Value::from(contact.phone_number.as_str()) },
        "primary_email_address": contact.email,
        "phone_numbers": phones,
        "email_addresses": emails,
    })
}

/// A user of the firm, every field this face knows.
pub fn user(caller: &Caller) -> Value {
    let (first, last) = first_and_last(&caller.user_name);
    json!({
        "id": caller.user_number,
        "etag": etag(caller.user_number, ""),
        "name": caller.user_name,
        "first_name": first,
        "last_name": last,
        "email": caller.email,
        "enabled": true,
        "subscription_type": "Attorney",
        "time_zone": timezone_name(caller.timezone_offset.as_deref()),
        "account_owner": false,
    })
}

/// A participant of a communication as Clio answers it.
fn participant(id: Value, kind: &str, name: Value) -> Value {
    json!({"id": id, "type": kind, "name": name})
}

/// A stored activity as a Clio communication. Its contact is the sender of
/// an inbound one and the receiver of an outbound one, the user the other
/// side; `contact` is the activity's contact and `user_name` the user's.
pub fn communication(activity: &Activity, contact: Option<&Contact>, user: &Caller) -> Value {
    let user_id = activity
        .extra
        .get(USER_ID)
        .cloned()
        .filter(|id| !id.is_null())
        .unwrap_or_else(|| Value::from(user.user_number));
    let user_side = vec![participant(
        user_id,
        "User",
        Value::from(user.user_name.as_str()),
    )];
    let contact_side: Vec<Value> = contact
        .map(|c| {
            participant(
                Value::from(c.number),
                contact_type(c),
                Value::from(c.name.as_str()),
            )
        })
        .into_iter()
        .collect();
    let outbound = activity.direction.as_deref() == Some("Outbound");
    let (senders, receivers) = if outbound {
        (user_side, contact_side)
    } else {
        (contact_side, user_side)
    };
    json!({
        "id": activity.number,
        "etag": etag(activity.number, &activity.updated_at),
        "subject": activity.subject,
        "body": activity.body,
        "type": "PhoneCommunication",
        "date": time(&activity.received_at).get(..10).unwrap_or_default(),
        "received_at": time(&activity.received_at),
        "created_at": time(&activity.created_at),
        "updated_at": time(&activity.updated_at),
        "senders": senders,
        "receivers": receivers,
        "matter": activity.extra.get(MATTER).cloned().unwrap_or(Value::Null),
        "time_entries_count": i32::from(activity.extra.contains_key(TIME_ENTRY)),
        "external_properties": activity.extra.get(EXTERNAL_PROPERTIES).cloned().unwrap_or_else(|| json!([])),
    })
}

/// Where a communication keeps the integration's own keys (Clio's
/// `external_properties`: `[{name, value}]`), beside the body it never
/// touches: App Connect's call session, for one.
pub const EXTERNAL_PROPERTIES: &str = "external_properties";

/// A write's `external_properties`, checked: a list of `{name, value}`
/// with text in both, kept as sent (names and values only).
pub fn external_properties(value: &Value) -> Result<Value, ClioError> {
    let wrong = || {
        ClioError::Invalid(
            "external_properties must be a list of {\"name\": text, \"value\": text}".into(),
        )
    };
    let items = value.as_array().ok_or_else(wrong)?;
    let mut kept = Vec::new();
    for item in items {
        let name = item.get("name").and_then(Value::as_str).ok_or_else(wrong)?;
        let value = item
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(wrong)?;
        if name.trim().is_empty() {
            return Err(ClioError::Invalid(
                "external_properties[].name can't be blank".into(),
            ));
        }
        kept.push(json!({"name": name, "value": value}));
    }
    Ok(Value::Array(kept))
}

/// The time entry of a stored activity, when it has one: its id is the
/// activity's number, its `quantity` the activity's duration (seconds).
pub fn time_entry(activity: &Activity, user: &Caller) -> Option<Value> {
    let kept = activity.extra.get(TIME_ENTRY)?.as_object()?;
    let field = |name: &str| kept.get(name).cloned().unwrap_or(Value::Null);
    let quantity = activity.duration.clone().unwrap_or(Value::from(0));
    Some(json!({
        "id": activity.number,
        "etag": etag(activity.number, &activity.updated_at),
        "type": "TimeEntry",
        "date": field("date"),
        "quantity": quantity,
        "quantity_in_hours": quantity.as_f64().map(|s| (s / 3600.0 * 100.0).round() / 100.0),
        "note": field("note"),
        "non_billable": field("non_billable"),
        "price": 0.0,
        "total": 0.0,
        "billed": false,
        "communication": {"id": activity.number},
        "matter": field("matter"),
        "user": {"id": user.user_number, "name": user.user_name},
        "created_at": time(&activity.created_at),
        "updated_at": time(&activity.updated_at),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_plus_stays_a_plus() {
        let read = |query: &str| raw_query_param(query, "query").expect("once");
        assert_eq!(
            read("query=+14155550199&fields=id").as_deref(),
            Some("+14155550199")
        );
        assert_eq!(read("query=Jane%20Doe").as_deref(), Some("Jane Doe"));
        assert_eq!(read("fields=id"), None);
        assert!(raw_query_param("query=a&query=b", "query").is_err());
    }

    #[test]
    fn fields_nest_and_select() {
        let fields = parse_fields("id,matter{id,status}").expect("readable");
        assert_eq!(fields.len(), 2);
        let record = json!({"id": 1, "x": 2, "matter": {"id": 3, "status": "Open", "y": 4}});
        assert_eq!(
            select(&record, &fields).expect("known"),
            json!({"id": 1, "matter": {"id": 3, "status": "Open"}})
        );
        assert!(select(&record, &parse_fields("nope").expect("readable")).is_err());
        for bad in ["", "id,", "a{b", "a}b", "a{}"] {
            assert!(parse_fields(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_field_lists_are_the_records_fields() {
        let keys = |value: Value| -> Vec<String> {
            let mut keys: Vec<String> = value
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            keys
        };
        let sorted = |names: &[&str]| -> Vec<String> {
            let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
            names.sort();
            names
        };
        let contact = Contact {
            id: "contact-1".into(),
            number: 1,
            name: "Jane Contact".into(),
            phone_number: "+1".into(),
            email: None,
            contact_type: None,
            created_at: "2024-01-01T00:00:00Z".into(),
        };
        assert_eq!(keys(super::contact(&contact)), sorted(&CONTACT_FIELDS));
        let caller = Caller {
            organisation_id: 1,
            org: "org_1".into(),
            organisation: "Acme".into(),
            user_id: "u".into(),
            user_number: 1,
            user_name: "U".into(),
            email: None,
            timezone_offset: None,
        };
        assert_eq!(keys(user(&caller)), sorted(&USER_FIELDS));
        let mut activity = crate::store::Activity::new(crate::store::NewActivity {
            subject: "s".into(),
            body: String::new(),
            body_format: "text/plain".into(),
            activity_type: "Call".into(),
            received_at: None,
            contact_id: None,
            session_id: None,
            direction: None,
            duration: None,
            extra: Map::new(),
            conversation_log_id: None,
            message_ids: Vec::new(),
            note: None,
        });
        assert_eq!(
            keys(communication(&activity, Some(&contact), &caller)),
            sorted(&COMMUNICATION_FIELDS)
        );
        activity.extra.insert(TIME_ENTRY.into(), json!({}));
        assert_eq!(
            keys(time_entry(&activity, &caller).expect("an entry")),
            sorted(&TIME_ENTRY_FIELDS)
        );
    }

    #[test]
    fn offsets_are_hours_and_zones() {
        assert_eq!(offset_hours(Some("-07:00")), -7.0);
        assert_eq!(offset_hours(Some("+05:30")), 5.5);
        assert_eq!(offset_hours(None), 0.0);
        assert_eq!(offset_value(Some("-05:00")), json!(-5));
        assert_eq!(offset_value(Some("+05:30")), json!(5.5));
        assert_eq!(timezone_name(Some("-05:00")), "Etc/GMT+5");
        assert_eq!(timezone_name(Some("+05:30")), "Etc/UTC");
    }

    #[test]
    fn times_are_clios() {
        assert_eq!(
            time("2024-05-01T10:00:00.123Z"),
            "2024-05-01T10:00:00+00:00"
        );
        assert_eq!(
            read_time("2024-05-01T12:00:00+02:00").as_deref(),
            Some("2024-05-01T10:00:00.000Z")
        );
        assert_eq!(
            read_time("2024-05-01").as_deref(),
            Some("2024-05-01T00:00:00.000Z")
        );
        assert_eq!(read_time("yesterday"), None);
    }
}
