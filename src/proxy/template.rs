//! `{{ path.to.value }}` templates, run forwards (App Connect's
//! `renderTemplateString` and `renderDeep`) and backwards (binding each
//! expression to the value a received request carries in its place).
//!
//! Forwards follows engine.ts's two regular expressions exactly: a string
//! that is one expression and nothing else (`^\{\{\s*([^}]+?)\s*\}\}$`)
//! renders the raw value, or `undefined`; any other string has each
//! `\{\{\s*([^}]+?)\s*\}\}` replaced by `String(value)`, with `null` and
//! `undefined` printing as nothing. Text that does not match stays as
//! written. Backwards binds objects by key, arrays by position, whole
//! expressions to the raw value, and mixed text by its literal parts.
//!
//! Pure: no I/O. Contexts and received values are serde_json values.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::AddAssign;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::json::Json;
use super::{js, path};

/// One piece of a mixed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    /// The expression, trimmed as engine.ts trims it before reading it.
    Expr(String),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    shape: Shape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// The string is exactly one expression: it renders the raw value.
    Whole(String),
    /// Text with zero or more expressions: it renders a string.
    Mixed(Vec<Piece>),
}

/// What is wrong with a template a config should not ship.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateProblem {
    NeverCloses { template: String },
    OpensNothing { template: String },
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateProblem::NeverCloses { template } => {
                write!(f, "template {template:?} never closes")
            }
            TemplateProblem::OpensNothing { template } => write!(
                f,
                "template {template:?} has a \"{{{{\" that starts no expression (write {{{{name.path}}}}, with no \"}}\" inside)"
            ),
        }
    }
}

/// Where the expression starting at byte `open` (a `{{`) ends, as the
/// regular expression `\{\{\s*([^}]+?)\s*\}\}` finds it: the first `}` after
/// the braces must start `}}`, with at least one character before it.
/// Returns the inner text's end (the first `}`).
fn expression_end(bytes: &[u8], open: usize) -> Option<usize> {
    let inner = open + 2;
    // '{' and '}' are ASCII, so byte positions are character boundaries.
    let close = inner + bytes[inner..].iter().position(|&b| b == b'}')?;
    (close > inner && bytes.get(close + 1) == Some(&b'}')).then_some(close)
}

/// The mixed scan: every match of the global regex, left to right, with the
/// text between kept as literals. Also the first `{{` left unmatched.
fn scan(source: &str) -> (Vec<Piece>, Option<usize>) {
    let bytes = source.as_bytes();
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut unmatched = None;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'{' && bytes[i + 1] == b'{' {
            if let Some(close) = expression_end(bytes, i) {
                if literal_start < i {
                    pieces.push(Piece::Literal(source[literal_start..i].to_owned()));
                }
                pieces.push(Piece::Expr(js::trim(&source[i + 2..close]).to_owned()));
                i = close + 2;
                literal_start = i;
                continue;
            }
            // A "{{" that fails here fails one brace later too (the same
            // first "}" decides), so it stays in the text as written.
            if unmatched.is_none() {
                unmatched = Some(i);
            }
        }
        i += 1;
    }
    if literal_start < source.len() {
        pieces.push(Piece::Literal(source[literal_start..].to_owned()));
    }
    (pieces, unmatched)
}

/// The whole-expression match and its capture. The capture is the inner
/// text trimmed, except that an all-blank inner text captures its last
/// character (the lazy group needs one).
fn whole(source: &str) -> Option<String> {
    let bytes = source.as_bytes();
    if !source.starts_with("{{") {
        return None;
    }
    let close = expression_end(bytes, 0)?;
    if close + 2 != bytes.len() {
        return None;
    }
    let inner = &source[2..close];
    let trimmed = js::trim(inner);
    Some(if trimmed.is_empty() {
        inner.chars().last().map(String::from).unwrap_or_default()
    } else {
        trimmed.to_owned()
    })
}

