//! The store: every SQL statement in mockcrm lives under this module, one
//! file per concept — opening a file (`open.rs`), the schema and its
//! migrations (`schema.rs`), seeding and reset (`seed.rs`), API keys
//! (`callers.rs`), contacts, activities (and their rows, `activity_rows.rs`;
//! finding them by one field's value, `activity_search.rs`),
//! idempotency keys, message logs (`message_logs.rs`), revisions,
//! activities across organisations for the admin side, contract checks, tenants (`tenants.rs`) and an
//! organisation's rows in every table (`organisation_rows.rs`) — plus
//! `StoreHandle`, which runs the store on a thread of its own (`handle.rs`),
//! and the background checkpointer (`checkpoint.rs`). No two of these
//! modules use each other: shared pieces sit in a module of their own.
//!
//! `Store` is synchronous: one rusqlite connection, one method per
//! operation, each in its own savepoint. Every query is scoped by an
//! organisation id. The store knows nothing of HTTP: it takes and returns
//! records (`model.rs`) and typed errors (`error.rs`), never status codes,
//! routes, flags or JSON answers.

mod activities;
mod activity_rows;
mod activity_search;
mod admin_activities;
mod callers;
mod checkpoint;
mod contacts;
mod credentials;
mod error;
mod handle;
mod idempotency;
mod message_logs;
mod model;
mod open;
mod organisation_rows;
mod revisions;
mod savepoint;
mod schema;
mod seed;
mod tenants;
mod violations;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::Connection;

pub use activity_search::ActivityField;
pub(crate) use callers::CallerCache;
pub use credentials::CrmSecret;
pub use error::StoreError;
pub use handle::{StoreHandle, StoreHold, StoreThread};
pub use model::*;
pub use seed::{Seed, SeedContact, SeedOrganisation, SeedUser, WELL_KNOWN_KEYS};
pub use tenants::{NewTenant, TenantDeletion};

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

/// The synchronous store: one connection, owned by whoever runs it (the
/// server runs it on `StoreHandle`'s thread).
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
    /// The cache `caller_for_key` fills, for `StoreHandle` to read from.
    pub(crate) fn caller_cache(&self) -> Arc<CallerCache> {
        Arc::clone(&self.callers)
    }

    /// The database file, for a second connection; `None` in memory.
    pub(crate) fn file_path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// How big the WAL may grow before a commit checkpoints it, in bytes
    /// (SQLite counts pages, whose size differs between files).
    pub(crate) fn set_wal_autocheckpoint_bytes(&self, bytes: i64) -> Result<(), StoreError> {
        let page_size: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |row| row.get(0))?;
        let pages = bytes / page_size.max(512);
        self.conn
            .query_row(&format!("PRAGMA wal_autocheckpoint = {pages}"), [], |_| {
                Ok(())
            })?;
        Ok(())
    }

    /// Opens the transaction a group commit shares (see `StoreHandle`).
    pub(crate) fn begin_batch(&mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(())
    }

    pub(crate) fn commit_batch(&mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }

    pub(crate) fn rollback_batch(&mut self) {
        // Failing here means SQLite already rolled back on its own.
        let _ = self.conn.execute_batch("ROLLBACK");
    }
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

/// An insert into an organisation that a tenant deletion removed after
/// the request authenticated fails its foreign key: say so, rather than
/// report a database error.
fn gone_if_orphaned(error: rusqlite::Error) -> StoreError {
    match &error {
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::OrganisationGone
        }
        _ => StoreError::Sqlite(error),
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub(crate) fn memory() -> Store {
        Store::open(&Location::Memory, &Seed::default_seed()).expect("in-memory store opens")
    }

    /// The default seed's organisation.
    pub(crate) fn acme(store: &Store) -> i64 {
        store
            .caller_for_key("mockcrm-dev-key")
            .expect("query")
            .expect("default key exists")
            .organisation_id
    }

    pub(crate) fn new_activity(session: &str) -> NewActivity {
        NewActivity {
            subject: "Inbound Call from Jane".into(),
            body: "- Duration: 5 seconds\n".into(),
            body_format: "text/plain".into(),
            activity_type: "PhoneCommunication".into(),
            session_id: Some(session.into()),
            ..NewActivity::default()
        }
    }
}
