//! Revisions: every write of an activity can be read back as the activity
//! stood after it, numbered from 1, with the journal id of the request that
//! made it. The activity's own row is its latest revision (its `revision`
//! and `request_id` columns); `activity_revisions` holds only the states a
//! later write replaced, each copied there by `keep_replaced_state` inside
//! the replacing write's savepoint, so a committed write always left the
//! state before it behind and a rolled back one never did. A create keeps
//! nothing here. Revisions go when their activity goes (`ON DELETE
//! CASCADE`). Reading them here is an admin read: it may cross
//! organisations, but every caller that names one is held to it.

use rusqlite::{params, Connection};

use super::activity_rows::{RawActivity, ACTIVITY_COLUMN_COUNT};
use super::{OrgRef, Organisation, Revision, Store, StoreError};

/// Copies activity `id` as it stands, with its number and request, into
/// `activity_revisions`, before a write replaces it. The copy is made by
/// SQLite from the row itself, so it is exactly what was stored.
pub(super) fn keep_replaced_state(tx: &Connection, org: i64, id: &str) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO activity_revisions
            (activity_id, number, organisation_id, request_id, subject, body, body_format, type,
             received_at, contact_id, session_id, direction, duration, extra, created_at,
             updated_at, via, conversation_log_id, message_ids)
         SELECT id, revision, organisation_id, request_id, subject, body, body_format, type,
             received_at, contact_id, session_id, direction, duration, extra, created_at,
             updated_at, via, conversation_log_id, message_ids
         FROM activities WHERE organisation_id = ?1 AND id = ?2",
    )?
    .execute(params![org, id])?;
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
        // The activity's columns in `RawActivity`'s order, then four more
        // (revision number, request, face, the activity's number): the
        // replaced states, then the row itself as the latest. Its note is
        // left out, as revisions never kept it.
        let mut statement = self.conn.prepare_cached(
            "SELECT r.activity_id, r.subject, r.body, r.body_format, r.type, r.received_at,
                r.contact_id, r.session_id, r.direction, r.duration, r.extra, r.created_at,
                r.updated_at, r.conversation_log_id, r.message_ids,
                r.number, r.request_id, r.via, a.seq
             FROM activity_revisions r JOIN activities a ON a.id = r.activity_id
             WHERE r.organisation_id = ?1 AND r.activity_id = ?2
             UNION ALL
             SELECT id, subject, body, body_format, type, received_at, contact_id,
                session_id, direction, duration, extra, created_at, updated_at,
                conversation_log_id, message_ids, revision, request_id, via, seq
             FROM activities
             WHERE organisation_id = ?1 AND id = ?2
             ORDER BY 16",
        )?;
        let at = ACTIVITY_COLUMN_COUNT;
        let rows = statement.query_map(params![found.key, id], |row| {
            Ok((
                RawActivity::from_row(row)?
                    .with_revision_fields(row.get::<_, i64>(at + 3)?, row.get(at + 2)?),
                row.get::<_, i64>(at)?,
                row.get::<_, Option<i64>>(at + 1)?,
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
    use crate::store::{Activity, ActivityPatch, Origin};
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
        let extra = ActivityPatch {
            extra: [("deal".to_owned(), Value::from("d-1"))]
                .into_iter()
                .collect(),
            ..ActivityPatch::default()
        };
        let last = store
            .update_activity(org, &created.id, &extra, Origin::request(Some(9)))
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
        assert_eq!(
            seen,
            [
                (1, Some(7), created.clone()),
                (2, None, updated),
                (3, Some(9), last)
            ]
        );
        assert_eq!(
            store
                .admin_activity(None, &created.id)
                .expect("read")
                .expect("found")
                .revisions,
            3
        );

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
        let mut activity = Activity::new(new_activity("s"));
        for _ in 0..2 {
            store
                .create_activity_idempotent(org, "k", "h", &mut activity, Origin::request(Some(3)))
                .expect("create");
        }
        let (_, revisions) = store
            .revisions(Some(org), &activity.id)
            .expect("read")
            .expect("found");
        assert_eq!(revisions.len(), 1);
        assert_eq!(revisions[0].request_id, Some(3));
    }

    /// A store on a database built by the migrations up to `version`,
    /// holding `data`, then migrated to the current version.
    fn migrated(version: usize, data: &str) -> Store {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(&schema::migrations_up_to(version).join(";"))
            .expect("old schema");
        conn.pragma_update(None, "user_version", version as i64)
            .expect("version");
        conn.execute_batch(data).expect("old data");
        schema::migrate(&mut conn).expect("migrates");
        Store {
            conn,
            callers: std::sync::Arc::default(),
            path: None,
            _lock: None,
        }
    }

    /// (number, request id, body) of each revision, oldest first.
    fn outline(store: &Store, id: &str) -> Vec<(u32, Option<u64>, String)> {
        let (_, revisions) = store.revisions(None, id).expect("read").expect("found");
        revisions
            .into_iter()
            .map(|r| (r.number, r.request_id, r.state.body))
            .collect()
    }

    fn stored_revision_rows(store: &Store) -> i64 {
        store
            .conn
            .query_row("SELECT count(*) FROM activity_revisions", [], |row| {
                row.get(0)
            })
            .expect("count")
    }

    /// A database from before revisions existed: each activity's state at
    /// migration is its revision 1, written by no known request.
    #[test]
    fn the_migrations_give_old_activities_their_state_as_revision_one() {
        let store = migrated(
            3,
            "INSERT INTO organisations (id, name) VALUES (1, 'Acme');
             INSERT INTO activities (id, organisation_id, subject, body, body_format, type,
                 received_at, session_id, duration, extra, created_at, updated_at)
             VALUES ('act_old', 1, 'Call', '- Duration: 5 seconds', 'text/plain',
                 'PhoneCommunication', '2024-01-15T15:30:00Z', '42', '5', '{\"deal\":\"d\"}',
                 '2024-01-15T15:31:00Z', '2024-01-15T15:32:00Z');",
        );
        let (_, revisions) = store
            .revisions(None, "act_old")
            .expect("read")
            .expect("found");
        assert_eq!(revisions.len(), 1);
        let revision = &revisions[0];
        assert_eq!((revision.number, revision.request_id), (1, None));
        assert_eq!(revision.state.body, "- Duration: 5 seconds");
        assert_eq!(revision.state.duration, Some(Value::from(5)));
        assert_eq!(revision.state.extra.get("deal"), Some(&Value::from("d")));
        assert_eq!(revision.state.updated_at, "2024-01-15T15:32:00Z");
        assert_eq!(stored_revision_rows(&store), 0, "the row is revision 1");
    }

    /// v6 kept every write's state, the latest twice (its row and its
    /// revision). v7 drops that copy and keeps every other revision, so
    /// what is read back is exactly what v6 read.
    #[test]
    fn v7_drops_only_the_revision_its_row_stands_for() {
        let revision = |id: &str, number: u32, request: &str, body: &str, at: &str| {
            format!(
                "INSERT INTO activity_revisions (activity_id, number, organisation_id, request_id,
                     subject, body, body_format, type, received_at, session_id, duration, extra,
                     created_at, updated_at)
                 VALUES ('{id}', {number}, 1, {request}, 'Call', '{body}', 'text/plain',
                     'PhoneCommunication', '2024-01-15T15:30:00Z', 's-{id}', '5', '{{}}',
                     '2024-01-15T15:31:00Z', '{at}');"
            )
        };
        let row = |id: &str, body: &str, at: &str| {
            format!(
                "INSERT INTO activities (id, organisation_id, subject, body, body_format, type,
                     received_at, session_id, duration, extra, created_at, updated_at,
                     message_id, note)
                 VALUES ('{id}', 1, 'Call', '{body}', 'text/plain', 'PhoneCommunication',
                     '2024-01-15T15:30:00Z', 's-{id}', '5', '{{}}', '2024-01-15T15:31:00Z',
                     '{at}', 'm-{id}', 'a note');"
            )
        };
        let data = [
            "INSERT INTO organisations (id, public_id, name, created_at)
             VALUES (1, 'org_1', 'Acme', '2024-01-01T00:00:00Z');"
                .to_owned(),
            // Written three times through the API: the row is revision 3.
            row("act_a", "three", "2024-01-15T15:33:00Z"),
            revision("act_a", 1, "5", "one", "2024-01-15T15:31:00Z"),
            revision("act_a", 2, "6", "two", "2024-01-15T15:32:00Z"),
            revision("act_a", 3, "7", "three", "2024-01-15T15:33:00Z"),
            // A row that no revision matches: all are kept, the row is 2.
            row("act_b", "changed by hand", "2024-01-15T15:40:00Z"),
            revision("act_b", 1, "8", "old", "2024-01-15T15:31:00Z"),
            // Created once, by request 9.
            row("act_c", "only", "2024-01-15T15:31:00Z"),
            revision("act_c", 1, "9", "only", "2024-01-15T15:31:00Z"),
        ]
        .concat();
        let mut store = migrated(6, &data);
        let text = |body: &str| body.to_owned();
        assert_eq!(
            outline(&store, "act_a"),
            [
                (1, Some(5), text("one")),
                (2, Some(6), text("two")),
                (3, Some(7), text("three"))
            ]
        );
        assert_eq!(
            outline(&store, "act_b"),
            [
                (1, Some(8), text("old")),
                (2, None, text("changed by hand"))
            ]
        );
        assert_eq!(outline(&store, "act_c"), [(1, Some(9), text("only"))]);
        assert_eq!(stored_revision_rows(&store), 3, "a1, a2 and b1 stay");
        let (_, a) = store
            .revisions(None, "act_a")
            .expect("read")
            .expect("found");
        assert_eq!(a[2].state.note, None, "revisions never showed a note");
        // v9 made v5's message id a one-message list, in every revision.
        for revision in &a {
            assert_eq!(revision.state.message_ids, ["m-act_a"]);
        }
        assert_eq!(a[2].state.updated_at, "2024-01-15T15:33:00Z");
        for (id, count) in [("act_a", 3), ("act_b", 2), ("act_c", 1)] {
            let listed = store
                .admin_activity(None, id)
                .expect("read")
                .expect("found");
            assert_eq!(listed.revisions, count, "{id}");
        }

        // The next write goes on from the row's number.
        let patch = ActivityPatch {
            body: Some("four".into()),
            ..ActivityPatch::default()
        };
        store
            .update_activity(1, "act_a", &patch, Origin::request(Some(10)))
            .expect("update")
            .expect("exists");
        assert_eq!(
            outline(&store, "act_a"),
            [
                (1, Some(5), text("one")),
                (2, Some(6), text("two")),
                (3, Some(7), text("three")),
                (4, Some(10), text("four"))
            ]
        );
    }

    /// v9: a v8 message log's one message id becomes its list, in the row
    /// and in its kept revisions; a call keeps an empty list, and the
    /// duplicate_message check still finds what v8's found.
    #[test]
    fn v9_turns_a_message_id_into_a_list() {
        let activity = |id: &str, message: &str| {
            format!(
                "INSERT INTO activities (id, organisation_id, subject, body, body_format, type,
                     received_at, extra, created_at, updated_at, message_id, revision)
                 VALUES ('{id}', 1, 'SMS', 'body', 'text/plain', 'SMS', '2024-01-15T15:30:00Z',
                     '{{}}', '2024-01-15T15:31:00Z', '2024-01-15T15:33:00Z', {message}, 2);
                 INSERT INTO activity_revisions (activity_id, number, organisation_id, subject,
                     body, body_format, type, received_at, extra, created_at, updated_at)
                 VALUES ('{id}', 1, 1, 'SMS', 'old', 'text/plain', 'SMS',
                     '2024-01-15T15:30:00Z', '{{}}', '2024-01-15T15:31:00Z',
                     '2024-01-15T15:31:00Z');"
            )
        };
        let data = [
            "INSERT INTO organisations (id, public_id, name, created_at)
             VALUES (1, 'org_1', 'Acme', '2024-01-01T00:00:00Z');"
                .to_owned(),
            activity("act_a", "'m-1'"),
            activity("act_b", "'m-1'"),
            activity("act_call", "NULL"),
        ]
        .concat();
        let store = migrated(8, &data);
        for (id, expected) in [("act_a", vec!["m-1"]), ("act_call", vec![])] {
            let (_, revisions) = store.revisions(None, id).expect("read").expect("found");
            let lists: Vec<_> = revisions
                .iter()
                .map(|r| r.state.message_ids.clone())
                .collect();
            assert_eq!(lists, [expected.clone(), expected], "{id}");
            assert_eq!(revisions[1].state.conversation_log_id, None);
        }
        let duplicates: Vec<_> = store
            .violations(Some(1))
            .expect("checks")
            .into_iter()
            .filter(|v| v.kind() == "duplicate_message")
            .collect();
        assert_eq!(duplicates.len(), 1, "{duplicates:?}");
    }
}
