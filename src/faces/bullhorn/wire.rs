//! Bullhorn's shapes on the wire: which entity a contact is, a person's
//! and a user's fields as Bullhorn names them (epoch-millisecond dates,
//! `firstName`/`lastName`), the `fields` parameter that picks them,
//! `restUrl`, and the answers to a write (`changedEntityId`).

use serde_json::{json, Map, Value};

use super::errors::BullhornError;
use crate::store::{Caller, Contact, UserRecord};

/// The entities whose records are contacts, and the contact type each is
/// stored with (`Contact` for a ClientContact, as the other faces write
/// it; a contact of any other type is a ClientContact too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Person {
    ClientContact,
    Candidate,
    Lead,
    ClientCorporation,
}

impl Person {
    pub fn from_entity(entity: &str) -> Option<Person> {
        match entity {
            "ClientContact" => Some(Person::ClientContact),
            "Candidate" => Some(Person::Candidate),
            "Lead" => Some(Person::Lead),
            "ClientCorporation" => Some(Person::ClientCorporation),
            _ => None,
        }
    }

    pub fn entity(self) -> &'static str {
        match self {
            Person::ClientContact => "ClientContact",
            Person::Candidate => "Candidate",
            Person::Lead => "Lead",
            Person::ClientCorporation => "ClientCorporation",
        }
    }

    /// The store's contact type for it.
    pub fn stored_type(self) -> &'static str {
        match self {
            Person::ClientContact => "Contact",
            other => other.entity(),
        }
    }

    /// Which entity a stored contact is.
    pub fn of(contact: &Contact) -> Person {
        match contact.contact_type.as_deref() {
            Some("Candidate") => Person::Candidate,
            Some("Lead") => Person::Lead,
            Some("ClientCorporation") => Person::ClientCorporation,
            _ => Person::ClientContact,
        }
    }

    /// The statuses its meta data offers, the first being what a record
    /// without one shows.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Person::ClientContact => &["Active", "Passive", "New Lead", "Archive"],
            Person::Candidate => &["Active", "New Lead", "Placed", "Archived"],
            Person::Lead => &["New Lead", "Contacted", "Qualified", "Converted"],
            Person::ClientCorporation => &["Active", "Prospect", "Archive"],
        }
    }

    /// The fields this face can show for it.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Person::ClientCorporation => &["id", "name", "phone", "status", "dateAdded"],
            _ => &[
                "id",
                "name",
                "firstName",
                "lastName",
                "email",
                "phone",
                "mobile",
                "phone2",
                "phone3",
                "workPhone",
                "status",
                "isDeleted",
                "dateAdded",
                "dateLastModified",
                "dateLastVisit",
                "dateLastComment",
            ],
        }
    }
}

/// `restUrl` for a corporation, below a login URL
/// (`…/rest-services/{corpToken}/`, absolute, with the trailing slash the
/// connector appends paths to).
pub fn rest_url(login_url: &str, corp_token: &str) -> String {
    format!("{}/{corp_token}/", login_url.trim_end_matches('/'))
}

/// An RFC 3339 time as epoch milliseconds (0 if it cannot be read, which
/// the store never writes).
pub fn epoch_millis(time: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(time).map_or(0, |time| time.timestamp_millis())
}

/// A user's UTC offset (`-05:00`) in minutes.
pub fn utc_offset_minutes(offset: Option<&str>) -> i64 {
    let Some(offset) = offset else { return 0 };
    let (sign, rest) = match offset.as_bytes().first() {
        Some(b'-') => (-1, &offset[1..]),
        Some(b'+') => (1, &offset[1..]),
        _ => (1, offset),
    };
    let mut parts = rest.split(':');
    let hours: i64 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(0);
    let minutes: i64 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    sign * (hours * 60 + minutes)
}

/// The first word of a name, and the last (empty for a one-word name).
pub fn name_parts(name: &str) -> (String, String) {
    let mut words = name.split_whitespace();
    let first = words.next().unwrap_or_default().to_owned();
    let last = words.last().unwrap_or_default().to_owned();
    (first, last)
}

