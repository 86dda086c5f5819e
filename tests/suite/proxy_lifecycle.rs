//! Every fixture proxy config, served by mockcrm and driven by its own App
//! Connect proxy engine (`ProxyConnector`), over real HTTP: contact lookup,
//! then create → get → update → get. The body stored is
//! `composedLogDetails` byte for byte, and the note comes back, after the
//! create and after the update. The journal of each lifecycle is pinned as
//! a snapshot (`proxy_lifecycle__journal@<config>.snap`): the requests a
//! developer sees for that CRM. `mockcrm.proxy.json` is driven against the
//! native API as well as served.

use std::path::Path;

use mockcrm::interface::{ComposeRequest, CreateCallLogInput};
use mockcrm::{
    compose, load_proxy_config, ComposeOptions, HostZone, ProxyConfig, ProxyConnector,
    ProxyOperation as Op, ServerConfig, UpdateStyle,
};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::support::{answer, read_fixture, redact, TestCrm, DEV_KEY};

pub fn config_from(path: &Path) -> ProxyConfig {
    let text = std::fs::read_to_string(path).expect("config readable");
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name")
        .to_owned();
    load_proxy_config(&name, &text)
        .unwrap_or_else(|e| panic!("{name} loads: {e}"))
        .config
}

pub fn fixture_config(relative: &str) -> ProxyConfig {
    config_from(&crate::support::fixtures_dir().join(relative))
}

pub async fn serving(configs: Vec<ProxyConfig>) -> TestCrm {
    TestCrm::with_config(ServerConfig {
        proxy_configs: configs,
        ..ServerConfig::ephemeral()
    })
    .await
}

