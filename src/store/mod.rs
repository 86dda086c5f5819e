//! The store: every byte of SQL in mockcrm lives under this module.
//!
//! `Store` is the synchronous core — one rusqlite connection, one method per
//! operation, each write in its own transaction, so a method returning `Ok`
//! means the change is committed. `StoreHandle` runs a `Store` on a dedicated
//! thread for the async server. Every query is scoped to an organisation id.
//! The store must never know about HTTP: no status codes, no headers, no JSON
//! error bodies.

mod checkpoint;
mod handle;
mod model;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row};
use serde_json::{Map, Value};

pub use handle::{StoreHandle, StoreThread};
pub use model::*;
pub use schema::CURRENT_VERSION as SCHEMA_VERSION;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A private in-memory database, gone when the store closes.
    Memory,
    File(PathBuf),
}

impl Location {
    /// `:memory:` is the in-memory store, anything else a file path.
    pub fn parse(value: &str) -> Location {
        if value == ":memory:" {
            Location::Memory
        } else {
            Location::File(PathBuf::from(value))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}; check the path exists and is writable")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path} is not a mockcrm database (SQLite said: {source}); pass another --db file or move it away")]
    NotADatabase {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path} is a SQLite database but not mockcrm's (it holds tables mockcrm did not make); pass another --db file")]
    ForeignDatabase { path: String },
    #[error("{path} is damaged (SQLite said: {source}); restore it from a backup, or move it away to start afresh")]
    Corrupt {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path} is a directory; pass a file path such as {path}/mockcrm.db")]
    IsDirectory { path: String },
    #[error("directory {dir} does not exist; create it or pass another --db")]
    NoDirectory { dir: String },
    #[error("directory {dir} is read-only, and mockcrm keeps {name}.lock, -wal and -shm files next to the database; make it writable or pass another --db")]
    DirectoryReadOnly { dir: String, name: String },
    #[error("{path} is in use by another mockcrm (it holds {path}.lock); stop that server or pass another --db")]
    Locked { path: String },
    #[error("cannot create {path}.lock: {source}; check that the directory is writable")]
    LockFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is read-only; make it writable or pass another --db")]
    ReadOnly { path: String },
    #[error("database schema version {found} is newer than this mockcrm supports ({supported}); upgrade mockcrm or use another --db file")]
    TooNew { found: i64, supported: i64 },
    #[error("seed is invalid: {0}")]
    InvalidSeed(String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{field}: {message}")]
    InvalidReference {
        field: &'static str,
        message: String,
    },
    #[error("the store has shut down")]
    Closed,
    #[error("the write could not be committed: {0}")]
    CommitFailed(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON is corrupt: {0}")]
    CorruptJson(#[from] serde_json::Error),
}

/// API key to caller, for keys the store has resolved, so that
/// authenticating a request needs no trip to the store thread. Filled only
/// by `Store::caller_for_key` outside any transaction, and emptied by every
/// change to users or keys (`apply_seed`, `reset`); both happen on the
/// store thread, in order, so an entry is never older than the last change.
/// Only keys that exist are kept, so it is as big as the `api_keys` table.
#[derive(Default)]
pub struct CallerCache {
    callers: std::sync::RwLock<std::collections::HashMap<String, Caller>>,
}

impl CallerCache {
    pub fn get(&self, key: &str) -> Option<Caller> {
        // A poisoned lock means a panic mid-insert or mid-clear, each of
        // which leaves the map whole.
        let callers = self
            .callers
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        callers.get(key).cloned()
    }

    fn insert(&self, key: &str, caller: &Caller) {
        let mut callers = self
            .callers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        callers.insert(key.to_owned(), caller.clone());
    }

    fn clear(&self) {
        self.callers
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }
}

/// The synchronous store: one connection, owned by whoever runs it.
pub struct Store {
    conn: Connection,
    callers: Arc<CallerCache>,
    /// The database file; `None` in memory.
    path: Option<PathBuf>,
    /// Held open for the store's life so a second mockcrm on the same file
    /// is refused; declared after `conn` so it is released last.
    _lock: Option<std::fs::File>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database, then seeds it if
    /// it holds no organisation yet.
    pub fn open(location: &Location, seed: &Seed) -> Result<Store, StoreError> {
        let lock = match location {
            Location::Memory => None,
            Location::File(path) => {
                if path.is_dir() {
                    return Err(StoreError::IsDirectory {
                        path: path.display().to_string(),
                    });
                }
                Some(lock_database(path)?)
            }
        };
        let (conn, path) = match location {
            Location::Memory => (Connection::open_in_memory(), ":memory:".to_owned()),
            Location::File(path) => (
                Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                        | OpenFlags::SQLITE_OPEN_CREATE
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                ),
                path.display().to_string(),
            ),
        };
        let mut conn = conn.map_err(|source| classify_open_error(&path, source))?;
        // Before changing anything in the file (WAL mode is written into
        // it), make sure it is ours or empty.
        if holds_foreign_tables(&conn).map_err(|source| classify_open_error(&path, source))? {
            return Err(StoreError::ForeignDatabase { path });
        }
        configure(&conn).map_err(|source| classify_open_error(&path, source))?;
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(read_only_error(&path));
        }
        schema::migrate(&mut conn).map_err(|err| match err {
            StoreError::Sqlite(source) => classify_open_error(&path, source),
            other => other,
        })?;
        let mut store = Store {
            conn,
            callers: Arc::default(),
            path: match location {
                Location::Memory => None,
                Location::File(path) => Some(path.clone()),
            },
            _lock: lock,
        };
        if store.organisation_count()? == 0 {
            store.apply_seed(seed)?;
        }
        Ok(store)
    }

    /// The cache `caller_for_key` fills, for `StoreHandle` to read from.
    pub(crate) fn caller_cache(&self) -> Arc<CallerCache> {
        Arc::clone(&self.callers)
    }

    /// The database file, for a second connection; `None` in memory.
    pub(crate) fn file_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Pages the WAL may reach before a commit checkpoints it.
    pub(crate) fn set_wal_autocheckpoint(&self, pages: i64) -> Result<(), StoreError> {
        self.conn
            .query_row(&format!("PRAGMA wal_autocheckpoint = {pages}"), [], |_| {
                Ok(())
            })?;
        Ok(())
    }

    /// Opens the transaction a group commit shares (see `StoreHandle`).
    pub(crate) fn begin_batch(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    pub(crate) fn commit_batch(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    pub(crate) fn rollback_batch(&mut self) {
        // Failing here means SQLite already rolled back on its own.
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Opens a database file at `path`; shorthand used by tests and tools.
    pub fn open_file(path: &Path) -> Result<Store, StoreError> {
        Store::open(&Location::File(path.to_owned()), &Seed::default_seed())
    }

    fn organisation_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM organisations", [], |row| row.get(0))?)
    }

    /// Loads organisations, users, keys and contacts. Applying a seed twice
    /// changes nothing: organisations match by name, users by id, contacts by
    /// id (or, for unnamed seed contacts, by organisation, name and number).
    pub fn apply_seed(&mut self, seed: &Seed) -> Result<(), StoreError> {
        validate_seed(seed)?;
        let now = now_rfc3339();
        let tx = self.conn.savepoint()?;
        let mut contact_number = 0;
        for organisation in &seed.organisations {
            tx.execute(
                "INSERT INTO organisations (name) VALUES (?1) ON CONFLICT(name) DO NOTHING",
                params![organisation.name],
            )?;
            let organisation_id: i64 = tx.query_row(
                "SELECT id FROM organisations WHERE name = ?1",
                params![organisation.name],
                |row| row.get(0),
            )?;
            for user in &organisation.users {
                let owner: Option<i64> = tx
                    .query_row(
                        "SELECT organisation_id FROM users WHERE id = ?1",
                        params![user.id],
                        |row| row.get(0),
                    )
                    .optional()?;
                if owner.is_some_and(|owner| owner != organisation_id) {
                    return Err(StoreError::InvalidSeed(format!(
                        "user {:?} already belongs to another organisation in this database",
                        user.id
                    )));
                }
                tx.execute(
                    "INSERT INTO users (id, organisation_id, name, email, timezone_offset)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, email = excluded.email,
                         timezone_offset = excluded.timezone_offset",
                    params![
                        user.id,
                        organisation_id,
                        user.name,
                        user.email,
                        user.timezone_offset
                    ],
                )?;
                let key_owner: Option<String> = tx
                    .query_row(
                        "SELECT user_id FROM api_keys WHERE key = ?1",
                        params![user.api_key],
                        |row| row.get(0),
                    )
                    .optional()?;
                match key_owner {
                    Some(owner) if owner != user.id => {
                        return Err(StoreError::InvalidSeed(format!(
                            "api_key of user {:?} is already used by user {owner:?}",
                            user.id
                        )))
                    }
                    Some(_) => {}
                    None => {
                        tx.execute(
                            "INSERT INTO api_keys (key, user_id) VALUES (?1, ?2)",
                            params![user.api_key, user.id],
                        )?;
                    }
                }
            }
            for contact in &organisation.contacts {
                contact_number += 1;
                let id = contact
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("contact-{contact_number}"));
                let existing: Option<i64> = tx
                    .query_row(
                        "SELECT organisation_id FROM contacts WHERE id = ?1",
                        params![id],
                        |row| row.get(0),
                    )
                    .optional()?;
                match existing {
                    Some(owner) if owner != organisation_id => {
                        return Err(StoreError::InvalidSeed(format!(
                            "contact id {id:?} already belongs to another organisation"
                        )))
                    }
                    Some(_) => continue,
                    None => {}
                }
                tx.execute(
                    "INSERT INTO contacts
                        (id, organisation_id, name, phone_number, phone_digits, email, type, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        id,
                        organisation_id,
                        contact.name,
                        contact.phone_number,
                        phone_digits(&contact.phone_number),
                        contact.email,
                        contact.contact_type,
                        now
                    ],
                )?;
            }
        }
        tx.commit()?;
        self.callers.clear();
        Ok(())
    }

    /// Deletes every organisation and everything in it, idempotency keys
    /// included, then loads `seed` (pass an empty seed for an empty store).
    pub fn reset(&mut self, seed: &Seed) -> Result<(), StoreError> {
        {
            let tx = self.conn.savepoint()?;
            tx.execute_batch(
                "DELETE FROM idempotency_keys; DELETE FROM activities; DELETE FROM contacts;
                 DELETE FROM api_keys; DELETE FROM users; DELETE FROM organisations;",
            )?;
            tx.commit()?;
        }
        self.callers.clear();
        self.apply_seed(seed)
    }

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

    /// Resolves an API key to its user and organisation.
    pub fn caller_for_key(&self, key: &str) -> Result<Option<Caller>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT o.id, o.name, u.id, u.name, u.email, u.timezone_offset
             FROM api_keys k JOIN users u ON u.id = k.user_id
             JOIN organisations o ON o.id = u.organisation_id
             WHERE k.key = ?1",
        )?;
        let caller = statement
            .query_row(params![key], |row| {
                Ok(Caller {
                    organisation_id: row.get(0)?,
                    organisation: row.get(1)?,
                    user_id: row.get(2)?,
                    user_name: row.get(3)?,
                    email: row.get(4)?,
                    timezone_offset: row.get(5)?,
                })
            })
            .optional()?;
        // Inside a transaction the answer might still be rolled back.
        if let (Some(caller), true) = (&caller, self.conn.is_autocommit()) {
            self.callers.insert(key, caller);
        }
        Ok(caller)
    }

    pub fn create_contact(&mut self, org: i64, new: &NewContact) -> Result<Contact, StoreError> {
        let contact = Contact {
            id: new_id("con"),
            name: new.name.clone(),
            phone_number: new.phone_number.clone(),
            email: new.email.clone(),
            contact_type: new.contact_type.clone(),
            created_at: now_rfc3339(),
        };
        self.conn.execute(
            "INSERT INTO contacts
                (id, organisation_id, name, phone_number, phone_digits, email, type, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                contact.id,
                org,
                contact.name,
                contact.phone_number,
                phone_digits(&contact.phone_number),
                contact.email,
                contact.contact_type,
                contact.created_at
            ],
        )?;
        Ok(contact)
    }

    pub fn contact(&self, org: i64, id: &str) -> Result<Option<Contact>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, name, phone_number, email, type, created_at FROM contacts
             WHERE organisation_id = ?1 AND id = ?2",
        )?;
        Ok(statement
            .query_row(params![org, id], contact_from_row)
            .optional()?)
    }

    /// Contacts whose number has the same digits as `phone`, oldest first.
    pub fn contacts_by_phone(&self, org: i64, phone: &str) -> Result<Vec<Contact>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, name, phone_number, email, type, created_at FROM contacts
             WHERE organisation_id = ?1 AND phone_digits = ?2 ORDER BY seq",
        )?;
        let rows = statement.query_map(params![org, phone_digits(phone)], contact_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn create_activity(&mut self, org: i64, new: &NewActivity) -> Result<Activity, StoreError> {
        let activity = Activity::new(new.clone());
        let tx = self.conn.savepoint()?;
        insert_activity(&tx, org, &activity, None)?;
        tx.commit()?;
        Ok(activity)
    }

    /// Creates `activity` (from `Activity::new`) under an idempotency key in
    /// one transaction: the first call with a key inserts it and remembers
    /// that `status` and the activity itself are the answer; a repeat with
    /// the same `request_hash` gets that answer back, the activity exactly
    /// as it was created; another hash is refused.
    pub fn create_activity_idempotent(
        &mut self,
        org: i64,
        key: &str,
        request_hash: &str,
        activity: &Activity,
        status: u16,
    ) -> Result<IdempotentOutcome, StoreError> {
        let tx = self.conn.savepoint()?;
        let previous: Option<(String, u16, String, Option<String>)> = tx
            .prepare_cached(
                "SELECT request_hash, status, response, activity_id FROM idempotency_keys
                 WHERE organisation_id = ?1 AND key = ?2",
            )?
            .query_row(params![org, key], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .optional()?;
        if let Some((hash, status, response, activity_id)) = previous {
            if hash != request_hash {
                return Ok(IdempotentOutcome::Mismatch);
            }
            let body = match activity_id {
                // Unchanged since it was created (PATCH and DELETE freeze the
                // answer first), so the activity now is the first answer.
                Some(activity_id) if response.is_empty() => {
                    let created = select_activity(&tx, org, &activity_id)?
                        .ok_or(StoreError::NotFound("activity behind an idempotency key"))?;
                    serde_json::to_string(&created)?
                }
                _ => response,
            };
            return Ok(IdempotentOutcome::Replayed(StoredResponse { status, body }));
        }
        insert_activity(&tx, org, activity, Some(key))?;
        insert_key(&tx, org, key, request_hash, status, activity)?;
        tx.commit()?;
        Ok(IdempotentOutcome::Created)
    }

    /// Inserts many activities in one transaction (the benchmark's
    /// pre-filled databases), each created under its own idempotency key as
    /// `POST /activity` would have: `(key, request_hash, activity)`. A
    /// database filled this way looks like one a connector wrote, key rows
    /// and all. Returns the new ids in order.
    pub fn import_keyed_activities(
        &mut self,
        org: i64,
        activities: impl IntoIterator<Item = (String, String, NewActivity)>,
    ) -> Result<Vec<String>, StoreError> {
        let tx = self.conn.savepoint()?;
        let mut ids = Vec::new();
        for (key, request_hash, new) in activities {
            let activity = Activity::new(new);
            insert_activity(&tx, org, &activity, Some(&key))?;
            insert_key(&tx, org, &key, &request_hash, 201, &activity)?;
            ids.push(activity.id);
        }
        tx.commit()?;
        Ok(ids)
    }

    pub fn activity(&self, org: i64, id: &str) -> Result<Option<Activity>, StoreError> {
        select_activity(&self.conn, org, id)
    }

    pub fn update_activity(
        &mut self,
        org: i64,
        id: &str,
        patch: &ActivityPatch,
    ) -> Result<Option<Activity>, StoreError> {
        let tx = self.conn.savepoint()?;
        let Some(mut activity) = select_activity(&tx, org, id)? else {
            return Ok(None);
        };
        freeze_answer(&tx, org, &activity)?;
        if let Some(Some(contact_id)) = &patch.contact_id {
            ensure_contact(&tx, org, contact_id)?;
        }
        apply_patch(&mut activity, patch);
        // `updated_at` must move even when two updates land in one microsecond.
        activity.updated_at = later_than(&activity.updated_at);
        // The key's answer is frozen now, so the row no longer points at
        // it: later updates skip `freeze_answer`'s work.
        tx.prepare_cached(
            "UPDATE activities SET subject = ?1, body = ?2, body_format = ?3, type = ?4,
                received_at = ?5, contact_id = ?6, session_id = ?7, direction = ?8,
                duration = ?9, extra = ?10, updated_at = ?11, idempotency_key = NULL
             WHERE organisation_id = ?12 AND id = ?13",
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
            activity.duration.as_ref().map(Value::to_string),
            serde_json::to_string(&activity.extra)?,
            activity.updated_at,
            org,
            id
        ])?;
        tx.commit()?;
        Ok(Some(activity))
    }

    /// Deletes an activity; `false` when there was none.
    pub fn delete_activity(&mut self, org: i64, id: &str) -> Result<bool, StoreError> {
        let tx = self.conn.savepoint()?;
        let Some(activity) = select_activity(&tx, org, id)? else {
            return Ok(false);
        };
        freeze_answer(&tx, org, &activity)?;
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
            Ok((RawActivity::from_row(row)?, row.get::<_, i64>(13)?))
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
    let mut sql =
        format!("SELECT {ACTIVITY_COLUMNS}, seq FROM activities WHERE organisation_id = ?");
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![org];
    if let Some(session_id) = &filter.session_id {
        sql.push_str(" AND session_id = ?");
        values.push(session_id);
    }
    if let Some(contact_id) = &filter.contact_id {
        sql.push_str(" AND contact_id = ?");
        values.push(contact_id);
    }
    if let Some(before_seq) = &filter.before_seq {
        sql.push_str(" AND seq < ?");
        values.push(before_seq);
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    values.push(fetch);
    (sql, values)
}

const ACTIVITY_COLUMNS: &str = "id, subject, body, body_format, type, received_at, contact_id, \
     session_id, direction, duration, extra, created_at, updated_at";

/// Whether the file holds tables but no mockcrm schema version: someone
/// else's database, which migrating would scribble into. Reading
/// `sqlite_master` is also what turns "not a database" into an error here
/// rather than in the middle of a migration.
fn holds_foreign_tables(conn: &Connection) -> Result<bool, rusqlite::Error> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let objects: i64 =
        conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |row| row.get(0))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    Ok(version == 0 && objects > 0)
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a 2xx promises the row survives power loss, not only a crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Room for every statement the store prepares (about twenty, counting
    // each shape of the listing), so none is parsed again per request.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn classify_open_error(path: &str, source: rusqlite::Error) -> StoreError {
    let code = match &source {
        rusqlite::Error::SqliteFailure(error, _) => Some(error.code),
        _ => None,
    };
    let path = path.to_owned();
    match code {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADatabase { path, source },
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::Corrupt { path, source },
        Some(rusqlite::ErrorCode::ReadOnly) => read_only_error(&path),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            StoreError::Locked { path }
        }
        _ => StoreError::Open { path, source },
    }
}

