//! Insightly's wire format, both ways: the store's records written as
//! Insightly's objects (upper-case keys, integer ids that are the records'
//! numbers, `yyyy-MM-dd HH:mm:ss` UTC dates, `LINKS` always present on a
//! full record) and the values Insightly requests carry read back (dates
//! in either Insightly's form or ISO 8601, ids as numbers or as digit
//! strings, which is how App Connect's core hands them back). Pure
//! functions: no store, no HTTP.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};

use crate::store::{Activity, Caller, Contact, UserRecord};

/// Insightly's date format, always UTC.
const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// The two kinds of person Insightly has. The store keeps one kind of
/// contact: a contact whose type is `Lead` is an Insightly lead, every
/// other one an Insightly contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Contact,
    Lead,
}

impl Kind {
    /// The object's name as Insightly writes it in links (`Contact`).
    pub fn object_name(self) -> &'static str {
        match self {
            Kind::Contact => "Contact",
            Kind::Lead => "Lead",
        }
    }

    /// Its id field (`CONTACT_ID`).
    pub fn id_field(self) -> &'static str {
        match self {
            Kind::Contact => "CONTACT_ID",
            Kind::Lead => "LEAD_ID",
        }
    }

    /// Its mobile number field: Insightly names it differently per kind.
    pub fn mobile_field(self) -> &'static str {
        match self {
            Kind::Contact => "PHONE_MOBILE",
            Kind::Lead => "MOBILE",
        }
    }

    /// Its email field: likewise.
    pub fn email_field(self) -> &'static str {
        match self {
            Kind::Contact => "EMAIL_ADDRESS",
            Kind::Lead => "EMAIL",
        }
    }

    /// The `type` the store keeps for a person of this kind.
    pub fn stored_type(self) -> &'static str {
        self.object_name()
    }

    /// The kind a stored contact is seen as.
    pub fn of(contact: &Contact) -> Kind {
        match contact.contact_type.as_deref() {
            Some(kind) if kind.eq_ignore_ascii_case("lead") => Kind::Lead,
            _ => Kind::Contact,
        }
    }

    /// The kind a link's `LINK_OBJECT_NAME` names, in any case (App
    /// Connect's connector posts `contact` and `lead`).
    pub fn from_link_name(name: &str) -> Option<Kind> {
        if name.eq_ignore_ascii_case("contact") {
            Some(Kind::Contact)
        } else if name.eq_ignore_ascii_case("lead") {
            Some(Kind::Lead)
        } else {
            None
        }
    }
}

/// A stored time (RFC 3339) as Insightly writes dates; text that is not a
/// time (none the store keeps) is shown as it is.
pub fn insightly_date(stored: &str) -> String {
    parse_date(stored).map_or_else(|_| stored.to_owned(), format_date)
}

pub fn format_date(time: DateTime<Utc>) -> String {
    time.format(DATE_FORMAT).to_string()
}

/// A date as a request carries it: Insightly's `yyyy-MM-dd HH:mm:ss`
/// (UTC), ISO 8601 with a zone (what App Connect's connector sends, a
/// moment serialised as `…Z`), or ISO 8601 without one (UTC).
pub fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    for format in [
        DATE_FORMAT,
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(time.and_utc());
        }
    }
    Err(format!(
        "{text:?} is not a date; send yyyy-MM-dd HH:mm:ss (UTC) or ISO 8601 such as \
         2024-01-15T15:30:00Z"
    ))
}

