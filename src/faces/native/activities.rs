//! `/activity` routes: the activities connectors write, call logs and
//! message logs (an activity with a `conversation_log_id` and the
//! `message_ids` it holds).

use serde::Serialize;
use serde_json::{Map, Value};
use warp::http::StatusCode;

use crate::store::{
    Activity, ActivityFilter, ActivityPatch, Caller, IdempotentOutcome, NewActivity, Origin,
};
use crate::web::ApiResponse;
use crate::web::AppState;
use crate::web::{
    encode_cursor, idempotency_key, page_params, request_hash, ActivityJson, ApiError,
};
use crate::web::{json_kind, ApiRequest, Fields};

/// How activities written through the native API name their face.
const FACE: &str = "native";

/// Fields with a column of their own; everything else is kept as an extra.
const KNOWN_FIELDS: [&str; 12] = [
    "subject",
    "note",
    "body",
    "body_format",
    "type",
    "received_at",
    "contact_id",
    "session_id",
    "direction",
    "duration",
    "conversation_log_id",
    "message_ids",
];
const SERVER_FIELDS: [&str; 3] = ["id", "created_at", "updated_at"];
const BODY_FORMATS: [&str; 3] = ["text/plain", "text/html", "text/markdown"];
/// Room beyond an activity's body for its other fields once encoded, so the
/// buffer is allocated once rather than doubled up to size.
const ENCODING_SLACK: usize = 1024;

pub async fn create(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let idempotency_key = idempotency_key(request)?;
    let object = request.json_object()?;
    if state.strict {
        refuse_unknown_fields(&object)?;
    }
    let new = new_activity(&object)?;
    let org = caller.organisation_id;
    let origin = Origin::through(FACE, request.journal_id);
    let Some(key) = idempotency_key else {
        let activity = state
            .store
            .run(move |store| store.create_activity(org, &new, origin))
            .await?;
        return encode(StatusCode::CREATED, &activity);
    };
    // serde_json's map is ordered by key, so this is canonical: the same
    // JSON with other spacing or key order is the same request.
    let request_hash = request_hash(&Value::Object(object))?;
    // The answer is encoded back on this worker, not on the single store
    // thread, once the store has given the activity its number.
    let mut activity = Activity::new(new);
    let outcome_key = key.clone();
    let (activity, outcome) = state
        .store
        .run(move |store| {
            let outcome = store.create_activity_idempotent(
                org,
                &outcome_key,
                &request_hash,
                &mut activity,
                origin,
            )?;
            Ok((activity, outcome))
        })
        .await?;
    match outcome {
        IdempotentOutcome::Created => encode(StatusCode::CREATED, &activity),
        // The first answer again: the activity as it was created.
        IdempotentOutcome::Replayed(first) => {
            Ok(encode(StatusCode::CREATED, &first)?.with_header("idempotent-replayed", "true"))
        }
        IdempotentOutcome::Mismatch => Err(ApiError::IdempotencyMismatch(key)),
    }
}

pub async fn get(state: &AppState, caller: &Caller, id: String) -> Result<ApiResponse, ApiError> {
    let org = caller.organisation_id;
    let lookup = id.clone();
    match state
        .store
        .read(move |store| store.activity(org, &lookup))
        .await?
    {
        Some(activity) => encode(StatusCode::OK, &activity),
        None => Err(not_found(&id)),
    }
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: String,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let object = request.json_object()?;
    if state.strict {
        refuse_unknown_fields(&object)?;
    }
    let patch = activity_patch(&object)?;
    let org = caller.organisation_id;
    let origin = Origin::through(FACE, request.journal_id);
    let lookup = id.clone();
    match state
        .store
        .run(move |store| store.update_activity(org, &lookup, &patch, origin))
        .await?
    {
        Some(activity) => encode(StatusCode::OK, &activity),
        None => Err(not_found(&id)),
    }
}

