//! What axios (1.x, as App Connect's core uses it in Node.js) makes of the
//! request the proxy engine hands it: the query string (`buildURL` over
//! `toFormData`), the headers (`AxiosHeaders`: its `Accept` and
//! `Content-Type` defaults, names matched whatever their case, values
//! sanitised), and the body (`transformRequest`, then `dispatchRequest`'s
//! form content type).
//!
//! Pure: it formats; it sends nothing.

use serde_json::Value;

use super::super::js;
use super::super::json::Json;
use super::super::template::Rendered;
use super::RenderError;

/// axios's default `Accept`.
pub const ACCEPT: &str = "application/json, text/plain, */*";

/// A rendered value as ordered JSON: `undefined` members dropped, items
/// `null`, as JSON.stringify would.
pub fn to_json(rendered: &Rendered) -> Json {
    match rendered {
        Rendered::Undefined => Json::Null,
        Rendered::Value(v) => serde_json::from_value(v.clone()).unwrap_or(Json::Null),
        Rendered::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Rendered::Object(entries) => Json::Object(
            entries
                .iter()
                .filter(|(_, v)| !v.is_undefined())
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}

/// `encodeURIComponent`, with axios putting back `:`, `$`, `,` and writing
/// a space as `+` (`buildURL`'s `encode`).
pub fn encode_param(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')'
            | b':'
            | b'$'
            | b',' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Node.js's `URLSearchParams` serialiser (application/x-www-form-urlencoded).
fn encode_form(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn remove_brackets(key: &str) -> &str {
    key.strip_suffix("[]").unwrap_or(key)
}

fn pair_text(value: &Json) -> String {
    match value {
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => js::number_to_string(js::number_f64(n)),
        Json::String(s) => s.clone(),
        // Containers are walked and nulls skipped before this is reached.
        other => js::to_string(&other.to_value()),
    }
}

/// `toFormData`'s pairs, decoded: `null` and `undefined` skipped, a flat
/// list as `key[]`, nested objects as `a[b][c]`, a key ending in `{}` as
/// JSON text. axios writes query parameters and url-encoded bodies this way.
pub fn form_pairs(params: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Json::Object(entries) = params else {
        return out;
    };
    for (raw_key, value) in entries {
        let key = js::trim(raw_key);
        match value {
            Json::Null => {}
            Json::Object(_) | Json::Array(_) if key.ends_with("{}") => {
                out.push((
                    key.to_owned(),
                    serde_json::to_string(value).unwrap_or_default(),
                ));
            }
            Json::Array(items)
                if key.ends_with("[]")
                    || items
                        .iter()
                        .all(|i| !matches!(i, Json::Array(_) | Json::Object(_))) =>
            {
                let name = format!("{}[]", remove_brackets(key));
                for item in items.iter().filter(|i| !matches!(i, Json::Null)) {
                    let text = match item {
                        Json::Object(_) => "[object Object]".to_owned(),
                        Json::Array(_) => js::to_string(&item.to_value()),
                        scalar => pair_text(scalar),
                    };
                    out.push((name.clone(), text));
                }
            }
            // The walk goes on with the key as written; only the name of a
            // value is trimmed.
            Json::Object(_) | Json::Array(_) => nested(value, &[raw_key.to_owned()], &mut out),
            scalar => out.push((key.to_owned(), pair_text(scalar))),
        }
    }
    out
}

fn nested(value: &Json, at: &[String], out: &mut Vec<(String, String)>) {
    let children: Vec<(String, bool, &Json)> = match value {
        Json::Object(entries) => entries.iter().map(|(k, v)| (k.clone(), true, v)).collect(),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), false, v))
            .collect(),
        _ => return,
    };
    for (key, is_text, child) in children {
        match child {
            Json::Null => {}
            Json::Object(_) | Json::Array(_) => {
                let mut path = at.to_vec();
                path.push(key);
                nested(child, &path, out);
            }
            scalar => {
                let leaf = if is_text {
                    js::trim(&key)
                } else {
                    key.as_str()
                };
                let name: String = at
                    .iter()
                    .map(String::as_str)
                    .chain([leaf])
                    .enumerate()
                    .map(|(i, token)| {
                        let token = remove_brackets(token);
                        if i == 0 {
                            token.to_owned()
                        } else {
                            format!("[{token}]")
                        }
                    })
                    .collect();
                out.push((name, pair_text(scalar)));
            }
        }
    }
}

/// `buildURL`: the url without its fragment, then `?` (or `&`) and the
/// encoded pairs.
pub fn build_url(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let url = url.split('#').next().unwrap_or_default();
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode_param(k), encode_param(v)))
        .collect();
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{}", query.join("&"))
}

/// One `AxiosHeaders` value.
#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Unset,
    /// `false` (and `null`) are kept but not sent; `false` also keeps a
    /// later header of the same name from replacing it.
    False,
    Null,
    Text(String),
    List(Vec<String>),
}

fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}')
}

/// axios's `sanitizeValue`: drop the characters `invalid` names, then trim
/// spaces and tabs.
pub fn sanitize(text: &str, invalid: impl Fn(char) -> bool) -> String {
    let kept: String = text.chars().filter(|&c| !invalid(c)).collect();
    kept.trim_matches([' ', '\t']).to_owned()
}

