//! Test-harness powers kept in memory beside the API: the request journal,
//! injected faults and the per-key rate limiter. This module holds state and
//! rules only; it must not speak HTTP (the API applies it) nor touch SQL.
//! Idempotency keys are not here: they must survive a restart, so they live
//! in the store.

mod faults;
mod journal;
mod rate_limit;

pub use faults::{Fault, FaultKind, FaultSpec, Faults};
pub use journal::{kept, Journal, JournalEntry, JournalFilter, JournalView, DEFAULT_JOURNAL_BYTES};
pub use rate_limit::RateLimiter;

use crate::clock::Clock;

/// Default number of requests the journal keeps.
pub const DEFAULT_JOURNAL_SIZE: usize = 10_000;

/// Everything the harness keeps for one server.
pub struct Harness {
    pub journal: Journal,
    pub faults: Faults,
    pub rate_limiter: Option<RateLimiter>,
    /// What rate-limit refills and fault delays are timed by.
    pub clock: Clock,
}

impl Harness {
    pub fn new(
        journal_size: usize,
        journal_bytes: usize,
        rate_limit: Option<u32>,
        clock: Clock,
    ) -> Harness {
        Harness {
            journal: Journal::new(journal_size, journal_bytes),
            faults: Faults::default(),
            rate_limiter: rate_limit.map(|per_second| RateLimiter::new(per_second, clock.clone())),
            clock,
        }
    }
}
