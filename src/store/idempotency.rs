//! Idempotency keys: an activity created under an `Idempotency-Key` is
//! created once, and a repeat with the same request gets the activity as it
//! was created — even after it was changed or deleted — while a repeat with
//! another request is refused. This module keeps the key records; the
//! create that writes the key, its request's hash and the activity in one
//! savepoint is `Store::create_activity_idempotent` (`activities.rs`), so
//! they survive a restart together. It never writes an activity.
//!
//! A key stores no copy of the activity while the activity is unchanged:
//! the key row names it, and a repeat reads it. The first PATCH or DELETE
//! writes the activity as created into the key row first
//! (`freeze_created_activity`), in the same transaction.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::activity_rows::select_activity;
use super::{Activity, IdempotentOutcome, StoreError};

/// What `key` already answers, inside the create's savepoint: `None` when
/// the key is new, else the activity as it was first created (for the same
/// `request_hash`) or `Mismatch` (for another).
pub(super) fn earlier_outcome(
    tx: &Connection,
    org: i64,
    key: &str,
    request_hash: &str,
) -> Result<Option<IdempotentOutcome>, StoreError> {
    let previous: Option<(String, String, Option<String>)> = tx
        .prepare_cached(
            "SELECT request_hash, created_activity, activity_id FROM idempotency_keys
             WHERE organisation_id = ?1 AND key = ?2",
        )?
        .query_row(params![org, key], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let Some((hash, frozen, activity_id)) = previous else {
        return Ok(None);
    };
    if hash != request_hash {
        return Ok(Some(IdempotentOutcome::Mismatch));
    }
    let created = match activity_id {
        // Unchanged since it was created (PATCH and DELETE freeze it
        // first), so the activity now is the activity as created.
        Some(activity_id) if frozen.is_empty() => select_activity(tx, org, &activity_id)?
            .ok_or(StoreError::NotFound("activity behind an idempotency key"))?,
        _ => {
            let mut created = decode(serde_json::from_str(&frozen)?)?;
            // Copies frozen before activities had numbers: the number never
            // changes, so the row's is the one it was created with.
            if created.number == 0 {
                created.number = tx
                    .prepare_cached(
                        "SELECT seq FROM activities WHERE organisation_id = ?1 AND id = ?2",
                    )?
                    .query_row(params![org, created.id], |row| row.get(0))
                    .optional()?
                    .unwrap_or(0);
            }
            created
        }
    };
    Ok(Some(IdempotentOutcome::Replayed(Box::new(created))))
}

/// Records `key` as having created `activity`, in the savepoint that
/// inserted it.
pub(super) fn record_key(
    tx: &Connection,
    org: i64,
    key: &str,
    request_hash: &str,
    activity: &Activity,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO idempotency_keys
            (organisation_id, key, request_hash, created_activity, activity_id, created_at)
         VALUES (?1, ?2, ?3, '', ?4, ?5)",
    )?
    .execute(params![
        org,
        key,
        request_hash,
        activity.id,
        activity.created_at
    ])?;
    Ok(())
}

/// Before an activity created under an idempotency key changes for the
/// first time, writes it, as it still is, into its key's row.
pub(super) fn freeze_created_activity(
    tx: &Connection,
    org: i64,
    activity: &Activity,
) -> Result<(), StoreError> {
    let key: Option<String> = tx
        .prepare_cached(
            "SELECT idempotency_key FROM activities WHERE organisation_id = ?1 AND id = ?2",
        )?
        .query_row(params![org, activity.id], |row| row.get(0))
        .optional()?
        .flatten();
    let Some(key) = key else {
        return Ok(());
    };
    tx.prepare_cached(
        "UPDATE idempotency_keys SET created_activity = ?1, activity_id = NULL
         WHERE organisation_id = ?2 AND key = ?3 AND activity_id = ?4",
    )?
    .execute(params![encode(activity).to_string(), org, key, activity.id])?;
    Ok(())
}

/// The fields an activity has a column for, by the name the frozen copy
/// keeps them under.
const KNOWN: [&str; 17] = [
    "id",
    "subject",
    "body",
    "body_format",
    "type",
    "received_at",
    "contact_id",
    "session_id",
    "direction",
    "duration",
    "created_at",
    "updated_at",
    "conversation_log_id",
    "message_ids",
    "note",
    "number",
    "via",
];