pub async fn delete(
    state: &AppState,
    caller: &Caller,
    id: String,
) -> Result<ApiResponse, ApiError> {
    let org = caller.organisation_id;
    let lookup = id.clone();
    let deleted = state
        .store
        .run(move |store| store.delete_activity(org, &lookup))
        .await?;
    if deleted {
        Ok(ApiResponse::no_content())
    } else {
        Err(not_found(&id))
    }
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    request: &ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let (limit, before_seq) = page_params(request)?;
    let filter = ActivityFilter {
        contact_id: request.query_param("contact_id"),
        session_id: request.query_param("session_id"),
        conversation_log_id: request.query_param("conversation_log_id"),
        before_seq,
        limit,
    };
    let org = caller.organisation_id;
    let page = state
        .store
        .read(move |store| store.list_activities(org, &filter))
        .await?;
    let capacity = page
        .items
        .iter()
        .map(|activity| activity.body.len() + ENCODING_SLACK)
        .sum();
    let items: Vec<ActivityJson<'_>> = page.items.iter().map(ActivityJson).collect();
    ApiResponse::encode_sized(
        StatusCode::OK,
        &ListPage {
            items: &items,
            next_cursor: page.next_seq.map(encode_cursor),
        },
        capacity,
    )
    .map_err(ApiError::encoding)
}

/// `GET /activity`'s answer; fields in the order serde_json's map sorts
/// them, as every other answer has them.
#[derive(Serialize)]
struct ListPage<'a> {
    items: &'a [ActivityJson<'a>],
    next_cursor: Option<String>,
}

/// One activity as an answer, its buffer sized for its body.
fn encode(status: StatusCode, activity: &Activity) -> Result<ApiResponse, ApiError> {
    ApiResponse::encode_sized(
        status,
        &ActivityJson(activity),
        activity.body.len() + ENCODING_SLACK,
    )
    .map_err(ApiError::encoding)
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no activity with id {id:?}"))
}

fn new_activity(object: &Map<String, Value>) -> Result<NewActivity, ApiError> {
    refuse_server_fields(object)?;
    let fields = Fields::new(object);
    Ok(NewActivity {
        subject: fields.required_text("subject")?,
        body: fields.optional_any_text("body")?.unwrap_or_default(),
        body_format: body_format(&fields)?.unwrap_or_else(|| "text/plain".to_owned()),
        activity_type: fields.required_text("type")?,
        received_at: received_at(&fields)?,
        contact_id: contact_id(&fields)?,
        session_id: fields.optional_text("session_id")?,
        direction: fields.optional_text("direction")?,
        duration: duration(object)?.flatten(),
        extra: extras(object),
        conversation_log_id: fields.optional_text("conversation_log_id")?,
        message_ids: message_ids(object)?.unwrap_or_default(),
        note: fields.optional_any_text("note")?,
    })
}

fn activity_patch(object: &Map<String, Value>) -> Result<ActivityPatch, ApiError> {
    refuse_server_fields(object)?;
    let fields = Fields::new(object);
    for required in ["subject", "type", "body", "body_format", "received_at"] {
        if object.get(required).is_some_and(Value::is_null) {
            return Err(ApiError::field(
                required,
                "cannot be cleared; send a value or leave it out",
            ));
        }
    }
    // For nullable fields: absent leaves the value, `null` clears it.
    let nullable = |name: &str| -> Result<Option<Option<String>>, ApiError> {
        if fields.has(name) {
            fields.optional_text(name).map(Some)
        } else {
            Ok(None)
        }
    };
    let contact = if fields.has("contact_id") {
        Some(contact_id(&fields)?)
    } else {
        None
    };
    // A write made only of fields the API does not know changes nothing it
    // shows: `checks` reports it (App Connect's own template once sent
    // `{"data": {"subject", "body"}}` and was answered 200).
    let only_unknown_fields = if object
        .keys()
        .any(|key| KNOWN_FIELDS.contains(&key.as_str()))
    {
        Vec::new()
    } else {
        object.keys().cloned().collect()
    };
    Ok(ActivityPatch {
        subject: fields.optional_text("subject")?,
        body: fields.optional_any_text("body")?,
        body_format: body_format(&fields)?,
        activity_type: fields.optional_text("type")?,
        received_at: received_at(&fields)?,
        contact_id: contact,
        session_id: nullable("session_id")?,
        direction: nullable("direction")?,
        duration: duration(object)?,
        extra: extras(object),
        note: if fields.has("note") {
            Some(fields.optional_any_text("note")?)
        } else {
            None
        },
        conversation_log_id: nullable("conversation_log_id")?,
        message_ids: message_ids(object)?,
        add_message_ids: Vec::new(),
        only_unknown_fields,
    })
}

