//! Dot paths, as App Connect's response mappings and templates use them:
//! reading (`getByPath`: `$` or empty is the value itself, array indices are
//! ordinary parts such as `items.0.id`), writing (to build an answer in which
//! a path resolves), and telling a dot path from JSONPath-like mistakes.
//!
//! Pure functions over JSON values; no I/O.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use super::js;

/// One property read, `value[key]`, as JavaScript does it on JSON values.
fn property<'a>(value: &'a Value, key: &str) -> Option<Cow<'a, Value>> {
    match value {
        Value::Object(map) => map.get(key).map(Cow::Borrowed),
        Value::Array(items) => {
            if key == "length" {
                return Some(Cow::Owned(Value::from(items.len())));
            }
            js::array_index(key)
                .and_then(|i| items.get(i))
                .map(Cow::Borrowed)
        }
        Value::String(text) => {
            // JavaScript strings index and count UTF-16 code units.
            if key == "length" {
                return Some(Cow::Owned(Value::from(text.encode_utf16().count())));
            }
            let unit = text.encode_utf16().nth(js::array_index(key)?)?;
            let ch = char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER);
            Some(Cow::Owned(Value::String(ch.to_string())))
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// App Connect's `getByPath`: an empty path or `$` is the value itself,
/// otherwise each `.`-separated part is read in turn, and reading through
/// `null` or `undefined` gives `undefined` (`None`).
pub fn get<'a>(value: &'a Value, path: &str) -> Option<Cow<'a, Value>> {
    if path.is_empty() || path == "$" {
        return Some(Cow::Borrowed(value));
    }
    let mut current = Cow::Borrowed(value);
    for part in path.split('.') {
        if current.is_null() {
            return None;
        }
        current = match current {
            Cow::Borrowed(v) => property(v, part)?,
            Cow::Owned(v) => Cow::Owned(property(&v, part)?.into_owned()),
        };
    }
    Some(current)
}

/// Why a value could not be put at a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot put a value at {path}: {reason}")]
pub struct SetError {
    pub path: String,
    pub reason: String,
}

/// Puts `value` at `path` inside `root`, creating what is missing: an array
/// where the next part is an index (`items.0`), else an object. What is in
/// the way is replaced: a scalar, and a list where the next part is a key
/// (`items.name`), so that the path always reads `value` afterwards; only
/// an index too large to fill in fails. `""` and `$` replace `root` itself.
pub fn set(root: &mut Value, path: &str, value: Value) -> Result<(), SetError> {
    if path.is_empty() || path == "$" {
        *root = value;
        return Ok(());
    }
    let parts: Vec<&str> = path.split('.').collect();
    let mut current = root;
    for (n, part) in parts.iter().enumerate() {
        let index = js::array_index(part);
        let fits = current.is_object() || (current.is_array() && index.is_some());
        if !fits {
            *current = match index {
                Some(_) => Value::Array(Vec::new()),
                None => Value::Object(Map::new()),
            };
        }
        let last = n + 1 == parts.len();
        current = match current {
            Value::Object(map) => map.entry(part.to_string()).or_insert(Value::Null),
            Value::Array(items) => {
                // Made an object just above when the part is a key.
                let i = index.unwrap_or_default();
                if i > MAX_CREATED_INDEX {
                    return Err(SetError {
                        path: path.into(),
                        reason: format!("index {i} is too large to fill in"),
                    });
                }
                if items.len() <= i {
                    items.resize(i + 1, Value::Null);
                }
                &mut items[i]
            }
            // Made a container just above; a scalar is never left here.
            scalar => scalar,
        };
        if last {
            *current = value;
            return Ok(());
        }
    }
    Ok(())
}

/// Answers are built for mappings such as `items.0.id`; a config asking for
/// index 1,000,000 would otherwise make a list of a million nulls.
pub const MAX_CREATED_INDEX: usize = 1000;

/// The first part of `path` that `set` would refuse: an index past
/// `MAX_CREATED_INDEX`.
pub fn too_large_index(path: &str) -> Option<&str> {
    path.split('.')
        .find(|part| js::array_index(part).is_some_and(|i| i > MAX_CREATED_INDEX))
}

/// Why a mapping path is not a dot path; each says how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    JsonPathRoot,
    Brackets { suggestion: String },
    EmptyPart,
    Spaces,
    Slashes { suggestion: String },
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathProblem::JsonPathRoot => f.write_str(
                "drop the leading \"$.\": paths start at the answer's fields, e.g. body.id",
            ),
            PathProblem::Brackets { suggestion } => {
                write!(f, "write array indices as parts, e.g. {suggestion}")
            }
            PathProblem::EmptyPart => {
                f.write_str("it has an empty part (two dots, or a dot at an end)")
            }
            PathProblem::Spaces => f.write_str("it has spaces around it"),
            PathProblem::Slashes { suggestion } => {
                write!(f, "separate parts with dots, e.g. {suggestion}")
            }
        }
    }
}

