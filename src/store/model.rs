//! The records the store keeps, as the rest of the program sees them.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Who is calling: resolved from an API key, it scopes every other query.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub organisation_id: i64,
    pub organisation: String,
    pub user_id: String,
    pub user_name: String,
    pub email: Option<String>,
    pub timezone_offset: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: String,
    pub name: String,
    pub phone_number: String,
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub contact_type: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub name: String,
    pub phone_number: String,
    pub email: Option<String>,
    pub contact_type: Option<String>,
}

/// A stored activity. `extra` holds the fields a client sent that mockcrm has
/// no column for; they are returned beside the known ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub subject: String,
    pub body: String,
    pub body_format: String,
    pub activity_type: String,
    pub received_at: String,
    pub contact_id: Option<String>,
    pub session_id: Option<String>,
    pub direction: Option<String>,
    pub duration: Option<Value>,
    pub extra: Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
}

#[cfg(test)]
impl Activity {
    /// The activity as the HTTP API shows it: known fields win over extras.
    /// The plain statement of the rule that the hand-written `Serialize`
    /// below must match byte for byte; only the test compares them.
    pub fn to_json(&self) -> Value {
        let mut object = self.extra.clone();
        let known = [
            ("id", Value::from(self.id.clone())),
            ("subject", Value::from(self.subject.clone())),
            ("body", Value::from(self.body.clone())),
            ("body_format", Value::from(self.body_format.clone())),
            ("type", Value::from(self.activity_type.clone())),
            ("received_at", Value::from(self.received_at.clone())),
            ("contact_id", option_value(&self.contact_id)),
            ("session_id", option_value(&self.session_id)),
            ("direction", option_value(&self.direction)),
            ("duration", self.duration.clone().unwrap_or(Value::Null)),
            ("created_at", Value::from(self.created_at.clone())),
            ("updated_at", Value::from(self.updated_at.clone())),
        ];
        for (key, value) in known {
            object.insert(key.to_owned(), value);
        }
        Value::Object(object)
    }
}

/// Writes the same JSON as `to_json`, byte for byte, without first copying
/// every field into a `Value`: keys in serde_json's map order (sorted),
/// known fields winning over extras of the same name.
impl Serialize for Activity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Sorted by key (`known_fields_win_over_extras` checks the bytes).
        let known: [(&str, Field<'_>); 12] = [
            ("body", Field::Text(&self.body)),
            ("body_format", Field::Text(&self.body_format)),
            ("contact_id", Field::Maybe(self.contact_id.as_deref())),
            ("created_at", Field::Text(&self.created_at)),
            ("direction", Field::Maybe(self.direction.as_deref())),
            ("duration", Field::Json(self.duration.as_ref())),
            ("id", Field::Text(&self.id)),
            ("received_at", Field::Text(&self.received_at)),
            ("session_id", Field::Maybe(self.session_id.as_deref())),
            ("subject", Field::Text(&self.subject)),
            ("type", Field::Text(&self.activity_type)),
            ("updated_at", Field::Text(&self.updated_at)),
        ];
        let mut map = serializer.serialize_map(None)?;
        let mut known = known.iter().peekable();
        let mut extras = self.extra.iter().peekable();
        loop {
            match (known.peek(), extras.peek()) {
                (Some((name, field)), Some((key, value))) => match (*name).cmp(key.as_str()) {
                    std::cmp::Ordering::Less => {
                        map.serialize_entry(name, field)?;
                        known.next();
                    }
                    std::cmp::Ordering::Equal => {
                        map.serialize_entry(name, field)?;
                        known.next();
                        extras.next();
                    }
                    std::cmp::Ordering::Greater => {
                        map.serialize_entry(key, value)?;
                        extras.next();
                    }
                },
                (Some((name, field)), None) => {
                    map.serialize_entry(name, field)?;
                    known.next();
                }
                (None, Some((key, value))) => {
                    map.serialize_entry(key, value)?;
                    extras.next();
                }
                (None, None) => break,
            }
        }
        map.end()
    }
}

/// A known field's value, borrowed.
enum Field<'a> {
    Text(&'a str),
    Maybe(Option<&'a str>),
    Json(Option<&'a Value>),
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Text(text) | Field::Maybe(Some(text)) => serializer.serialize_str(text),
            Field::Json(Some(value)) => value.serialize(serializer),
            Field::Maybe(None) | Field::Json(None) => serializer.serialize_unit(),
        }
    }
}

#[cfg(test)]
fn option_value(value: &Option<String>) -> Value {
    value.clone().map(Value::from).unwrap_or(Value::Null)
}

/// A validated activity to insert. `received_at` absent means "now".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewActivity {
    pub subject: String,
    pub body: String,
    pub body_format: String,
    pub activity_type: String,
    pub received_at: Option<String>,
    pub contact_id: Option<String>,
    pub session_id: Option<String>,
    pub direction: Option<String>,
    pub duration: Option<Value>,
    pub extra: Map<String, Value>,
}

