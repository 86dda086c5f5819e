//! Runs a `Store` on its own OS thread so SQLite never blocks the async
//! runtime's workers. One thread owning one connection also makes every
//! check-then-write (idempotency keys) atomic without locks, and keeps a
//! `:memory:` database a single database.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::{Store, StoreError};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// A cheap, cloneable handle to the store thread.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
}

/// Owns the store thread; dropping every `StoreHandle` and then calling
/// `join` closes the database cleanly.
pub struct StoreThread {
    thread: JoinHandle<()>,
}

impl StoreThread {
    /// Waits for queued jobs to finish and the connection to close.
    pub fn join(self) {
        // A panic on the store thread has already been reported by the
        // panic hook; there is nothing more to do with it here.
        let _ = self.thread.join();
    }
}

impl StoreHandle {
    /// Moves `store` onto a new thread.
    pub fn spawn(store: Store) -> Result<(StoreHandle, StoreThread), StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("mockcrm-store".into())
            .spawn(move || {
                let mut store = store;
                while let Ok(job) = queue.recv() {
                    job(&mut store);
                }
                // `store` drops here: SQLite checkpoints the WAL and closes.
            })
            .map_err(|_| StoreError::Closed)?;
        Ok((StoreHandle { jobs }, StoreThread { thread }))
    }

    /// Runs `operation` on the store thread and waits for its answer.
    pub async fn run<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            // The asker may have gone (client hung up); the write still stands.
            let _ = answer.send(operation(store));
        });
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}
