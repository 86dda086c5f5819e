//! mockcrm's own JSON of an activity: how the native API answers with one,
//! and how the admin API and the review page show one. A CRM face answers
//! in its own CRM's shape instead.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::store::Activity;

/// An activity as the API shows it: its extras and its known fields in one
/// object, keys sorted as serde_json's map sorts them (as every other answer
/// has them), a known field winning over an extra of the same name. `note`
/// is shown only when the activity has one (most never do, and an activity
/// stored before it was a field may hold an extra of that name), and
/// `conversation_log_id` and `message_ids` only on a message log (one that
/// has either), so a call log reads as it always did. Written
/// straight from the record, without first copying every field into a
/// `Value`: the tests compare it with that plainer construction.
pub struct ActivityJson<'a>(pub &'a Activity);

impl Serialize for ActivityJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let activity = self.0;
        // Sorted by key (`known_fields_win_over_extras` checks the bytes).
        let message_log =
            activity.conversation_log_id.is_some() || !activity.message_ids.is_empty();
        let known: [(&str, Field<'_>); 17] = [
            ("body", Field::Text(&activity.body)),
            ("body_format", Field::Text(&activity.body_format)),
            ("contact_id", Field::Maybe(activity.contact_id.as_deref())),
            (
                "conversation_log_id",
                Field::Maybe(activity.conversation_log_id.as_deref()),
            ),
            ("created_at", Field::Text(&activity.created_at)),
            ("direction", Field::Maybe(activity.direction.as_deref())),
            ("duration", Field::Json(activity.duration.as_ref())),
            ("id", Field::Text(&activity.id)),
            ("message_ids", Field::List(&activity.message_ids)),
            ("note", Field::Maybe(activity.note.as_deref())),
            ("number", Field::Number(activity.number)),
            ("received_at", Field::Text(&activity.received_at)),
            ("session_id", Field::Maybe(activity.session_id.as_deref())),
            ("subject", Field::Text(&activity.subject)),
            ("type", Field::Text(&activity.activity_type)),
            ("updated_at", Field::Text(&activity.updated_at)),
            ("via", Field::Maybe(activity.via.as_deref())),
        ];
        let mut map = serializer.serialize_map(None)?;
        let mut known = known
            .iter()
            // A note or face only where there is one: most activities have
            // no note, and those written before faces were kept no face.
            .filter(|(name, field)| match *name {
                "note" | "via" => !matches!(field, Field::Maybe(None)),
                "conversation_log_id" | "message_ids" => message_log,
                _ => true,
            })
            .peekable();
        let mut extras = activity.extra.iter().peekable();
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
    Number(i64),
    Text(&'a str),
    Maybe(Option<&'a str>),
    Json(Option<&'a Value>),
    List(&'a [String]),
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Number(number) => serializer.serialize_i64(*number),
            Field::Text(text) | Field::Maybe(Some(text)) => serializer.serialize_str(text),
            Field::Json(Some(value)) => value.serialize(serializer),
            Field::List(items) => items.serialize(serializer),
            Field::Maybe(None) | Field::Json(None) => serializer.serialize_unit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    #[test]
    fn known_fields_win_over_extras() {
        let mut extra = Map::new();
        extra.insert("id".into(), Value::from("spoofed"));
        extra.insert("deal_id".into(), Value::from("deal-7"));
        extra.insert("a_first".into(), Value::from(1));
        extra.insert("zz_last".into(), json!({"nested": [1, "two"]}));
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
            conversation_log_id: None,
            message_ids: Vec::new(),
            note: None,
            number: 0,
            via: None,
            created_at: "c".into(),
            updated_at: "u".into(),
        };
        // The rule stated plainly: extras first, then every known field over them.
        let mut expected = activity.extra.clone();
        for (key, value) in [
            ("id", json!("act_1")),
            ("subject", json!("s")),
            ("body", json!("b")),
            ("body_format", json!("text/plain")),
            ("type", json!("PhoneCommunication")),
            ("received_at", json!("2024-01-01T00:00:00Z")),
            ("contact_id", Value::Null),
            ("session_id", json!("9")),
            ("direction", Value::Null),
            ("duration", json!(5)),
            ("number", json!(0)),
            ("created_at", json!("c")),
            ("updated_at", json!("u")),
        ] {
            expected.insert(key.to_owned(), value);
        }
        assert_eq!(
            serde_json::to_string(&ActivityJson(&activity)).expect("serialises"),
            Value::Object(expected).to_string(),
            "the same bytes as the plain construction"
        );

        let mut log = activity.clone();
        log.extra = Map::new();
        log.message_ids = vec!["m1".into(), "m2".into()];
        let shown = serde_json::to_value(ActivityJson(&log)).expect("serialises");
        assert_eq!(shown.get("message_ids"), Some(&json!(["m1", "m2"])));
        assert_eq!(shown.get("conversation_log_id"), Some(&Value::Null));
        let plain = serde_json::to_value(ActivityJson(&Activity {
            extra: Map::new(),
            ..activity
        }))
        .expect("serialises");
        assert!(plain.get("message_ids").is_none() && plain.get("conversation_log_id").is_none());
    }
}
