//! Pipedrive's records on the wire: the `{success, data}` envelope, persons
//! (API v1 and v2 shapes), search items, activities with their
//! `related_objects`, users, activity types, and Pipedrive's time and
//! duration formats. Only shapes and conversions: no store, no HTTP.

use serde_json::{json, Map, Value};

use crate::store::{Activity, Caller, Contact};

/// The activity types of every company: Pipedrive's defaults, plus the
/// "SMS" type App Connect's connector looks for to log messages (a real
/// company adds it by hand). `(key_string, name, icon_key)`.
pub const ACTIVITY_TYPES: [(&str, &str, &str); 7] = [
    ("call", "Call", "call"),
    ("meeting", "Meeting", "meeting"),
    ("task", "Task", "task"),
    ("deadline", "Deadline", "deadline"),
    ("email", "Email", "email"),
    ("lunch", "Lunch", "lunch"),
    ("sms", "SMS", "sms"),
];

/// The stored types of message logs (SPEC: SMS, Fax, Voicemail), which
/// Pipedrive knows as its "sms" type.
pub const MESSAGE_TYPES: [&str; 3] = ["SMS", "Fax", "Voicemail"];

/// Pipedrive's success envelope.
pub fn envelope(data: Value) -> Value {
    json!({"success": true, "data": data})
}

/// A time as API v2 writes it (`2024-05-01T10:00:00Z`).
pub fn time_v2(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |time| {
            time.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        },
    )
}

/// A time as API v1 writes it (`2024-05-01 10:00:00`, UTC).
pub fn time_v1(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |time| {
            time.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        },
    )
}

/// The company domain of an organisation (`acme` for "Acme Corp."): what
/// Pipedrive puts before `.pipedrive.com`.
pub fn company_domain(organisation: &str) -> String {
    let slug: String = organisation
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if slug.is_empty() {
        "company".to_owned()
    } else {
        slug
    }
}

/// An IANA zone name for a fixed offset (`-05:00` is `Etc/GMT+5`, whose
/// sign is POSIX's, the other way round); `UTC` for none or a part-hour one.
pub fn timezone_name(offset: Option<&str>) -> String {
    let Some(offset) = offset.map(str::trim).filter(|o| !o.is_empty()) else {
        return "UTC".to_owned();
    };
    let (sign, rest) = match offset.as_bytes().first() {
        Some(b'-') => (-1, &offset[1..]),
        Some(b'+') => (1, &offset[1..]),
        _ => (1, offset),
    };
    let mut parts = rest.split(':');
    let hours: i32 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(0);
    let minutes: i32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    if hours == 0 || minutes != 0 {
        return "UTC".to_owned();
    }
    // POSIX zones count west as positive.
    format!("Etc/GMT{:+}", -sign * hours)
}

/// `/v1/users/me` (and one user of `/v1/users`).
pub fn user(caller: &Caller) -> Value {
    let offset = caller
        .timezone_offset
        .clone()
        .unwrap_or_else(|| "+00:00".to_owned());
    json!({
        "id": caller.user_number,
        "name": caller.user_name,
        "email": caller.email,
        "lang": 1,
        "locale": "en_US",
        "timezone_name": timezone_name(caller.timezone_offset.as_deref()),
        "timezone_offset": offset,
        "default_currency": "USD",
        "icon_url": Value::Null,
        "active_flag": true,
        "is_deleted": false,
        "is_admin": 1,
        "role_id": 1,
        "is_you": true,
        "company_id": caller.organisation_id,
        "company_name": caller.organisation,
        "company_domain": company_domain(&caller.organisation),
        "company_country": "US",
        "language": {"language_code": "en", "country_code": "US"},
    })
}

/// `/v1/activityTypes`.
pub fn activity_types() -> Value {
    let types: Vec<Value> = ACTIVITY_TYPES
        .iter()
        .zip(1..)
        .map(|((key, name, icon), id)| {
            json!({
                "id": id,
                "order_nr": id,
                "name": name,
                "key_string": key,
                "icon_key": icon,
                "active_flag": true,
                "color": Value::Null,
                "is_custom_flag": *key == "sms",
                "add_time": "2024-01-01 00:00:00",
                "update_time": Value::Null,
            })
        })
        .collect();
    envelope(Value::Array(types))
}

fn phones(contact: &Contact) -> Value {
    if contact.phone_number.is_empty() {
        json!([])
    } else {
        json!([{"value": contact.phone_number, "primary": true, "label": "work"}])
    }
}

