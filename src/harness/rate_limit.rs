//! `--rate-limit N`: at most N requests per second per API key, as a token
//! bucket (bursts up to N, refilled at N per second).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::Clock;

pub struct RateLimiter {
    per_second: f64,
    clock: Clock,
    buckets: Mutex<Buckets>,
}

/// Buckets by key. Every key a client claims gets one, valid or not, so
/// the map is pruned as it grows (see `prune`).
struct Buckets {
    by_key: HashMap<String, Bucket>,
    /// Prune when the map grows past this; doubles with what survives, so
    /// pruning stays amortised O(1) per request.
    prune_at: usize,
}

/// The smallest map worth pruning.
const PRUNE_FLOOR: usize = 1024;

struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

impl RateLimiter {
    /// `per_second` must be at least 1 (the CLI refuses 0); `clock` says
    /// how fast buckets refill.
    pub fn new(per_second: u32, clock: Clock) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_second.max(1)),
            clock,
            buckets: Mutex::new(Buckets {
                by_key: HashMap::new(),
                prune_at: PRUNE_FLOOR,
            }),
        }
    }

    pub fn per_second(&self) -> u32 {
        self.per_second as u32
    }

    /// `Ok` to go ahead, or how long to wait before a token is free.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, self.clock.now())
    }

    /// What is left of `key`'s bucket now, without taking from it: whole
    /// requests still allowed, and seconds until the bucket is full again
    /// (what a CRM's `x-ratelimit-remaining` and `-reset` headers say).
    pub fn remaining(&self, key: &str) -> (u32, u64) {
        self.remaining_at(key, self.clock.now())
    }

    fn remaining_at(&self, key: &str, now: Instant) -> (u32, u64) {
        let buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let tokens = buckets.by_key.get(key).map_or(self.per_second, |bucket| {
            let elapsed = now
                .saturating_duration_since(bucket.refilled_at)
                .as_secs_f64();
            (bucket.tokens + elapsed * self.per_second).min(self.per_second)
        });
        let reset = ((self.per_second - tokens) / self.per_second).ceil() as u64;
        (tokens.floor() as u32, reset)
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.by_key.len() >= buckets.prune_at {
            // A bucket idle for a second has refilled completely, which is
            // exactly the state of a key never seen: forgetting it changes
            // no answer.
            buckets.by_key.retain(|_, bucket| {
                now.saturating_duration_since(bucket.refilled_at) < Duration::from_secs(1)
            });
            buckets.prune_at = (buckets.by_key.len() * 2).max(PRUNE_FLOOR);
        }
        let bucket = buckets.by_key.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.per_second,
            refilled_at: now,
        });
        let elapsed = now
            .saturating_duration_since(bucket.refilled_at)
            .as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.per_second);
        bucket.refilled_at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_of_n_then_refills_per_key() {
        let limiter = RateLimiter::new(3, Clock::Real);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("a", start).is_ok());
        }
        let wait = limiter.check_at("a", start).expect_err("limited");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert!(limiter.check_at("b", start).is_ok(), "keys are separate");
        assert!(limiter
            .check_at("a", start + Duration::from_millis(400))
            .is_ok());
    }

    #[test]
    fn remaining_tells_what_is_left_without_taking_it() {
        let limiter = RateLimiter::new(3, Clock::Real);
        let start = Instant::now();
        assert_eq!(limiter.remaining_at("a", start), (3, 0));
        assert!(limiter.check_at("a", start).is_ok());
        assert!(limiter.check_at("a", start).is_ok());
        assert_eq!(limiter.remaining_at("a", start), (1, 1));
        assert_eq!(
            limiter.remaining_at("a", start),
            (1, 1),
            "peeking takes nothing"
        );
        assert_eq!(
            limiter.remaining_at("a", start + Duration::from_secs(1)),
            (3, 0)
        );
    }

    #[test]
    fn keys_seen_once_are_forgotten_once_their_bucket_is_full_again() {
        let limiter = RateLimiter::new(1, Clock::Real);
        let start = Instant::now();
        for n in 0..10 * PRUNE_FLOOR {
            let at = start + Duration::from_secs(n as u64);
            assert!(limiter.check_at(&format!("junk-{n}"), at).is_ok());
        }
        let buckets = limiter.buckets.lock().expect("lock");
        assert!(
            buckets.by_key.len() <= PRUNE_FLOOR,
            "{}",
            buckets.by_key.len()
        );
    }
}
