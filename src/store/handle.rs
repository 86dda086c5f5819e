//! Runs a `Store` on its own OS thread so SQLite never blocks the async
//! runtime's workers. One thread owning one connection also makes every
//! check-then-write (idempotency keys) atomic without locks, and keeps a
//! `:memory:` database a single database.
//!
//! Group commit: when several operations are queued, the thread runs them
//! all inside one transaction (each in its own savepoint, so one failing
//! operation rolls back alone) and commits once. Answers go out only after
//! that commit, so "answered" still means "committed" — but N concurrent
//! writes cost one fsync instead of N.
//!
//! The queue in front of the thread is bounded: when it is full, an
//! operation is refused at once with `StoreError::Busy` instead of waiting
//! (the API answers 503 with `Retry-After`), so a flood cannot grow memory
//! without limit. A refused operation never ran; an accepted one always
//! runs and is answered after its commit, so an acknowledged write is never
//! dropped.
//!
//! Reads (`StoreHandle::read`) do not join a batch: the thread runs each as
//! soon as it takes it off the queue, outside any transaction, and answers
//! at once. A read so sees only committed data and never waits for someone
//! else's fsync. Taking a read ahead of writes queued before it is safe:
//! none of those writes has been answered yet, so no client can tell.

use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::checkpoint::{self, Checkpointer};
use super::{Caller, CallerCache, Store, StoreError};

/// Most operations one commit carries; bounds the latency of the first.
const MAX_BATCH: usize = 256;

/// A write, run on the store thread; it returns its answer, held back
/// until the batch it ran in has committed.
type Write = Box<dyn FnOnce(&mut Store) -> Box<dyn Pending> + Send>;

/// A read, run outside any transaction; it answers by itself.
type Read = Box<dyn FnOnce(&Store) + Send>;

enum Job {
    Write(Write),
    Read(Read),
}

/// An answer waiting for its batch's commit.
trait Pending: Send {
    fn deliver(self: Box<Self>);
    /// The batch did not commit: an operation that succeeded must not say so.
    fn fail(self: Box<Self>, reason: String);
}

struct Answer<T> {
    to: oneshot::Sender<Result<T, StoreError>>,
    result: Result<T, StoreError>,
}

impl<T: Send> Pending for Answer<T> {
    fn deliver(self: Box<Self>) {
        // The asker may have gone (client hung up); the write still stands.
        let _ = self.to.send(self.result);
    }

    fn fail(self: Box<Self>, reason: String) {
        let result = match self.result {
            Ok(_) => Err(StoreError::CommitFailed(reason)),
            Err(error) => Err(error),
        };
        let _ = self.to.send(result);
    }
}

/// A cheap, cloneable handle to the store thread.
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::SyncSender<Job>,
    /// How many jobs may wait in the queue.
    capacity: usize,
    callers: Arc<CallerCache>,
}

/// Test-only: keeps the store thread busy until dropped (see
/// `StoreHandle::hold`).
pub struct StoreHold {
    _release: mpsc::Sender<()>,
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
    /// Moves `store` onto a new thread, with room for `capacity` queued
    /// operations (at least one).
    pub fn spawn(store: Store, capacity: usize) -> Result<(StoreHandle, StoreThread), StoreError> {
        let capacity = capacity.max(1);
        let (jobs, queue) = mpsc::sync_channel::<Job>(capacity);
        let callers = store.caller_cache();
        let checkpointer = start_checkpointer(&store);
        let thread = std::thread::Builder::new()
            .name("mockcrm-store".into())
            .spawn(move || {
                let mut store = store;
                while let Ok(first) = queue.recv() {
                    let mut writes = Vec::new();
                    let mut taken = 0;
                    let mut next = Some(first);
                    while let Some(job) = next {
                        match job {
                            Job::Read(read) => read(&store),
                            Job::Write(write) => writes.push(write),
                        }
                        taken += 1;
                        // Bounded in reads too, so a stream of reads cannot
                        // hold back the writes already taken.
                        if taken == MAX_BATCH {
                            break;
                        }
                        next = queue.try_recv().ok();
                    }
                    if !writes.is_empty() {
                        run_batch(&mut store, writes);
                        if let Some(checkpointer) = &checkpointer {
                            checkpointer.wrote();
                        }
                    }
                }
                if let Some(checkpointer) = checkpointer {
                    checkpointer.stop();
                }
                // `store` drops here: SQLite checkpoints the WAL and closes.
            })
            .map_err(|_| StoreError::Closed)?;
        Ok((
            StoreHandle {
                jobs,
                capacity,
                callers,
            },
            StoreThread { thread },
        ))
    }

