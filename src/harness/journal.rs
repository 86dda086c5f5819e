//! The request journal: the last N requests the CRM API answered, newest
//! first, for tests to inspect. Credentials are never recorded — entries
//! carry no headers at all. Each entry belongs to the organisation whose
//! API key made the request (none for a request without a known key), so
//! a CI job can read and clear its own organisation's entries alone.
//!
//! An entry's id is reserved when its request arrives (`reserve`), before
//! it is answered, so that what the request writes can name it; the entry
//! is recorded once the answer is known. Requests finish in any order, so
//! the journal also numbers entries in the order they were recorded, which
//! is what a live view follows (`recorded_after`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bodies longer than this are kept cut short, so a full journal stays small.
pub const BODY_KEEP: usize = 64 * 1024;

/// Default bound on the memory the journal's entries hold: past it the
/// oldest entries go first, whatever the count. A full journal of 10,000
/// realistic 1–4 KiB requests and answers would alone break the server's
/// 64 MiB memory budget, and freed entries' memory is not always reused at
/// once (glibc keeps an arena per worker thread), so the bound leaves room
/// for both; benches/README.md has the peak figures behind the choice.
pub const DEFAULT_JOURNAL_BYTES: usize = 24 * 1024 * 1024;

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
    /// The public id of the caller's organisation.
    pub org: Option<Arc<str>>,
}

/// The entry as the admin API shows it; bodies that are JSON are shown as
/// JSON, anything else as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub org: Option<String>,
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
            org: self.org.as_deref().map(str::to_owned),
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

