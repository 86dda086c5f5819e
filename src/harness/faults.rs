//! Fault injection: rules that make matching requests fail, slow down or
//! lose their connection on purpose, a bounded number of times, for every
//! organisation or for one. This module decides which fault a request gets;
//! the API and the connection level carry it out.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// What a fault does to the requests it matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `status` (or only delay the normal answer).
    #[default]
    Status,
    /// Close the connection at once, with a TCP reset, answering nothing.
    Reset,
    /// Close the connection after reading the request, answering nothing.
    Empty,
    /// Send the answer's head and part of its body, then close.
    Truncated,
    /// Send the answer slowly, spread over `delay_ms`.
    Dribble,
}

impl FaultKind {
    fn name(self) -> &'static str {
        match self {
            FaultKind::Status => "status",
            FaultKind::Reset => "reset",
            FaultKind::Empty => "empty",
            FaultKind::Truncated => "truncated",
            FaultKind::Dribble => "dribble",
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A fault as a test asks for it (`POST /__admin/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Exact path, or a prefix when it ends in `*` (`/activity/*`).
    pub path: String,
    #[serde(default)]
    pub kind: FaultKind,
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
    /// Let the request run (and commit), then answer `status` anyway, or
    /// (`reset`, `empty`) close the connection anyway.
    #[serde(default)]
    pub after_commit: bool,
    /// Only requests made with an API key of this organisation (its public
    /// id); every request when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
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
        self.validate_kind()?;
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

    /// What each kind needs and refuses.
    fn validate_kind(&self) -> Result<(), (&'static str, String)> {
        let kind = self.kind;
        match kind {
            FaultKind::Status => {
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
            }
            FaultKind::Reset | FaultKind::Empty => {
                if self.status.is_some() {
                    return Err((
                        "status",
                        format!("a {kind} fault answers nothing, so it takes no status"),
                    ));
                }
            }
            FaultKind::Truncated | FaultKind::Dribble => {
                if kind == FaultKind::Dribble && self.delay_ms == 0 {
                    return Err((
                        "delay_ms",
                        "a dribble fault needs the time to spread the answer over (delay_ms > 0)"
                            .into(),
                    ));
                }
                if self.after_commit && self.status.is_none() {
                    return Err((
                        "after_commit",
                        format!(
                            "needs a status; a {kind} fault without one sends the real answer, \
                             so the request runs (and commits) anyway"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str, org: Option<&str>) -> bool {
        if self
            .org
            .as_deref()
            .is_some_and(|wanted| Some(wanted) != org)
        {
            return false;
        }
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
    pub kind: FaultKind,
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

    /// Every fault, or (`Some(org)`) the faults limited to that
    /// organisation.
    pub fn list(&self, org: Option<&str>) -> Vec<Fault> {
        lock(&self.inner)
            .faults
            .iter()
            .filter(|fault| in_scope(fault, org))
            .cloned()
            .collect()
    }

    /// `false` when there was no such fault (in `org`, when given).
    pub fn remove(&self, id: &str, org: Option<&str>) -> bool {
        let mut inner = lock(&self.inner);
        let before = inner.faults.len();
        inner
            .faults
            .retain(|fault| fault.id != id || !in_scope(fault, org));
        inner.faults.len() != before
    }

    /// Removes every fault, or (`Some(org)`) those limited to that
    /// organisation.
    pub fn clear(&self, org: Option<&str>) {
        lock(&self.inner)
            .faults
            .retain(|fault| !in_scope(fault, org));
    }

    /// The first fault, in the order they were added, that is not spent,
    /// matches (`org` is the caller's organisation, if the request carried
    /// a known key), and wins its probability roll; it is counted.
    pub fn fire(&self, method: &str, path: &str, org: Option<&str>) -> Option<FaultAction> {
        let mut inner = lock(&self.inner);
        let fault = inner.faults.iter_mut().find(|fault| {
            !fault.spent()
                && fault.spec.matches(method, path, org)
                && (fault.spec.probability >= 1.0 || fastrand::f64() < fault.spec.probability)
        })?;
        fault.fired += 1;
        let action = FaultAction {
            fault_id: fault.id.clone(),
            kind: fault.spec.kind,
            delay_ms: fault.spec.delay_ms,
            status: fault.spec.status,
            retry_after: fault.spec.retry_after,
            after_commit: fault.spec.after_commit,
        };
        Some(action)
    }
}

/// Whether `fault` is among an organisation's (`Some`), or among all.
fn in_scope(fault: &Fault, org: Option<&str>) -> bool {
    org.is_none_or(|org| fault.spec.org.as_deref() == Some(org))
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
            faults.fire("POST", "/activity", None).map(|a| a.status),
            Some(Some(503))
        );
        assert_eq!(
            faults.fire("GET", "/activity", None).map(|a| a.fault_id),
            Some(added.id)
        );
        assert_eq!(faults.fire("POST", "/activity", None), None);
        let listed = faults.list(None);
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].fired, listed[0].spec.times), (2, Some(2)));
    }

    #[test]
    fn method_and_prefix_matching() {
        let faults = Faults::default();
        faults.add(spec(
            r#"{"method": "patch", "path": "/activity/*", "delay_ms": 5}"#,
        ));
        assert_eq!(faults.fire("POST", "/activity/x", None), None);
        assert_eq!(faults.fire("PATCH", "/activity", None), None);
        let action = faults.fire("PATCH", "/activity/x", None).expect("fires");
        assert_eq!((action.delay_ms, action.status), (5, None));
        assert_eq!(faults.list(None)[0].fired, 1);
    }

    #[test]
    fn zero_probability_never_fires() {
        let faults = Faults::default();
        faults.add(spec(
            r#"{"path": "/health", "status": 500, "probability": 0.0}"#,
        ));
        assert!((0..100).all(|_| faults.fire("GET", "/health", None).is_none()));
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
            (
                r#"{"path": "/a", "kind": "reset", "status": 503}"#,
                "status",
            ),
            (
                r#"{"path": "/a", "kind": "empty", "status": 502}"#,
                "status",
            ),
            (r#"{"path": "/a", "kind": "dribble"}"#, "delay_ms"),
            (
                r#"{"path": "/a", "kind": "truncated", "after_commit": true}"#,
                "after_commit",
            ),
            (
                r#"{"path": "/a", "kind": "reset", "retry_after": 1}"#,
                "retry_after",
            ),
        ] {
            assert_eq!(
                spec(json).validate().map_err(|(f, _)| f),
                Err(field),
                "{json}"
            );
        }
    }

    #[test]
    fn connection_kinds_need_no_status_and_keep_after_commit() {
        for json in [
            r#"{"path": "/a", "kind": "reset"}"#,
            r#"{"path": "/a", "kind": "empty", "after_commit": true, "delay_ms": 5}"#,
            r#"{"path": "/a", "kind": "truncated"}"#,
            r#"{"path": "/a", "kind": "truncated", "status": 503, "after_commit": true}"#,
            r#"{"path": "/a", "kind": "dribble", "delay_ms": 100}"#,
        ] {
            assert_eq!(spec(json).validate(), Ok(()), "{json}");
        }
        assert!(serde_json::from_str::<FaultSpec>(r#"{"path": "/a", "kind": "explode"}"#).is_err());
    }

    #[test]
    fn a_fault_for_one_organisation_fires_only_for_it_and_is_listed_only_for_it() {
        let faults = Faults::default();
        let theirs = faults.add(spec(
            r#"{"path": "/activity", "status": 503, "org": "org_a"}"#,
        ));
        let everyone = faults.add(spec(r#"{"path": "/activity", "status": 502}"#));
        assert_eq!(
            faults
                .fire("POST", "/activity", Some("org_a"))
                .map(|a| a.fault_id),
            Some(theirs.id.clone())
        );
        assert_eq!(
            faults
                .fire("POST", "/activity", Some("org_b"))
                .map(|a| a.fault_id),
            Some(everyone.id.clone())
        );
        assert_eq!(
            faults.fire("POST", "/activity", None).map(|a| a.fault_id),
            Some(everyone.id.clone())
        );
        let ids = |listed: Vec<Fault>| listed.into_iter().map(|f| f.id).collect::<Vec<_>>();
        assert_eq!(
            ids(faults.list(Some("org_a"))),
            std::slice::from_ref(&theirs.id)
        );
        assert_eq!(ids(faults.list(Some("org_b"))), Vec::<String>::new());
        assert_eq!(ids(faults.list(None)).len(), 2);
        assert!(!faults.remove(&everyone.id, Some("org_a")), "not org_a's");
        assert!(!faults.remove(&theirs.id, Some("org_b")), "not org_b's");
        faults.clear(Some("org_b"));
        assert_eq!(faults.list(None).len(), 2);
        faults.clear(Some("org_a"));
        assert_eq!(ids(faults.list(None)), [everyone.id]);
    }
}