    /// Runs `operation` on the store thread and waits until it has run and
    /// its changes are committed: this is where "a store write that returns
    /// `Ok` has committed" holds (a `Store` method on its own may be running
    /// inside a batch's transaction that has not committed yet). A batch
    /// that fails to commit turns every `Ok` in it into `CommitFailed`.
    pub async fn run<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (to, answered) = oneshot::channel();
        let job: Write = Box::new(move |store| {
            Box::new(Answer {
                to,
                result: operation(store),
            })
        });
        self.enqueue(Job::Write(job))?;
        answered.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues `job`, or refuses it at once when the queue is full.
    fn enqueue(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.try_send(job).map_err(|error| match error {
            mpsc::TrySendError::Full(_) => StoreError::Busy {
                capacity: self.capacity,
            },
            mpsc::TrySendError::Disconnected(_) => StoreError::Closed,
        })
    }

    /// Runs a read-only `operation` on the store thread, outside any
    /// transaction, and answers without waiting for queued writes to commit.
    /// `Store`'s writing methods take `&mut self`, so they cannot be called
    /// from here.
    pub async fn read<T, F>(&self, operation: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (to, answered) = oneshot::channel();
        let job: Read = Box::new(move |store| {
            // The asker may have gone (client hung up); nothing to undo.
            let _ = to.send(operation(store));
        });
        self.enqueue(Job::Read(job))?;
        answered.await.map_err(|_| StoreError::Closed)?
    }

    /// Test-only: occupies the store thread with a job that waits until
    /// the returned `StoreHold` is dropped, and returns once that job is
    /// running, so the queue is empty and nothing behind it runs. This is
    /// how a test fills the queue deterministically (tests/suite/overload.rs);
    /// nothing else calls it.
    pub async fn hold(&self) -> Result<StoreHold, StoreError> {
        let (started, running) = oneshot::channel::<()>();
        let (release, released) = mpsc::channel::<()>();
        let job: Read = Box::new(move |_store| {
            let _ = started.send(());
            // Returns when the hold is dropped (its sender with it).
            let _ = released.recv();
        });
        self.enqueue(Job::Read(job))?;
        running.await.map_err(|_| StoreError::Closed)?;
        Ok(StoreHold { _release: release })
    }

    /// The caller behind an API key. Every request but `/health` asks this,
    /// so known keys are answered from memory without a trip to the store
    /// thread (see `CallerCache`).
    pub async fn caller_for_key(&self, key: String) -> Result<Option<Caller>, StoreError> {
        if let Some(caller) = self.callers.get(&key) {
            return Ok(Some(caller));
        }
        self.read(move |store| store.caller_for_key(&key)).await
    }
}

/// A background checkpointer for a file database (see `checkpoint.rs`).
/// Without one, SQLite's automatic checkpoint goes on as before.
fn start_checkpointer(store: &Store) -> Option<Checkpointer> {
    let path = store.file_path()?;
    let started = Checkpointer::start(path).and_then(|checkpointer| {
        store.set_wal_autocheckpoint_bytes(checkpoint::BACKSTOP_BYTES)?;
        Ok(checkpointer)
    });
    match started {
        Ok(checkpointer) => Some(checkpointer),
        Err(error) => {
            tracing::warn!(%error, "no background checkpointer; commits checkpoint as they go");
            None
        }
    }
}

fn run_batch(store: &mut Store, batch: Vec<Write>) {
    if batch.len() == 1 {
        // Alone, an operation's own savepoint is its transaction.
        for job in batch {
            job(store).deliver();
        }
        return;
    }
    if let Err(error) = store.begin_batch() {
        // Could not open the shared transaction: run each on its own.
        tracing::warn!(%error, "group commit unavailable; committing one by one");
        for job in batch {
            job(store).deliver();
        }
        return;
    }
    let answers: Vec<Box<dyn Pending>> = batch.into_iter().map(|job| job(store)).collect();
    match store.commit_batch() {
        Ok(()) => answers.into_iter().for_each(Pending::deliver),
        Err(error) => {
            let reason = error.to_string();
            tracing::error!(%reason, "group commit failed; every write in it is refused");
            store.rollback_batch();
            answers
                .into_iter()
                .for_each(|answer| answer.fail(reason.clone()));
        }
    }
}