/// Takes `<db>.lock` exclusively. A sidecar file, not the database itself:
/// closing any extra descriptor on the database would drop SQLite's own
/// POSIX locks.
fn lock_database(path: &Path) -> Result<std::fs::File, StoreError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let display = path.display().to_string();
    let created = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path);
    let file = match created {
        Ok(file) => file,
        // Left by another user's mockcrm: locking needs only reading it.
        Err(error)
            if error.kind() == std::io::ErrorKind::PermissionDenied && lock_path.is_file() =>
        {
            std::fs::File::open(&lock_path).map_err(|source| lock_file_error(path, source))?
        }
        Err(source) => return Err(lock_file_error(path, source)),
    };
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked { path: display }),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::LockFile {
            path: display,
            source,
        }),
    }
}

/// SQLite opened the database read-only: because the file is, or because
/// its directory is and the WAL files cannot be made there.
fn read_only_error(path: &str) -> StoreError {
    let file_writable = std::fs::OpenOptions::new().write(true).open(path).is_ok();
    if file_writable {
        directory_read_only(Path::new(path))
    } else {
        StoreError::ReadOnly {
            path: path.to_owned(),
        }
    }
}

fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn directory_read_only(path: &Path) -> StoreError {
    StoreError::DirectoryReadOnly {
        dir: directory_of(path).display().to_string(),
        name: path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
    }
}