/// A frozen copy: `{"activity": {<known fields>}, "extra": {<extras>}}`,
/// the two kept apart so that an extra named like a known field (a proxy
/// config's raw `subject`) survives. Copies written before schema v4 (and
/// the answers keys kept before v3) are one flat object, extras and known
/// fields together with the known ones winning; they always have an `id` at
/// the top, which the nested layout never has.
fn encode(activity: &Activity) -> Value {
    let text = |value: &str| Value::from(value);
    let maybe = |value: &Option<String>| value.as_deref().map_or(Value::Null, Value::from);
    let known = [
        text(&activity.id),
        text(&activity.subject),
        text(&activity.body),
        text(&activity.body_format),
        text(&activity.activity_type),
        text(&activity.received_at),
        maybe(&activity.contact_id),
        maybe(&activity.session_id),
        maybe(&activity.direction),
        activity.duration.clone().unwrap_or(Value::Null),
        text(&activity.created_at),
        text(&activity.updated_at),
        maybe(&activity.conversation_log_id),
        Value::from(activity.message_ids.clone()),
        maybe(&activity.note),
        Value::from(activity.number),
        maybe(&activity.via),
    ];
    let fields: Map<String, Value> = KNOWN
        .iter()
        .zip(known)
        .map(|(name, value)| ((*name).to_owned(), value))
        .collect();
    let mut frozen = Map::new();
    frozen.insert("activity".into(), Value::Object(fields));
    frozen.insert("extra".into(), Value::Object(activity.extra.clone()));
    Value::Object(frozen)
}

fn decode(frozen: Value) -> Result<Activity, StoreError> {
    let Value::Object(mut object) = frozen else {
        return Err(corrupt("not a JSON object"));
    };
    let (mut known, extra) = if object.contains_key("id") {
        // The flat layout: whatever is not a known field is an extra.
        let known = KNOWN
            .iter()
            .filter_map(|name| object.remove(*name).map(|v| ((*name).to_owned(), v)))
            .collect();
        (known, object)
    } else {
        let take_object = |value: Option<Value>, what: &str| match value {
            Some(Value::Object(map)) => Ok(map),
            _ => Err(corrupt(what)),
        };
        let known = take_object(object.remove("activity"), "activity")?;
        let extra = take_object(object.remove("extra"), "extra")?;
        (known, extra)
    };
    let mut take_text = |name: &'static str| -> Result<Option<String>, StoreError> {
        match known.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(corrupt(name)),
        }
    };
    let id = take_text("id")?.ok_or_else(|| corrupt("id"))?;
    let subject = take_text("subject")?.unwrap_or_default();
    let body = take_text("body")?.unwrap_or_default();
    let body_format = take_text("body_format")?.unwrap_or_default();
    let activity_type = take_text("type")?.unwrap_or_default();
    let received_at = take_text("received_at")?.unwrap_or_default();
    let contact_id = take_text("contact_id")?;
    let session_id = take_text("session_id")?;
    let direction = take_text("direction")?;
    let created_at = take_text("created_at")?.unwrap_or_default();
    let updated_at = take_text("updated_at")?.unwrap_or_default();
    let conversation_log_id = take_text("conversation_log_id")?;
    // Copies frozen before schema v9 kept one message id, and no list.
    let legacy_message_id = take_text("message_id")?;
    let note = take_text("note")?;
    let via = take_text("via")?;
    let number = match known.remove("number") {
        None | Some(Value::Null) => 0,
        Some(value) => value.as_i64().ok_or_else(|| corrupt("number"))?,
    };
    let duration = known.remove("duration").filter(|value| !value.is_null());
    let message_ids = match known.remove("message_ids") {
        None | Some(Value::Null) => legacy_message_id.into_iter().collect(),
        Some(value) => serde_json::from_value(value).map_err(|_| corrupt("message_ids"))?,
    };
    Ok(Activity {
        id,
        subject,
        body,
        body_format,
        activity_type,
        received_at,
        contact_id,
        session_id,
        direction,
        duration,
        extra,
        conversation_log_id,
        message_ids,
        note,
        number,
        via,
        created_at,
        updated_at,
    })
}

