//! What a route's templates accept, described for OpenAPI: its path as an
//! OpenAPI path template with a parameter per expression segment, its query
//! parameters, and a JSON Schema for its body.
//!
//! A schema says what the server really takes, no less: a request that
//! does not fit the templates is still served and stored as it came (as a
//! CRM would), so only what the operation needs (`needs`) constrains it.
//! The places that carry a need are required, with the shape around them:
//! an object with that key, a list with that item, a string with the
//! literal parts of a mixed template around the value (`SMS {{message.id}}
//! with …`), never `null` where null will not do. Everywhere else a value
//! is described (what App Connect sends there, a literal as its example)
//! but not constrained.
//!
//! Pure: routes in, JSON out.

use serde_json::{json, Map, Value};

use super::Route;
use crate::proxy::needs::Need;
use crate::proxy::template::{Piece, Template, TemplateValue};

/// A path or query parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    /// The expression a path parameter carries.
    pub expr: Option<String>,
    pub required: bool,
    pub schema: Value,
    pub description: String,
    pub example: Option<Value>,
}

/// A body's schema, and whether a request must have one.
#[derive(Debug, Clone, PartialEq)]
pub struct BodySchema {
    pub schema: Value,
    pub required: bool,
    /// What App Connect sends, with sample values for its expressions.
    pub example: Option<Value>,
}

/// An OpenAPI parameter name for an expression: its characters outside
/// `[A-Za-z0-9._-]` replaced by `_`.
pub fn param_name(expr: &str) -> String {
    expr.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Literal path text as it goes in an OpenAPI path: what a URL path may
/// hold as it is, the rest percent-encoded (`{` and `}` among them).
fn encode_literal(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The literal text of a regular expression (ECMA-262 and Python alike).
fn regex_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The needs a template carries where a request can give them: a whole
/// expression, or an expression alone between literal parts.
fn carried<'n>(template: &Template, needs: &'n [Need<'n>]) -> Vec<&'n Need<'n>> {
    if let Some(expr) = template.whole_expression() {
        return needs.iter().filter(|n| n.expr == expr).collect();
    }
    let pieces = template.pieces();
    let alone: Vec<&str> = pieces
        .iter()
        .enumerate()
        .filter_map(|(i, piece)| match piece {
            Piece::Expr(expr) => {
                let before = i == 0 || matches!(pieces[i - 1], Piece::Literal(_));
                let after = i + 1 == pieces.len() || matches!(pieces[i + 1], Piece::Literal(_));
                (before && after).then_some(expr.as_str())
            }
            Piece::Literal(_) => None,
        })
        .collect();
    needs.iter().filter(|n| alone.contains(&n.expr)).collect()
}

/// The pattern text must have to fit a mixed template's literal parts.
fn mixed_pattern(template: &Template) -> String {
    let mut pattern = String::from("^");
    for piece in template.pieces().iter() {
        match piece {
            Piece::Literal(text) => pattern.push_str(&regex_escape(text)),
            Piece::Expr(_) => pattern.push_str("[\\s\\S]*"),
        }
    }
    pattern.push('$');
    pattern
}

/// What App Connect sends at a template's place, for a description.
fn sends(template: &Template) -> String {
    format!("App Connect sends {:?} here", template.source())
}

/// The schema of one text template's place (a body field, a query value):
/// constrained only when it carries a need; whether it does.
fn text_schema(template: &Template, needs: &[Need<'_>], text_only: bool) -> (Value, bool) {
    let carried = carried(template, needs);
    let mut schema = Map::new();
    schema.insert("description".into(), Value::from(sends(template)));
    if carried.is_empty() {
        if text_only {
            schema.insert("type".into(), Value::from("string"));
        }
        return (Value::Object(schema), false);
    }
    if template.whole_expression().is_some() {
        if text_only {
            schema.insert("type".into(), Value::from("string"));
        } else if carried.iter().any(|n| n.not_null) {
            schema.insert("not".into(), json!({"type": "null"}));
        }
    } else {
        schema.insert("type".into(), Value::from("string"));
        schema.insert("pattern".into(), Value::from(mixed_pattern(template)));
    }
    (Value::Object(schema), true)
}

/// A sample of what App Connect renders: each expression's name in its
/// place, literals as they are.
fn sample(value: &TemplateValue) -> Value {
    match value {
        TemplateValue::Text(t) => match t.whole_expression() {
            Some(expr) => Value::from(format!("<{expr}>")),
            None => Value::from(
                t.pieces()
                    .iter()
                    .map(|piece| match piece {
                        Piece::Literal(text) => text.clone(),
                        Piece::Expr(expr) => format!("<{expr}>"),
                    })
                    .collect::<String>(),
            ),
        },
        TemplateValue::Array(items) => Value::Array(items.iter().map(sample).collect()),
        TemplateValue::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), sample(v)))
                .collect(),
        ),
        TemplateValue::Literal(v) => v.clone(),
    }
}