/// Checks that `path` is a dot path App Connect can follow. The empty path
/// is fine (a mapping's default is used instead), and so is `$`.
pub fn check(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() || path == "$" {
        return Ok(());
    }
    if path.starts_with("$.") || path.starts_with("$[") {
        return Err(PathProblem::JsonPathRoot);
    }
    if path.contains('[') || path.contains(']') {
        let suggestion = path
            .replace("']", "")
            .replace("[\"", ".")
            .replace("\"]", "")
            .replace("['", ".")
            .replace('[', ".")
            .replace(']', "");
        return Err(PathProblem::Brackets { suggestion });
    }
    if path.starts_with('/') {
        let suggestion = path.trim_start_matches('/').replace('/', ".");
        return Err(PathProblem::Slashes { suggestion });
    }
    if js::trim(path) != path {
        return Err(PathProblem::Spaces);
    }
    if path.split('.').any(str::is_empty) {
        return Err(PathProblem::EmptyPart);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn get_reads_like_app_connect() {
        let doc = json!({"a": {"b": [10, {"c": "x"}], "n": null}, "s": "héllo", "": 5});
        let read = |path: &str| get(&doc, path).map(Cow::into_owned);
        assert_eq!(read(""), Some(doc.clone()));
        assert_eq!(read("$"), Some(doc.clone()));
        assert_eq!(read("a.b.0"), Some(json!(10)));
        assert_eq!(read("a.b.1.c"), Some(json!("x")));
        assert_eq!(read("a.b.01"), None, "not a canonical index");
        assert_eq!(read("a.b.length"), Some(json!(2)));
        assert_eq!(read("a.n"), Some(Value::Null));
        assert_eq!(read("a.n.x"), None, "reading through null is undefined");
        assert_eq!(read("a.missing.x"), None);
        assert_eq!(read("s.length"), Some(json!(5)));
        assert_eq!(read("s.1"), Some(json!("é")));
        assert_eq!(read("s.1.length"), Some(json!(1)));
        assert_eq!(read(".x"), None, "an empty part reads the key \"\"");
        assert_eq!(read("a.b.0.x"), None, "a number has no properties");
        assert_eq!(
            read("$.a"),
            None,
            "\"$\" is a key like any other after the start"
        );
    }

    #[test]
    fn set_builds_what_get_reads() {
        let mut root = Value::Null;
        set(&mut root, "body.data.id", json!(7)).expect("settable");
        set(&mut root, "body.items.1.name", json!("b")).expect("settable");
        set(&mut root, "body.data.subject", json!("s")).expect("settable");
        assert_eq!(
            root,
            json!({"body": {"data": {"id": 7, "subject": "s"}, "items": [null, {"name": "b"}]}})
        );
        assert_eq!(
            get(&root, "body.items.1.name").map(Cow::into_owned),
            Some(json!("b"))
        );
        // A scalar in the way is replaced.
        set(&mut root, "body.data.id.inner", json!(1)).expect("settable");
        assert_eq!(root["body"]["data"]["id"], json!({"inner": 1}));
        // So is a list where the path goes on with a key.
        set(&mut root, "body.items.name", json!(1)).expect("settable");
        assert_eq!(root["body"]["items"], json!({"name": 1}));
        let err = set(&mut root, "body.list.1001", json!(1)).expect_err("too large");
        assert_eq!(
            err.to_string(),
            "cannot put a value at body.list.1001: index 1001 is too large to fill in"
        );
        assert_eq!(too_large_index("body.items.1001.x"), Some("1001"));
        assert_eq!(too_large_index("body.items.1000"), None);
        set(&mut root, "$", json!([1])).expect("root");
        assert_eq!(root, json!([1]));
    }

    #[test]
    fn dot_paths_are_told_from_mistakes() {
        for ok in ["", "$", "body", "body.data.0.id", "body.first name"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert_eq!(check("$.body.id"), Err(PathProblem::JsonPathRoot));
        assert_eq!(
            check("body.items[0].id"),
            Err(PathProblem::Brackets {
                suggestion: "body.items.0.id".into()
            })
        );
        assert_eq!(check("body..id"), Err(PathProblem::EmptyPart));
        assert_eq!(check("body.id."), Err(PathProblem::EmptyPart));
        assert_eq!(check(" body.id"), Err(PathProblem::Spaces));
        assert_eq!(
            check("/body/id"),
            Err(PathProblem::Slashes {
                suggestion: "body.id".into()
            })
        );
    }
}
