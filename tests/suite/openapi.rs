//! The OpenAPI document against the server: every schema and example in it
//! is valid; the credentials it names are what each route really needs; and a
//! representative call of every operation — its success and each error it
//! documents — is answered with a status the document lists, the headers it
//! promises, and a body its schema accepts.

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

#[tokio::test]
async fn every_operation_answers_as_documented() {
    use Method as M;
    let mut c = Checker::start(ServerConfig::ephemeral()).await;
    let none = None;

    c.call(M::GET, "/health", "/health", none, &[], Body::None)
        .await;
    c.call(
        M::GET,
        "/openapi.json",
        "/openapi.json",
        none,
        &[],
        Body::None,
    )
    .await;

    let (status, _) = c.call(M::GET, "/me", "/me", dev(), &[], Body::None).await;
    assert_eq!(status, 200);
    let basic = basic_header_for_key(DEV_KEY);
    let (status, _) = c
        .call(M::GET, "/me", "/me", Some(&basic), &[], Body::None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = c.call(M::GET, "/me", "/me", none, &[], Body::None).await;
    assert_eq!(status, 401);
    let (status, users) = c
        .call(M::GET, "/users", "/users", dev(), &[], Body::None)
        .await;
    assert_eq!(
        (status, users["items"][0]["id"].as_str()),
        (200, Some("crm-user-1"))
    );
    let (status, _) = c
        .call(M::GET, "/users", "/users", none, &[], Body::None)
        .await;
    assert_eq!(status, 401);

    // Contacts.
    let t = "/contact";
    let new_contact = json!({"name": "Ana", "phone_number": "+1 (415) 555-0123", "type": "Lead"});
    let (status, contact) = c
        .call(M::POST, t, t, dev(), &[], Body::Json(new_contact))
        .await;
    assert_eq!(status, 201);
    let contact_id = contact["id"].as_str().expect("id").to_owned();
    for (body, expected) in [
        (Body::Json(json!({"name": "No number"})), 400),
        (Body::Raw("application/json", b"{".to_vec()), 400),
        (too_large(), 413),
        (plain_text(), 415),
    ] {
        let (status, _) = c.call(M::POST, t, t, dev(), &[], body).await;
        assert_eq!(status, expected);
    }
    let (status, _) = c
        .call(M::POST, t, t, none, &[], Body::Json(json!({})))
        .await;
    assert_eq!(status, 401);
    let (status, found) = c
        .call(
            M::GET,
            t,
            "/contact?phone=4155550123",
            dev(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(
        (status, found["items"][0]["id"].as_str()),
        (200, Some(contact_id.as_str()))
    );
    for (path, auth, expected) in [
        ("/contact", dev(), 200),
        ("/contact?name=ana&limit=1", dev(), 200),
        ("/contact?name=%20", dev(), 400),
        ("/contact?limit=0", dev(), 400),
        ("/contact?cursor=nope", dev(), 400),
        ("/contact?phone=none", dev(), 400),
        ("/contact?phone=1", none, 401),
    ] {
        let (status, _) = c.call(M::GET, t, path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    let t = "/contact/{id}";
    for (path, auth, expected) in [
        (format!("/contact/{contact_id}"), dev(), 200),
        ("/contact/contact-1".into(), dev(), 200),
        ("/contact/con_missing".into(), dev(), 404),
        ("/contact/contact-1".into(), none, 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    // Activities.
    let t = "/activity";
    let (status, first) = c
        .call(M::POST, t, t, dev(), &[], Body::Json(call_activity("s1")))
        .await;
    assert_eq!(status, 201);
    let activity_id = first["id"].as_str().expect("id").to_owned();
    let minimal = json!({"subject": "Call", "type": "PhoneCommunication", "body": null, "duration": "pending"});
    let (status, _) = c.call(M::POST, t, t, dev(), &[], Body::Json(minimal)).await;
    assert_eq!(status, 201);
    let key = [("idempotency-key", "call-s2")];
    for _ in 0..2 {
        let (status, _) = c
            .call(M::POST, t, t, dev(), &key, Body::Json(call_activity("s2")))
            .await;
        assert_eq!(status, 201);
    }
    let (status, _) = c
        .call(
            M::POST,
            t,
            t,
            dev(),
            &key,
            Body::Json(call_activity("other")),
        )
        .await;
    assert_eq!(status, 422);
    for (body, expected) in [
        (Body::Json(json!({"subject": "no type"})), 400),
        (
            Body::Json(json!({"subject": "s", "type": "t", "contact_id": "nope"})),
            400,
        ),
        (Body::Raw("application/json", b"[]".to_vec()), 400),
        (too_large(), 413),
        (plain_text(), 415),
    ] {
        let (status, _) = c.call(M::POST, t, t, dev(), &[], body).await;
        assert_eq!(status, expected);
    }
    let (status, _) = c
        .call(M::POST, t, t, none, &[], Body::Json(call_activity("x")))
        .await;
    assert_eq!(status, 401);
    let (status, page) = c
        .call(M::GET, t, "/activity?limit=1", dev(), &[], Body::None)
        .await;
    assert_eq!(status, 200);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("another page")
        .to_owned();
    for (path, auth, expected) in [
        (format!("/activity?cursor={cursor}&limit=200"), dev(), 200),
        (
            "/activity?session_id=s1&contact_id=contact-1".into(),
            dev(),
            200,
        ),
        ("/activity?limit=0".into(), dev(), 400),
        ("/activity?cursor=garbage".into(), dev(), 400),
        ("/activity".into(), none, 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    let t = "/activity/{id}";
    let path = format!("/activity/{activity_id}");
    for (auth, expected) in [(dev(), 200), (none, 401)] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }
    let (status, _) = c
        .call(M::GET, t, "/activity/act_missing", dev(), &[], Body::None)
        .await;
    assert_eq!(status, 404);
    let patch = json!({"body": "- Duration: 3 minutes\n", "duration": 180, "deal_id": null, "direction": null});
    for (path, auth, body, expected) in [
        (path.as_str(), dev(), Body::Json(patch.clone()), 200),
        (
            path.as_str(),
            dev(),
            Body::Json(json!({"subject": null})),
            400,
        ),
        (path.as_str(), dev(), too_large(), 413),
        (path.as_str(), dev(), plain_text(), 415),
        (
            "/activity/act_missing",
            dev(),
            Body::Json(patch.clone()),
            404,
        ),
        (path.as_str(), none, Body::Json(patch.clone()), 401),
    ] {
        let (status, _) = c.call(M::PATCH, t, path, auth, &[], body).await;
        assert_eq!(status, expected, "PATCH {path}");
    }

    // Violations of both kinds, so that GET /__admin/checks shows both.
    for session in ["dup", "dup"] {
        c.call(
            M::POST,
            "/activity",
            "/activity",
            dev(),
            &[],
            Body::Json(call_activity(session)),
        )
        .await;
    }
    let mut blank = call_activity("blank");
    blank["body"] = json!("");
    c.call(
        M::POST,
        "/activity",
        "/activity",
        dev(),
        &[],
        Body::Json(blank),
    )
    .await;

    for (auth, expected) in [(none, 401), (dev(), 204), (dev(), 404)] {
        let (status, _) = c.call(M::DELETE, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }

    // Admin: faults first, so the journal has entries with fault ids.
    let t = "/__admin/faults";
    let (status, fault) = c
        .call(
            M::POST,
            t,
            t,
            admin(),
            &[],
            Body::Json(json!({"method": "GET", "path": "/health", "status": 503, "retry_after": 1, "times": 1})),
        )
        .await;
    assert_eq!(status, 201);
    // Injected answers are outside the document on purpose (see its info);
    // this one only gives the journal an entry with a fault id.
    let (status, _) = crate::support::answer(c.crm.anonymous(M::GET, "/health")).await;
    assert_eq!(status, 503, "the fault fired");
    let (status, slow) = c
        .call(
            M::POST,
            t,
            t,
            admin(),
            &[],
            Body::Json(json!({"path": "/nowhere/*", "delay_ms": 1, "probability": 0.5})),
        )
        .await;
    assert_eq!(status, 201);
    for (auth, body, expected) in [
        (admin(), Body::Json(json!({"path": "/a"})), 400),
        (
            admin(),
            Body::Json(json!({"path": "/a", "status": 503, "colour": "red"})),
            400,
        ),
        (admin(), too_large(), 413),
        (admin(), plain_text(), 415),
        (dev(), Body::Json(fault.clone()), 401),
    ] {
        let (status, _) = c.call(M::POST, t, t, auth, &[], body).await;
        assert_eq!(status, expected);
    }
    for (auth, expected) in [(admin(), 200), (none, 401)] {
        let (status, _) = c.call(M::GET, t, t, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }
    let one = format!("/__admin/faults/{}", slow["id"].as_str().expect("id"));
    for (auth, expected) in [(dev(), 401), (admin(), 204), (admin(), 404)] {
        let (status, _) = c
            .call(
                M::DELETE,
                "/__admin/faults/{id}",
                &one,
                auth,
                &[],
                Body::None,
            )
            .await;
        assert_eq!(status, expected);
    }
    for (auth, expected) in [(admin(), 204), (none, 401)] {
        let (status, _) = c.call(M::DELETE, t, t, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }

    let t = "/__admin/requests";
    let (status, journal) = c
        .call(
            M::GET,
            t,
            "/__admin/requests?limit=1000",
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(journal["items"]
        .as_array()
        .is_some_and(|items| items.len() > 20));
    for (path, auth, expected) in [
        (
            "/__admin/requests?method=post&path=/activity&limit=2",
            admin(),
            200,
        ),
        ("/__admin/requests?limit=0", admin(), 400),
        ("/__admin/requests", dev(), 401),
    ] {
        let (status, _) = c.call(M::GET, t, path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    for (auth, expected) in [(admin(), 204), (none, 401)] {
        let (status, _) = c.call(M::DELETE, t, t, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }

    let t = "/__admin/checks";
    let (status, checks) = c.call(M::GET, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 200);
    let kinds: BTreeSet<&str> = checks["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["duplicate_session", "empty_body"]));
    let (status, _) = c.call(M::GET, t, t, none, &[], Body::None).await;
    assert_eq!(status, 401);

    let t = "/__admin/activities";
    let (status, listed) = c
        .call(
            M::GET,
            t,
            "/__admin/activities?limit=2",
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 200);
    let cursor = listed["next_cursor"].as_str().expect("more").to_owned();
    let org = listed["items"][0]["organisation"]["id"]
        .as_str()
        .expect("org")
        .to_owned();
    let listed_id = listed["items"][0]["activity"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (path, auth, expected) in [
        (
            format!("/__admin/activities?org={org}&cursor={cursor}"),
            admin(),
            200,
        ),
        (
            "/__admin/activities?session_id=s1&contact_id=contact-1&q=duration".into(),
            admin(),
            200,
        ),
        ("/__admin/activities?org=".into(), admin(), 400),
        ("/__admin/activities?limit=201".into(), admin(), 400),
        ("/__admin/activities?org=999".into(), admin(), 404),
        ("/__admin/activities".into(), dev(), 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    let t = "/__admin/activities/{id}/revisions";
    for (path, auth, expected) in [
        (
            format!("/__admin/activities/{listed_id}/revisions?org={org}"),
            admin(),
            200,
        ),
        (
            format!("/__admin/activities/{listed_id}/revisions?org="),
            admin(),
            400,
        ),
        (
            "/__admin/activities/act_missing/revisions".into(),
            admin(),
            404,
        ),
        (
            format!("/__admin/activities/{listed_id}/revisions"),
            none,
            401,
        ),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    // Tenants, and ?org= on every admin route that takes it.
    let t = "/__admin/tenants";
    let (status, tenant) = c
        .call(
            M::POST,
            t,
            t,
            admin(),
            &[],
            Body::Json(json!({"name": "ci-job-1"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = c.call(M::POST, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 201, "no body: every default");
    for (auth, body, expected) in [
        (admin(), Body::Json(json!({"name": "ci-job-1"})), 409),
        (admin(), Body::Json(json!({"name": " "})), 400),
        (admin(), Body::Json(json!({"colour": "red"})), 400),
        (admin(), too_large(), 413),
        (admin(), plain_text(), 415),
        (dev(), Body::Json(json!({})), 401),
    ] {
        let (status, _) = c.call(M::POST, t, t, auth, &[], body).await;
        assert_eq!(status, expected);
    }
    let org = tenant["id"].as_str().expect("id").to_owned();
    let (status, listed) = c.call(M::GET, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 200);
    let acme = listed["items"][0]["id"].as_str().expect("acme").to_owned();
    let scoped = |path: &str, org: &str| format!("{path}?org={org}");
    for (path, auth, expected) in [
        (scoped(t, &org), admin(), 200),
        (scoped(t, ""), admin(), 400),
        (scoped(t, "org_gone"), admin(), 404),
        (t.to_owned(), dev(), 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    // How to reach the CRM faces (none is served here: an empty list), for
    // the seed's organisation or a tenant.
    let t = "/__admin/crms";
    for (path, auth, expected) in [
        (t.to_owned(), admin(), 200),
        (scoped(t, &org), admin(), 200),
        (scoped(t, ""), admin(), 400),
        (scoped(t, "org_gone"), admin(), 404),
        (t.to_owned(), dev(), 401),
    ] {
        let (status, body) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}: {body}");
        if status == 200 {
            assert_eq!(body, json!({"crms": [], "tls": null, "proxy": null}));
        }
    }
    let scoped_routes: [(Method, &str, Option<Value>); 8] = [
        (M::GET, "/__admin/requests", None),
        (M::DELETE, "/__admin/requests", None),
        (M::GET, "/__admin/faults", None),
        (
            M::POST,
            "/__admin/faults",
            Some(json!({"path": "/activity", "kind": "reset", "times": 1})),
        ),
        (M::DELETE, "/__admin/faults", None),
        (M::DELETE, "/__admin/faults/{id}", None),
        (M::GET, "/__admin/checks", None),
        (M::POST, "/__admin/reset", None),
    ];
    for (method, template, body) in scoped_routes {
        let path = template.replace("{id}", "flt_none");
        for (query_org, expected) in [("org_gone", 404), ("", 400)] {
            let body = body.clone().map_or(Body::None, Body::Json);
            let (status, _) = c
                .call(
                    method.clone(),
                    template,
                    &scoped(&path, query_org),
                    admin(),
                    &[],
                    body,
                )
                .await;
            let expected = match (template, query_org) {
                // The empty org names no organisation for the body either.
                ("/__admin/faults", "") if method == M::POST => 400,
                _ => expected,
            };
            assert_eq!(status, expected, "{method} {path} org={query_org:?}");
        }
    }
    let (status, fault) = c
        .call(
            M::POST,
            "/__admin/faults",
            &scoped("/__admin/faults", &org),
            admin(),
            &[],
            Body::Json(json!({"path": "/activity", "kind": "truncated", "times": 1})),
        )
        .await;
    assert_eq!((status, &fault["org"]), (201, &json!(org)));
    let one = format!("/__admin/faults/{}", fault["id"].as_str().expect("id"));
    let (status, _) = c
        .call(
            M::DELETE,
            "/__admin/faults/{id}",
            &scoped(&one, &org),
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, scoped_checks) = c
        .call(
            M::GET,
            "/__admin/checks",
            &scoped("/__admin/checks", &org),
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!((status, &scoped_checks["violations"]), (200, &json!([])));
    let (status, _) = c
        .call(
            M::POST,
            "/__admin/reset",
            &scoped("/__admin/reset", &org),
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 204);
    let t = "/__admin/tenants/{id}";
    for (id, auth, expected) in [
        (org.as_str(), dev(), 401),
        (acme.as_str(), admin(), 409),
        (org.as_str(), admin(), 204),
        (org.as_str(), admin(), 404),
    ] {
        let path = format!("/__admin/tenants/{id}");
        let (status, _) = c.call(M::DELETE, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    let t = "/__admin/reset";
    for (path, auth, expected) in [
        ("/__admin/reset?empty=maybe", admin(), 400),
        ("/__admin/reset", dev(), 401),
        ("/__admin/reset?empty=false", admin(), 204),
        ("/__admin/reset?empty=true", admin(), 204),
    ] {
        let (status, _) = c.call(M::POST, t, path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    // 429 only happens with --rate-limit, 503 only at a limit (see
    // overloaded_answers_are_documented), and 500 never should.
    c.assert_all_seen(&["429", "500", "503"]);
    c.crm.shutdown().await;
}

/// 503 overloaded, as every operation documents it: the store's queue is
/// held full (a queue of one, behind a held store thread), so each request
/// that needs the store is turned away at once.
#[tokio::test]
async fn overloaded_answers_are_documented() {
    use Method as M;
    let mut c = Checker::start(ServerConfig {
        store_queue: 1,
        ..ServerConfig::ephemeral()
    })
    .await;
    // The dev key is resolved once, so later requests need no store trip
    // to authenticate and reach their handler's.
    let (status, _) = c.call(M::GET, "/me", "/me", dev(), &[], Body::None).await;
    assert_eq!(status, 200);
    let hold = c.crm.server.hold_store_for_test().await.expect("hold");
    // Two requests at once: one takes the only place in the queue and
    // waits there, the other is turned away. Which is which is up to the
    // scheduler; that one of each happens is not.
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..2 {
        let request = c.crm.dev(M::GET, "/activity/act_waiting");
        let answers = answers.clone();
        tokio::spawn(async move {
            let status = request.send().await.map(|r| r.status().as_u16()).ok();
            let _ = answers.send(status);
        });
    }
    let first = answered.recv().await.expect("an answer");
    assert_eq!(first, Some(503), "the second request is turned away");
    // The queue stays full until the hold goes: every request that needs
    // the store is turned away now.
    let (status, body) = c
        .call(
            M::GET,
            "/activity/{id}",
            "/activity/act_probe",
            dev(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("overloaded"))
    );
    for (method, template, path, auth) in [
        (M::GET, "/activity", "/activity?session_id=s", dev()),
        (M::GET, "/__admin/checks", "/__admin/checks", admin()),
        (M::GET, "/__admin/tenants", "/__admin/tenants", admin()),
    ] {
        let (status, body) = c.call(method, template, path, auth, &[], Body::None).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["error"]["code"], "overloaded");
    }
    drop(hold);
    let waited = answered.recv().await.expect("an answer");
    assert_eq!(
        waited,
        Some(404),
        "the queued request was served, not dropped"
    );
    c.crm.shutdown().await;
}

#[tokio::test]
async fn rate_limited_answers_are_documented() {
    // A manual clock never refills the bucket by itself.
    let (clock, _time) = mockcrm::Clock::manual();
    let mut c = Checker::start(ServerConfig {
        rate_limit: Some(1),
        clock,
        ..ServerConfig::ephemeral()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(
            c.call(Method::GET, "/me", "/me", dev(), &[], Body::None)
                .await
                .0,
        );
    }
    assert_eq!(statuses, [200, 429]);
    c.crm.shutdown().await;
}

/// Every operation the document says needs credentials refuses a request
/// without them, with a key no one has, and with a Basic header that is
/// not base64; every open one answers without any. The operations come
/// from the document, so a route added there is covered here.
#[tokio::test]
async fn secured_operations_refuse_bad_keys_and_open_ones_need_none() {
    let mut c = Checker::start(ServerConfig::ephemeral()).await;
    let doc = c.doc.clone();
    for (method, template, operation) in operations(&doc) {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let path = template.replace("{id}", "x");
        let open = operation["security"] == json!([]);
        let credentials: &[Option<&str>] = if open {
            &[None]
        } else {
            &[None, Some("Bearer wrong-key"), Some("Basic %%%")]
        };
        for authorization in credentials {
            let (status, _) = c
                .call(
                    method.clone(),
                    &template,
                    &path,
                    *authorization,
                    &[],
                    Body::None,
                )
                .await;
            let expected = if open { 200 } else { 401 };
            assert_eq!(
                status, expected,
                "{method} {template} with {authorization:?}"
            );
        }
    }
    c.crm.shutdown().await;
}

#[tokio::test]
async fn other_methods_get_405_with_the_documented_methods_in_allow() {
    let crm = TestCrm::start().await;
    let doc = document();
    let mut by_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, path, _) in operations(&doc) {
        by_path.entry(path).or_default().insert(method);
    }
    for (template, methods) in &by_path {
        let path = template.replace("{id}", "x");
        let authorization = if template.starts_with("/__admin/") {
            "Bearer mockcrm-admin"
        } else {
            "Bearer mockcrm-dev-key"
        };
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            if methods.contains(method) {
                continue;
            }
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let response = crm
                .anonymous(method.clone(), &path)
                .header("authorization", authorization)
                .send()
                .await
                .expect("sent");
            assert_eq!(response.status(), 405, "{method} {path}");
            let allow: BTreeSet<String> = response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(&allow, methods, "Allow of {method} {path}");
            let body: Value = response.json().await.expect("json");
            assert_valid(
                &doc,
                &doc["components"]["responses"]["MethodNotAllowed"]["content"]["application/json"]
                    ["schema"],
                &body,
                &format!("{method} {path}"),
            );
        }
    }
    crm.shutdown().await;
}

/// Where the document's schemas and the server's validation could drift
/// apart silently (text that looks blank, times chrono reads loosely), the
/// server accepts a value exactly when the document says it is valid.
#[tokio::test]
async fn field_validation_agrees_with_the_document() {
    let crm = TestCrm::start().await;
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let timestamps = [
        "2024-01-15T15:30:00Z",
        "2024-01-15t15:30:00.123456789012z",
        "2016-12-31T23:59:60Z",
        "2016-12-31T18:59:60-05:00",
        "2016-12-31T23:59:60+01:00",
        "2024-01-15 15:30:00Z",
        "2024-01-15T12:30:60Z",
        "2024-01-15T15:30:00+0000",
        "2024-02-30T00:00:00Z",
        "2024-01-15T15:30Z",
    ];
    let texts = [
        "a", " a ", "", " ", "\t\n", "\u{1c}", "\u{85}", "\u{a0}", "\u{3000}", "\u{200b}",
    ];
    let mut cases = Vec::new();
    for time in timestamps {
        let body = json!({"subject": "s", "type": "t", "received_at": time});
        cases.push((&schemas["Timestamp"], json!(time), "/activity", body));
    }
    for text in texts {
        let body = json!({"subject": text, "type": "t"});
        cases.push((&schemas["NonBlankString"], json!(text), "/activity", body));
        let body = json!({"name": text, "phone_number": "+14155550100"});
        cases.push((&schemas["NonBlankString"], json!(text), "/contact", body));
    }
    for (schema, value, path, body) in cases {
        let valid = validator(&doc, schema).is_valid(&value);
        let (status, _) = crate::support::answer(crm.dev(Method::POST, path).json(&body)).await;
        let expected = if valid { 201 } else { 400 };
        assert_eq!(
            status, expected,
            "{path} with {value}: document says valid={valid}"
        );
    }
    let key_schema = &doc["components"]["parameters"]["IdempotencyKey"]["schema"];
    let long = "k".repeat(255);
    let too_long = "k".repeat(256);
    for key in ["k", "call 42", "a\tb", long.as_str(), too_long.as_str()] {
        let valid = validator(&doc, key_schema).is_valid(&json!(key));
        let request = crm
            .dev(Method::POST, "/activity")
            .header("idempotency-key", key)
            .json(&json!({"subject": "s", "type": "t"}));
        let (status, _) = crate::support::answer(request).await;
        let expected = if valid { 201 } else { 400 };
        assert_eq!(
            status, expected,
            "Idempotency-Key {key:?}: document says valid={valid}"
        );
    }
    crm.shutdown().await;
}

/// Every kind of violation a native client can cause answers as the
/// document says, the organisation's id included.
#[tokio::test]
async fn violations_answer_as_documented() {
    use Method as M;
    let mut c = Checker::start(ServerConfig::ephemeral()).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, created) = c
            .call(
                M::POST,
                "/activity",
                "/activity",
                dev(),
                &[],
                Body::Json(call_activity("twice")),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let path = format!("/activity/{}", ids[0]);
    let (status, _) = c
        .call(
            M::PATCH,
            "/activity/{id}",
            &path,
            dev(),
            &[],
            Body::Json(json!({"colour": "red"})),
        )
        .await;
    assert_eq!(status, 200);
    let t = "/__admin/checks";
    let (status, checks) = c.call(M::GET, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 200);
    let kinds: BTreeSet<&str> = checks["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["duplicate_session", "unknown_fields"])
    );
    c.crm.shutdown().await;
}