/// The schema of a body (or part of one) and whether it carries a need.
fn value_schema(value: &TemplateValue, needs: &[Need<'_>]) -> (Value, bool) {
    match value {
        TemplateValue::Text(t) => text_schema(t, needs, false),
        TemplateValue::Literal(literal) => (
            json!({"description": format!("App Connect sends {literal} here"), "examples": [literal]}),
            false,
        ),
        TemplateValue::Array(items) => {
            let schemas: Vec<(Value, bool)> =
                items.iter().map(|i| value_schema(i, needs)).collect();
            let Some(last_needed) = schemas.iter().rposition(|(_, needed)| *needed) else {
                return (
                    json!({"description": "App Connect sends a list here"}),
                    false,
                );
            };
            let prefix: Vec<Value> = schemas.into_iter().map(|(s, _)| s).collect();
            (
                json!({"type": "array", "prefixItems": prefix, "minItems": last_needed + 1}),
                true,
            )
        }
        TemplateValue::Object(entries) => {
            let mut properties = Map::new();
            let mut required = Vec::new();
            for (key, entry) in entries {
                let (schema, needed) = value_schema(entry, needs);
                if needed {
                    required.push(Value::from(key.as_str()));
                }
                properties.insert(key.clone(), schema);
            }
            if required.is_empty() {
                return (
                    json!({"description": "App Connect sends an object here", "properties": properties}),
                    false,
                );
            }
            (
                json!({"type": "object", "required": required, "properties": properties}),
                true,
            )
        }
    }
}

impl Route {
    /// The path as an OpenAPI path template (`/v1/activities/{thirdPartyLogId}`)
    /// and its parameters, each expression segment one.
    pub fn openapi_path(&self, needs: &[Need<'_>]) -> (String, Vec<Param>) {
        let mut path = String::new();
        let mut params: Vec<Param> = Vec::new();
        for (n, segment) in self.segments.iter().enumerate() {
            if n > 0 {
                path.push('/');
            }
            for piece in segment.pieces().iter() {
                match piece {
                    Piece::Literal(text) => path.push_str(&encode_literal(text)),
                    Piece::Expr(expr) => {
                        let name = param_name(expr);
                        path.push_str(&format!("{{{name}}}"));
                        if params.iter().any(|p| p.name == name) {
                            continue;
                        }
                        let needed = needs.iter().any(|need| need.expr == expr);
                        params.push(Param {
                            name,
                            expr: Some(expr.clone()),
                            required: true,
                            schema: json!({"type": "string", "minLength": 1}),
                            description: if needed {
                                format!("{{{{{expr}}}}}: what the operation needs")
                            } else {
                                format!("{{{{{expr}}}}}")
                            },
                            example: None,
                        });
                    }
                }
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        (path, params)
    }

    /// The query parameters its templates name (`?a={{x}}` in the url, and
    /// the `query` object's flat entries), in order.
    pub fn query_params(&self, needs: &[Need<'_>]) -> Vec<Param> {
        let mut params: Vec<Param> = Vec::new();
        let mut add = |name: &str, template: &Template| {
            let (schema, needed) = text_schema(template, needs, true);
            let example = template
                .expressions()
                .is_empty()
                .then(|| Value::from(template.source()));
            match params.iter_mut().find(|p| p.name == name) {
                Some(param) => param.required |= needed,
                None => params.push(Param {
                    name: name.to_owned(),
                    expr: template.whole_expression().map(str::to_owned),
                    required: needed,
                    schema,
                    description: sends(template),
                    example,
                }),
            }
        };
        for (name, template) in &self.url_query {
            add(name, template);
        }
        if let TemplateValue::Object(entries) = &self.query {
            for (name, value) in entries {
                match value {
                    TemplateValue::Text(template) => add(name, template),
                    TemplateValue::Literal(literal) => add(
                        name,
                        &Template::parse(&crate::proxy::js::to_string(literal)),
                    ),
                    // axios writes lists and objects as name[]= and
                    // name[key]=, which no flat parameter describes.
                    TemplateValue::Array(_) | TemplateValue::Object(_) => {}
                }
            }
        }
        params
    }

    /// The body's schema, `None` when the operation sends an empty object
    /// (App Connect's `op.body || {}`): there is nothing in it to read.
    pub fn body_schema(&self, needs: &[Need<'_>]) -> Option<BodySchema> {
        if matches!(&self.body, TemplateValue::Object(entries) if entries.is_empty()) {
            return None;
        }
        let (schema, required) = value_schema(&self.body, needs);
        Some(BodySchema {
            schema,
            required,
            example: Some(sample(&self.body)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::fixtures;
    use crate::proxy::needs::needs;
    use crate::proxy::route::Plan;
    use crate::proxy::Operation;

    fn route(fixture: (&str, &str), op: Operation) -> Route {
        let config = fixtures::config(fixture);
        Plan::new(&config)
            .routes
            .into_iter()
            .find(|r| r.operation == op)
            .expect("served")
    }

    #[test]
    fn only_what_an_operation_needs_is_required() {
        let call = route(fixtures::REDTAIL, Operation::CreateCallLog);
        let needs_of = |r: &Route| {
            let exprs: Vec<String> = r.expressions().into_iter().map(str::to_owned).collect();
            exprs
        };
        let exprs = needs_of(&call);
        let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
        let needed = needs(Operation::CreateCallLog, &refs);
        let body = call.body_schema(&needed).expect("a body");
        assert!(body.required);
        assert_eq!(body.schema["required"], json!(["subject", "description"]));
        assert_eq!(body.schema["type"], "object");
        assert_eq!(
            body.schema["properties"]["activity_code_id"],
            json!({"description": "App Connect sends 3 here", "examples": [3]}),
            "a literal is described, not required: the server stores what comes"
        );
        assert_eq!(body.example.expect("example")["subject"], "<subject>");

        let message = route(fixtures::REDTAIL, Operation::CreateMessageLog);
        let exprs = needs_of(&message);
        let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
        let needed = needs(Operation::CreateMessageLog, &refs);
        let body = message.body_schema(&needed).expect("a body");
        assert_eq!(body.schema["required"], json!(["subject"]));
        assert_eq!(
            body.schema["properties"]["subject"]["pattern"],
            "^SMS [\\s\\S]* with [\\s\\S]*$"
        );

        let get = route(fixtures::REDTAIL, Operation::GetCallLog);
        let exprs = needs_of(&get);
        let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
        let needed = needs(Operation::GetCallLog, &refs);
        let (path, params) = get.openapi_path(&needed);
        assert_eq!(path, "/api/public/v1/activities/{thirdPartyLogId}");
        assert_eq!(params.len(), 1);
        assert!(get.body_schema(&needed).is_none(), "App Connect sends {{}}");

        let search = route(fixtures::REDTAIL, Operation::FindContact);
        let exprs = needs_of(&search);
        let refs: Vec<&str> = exprs.iter().map(String::as_str).collect();
        let needed = needs(Operation::FindContact, &refs);
        let query = search.query_params(&needed);
        let names: Vec<(&str, bool)> = query
            .iter()
            .map(|p| (p.name.as_str(), p.required))
            .collect();
        assert_eq!(names, [("phone_number", true), ("page", false)]);
        assert_eq!(query[1].example, Some(json!("1")));
    }

    #[test]
    fn paths_and_patterns_are_written_safely() {
        assert_eq!(
            param_name("existingCallLog.thirdPartyLogId"),
            "existingCallLog.thirdPartyLogId"
        );
        assert_eq!(param_name("a b/c"), "a_b_c");
        assert_eq!(encode_literal("a b{c}"), "a%20b%7Bc%7D");
        assert_eq!(regex_escape("1.5 (x)"), "1\\.5 \\(x\\)");
    }
}