/// Says what is wrong with the database's directory, when that is why the
/// lock file could not be made.
fn lock_file_error(path: &Path, source: std::io::Error) -> StoreError {
    let dir = directory_of(path);
    match source.kind() {
        std::io::ErrorKind::NotFound if !dir.exists() => StoreError::NoDirectory {
            dir: dir.display().to_string(),
        },
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            directory_read_only(path)
        }
        _ => StoreError::LockFile {
            path: path.display().to_string(),
            source,
        },
    }
}

fn validate_seed(seed: &Seed) -> Result<(), StoreError> {
    let mut keys = std::collections::HashSet::new();
    for organisation in &seed.organisations {
        if organisation.name.trim().is_empty() {
            return Err(StoreError::InvalidSeed(
                "every organisation needs a non-empty name".into(),
            ));
        }
        for user in &organisation.users {
            if user.id.is_empty() || user.api_key.is_empty() {
                return Err(StoreError::InvalidSeed(format!(
                    "user {:?} in {:?} needs a non-empty id and api_key",
                    user.name, organisation.name
                )));
            }
            if !keys.insert(user.api_key.as_str()) {
                return Err(StoreError::InvalidSeed(format!(
                    "api_key of user {:?} is used twice; every user needs their own key",
                    user.id
                )));
            }
        }
    }
    Ok(())
}