impl Template {
    pub fn parse(source: &str) -> Template {
        let shape = match whole(source) {
            Some(expr) => Shape::Whole(expr),
            None => Shape::Mixed(scan(source).0),
        };
        Template {
            source: source.to_owned(),
            shape,
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression, when the template is exactly one.
    pub fn whole_expression(&self) -> Option<&str> {
        match &self.shape {
            Shape::Whole(expr) => Some(expr),
            Shape::Mixed(_) => None,
        }
    }

    /// The template as literal and expression pieces (a whole expression is
    /// one `Expr`).
    pub fn pieces(&self) -> Cow<'_, [Piece]> {
        match &self.shape {
            Shape::Whole(expr) => Cow::Owned(vec![Piece::Expr(expr.clone())]),
            Shape::Mixed(pieces) => Cow::Borrowed(pieces),
        }
    }

    pub fn expressions(&self) -> Vec<&str> {
        match &self.shape {
            Shape::Whole(expr) => vec![expr.as_str()],
            Shape::Mixed(pieces) => pieces
                .iter()
                .filter_map(|p| match p {
                    Piece::Expr(e) => Some(e.as_str()),
                    Piece::Literal(_) => None,
                })
                .collect(),
        }
    }

    /// Characters of literal text.
    pub fn literal_len(&self) -> usize {
        self.pieces()
            .iter()
            .map(|p| match p {
                Piece::Literal(l) => l.chars().count(),
                Piece::Expr(_) => 0,
            })
            .sum()
    }

    /// A `{{` that App Connect would send as written, which is never what a
    /// config means.
    pub fn problem(&self) -> Option<TemplateProblem> {
        let open = scan(&self.source).1?;
        let template = self.source.clone();
        Some(if self.source[open..].contains("}}") {
            TemplateProblem::OpensNothing { template }
        } else {
            TemplateProblem::NeverCloses { template }
        })
    }

    /// `renderTemplateString`: `None` is `undefined`.
    pub fn render(&self, context: &Value) -> Option<Value> {
        match &self.shape {
            Shape::Whole(expr) => path::get(context, expr).map(Cow::into_owned),
            Shape::Mixed(pieces) => Some(Value::String(render_text(pieces, context))),
        }
    }

    /// Binds the template's expressions to `received`, the value found where
    /// this template was rendered.
    pub fn bind(&self, received: &Value, out: &mut Bindings) -> Fit {
        match (&self.shape, received) {
            (Shape::Whole(expr), _) => {
                out.insert(expr, received.clone(), true);
                Fit::default()
            }
            (Shape::Mixed(_), Value::String(text)) => self.bind_text(text, out),
            (Shape::Mixed(_), _) => Fit::conflict(),
        }
    }

    /// Binds the template to text (a path segment, a query value, a string
    /// body field) by its literal parts. Expressions bind as strings, since
    /// that is all text can say; two expressions with no literal between
    /// them cannot be told apart and bind nothing.
    pub fn bind_text(&self, text: &str, out: &mut Bindings) -> Fit {
        let pieces = self.pieces();
        match split_by_literals(&pieces, text) {
            Some((literal, runs)) => {
                for (exprs, captured) in runs {
                    if let [expr] = exprs.as_slice() {
                        out.insert(expr, Value::String(captured.to_owned()), false);
                    }
                }
                Fit {
                    literal,
                    conflicts: 0,
                }
            }
            None => Fit::conflict(),
        }
    }
}

fn render_text(pieces: &[Piece], context: &Value) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => out.push_str(text),
            Piece::Expr(expr) => match path::get(context, expr) {
                None => {}
                Some(value) if value.is_null() => {}
                Some(value) => out.push_str(&js::to_string(&value)),
            },
        }
    }
    out
}

/// Runs of adjacent expressions, each with the text it covers.
type Runs<'p, 't> = Vec<(Vec<&'p str>, &'t str)>;

/// Matches `text` against the pieces' literals in order. The first literal
/// anchors the start and the last the end; each literal between is taken at
/// its first occurrence, which finds a match whenever one exists. Returns the
/// literal characters matched and the text each run of expressions covers.
fn split_by_literals<'p, 't>(pieces: &'p [Piece], text: &'t str) -> Option<(usize, Runs<'p, 't>)> {
    let mut rest = text;
    let mut literal = 0;
    let mut middle = pieces;
    if let [Piece::Literal(first), tail @ ..] = middle {
        rest = rest.strip_prefix(first.as_str())?;
        literal += first.chars().count();
        middle = tail;
    }
    if let [head @ .., Piece::Literal(last)] = middle {
        rest = rest.strip_suffix(last.as_str())?;
        literal += last.chars().count();
        middle = head;
    }
    if middle.is_empty() {
        return rest.is_empty().then_some((literal, Vec::new()));
    }
    let mut runs = Vec::new();
    let mut run = Vec::new();
    for piece in middle {
        match piece {
            Piece::Expr(expr) => run.push(expr.as_str()),
            Piece::Literal(sep) => {
                let at = rest.find(sep.as_str())?;
                runs.push((std::mem::take(&mut run), &rest[..at]));
                rest = &rest[at + sep.len()..];
                literal += sep.chars().count();
            }
        }
    }
    runs.push((run, rest));
    Some((literal, runs))
}