/// `serve --strict`: a field the API has no column for is refused instead
/// of kept as an extra.
fn refuse_unknown_fields(object: &Map<String, Value>) -> Result<(), ApiError> {
    let unknown: Vec<&str> = object
        .keys()
        .map(String::as_str)
        .filter(|key| !KNOWN_FIELDS.contains(key) && !SERVER_FIELDS.contains(key))
        .collect();
    match unknown.first() {
        None => Ok(()),
        Some(first) => Err(ApiError::field(
            *first,
            format!(
                "is not an activity field, and this server runs with --strict, which refuses \
                 unknown fields ({}); the fields are {}",
                unknown.join(", "),
                KNOWN_FIELDS.join(", ")
            ),
        )),
    }
}

/// A contact id as a string, or as a whole number (connectors whose CRM
/// numbers its contacts send them as numbers); `null` counts as absent.
fn contact_id(fields: &Fields) -> Result<Option<String>, ApiError> {
    match fields.get("contact_id") {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(Value::Number(n)) => Err(ApiError::field(
            "contact_id",
            format!("must be a string or a whole number, got {n}"),
        )),
        _ => fields.optional_text("contact_id"),
    }
}

fn refuse_server_fields(object: &Map<String, Value>) -> Result<(), ApiError> {
    match SERVER_FIELDS
        .iter()
        .find(|name| object.contains_key(**name))
    {
        Some(name) => Err(ApiError::field(
            *name,
            "is assigned by mockcrm; leave it out of the request",
        )),
        None => Ok(()),
    }
}

fn body_format(fields: &Fields) -> Result<Option<String>, ApiError> {
    let format = fields.optional_text("body_format")?;
    match format {
        Some(format) if !BODY_FORMATS.contains(&format.as_str()) => Err(ApiError::field(
            "body_format",
            format!("{format:?} is not one of text/plain, text/html, text/markdown"),
        )),
        other => Ok(other),
    }
}

/// RFC 3339 text, stored as sent; or epoch milliseconds (App Connect's
/// server-side logging sends `startTime` that way), stored as RFC 3339 UTC.
fn received_at(fields: &Fields) -> Result<Option<String>, ApiError> {
    if let Some(Value::Number(n)) = fields.get("received_at") {
        return epoch_millis(n).map(Some).ok_or_else(|| {
            ApiError::field(
                "received_at",
                format!(
                    "{n} is not a time: send RFC 3339 text such as 2024-01-15T15:30:00Z, \
                     or whole epoch milliseconds such as 1705332600000"
                ),
            )
        });
    }
    let Some(text) = fields.optional_text("received_at")? else {
        return Ok(None);
    };
    if !is_rfc3339(&text) {
        return Err(ApiError::field(
            "received_at",
            format!("{text:?} is not an RFC 3339 time such as 2024-01-15T15:30:00Z"),
        ));
    }
    Ok(Some(text))
}

