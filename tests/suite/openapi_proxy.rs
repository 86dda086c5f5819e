//! The served configs' part of `GET /openapi.json` against the server:
//! every schema in it compiles and every example fits; every operation of
//! every config, driven by mockcrm's proxy engine, is sent to a path the
//! document lists and answered 2xx there; and every answer the configs'
//! routes give — those and the errors they answer (400, 401, 404, 413,
//! 422) — has a status the document lists for it and a body its schema
//! accepts. Answers are read back from the journal, so every request of a
//! run is checked.

use std::collections::{BTreeMap, BTreeSet};

use mockcrm::{basic_header_for_key, ProxyConfig, ProxyConnector, ProxyOperation as Op};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::openapi::{operations, resolve, validator, walk};
use crate::proxy_lifecycle::{arguments, fixture_config, lifecycle, serving};
use crate::support::{answer, TestCrm, BODY_LIMIT, DEV_KEY};

/// The header each fixture config's auth builds for the seed's key.
fn credentials(config: &ProxyConfig) -> String {
    let file = config.file.as_str();
    if file.contains("redtail") {
        "Userkeyauth bW9ja2NybS1kZXYta2V5Og==".into()
    } else if file.contains("sample") {
        "Basic bW9ja2NybS1kZXYta2V5".into()
    } else if file.contains("minimal") || file.contains("pipedrive") {
        format!("Bearer {DEV_KEY}")
    } else {
        basic_header_for_key(DEV_KEY)
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

async fn served_document(crm: &TestCrm) -> Value {
    let (status, doc) = answer(crm.anonymous(Method::GET, "/openapi.json")).await;
    assert_eq!(status, 200);
    doc
}

/// The proxy operations of the document: (METHOD, path, operation).
fn proxy_operations(doc: &Value) -> Vec<(String, String, Value)> {
    operations(doc)
        .into_iter()
        .filter(|(_, _, op)| {
            op["tags"][0]
                .as_str()
                .is_some_and(|t| t.starts_with("proxy: "))
        })
        .collect()
}

/// The document's operation for a request path: literal segments equal,
/// `{…}` segments any one segment; the most literal match wins.
fn operation_for<'d>(doc: &'d Value, method: &str, path: &str) -> Option<(String, &'d Value)> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, String, &Value)> = None;
    for (template, item) in doc["paths"].as_object()? {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(part, segment)| {
            if part.starts_with('{') && part.ends_with('}') {
                !segment.is_empty()
            } else {
                literal += 1;
                part == segment
            }
        });
        let Some(op) = item.get(method.to_ascii_lowercase()) else {
            continue;
        };
        if fits && best.as_ref().is_none_or(|(l, _, _)| literal > *l) {
            best = Some((literal, template.clone(), op));
        }
    }
    best.map(|(_, template, op)| (template, op))
}

#[test]
fn without_configs_the_native_document_is_served() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let crm = serving(vec![]).await;
        let doc = served_document(&crm).await;
        assert!(proxy_operations(&doc).is_empty());
        crm.shutdown().await;
    });
}

/// The configs served together in one server (as .ci/run fuzzes them), and
/// those that claim a base path of another.
fn fixture_sets() -> Vec<Vec<ProxyConfig>> {
    vec![
        vec![
            fixture_config("proxy-configs/insightly-like.json"),
            fixture_config("proxy-configs/pipedrive-like.json"),
            fixture_config("proxy-configs/redtail-like.json"),
            fixture_config("proxy-configs/app-connect-sample-like.json"),
        ],
        vec![fixture_config("proxy-configs/minimal.json")],
        // Its routes are native routes: the served ones replace them.
        vec![fixture_config("app-connect/mockcrm.proxy.json")],
    ]
}

