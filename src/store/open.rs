//! Opening a database file: the lock that keeps a second mockcrm off it,
//! the checks that it is ours (or empty) before anything is written, the
//! connection's settings, and turning SQLite's and the file system's
//! failures into errors that say what is wrong with the file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{schema, Location, Seed, Store, StoreError};

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
}

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

/// Page size of a new database. Every B-tree page a commit touches goes to
/// the WAL whole, and a keyed create touches eight B-trees (the activity
/// row, its id and three listing indexes, the key row and its index, the
/// sequence) and the header page, at up to sixteen insertion points when
/// sixteen connections create at once. At 4 KiB those frames were ~75% of the bytes a create
/// wrote; at 1 KiB a durable create writes about half as many bytes, and
/// 1-4 KiB bodies pack into 1 KiB pages and their overflow pages with less
/// slack (figures in benches/README.md).
const PAGE_SIZE: i64 = 1024;

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    // A new file only: the page size is fixed once WAL mode writes the
    // header, so an existing file keeps its own.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a 2xx promises the row survives power loss, not only a crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Room for every statement the store prepares (about forty, counting
    // each shape of both listings), so none is parsed again per request.
    conn.set_prepared_statement_cache_capacity(128);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn open_file(path: &Path) -> Result<Store, StoreError> {
        Store::open(&Location::File(path.to_owned()), &Seed::default_seed())
    }

    #[test]
    fn a_second_opener_is_refused_until_the_first_closes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("crm.db");
        let store = open_file(&path).expect("open");
        let held = open_file(&path).err().expect("a second opener is refused");
        assert!(matches!(held, StoreError::Locked { .. }), "{held}");
        drop(store);
        open_file(&path).expect("free again once the first closes");
    }

    #[test]
    fn garbage_and_directories_are_refused_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![b'x'; 4096]).expect("write");
        let err = open_file(&garbage).err().expect("refused");
        assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");
        let err = open_file(dir.path()).err().expect("refused");
        assert!(matches!(err, StoreError::IsDirectory { .. }), "{err}");
        let missing = dir.path().join("no-such-dir").join("crm.db");
        let err = open_file(&missing).err().expect("refused");
        assert!(matches!(err, StoreError::NoDirectory { .. }), "{err}");
    }

    fn pragma(store: &Store, name: &str) -> i64 {
        store
            .conn
            .query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
            .expect("pragma")
    }

    #[test]
    fn a_new_file_gets_small_pages_and_a_backstop_in_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open_file(&dir.path().join("crm.db")).expect("open");
        assert_eq!(pragma(&store, "page_size"), PAGE_SIZE);
        store
            .set_wal_autocheckpoint_bytes(64 << 20)
            .expect("backstop");
        assert_eq!(pragma(&store, "wal_autocheckpoint"), (64 << 20) / PAGE_SIZE);
    }

    /// A file made with 4 KiB pages (every mockcrm before this one) keeps
    /// them: SQLite cannot change a WAL file's page size, and must not be
    /// asked to rewrite a user's database to try. It opens, reads and
    /// writes as before, and its backstop is still 64 MiB.
    #[test]
    fn an_existing_file_keeps_its_page_size_and_its_data() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            let mut conn = Connection::open(&path).expect("create");
            conn.pragma_update(None, "page_size", 4096)
                .expect("page size");
            conn.pragma_update(None, "journal_mode", "WAL")
                .expect("wal");
            schema::migrate(&mut conn).expect("schema");
        }
        let mut store = open_file(&path).expect("open");
        let org = super::super::testing::acme(&store);
        let created = store
            .create_activity(
                org,
                &super::super::testing::new_activity("old-file"),
                super::super::Origin::request(Some(7)),
            )
            .expect("create");
        drop(store);
        let store = open_file(&path).expect("reopen");
        assert_eq!(pragma(&store, "page_size"), 4096);
        let read = store
            .activity(org, &created.id)
            .expect("read")
            .expect("kept");
        assert_eq!(read.session_id.as_deref(), Some("old-file"));
        store
            .set_wal_autocheckpoint_bytes(64 << 20)
            .expect("backstop");
        assert_eq!(pragma(&store, "wal_autocheckpoint"), (64 << 20) / 4096);
    }
}
