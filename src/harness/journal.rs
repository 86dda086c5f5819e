//! The request journal: the last N requests the CRM API answered, newest
//! first, for tests to inspect. Credentials are never recorded — entries
//! carry no headers at all.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

/// Bodies longer than this are kept cut short, so a full journal stays small.
pub const BODY_KEEP: usize = 64 * 1024;

/// One answered request.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub id: u64,
    pub at: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub duration_ms: f64,
    pub request_body: Bytes,
    pub response_body: Bytes,
    pub fault_id: Option<String>,
}

/// The entry as the admin API shows it; bodies that are JSON are shown as
/// JSON, anything else as text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalView {
    pub id: u64,
    pub at: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub duration_ms: f64,
    pub request_body: Value,
    pub response_body: Value,
    pub fault_id: Option<String>,
}

impl JournalEntry {
    pub fn view(&self) -> JournalView {
        JournalView {
            id: self.id,
            at: self.at.clone(),
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            status: self.status,
            duration_ms: self.duration_ms,
            request_body: body_value(&self.request_body),
            response_body: body_value(&self.response_body),
            fault_id: self.fault_id.clone(),
        }
    }
}

fn body_value(body: &Bytes) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(body).into_owned()))
}

/// Cuts a body to `BODY_KEEP` bytes. A small body shares its buffer (no
/// copy); a big one is copied, because a slice would keep the whole buffer
/// (up to the 1 MiB body limit) alive for as long as the entry lives, and
/// a full journal of those is gigabytes.
pub fn kept(body: &Bytes) -> Bytes {
    if body.len() <= BODY_KEEP {
        body.clone()
    } else {
        Bytes::copy_from_slice(&body[..BODY_KEEP])
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalFilter {
    pub limit: usize,
    pub method: Option<String>,
    pub path: Option<String>,
}

struct Entries {
    next_id: u64,
    entries: VecDeque<JournalEntry>,
}

/// A bounded, thread-safe journal: the oldest entries fall off.
pub struct Journal {
    capacity: usize,
    inner: Mutex<Entries>,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            inner: Mutex::new(Entries {
                next_id: 1,
                entries: VecDeque::new(),
            }),
        }
    }

    /// Records an entry, giving it the next id.
    pub fn record(&self, mut entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let mut inner = lock(&self.inner);
        entry.id = inner.next_id;
        inner.next_id += 1;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// Newest first.
    pub fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        let inner = lock(&self.inner);
        inner
            .entries
            .iter()
            .rev()
            .filter(|entry| {
                filter
                    .method
                    .as_ref()
                    .is_none_or(|method| entry.method.eq_ignore_ascii_case(method))
            })
            .filter(|entry| filter.path.as_ref().is_none_or(|path| &entry.path == path))
            .take(filter.limit)
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        lock(&self.inner).entries.clear();
    }
}

/// A poisoned lock only means another request panicked mid-update; the
/// journal's data is still whole (every update is a single push or pop).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> JournalEntry {
        JournalEntry {
            id: 0,
            at: "t".into(),
            method: "POST".into(),
            path: path.into(),
            query: String::new(),
            status: 201,
            duration_ms: 1.0,
            request_body: Bytes::from_static(b"{\"a\":1}"),
            response_body: Bytes::from_static(b"not json"),
            fault_id: None,
        }
    }

    #[test]
    fn keeps_the_newest_entries_up_to_capacity() {
        let journal = Journal::new(3);
        for n in 0..5 {
            journal.record(entry(&format!("/p{n}")));
        }
        let all = journal.list(&JournalFilter {
            limit: 10,
            ..JournalFilter::default()
        });
        let paths: Vec<_> = all.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/p4", "/p3", "/p2"]);
        assert_eq!(all[0].id, 5);
    }

    #[test]
    fn bodies_show_as_json_or_text_and_are_cut_short() {
        let view = entry("/x").view();
        assert_eq!(view.request_body, serde_json::json!({"a": 1}));
        assert_eq!(view.response_body, Value::from("not json"));
        let big = Bytes::from(vec![b'x'; BODY_KEEP + 10]);
        assert_eq!(kept(&big).len(), BODY_KEEP);
    }
}
