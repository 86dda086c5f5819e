//! When and how long the connector waits before trying the CRM again:
//! jittered exponential backoff that honours `Retry-After`, within a bounded
//! number of attempts and a bounded total time.

use std::time::Duration;

use crate::clock::Clock;

/// How the connector retries transient failures (429, 502, 503, 504,
/// connection errors, timeouts). Everything else is final at once.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 means never retry.
    pub max_attempts: u32,
    /// Total time budget for all attempts and the waits between them.
    pub max_total: Duration,
    /// First backoff; it doubles after each failure, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Whose time the budget is counted in and the waits pass on.
    pub clock: Clock,
}

impl Default for RetryPolicy {
    /// Five attempts within 20 seconds: long enough to ride out a CRM
    /// restart or a `Retry-After` of a few seconds, short enough that the
    /// user still sees an answer.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            max_total: Duration::from_secs(20),
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            clock: Clock::Real,
        }
    }
}

impl RetryPolicy {
    /// Never retries: one attempt, the old behaviour.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before attempt `failures + 1`, given the server's
    /// `Retry-After`: a random point in the upper half of the exponential
    /// step ("equal jitter", so concurrent clients spread out but never
    /// hammer), and never less than what the server asked for.
    pub fn backoff(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let exponent = failures.saturating_sub(1).min(20);
        let step = self
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jittered = step / 2 + step.mul_f64(fastrand::f64() / 2.0);
        jittered.max(retry_after.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds_and_honours_retry_after() {
        let policy = RetryPolicy::default();
        for failures in 1..=10 {
            let step = (policy.base_delay * (1 << (failures - 1))).min(policy.max_delay);
            let wait = policy.backoff(failures, None);
            assert!(wait >= step / 2 && wait <= step, "{failures}: {wait:?}");
        }
        let asked = Duration::from_secs(3);
        assert!(policy.backoff(1, Some(asked)) >= asked);
    }
}