#[tokio::test]
async fn every_served_route_is_in_the_document_and_its_schemas_compile() {
    for configs in fixture_sets() {
        let crm = serving(configs.clone()).await;
        let doc = served_document(&crm).await;
        let description = doc["info"]["description"].as_str().unwrap_or_default();
        assert!(
            description.contains("their routes are listed here too"),
            "{description}"
        );
        // Native routes keep their place.
        assert!(doc["paths"]["/health"]["get"].is_object());
        assert!(doc["paths"]["/__admin/faults"]["post"].is_object());
        for config in &configs {
            let tag = format!("proxy: {}", config.file);
            assert!(
                doc["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t["name"] == tag)),
                "{tag}"
            );
        }
        assert!(
            proxy_operations(&doc).len() >= configs.len(),
            "every config has operations"
        );
        let mut ids = BTreeSet::new();
        let mut examples = 0;
        for (method, path, op) in operations(&doc) {
            let id = op["operationId"].as_str().expect("operationId").to_owned();
            assert!(ids.insert(id.clone()), "{id} used twice");
            for (status, response) in op["responses"].as_object().expect("responses") {
                let response = resolve(&doc, response);
                if let Some(schema) = response.pointer("/content/application~1json/schema") {
                    validator(&doc, schema);
                }
                assert!(status.len() == 3, "{method} {path} {status}");
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                let param = resolve(&doc, param);
                if param["in"] == "path" {
                    let name = param["name"].as_str().expect("name");
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: {name}"
                    );
                }
            }
        }
        walk(&doc, "", &mut |pointer, value| {
            let (Some(schema), Some(example)) = (value.get("schema"), value.get("example")) else {
                return;
            };
            let errors = validator(&doc, schema).errors(example);
            assert!(errors.is_empty(), "{pointer}: {example}: {errors}");
            examples += 1;
        });
        assert!(examples > 5);
        crm.shutdown().await;
    }
}

/// Every operation a config has, through the engine; the log id of the
/// call log it created.
async fn drive(config: &ProxyConfig, crm: &TestCrm) -> Option<String> {
    let engine = ProxyConnector::pointed_at(config, &crm.server.url()).expect("connector");
    let create = arguments("create-call-log/outbound-recording-pending.json");
    let user = create["user"].clone();
    let auth = create["authHeader"].clone();
    let now = chrono::Utc::now();
    let has = |op: Op| config.operation(op).is_some();
    let call = |op: Op, args: Value| {
        let engine = &engine;
        async move {
            engine
                .call(op, &object(args), now)
                .await
                .unwrap_or_else(|e| panic!("{}: {op}: {e}", config.file))
        }
    };
    let log_id = if has(Op::CreateCallLog) && has(Op::GetCallLog) && has(Op::UpdateCallLog) {
        Some(lifecycle(config, crm).await)
    } else {
        None
    };
    if has(Op::GetUserInfo) {
        call(
            Op::GetUserInfo,
            json!({"apiKey": DEV_KEY, "platform": "mockcrm"}),
        )
        .await;
    }
    if has(Op::CreateContact) {
        call(
            Op::CreateContact,
            json!({"user": user, "authHeader": auth, "phoneNumber": "+14155550123",
                "newContactName": "Ana", "newContactType": "Lead"}),
        )
        .await;
    }
    if has(Op::GetUserList) {
        call(Op::GetUserList, json!({"user": user, "authHeader": auth})).await;
    }
    if has(Op::GetLicenseStatus) {
        call(
            Op::GetLicenseStatus,
            json!({"user": user, "userId": "crm-user-1", "platform": "mockcrm"}),
        )
        .await;
    }
    if has(Op::UnAuthorize) {
        call(Op::UnAuthorize, json!({"user": user})).await;
    }
    if let (true, Some(log_id)) = (has(Op::UpsertCallDisposition), &log_id) {
        call(
            Op::UpsertCallDisposition,
            json!({"user": user, "authHeader": auth, "existingCallLog": {"thirdPartyLogId": log_id},
                "dispositions": {"dealId": 12}}),
        )
        .await;
    }
    if has(Op::CreateMessageLog) {
        let message = json!({"id": 604, "subject": "On my way", "direction": "Outbound",
            "from": {"phoneNumber": "+14155550101"}, "creationTime": "2024-01-15T15:30:00.000Z"});
        let contact = json!({"id": "contact-1", "name": "Jane Contact"});
        let logged = call(
            Op::CreateMessageLog,
            json!({"user": user, "authHeader": auth, "contactInfo": contact, "message": message}),
        )
        .await;
        if has(Op::UpdateMessageLog) {
            let id = logged["logId"].clone();
            call(
                Op::UpdateMessageLog,
                json!({"user": user, "authHeader": auth, "contactInfo": contact,
                    "existingMessageLog": {"thirdPartyLogId": id}, "message": message}),
            )
            .await;
        }
    }
    log_id
}

