//! Contract checks: what the stored data says about the connectors that
//! wrote it (a call session or a message logged more than once, one day of
//! a conversation split over several logs, an empty body, a write made
//! only of fields the API does not know).

use super::{Store, StoreError, Violation};

impl Store {
    /// Contract violations of one organisation (`Some` row id), or of
    /// every one: call sessions with more than one activity, activities
    /// with an empty body, messages logged more than once, conversations
    /// (of one day) in more than one log, and writes that changed only
    /// extras.
    pub fn violations(&self, org: Option<i64>) -> Result<Vec<Violation>, StoreError> {
        let mut violations = Vec::new();
        let mut duplicates = self.conn.prepare_cached(
            "SELECT o.name, o.public_id, a.session_id, group_concat(a.id, ' ')
             FROM activities a JOIN organisations o ON o.id = a.organisation_id
             WHERE a.session_id IS NOT NULL AND (?1 IS NULL OR a.organisation_id = ?1)
             GROUP BY a.organisation_id, a.session_id HAVING COUNT(*) > 1
             ORDER BY o.name, a.session_id",
        )?;
        let rows = duplicates.query_map([org], |row| {
            let ids: String = row.get(3)?;
            Ok(Violation::DuplicateSession {
                organisation: row.get(0)?,
                org: row.get(1)?,
                session_id: row.get(2)?,
                activity_ids: ids.split(' ').map(str::to_owned).collect(),
            })
        })?;
        for row in rows {
            violations.push(row?);
        }
        let mut empty = self.conn.prepare_cached(
            "SELECT o.name, o.public_id, a.id, a.session_id
             FROM activities a JOIN organisations o ON o.id = a.organisation_id
             WHERE trim(a.body, ' ' || char(9) || char(10) || char(13)) = ''
               AND (?1 IS NULL OR a.organisation_id = ?1)
             ORDER BY a.seq",
        )?;
        let rows = empty.query_map([org], |row| {
            Ok(Violation::EmptyBody {
                organisation: row.get(0)?,
                org: row.get(1)?,
                activity_id: row.get(2)?,
                session_id: row.get(3)?,
            })
        })?;
        for row in rows {
            violations.push(row?);
        }
        // A log's every listing of a message counts, so a message twice in
        // one log is found as well as one in two logs.
        let mut messages = self.conn.prepare_cached(
            "SELECT o.name, o.public_id, m.value, group_concat(a.id, ' ')
             FROM activities a JOIN json_each(a.message_ids) m
                 JOIN organisations o ON o.id = a.organisation_id
             WHERE a.message_ids <> '[]' AND (?1 IS NULL OR a.organisation_id = ?1)
             GROUP BY a.organisation_id, m.value HAVING COUNT(*) > 1
             ORDER BY o.name, m.value",
        )?;
        let rows = messages.query_map([org], |row| {
            let ids: String = row.get(3)?;
            Ok(Violation::DuplicateMessage {
                organisation: row.get(0)?,
                org: row.get(1)?,
                message_id: row.get(2)?,
                activity_ids: ids.split(' ').map(str::to_owned).collect(),
            })
        })?;
        for row in rows {
            violations.push(row?);
        }
        let mut split = self.conn.prepare_cached(
            "SELECT o.name, o.public_id, a.conversation_log_id, group_concat(a.id, ' ')
             FROM activities a JOIN organisations o ON o.id = a.organisation_id
             WHERE a.conversation_log_id IS NOT NULL AND (?1 IS NULL OR a.organisation_id = ?1)
             GROUP BY a.organisation_id, a.conversation_log_id HAVING COUNT(*) > 1
             ORDER BY o.name, a.conversation_log_id",
        )?;
        let rows = split.query_map([org], |row| {
            let ids: String = row.get(3)?;
            Ok(Violation::SplitConversation {
                organisation: row.get(0)?,
                org: row.get(1)?,
                conversation_log_id: row.get(2)?,
                activity_ids: ids.split(' ').map(str::to_owned).collect(),
            })
        })?;
        for row in rows {
            violations.push(row?);
        }
        let mut unknown = self.conn.prepare_cached(
            "SELECT o.name, o.public_id, w.activity_id, w.fields
             FROM unknown_field_writes w JOIN organisations o ON o.id = w.organisation_id
             WHERE ?1 IS NULL OR w.organisation_id = ?1
             ORDER BY w.seq",
        )?;
        let rows = unknown.query_map([org], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (organisation, org, activity_id, fields) = row?;
            violations.push(Violation::UnknownFields {
                organisation,
                org,
                activity_id,
                fields: serde_json::from_str(&fields)?,
            });
        }
        Ok(violations)
    }
}