/// How well a received value fits a template: the literal characters it
/// matched, and the literals it contradicted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fit {
    pub literal: usize,
    pub conflicts: usize,
}

impl Fit {
    pub fn conflict() -> Fit {
        Fit {
            literal: 0,
            conflicts: 1,
        }
    }
}

impl AddAssign for Fit {
    fn add_assign(&mut self, other: Fit) {
        self.literal += other.literal;
        self.conflicts += other.conflicts;
    }
}

/// Values bound to expressions by running templates backwards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings {
    bound: BTreeMap<String, Bound>,
    /// Expressions bound twice to values that disagree.
    disagreements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Bound {
    value: Value,
    /// A whole expression's raw value, rather than text cut out of a string.
    exact: bool,
}

impl Bindings {
    /// Records `value` for `expr`. A raw value beats text for the same
    /// expression (`"{{id}}"` in a body over `/x/{{id}}` in the path) when
    /// the text is how that value prints.
    pub fn insert(&mut self, expr: &str, value: Value, exact: bool) {
        match self.bound.get_mut(expr) {
            None => {
                self.bound.insert(expr.to_owned(), Bound { value, exact });
            }
            Some(old) => {
                let agree = match (old.exact, exact) {
                    (true, true) | (false, false) => old.value == value,
                    (true, false) => value.as_str() == Some(js::to_string(&old.value).as_str()),
                    (false, true) => old.value.as_str() == Some(js::to_string(&value).as_str()),
                };
                if !agree {
                    self.disagreements.push(expr.to_owned());
                } else if exact && !old.exact {
                    *old = Bound { value, exact };
                }
            }
        }
    }

    /// The value bound to `path`, or found inside a value bound to one of its
    /// prefixes (`contactInfo.id` inside a bound `contactInfo`).
    pub fn get(&self, path: &str) -> Option<Cow<'_, Value>> {
        if let Some(bound) = self.bound.get(path) {
            return Some(Cow::Borrowed(&bound.value));
        }
        path.char_indices()
            .rev()
            .filter(|&(_, c)| c == '.')
            .find_map(|(at, _)| {
                let bound = self.bound.get(&path[..at])?;
                path::get(&bound.value, &path[at + 1..])
            })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.bound.iter().map(|(k, b)| (k.as_str(), &b.value))
    }

    pub fn len(&self) -> usize {
        self.bound.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bound.is_empty()
    }

    /// Expressions that were bound to two different values.
    pub fn disagreements(&self) -> &[String] {
        &self.disagreements
    }

    /// The bound values as one context object (`{"contactInfo": {"id": …}}`).
    /// Shorter paths go first, so a bound `contactInfo` is refined, not lost,
    /// by a bound `contactInfo.id`.
    pub fn to_context(&self) -> Value {
        let mut context = Value::Object(serde_json::Map::new());
        let mut entries: Vec<_> = self.bound.iter().collect();
        entries.sort_by_key(|(k, _)| k.matches('.').count());
        for (expr, bound) in entries {
            // Every path can be set in an object; an index under a bound
            // list that is too large is skipped.
            let _ = path::set(&mut context, expr, bound.value.clone());
        }
        context
    }
}

/// A config value that holds templates: `renderDeep`'s input.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateValue {
    Text(Template),
    Array(Vec<TemplateValue>),
    Object(Vec<(String, TemplateValue)>),
    /// `null`, a boolean or a number: rendered as it is.
    Literal(Value),
}

