//! Revisions: every write of an activity keeps the activity as it stood
//! after it, numbered from 1, with the journal id of the request that made
//! it. They are written by the activity write paths themselves
//! (`insert_activity`, `update_activity`), inside the write's own
//! savepoint, so a committed write always has its revision and a rolled
//! back one never does. They go when their activity goes (`ON DELETE
//! CASCADE`). Reading them here is an admin read: it may cross
//! organisations, but every caller that names one is held to it.

use rusqlite::{params, Connection};

use super::activity_rows::{EncodedColumns, RawActivity};
use super::{Activity, OrgRef, Organisation, Origin, Revision, Store, StoreError};

/// Keeps `activity`, as it now stands, as its next revision.
pub(super) fn record_revision(
    tx: &Connection,
    org: i64,
    activity: &Activity,
    encoded: &EncodedColumns,
    origin: Origin,
) -> Result<(), StoreError> {
    // SQLite's integers are signed; a journal never hands out 2^63 ids.
    let request_id = origin
        .request_id
        .map(|id| i64::try_from(id).unwrap_or(i64::MAX));
    tx.prepare_cached(
        "INSERT INTO activity_revisions
            (activity_id, number, organisation_id, request_id, subject, body, body_format, type,
             received_at, contact_id, session_id, direction, duration, extra, created_at,
             updated_at)
         VALUES (?1, (SELECT coalesce(max(number), 0) + 1 FROM activity_revisions
                      WHERE activity_id = ?1),
                 ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        activity.id,
        org,
        request_id,
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
    ])?;
    Ok(())
}

impl Store {
    /// Every revision of activity `id`, oldest first, with its
    /// organisation; `None` when there is no such activity (in `org`, when
    /// one is named).
    pub fn revisions(
        &self,
        org: Option<i64>,
        id: &str,
    ) -> Result<Option<(Organisation, Vec<Revision>)>, StoreError> {
        let Some(found) = self.organisation_of_activity(org, id)? else {
            return Ok(None);
        };
        // The activity's columns in `RawActivity`'s order, then two more.
        let mut statement = self.conn.prepare_cached(
            "SELECT activity_id, subject, body, body_format, type, received_at, contact_id,
                session_id, direction, duration, extra, created_at, updated_at,
                number, request_id
             FROM activity_revisions
             WHERE organisation_id = ?1 AND activity_id = ?2 ORDER BY number",
        )?;
        let rows = statement.query_map(params![found.key, id], |row| {
            Ok((
                RawActivity::from_row(row)?,
                row.get::<_, i64>(13)?,
                row.get::<_, Option<i64>>(14)?,
            ))
        })?;
        let mut revisions = Vec::new();
        for row in rows {
            let (raw, number, request_id) = row?;
            revisions.push(Revision {
                number: u32::try_from(number).unwrap_or(u32::MAX),
                request_id: request_id.and_then(|id| u64::try_from(id).ok()),
                state: raw.into_activity()?,
            });
        }
        Ok(Some((found.organisation, revisions)))
    }

    /// The organisation activity `id` belongs to, if it exists (and is in
    /// `org`, when one is named).
    pub(super) fn organisation_of_activity(
        &self,
        org: Option<i64>,
        id: &str,
    ) -> Result<Option<OrgRef>, StoreError> {
        use rusqlite::OptionalExtension;
        let found = self
            .conn
            .prepare_cached(
                "SELECT o.id, o.public_id, o.name, o.tenant, o.created_at
                 FROM activities a JOIN organisations o ON o.id = a.organisation_id
                 WHERE a.id = ?1 AND (?2 IS NULL OR a.organisation_id = ?2)",
            )?
            .query_row(params![id, org], |row| {
                Ok(OrgRef {
                    key: row.get(0)?,
                    organisation: Organisation {
                        id: row.get(1)?,
                        name: row.get(2)?,
                        seeded: !row.get::<_, bool>(3)?,
                        created_at: row.get(4)?,
                    },
                })
            })
            .optional()?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::schema;
    use crate::store::testing::{acme, memory, new_activity};
    use crate::store::ActivityPatch;
    use serde_json::Value;

    #[test]
    fn every_write_keeps_a_revision_with_its_request() {
        let mut store = memory();
        let org = acme(&store);
        let created = store
            .create_activity(org, &new_activity("s"), Origin::request(Some(7)))
            .expect("create");
        let patch = ActivityPatch {
            body: Some("- Duration: 2 minutes\n".into()),
            duration: Some(Some(Value::from(120))),
            ..ActivityPatch::default()
        };
        let updated = store
            .update_activity(org, &created.id, &patch, Origin::default())
            .expect("update")
            .expect("exists");
        let (organisation, revisions) = store
            .revisions(None, &created.id)
            .expect("read")
            .expect("found");
        assert_eq!(organisation.name, "Acme");
        let seen: Vec<_> = revisions
            .iter()
            .map(|r| (r.number, r.request_id, r.state.clone()))
            .collect();
        assert_eq!(seen, [(1, Some(7), created.clone()), (2, None, updated)]);

        assert_eq!(
            store.revisions(Some(org + 1), &created.id).expect("read"),
            None
        );
        assert!(store.delete_activity(org, &created.id).expect("delete"));
        assert_eq!(store.revisions(None, &created.id).expect("read"), None);
        let left: i64 = store
            .conn
            .query_row("SELECT count(*) FROM activity_revisions", [], |row| {
                row.get(0)
            })
            .expect("count");
        assert_eq!(left, 0, "revisions go with their activity");
    }

    #[test]
    fn a_keyed_create_keeps_one_revision_and_a_replay_none() {
        let mut store = memory();
        let org = acme(&store);
        let activity = Activity::new(new_activity("s"));
        for _ in 0..2 {
            store
                .create_activity_idempotent(org, "k", "h", &activity, Origin::request(Some(3)))
                .expect("create");
        }
        let (_, revisions) = store
            .revisions(Some(org), &activity.id)
            .expect("read")
            .expect("found");
        assert_eq!(revisions.len(), 1);
        assert_eq!(revisions[0].request_id, Some(3));
    }

    /// A database from before revisions existed: each activity gets its
    /// state at migration as revision 1.
    #[test]
    fn the_migration_gives_old_activities_their_state_as_revision_one() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(&schema::migrations_up_to(3).join(";"))
            .expect("v3");
        conn.pragma_update(None, "user_version", 3)
            .expect("version");
        conn.execute_batch(
            "INSERT INTO organisations (id, name) VALUES (1, 'Acme');
             INSERT INTO activities (id, organisation_id, subject, body, body_format, type,
                 received_at, session_id, duration, extra, created_at, updated_at)
             VALUES ('act_old', 1, 'Call', '- Duration: 5 seconds', 'text/plain',
                 'PhoneCommunication', '2024-01-15T15:30:00Z', '42', '5', '{\"deal\":\"d\"}',
                 '2024-01-15T15:31:00Z', '2024-01-15T15:32:00Z');",
        )
        .expect("old data");
        schema::migrate(&mut conn).expect("migrates");
        let row: (String, i64, Option<i64>, String, String, String) = conn
            .query_row(
                "SELECT activity_id, number, request_id, body, extra, updated_at
                 FROM activity_revisions",
                [],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ))
                },
            )
            .expect("one revision");
        assert_eq!(
            row,
            (
                "act_old".into(),
                1,
                None,
                "- Duration: 5 seconds".into(),
                "{\"deal\":\"d\"}".into(),
                "2024-01-15T15:32:00Z".into()
            )
        );
    }
}
