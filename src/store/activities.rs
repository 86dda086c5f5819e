//! Activities: the call logs connectors write. Creating them (under an
//! idempotency key too, whose records are `idempotency.rs`'s), reading,
//! patching, deleting and listing them newest first; how an activity maps
//! to its row is `activity_rows.rs`. Every write goes through
//! `insert_activity` or `update_activity`. The row is the activity's
//! latest revision (its `revision` number and the `request_id` that wrote
//! it ride along); `update_activity` first keeps the state it replaces
//! (`revisions.rs`) in the same savepoint, so no writer can lose one.

use rusqlite::{params, Connection};

use super::activity_rows::{
    select_activity, stored_request_id, EncodedColumns, RawActivity, ACTIVITY_COLUMNS,
    ACTIVITY_COLUMN_COUNT, LOG_COLUMNS, LOG_COLUMN_COUNT,
};
use super::contacts::resolve_contact;
use super::idempotency::{earlier_outcome, freeze_created_activity, record_key};
use super::revisions::keep_replaced_state;
use super::savepoint::Savepoint;
use super::{
    new_id, now_rfc3339, Activity, ActivityFilter, ActivityPage, ActivityPatch, IdempotentOutcome,
    NewActivity, Origin, Store, StoreError,
};

impl Store {
    pub fn create_activity(
        &mut self,
        org: i64,
        new: &NewActivity,
        origin: Origin,
    ) -> Result<Activity, StoreError> {
        let mut activity = Activity::new(new.clone());
        let tx = Savepoint::begin(&self.conn)?;
        insert_activity(&tx, org, &mut activity, None, &origin)?;
        tx.commit()?;
        Ok(activity)
    }

    /// Creates `activity` (from `Activity::new`) under `key`, unless the key
    /// was used before: then the activity as it was first created comes
    /// back if `request_hash` is the same, and `Mismatch` if it is not.
    /// When it is created, `activity` gets its number and canonical contact.
    pub fn create_activity_idempotent(
        &mut self,
        org: i64,
        key: &str,
        request_hash: &str,
        activity: &mut Activity,
        origin: Origin,
    ) -> Result<IdempotentOutcome, StoreError> {
        let tx = Savepoint::begin(&self.conn)?;
        if let Some(outcome) = earlier_outcome(&tx, org, key, request_hash)? {
            return Ok(outcome);
        }
        insert_activity(&tx, org, activity, Some(key), &origin)?;
        record_key(&tx, org, key, request_hash, activity)?;
        tx.commit()?;
        Ok(IdempotentOutcome::Created)
    }

    pub fn activity(&self, org: i64, id: &str) -> Result<Option<Activity>, StoreError> {
        select_activity(&self.conn, org, id)
    }

