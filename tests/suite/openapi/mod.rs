//! The OpenAPI document against the server: every schema and example in it
//! is valid; the credentials it names are what each route really needs; and a
//! representative call of every operation — its success and each error it
//! documents — is answered with a status the document lists, the headers it
//! promises, and a body its schema accepts.

mod answers;
mod every_operation;

use std::collections::{BTreeMap, BTreeSet};

use crate::support::{TestCrm, BODY_LIMIT, DEV_KEY};
use mockcrm::{basic_header_for_key, Server, ServerConfig};
use reqwest::Method;
use serde_json::{json, Map, Value};

const ADMIN_KEY: &str = "mockcrm-admin";
const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document as the repository holds it; the served copy is compared
/// with it below.
fn document() -> Value {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/faces/document/openapi.json");
    let text = std::fs::read_to_string(&path).expect("src/faces/document/openapi.json readable");
    serde_json::from_str(&text).expect("openapi.json is JSON")
}

/// Every operation in the document: (METHOD, path template, operation).
pub(crate) fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("paths is an object");
    let mut found = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("path item is an object");
        for (key, operation) in item {
            if HTTP_METHODS.contains(&key.as_str()) {
                found.push((key.to_uppercase(), path.clone(), operation.clone()));
            }
        }
    }
    found
}

/// Follows `$ref`s (only local ones are used) until a value has none.
pub(crate) fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {reference}"));
        value = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("$ref {reference} points nowhere"));
    }
    value
}

/// A compiled `schema`, which may `$ref` into the document's components:
/// they are carried along under the same pointer.
pub(crate) struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn is_valid(&self, instance: &Value) -> bool {
        self.schemas.validate(instance, self.index).is_ok()
    }

    /// Every way `instance` fails the schema, one per line; empty if none.
    pub(crate) fn errors(&self, instance: &Value) -> String {
        match self.schemas.validate(instance, self.index) {
            Ok(()) => String::new(),
            Err(error) => format!("{error:#}"),
        }
    }
}

pub(crate) fn validator(doc: &Value, schema: &Value) -> Validator {
    let mut root = match schema {
        Value::Object(object) => object.clone(),
        Value::Bool(true) => Map::new(),
        other => panic!("schema is not an object: {other}"),
    };
    root.insert("components".into(), doc["components"].clone());
    const URL: &str = "urn:mockcrm:openapi-schema";
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    // Formats are asserted, not only annotated: answers' times are checked.
    compiler.enable_format_assertions();
    compiler
        .add_resource(URL, Value::Object(root))
        .unwrap_or_else(|e| panic!("schema is not a resource ({e}): {schema}"));
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(URL, &mut schemas)
        .unwrap_or_else(|e| panic!("schema does not compile ({e:#}): {schema}"));
    Validator { schemas, index }
}

pub(crate) fn assert_valid(doc: &Value, schema: &Value, instance: &Value, what: &str) {
    let errors = validator(doc, schema).errors(instance);
    assert!(
        errors.is_empty(),
        "{what}: {instance} does not match its schema:\n{errors}"
    );
}

/// Calls `visit` on every value in the document, with its JSON pointer.
pub(crate) fn walk(value: &Value, pointer: &str, visit: &mut dyn FnMut(&str, &Value)) {
    visit(pointer, value);
    match value {
        Value::Object(object) => {
            for (key, child) in object {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                walk(child, &format!("{pointer}/{escaped}"), visit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                walk(child, &format!("{pointer}/{index}"), visit);
            }
        }
        _ => {}
    }
}

#[test]
fn every_reference_resolves_and_every_example_fits_its_schema() {
    let doc = document();
    let mut references = 0;
    walk(&doc, "", &mut |_, value| {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            resolve(&doc, &json!({"$ref": reference}));
            references += 1;
        }
    });
    assert!(references > 0);

    // Formats are asserted, not only annotated: answers' times are checked.
    let timestamp = &doc["components"]["schemas"]["Timestamp"];
    assert!(!validator(&doc, timestamp).is_valid(&json!("yesterday")));
    assert!(validator(&doc, timestamp).is_valid(&json!("2024-01-15T15:30:00.000Z")));

    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        validator(&doc, schema);
        if let Some(example) = schema.get("example") {
            assert_valid(&doc, schema, example, &format!("schema {name} example"));
        }
    }
    let mut examples = 0;
    walk(&doc, "", &mut |pointer, value| {
        // Media types and parameters carry a schema and may carry an example.
        let (Some(schema), Some(example)) = (value.get("schema"), value.get("example")) else {
            return;
        };
        assert_valid(&doc, schema, example, pointer);
        examples += 1;
    });
    assert!(examples >= 5, "only {examples} examples checked");
}