impl TemplateValue {
    pub fn from_json(json: &Json) -> TemplateValue {
        match json {
            Json::String(s) => TemplateValue::Text(Template::parse(s)),
            Json::Array(items) => {
                TemplateValue::Array(items.iter().map(TemplateValue::from_json).collect())
            }
            Json::Object(entries) => TemplateValue::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), TemplateValue::from_json(v)))
                    .collect(),
            ),
            other => TemplateValue::Literal(other.to_value()),
        }
    }

    pub fn empty_object() -> TemplateValue {
        TemplateValue::Object(Vec::new())
    }

    /// `renderDeep`.
    pub fn render(&self, context: &Value) -> Rendered {
        match self {
            TemplateValue::Text(t) => t
                .render(context)
                .map_or(Rendered::Undefined, Rendered::Value),
            TemplateValue::Array(items) => {
                Rendered::Array(items.iter().map(|item| item.render(context)).collect())
            }
            TemplateValue::Object(entries) => Rendered::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(context)))
                    .collect(),
            ),
            TemplateValue::Literal(v) => Rendered::Value(v.clone()),
        }
    }

    /// Every template inside, with its place written as a JSON path suffix
    /// (`.linked_contacts[0].contact_id`).
    pub fn templates(&self) -> Vec<(String, &Template)> {
        let mut out = Vec::new();
        self.collect_templates(String::new(), &mut out);
        out
    }

    fn collect_templates<'a>(&'a self, at: String, out: &mut Vec<(String, &'a Template)>) {
        match self {
            TemplateValue::Text(t) => out.push((at, t)),
            TemplateValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.collect_templates(format!("{at}[{i}]"), out);
                }
            }
            TemplateValue::Object(entries) => {
                for (k, v) in entries {
                    v.collect_templates(format!("{at}.{k}"), out);
                }
            }
            TemplateValue::Literal(_) => {}
        }
    }

    pub fn expressions(&self) -> Vec<&str> {
        self.templates()
            .into_iter()
            .flat_map(|(_, t)| t.expressions())
            .collect()
    }

    /// Runs the template backwards over `received`: objects by key, arrays by
    /// position. A key the template has and `received` lacks is a value that
    /// rendered `undefined`, not a conflict.
    pub fn bind(&self, received: &Value, out: &mut Bindings) -> Fit {
        match (self, received) {
            (TemplateValue::Text(t), _) => t.bind(received, out),
            (TemplateValue::Array(items), Value::Array(got)) => {
                let mut fit = Fit::default();
                for (item, value) in items.iter().zip(got) {
                    fit += item.bind(value, out);
                }
                fit
            }
            (TemplateValue::Object(entries), Value::Object(got)) => {
                let mut fit = Fit::default();
                for (key, template) in entries {
                    if let Some(value) = got.get(key) {
                        fit.literal += key.chars().count();
                        fit += template.bind(value, out);
                    }
                }
                fit
            }
            (TemplateValue::Literal(literal), _) => {
                let text = js::to_string(literal);
                // Text (a query value) says the literal as it prints.
                if literal == received
                    || received.as_str() == Some(text.as_str())
                    || same_number(literal, received)
                {
                    Fit {
                        literal: text.chars().count(),
                        conflicts: 0,
                    }
                } else {
                    Fit::conflict()
                }
            }
            _ => Fit::conflict(),
        }
    }
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => js::number_f64(a) == js::number_f64(b),
        _ => false,
    }
}

/// `renderDeep`'s output: JSON that may hold `undefined`, in the config's
/// key order.
#[derive(Debug, Clone, PartialEq)]
pub enum Rendered {
    Undefined,
    Value(Value),
    Array(Vec<Rendered>),
    Object(Vec<(String, Rendered)>),
}

impl Rendered {
    pub fn is_undefined(&self) -> bool {
        matches!(self, Rendered::Undefined)
    }

    /// What `JSON.parse(JSON.stringify(x))` gives: `undefined` object members
    /// dropped, `undefined` array items `null`, `None` for a bare `undefined`.
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Rendered::Undefined => None,
            Rendered::Value(v) => Some(v.clone()),
            Rendered::Array(items) => Some(Value::Array(
                items
                    .iter()
                    .map(|item| item.to_value().unwrap_or(Value::Null))
                    .collect(),
            )),
            Rendered::Object(entries) => Some(Value::Object(
                entries
                    .iter()
                    .filter_map(|(k, v)| v.to_value().map(|v| (k.clone(), v)))
                    .collect(),
            )),
        }
    }

    /// `JSON.stringify(x)`, keeping the config's key order.
    pub fn to_json_text(&self) -> Option<String> {
        if self.is_undefined() {
            return None;
        }
        serde_json::to_string(self).ok()
    }
}

impl Serialize for Rendered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Rendered::Undefined => serializer.serialize_unit(),
            Rendered::Value(v) => v.serialize(serializer),
            Rendered::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Rendered::Object(entries) => {
                let defined: Vec<_> = entries.iter().filter(|(_, v)| !v.is_undefined()).collect();
                let mut map = serializer.serialize_map(Some(defined.len()))?;
                for (k, v) in defined {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests;