    pub fn update_activity(
        &mut self,
        org: i64,
        id: &str,
        patch: &ActivityPatch,
        origin: Origin,
    ) -> Result<Option<Activity>, StoreError> {
        let tx = Savepoint::begin(&self.conn)?;
        let Some(mut activity) = select_activity(&tx, org, id)? else {
            return Ok(None);
        };
        // `id` may have been the activity's number.
        let id = activity.id.clone();
        let id = id.as_str();
        freeze_created_activity(&tx, org, &activity)?;
        apply_patch(&mut activity, patch);
        if let (Some(Some(_)), Some(contact_id)) = (&patch.contact_id, &activity.contact_id) {
            activity.contact_id = Some(resolve_contact(&tx, org, contact_id)?);
        }
        // `updated_at` must move even when two updates land in one microsecond.
        activity.updated_at = later_than(&activity.updated_at);
        if !patch.only_unknown_fields.is_empty() {
            tx.prepare_cached(
                "INSERT INTO unknown_field_writes (organisation_id, activity_id, fields, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                org,
                id,
                serde_json::to_string(&patch.only_unknown_fields)?,
                activity.updated_at
            ])?;
        }
        keep_replaced_state(&tx, org, id)?;
        // The key's copy is frozen now, so the row no longer points at
        // it: later updates skip `freeze_created_activity`'s work.
        let encoded = EncodedColumns::of(&activity)?;
        tx.prepare_cached(
            "UPDATE activities SET subject = ?1, body = ?2, body_format = ?3, type = ?4,
                received_at = ?5, contact_id = ?6, session_id = ?7, direction = ?8,
                duration = ?9, extra = ?10, updated_at = ?11, note = ?12, idempotency_key = NULL,
                revision = revision + 1, request_id = ?13, via = ?16,
                conversation_log_id = ?17, message_ids = ?18
             WHERE organisation_id = ?14 AND id = ?15",
        )?
        .execute(params![
            activity.subject,
            activity.body,
            activity.body_format,
            activity.activity_type,
            activity.received_at,
            activity.contact_id,
            activity.session_id,
            activity.direction,
            encoded.duration,
            encoded.extra,
            activity.updated_at,
            activity.note,
            stored_request_id(&origin),
            org,
            id,
            origin.via.as_deref(),
            activity.conversation_log_id,
            encoded.message_ids
        ])?;
        tx.commit()?;
        activity.via = origin.via.as_deref().map(str::to_owned);
        Ok(Some(activity))
    }

    /// Deletes an activity; `false` when there was none.
    pub fn delete_activity(&mut self, org: i64, id: &str) -> Result<bool, StoreError> {
        let tx = Savepoint::begin(&self.conn)?;
        let Some(activity) = select_activity(&tx, org, id)? else {
            return Ok(false);
        };
        let id = activity.id.as_str();
        freeze_created_activity(&tx, org, &activity)?;
        tx.prepare_cached("DELETE FROM activities WHERE organisation_id = ?1 AND id = ?2")?
            .execute(params![org, id])?;
        tx.commit()?;
        Ok(true)
    }

    /// Newest first, at most `filter.limit` items.
    pub fn list_activities(
        &self,
        org: i64,
        filter: &ActivityFilter,
    ) -> Result<ActivityPage, StoreError> {
        // One statement per filter shape, each naming only the columns it
        // filters on, so SQLite picks the index that matches (by session,
        // by contact, by organisation). A single statement with
        // `?2 IS NULL OR …` defeats the planner: it walked every activity of
        // the organisation, bodies and all, to find one session.
        let fetch = i64::from(filter.limit) + 1;
        let (sql, values) = list_query(&org, filter, &fetch);
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement.query_map(values.as_slice(), |row| {
            Ok((
                RawActivity::from_row(row)?.with_log_fields(row, ACTIVITY_COLUMN_COUNT)?,
                row.get::<_, i64>(ACTIVITY_COLUMN_COUNT + LOG_COLUMN_COUNT)?,
            ))
        })?;
        let mut items = Vec::new();
        let mut last_seq = None;
        let mut more = false;
        for row in rows {
            let (raw, seq) = row?;
            if items.len() == filter.limit as usize {
                more = true;
                break;
            }
            items.push(raw.into_activity()?);
            last_seq = Some(seq);
        }
        Ok(ActivityPage {
            items,
            next_seq: if more { last_seq } else { None },
        })
    }
}