#[tokio::test]
async fn the_document_is_served_without_a_key_and_not_journaled() {
    let crm = TestCrm::start().await;
    let response = crm
        .anonymous(Method::GET, "/openapi.json")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let served: Value = response.json().await.expect("json");
    assert_eq!(served, document());

    let (status, journal) =
        crate::support::answer(crm.as_key(ADMIN_KEY, Method::GET, "/__admin/requests")).await;
    assert_eq!((status, journal), (200, json!({"items": []})));
    crm.shutdown().await;
}

/// A live server and the document, checking every answer against it.
struct Checker {
    doc: Value,
    crm: TestCrm,
    /// (METHOD, template) → statuses seen.
    seen: BTreeMap<(String, String), BTreeSet<u16>>,
}

enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

impl Checker {
    async fn start(config: ServerConfig) -> Checker {
        Checker {
            doc: document(),
            crm: TestCrm {
                server: Server::start(config).await.expect("server starts"),
                http: reqwest::Client::new(),
            },
            seen: BTreeMap::new(),
        }
    }

    /// Sends one request and checks the answer against the operation
    /// `method template` of the document; returns its status and body.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        authorization: Option<&str>,
        headers: &[(&str, &str)],
        body: Body,
    ) -> (u16, Value) {
        let label = format!("{method} {path} (as {template})");
        let mut request = self.crm.anonymous(method.clone(), path);
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(&value),
            Body::Raw(content_type, bytes) => {
                request.header("content-type", content_type).body(bytes)
            }
        };
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let response_headers = response.headers().clone();
        let text = response.text().await.expect("body read");

        let operation = self.doc["paths"][template][method.as_str().to_lowercase()].clone();
        assert!(operation.is_object(), "{label}: not in the document");
        let documented = operation["responses"]
            .get(status.to_string())
            .unwrap_or_else(|| panic!("{label}: status {status} is not documented: {text}"));
        let documented = resolve(&self.doc, documented).clone();
        let content_type = response_headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let body = match documented["content"]["application/json"].get("schema") {
            Some(schema) => {
                assert!(
                    content_type.starts_with("application/json"),
                    "{label}: content-type {content_type:?}"
                );
                let body: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{label}: body is not JSON ({e}): {text}"));
                assert_valid(&self.doc, schema, &body, &format!("{label} {status}"));
                body
            }
            None => {
                assert!(
                    text.is_empty(),
                    "{label} {status}: undocumented body {text}"
                );
                Value::Null
            }
        };
        if let Some(promised) = documented["headers"].as_object() {
            for (name, header) in promised {
                let header = resolve(&self.doc, header);
                let value = response_headers.get(name).and_then(|v| v.to_str().ok());
                let Some(value) = value else {
                    assert_ne!(header["required"], true, "{label}: no {name} header");
                    continue;
                };
                let schema = &header["schema"];
                let value = if schema["type"] == "integer" {
                    value
                        .parse::<u64>()
                        .map(Value::from)
                        .unwrap_or_else(|_| panic!("{label}: {name} {value:?} is not a number"))
                } else {
                    Value::from(value)
                };
                assert_valid(&self.doc, schema, &value, &format!("{label} header {name}"));
            }
        }
        self.seen
            .entry((method.to_string(), template.to_owned()))
            .or_default()
            .insert(status);
        (status, body)
    }

    /// Every documented status of every operation was seen, except those
    /// no test can bring about on purpose.
    fn assert_all_seen(&self, unreachable: &[&str]) {
        let mut missing = Vec::new();
        for (method, path, operation) in operations(&self.doc) {
            let seen = self.seen.get(&(method.clone(), path.clone()));
            for status in operation["responses"]
                .as_object()
                .expect("responses")
                .keys()
            {
                if unreachable.contains(&status.as_str()) {
                    continue;
                }
                let status: u16 = status.parse().expect("numeric status");
                if !seen.is_some_and(|seen| seen.contains(&status)) {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
        assert!(missing.is_empty(), "never exercised: {missing:#?}");
    }
}

fn dev() -> Option<&'static str> {
    Some("Bearer mockcrm-dev-key")
}

fn admin() -> Option<&'static str> {
    Some("Bearer mockcrm-admin")
}

fn call_activity(session: &str) -> Value {
    json!({
        "subject": "Inbound Call from Jane Contact",
        "body": "- Duration: 2 minutes, 5 seconds\n",
        "body_format": "text/plain",
        "type": "PhoneCommunication",
        "received_at": "2024-01-15T15:30:00.000Z",
        "contact_id": "contact-1",
        "session_id": session,
        "direction": "Inbound",
        "duration": 125,
        "deal_id": "deal-7",
    })
}

fn too_large() -> Body {
    Body::Raw("application/json", vec![b' '; BODY_LIMIT + 1])
}

fn plain_text() -> Body {
    Body::Raw("text/plain", b"{}".to_vec())
}
