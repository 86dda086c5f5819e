//! An activity as a row: the columns read back (`ACTIVITY_COLUMNS`,
//! `LOG_COLUMNS`), a row before its JSON columns are parsed (`RawActivity`),
//! the JSON columns encoded once per write (`EncodedColumns`), and reading
//! one activity by id. Shared by activities, their revisions, idempotent
//! replays and the admin listing; it writes nothing and knows none of them.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{Map, Value};

use super::{Activity, Origin, StoreError};

/// The columns `RawActivity::from_row` reads, in its order; its
/// revisions have the same.
pub(super) const ACTIVITY_COLUMNS: &str =
    "id, subject, body, body_format, type, received_at, contact_id, \
     session_id, direction, duration, extra, created_at, updated_at, \
     conversation_log_id, message_ids";

/// How many columns `ACTIVITY_COLUMNS` names: `LOG_COLUMNS` start here.
pub(super) const ACTIVITY_COLUMN_COUNT: usize = 15;

/// The row's own columns beyond a revision's state, read after
/// `ACTIVITY_COLUMNS` by `RawActivity::with_log_fields`: the note as sent
/// (revisions never showed it), the activity's number, and the face of its
/// latest write.
pub(super) const LOG_COLUMNS: &str = "note, seq, via";

/// How many columns `LOG_COLUMNS` names: what a query reads after them
/// starts this much further on.
pub(super) const LOG_COLUMN_COUNT: usize = 3;

/// The journal id of the request behind a write, as a row keeps it:
/// SQLite's integers are signed, and a journal never hands out 2^63 ids.
pub(super) fn stored_request_id(origin: &Origin) -> Option<i64> {
    origin
        .request_id
        .map(|id| i64::try_from(id).unwrap_or(i64::MAX))
}

/// The activity of `org` that `id` names: by its id, or else, when it is a
/// whole number, by its number (what the CRM faces show as its id).
pub(super) fn select_activity(
    conn: &Connection,
    org: i64,
    id: &str,
) -> Result<Option<Activity>, StoreError> {
    let mut by_id = conn.prepare_cached(&format!(
        "SELECT {ACTIVITY_COLUMNS}, {LOG_COLUMNS} FROM activities WHERE organisation_id = ?1 AND id = ?2"
    ))?;
    let read = |row: &Row| RawActivity::from_row(row)?.with_log_fields(row, ACTIVITY_COLUMN_COUNT);
    let mut row = by_id.query_row(params![org, id], read).optional()?;
    if row.is_none() {
        if let Ok(number) = id.parse::<i64>() {
            let mut by_number = conn.prepare_cached(&format!(
                "SELECT {ACTIVITY_COLUMNS}, {LOG_COLUMNS} FROM activities WHERE organisation_id = ?1 AND seq = ?2"
            ))?;
            row = by_number.query_row(params![org, number], read).optional()?;
        }
    }
    row.map(RawActivity::into_activity).transpose()
}

/// The activity's columns kept as JSON text, encoded once per write: its
/// row and its revision store the same text.
pub(super) struct EncodedColumns {
    pub(super) duration: Option<String>,
    pub(super) extra: String,
    pub(super) message_ids: String,
}

impl EncodedColumns {
    pub(super) fn of(activity: &Activity) -> Result<Self, StoreError> {
        Ok(EncodedColumns {
            duration: activity.duration.as_ref().map(Value::to_string),
            extra: serde_json::to_string(&activity.extra)?,
            message_ids: serde_json::to_string(&activity.message_ids)?,
        })
    }
}

/// An activity row as SQLite holds it, before its JSON columns are parsed.
pub(super) struct RawActivity {
    id: String,
    subject: String,
    body: String,
    body_format: String,
    activity_type: String,
    received_at: String,
    contact_id: Option<String>,
    session_id: Option<String>,
    direction: Option<String>,
    duration: Option<String>,
    extra: String,
    created_at: String,
    updated_at: String,
    conversation_log_id: Option<String>,
    message_ids: String,
    note: Option<String>,
    number: i64,
    via: Option<String>,
}

impl RawActivity {
    pub(super) fn from_row(row: &Row) -> rusqlite::Result<RawActivity> {
        Ok(RawActivity {
            id: row.get(0)?,
            subject: row.get(1)?,
            body: row.get(2)?,
            body_format: row.get(3)?,
            activity_type: row.get(4)?,
            received_at: row.get(5)?,
            contact_id: row.get(6)?,
            session_id: row.get(7)?,
            direction: row.get(8)?,
            duration: row.get(9)?,
            extra: row.get(10)?,
            created_at: row.get(11)?,
            updated_at: row.get(12)?,
            conversation_log_id: row.get(13)?,
            message_ids: row.get(14)?,
            note: None,
            number: 0,
            via: None,
        })
    }

    /// `LOG_COLUMNS`, read from `row` at `at` and after.
    pub(super) fn with_log_fields(mut self, row: &Row, at: usize) -> rusqlite::Result<RawActivity> {
        self.note = row.get(at)?;
        self.number = row.get(at + 1)?;
        self.via = row.get(at + 2)?;
        Ok(self)
    }

    /// A kept revision's number of its activity and the face that wrote it.
    pub(super) fn with_revision_fields(mut self, number: i64, via: Option<String>) -> RawActivity {
        self.number = number;
        self.via = via;
        self
    }

    pub(super) fn into_activity(self) -> Result<Activity, StoreError> {
        let duration = self
            .duration
            .map(|text| serde_json::from_str(&text))
            .transpose()?;
        let extra: Map<String, Value> = serde_json::from_str(&self.extra)?;
        let message_ids: Vec<String> = serde_json::from_str(&self.message_ids)?;
        Ok(Activity {
            id: self.id,
            subject: self.subject,
            body: self.body,
            body_format: self.body_format,
            activity_type: self.activity_type,
            received_at: self.received_at,
            contact_id: self.contact_id,
            session_id: self.session_id,
            direction: self.direction,
            duration,
            extra,
            conversation_log_id: self.conversation_log_id,
            message_ids,
            note: self.note,
            number: self.number,
            via: self.via,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
