//! Routes for serving proxy configs: which operation a request is, and the
//! values its templates carried.
//!
//! Each operation's route is its method and the path of its url: the
//! `baseUrl` path joined with the operation's (engine.ts's `joinUrl`; an
//! empty `baseUrl` is the server's root), or the
//! path of an absolute url (`https://{{user.hostname}}/api/…`, or a url that
//! starts with an origin variable such as `{{user.platformAdditionalInfo
//! .apiUrl}}`). Each `/`-separated segment is a template; a query template
//! (`query`, or `?a={{x}}` in the url) names the parameters that carry
//! values. A request goes to the operation whose templates it matches
//! carrying what that operation needs (`needs`), then with the fewest
//! contradicted literals, then with the most literal text; ties go to the
//! call-log operation.
//!
//! Pure: it is handed the method, path, query pairs and parsed body.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::config::{ConfigWarning, OperationConfig, ProxyConfig};
use super::template::{Bindings, Fit, Piece, Template, TemplateValue};
use super::{needs, path, Operation};

/// One served operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub operation: Operation,
    /// Upper-case.
    pub method: String,
    /// The path template, e.g. `/v1/activities/{{thirdPartyLogId}}`.
    pub path: String,
    segments: Vec<Template>,
    url_query: Vec<(String, Template)>,
    query: TemplateValue,
    body: TemplateValue,
}

/// The routes of one config, and the operations it cannot serve.
#[derive(Debug, Clone)]
pub struct Plan {
    pub routes: Vec<Route>,
    pub warnings: Vec<ConfigWarning>,
}

/// Text outside `{{…}}` expressions, split at `sep`.
fn split_outside_expressions(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut depth = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !depth && text[i..].starts_with("{{") {
            depth = true;
            i += 2;
            continue;
        }
        if depth && text[i..].starts_with("}}") {
            depth = false;
            i += 2;
            continue;
        }
        if !depth && text[i..].starts_with(sep) {
            parts.push(&text[start..i]);
            start = i + sep.len_utf8();
        }
        i += text[i..].chars().next().map_or(1, char::len_utf8);
    }
    parts.push(&text[start..]);
    parts
}

/// Where the first `sep` outside expressions is.
fn find_outside_expressions(text: &str, sep: char) -> Option<usize> {
    let first = split_outside_expressions(text, sep).into_iter().next()?;
    (first.len() < text.len()).then_some(first.len())
}

/// A variable that holds a URL (`https://crm.example.com`), judged by its
/// name: a url that starts with one is absolute once rendered. A host name
/// has no scheme, so `{{user.hostname}}/x` is joined to the base url.
fn names_an_origin(expr: &str) -> bool {
    let last = expr.rsplit('.').next().unwrap_or(expr).to_ascii_lowercase();
    ["url", "origin", "server"]
        .iter()
        .any(|word| last.contains(word))
}

/// Literal text decoded as a server decodes it (`%20`, and `+` in a query),
/// expressions kept.
fn decoded(template: &str, plus_is_space: bool) -> Template {
    let mut text = String::new();
    for piece in Template::parse(template).pieces().iter() {
        match piece {
            Piece::Literal(literal) => {
                let literal = if plus_is_space {
                    Cow::Owned(literal.replace('+', " "))
                } else {
                    Cow::Borrowed(literal.as_str())
                };
                text.push_str(&percent_decode_str(&literal).decode_utf8_lossy());
            }
            Piece::Expr(expr) => {
                text.push_str("{{");
                text.push_str(expr);
                text.push_str("}}");
            }
        }
    }
    Template::parse(&text)
}

