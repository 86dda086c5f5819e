//! Fault injection: rules that make matching requests fail or slow down on
//! purpose, a bounded number of times.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A fault as a test asks for it (`POST /__admin/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Exact path, or a prefix when it ends in `*` (`/activity/*`).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Seconds, sent as `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub delay_ms: u64,
    /// How many requests get the fault; until deleted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    #[serde(default = "always")]
    pub probability: f64,
    /// Let the request run (and commit), then answer `status` anyway.
    #[serde(default)]
    pub after_commit: bool,
}

fn always() -> f64 {
    1.0
}

/// Longest delay a fault may add, so a typo cannot hang a test run.
pub const MAX_DELAY_MS: u64 = 60_000;

impl FaultSpec {
    /// Checks the spec; the error names the field at fault.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !self.path.starts_with('/') {
            return Err(("path", "must start with / (e.g. /activity)".into()));
        }
        if let Some(status) = self.status {
            if !(400..=599).contains(&status) {
                return Err((
                    "status",
                    format!("{status} is not an error status (400-599)"),
                ));
            }
        }
        if self.status.is_none() && self.delay_ms == 0 {
            return Err((
                "status",
                "give a status, a delay_ms, or both; this fault would do nothing".into(),
            ));
        }
        if self.after_commit && self.status.is_none() {
            return Err((
                "after_commit",
                "needs a status to answer after the commit".into(),
            ));
        }
        if self.retry_after.is_some() && self.status.is_none() {
            return Err(("retry_after", "needs a status to go with it".into()));
        }
        if self.delay_ms > MAX_DELAY_MS {
            return Err(("delay_ms", format!("must be at most {MAX_DELAY_MS}")));
        }
        if self.times == Some(0) {
            return Err((
                "times",
                "must be at least 1; leave it out for no limit".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(("probability", "must be between 0 and 1".into()));
        }
        if let Some(method) = &self.method {
            if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(("method", format!("{method:?} is not an HTTP method")));
            }
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_matches = self
            .method
            .as_ref()
            .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method));
        let path_matches = match self.path.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => self.path == path,
        };
        method_matches && path_matches
    }
}

/// A registered fault and how often it has fired. One whose `times` are
/// spent stays listed, so that a test can see it fired, but fires no more.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    pub id: String,
    #[serde(flatten)]
    pub spec: FaultSpec,
    pub fired: u64,
}

impl Fault {
    fn spent(&self) -> bool {
        self.spec.times.is_some_and(|times| self.fired >= times)
    }
}

/// What to do to one request.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultAction {
    pub fault_id: String,
    pub delay_ms: u64,
    /// `None`: only delay, then answer normally.
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
    pub after_commit: bool,
}

#[derive(Default)]
pub struct Faults {
    inner: Mutex<FaultList>,
}

#[derive(Default)]
struct FaultList {
    next_id: u64,
    faults: Vec<Fault>,
}

impl Faults {
    pub fn add(&self, spec: FaultSpec) -> Fault {
        let mut inner = lock(&self.inner);
        inner.next_id += 1;
        let fault = Fault {
            id: format!("flt_{}", inner.next_id),
            spec,
            fired: 0,
        };
        inner.faults.push(fault.clone());
        fault
    }

    pub fn list(&self) -> Vec<Fault> {
        lock(&self.inner).faults.clone()
    }

    /// `false` when there was no such fault.
    pub fn remove(&self, id: &str) -> bool {
        let mut inner = lock(&self.inner);
        let before = inner.faults.len();
        inner.faults.retain(|fault| fault.id != id);
        inner.faults.len() != before
    }

    pub fn clear(&self) {
        lock(&self.inner).faults.clear();
    }

    /// The first fault, in the order they were added, that is not spent,
    /// matches, and wins its probability roll; it is counted.
    pub fn fire(&self, method: &str, path: &str) -> Option<FaultAction> {
        let mut inner = lock(&self.inner);
        let fault = inner.faults.iter_mut().find(|fault| {
            !fault.spent()
                && fault.spec.matches(method, path)
                && (fault.spec.probability >= 1.0 || fastrand::f64() < fault.spec.probability)
        })?;
        fault.fired += 1;
        let action = FaultAction {
            fault_id: fault.id.clone(),
            delay_ms: fault.spec.delay_ms,
            status: fault.spec.status,
            retry_after: fault.spec.retry_after,
            after_commit: fault.spec.after_commit,
        };
        Some(action)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is complete before the lock is released; a panic elsewhere
    // cannot leave the list half-changed.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> FaultSpec {
        serde_json::from_str(json).expect("valid spec")
    }

    #[test]
    fn a_fault_fires_its_times_then_stays_listed_as_spent() {
        let faults = Faults::default();
        let added = faults.add(spec(r#"{"path": "/activity", "status": 503, "times": 2}"#));
        assert_eq!(
            faults.fire("POST", "/activity").map(|a| a.status),
            Some(Some(503))
        );
        assert_eq!(
            faults.fire("GET", "/activity").map(|a| a.fault_id),
            Some(added.id)
        );
        assert_eq!(faults.fire("POST", "/activity"), None);
        let listed = faults.list();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].fired, listed[0].spec.times), (2, Some(2)));
    }

    #[test]
    fn method_and_prefix_matching() {
        let faults = Faults::default();
        faults.add(spec(
            r#"{"method": "patch", "path": "/activity/*", "delay_ms": 5}"#,
        ));
        assert_eq!(faults.fire("POST", "/activity/x"), None);
        assert_eq!(faults.fire("PATCH", "/activity"), None);
        let action = faults.fire("PATCH", "/activity/x").expect("fires");
        assert_eq!((action.delay_ms, action.status), (5, None));
        assert_eq!(faults.list()[0].fired, 1);
    }

    #[test]
    fn zero_probability_never_fires() {
        let faults = Faults::default();
        faults.add(spec(
            r#"{"path": "/health", "status": 500, "probability": 0.0}"#,
        ));
        assert!((0..100).all(|_| faults.fire("GET", "/health").is_none()));
    }

    #[test]
    fn nonsense_specs_are_refused_naming_the_field() {
        for (json, field) in [
            (r#"{"path": "activity", "status": 503}"#, "path"),
            (r#"{"path": "/a", "status": 200}"#, "status"),
            (r#"{"path": "/a"}"#, "status"),
            (
                r#"{"path": "/a", "delay_ms": 5, "after_commit": true}"#,
                "after_commit",
            ),
            (r#"{"path": "/a", "status": 503, "times": 0}"#, "times"),
            (
                r#"{"path": "/a", "status": 503, "probability": 2}"#,
                "probability",
            ),
            (r#"{"path": "/a", "delay_ms": 600000}"#, "delay_ms"),
        ] {
            assert_eq!(
                spec(json).validate().map_err(|(f, _)| f),
                Err(field),
                "{json}"
            );
        }
    }
}