fn ensure_contact(tx: &Connection, org: i64, contact_id: &str) -> Result<(), StoreError> {
    let exists: Option<i64> = tx
        .prepare_cached("SELECT 1 FROM contacts WHERE organisation_id = ?1 AND id = ?2")?
        .query_row(params![org, contact_id], |row| row.get(0))
        .optional()?;
    match exists {
        Some(_) => Ok(()),
        None => Err(StoreError::InvalidReference {
            field: "contact_id",
            message: format!(
                "no contact with id {contact_id:?} in your organisation; create it with POST /contact or leave contact_id out"
            ),
        }),
    }
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
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

fn select_activity(conn: &Connection, org: i64, id: &str) -> Result<Option<Activity>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities WHERE organisation_id = ?1 AND id = ?2"
    ))?;
    let row = statement
        .query_row(params![org, id], RawActivity::from_row)
        .optional()?;
    row.map(RawActivity::into_activity).transpose()
}

/// Before an activity created under an idempotency key changes for the
/// first time, writes out the answer a replay must give: the activity as it
/// still is, unchanged since it was created.
fn freeze_answer(tx: &Connection, org: i64, activity: &Activity) -> Result<(), StoreError> {
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
        "UPDATE idempotency_keys SET response = ?1, activity_id = NULL
         WHERE organisation_id = ?2 AND key = ?3 AND activity_id = ?4",
    )?
    .execute(params![
        serde_json::to_string(activity)?,
        org,
        key,
        activity.id
    ])?;
    Ok(())
}