/// The path template (with its query) of an operation's url, or why there
/// is none.
fn path_of(config: &ProxyConfig, op: &OperationConfig) -> Result<String, String> {
    let url = op.url.source();
    if let Some(after) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    {
        return Ok(match find_outside_expressions(after, '/') {
            Some(at) => after[at..].to_owned(),
            None => match find_outside_expressions(after, '?') {
                Some(at) => format!("/{}", &after[at..]),
                None => "/".to_owned(),
            },
        });
    }
    if let Some(after_open) = url.strip_prefix("{{") {
        if let Some(close) = after_open.find("}}") {
            let expr = after_open[..close].trim();
            let rest = &after_open[close + 2..];
            if names_an_origin(expr)
                && (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
            {
                return Ok(if rest.starts_with('/') {
                    rest.to_owned()
                } else {
                    format!("/{rest}")
                });
            }
        }
    }
    // An empty baseUrl is a placeholder: the url alone is served from the
    // server's root, as it would be under a baseUrl that is a bare origin.
    let base = match config.request_defaults.base_url.as_deref() {
        Some(base) => Some(base),
        None if config.request_defaults.empty_base_url => Some(ROOT_ORIGIN),
        None => None,
    };
    let Some(base) = base else {
        return Err(format!(
            "not served: its url {url:?} is relative and there is no requestDefaults.baseUrl, so App Connect has nowhere to send it"
        ));
    };
    let joined = super::render::join_url(Some(base), Some(url)).unwrap_or_default();
    let after = joined
        .split_once("://")
        .map_or(joined.as_str(), |(_, rest)| rest);
    Ok(match after.find('/') {
        Some(at) => after[at..].to_owned(),
        None => "/".to_owned(),
    })
}

/// The origin an empty `baseUrl` stands for when a route is worked out;
/// only its absence of a path matters.
const ROOT_ORIGIN: &str = "http://root";

fn is_method(method: &str) -> bool {
    !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Plan {
    pub fn new(config: &ProxyConfig) -> Plan {
        let mut routes = Vec::new();
        let mut warnings = Vec::new();
        for op in &config.operations {
            let at = format!("operations.{}", op.operation);
            let mut warn = |message: String| {
                warnings.push(ConfigWarning {
                    file: config.file.clone(),
                    path: at.clone(),
                    message,
                })
            };
            if !is_method(&op.method) {
                warn(format!("not served: {:?} is not an HTTP method", op.method));
                continue;
            }
            let full = match path_of(config, op) {
                Ok(full) => full,
                Err(message) => {
                    warn(message);
                    continue;
                }
            };
            let (path, query) = match find_outside_expressions(&full, '?') {
                Some(at) => (&full[..at], &full[at + 1..]),
                None => (full.as_str(), ""),
            };
            let path = path.split('#').next().unwrap_or_default();
            let query = query.split('#').next().unwrap_or_default();
            let segments = split_outside_expressions(path, '/')
                .into_iter()
                .map(|segment| decoded(segment, false))
                .collect();
            let mut url_query = Vec::new();
            for pair in split_outside_expressions(query, '&') {
                if pair.is_empty() {
                    continue;
                }
                let (name, value) = match find_outside_expressions(pair, '=') {
                    Some(at) => (&pair[..at], &pair[at + 1..]),
                    None => (pair, ""),
                };
                let name = decoded(name, true);
                if !name.expressions().is_empty() {
                    warn(format!(
                        "the query parameter name {:?} is a template; requests are matched without it",
                        name.source()
                    ));
                    continue;
                }
                url_query.push((name.source().to_owned(), decoded(value, true)));
            }
            routes.push(Route {
                operation: op.operation,
                method: op.method.clone(),
                path: path.to_owned(),
                segments,
                url_query,
                query: op.query.clone(),
                body: op.body.clone(),
            });
        }
        Plan { routes, warnings }
    }
}

/// The operations a config serves, in the order written.
pub fn served_operations(config: &ProxyConfig) -> Vec<Operation> {
    Plan::new(config)
        .routes
        .iter()
        .map(|r| r.operation)
        .collect()
}

/// The base URL to put in `requestDefaults.baseUrl` when the config is
/// served at `origin` (`http://127.0.0.1:8787/v1`; the origin itself for
/// an empty `baseUrl`); `None` for a config without one, whose urls are all
/// absolute.
pub fn base_url(config: &ProxyConfig, origin: &str) -> Option<String> {
    if !config.claims_base_path() {
        return None;
    }
    Some(format!(
        "{}{}",
        origin.trim_end_matches('/'),
        config.base_path()
    ))
}

/// The line to print for a config served at `origin`.
pub fn summary(config: &ProxyConfig, origin: &str) -> String {
    let ops: Vec<&str> = served_operations(config)
        .iter()
        .map(|op| op.name())
        .collect();
    let served = if ops.is_empty() {
        "no operations".to_owned()
    } else {
        ops.join(", ")
    };
    match base_url(config, origin) {
        Some(base) if config.request_defaults.empty_base_url => format!(
            "{}: baseUrl is empty, so the operations are served at the server's root; put baseUrl {base} in the config; serves {served}",
            config.file
        ),
        Some(base) => format!("{}: baseUrl {base} serves {served}", config.file),
        None => format!(
            "{}: no baseUrl; absolute urls are served by their path at {} ({served})",
            config.file,
            origin.trim_end_matches('/')
        ),
    }
}

/// A request as the server read it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as sent (percent-encoded), without the query.
    pub path: &'a str,
    /// The query pairs, decoded.
    pub query: &'a [(String, String)],
    /// The body, when it was JSON.
    pub body: Option<&'a Value>,
}

/// The routes of every config served.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    /// Each route with the index of its config.
    routes: Vec<(usize, Route)>,
}