/// One field of a contact as Bullhorn shows it; `None` for a field it has
/// no value for.
pub fn person_field(contact: &Contact, field: &str) -> Option<Value> {
    let person = Person::of(contact);
    let (first, last) = name_parts(&contact.name);
    let added = epoch_millis(&contact.created_at);
    Some(match field {
        "id" => Value::from(contact.number),
        "name" => Value::from(contact.name.as_str()),
        "firstName" if person != Person::ClientCorporation => Value::from(first),
        "lastName" if person != Person::ClientCorporation => Value::from(last),
        "email" => Value::from(contact.email.clone()?),
        "phone" => Value::from(contact.phone_number.as_str()),
        "status" => Value::from(person.statuses()[0]),
        "isDeleted" => Value::from(false),
        "dateAdded" | "dateLastModified" | "dateLastVisit" | "dateLastComment" => {
            Value::from(added)
        }
        _ => return None,
    })
}

/// A field's value as a search clause reads it.
pub fn person_text(contact: &Contact, field: &str) -> Option<String> {
    person_field(contact, field).map(|value| match value {
        Value::String(text) => text,
        other => other.to_string(),
    })
}

/// The fields of a Note this face shows.
pub const NOTE_FIELDS: [&str; 13] = [
    "id",
    "comments",
    "action",
    "dateAdded",
    "dateLastModified",
    "minutesSpent",
    "externalID",
    "personReference",
    "clientContacts",
    "candidates",
    "leads",
    "commentingPerson",
    "isDeleted",
];

/// Every field name some entity of this face has: what the `fields`
/// parameter may name (OpenAPI's pattern for it is built from the same
/// list).
pub fn all_fields() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    let lists: [&[&'static str]; 4] = [
        Person::ClientContact.fields(),
        Person::ClientCorporation.fields(),
        NOTE_FIELDS.as_slice(),
        USER_FIELDS.as_slice(),
    ];
    for name in lists.into_iter().flatten() {
        if !all.contains(name) {
            all.push(name);
        }
    }
    all
}

/// The `fields` parameter: comma-separated names, or `*` for all of
/// `known`; `id` always. A name another entity has is left out of the
/// answer; one no entity has, an empty name or an empty parameter is
/// Bullhorn's 400.
pub fn wanted_fields(
    asked: Option<&str>,
    known: &[&'static str],
    entity: &str,
) -> Result<Vec<&'static str>, BullhornError> {
    let Some(asked) = asked else {
        return Ok(vec!["id"]);
    };
    if asked == "*" {
        return Ok(known.to_vec());
    }
    let all = all_fields();
    let mut wanted = vec!["id"];
    for name in asked.split(',') {
        if let Some(field) = known.iter().find(|known| **known == name) {
            if !wanted.contains(field) {
                wanted.push(field);
            }
        } else if !all.contains(&name) {
            return Err(BullhornError::BadRequest(format!(
                "Invalid field '{name}' for entity {entity}: write comma-separated names (no \
                 spaces) or *; this face knows: {}",
                known.join(", ")
            )));
        }
    }
    Ok(wanted)
}

/// A contact with the wanted fields.
pub fn person(contact: &Contact, wanted: &[&str]) -> Value {
    let mut object = Map::new();
    for field in wanted {
        if let Some(value) = person_field(contact, field) {
            object.insert((*field).to_owned(), value);
        }
    }
    Value::Object(object)
}

/// The fields of a CorporateUser this face shows.
pub const USER_FIELDS: [&str; 10] = [
    "id",
    "name",
    "firstName",
    "lastName",
    "email",
    "username",
    "masterUserID",
    "timeZoneOffsetEST",
    "isDeleted",
    "enabled",
];