/// The listing's SQL for this filter's shape, and its values in order.
fn list_query<'a>(
    org: &'a i64,
    filter: &'a ActivityFilter,
    fetch: &'a i64,
) -> (String, Vec<&'a dyn rusqlite::ToSql>) {
    let mut sql = format!(
        "SELECT {ACTIVITY_COLUMNS}, {LOG_COLUMNS}, seq FROM activities WHERE organisation_id = ?"
    );
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![org];
    if let Some(session_id) = &filter.session_id {
        sql.push_str(" AND session_id = ?");
        values.push(session_id);
    }
    if let Some(contact_id) = &filter.contact_id {
        sql.push_str(" AND contact_id = ?");
        values.push(contact_id);
    }
    if let Some(conversation_log_id) = &filter.conversation_log_id {
        sql.push_str(" AND conversation_log_id = ?");
        values.push(conversation_log_id);
    }
    if let Some(before_seq) = &filter.before_seq {
        sql.push_str(" AND seq < ?");
        values.push(before_seq);
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    values.push(fetch);
    (sql, values)
}

impl Activity {
    /// A new activity with its id and timestamps assigned (`received_at`
    /// defaults to now), ready for `Store::create_activity_idempotent`.
    pub fn new(new: NewActivity) -> Activity {
        let now = now_rfc3339();
        Activity {
            id: new_id("act"),
            subject: new.subject,
            body: new.body,
            body_format: new.body_format,
            activity_type: new.activity_type,
            received_at: new.received_at.unwrap_or_else(|| now.clone()),
            contact_id: new.contact_id,
            session_id: new.session_id,
            direction: new.direction,
            duration: new.duration,
            extra: new.extra,
            conversation_log_id: new.conversation_log_id,
            message_ids: new.message_ids,
            note: new.note,
            number: 0,
            via: None,
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

/// Inserts `activity` as its own revision 1, made by `origin`: a create
/// keeps no revision row (there is no earlier state to keep).
fn insert_activity(
    tx: &Connection,
    org: i64,
    activity: &mut Activity,
    idempotency_key: Option<&str>,
    origin: &Origin,
) -> Result<(), StoreError> {
    if let Some(contact_id) = &activity.contact_id {
        activity.contact_id = Some(resolve_contact(tx, org, contact_id)?);
    }
    activity.via = origin.via.as_deref().map(str::to_owned);
    let encoded = EncodedColumns::of(activity)?;
    let mut statement = tx.prepare_cached(
        "INSERT INTO activities (id, organisation_id, subject, body, body_format, type,
            received_at, contact_id, session_id, direction, duration, extra, created_at, updated_at,
            idempotency_key, conversation_log_id, message_ids, note, revision, request_id, via)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 1, ?19, ?20)",
    )?;
    statement
        .execute(params![
            activity.id,
            org,
            activity.subject,
            activity.body,
            activity.body_format,
            activity.activity_type,
            activity.received_at,
            activity.contact_id,
            activity.session_id,
            activity.direction,
            encoded.duration,
            encoded.extra,
            activity.created_at,
            activity.updated_at,
            idempotency_key,
            activity.conversation_log_id,
            encoded.message_ids,
            activity.note,
            stored_request_id(origin),
            origin.via.as_deref()
        ])
        .map_err(super::gone_if_orphaned)?;
    activity.number = tx.last_insert_rowid();
    Ok(())
}

fn apply_patch(activity: &mut Activity, patch: &ActivityPatch) {
    fn set<T: Clone>(target: &mut T, value: &Option<T>) {
        if let Some(value) = value {
            *target = value.clone();
        }
    }
    set(&mut activity.subject, &patch.subject);
    set(&mut activity.body, &patch.body);
    set(&mut activity.body_format, &patch.body_format);
    set(&mut activity.activity_type, &patch.activity_type);
    set(&mut activity.received_at, &patch.received_at);
    set(&mut activity.contact_id, &patch.contact_id);
    set(&mut activity.session_id, &patch.session_id);
    set(&mut activity.direction, &patch.direction);
    set(&mut activity.duration, &patch.duration);
    set(&mut activity.note, &patch.note);
    set(
        &mut activity.conversation_log_id,
        &patch.conversation_log_id,
    );
    set(&mut activity.message_ids, &patch.message_ids);
    activity
        .message_ids
        .extend(patch.add_message_ids.iter().cloned());
    for (key, value) in &patch.extra {
        if value.is_null() {
            activity.extra.remove(key);
        } else {
            activity.extra.insert(key.clone(), value.clone());
        }
    }
}

/// Now, or a microsecond after `previous` if the clock has not moved past it.
fn later_than(previous: &str) -> String {
    let now = chrono::Utc::now();
    let bumped = chrono::DateTime::parse_from_rfc3339(previous)
        .map(|previous| previous.with_timezone(&chrono::Utc) + chrono::Duration::microseconds(1))
        .unwrap_or(now);
    now.max(bumped)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{acme, memory, new_activity};
    use serde_json::Value;

    #[test]
    fn each_listing_shape_uses_its_index() {
        let store = memory();
        let plan = |filter: ActivityFilter| -> String {
            let (org, fetch) = (1_i64, 51_i64);
            let (sql, values) = list_query(&org, &filter, &fetch);
            let mut statement = store
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .expect("prepare");
            let rows = statement
                .query_map(values.as_slice(), |row| row.get::<_, String>(3))
                .expect("plan");
            rows.map(|row| row.expect("row"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let by_session = plan(ActivityFilter {
            session_id: Some("s".into()),
            before_seq: Some(9),
            ..ActivityFilter::default()
        });
        assert!(by_session.contains("activities_by_session"), "{by_session}");
        let by_contact = plan(ActivityFilter {
            contact_id: Some("c".into()),
            ..ActivityFilter::default()
        });
        assert!(by_contact.contains("activities_by_contact"), "{by_contact}");
        let all = plan(ActivityFilter::default());
        assert!(all.contains("activities_by_org"), "{all}");
    }

    #[test]
    fn pages_walk_every_activity_newest_first() {
        let mut store = memory();
        let org = acme(&store);
        let ids: Vec<String> = (0..7)
            .map(|n| {
                store
                    .create_activity(org, &new_activity(&format!("s{n}")), Origin::default())
                    .expect("create")
                    .id
            })
            .collect();
        let mut seen = Vec::new();
        let mut before_seq = None;
        loop {
            let page = store
                .list_activities(
                    org,
                    &ActivityFilter {
                        before_seq,
                        limit: 3,
                        ..ActivityFilter::default()
                    },
                )
                .expect("list");
            seen.extend(page.items.into_iter().map(|a| a.id));
            match page.next_seq {
                Some(seq) => before_seq = Some(seq),
                None => break,
            }
        }
        let mut newest_first = ids;
        newest_first.reverse();
        assert_eq!(seen, newest_first);
    }

    #[test]
    fn patch_moves_updated_at_and_merges_extras() {
        let mut store = memory();
        let org = acme(&store);
        let mut new = new_activity("s");
        new.extra.insert("deal".into(), Value::from("d1"));
        new.extra.insert("stale".into(), Value::from(true));
        let created = store
            .create_activity(org, &new, Origin::default())
            .expect("create");
        let mut patch = ActivityPatch {
            body: Some("new body".into()),
            ..ActivityPatch::default()
        };
        patch.extra.insert("stale".into(), Value::Null);
        let updated = store
            .update_activity(org, &created.id, &patch, Origin::default())
            .expect("update")
            .expect("exists");
        assert_eq!(updated.body, "new body");
        assert!(updated.updated_at > created.updated_at);
        assert_eq!(updated.extra.get("deal"), Some(&Value::from("d1")));
        assert!(!updated.extra.contains_key("stale"));
        assert_eq!(
            store.activity(org, &created.id).expect("get"),
            Some(updated)
        );
    }

    #[test]
    fn unknown_contact_is_refused_without_writing() {
        let mut store = memory();
        let org = acme(&store);
        let mut new = new_activity("s");
        new.contact_id = Some("nobody".into());
        let err = store
            .create_activity(org, &new, Origin::default())
            .expect_err("refused");
        assert!(
            matches!(&err, StoreError::UnknownContact { contact_id } if contact_id == "nobody"),
            "{err}"
        );
        let page = store
            .list_activities(
                org,
                &ActivityFilter {
                    limit: 5,
                    ..ActivityFilter::default()
                },
            )
            .expect("list");
        assert!(page.items.is_empty());
    }
}