/// What a request is.
#[derive(Debug)]
pub enum Found<'t> {
    Operation(Matched<'t>),
    /// The path is served, by other methods.
    WrongMethod {
        allowed: Vec<String>,
    },
    Nothing,
}

#[derive(Debug)]
pub struct Matched<'t> {
    /// Index of the config, in the order given to `RouteTable::new`.
    pub config: usize,
    pub route: &'t Route,
    pub bindings: Bindings,
    /// How well the request fits the templates (the tests check App
    /// Connect's own requests fit exactly).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fit: Fit,
}

impl Matched<'_> {
    pub fn operation(&self) -> Operation {
        self.route.operation
    }
}

impl Route {
    pub fn expressions(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .segments
            .iter()
            .flat_map(Template::expressions)
            .collect();
        all.extend(self.url_query.iter().flat_map(|(_, t)| t.expressions()));
        all.extend(self.query.expressions());
        all.extend(self.body.expressions());
        all
    }

    /// Where the request carries `expr`, as a user would name it:
    /// `body.linked_contacts[0].contact_id`, `query.phone`, or `path`
    /// (`/v1/activities/{{thirdPartyLogId}}`).
    pub fn location_of(&self, expr: &str) -> Option<String> {
        if self
            .segments
            .iter()
            .any(|t| t.expressions().contains(&expr))
        {
            return Some(format!("path {}", self.path));
        }
        if let Some((name, _)) = self
            .url_query
            .iter()
            .find(|(_, t)| t.expressions().contains(&expr))
        {
            return Some(format!("query.{name}"));
        }
        for (part, value) in [("query", &self.query), ("body", &self.body)] {
            if let Some((suffix, _)) = value
                .templates()
                .into_iter()
                .find(|(_, t)| t.expressions().contains(&expr))
            {
                return Some(format!("{part}{suffix}"));
            }
        }
        None
    }

    /// Whether a request for some path of `template`'s shape could reach
    /// this route. `template` is an OpenAPI path (`/activity/{id}`), whose
    /// `{…}` segments stand for any one non-empty segment; a `*` segment
    /// at its end stands for any further segments (`/__admin/*`).
    pub fn overlaps(&self, template: &str) -> bool {
        let theirs: Vec<&str> = template.split('/').collect();
        let open_ended = theirs.last() == Some(&"*");
        let fixed = if open_ended {
            &theirs[..theirs.len() - 1]
        } else {
            &theirs[..]
        };
        let lengths_fit = if open_ended {
            self.segments.len() > fixed.len()
        } else {
            self.segments.len() == fixed.len()
        };
        lengths_fit
            && self.segments.iter().zip(fixed).all(|(mine, theirs)| {
                if theirs.starts_with('{') && theirs.ends_with('}') {
                    !mine.source().is_empty()
                } else {
                    mine.bind_text(theirs, &mut Bindings::default()).conflicts == 0
                }
            })
    }

    fn path_fit(&self, segments: &[String], out: &mut Bindings) -> Option<Fit> {
        if segments.len() != self.segments.len() {
            return None;
        }
        let mut fit = Fit::default();
        for (template, segment) in self.segments.iter().zip(segments) {
            let f = template.bind_text(segment, out);
            if f.conflicts > 0 {
                return None;
            }
            fit += f;
        }
        Some(fit)
    }

    fn fit(
        &self,
        request: &Request<'_>,
        segments: &[String],
        query: &Value,
    ) -> Option<(Bindings, Fit)> {
        let mut bindings = Bindings::default();
        let mut fit = self.path_fit(segments, &mut bindings)?;
        for (name, template) in &self.url_query {
            if let Some((_, value)) = request.query.iter().find(|(k, _)| k == name) {
                fit.literal += name.chars().count();
                fit += template.bind_text(value, &mut bindings);
            }
        }
        fit += self.query.bind(query, &mut bindings);
        if let Some(body) = request.body {
            fit += self.body.bind(body, &mut bindings);
        }
        Some((bindings, fit))
    }
}