impl JournalEntry {
    /// Roughly the memory the entry holds, for the journal's byte bound.
    fn footprint(&self) -> usize {
        std::mem::size_of::<JournalEntry>()
            + self.at.len()
            + self.method.len()
            + self.path.len()
            + self.query.len()
            + self.request_body.len()
            + self.response_body.len()
            + self.fault_id.as_ref().map_or(0, String::len)
            + self.org.as_ref().map_or(0, |org| org.len())
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalFilter {
    pub limit: usize,
    pub method: Option<String>,
    pub path: Option<String>,
    /// Only this organisation's entries (its public id).
    pub org: Option<String>,
}

struct Entries {
    /// The position the next recorded entry takes.
    next_position: u64,
    /// Oldest first, each with its position.
    entries: VecDeque<(u64, JournalEntry)>,
    /// Sum of the entries' footprints.
    bytes: usize,
}

/// A bounded, thread-safe journal: the oldest entries fall off once there
/// are `capacity` of them or they hold more than `max_bytes`.
pub struct Journal {
    capacity: usize,
    max_bytes: usize,
    /// The next id `reserve` hands out; never reused, not even by `clear`.
    next_id: AtomicU64,
    inner: Mutex<Entries>,
}

impl Journal {
    pub fn new(capacity: usize, max_bytes: usize) -> Journal {
        Journal {
            capacity,
            max_bytes,
            next_id: AtomicU64::new(1),
            inner: Mutex::new(Entries {
                next_position: 1,
                entries: VecDeque::new(),
                bytes: 0,
            }),
        }
    }

    /// The id for a request that has just arrived; `None` when the journal
    /// is off, since nothing will be recorded under it.
    pub fn reserve(&self) -> Option<u64> {
        (self.capacity > 0).then(|| self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Records an entry under the id `reserve` gave it. The newest entry is
    /// always kept, even when it alone is over the byte bound.
    pub fn record(&self, entry: JournalEntry) {
        if self.capacity == 0 {
            return;
        }
        let footprint = entry.footprint();
        let mut inner = lock(&self.inner);
        while !inner.entries.is_empty()
            && (inner.entries.len() >= self.capacity || inner.bytes + footprint > self.max_bytes)
        {
            if let Some((_, oldest)) = inner.entries.pop_front() {
                inner.bytes -= oldest.footprint();
            }
        }
        inner.bytes += footprint;
        let position = inner.next_position;
        inner.next_position += 1;
        inner.entries.push_back((position, entry));
    }

    /// The entry recorded under `id`, while the journal still holds it.
    pub fn get(&self, id: u64) -> Option<JournalEntry> {
        let inner = lock(&self.inner);
        inner
            .entries
            .iter()
            .rev()
            .find(|(_, entry)| entry.id == id)
            .map(|(_, entry)| entry.clone())
    }

    /// Entries recorded after position `after` (0: from the start), newest
    /// first, at most `limit` of them, and the position to ask after next
    /// time: the newest recorded, or `after` when nothing new came.
    pub fn recorded_after(&self, after: u64, limit: usize) -> (Vec<JournalEntry>, u64) {
        let inner = lock(&self.inner);
        let newest = inner
            .entries
            .back()
            .map_or(after, |(position, _)| (*position).max(after));
        let entries = inner
            .entries
            .iter()
            .rev()
            .take_while(|(position, _)| *position > after)
            .take(limit)
            .map(|(_, entry)| entry.clone())
            .collect();
        (entries, newest)
    }

    /// Newest first.
    pub fn list(&self, filter: &JournalFilter) -> Vec<JournalEntry> {
        let inner = lock(&self.inner);
        inner
            .entries
            .iter()
            .rev()
            .map(|(_, entry)| entry)
            .filter(|entry| {
                filter
                    .method
                    .as_ref()
                    .is_none_or(|method| entry.method.eq_ignore_ascii_case(method))
            })
            .filter(|entry| filter.path.as_ref().is_none_or(|path| &entry.path == path))
            .filter(|entry| filter.org.as_deref().is_none_or(|org| belongs(entry, org)))
            .take(filter.limit)
            .cloned()
            .collect()
    }

    /// Empties the journal, or (`Some(org)`) removes that organisation's
    /// entries alone.
    pub fn clear(&self, org: Option<&str>) {
        let mut inner = lock(&self.inner);
        let Some(org) = org else {
            inner.entries.clear();
            inner.bytes = 0;
            return;
        };
        let mut freed = 0;
        inner.entries.retain(|(_, entry)| {
            let gone = belongs(entry, org);
            if gone {
                freed += entry.footprint();
            }
            !gone
        });
        inner.bytes -= freed;
    }
}

fn belongs(entry: &JournalEntry, org: &str) -> bool {
    entry.org.as_deref() == Some(org)
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
            org: None,
        }
    }

    fn record(journal: &Journal, mut entry: JournalEntry) {
        entry.id = journal.reserve().expect("journal on");
        journal.record(entry);
    }

    #[test]
    fn keeps_the_newest_entries_up_to_capacity() {
        let journal = Journal::new(3, DEFAULT_JOURNAL_BYTES);
        for n in 0..5 {
            record(&journal, entry(&format!("/p{n}")));
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
    fn the_oldest_entries_go_once_the_bodies_pass_the_byte_bound() {
        let mut big = entry("/big");
        big.request_body = Bytes::from(vec![b'x'; 1000]);
        let bound = 3 * big.footprint();
        let journal = Journal::new(100, bound);
        for n in 0..5 {
            let mut entry = big.clone();
            entry.path = format!("/p{n}");
            record(&journal, entry);
        }
        let all = journal.list(&JournalFilter {
            limit: 10,
            ..JournalFilter::default()
        });
        let paths: Vec<_> = all.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/p4", "/p3", "/p2"]);

        let mut huge = entry("/huge");
        huge.request_body = Bytes::from(vec![b'x'; bound]);
        record(&journal, huge);
        let all = journal.list(&JournalFilter {
            limit: 10,
            ..JournalFilter::default()
        });
        let paths: Vec<_> = all.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/huge"], "the newest entry stays, alone");
    }

    #[test]
    fn bodies_show_as_json_or_text_and_are_cut_short() {
        let view = entry("/x").view();
        assert_eq!(view.request_body, serde_json::json!({"a": 1}));
        assert_eq!(view.response_body, Value::from("not json"));
        let big = Bytes::from(vec![b'x'; BODY_KEEP + 10]);
        assert_eq!(kept(&big).len(), BODY_KEEP);
    }

    #[test]
    fn ids_are_reserved_on_arrival_and_the_live_view_follows_recording_order() {
        let journal = Journal::new(10, DEFAULT_JOURNAL_BYTES);
        let (first, second) = (journal.reserve(), journal.reserve());
        assert_eq!((first, second), (Some(1), Some(2)));
        // The second request finishes first.
        let mut quick = entry("/quick");
        quick.id = 2;
        journal.record(quick);
        let (seen, cursor) = journal.recorded_after(0, 10);
        assert_eq!(seen.iter().map(|e| e.id).collect::<Vec<_>>(), [2]);
        let mut slow = entry("/slow");
        slow.id = 1;
        journal.record(slow);
        let (seen, next) = journal.recorded_after(cursor, 10);
        assert_eq!(
            seen.iter().map(|e| e.id).collect::<Vec<_>>(),
            [1],
            "not missed"
        );
        assert_eq!(journal.recorded_after(next, 10), (vec![], next));
        assert_eq!(journal.get(1).map(|e| e.path), Some("/slow".to_owned()));
        assert_eq!(journal.get(3), None);
        assert_eq!(Journal::new(0, 1).reserve(), None, "off: nothing to name");
    }

    #[test]
    fn entries_are_listed_and_cleared_by_organisation() {
        let journal = Journal::new(100, DEFAULT_JOURNAL_BYTES);
        for (path, org) in [
            ("/a1", Some("org_a")),
            ("/b1", Some("org_b")),
            ("/none", None),
            ("/a2", Some("org_a")),
        ] {
            let mut entry = entry(path);
            entry.org = org.map(Arc::from);
            record(&journal, entry);
        }
        let paths = |org: Option<&str>| -> Vec<String> {
            journal
                .list(&JournalFilter {
                    limit: 10,
                    org: org.map(str::to_owned),
                    ..JournalFilter::default()
                })
                .into_iter()
                .map(|entry| entry.path)
                .collect()
        };
        assert_eq!(paths(Some("org_a")), ["/a2", "/a1"]);
        assert_eq!(paths(Some("org_c")), Vec::<String>::new());
        assert_eq!(paths(None).len(), 4);
        journal.clear(Some("org_a"));
        assert_eq!(paths(None), ["/none", "/b1"]);
        let inner = lock(&journal.inner);
        let expected: usize = inner.entries.iter().map(|(_, e)| e.footprint()).sum();
        assert_eq!(inner.bytes, expected, "the byte count follows what is left");
    }
}