/// The store's form of a time read from a request.
pub fn stored_date(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An id as a request carries it: a whole number, or its digits as text
/// (App Connect's core keeps CRM ids as strings and sends them back so).
pub fn read_id(value: &Value) -> Option<i64> {
    match value {
        // `305.0` is a whole number too, as JSON Schema's `integer` says.
        Value::Number(number) => number.as_i64().or_else(|| {
            number
                .as_f64()
                .filter(|float| float.fract() == 0.0 && float.abs() <= MAX_ID as f64)
                .map(|float| float as i64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
    .filter(|id| (1..=MAX_ID).contains(id))
}

/// The largest id a request may carry: JavaScript's largest safe integer,
/// which every client reads exactly (no record's number comes near it).
pub const MAX_ID: i64 = 9_007_199_254_740_991;

/// A text field of a request's object: absent, `null` or blank is
/// `None`; anything but text is refused, naming the field.
pub fn optional_text(object: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(format!(
            "{name} must be text, got {}",
            crate::web::json_kind(other)
        )),
    }
}

/// An id in a path: a whole number, else nothing (Insightly's routes take
/// integers only, so anything else is no route).
pub fn path_id(segment: &str) -> Option<i64> {
    segment.parse().ok().filter(|id| *id > 0)
}

/// A name as Insightly's first and last names: the first word, and the
/// rest (`None` for a one-word name).
pub fn split_name(name: &str) -> (String, Option<String>) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((first, rest)) => (first.to_owned(), Some(rest.trim().to_owned())),
        None => (name.to_owned(), None),
    }
}

/// First and last name as the one name the store keeps.
pub fn join_name(first: Option<&str>, last: Option<&str>) -> String {
    [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A stored contact as an Insightly contact or lead. `brief` leaves out
/// the child collections (`LINKS`, `CUSTOMFIELDS`, `TAGS`, `DATES`), as
/// Insightly's `brief=true` does; App Connect's connector asks for them
/// and reads `LINKS` unconditionally.
pub fn person_json(contact: &Contact, owner: i64, brief: bool) -> Value {
    let kind = Kind::of(contact);
    let (first, last) = split_name(&contact.name);
    let created = insightly_date(&contact.created_at);
    let phone = (!contact.phone_number.is_empty()).then_some(contact.phone_number.as_str());
    let mut object = Map::new();
    object.insert(kind.id_field().into(), json!(contact.number));
    object.insert("SALUTATION".into(), Value::Null);
    object.insert("FIRST_NAME".into(), json!(first));
    object.insert("LAST_NAME".into(), json!(last));
    object.insert("TITLE".into(), Value::Null);
    object.insert(kind.email_field().into(), json!(contact.email));
    object.insert("PHONE".into(), json!(phone));
    object.insert(kind.mobile_field().into(), Value::Null);
    object.insert("OWNER_USER_ID".into(), json!(owner));
    object.insert("DATE_CREATED_UTC".into(), json!(created));
    object.insert("DATE_UPDATED_UTC".into(), json!(created));
    match kind {
        Kind::Contact => {
            object.insert("ORGANISATION_ID".into(), Value::Null);
            object.insert("LAST_ACTIVITY_DATE_UTC".into(), Value::Null);
        }
        Kind::Lead => {
            object.insert("ORGANISATION_NAME".into(), Value::Null);
            object.insert("LEAD_STATUS_ID".into(), Value::Null);
            object.insert("CONVERTED".into(), json!(false));
        }
    }
    if !brief {
        for collection in ["CUSTOMFIELDS", "TAGS", "DATES", "LINKS"] {
            object.insert(collection.into(), json!([]));
        }
    }
    Value::Object(object)
}

/// The one link mockcrm keeps for an event: to its contact or lead. Its
/// `LINK_ID` is the event's number (an event holds one such link).
pub fn link_json(event_number: i64, contact: &Contact) -> Value {
    json!({
        "LINK_ID": event_number,
        "OBJECT_NAME": "Event",
        "OBJECT_ID": event_number,
        "LINK_OBJECT_NAME": Kind::of(contact).object_name(),
        "LINK_OBJECT_ID": contact.number,
        "ROLE": null,
        "DETAILS": null,
        "RELATIONSHIP_ID": null,
        "IS_FORWARD": null,
    })
}

/// The Insightly event fields mockcrm keeps as the activity's extra fields,
/// under these names, and shows back (the rest of the event is mapped onto
/// the activity's own fields).
pub const EXTRA_EVENT_FIELDS: [&str; 6] = [
    "LOCATION",
    "ALL_DAY",
    "OWNER_USER_ID",
    "PUBLICLY_VISIBLE",
    "REMINDER_DATE_UTC",
    "REMINDER_SENT",
];

/// A stored activity as an Insightly event: its title and details, its
/// start, its end (the start plus its duration, when that is seconds), its
/// link to its contact (`contact`, when it has one), owned by `owner`
/// unless it was given another.
pub fn event_json(activity: &Activity, contact: Option<&Contact>, owner: i64) -> Value {
    let start = parse_date(&activity.received_at).ok();
    let end = start.map(|start| start + chrono::Duration::seconds(duration_seconds(activity)));
    let shown = |time: Option<DateTime<Utc>>| {
        time.map_or_else(|| activity.received_at.clone(), format_date)
    };
    // A kept field that is null (or was never sent) shows Insightly's default.
    let extra = |name: &str, default: Value| match activity.extra.get(name) {
        None | Some(Value::Null) => default,
        Some(value) => value.clone(),
    };
    json!({
        "EVENT_ID": activity.number,
        "TITLE": activity.subject,
        "LOCATION": extra("LOCATION", Value::Null),
        "START_DATE_UTC": shown(start),
        "END_DATE_UTC": shown(end),
        "ALL_DAY": extra("ALL_DAY", json!(false)),
        "DETAILS": activity.body,
        "DATE_CREATED_UTC": insightly_date(&activity.created_at),
        "DATE_UPDATED_UTC": insightly_date(&activity.updated_at),
        "REMINDER_DATE_UTC": extra("REMINDER_DATE_UTC", Value::Null),
        "REMINDER_SENT": extra("REMINDER_SENT", json!(false)),
        "OWNER_USER_ID": extra("OWNER_USER_ID", json!(owner)),
        "PUBLICLY_VISIBLE": extra("PUBLICLY_VISIBLE", json!(true)),
        "CUSTOMFIELDS": [],
        "LINKS": contact.map(|contact| vec![link_json(activity.number, contact)]).unwrap_or_default(),
    })
}

/// The whole seconds an activity lasted, when it says (an activity written
/// elsewhere may hold a word such as `pending`): 0 otherwise.
pub fn duration_seconds(activity: &Activity) -> i64 {
    activity
        .duration
        .as_ref()
        .and_then(Value::as_i64)
        .filter(|seconds| *seconds >= 0)
        .unwrap_or(0)
}

/// A user as Insightly's `/Users` answer one. mockcrm's users have no
/// roles: every one is shown as an administrator (the connector reads none
/// of it).
pub fn user_json(user: &UserRecord) -> Value {
    let (first, last) = split_name(&user.name);
    json!({
        "USER_ID": user.number,
        "CONTACT_ID": null,
        "FIRST_NAME": first,
        "LAST_NAME": last,
        "TIMEZONE_ID": timezone_id(user.timezone_offset.as_deref()),
        "EMAIL_ADDRESS": user.email,
        "EMAIL_DROPBOX_IDENTIFIER": null,
        "ADMINISTRATOR": true,
        "ACCOUNT_OWNER": false,
        "ACTIVE": true,
        "USER_CURRENCY": "USD",
    })
}

/// The caller as `/Users/Me` answers them.
pub fn me_json(caller: &Caller) -> Value {
    user_json(&UserRecord {
        id: caller.user_id.clone(),
        number: caller.user_number,
        name: caller.user_name.clone(),
        email: caller.email.clone(),
        timezone_offset: caller.timezone_offset.clone(),
    })
}

/// A user's offset (`-05:00`) as a time zone App Connect's connector can
/// read: Insightly answers Windows zone names, which the connector maps to
/// IANA names and otherwise hands to moment-timezone as they are. A whole
/// hour is IANA's `Etc/GMT±h` (whose sign is the reverse of the offset's);
/// any other offset, or none, is `UTC`, as the connector falls back to.
pub fn timezone_id(offset: Option<&str>) -> String {
    let Some(offset) = offset.map(str::trim) else {
        return "UTC".into();
    };
    let (sign, rest) = match offset.as_bytes().first() {
        Some(b'+') => (1, &offset[1..]),
        Some(b'-') => (-1, &offset[1..]),
        _ => (1, offset),
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    match (hours.parse::<i32>(), minutes.parse::<i32>()) {
        (Ok(0), Ok(0)) => "UTC".into(),
        (Ok(hours), Ok(0)) if hours <= 14 => {
            // `Etc/GMT+5` is five hours behind UTC.
            let reversed = if sign > 0 { '-' } else { '+' };
            format!("Etc/GMT{reversed}{hours}")
        }
        _ => "UTC".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(name: &str, kind: Option<&str>) -> Contact {
        Contact {
            id: "con_1".into(),
            number: 12,
            name: name.into(),
            phone_number: "+14155550199".into(),
            email: None,
            contact_type: kind.map(Into::into),
            created_at: "2024-01-15T15:30:00.123456Z".into(),
        }
    }

    #[test]
    fn dates_read_in_every_form_a_connector_sends_and_are_written_as_insightly_does() {
        for text in [
            "2024-01-15T15:30:00.000Z",
            "2024-01-15T10:30:00-05:00",
            "2024-01-15 15:30:00",
            "2024-01-15T15:30:00",
            "2024-01-15 15:30:00.000",
        ] {
            let time = parse_date(text).expect(text);
            assert_eq!(format_date(time), "2024-01-15 15:30:00", "{text}");
        }
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("2024-13-01 00:00:00").is_err());
        assert_eq!(insightly_date("not a date"), "not a date");
    }

    #[test]
    fn ids_are_numbers_or_their_digits() {
        assert_eq!(read_id(&json!(290000001)), Some(290000001));
        assert_eq!(read_id(&json!("290000001")), Some(290000001));
        assert_eq!(read_id(&json!("29x")), None);
        assert_eq!(read_id(&json!(1.5)), None);
        assert_eq!(read_id(&json!(305.0)), Some(305));
        assert_eq!(read_id(&json!(0)), None, "ids start at 1");
        assert_eq!(
            read_id(&json!(9_007_199_254_740_990.0_f64)),
            Some(9_007_199_254_740_990)
        );
        assert_eq!(read_id(&json!(9_007_199_254_740_992_i64)), None);
        assert_eq!(path_id("0"), None);
        assert_eq!(path_id("-3"), None);
        assert_eq!(path_id("act_1"), None);
        assert_eq!(path_id("42"), Some(42));
    }

    #[test]
    fn names_split_on_the_first_word() {
        assert_eq!(split_name("Jane"), ("Jane".into(), None));
        assert_eq!(
            split_name(" Mary Ann  Smith "),
            ("Mary".into(), Some("Ann  Smith".into()))
        );
        assert_eq!(join_name(Some("Jane"), Some(" Doe ")), "Jane Doe");
        assert_eq!(join_name(None, Some("Doe")), "Doe");
    }

    #[test]
    fn a_lead_is_a_contact_of_type_lead_and_has_leads_field_names() {
        let lead = person_json(&contact("Li Lei", Some("lead")), 3, false);
        assert_eq!(lead["LEAD_ID"], 12);
        assert!(lead.get("CONTACT_ID").is_none());
        assert!(lead.get("MOBILE").is_some());
        assert_eq!(lead["LINKS"], json!([]));
        let person = person_json(&contact("Jane", Some("Contact")), 3, true);
        assert_eq!(person["CONTACT_ID"], 12);
        assert_eq!(person["LAST_NAME"], Value::Null);
        assert_eq!(person["DATE_CREATED_UTC"], "2024-01-15 15:30:00");
        assert!(
            person.get("LINKS").is_none(),
            "brief leaves collections out"
        );
    }

    #[test]
    fn offsets_become_zones_the_connector_can_read() {
        assert_eq!(timezone_id(Some("-05:00")), "Etc/GMT+5");
        assert_eq!(timezone_id(Some("+09:00")), "Etc/GMT-9");
        assert_eq!(timezone_id(Some("+00:00")), "UTC");
        assert_eq!(timezone_id(Some("+05:30")), "UTC");
        assert_eq!(timezone_id(None), "UTC");
        assert_eq!(timezone_id(Some("bogus")), "UTC");
    }
}