/// Requests the configs' routes refuse, found through the document: no
/// credentials, a create that misses what it needs, a log that does not
/// exist, a body over the limit, an Idempotency-Key reused with another
/// body.
async fn refusals(crm: &TestCrm, doc: &Value, configs: &[ProxyConfig]) {
    for (method, path, op) in proxy_operations(doc) {
        let tag = op["tags"][0].as_str().unwrap_or_default();
        let Some(config) = configs.iter().find(|c| tag == format!("proxy: {}", c.file)) else {
            continue;
        };
        let good = credentials(config);
        let concrete = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    "act_does_not_exist"
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let request = |auth: Option<&str>| {
            let request = crm.anonymous(method.clone(), &concrete);
            match auth {
                Some(auth) => request.header("authorization", auth.to_owned()),
                None => request,
            }
        };
        let responses = op["responses"].as_object().expect("responses");
        let secured = op["security"]
            .as_array()
            .is_some_and(|s| !s.contains(&json!({})));
        if secured {
            let (status, _) = answer(request(None).json(&json!({}))).await;
            assert_eq!(status, 401, "{method} {concrete}");
        }
        if responses.contains_key("413") {
            let big = vec![b' '; BODY_LIMIT + 1];
            let (status, _) = answer(
                request(Some(&good))
                    .header("content-type", "application/json")
                    .body(big),
            )
            .await;
            assert_eq!(status, 413, "{method} {concrete}");
        }
        if responses.contains_key("404") && path.contains('{') {
            let (status, _) = answer(request(Some(&good)).json(&json!({}))).await;
            assert_eq!(status, 404, "{method} {concrete}");
        }
        let body_required = op["requestBody"]["required"] == true;
        if body_required && method == Method::POST {
            let (status, _) = answer(request(Some(&good)).json(&json!({}))).await;
            assert_eq!(
                status, 400,
                "{method} {concrete}: an empty body misses what it needs"
            );
        }
        if responses.contains_key("422") {
            let example = op["requestBody"]["content"]["application/json"]["example"].clone();
            let key = format!("reused-{}", concrete.replace('/', "-"));
            let send = |body: Value| {
                request(Some(&good))
                    .header("idempotency-key", key.clone())
                    .json(&body)
            };
            let (first, _) = answer(send(example.clone())).await;
            assert_eq!(first, 201, "{method} {concrete}: {example}");
            let mut other = example.clone();
            other["extra"] = json!("another body");
            let (second, _) = answer(send(other)).await;
            assert_eq!(second, 422, "{method} {concrete}");
        }
    }
}

#[tokio::test]
async fn every_answer_of_a_served_config_is_documented() {
    let mut documented_ops = 0;
    let mut statuses = BTreeSet::new();
    for configs in fixture_sets() {
        let crm = serving(configs.clone()).await;
        let doc = served_document(&crm).await;
        for config in &configs {
            drive(config, &crm).await;
        }
        refusals(&crm, &doc, &configs).await;

        let (status, journal) = answer(
            crm.anonymous(Method::GET, "/__admin/requests?limit=1000")
                .bearer_auth(mockcrm::DEFAULT_ADMIN_KEY),
        )
        .await;
        assert_eq!(status, 200);
        let mut seen: BTreeMap<(String, String), BTreeSet<u16>> = BTreeMap::new();
        for entry in journal["items"].as_array().expect("items") {
            let method = entry["method"].as_str().expect("method");
            let path = entry["path"].as_str().expect("path");
            let status = entry["status"].as_u64().expect("status") as u16;
            let (template, op) = operation_for(&doc, method, path)
                .unwrap_or_else(|| panic!("{method} {path} is not in the document"));
            let label = format!("{method} {path} (as {template}) {status}");
            let response = op["responses"].get(status.to_string()).unwrap_or_else(|| {
                panic!("{label}: status not documented: {}", entry["response_body"])
            });
            let response = resolve(&doc, response);
            if let Some(schema) = response.pointer("/content/application~1json/schema") {
                let errors = validator(&doc, schema).errors(&entry["response_body"]);
                assert!(
                    errors.is_empty(),
                    "{label}: {} does not fit:\n{errors}",
                    entry["response_body"]
                );
            }
            seen.entry((method.to_owned(), template))
                .or_default()
                .insert(status);
            statuses.insert(status);
        }
        // Every served operation answered at least once with a 2xx.
        for (method, path, op) in proxy_operations(&doc) {
            let answered = seen
                .get(&(method.clone(), path.clone()))
                .is_some_and(|s| s.iter().any(|status| (200..300).contains(status)));
            assert!(
                answered,
                "{method} {path} ({}) never answered 2xx",
                op["summary"]
            );
            documented_ops += 1;
        }
        crm.shutdown().await;
    }
    assert!(documented_ops >= 25, "{documented_ops}");
    for status in [200, 201, 400, 401, 404, 413, 422] {
        assert!(
            statuses.contains(&status),
            "no {status} was checked: {statuses:?}"
        );
    }
}
