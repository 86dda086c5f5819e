//! Contract checks: what the stored data says about the connectors that
//! wrote it (a call session or a message logged more than once, an empty
//! body, a write made only of fields the API does not know).

use super::{Store, StoreError, Violation};

impl Store {
    /// Contract violations of one organisation (`Some` row id), or of
    /// every one: call sessions with more than one activity, activities
    /// with an empty body, messages with more than one message log, and
    /// writes that changed only extras.
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
        let mut messages = self.conn.prepare_cached(
            "SELECT o.name, o.public_id, a.message_id, group_concat(a.id, ' ')
             FROM activities a JOIN organisations o ON o.id = a.organisation_id
             WHERE a.message_id IS NOT NULL AND (?1 IS NULL OR a.organisation_id = ?1)
             GROUP BY a.organisation_id, a.message_id HAVING COUNT(*) > 1
             ORDER BY o.name, a.message_id",
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
