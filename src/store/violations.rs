//! Contract checks: what the stored data says about the connectors that
//! wrote it (a call session logged more than once, an empty body).

use super::{Store, StoreError, Violation};

impl Store {
    /// Contract violations across every organisation: call sessions with
    /// more than one activity, and activities with an empty body.
    pub fn violations(&self) -> Result<Vec<Violation>, StoreError> {
        let mut violations = Vec::new();
        let mut duplicates = self.conn.prepare_cached(
            "SELECT o.name, a.session_id, group_concat(a.id, ' ')
             FROM activities a JOIN organisations o ON o.id = a.organisation_id
             WHERE a.session_id IS NOT NULL
             GROUP BY a.organisation_id, a.session_id HAVING COUNT(*) > 1
             ORDER BY o.name, a.session_id",
        )?;
        let rows = duplicates.query_map([], |row| {
            let ids: String = row.get(2)?;
            Ok(Violation::DuplicateSession {
                organisation: row.get(0)?,
                session_id: row.get(1)?,
                activity_ids: ids.split(' ').map(str::to_owned).collect(),
            })
        })?;
        for row in rows {
            violations.push(row?);
        }
        let mut empty = self.conn.prepare_cached(
            "SELECT o.name, a.id, a.session_id
             FROM activities a JOIN organisations o ON o.id = a.organisation_id
             WHERE trim(a.body, ' ' || char(9) || char(10) || char(13)) = ''
             ORDER BY a.seq",
        )?;
        let rows = empty.query_map([], |row| {
            Ok(Violation::EmptyBody {
                organisation: row.get(0)?,
                activity_id: row.get(1)?,
                session_id: row.get(2)?,
            })
        })?;
        for row in rows {
            violations.push(row?);
        }
        Ok(violations)
    }
}
