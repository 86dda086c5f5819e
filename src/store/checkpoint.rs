//! Checkpointing the WAL on a thread of its own.
//!
//! SQLite's automatic checkpoint runs inside whichever COMMIT pushes the WAL
//! past 1000 pages: that commit then copies ~4 MiB into the database file and
//! fsyncs it before it returns, and on the store thread every request queued
//! behind it waits too, for as long as the disk takes to sync. Here a
//! second connection does PASSIVE checkpoints instead, shortly after writes,
//! while the store thread goes on committing. PASSIVE never blocks the
//! writer and with `synchronous=FULL` it fsyncs the WAL before copying and
//! the database after, so durability is exactly as before. The store's own
//! automatic checkpoint stays on, at a much larger threshold, in case this
//! thread ever falls behind, and to restart the WAL under steady writes.

use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// Bytes the WAL may hold before the store thread checkpoints by itself
/// (64 MiB, whatever the file's page size). Under a steady stream of
/// writes this is also what restarts the WAL: a PASSIVE checkpoint from
/// here never catches up with a writer that keeps appending, so only the
/// writer's own checkpoint leaves nothing to copy.
pub const BACKSTOP_BYTES: i64 = 64 << 20;

/// How long the checkpointer lets writes gather before copying them: long
/// enough that a page rewritten by many commits (an index's last page) is
/// copied once, short enough that the WAL stays a few MiB.
const GATHER: Duration = Duration::from_millis(100);

/// The running checkpointer; `wrote` after each commit, `stop` at the end.
pub struct Checkpointer {
    wrote: mpsc::SyncSender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    /// Opens a second connection to `path` and starts the thread.
    pub fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // The checkpoint's fsyncs follow this connection's setting.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // One pending signal is enough: it means "there is something to copy".
        let (wrote, written) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("mockcrm-checkpoint".into())
            .spawn(move || run(&conn, &written))
            .map_err(|_| StoreError::Closed)?;
        Ok(Checkpointer { wrote, thread })
    }

    /// Says the WAL has new frames; never blocks.
    pub fn wrote(&self) {
        let _ = self.wrote.try_send(());
    }

    /// Ends the thread after one last checkpoint.
    pub fn stop(self) {
        drop(self.wrote);
        // A panic there has been reported by the panic hook already.
        let _ = self.thread.join();
    }
}

fn run(conn: &Connection, written: &mpsc::Receiver<()>) {
    while written.recv().is_ok() {
        std::thread::sleep(GATHER);
        // Writes during the sleep are in this checkpoint; drop their signals.
        while written.try_recv().is_ok() {}
        checkpoint(conn);
    }
    checkpoint(conn);
}

fn checkpoint(conn: &Connection) {
    // Busy (another checkpoint running) or an I/O error: the frames stay in
    // the WAL, where they are durable, and the next signal tries again.
    if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
        tracing::warn!(%error, "background checkpoint failed; will retry");
    }
}