/// Whole epoch milliseconds as RFC 3339 UTC with milliseconds, for years
/// 0 to 9999 (what RFC 3339 can write).
fn epoch_millis(n: &serde_json::Number) -> Option<String> {
    let millis = match (n.as_i64(), n.as_f64()) {
        (Some(millis), _) => millis,
        (None, Some(float)) if float.fract() == 0.0 && float.abs() < 9.0e15 => float as i64,
        _ => return None,
    };
    let time = chrono::DateTime::from_timestamp_millis(millis)?;
    use chrono::Datelike;
    (0..=9999)
        .contains(&time.year())
        .then(|| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

/// RFC 3339's date-time as JSON Schema's `date-time` format reads it. The
/// text is stored and returned as it came, so it must be no looser than the
/// document's `Timestamp`; chrono alone also takes a space for the `T` and
/// a leap second at any minute.
fn is_rfc3339(text: &str) -> bool {
    use chrono::Timelike;
    let Ok(parsed) = chrono::DateTime::parse_from_rfc3339(text) else {
        return false;
    };
    let separator = matches!(text.as_bytes().get(10), Some(b'T' | b't'));
    // chrono shows a leap second as a nanosecond count past one second;
    // one is only real at 23:59:60 UTC.
    let utc = parsed.with_timezone(&chrono::Utc);
    let leap_second_at_midnight = utc.hour() == 23 && utc.minute() == 59;
    separator && (utc.nanosecond() < 1_000_000_000 || leap_second_at_midnight)
}

/// `None`: absent; `Some(None)`: null; `Some(Some(v))`: seconds or a word.
fn duration(object: &Map<String, Value>) -> Result<Option<Option<Value>>, ApiError> {
    match object.get("duration") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Number(n)) if whole_seconds(n).is_some() => {
            Ok(Some(whole_seconds(n).map(Value::from)))
        }
        Some(Value::String(text)) if !text.trim().is_empty() => {
            Ok(Some(Some(Value::String(text.clone()))))
        }
        Some(other) => Err(ApiError::field(
            "duration",
            format!(
                "must be whole seconds >= 0 or a word such as \"pending\", got {}",
                describe(other)
            ),
        )),
    }
}

/// A number of whole seconds. `125.0` counts as `125`: JSON Schema calls it
/// an integer, and some encoders (Python's for floats) write it that way.
fn whole_seconds(n: &serde_json::Number) -> Option<u64> {
    if let Some(seconds) = n.as_u64() {
        return Some(seconds);
    }
    let float = n.as_f64()?;
    // 2^64 is the first float past u64::MAX; `as` is exact below it for
    // whole numbers.
    (float.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&float))
        .then_some(float as u64)
}

fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::String(_) => "an empty string".into(),
        other => json_kind(other).into(),
    }
}