/// The query pairs as the object axios serialised: `k[]` a list, `a[b]` a
/// nested field, `k{}` JSON text, a repeated key a list.
pub fn query_object(pairs: &[(String, String)]) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let text = Value::String(value.clone());
        if let Some(name) = key.strip_suffix("[]") {
            push(&mut root, name, text);
        } else if key.ends_with("{}") {
            let parsed = serde_json::from_str(value).unwrap_or(text);
            set_key(&mut root, key, parsed);
        } else if let Some((name, rest)) = key.split_once('[').filter(|_| key.ends_with(']')) {
            let inner = rest.trim_end_matches(']').replace("][", ".");
            let dotted = format!("{name}.{inner}");
            // A field that would need a huge list is left out.
            let _ = path::set(&mut root, &dotted, text);
        } else if root.get(key).is_some() {
            push(&mut root, key, text);
        } else {
            set_key(&mut root, key, text);
        }
    }
    root
}

fn set_key(root: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = root {
        map.insert(key.to_owned(), value);
    }
}

fn push(root: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = root {
        let slot = map
            .entry(key.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        match slot {
            Value::Array(items) => items.push(value),
            other => {
                let first = std::mem::take(other);
                *other = Value::Array(vec![first, value]);
            }
        }
    }
}

/// Which of two equally good operations wins: call logs first.
fn preference(op: Operation) -> (bool, usize) {
    let order = Operation::ALL
        .iter()
        .position(|o| *o == op)
        .unwrap_or(usize::MAX);
    (!op.is_call_log(), order)
}

impl RouteTable {
    pub fn new(configs: &[&ProxyConfig]) -> RouteTable {
        let routes = configs
            .iter()
            .enumerate()
            .flat_map(|(n, config)| Plan::new(config).routes.into_iter().map(move |r| (n, r)))
            .collect();
        RouteTable { routes }
    }

    /// One line per method and path: `POST /v1/activities (createCallLog,
    /// createMessageLog)`.
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<(String, Vec<&str>)> = Vec::new();
        for (_, route) in &self.routes {
            let key = format!("{} {}", route.method, route.path);
            match lines.iter_mut().find(|(k, _)| *k == key) {
                Some((_, ops)) => ops.push(route.operation.name()),
                None => lines.push((key, vec![route.operation.name()])),
            }
        }
        lines
            .into_iter()
            .map(|(key, ops)| format!("{key} ({})", ops.join(", ")))
            .collect()
    }

    /// The operation `request` is, with what its templates carried.
    pub fn find(&self, request: &Request<'_>) -> Found<'_> {
        let path = request.path.split('?').next().unwrap_or_default();
        let segments: Vec<String> = path
            .split('/')
            .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
            .collect();
        let query = query_object(request.query);
        let method = request.method.to_ascii_uppercase();
        let mut best = None;
        let mut allowed: Vec<String> = Vec::new();
        for (config, route) in &self.routes {
            if route.method != method {
                if route
                    .path_fit(&segments, &mut Bindings::default())
                    .is_some()
                    && !allowed.contains(&route.method)
                {
                    allowed.push(route.method.clone());
                }
                continue;
            }
            let Some((bindings, fit)) = route.fit(request, &segments, &query) else {
                continue;
            };
            // Whether the operation would have to refuse the request.
            let wanting = !needs::needs(route.operation, &route.expressions())
                .iter()
                .all(|need| needs::met(need, &bindings));
            let key = (
                wanting,
                fit.conflicts,
                std::cmp::Reverse(fit.literal),
                preference(route.operation),
                *config,
            );
            if best.as_ref().is_none_or(|(best_key, _)| key < *best_key) {
                let candidate = Matched {
                    config: *config,
                    route,
                    bindings,
                    fit,
                };
                best = Some((key, candidate));
            }
        }
        match best {
            Some((_, matched)) => Found::Operation(matched),
            None if !allowed.is_empty() => {
                allowed.sort();
                Found::WrongMethod { allowed }
            }
            None => Found::Nothing,
        }
    }
}

pub mod openapi;

#[cfg(test)]
mod tests;
