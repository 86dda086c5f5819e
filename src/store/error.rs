//! Every way a store operation can fail, as data. Messages say what is
//! wrong with the database and what would fix it in terms of the file, not
//! of a flag or a route: the command line and the HTTP API add their own
//! words when they pass an error on.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {path}: {source}; check the path exists and is writable")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path} is not a mockcrm database (SQLite said: {source})")]
    NotADatabase {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "{path} is a SQLite database but not mockcrm's (it holds tables mockcrm did not make)"
    )]
    ForeignDatabase { path: String },
    #[error("{path} is damaged (SQLite said: {source}); restore it from a backup, or move it away to start afresh")]
    Corrupt {
        path: String,
        source: rusqlite::Error,
    },
    #[error("{path} is a directory, not a database file")]
    IsDirectory { path: String },
    #[error("directory {dir} does not exist")]
    NoDirectory { dir: String },
    #[error("directory {dir} is read-only, and mockcrm keeps {name}.lock, -wal and -shm files next to the database; make it writable")]
    DirectoryReadOnly { dir: String, name: String },
    #[error("{path} is in use by another mockcrm (it holds {path}.lock); stop that server")]
    Locked { path: String },
    #[error("cannot create {path}.lock: {source}; check that the directory is writable")]
    LockFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is read-only; make it writable")]
    ReadOnly { path: String },
    #[error("database schema version {found} is newer than this mockcrm supports ({supported}); upgrade mockcrm")]
    TooNew { found: i64, supported: i64 },
    #[error("seed is invalid: {0}")]
    InvalidSeed(String),
    /// A write names a contact the caller's organisation does not have.
    #[error("no contact with id {contact_id:?} in this organisation")]
    UnknownContact { contact_id: String },
    /// A record that must exist (one an idempotency key points at) is gone.
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("migrating to schema version {version} left {count} row(s) pointing at rows that do not exist; restore the database from a backup")]
    BrokenReferences { version: i64, count: i64 },
    /// The organisation a request authenticated as was deleted before its
    /// write ran.
    #[error("the organisation was deleted")]
    OrganisationGone,
    #[error("an organisation named {0:?} already exists; pick another name")]
    NameTaken(String),
    /// The queue in front of the store thread is full: the operation was
    /// not queued, so nothing of it happened.
    #[error("the store is busy ({capacity} operations already queued)")]
    Busy { capacity: usize },
    #[error("the store has shut down")]
    Closed,
    #[error("the write could not be committed: {0}")]
    CommitFailed(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON is corrupt: {0}")]
    CorruptJson(#[from] serde_json::Error),
}

impl StoreError {
    /// The database file itself is the problem (another file would do),
    /// rather than the data or the machine.
    pub fn is_about_the_file(&self) -> bool {
        matches!(
            self,
            StoreError::NotADatabase { .. }
                | StoreError::ForeignDatabase { .. }
                | StoreError::Corrupt { .. }
                | StoreError::IsDirectory { .. }
                | StoreError::NoDirectory { .. }
                | StoreError::DirectoryReadOnly { .. }
                | StoreError::Locked { .. }
                | StoreError::ReadOnly { .. }
                | StoreError::TooNew { .. }
        )
    }
}