/// A message log's messages: RingCentral message ids as strings, or as
/// whole numbers (the message store's JSON has them so), in the order
/// logged. `null` is the empty list. A message listed twice is stored as
/// sent: the duplicate_message check is there to report it.
fn message_ids(object: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let items = match object.get("message_ids") {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(ApiError::field(
                "message_ids",
                format!(
                    "must be an array of message ids such as [\"1874001001\"], got {}",
                    json_kind(other)
                ),
            ))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(id) if !id.trim().is_empty() => Ok(id.clone()),
            // As for durations, `7.0` is the whole number JSON Schema says it is.
            Value::Number(n) if whole_seconds(n).is_some() => {
                Ok(whole_seconds(n).unwrap_or_default().to_string())
            }
            other => Err(ApiError::field(
                "message_ids",
                format!(
                    "item {index} must be a message id (non-empty text or a whole number >= 0), \
                     got {}",
                    match other {
                        Value::String(_) => "an empty string".to_owned(),
                        Value::Number(n) => n.to_string(),
                        other => json_kind(other).to_owned(),
                    }
                ),
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn extras(object: &Map<String, Value>) -> Map<String, Value> {
    object
        .iter()
        .filter(|(key, _)| !KNOWN_FIELDS.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Keys stored by earlier versions hold this hash: it must not change.
    #[test]
    fn the_request_hash_is_the_hex_sha_256_of_the_canonical_json() {
        // `printf '{"a":1,"b":"x"}' | sha256sum`: keys sorted, no spaces.
        assert_eq!(
            request_hash(&json!({"b": "x", "a": 1})).expect("hash"),
            "ecf9e98ec0641e23113ff3ce8bdc78d0ddd249886517fd4a7f68cc83d4e65667"
        );
    }

    #[test]
    fn received_at_is_strict_rfc_3339() {
        for good in [
            "2024-01-15T15:30:00Z",
            "2024-01-15t15:30:00.123456789z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T18:59:60-05:00",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "2024-01-15 15:30:00Z",
            "2024-01-15T12:30:60Z",
            "2024-01-15T15:30:00",
            "2024-01-15",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn epoch_milliseconds_become_rfc_3339_utc() {
        let millis = |value: Value| match value {
            Value::Number(n) => epoch_millis(&n),
            _ => None,
        };
        assert_eq!(
            millis(json!(1705332600000_i64)).as_deref(),
            Some("2024-01-15T15:30:00.000Z")
        );
        assert_eq!(
            millis(json!(1705332600123.0)).as_deref(),
            Some("2024-01-15T15:30:00.123Z")
        );
        assert_eq!(
            millis(json!(0)).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        for refused in [
            json!(1.5),
            json!(1e300),
            json!(253402300800000_i64),
            json!(-62167219200001_i64),
        ] {
            assert_eq!(millis(refused.clone()), None, "{refused}");
        }
    }

    #[test]
    fn a_patch_of_unknown_fields_only_is_marked_and_numbers_name_contacts() {
        let object = |value: Value| value.as_object().cloned().unwrap_or_default();
        let patch =
            activity_patch(&object(json!({"data": {"subject": "s"}, "x": 1}))).expect("valid");
        assert_eq!(patch.only_unknown_fields, ["data", "x"]);
        let patch = activity_patch(&object(json!({"data": {}, "contact_id": 42}))).expect("valid");
        assert!(patch.only_unknown_fields.is_empty());
        assert_eq!(patch.contact_id, Some(Some("42".into())));
        assert!(activity_patch(&object(json!({"contact_id": 4.2}))).is_err());
        assert!(refuse_unknown_fields(&object(json!({"subject": "s", "deal": 1}))).is_err());
        assert!(refuse_unknown_fields(&object(json!({"subject": "s"}))).is_ok());
    }

    #[test]
    fn whole_floats_are_seconds_and_others_are_refused() {
        let duration = |value: Value| {
            let object = json!({ "duration": value })
                .as_object()
                .cloned()
                .unwrap_or_default();
            super::duration(&object)
        };
        assert_eq!(duration(json!(125.0)), Ok(Some(Some(json!(125)))));
        assert_eq!(duration(json!(-0.0)), Ok(Some(Some(json!(0)))));
        for refused in [json!(1.5), json!(-1), json!(1e20), json!(-3.0)] {
            assert!(duration(refused.clone()).is_err(), "{refused}");
        }
    }

    #[test]
    fn message_ids_are_text_or_whole_numbers() {
        let object = |value: Value| json!({ "message_ids": value }).as_object().cloned();
        let parse = |value: Value| message_ids(&object(value).unwrap_or_default());
        assert_eq!(
            parse(json!(["a", 1874001001_u64, "a", 7.0])),
            Ok(Some(vec![
                "a".into(),
                "1874001001".into(),
                "a".into(),
                "7".into()
            ]))
        );
        assert_eq!(parse(Value::Null), Ok(Some(Vec::new())));
        assert_eq!(message_ids(&Map::new()), Ok(None));
        for refused in [
            json!("a"),
            json!([""]),
            json!([1.5]),
            json!([-1]),
            json!([["a"]]),
        ] {
            assert!(parse(refused.clone()).is_err(), "{refused}");
        }
        let new = new_activity(
            &json!({"subject": "s", "type": "SMS", "conversation_log_id": "c-2025-06-03",
                    "message_ids": ["m1"]})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        )
        .expect("valid");
        assert_eq!(
            (
                new.conversation_log_id.as_deref(),
                new.message_ids.as_slice()
            ),
            (Some("c-2025-06-03"), ["m1".to_owned()].as_slice())
        );
        assert!(new.extra.is_empty());
    }

    #[test]
    fn unknown_fields_become_extras_and_known_ones_do_not() {
        let object = json!({"subject": "s", "type": "t", "deal_id": "d", "duration": 3})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let new = new_activity(&object).expect("valid");
        assert_eq!(new.duration, Some(Value::from(3)));
        assert_eq!(new.extra.len(), 1);
        assert_eq!(new.extra.get("deal_id"), Some(&Value::from("d")));
    }
}