/// A fixture as App Connect's core hands it to the connector: the input's
/// own JSON, with the API key where App Connect keeps it.
pub fn arguments(fixture: &str) -> Map<String, Value> {
    let mut args: Map<String, Value> =
        serde_json::from_str(&read_fixture(fixture)).expect("fixture is an object");
    let user = args
        .entry("user")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("user is an object");
    user.insert("accessToken".into(), json!(DEV_KEY));
    args
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// What App Connect's core composes for `args`, on top of `existing`.
fn composed(config: &ProxyConfig, args: &Map<String, Value>, existing: Option<&str>) -> String {
    let input: CreateCallLogInput =
        serde_json::from_value(Value::Object(args.clone())).expect("a createCallLog input");
    let mut request = ComposeRequest::from(&input);
    request.existing_body = existing.map(str::to_owned);
    let format = config.log_format().expect("fixture configs name a format");
    let options = ComposeOptions::new(format)
        .with_update_style(UpdateStyle::Core)
        .with_host_zone(HostZone::UTC);
    compose(&request, &options).expect("composes")
}

fn has(config: &ProxyConfig, op: Op) -> bool {
    config.operation(op).is_some()
}

/// `GET /activity/{id}` with App Connect's own API-key header, which both
/// the native API and a served mockcrm.proxy.json (which claims that route
/// and checks its auth as the config builds it) take.
pub fn native_get(crm: &TestCrm, log_id: &str) -> reqwest::RequestBuilder {
    crm.anonymous(Method::GET, &format!("/activity/{log_id}"))
        .header("authorization", mockcrm::basic_header_for_key(DEV_KEY))
}

/// The lifecycle; returns the log id. `crm` holds the data (the native API
/// is used to look at what was stored).
pub async fn lifecycle(config: &ProxyConfig, crm: &TestCrm) -> String {
    let engine = ProxyConnector::pointed_at(config, &crm.server.url()).expect("connector");
    let create = arguments("create-call-log/outbound-recording-pending.json");
    let user = create["user"].clone();
    let auth = create["authHeader"].clone();
    let now = chrono::Utc::now();
    let file = &config.file;

    if has(config, Op::FindContact) {
        let found = engine
            .call(
                Op::FindContact,
                &object(json!({"user": user, "authHeader": auth, "phoneNumber": "(415) 555-0199"})),
                now,
            )
            .await
            .unwrap_or_else(|e| panic!("{file}: findContact: {e}"));
        let contacts = found["matchedContactInfo"].as_array().expect("contacts");
        assert_eq!(contacts.len(), 1, "{file}: {found}");
        assert_eq!(contacts[0]["id"], "contact-1", "{file}");
        assert_eq!(contacts[0]["name"], "Jane Contact", "{file}");
    }
    if has(config, Op::FindContactWithName) {
        let found = engine
            .call(
                Op::FindContactWithName,
                &object(json!({"user": user, "authHeader": auth, "name": "JANE c"})),
                now,
            )
            .await
            .unwrap_or_else(|e| panic!("{file}: findContactWithName: {e}"));
        let ids: Vec<&Value> = found["matchedContactInfo"]
            .as_array()
            .expect("contacts")
            .iter()
            .map(|c| &c["id"])
            .collect();
        assert_eq!(ids, [&json!("contact-1")], "{file}: {found}");
    }

    let mut create = create;
    let body = composed(config, &create, None);
    create.insert("composedLogDetails".into(), json!(body));
    let created = engine.create_call_log(&create).await;
    let log_id = created
        .log_id
        .clone()
        .unwrap_or_else(|| panic!("{file}: no logId: {:?}", created.return_message));
    let (status, stored) = answer(native_get(crm, &log_id)).await;
    assert_eq!(status, 200, "{file}: {stored}");
    assert_eq!(stored["body"], json!(body), "{file}: stored body");

    let get = object(
        json!({"user": user, "authHeader": auth, "callLogId": log_id, "contactId": "contact-1"}),
    );
    let read = engine.get_call_log(&get).await;
    let info = read
        .call_log_info
        .unwrap_or_else(|| panic!("{file}: get failed: {:?}", read.return_message));
    assert_eq!(info.full_body, body, "{file}: fullBody after create");
    assert_eq!(info.subject, "Outbound Call to Jane Contact", "{file}");
    assert_eq!(
        info.note, create["note"],
        "{file}: the note comes back after create"
    );

    let mut update = arguments("update/outbound-recording-ready.json");
    update.insert("user".into(), user.clone());
    let updated = engine
        .update(&log_id, &update, UpdateStyle::Core, HostZone::UTC)
        .await;
    assert_eq!(
        updated.return_message.as_ref().map(|m| m.message.as_str()),
        Some("Call log updated."),
        "{file}: {updated:?}"
    );
    let expected = composed(config, &update, Some(&body));
    assert_ne!(expected, body, "the update changes the body");
    let (_, stored) = answer(native_get(crm, &log_id)).await;
    assert_eq!(
        stored["body"],
        json!(expected),
        "{file}: stored body after update"
    );
    let read = engine.get_call_log(&get).await;
    let info = read
        .call_log_info
        .unwrap_or_else(|| panic!("{file}: get failed: {:?}", read.return_message));
    assert_eq!(info.full_body, expected, "{file}: fullBody after update");
    assert_eq!(
        info.note, update["note"],
        "{file}: the note comes back after update"
    );
    log_id
}

/// The journal with what changes from run to run replaced: ids, times and
/// the stored timestamps inside bodies.
async fn journal(crm: &TestCrm, log_id: &str) -> Value {
    let (_, journal) = answer(
        crm.anonymous(Method::GET, "/__admin/requests?limit=100")
            .bearer_auth(mockcrm::DEFAULT_ADMIN_KEY),
    )
    .await;
    let text = journal.to_string().replace(log_id, "[log id]");
    let mut journal: Value = serde_json::from_str(&text).expect("still JSON");
    // This test's own reads of what was stored (`native_get`) are no part
    // of the lifecycle; axios sends "{}" even on a GET, so App Connect's
    // requests always have a body and these never do.
    if let Some(items) = journal["items"].as_array_mut() {
        items.retain(|entry| !(entry["method"] == "GET" && entry["request_body"].is_null()));
    }
    redact(&mut journal, "items[].at", "[time]");
    redact(&mut journal, "items[].duration_ms", "[ms]");
    redact(&mut journal, "items[].org", "[org]");
    stored_times(&mut journal);
    journal
}

/// Times the store wrote (microsecond RFC 3339, unlike any fixture's).
fn stored_times(value: &mut Value) {
    match value {
        Value::String(text)
            if text.len() == 27
                && text.ends_with('Z')
                && text.as_bytes().get(19) == Some(&b'.') =>
        {
            *text = "[stored time]".into();
        }
        Value::Array(items) => items.iter_mut().for_each(stored_times),
        Value::Object(map) => map.values_mut().for_each(stored_times),
        _ => {}
    }
}

pub async fn checks(crm: &TestCrm) -> Value {
    let (_, checks) = answer(
        crm.anonymous(Method::GET, "/__admin/checks")
            .bearer_auth(mockcrm::DEFAULT_ADMIN_KEY),
    )
    .await;
    checks
}

#[test]
fn every_fixture_config_lives_a_whole_lifecycle() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut seen = 0;
    crate::support::snapshot_settings().bind(|| {
        insta::glob!("../../fixtures/proxy-configs", "*.json", |path| {
            seen += 1;
            let config = config_from(path);
            let snapshot = runtime.block_on(async {
                let crm = serving(vec![config.clone()]).await;
                let log_id = lifecycle(&config, &crm).await;
                assert_eq!(
                    checks(&crm).await["violations"],
                    json!([]),
                    "{}",
                    config.file
                );
                let journal = journal(&crm, &log_id).await;
                crm.shutdown().await;
                journal
            });
            insta::assert_json_snapshot!("journal", snapshot);
        });
    });
    assert_eq!(
        seen, 5,
        "minimal, redtail-like, insightly-like, pipedrive-like, app-connect-sample-like"
    );
}

#[tokio::test]
async fn mockcrm_proxy_json_drives_the_native_api_and_is_served_as_well() {
    let config = fixture_config("app-connect/mockcrm.proxy.json");
    // App Connect logging into plain mockcrm with no connector code.
    let native = TestCrm::start().await;
    let log_id = lifecycle(&config, &native).await;
    let (_, stored) = answer(native_get(&native, &log_id)).await;
    assert_eq!(stored["session_id"], "4503991004");
    assert_eq!(stored["contact_id"], "contact-1");
    assert_eq!(stored["received_at"], "2024-01-15T15:30:00.000Z");
    let journal = journal(&native, &log_id).await;
    crate::support::snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("native_journal", journal);
    });
    assert_eq!(checks(&native).await["violations"], json!([]));
    native.shutdown().await;
    // The same config served: it claims the root path, and what it does not
    // describe (GET /health, DELETE /activity/{id}) stays native.
    let served = serving(vec![config.clone()]).await;
    let log_id = lifecycle(&config, &served).await;
    let (status, _) = answer(served.anonymous(Method::GET, "/health")).await;
    assert_eq!(status, 200);
    let (status, _) = answer(served.dev(Method::DELETE, &format!("/activity/{log_id}"))).await;
    assert_eq!(status, 204);
    served.shutdown().await;
}