/// What Node.js's http adapter sends for a header value: what Latin-1
/// cannot hold removed, one byte per character.
pub fn latin1_bytes(text: &str) -> Vec<u8> {
    let kept = sanitize(text, |c| {
        !(c == '\t' || (' '..='~').contains(&c) || ('\u{80}'..='\u{ff}').contains(&c))
    });
    // Every character left is below U+0100.
    kept.chars().map(|c| c as u32 as u8).collect()
}

/// `normalizeValue`.
fn slot(value: &Rendered) -> Slot {
    match value.to_value() {
        None => Slot::Unset,
        Some(Value::Null) => Slot::Null,
        Some(Value::Bool(false)) => Slot::False,
        // Node.js sends each item, `false` and `null` as text too.
        Some(Value::Array(items)) => Slot::List(
            items
                .iter()
                .map(|v| sanitize(&js::to_string(v), is_control))
                .collect(),
        ),
        Some(other) => Slot::Text(sanitize(&js::to_string(&other), is_control)),
    }
}

/// `AxiosHeaders`, for one request.
#[derive(Debug, Clone)]
pub struct Headers(Vec<(String, Slot)>);

impl Headers {
    /// The request's headers before the config's: axios's common defaults.
    pub fn new() -> Headers {
        Headers(vec![
            ("Accept".into(), Slot::Text(ACCEPT.into())),
            ("Content-Type".into(), Slot::Unset),
        ])
    }

    /// `set(name, value, rewrite)`: matched whatever the case; the first
    /// spelling stays. Without `rewrite` a value replaces anything but
    /// `false`; with `rewrite == Some(false)` only an unset one.
    fn set_slot(&mut self, name: &str, value: Slot, rewrite: Option<bool>) {
        let wanted = name.trim().to_ascii_lowercase();
        match self
            .0
            .iter_mut()
            .find(|(n, _)| n.trim().to_ascii_lowercase() == wanted)
        {
            None => self.0.push((name.to_owned(), value)),
            Some((_, current)) => {
                let replace = *current == Slot::Unset
                    || rewrite == Some(true)
                    || (rewrite.is_none() && *current != Slot::False);
                if replace {
                    *current = value;
                }
            }
        }
    }

    pub fn set(&mut self, name: &str, value: &Rendered) {
        self.set_slot(name, slot(value), None);
    }

    /// `setContentType(value, false)`: only when none is set.
    pub fn default_content_type(&mut self, value: &str) {
        self.set_slot("Content-Type", Slot::Text(value.into()), Some(false));
    }

    pub fn content_type(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .and_then(|(_, v)| match v {
                Slot::Text(t) => Some(t.as_str()),
                _ => None,
            })
    }

    /// `toJSON()`: the headers sent, a list joined with commas.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|(name, value)| match value {
                Slot::Text(t) => Some((name.clone(), t.clone())),
                Slot::List(items) => Some((name.clone(), items.join(", "))),
                Slot::Unset | Slot::Null | Slot::False => None,
            })
            .collect()
    }
}

/// `stringifySafely`: text that is JSON already goes as it is (trimmed),
/// anything else as JSON.
fn stringify_safely(value: &Rendered) -> Option<String> {
    if let Rendered::Value(Value::String(text)) = value {
        if serde_json::from_str::<Value>(text).is_ok() {
            return Some(js::trim(text).to_owned());
        }
    }
    value.to_json_text()
}

/// `transformRequest` and `dispatchRequest`: the body text axios sends for
/// `body`, setting the content type it implies on `headers`.
pub fn body_text(
    method: &str,
    body: &Rendered,
    headers: &mut Headers,
) -> Result<Option<String>, RenderError> {
    let declared = headers.content_type().unwrap_or_default().to_owned();
    let json_declared = declared.contains("application/json");
    let is_object = matches!(
        body,
        Rendered::Object(_)
            | Rendered::Array(_)
            | Rendered::Value(Value::Object(_) | Value::Array(_))
    );
    let text = if is_object && declared.contains("application/x-www-form-urlencoded") {
        let pairs = form_pairs(&to_json(body));
        Some(
            pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode_form(k), encode_form(v)))
                .collect::<Vec<_>>()
                .join("&"),
        )
    } else if is_object && declared.contains("multipart/form-data") {
        return Err(RenderError::MultipartBody);
    } else if is_object || json_declared {
        headers.default_content_type("application/json");
        stringify_safely(body)
    } else {
        // Node.js's adapter sends nothing for falsy data, and refuses
        // anything else that is not text.
        match body.to_value() {
            value if !js::truthy(value.as_ref()) => None,
            Some(Value::String(text)) => Some(text),
            other => {
                let shown = other.map(|v| js::to_string(&v)).unwrap_or_default();
                return Err(RenderError::BodyNotSendable(shown));
            }
        }
    };
    let text = text.filter(|t| !t.is_empty());
    if ["POST", "PUT", "PATCH"].contains(&method) {
        headers.default_content_type("application/x-www-form-urlencoded");
    }
    Ok(text)
}
