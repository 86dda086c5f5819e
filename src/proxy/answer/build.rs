//! Building one answer so that every path a response mapping reads holds
//! its value: the record's stored fields placed beside the mapped paths,
//! the values put over them, and each path checked afterwards.
//!
//! Three rules make an answer from paths that do not each have a place of
//! their own (`settle`, which the OpenAPI description follows too). Paths
//! that are the same get one value, the first one wanted (the layout lists
//! the value App Connect relies on most first: the id).
//! A path mapped with no value (the CRM holds none: a timezone name, a
//! message) holds `null`, unless other paths inside it already make it an
//! object. App Connect's default path for a key the config leaves unset
//! yields to any mapped path it equals or nests with.
//!
//! Pure: values in, JSON out.

use serde_json::{Map, Value};

use super::AnswerError;
use crate::proxy::{path, Operation};

/// One path App Connect reads, with what the answer holds there: a value
/// (`V`: JSON for an answer, what kind of value for its schema).
#[derive(Debug, Clone)]
pub(crate) struct Want<'p, V> {
    /// How a message names it: `idPath`, `item.namePath`,
    /// `platformAdditionalInfoPaths.userKey`.
    pub key: String,
    pub path: &'p str,
    /// `None`: the CRM holds no value here.
    pub value: Option<V>,
    /// Set in the config, rather than App Connect's default for a key the
    /// config leaves unset.
    pub mapped: bool,
    /// The value gives way to other paths inside this one, and the path
    /// then holds the object they make (`platformAdditionalInfoPaths`,
    /// which keep whatever App Connect finds there).
    pub yields: bool,
}

/// The parts of a dot path (`$` and the empty path have none).
pub(crate) fn parts(p: &str) -> Vec<&str> {
    if p.is_empty() || p == "$" {
        Vec::new()
    } else {
        p.split('.').collect()
    }
}

/// Whether one path is the other or lies inside it.
pub(super) fn nests(a: &str, b: &str) -> bool {
    let (a, b) = (parts(a), parts(b));
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// The parts after `body` of a path into `{body: <answer>}`.
pub(crate) fn under_body(p: &str) -> Option<Vec<&str>> {
    match p {
        "body" => Some(Vec::new()),
        _ => p
            .strip_prefix("body.")
            .map(|rest| rest.split('.').collect()),
    }
}

/// The object at `parts` (inside `root`), made if missing or not an object.
fn object_at<'v>(root: &'v mut Value, parts: &[&str]) -> Option<&'v mut Map<String, Value>> {
    let mut current = root;
    for part in parts {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        current = current
            .as_object_mut()?
            .entry(part.to_string())
            .or_insert(Value::Null);
    }
    if !current.is_object() {
        *current = Value::Object(Map::new());
    }
    current.as_object_mut()
}

/// Where to put a record's fields so that they sit beside the mapped paths:
/// in the object that holds most of them (`data` for `body.data.id` and
/// `body.data.subject`), unless the fields already spell some of that path
/// out (a stored `{"activity": {…}}` read back at `body.activity.subject`
/// goes at `body`).
fn placement<'p>(record: &Map<String, Value>, mapped: &[Vec<&'p str>]) -> Vec<&'p str> {
    let parents: Vec<&[&str]> = mapped
        .iter()
        .map(|p| &p[..p.len().saturating_sub(1)])
        .collect();
    let Some(holder) = parents
        .iter()
        .max_by_key(|parent| (parents.iter().filter(|p| p == parent).count(), parent.len()))
        .map(|parent| parent.to_vec())
    else {
        return Vec::new();
    };
    let record = Value::Object(record.clone());
    let score = |k: usize| {
        mapped
            .iter()
            .filter(|p| p.len() > k && p[..k] == holder[..k])
            .filter(|p| path::get(&record, &p[k..].join(".")).is_some())
            .count()
    };
    let best = (0..=holder.len())
        .max_by_key(|&k| (score(k), k))
        .unwrap_or(holder.len());
    holder[..best].to_vec()
}