/// Remembers `key` as the one that created `activity`, answered `status`.
/// The answer is the activity itself until it first changes (see
/// `freeze_answer`), so no copy of it is kept here.
fn insert_key(
    tx: &Connection,
    org: i64,
    key: &str,
    request_hash: &str,
    status: u16,
    activity: &Activity,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO idempotency_keys
            (organisation_id, key, request_hash, status, response, activity_id, created_at)
         VALUES (?1, ?2, ?3, ?4, '', ?5, ?6)",
    )?
    .execute(params![
        org,
        key,
        request_hash,
        status,
        activity.id,
        activity.created_at
    ])?;
    Ok(())
}

fn insert_activity(
    tx: &Connection,
    org: i64,
    activity: &Activity,
    idempotency_key: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(contact_id) = &activity.contact_id {
        ensure_contact(tx, org, contact_id)?;
    }
    let mut statement = tx.prepare_cached(
        "INSERT INTO activities (id, organisation_id, subject, body, body_format, type,
            received_at, contact_id, session_id, direction, duration, extra, created_at, updated_at,
            idempotency_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?;
    statement.execute(params![
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
        activity.duration.as_ref().map(Value::to_string),
        serde_json::to_string(&activity.extra)?,
        activity.created_at,
        activity.updated_at,
        idempotency_key
    ])?;
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
    for (key, value) in &patch.extra {
        if value.is_null() {
            activity.extra.remove(key);
        } else {
            activity.extra.insert(key.clone(), value.clone());
        }
    }
}

/// An activity row as SQLite holds it, before its JSON columns are parsed.
struct RawActivity {
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
}

impl RawActivity {
    fn from_row(row: &Row) -> rusqlite::Result<RawActivity> {
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
        })
    }

    fn into_activity(self) -> Result<Activity, StoreError> {
        let duration = self
            .duration
            .map(|text| serde_json::from_str(&text))
            .transpose()?;
        let extra: Map<String, Value> = serde_json::from_str(&self.extra)?;
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
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn contact_from_row(row: &Row) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: row.get(0)?,
        name: row.get(1)?,
        phone_number: row.get(2)?,
        email: row.get(3)?,
        contact_type: row.get(4)?,
        created_at: row.get(5)?,
    })
}