/// A validated partial update: `None` leaves a field as it is; for nullable
/// fields `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActivityPatch {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub body_format: Option<String>,
    pub activity_type: Option<String>,
    pub received_at: Option<String>,
    pub contact_id: Option<Option<String>>,
    pub session_id: Option<Option<String>>,
    pub direction: Option<Option<String>>,
    pub duration: Option<Option<Value>>,
    /// Extra fields to set; a `null` value removes the field.
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActivityFilter {
    pub contact_id: Option<String>,
    pub session_id: Option<String>,
    /// Only activities older than this position (from a cursor).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// One page of a newest-first listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityPage {
    pub items: Vec<Activity>,
    /// Position to continue from, when there is more.
    pub next_seq: Option<i64>,
}

/// The answer a repeated idempotent create gets: the first answer's status
/// and body, the same bytes as the first time.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What happened to an idempotent create.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotentOutcome {
    /// The activity was inserted and the key now answers with it.
    Created,
    Replayed(StoredResponse),
    /// The key was used before with a different body.
    Mismatch,
}

/// A broken promise of the connector contract, found by `Store::violations`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// One call session became more than one activity.
    DuplicateSession {
        organisation: String,
        session_id: String,
        activity_ids: Vec<String>,
    },
    /// An activity was written with nothing in its body.
    EmptyBody {
        organisation: String,
        activity_id: String,
        session_id: Option<String>,
    },
}

/// The `--seed` file (SPEC §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub organisations: Vec<SeedOrganisation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedOrganisation {
    pub name: String,
    #[serde(default)]
    pub users: Vec<SeedUser>,
    #[serde(default)]
    pub contacts: Vec<SeedContact>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub api_key: String,
    #[serde(default)]
    pub timezone_offset: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedContact {
    /// Optional; seeded contacts are numbered `contact-1`, `contact-2`, …
    /// across the whole seed when absent, so fixtures can name them.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub phone_number: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, rename = "type")]
    pub contact_type: Option<String>,
}

impl Seed {
    pub fn empty() -> Seed {
        Seed {
            organisations: Vec::new(),
        }
    }

    /// The organisation a fresh database starts with (SPEC §3), with the
    /// contacts the files in `fixtures/create-call-log/` log calls against.
    /// `fixtures/seed.json` is the same seed as a file.
    pub fn default_seed() -> Seed {
        Seed {
            organisations: vec![SeedOrganisation {
                name: "Acme".into(),
                users: vec![SeedUser {
                    id: "crm-user-1".into(),
                    name: "Test User".into(),
                    email: Some("test@acme.example".into()),
                    api_key: "mockcrm-dev-key".into(),
                    timezone_offset: Some("-05:00".into()),
                }],
                contacts: vec![
                    seed_contact("Jane Contact", "+14155550199", Some("jane@example.com")),
                    seed_contact("Priya Raman", "+14155550142", Some("priya@example.com")),
                    seed_contact("李小龙", "+8613800138000", None),
                    seed_contact(
                        "O'Brien & Sons",
                        "+14155550177",
                        Some("office@obrien.example"),
                    ),
                ],
            }],
        }
    }
}

fn seed_contact(name: &str, phone_number: &str, email: Option<&str>) -> SeedContact {
    SeedContact {
        id: None,
        name: name.into(),
        phone_number: phone_number.into(),
        email: email.map(Into::into),
        contact_type: Some("Contact".into()),
    }
}

/// The digits a phone number is matched on: formatting is dropped and a
/// 10-digit (North American) number gets its implied country code.
pub fn phone_digits(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() == 10 {
        format!("1{digits}")
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatted_and_bare_numbers_match() {
        let expected = "14155550199";
        for raw in [
            "+1 (415) 555-0199",
            "415-555-0199",
            "+14155550199",
            "1.415.555.0199",
        ] {
            assert_eq!(phone_digits(raw), expected, "{raw}");
        }
        assert_eq!(phone_digits("+44 20 7946 0958"), "442079460958");
    }

    #[test]
    fn known_fields_win_over_extras() {
        let mut extra = Map::new();
        extra.insert("id".into(), Value::from("spoofed"));
        extra.insert("deal_id".into(), Value::from("deal-7"));
        extra.insert("a_first".into(), Value::from(1));
        extra.insert("zz_last".into(), serde_json::json!({"nested": [1, "two"]}));
        extra.insert("type".into(), Value::from("spoofed too"));
        let activity = Activity {
            id: "act_1".into(),
            subject: "s".into(),
            body: "b".into(),
            body_format: "text/plain".into(),
            activity_type: "PhoneCommunication".into(),
            received_at: "2024-01-01T00:00:00Z".into(),
            contact_id: None,
            session_id: Some("9".into()),
            direction: None,
            duration: Some(Value::from(5)),
            extra,
            created_at: "c".into(),
            updated_at: "u".into(),
        };
        let json = activity.to_json();
        assert_eq!(
            serde_json::to_string(&activity).expect("serialises"),
            json.to_string(),
            "Serialize and to_json must give the same bytes"
        );
        assert_eq!(json["id"], "act_1");
        assert_eq!(json["deal_id"], "deal-7");
        assert_eq!(json["duration"], 5);
        assert_eq!(json["contact_id"], Value::Null);
    }
}