fn corrupt(what: &str) -> StoreError {
    StoreError::CorruptJson(serde::de::Error::custom(format!(
        "a frozen activity's {what} is not what was written"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{acme, memory, new_activity};
    use crate::store::{ActivityFilter, ActivityPatch, Origin, Store};

    #[test]
    fn a_repeat_replays_the_created_activity_and_another_request_is_refused() {
        let mut store = memory();
        let org = acme(&store);
        let mut created = Activity::new(new_activity("s1"));
        let first = store
            .create_activity_idempotent(org, "k", "h1", &mut created, Origin::default())
            .expect("create");
        assert_eq!(first, IdempotentOutcome::Created);
        let mut retry = Activity::new(new_activity("s1"));
        let again = store
            .create_activity_idempotent(org, "k", "h1", &mut retry, Origin::default())
            .expect("replay");
        assert_eq!(again, IdempotentOutcome::Replayed(Box::new(created)));
        let other = store
            .create_activity_idempotent(org, "k", "h2", &mut retry, Origin::default())
            .expect("mismatch");
        assert_eq!(other, IdempotentOutcome::Mismatch);
        let page = store
            .list_activities(
                org,
                &ActivityFilter {
                    session_id: Some("s1".into()),
                    limit: 10,
                    ..ActivityFilter::default()
                },
            )
            .expect("list");
        assert_eq!(page.items.len(), 1);
    }

    #[test]
    fn a_repeat_gets_the_created_activity_after_it_changed_or_went() {
        let mut store = memory();
        let org = acme(&store);
        let replay = |store: &mut Store, key: &str| {
            let mut retry = Activity::new(new_activity("s"));
            store
                .create_activity_idempotent(org, key, "h", &mut retry, Origin::default())
                .expect("replay")
        };
        let mut patched = Activity::new(new_activity("s"));
        patched.extra.insert("deal".into(), Value::from("d-1"));
        patched.duration = Some(Value::from("pending"));
        store
            .create_activity_idempotent(org, "patched", "h", &mut patched, Origin::default())
            .expect("create");
        for body in ["changed once", "changed twice"] {
            let patch = ActivityPatch {
                body: Some(body.into()),
                ..ActivityPatch::default()
            };
            store
                .update_activity(org, &patched.id, &patch, Origin::default())
                .expect("update")
                .expect("exists");
        }
        let expected = IdempotentOutcome::Replayed(Box::new(patched.clone()));
        assert_eq!(replay(&mut store, "patched"), expected);
        // Deleting it after it changed keeps the copy frozen at the first.
        assert!(store.delete_activity(org, &patched.id).expect("delete"));
        assert_eq!(replay(&mut store, "patched"), expected);

        let mut deleted = Activity::new(new_activity("s"));
        store
            .create_activity_idempotent(org, "deleted", "h", &mut deleted, Origin::default())
            .expect("create");
        assert!(store.delete_activity(org, &deleted.id).expect("delete"));
        assert!(!store.delete_activity(org, &deleted.id).expect("delete"));
        assert_eq!(
            replay(&mut store, "deleted"),
            IdempotentOutcome::Replayed(Box::new(deleted))
        );
    }

    /// Before schema v3 a key kept the answer the API sent: the activity's
    /// fields with its extras beside them. Such a row still replays.
    #[test]
    fn a_key_written_before_v3_replays_its_stored_copy() {
        let mut store = memory();
        let org = acme(&store);
        let answer = r#"{"id":"act_old","subject":"s","body":"b","body_format":"text/plain",
            "type":"PhoneCommunication","received_at":"2024-01-01T00:00:00Z","contact_id":null,
            "session_id":"9","direction":"Inbound","duration":5,"deal_id":"d-7",
            "created_at":"c","updated_at":"u"}"#;
        store
            .conn
            .execute(
                "INSERT INTO idempotency_keys
                    (organisation_id, key, request_hash, created_activity, created_at)
                 VALUES (?1, 'old', 'h', ?2, 'then')",
                params![org, answer],
            )
            .expect("pre-v3 row");
        let mut retry = Activity::new(new_activity("s"));
        let IdempotentOutcome::Replayed(replayed) = store
            .create_activity_idempotent(org, "old", "h", &mut retry, Origin::default())
            .expect("replay")
        else {
            panic!("not replayed");
        };
        assert_eq!(replayed.id, "act_old");
        assert_eq!(replayed.duration, Some(Value::from(5)));
        assert_eq!(replayed.contact_id, None);
        assert_eq!(replayed.extra.get("deal_id"), Some(&Value::from("d-7")));
        assert_eq!(
            decode(encode(&replayed)).expect("decodes"),
            *replayed,
            "the current layout reads back the same activity"
        );
    }

    /// A proxy config's raw fields are extras that may share a known
    /// field's name; freezing keeps them apart.
    #[test]
    fn a_frozen_copy_keeps_extras_named_like_known_fields() {
        let mut activity = Activity::new(new_activity("s"));
        activity
            .extra
            .insert("subject".into(), Value::from("as sent"));
        activity.extra.insert("id".into(), Value::from(7));
        activity.message_ids = vec!["m-1".into(), "m-2".into()];
        activity.conversation_log_id = Some("c-2025-06-03".into());
        activity.note = Some("the note".into());
        assert_eq!(decode(encode(&activity)).expect("decodes"), activity);
    }

    /// A copy frozen before schema v9 names one message: it reads back as a
    /// one-message log.
    #[test]
    fn a_copy_frozen_with_one_message_id_reads_as_a_list() {
        let mut frozen = encode(&Activity::new(new_activity("s")));
        let known = frozen
            .get_mut("activity")
            .and_then(Value::as_object_mut)
            .expect("nested layout");
        known.remove("message_ids");
        known.remove("conversation_log_id");
        known.insert("message_id".into(), Value::from("m-9"));
        let decoded = decode(frozen).expect("decodes");
        assert_eq!(decoded.message_ids, ["m-9"]);
        assert_eq!(decoded.conversation_log_id, None);
    }
}