fn emails(contact: &Contact) -> Value {
    match &contact.email {
        Some(email) => json!([{"value": email, "primary": true, "label": "work"}]),
        None => json!([]),
    }
}

fn first_and_last(name: &str) -> (String, String) {
    match name.trim().rsplit_once(' ') {
        Some((first, last)) => (first.to_owned(), last.to_owned()),
        None => (name.trim().to_owned(), String::new()),
    }
}

/// A person as API v2 shows it (`GET /api/v2/persons/{id}`).
pub fn person_v2(contact: &Contact, owner: &Caller) -> Value {
    let (first, last) = first_and_last(&contact.name);
    json!({
        "id": contact.number,
        "name": contact.name,
        "first_name": first,
        "last_name": last,
        "owner_id": owner.user_number,
        "org_id": Value::Null,
        "add_time": time_v2(&contact.created_at),
        "update_time": time_v2(&contact.created_at),
        "phones": phones(contact),
        "emails": emails(contact),
        "is_deleted": false,
        "visible_to": 3,
        "label_ids": [],
        "picture_id": Value::Null,
    })
}

/// A person as API v1 shows it (`POST /v1/persons`).
pub fn person_v1(contact: &Contact, owner: &Caller) -> Value {
    let (first, last) = first_and_last(&contact.name);
    json!({
        "id": contact.number,
        "company_id": owner.organisation_id,
        "owner_id": {
            "id": owner.user_number,
            "name": owner.user_name,
            "email": owner.email,
            "value": owner.user_number,
        },
        "org_id": Value::Null,
        "name": contact.name,
        "first_name": first,
        "last_name": last,
        "phone": phones(contact),
        "email": emails(contact),
        "add_time": time_v1(&contact.created_at),
        "update_time": time_v1(&contact.created_at),
        "active_flag": true,
        "visible_to": "3",
        "open_deals_count": 0,
        "activities_count": 0,
    })
}

/// One hit of `GET /api/v2/persons/search`.
pub fn search_item(contact: &Contact, owner: &Caller) -> Value {
    let phones: Vec<&str> = [contact.phone_number.as_str()]
        .into_iter()
        .filter(|phone| !phone.is_empty())
        .collect();
    json!({
        "result_score": 1.0,
        "item": {
            "id": contact.number,
            "type": "person",
            "name": contact.name,
            "phones": phones,
            "emails": contact.email.iter().collect::<Vec<_>>(),
            "visible_to": 3,
            "owner": {"id": owner.user_number},
            "organization": Value::Null,
            "custom_fields": [],
            "notes": [],
            "add_time": time_v2(&contact.created_at),
            "update_time": time_v2(&contact.created_at),
        },
    })
}

/// Seconds as Pipedrive's `HH:MM` duration.
pub fn duration_text(duration: Option<&Value>) -> Value {
    let Some(seconds) = duration.and_then(Value::as_f64) else {
        return Value::Null;
    };
    let minutes = (seconds.max(0.0) / 60.0).round() as u64;
    Value::from(format!("{:02}:{:02}", minutes / 60, minutes % 60))
}

/// Pipedrive's `HH:MM` (or `HH:MM:SS`) duration as seconds.
pub fn duration_seconds(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let mut numbers = Vec::with_capacity(3);
    for part in &parts {
        if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        numbers.push(part.parse::<u64>().ok()?);
    }
    let (hours, minutes, seconds) = (numbers[0], numbers[1], *numbers.get(2).unwrap_or(&0));
    if minutes > 59 || seconds > 59 {
        return None;
    }
    Some(hours * 3600 + minutes * 60 + seconds)
}

/// The Pipedrive type key of a stored activity: message logs are its
/// "sms" type; any other type is kept as it was sent.
pub fn type_key(activity: &Activity) -> &str {
    if MESSAGE_TYPES.contains(&activity.activity_type.as_str()) {
        "sms"
    } else {
        &activity.activity_type
    }
}

/// Fields of an activity that have no column in the store, kept as the
/// client sent them, with the value shown when they were not.
const KEPT_FIELDS: [(&str, Value); 8] = [
    ("deal_id", Value::Null),
    ("lead_id", Value::Null),
    ("org_id", Value::Null),
    ("project_id", Value::Null),
    ("location", Value::Null),
    ("public_description", Value::Null),
    ("priority", Value::Null),
    ("busy", Value::Bool(false)),
];