/// The wants that decide an answer: App Connect's defaults that meet a
/// mapped path left out, one per path (the first), and a value that
/// `yields` dropped when other paths lie inside its own.
pub(crate) fn settle<'p, V: Clone>(wants: &[Want<'p, V>]) -> Vec<Want<'p, V>> {
    let mapped: Vec<&str> = wants.iter().filter(|w| w.mapped).map(|w| w.path).collect();
    let mut slots: Vec<Want<'p, V>> = Vec::new();
    for want in wants {
        if !want.mapped && mapped.iter().any(|m| nests(m, want.path)) {
            continue;
        }
        if !slots.iter().any(|s| parts(s.path) == parts(want.path)) {
            slots.push(want.clone());
        }
    }
    let paths: Vec<Vec<&str>> = slots.iter().map(|s| parts(s.path)).collect();
    for slot in slots.iter_mut().filter(|s| s.yields) {
        let outer = parts(slot.path);
        if paths
            .iter()
            .any(|p| p.len() > outer.len() && p[..outer.len()] == outer[..])
        {
            slot.value = None;
        }
    }
    slots
}

/// An answer (or one item of a listed answer) being built.
pub(super) struct Builder<'p> {
    operation: Operation,
    /// `{body: …}` for an answer; the item itself for a list item.
    root: Value,
    /// Paths start with `body` (an answer), or at the item itself.
    answer: bool,
    /// The record's stored fields, placed beside the paths.
    record: Map<String, Value>,
    wants: Vec<Want<'p, Value>>,
}

impl<'p> Builder<'p> {
    /// An answer, whose paths are read from `{body: <answer>}`.
    pub fn answer(operation: Operation) -> Builder<'p> {
        Builder {
            operation,
            root: Value::Object(Map::new()),
            answer: true,
            record: Map::new(),
            wants: Vec::new(),
        }
    }

    /// One item of a list, starting from its stored fields; its paths are
    /// read from the item.
    pub fn item(operation: Operation, fields: &Map<String, Value>) -> Builder<'p> {
        Builder {
            operation,
            root: Value::Object(fields.clone()),
            answer: false,
            record: Map::new(),
            wants: Vec::new(),
        }
    }

    /// The record's fields, to sit beside the mapped paths.
    pub fn place(&mut self, record: &Map<String, Value>) {
        self.record = record.clone();
    }

    /// A path the config maps (`mapped`) or App Connect's default.
    pub fn want(
        &mut self,
        key: impl Into<String>,
        path: &'p str,
        value: Option<Value>,
        mapped: bool,
    ) {
        self.wants.push(Want {
            key: key.into(),
            path,
            value,
            mapped,
            yields: false,
        });
    }

    /// A mapped path whose value gives way to mapped paths inside it.
    pub fn want_yielding(&mut self, key: impl Into<String>, path: &'p str, value: Option<Value>) {
        self.wants.push(Want {
            key: key.into(),
            path,
            value,
            mapped: true,
            yields: true,
        });
    }

    fn unsatisfiable(&self, reason: String) -> AnswerError {
        AnswerError::Unsatisfiable {
            operation: self.operation,
            reason,
        }
    }

    /// The answer, once every path reads what it should.
    pub fn finish(mut self) -> Result<Value, AnswerError> {
        let slots = settle(&self.wants);
        if self.answer {
            for slot in &slots {
                if under_body(slot.path).is_none() {
                    return Err(AnswerError::OutsideBody {
                        operation: self.operation,
                        key: slot.key.clone(),
                        path: slot.path.to_owned(),
                    });
                }
            }
            if !self.record.is_empty() {
                let relative: Vec<Vec<&str>> =
                    slots.iter().filter_map(|s| under_body(s.path)).collect();
                let mut at = vec!["body"];
                at.extend(placement(&self.record, &relative));
                if let Some(target) = object_at(&mut self.root, &at) {
                    for (key, value) in &self.record {
                        target.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
        for slot in slots.iter().filter(|s| s.value.is_some()) {
            let value = slot.value.clone().unwrap_or_default();
            path::set(&mut self.root, slot.path, value)
                .map_err(|e| self.unsatisfiable(format!("{}: {e}", slot.key)))?;
        }
        for slot in slots.iter().filter(|s| s.value.is_none()) {
            if path::get(&self.root, slot.path).is_none() {
                path::set(&mut self.root, slot.path, Value::Null)
                    .map_err(|e| self.unsatisfiable(format!("{}: {e}", slot.key)))?;
            }
        }
        for slot in &slots {
            let found = path::get(&self.root, slot.path);
            let holds = match &slot.value {
                Some(value) => found.as_deref() == Some(value),
                None => found.is_some(),
            };
            if !holds {
                return Err(self.unsatisfiable(format!(
                    "{} ({}) cannot hold its value: another path of the mapping is inside it",
                    slot.key, slot.path
                )));
            }
        }
        Ok(if self.answer {
            match self.root {
                Value::Object(mut map) => map.remove("body").unwrap_or(Value::Object(Map::new())),
                other => other,
            }
        } else {
            self.root
        })
    }
}