/// One field of a user as a CorporateUser.
pub fn user_field(user: &UserRecord, field: &str) -> Option<Value> {
    let (first, last) = name_parts(&user.name);
    Some(match field {
        // One number for both: App Connect keeps `masterUserID` as the
        // user's id and the CorporateUser `id` as the note's author.
        "id" | "masterUserID" => Value::from(user.number),
        "name" => Value::from(user.name.as_str()),
        "firstName" => Value::from(first),
        "lastName" => Value::from(last),
        "email" => Value::from(user.email.clone()?),
        "username" => Value::from(user.id.as_str()),
        // Bullhorn counts a user's zone in minutes from US Eastern
        // Standard Time (UTC-5).
        "timeZoneOffsetEST" => {
            Value::from(utc_offset_minutes(user.timezone_offset.as_deref()) + 5 * 60)
        }
        "isDeleted" => Value::from(false),
        "enabled" => Value::from(true),
        _ => return None,
    })
}

/// A user with the wanted fields.
pub fn user(user: &UserRecord, wanted: &[&str]) -> Value {
    let mut object = Map::new();
    for field in wanted {
        if let Some(value) = user_field(user, field) {
            object.insert((*field).to_owned(), value);
        }
    }
    Value::Object(object)
}

/// The caller as a user record (the author of their notes).
pub fn caller_as_user(caller: &Caller) -> UserRecord {
    UserRecord {
        id: caller.user_id.clone(),
        number: caller.user_number,
        name: caller.user_name.clone(),
        email: caller.email.clone(),
        timezone_offset: caller.timezone_offset.clone(),
    }
}

/// The answer to a write: Bullhorn's `changedEntityId` and what changed.
pub fn changed(entity: &str, id: i64, change: &str, data: Value) -> Value {
    json!({
        "changedEntityType": entity,
        "changedEntityId": id,
        "changeType": change,
        "data": data,
    })
}

/// The `start` and `count` of a list (`count` at most 500, 20 by
/// default, as Bullhorn's search).
pub fn window(
    start: Option<String>,
    count: Option<String>,
) -> Result<(usize, usize), BullhornError> {
    let read = |name: &str, value: Option<String>, default: usize| match value {
        None => Ok(default),
        Some(text) => text.trim().parse::<usize>().map_err(|_| {
            BullhornError::BadRequest(format!("{name} must be a whole number, not {text:?}"))
        }),
    };
    let start = read("start", start, 0)?;
    let count = read("count", count, 20)?.min(500);
    Ok((start, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_minutes() {
        assert_eq!(utc_offset_minutes(Some("-05:00")), -300);
        assert_eq!(utc_offset_minutes(Some("+05:30")), 330);
        assert_eq!(utc_offset_minutes(None), 0);
    }

    #[test]
    fn fields_pick_what_is_asked_and_refuse_what_is_unknown() {
        let known = Person::ClientContact.fields();
        assert_eq!(
            wanted_fields(Some("name,phone"), known, "ClientContact").expect("known"),
            ["id", "name", "phone"]
        );
        assert_eq!(
            wanted_fields(None, known, "ClientContact").expect("known"),
            ["id"]
        );
        assert!(wanted_fields(Some("nope"), known, "ClientContact").is_err());
        assert!(wanted_fields(Some(""), known, "ClientContact").is_err());
        assert!(wanted_fields(Some("id,,name"), known, "ClientContact").is_err());
        assert!(wanted_fields(Some(" name"), known, "ClientContact").is_err());
        assert_eq!(
            wanted_fields(Some("name,comments"), known, "ClientContact").expect("Note's"),
            ["id", "name"],
            "a name another entity has is left out"
        );
        assert_eq!(
            wanted_fields(Some("*"), known, "ClientContact")
                .expect("all")
                .len(),
            known.len()
        );
    }

    #[test]
    fn rest_url_ends_with_a_slash() {
        assert_eq!(
            rest_url("http://h/bullhorn/rest-services/", "org_1"),
            "http://h/bullhorn/rest-services/org_1/"
        );
    }
}