/// Opaque ids, never reused, not even after a reset: UUIDv7, 74 random
/// bits after a millisecond timestamp. Time first means each new id sorts
/// after the last, so inserting into the unique index on `id` touches the
/// index's last page, which the other inserts of the same commit share,
/// instead of a random page per insert: at a million activities that was
/// one more 4 KiB page written to the WAL (and later to the database) for
/// every create.
fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
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

    fn memory() -> Store {
        Store::open(&Location::Memory, &Seed::default_seed()).expect("in-memory store opens")
    }

    fn acme(store: &Store) -> i64 {
        store
            .caller_for_key("mockcrm-dev-key")
            .expect("query")
            .expect("default key exists")
            .organisation_id
    }

    fn new_activity(session: &str) -> NewActivity {
        NewActivity {
            subject: "Inbound Call from Jane".into(),
            body: "- Duration: 5 seconds\n".into(),
            body_format: "text/plain".into(),
            activity_type: "PhoneCommunication".into(),
            session_id: Some(session.into()),
            ..NewActivity::default()
        }
    }

    #[test]
    fn default_seed_gives_acme_and_numbered_contact() {
        let store = memory();
        let org = acme(&store);
        let contact = store.contact(org, "contact-1").expect("query");
        assert_eq!(contact.map(|c| c.name), Some("Jane Contact".to_owned()));
    }

    #[test]
    fn seeding_twice_changes_nothing() {
        let mut store = memory();
        store.apply_seed(&Seed::default_seed()).expect("reseed");
        let org = acme(&store);
        let contacts = store.contacts_by_phone(org, "415-555-0199").expect("query");
        assert_eq!(contacts.len(), 1);
    }

    #[test]
    fn idempotent_create_replays_and_detects_mismatch() {
        let mut store = memory();
        let org = acme(&store);
        let respond = |a: &Activity| StoredResponse {
            status: 201,
            body: serde_json::to_string(a).expect("serialises"),
        };
        let created = Activity::new(new_activity("s1"));
        let first = store
            .create_activity_idempotent(org, "k", "h1", &created, 201)
            .expect("create");
        assert_eq!(first, IdempotentOutcome::Created);
        let retry = Activity::new(new_activity("s1"));
        let again = store
            .create_activity_idempotent(org, "k", "h1", &retry, 201)
            .expect("replay");
        assert_eq!(again, IdempotentOutcome::Replayed(respond(&created)));
        let other = store
            .create_activity_idempotent(org, "k", "h2", &retry, 201)
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
    fn a_replay_gives_the_first_answer_after_the_activity_changed_or_went() {
        let mut store = memory();
        let org = acme(&store);
        let first_answer = |a: &Activity| {
            IdempotentOutcome::Replayed(StoredResponse {
                status: 201,
                body: serde_json::to_string(a).expect("serialises"),
            })
        };
        let replay = |store: &mut Store, key: &str| {
            let retry = Activity::new(new_activity("s"));
            store
                .create_activity_idempotent(org, key, "h", &retry, 201)
                .expect("replay")
        };
        let patched = Activity::new(new_activity("s"));
        store
            .create_activity_idempotent(org, "patched", "h", &patched, 201)
            .expect("create");
        for body in ["changed once", "changed twice"] {
            let patch = ActivityPatch {
                body: Some(body.into()),
                ..ActivityPatch::default()
            };
            store
                .update_activity(org, &patched.id, &patch)
                .expect("update")
                .expect("exists");
        }
        assert_eq!(replay(&mut store, "patched"), first_answer(&patched));
        // Deleting it after it changed keeps the answer frozen at the first.
        assert!(store.delete_activity(org, &patched.id).expect("delete"));
        assert_eq!(replay(&mut store, "patched"), first_answer(&patched));

        let deleted = Activity::new(new_activity("s"));
        store
            .create_activity_idempotent(org, "deleted", "h", &deleted, 201)
            .expect("create");
        assert!(store.delete_activity(org, &deleted.id).expect("delete"));
        assert!(!store.delete_activity(org, &deleted.id).expect("delete"));
        assert_eq!(replay(&mut store, "deleted"), first_answer(&deleted));
    }

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
    fn imported_keys_replay_like_created_ones() {
        let mut store = memory();
        let org = acme(&store);
        let ids = store
            .import_keyed_activities(org, [("k".into(), "h".into(), new_activity("s"))])
            .expect("import");
        let stored = store.activity(org, &ids[0]).expect("get").expect("exists");
        let retry = Activity::new(new_activity("s"));
        assert_eq!(
            store
                .create_activity_idempotent(org, "k", "h", &retry, 201)
                .expect("replay"),
            IdempotentOutcome::Replayed(StoredResponse {
                status: 201,
                body: serde_json::to_string(&stored).expect("serialises"),
            })
        );
    }

    #[test]
    fn a_key_stored_before_v2_replays_its_stored_answer() {
        let mut store = memory();
        let org = acme(&store);
        store
            .conn
            .execute(
                "INSERT INTO idempotency_keys (organisation_id, key, request_hash, status, response, created_at)
                 VALUES (?1, 'old', 'h', 201, '{\"id\":\"act_old\"}', 'then')",
                params![org],
            )
            .expect("v1 row");
        let retry = Activity::new(new_activity("s"));
        let outcome = store
            .create_activity_idempotent(org, "old", "h", &retry, 201)
            .expect("replay");
        assert_eq!(
            outcome,
            IdempotentOutcome::Replayed(StoredResponse {
                status: 201,
                body: r#"{"id":"act_old"}"#.into()
            })
        );
    }

    #[test]
    fn pages_walk_every_activity_newest_first() {
        let mut store = memory();
        let org = acme(&store);
        let ids: Vec<String> = (0..7)
            .map(|n| {
                store
                    .create_activity(org, &new_activity(&format!("s{n}")))
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
        let created = store.create_activity(org, &new).expect("create");
        let mut patch = ActivityPatch {
            body: Some("new body".into()),
            ..ActivityPatch::default()
        };
        patch.extra.insert("stale".into(), Value::Null);
        let updated = store
            .update_activity(org, &created.id, &patch)
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
        let err = store.create_activity(org, &new).expect_err("refused");
        assert!(matches!(
            err,
            StoreError::InvalidReference {
                field: "contact_id",
                ..
            }
        ));
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

    #[test]
    fn file_store_survives_reopen_and_refuses_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("crm.db");
        let id = {
            let mut store = Store::open_file(&path).expect("open");
            let org = acme(&store);
            store
                .create_activity(org, &new_activity("s"))
                .expect("create")
                .id
        };
        let store = Store::open_file(&path).expect("reopen");
        assert!(store.activity(acme(&store), &id).expect("get").is_some());

        let held = Store::open_file(&path)
            .err()
            .expect("a second opener is refused");
        assert!(matches!(held, StoreError::Locked { .. }), "{held}");
        drop(store);
        Store::open_file(&path).expect("free again once the first closes");

        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![b'x'; 4096]).expect("write");
        let err = Store::open_file(&garbage).err().expect("refused");
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
    }
}
