//! Time as mockcrm's timing rules read it: the connector's waits between
//! retries and the server's per-key rate limit. Tests swap the real clock
//! for a manual one, so that no test sleeps and no outcome depends on how
//! fast the machine is. This module only tells and passes time; it knows
//! nothing of what is being timed.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Where `now` comes from and how a wait happens.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system's monotonic clock; waits sleep.
    #[default]
    Real,
    /// Time that moves only when told to: a wait is noted and moves it on at
    /// once, and `ManualClock::advance` moves it by hand.
    Manual(ManualClock),
}

/// The handle a test keeps to move a manual clock and see what waited.
#[derive(Debug, Clone)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    origin: Instant,
    elapsed: Duration,
    waits: Vec<Duration>,
}

impl Clock {
    /// A manual clock, and the handle that moves it.
    pub fn manual() -> (Clock, ManualClock) {
        let handle = ManualClock {
            state: Arc::new(Mutex::new(ManualState {
                origin: Instant::now(),
                elapsed: Duration::ZERO,
                waits: Vec::new(),
            })),
        };
        (Clock::Manual(handle.clone()), handle)
    }

    pub fn now(&self) -> Instant {
        match self {
            Clock::Real => Instant::now(),
            Clock::Manual(manual) => {
                let state = manual.lock();
                state.origin + state.elapsed
            }
        }
    }

    /// Lets `duration` pass: sleeps on the real clock, moves a manual one.
    pub async fn wait(&self, duration: Duration) {
        match self {
            Clock::Real => tokio::time::sleep(duration).await,
            Clock::Manual(manual) => {
                let mut state = manual.lock();
                state.elapsed += duration;
                state.waits.push(duration);
            }
        }
    }
}

impl ManualClock {
    /// Moves the clock on, as if `duration` had passed.
    pub fn advance(&self, duration: Duration) {
        self.lock().elapsed += duration;
    }

    /// Every wait so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.lock().waits.clone()
    }

    fn lock(&self) -> MutexGuard<'_, ManualState> {
        // Each change leaves the state whole, so a panic elsewhere while the
        // lock was held cannot have broken it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_only_by_waits_and_advances() {
        let (clock, handle) = Clock::manual();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.wait(Duration::from_secs(3)).await;
        handle.advance(Duration::from_millis(500));
        assert_eq!(clock.now() - start, Duration::from_millis(3500));
        assert_eq!(handle.waits(), vec![Duration::from_secs(3)]);
    }
}