/// An activity as API v2 shows it; `person` is its contact, when it has one.
pub fn activity(activity: &Activity, person: Option<&Contact>, owner: &Caller) -> Value {
    let mut data = Map::new();
    data.insert("id".into(), Value::from(activity.number));
    data.insert("subject".into(), Value::from(activity.subject.as_str()));
    data.insert("type".into(), Value::from(type_key(activity)));
    let owner_id = activity
        .extra
        .get("owner_id")
        .cloned()
        .filter(|value| !value.is_null())
        .unwrap_or_else(|| Value::from(owner.user_number));
    data.insert("owner_id".into(), owner_id);
    data.insert("is_deleted".into(), Value::Bool(false));
    data.insert("add_time".into(), time_v2(&activity.created_at).into());
    data.insert("update_time".into(), time_v2(&activity.updated_at).into());
    for (field, default) in &KEPT_FIELDS {
        let value = activity
            .extra
            .get(*field)
            .cloned()
            .unwrap_or(default.clone());
        data.insert((*field).to_owned(), value);
    }
    data.insert(
        "person_id".into(),
        person.map_or(Value::Null, |p| Value::from(p.number)),
    );
    let participants = person.map_or_else(Vec::new, |p| {
        vec![json!({"person_id": p.number, "primary": true})]
    });
    data.insert("participants".into(), Value::Array(participants));
    data.insert("attendees".into(), json!([]));
    let due = chrono::DateTime::parse_from_rfc3339(&activity.received_at)
        .ok()
        .map(|time| time.with_timezone(&chrono::Utc));
    data.insert(
        "due_date".into(),
        due.map_or(Value::Null, |t| t.format("%Y-%m-%d").to_string().into()),
    );
    data.insert(
        "due_time".into(),
        due.map_or(Value::Null, |t| t.format("%H:%M").to_string().into()),
    );
    data.insert("duration".into(), duration_text(activity.duration.as_ref()));
    let done = activity
        .extra
        .get("done")
        .is_some_and(|done| matches!(done, Value::Bool(true)) || done.as_i64() == Some(1));
    data.insert("done".into(), Value::Bool(done));
    data.insert(
        "marked_as_done_time".into(),
        if done {
            Value::from(time_v2(&activity.updated_at))
        } else {
            Value::Null
        },
    );
    data.insert("note".into(), Value::from(activity.body.as_str()));
    Value::Object(data)
}

/// `GET /api/v2/activities/{id}`'s answer: the activity, and the person it
/// is about under `related_objects` (which App Connect reads the contact's
/// name from).
pub fn activity_answer(stored: &Activity, person: Option<&Contact>, owner: &Caller) -> Value {
    let mut answer = envelope(activity(stored, person, owner));
    if let Some(person) = person {
        answer["related_objects"] = json!({
            "person": {
                person.number.to_string(): {
                    "id": person.number,
                    "name": person.name,
                    "email": emails(person),
                    "phone": phones(person),
                    "active_flag": true,
                }
            }
        });
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_go_both_ways() {
        assert_eq!(duration_seconds("00:02"), Some(120));
        assert_eq!(duration_seconds("01:30"), Some(5400));
        assert_eq!(duration_seconds("00:01:05"), Some(65));
        for bad in ["", "2", "00:60", "aa:bb", "1:2:3:4", "-1:00"] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
        assert_eq!(duration_text(Some(&json!(5400))), json!("01:30"));
        assert_eq!(duration_text(Some(&json!("pending"))), Value::Null);
        assert_eq!(duration_text(None), Value::Null);
    }

    #[test]
    fn zones_and_domains() {
        assert_eq!(timezone_name(Some("-05:00")), "Etc/GMT+5");
        assert_eq!(timezone_name(Some("+09:00")), "Etc/GMT-9");
        assert_eq!(timezone_name(Some("+05:30")), "UTC");
        assert_eq!(timezone_name(None), "UTC");
        assert_eq!(company_domain("Acme Corp."), "acmecorp");
        assert_eq!(company_domain("!!"), "company");
    }

    #[test]
    fn times_are_pipedrives() {
        assert_eq!(
            time_v2("2024-05-01T10:00:00.123456Z"),
            "2024-05-01T10:00:00Z"
        );
        assert_eq!(time_v1("2024-05-01T12:00:00+02:00"), "2024-05-01 10:00:00");
    }
}
