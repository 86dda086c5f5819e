//! A served proxy config as a CRM under test: its other operations
//! (message logs, contacts, users, dispositions, licence, log-out), what
//! bad requests get (a 404 naming the routes, a 400 naming the missing
//! field, a 401 saying which header the config builds), and the harness
//! on its routes exactly as on the native API: organisation isolation,
//! faults, idempotency keys, the rate limit, the journal and checks.

use mockcrm::{basic_header_for_key, ProxyConnector, ProxyOperation as Op, ServerConfig};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::proxy_lifecycle::{arguments, fixture_config, serving};
use crate::support::{answer, error_code, TestCrm, DEV_KEY};

const ADMIN: &str = mockcrm::DEFAULT_ADMIN_KEY;
const GLOBEX: &str = "globex-key";

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn user(key: &str) -> Value {
    json!({"id": "crm-user-1", "accessToken": key})
}

fn admin(crm: &TestCrm, method: Method, path: &str) -> reqwest::RequestBuilder {
    crm.anonymous(method, &format!("/__admin{path}"))
        .bearer_auth(ADMIN)
}

fn two_organisations() -> mockcrm::Seed {
    serde_json::from_str(&crate::support::read_fixture("two-organisations.json"))
        .expect("seed parses")
}

/// Redtail's `Userkeyauth base64("<key>:<user key>")`.
fn redtail_auth(key: &str) -> String {
    use base64::Engine;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{key}:uk-9"));
    format!("Userkeyauth {token}")
}

fn redtail_activity(subject: &str) -> Value {
    json!({
        "subject": subject, "description": "<b>Call</b>", "start_date": "2024-01-15T15:30:00.000Z",
        "activity_code_id": 3, "linked_contacts": [{"contact_id": "contact-1"}],
    })
}

#[tokio::test]
async fn message_logs_share_the_call_route_and_duplicates_are_reported() {
    // redtail-like.json, sending the conversation as App Connect's engine
    // can: the message's on create, core's key on update.
    let mut raw: Value = serde_json::from_str(&crate::support::read_fixture(
        "proxy-configs/redtail-like.json",
    ))
    .expect("JSON");
    raw["operations"]["createMessageLog"]["body"]["conversation"] =
        json!("{{message.conversationId}}");
    raw["operations"]["updateMessageLog"]["body"]["conversation"] =
        json!("{{existingMessageLog.conversationLogId}}");
    let config = mockcrm::load_proxy_config("redtail-like.json", &raw.to_string())
        .expect("loads")
        .config;
    let crm = serving(vec![config.clone()]).await;
    let engine = ProxyConnector::pointed_at(&config, &crm.server.url()).expect("connector");
    let message = |id: u64, subject: &str| {
        object(json!({
            "user": user(DEV_KEY), "authHeader": basic_header_for_key(DEV_KEY),
            "contactInfo": {"id": "contact-1", "name": "Jane Contact"},
            "message": {"id": id, "subject": subject, "creationTime": "2024-01-15T15:30:00Z",
                "direction": "Inbound", "conversationId": 777},
        }))
    };
    let now = chrono::Utc::now();
    let first = engine
        .call(
            Op::CreateMessageLog,
            &message(60279564004, "Flight information"),
            now,
        )
        .await
        .expect("message logged");
    let log_id = first["logId"].as_str().expect("logId").to_owned();
    let (_, stored) = answer(crm.dev(Method::GET, &format!("/activity/{log_id}"))).await;
    assert_eq!(stored["type"], "Message", "{stored}");
    assert_eq!(stored["body"], "Flight information");
    assert_eq!(stored["received_at"], "2024-01-15T15:30:00.000Z");
    assert_eq!(stored["subject"], "SMS 60279564004 with Jane Contact");
    assert_eq!(stored["conversation_log_id"], "777-2024-01-15", "{stored}");
    assert_eq!(stored["message_ids"], json!(["60279564004"]));

    // The day's next message is added to the log, under core's key.
    let mut update = message(60279564005, "Boarding now");
    update.insert(
        "existingMessageLog".into(),
        json!({"thirdPartyLogId": log_id, "conversationLogId": "777-2024-01-15"}),
    );
    engine
        .call(Op::UpdateMessageLog, &update, now)
        .await
        .expect("message log updated");
    let (_, stored) = answer(crm.dev(Method::GET, &format!("/activity/{log_id}"))).await;
    assert_eq!(stored["body"], "Boarding now");
    assert_eq!(stored["conversation_log_id"], "777-2024-01-15");
    assert_eq!(stored["message_ids"], json!(["60279564004", "60279564005"]));

    // A second log of the same message is what duplicate_message catches;
    // a call log on the same route is not a message.
    engine
        .call(Op::CreateMessageLog, &message(60279564004, "again"), now)
        .await
        .expect("logged twice");
    let call = crm
        .anonymous(Method::POST, "/api/public/v1/activities")
        .header("authorization", redtail_auth(DEV_KEY))
        .json(&redtail_activity("Inbound Call from Jane"));
    let (status, created) = answer(call).await;
    assert_eq!(status, 201, "{created}");
    let call_id = created["activity"]["id"].as_str().expect("id");
    let (_, call) = answer(crm.dev(Method::GET, &format!("/activity/{call_id}"))).await;
    assert_eq!(call["type"], "PhoneCommunication");

    // The second log of the same message is also a second log of its
    // conversation's day.
    let (_, checks) = answer(admin(&crm, Method::GET, "/checks")).await;
    let violations = checks["violations"].as_array().expect("violations");
    let kinds: Vec<&str> = violations
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    assert_eq!(kinds.len(), 2, "{checks}");
    assert!(kinds.contains(&"split_conversation"), "{checks}");
    let duplicate = violations
        .iter()
        .find(|v| v["kind"] == "duplicate_message")
        .unwrap_or_else(|| panic!("no duplicate_message in {checks}"));
    assert_eq!(duplicate["message_id"], "60279564004");
    assert_eq!(duplicate["activity_ids"][0], json!(log_id));
    crm.shutdown().await;
}

#[tokio::test]
async fn contacts_users_dispositions_licence_and_log_out() {
    let config = fixture_config("proxy-configs/pipedrive-like.json");
    let crm = serving(vec![config.clone()]).await;
    let engine = ProxyConnector::pointed_at(&config, &crm.server.url()).expect("connector");
    let now = chrono::Utc::now();
    let auth = basic_header_for_key(DEV_KEY);
    let base = json!({"user": user(DEV_KEY), "authHeader": auth});

    let mut created = object(base.clone());
    created.insert("phoneNumber".into(), json!("+1 (212) 555-0147"));
    created.insert("newContactName".into(), json!("Zoë Quinn"));
    let contact = engine
        .call(Op::CreateContact, &created, now)
        .await
        .expect("contact created");
    let id = contact["contactInfo"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(contact["contactInfo"]["name"], "Zoë Quinn");
    let mut find = object(base.clone());
    find.insert("phoneNumber".into(), json!("2125550147"));
    let found = engine
        .call(Op::FindContact, &find, now)
        .await
        .expect("found");
    assert_eq!(found["matchedContactInfo"][0]["id"], json!(id), "{found}");
    let mut by_name = object(base.clone());
    by_name.insert("name".into(), json!("ZOË"));
    let found = engine
        .call(Op::FindContactWithName, &by_name, now)
        .await
        .expect("found");
    assert_eq!(found["matchedContactInfo"][0]["id"], json!(id), "{found}");

    let info = engine
        .call(
            Op::GetUserInfo,
            &object(json!({"authHeader": auth, "apiKey": DEV_KEY, "platform": "pipedrive"})),
            now,
        )
        .await
        .expect("user info");
    assert_eq!(info["platformUserInfo"]["id"], "crm-user-1-pipedrive");
    assert_eq!(info["platformUserInfo"]["name"], "Test User");
    let users = engine
        .call(Op::GetUserList, &object(base.clone()), now)
        .await
        .expect("users");
    assert_eq!(
        users,
        json!([{"id": "crm-user-1", "name": "Test User", "email": "test@acme.example"}])
    );

    let mut log = arguments("create-call-log/inbound-answered.json");
    log.insert("composedLogDetails".into(), json!("<b>Call</b>"));
    let log_id = engine.create_call_log(&log).await.log_id.expect("logged");
    let mut disposition = object(base.clone());
    disposition.insert("existingCallLog".into(), json!({"thirdPartyLogId": log_id}));
    disposition.insert("dispositions".into(), json!({"dealId": 8}));
    let result = engine
        .call(Op::UpsertCallDisposition, &disposition, now)
        .await
        .expect("disposition");
    assert_eq!(result["logId"], json!(log_id));
    let (_, stored) = answer(crm.dev(Method::GET, &format!("/activity/{log_id}"))).await;
    assert_eq!(stored["deal_id"], 8, "the disposition is stored as sent");
    assert_eq!(
        stored["body"], "<b>Call</b>",
        "and leaves the log's text alone"
    );

    // getLicenseStatus and unAuthorize are not in this config: a config of
    // our own with them.
    let text = r#"{"meta": {"logFormat": "text/plain"}, "auth": {"type": "apiKey"},
        "requestDefaults": {"baseUrl": "https://crm.example/api"},
        "operations": {
            "getLicenseStatus": {"url": "/license/{{userId}}", "responseMapping": {"isLicenseValidPath": "body.license.valid", "licenseStatusPath": "body.license.plan"}},
            "unAuthorize": {"method": "POST", "url": "/logout"}}}"#;
    let other = mockcrm::load_proxy_config("licence.json", text)
        .expect("loads")
        .config;
    let crm2 = serving(vec![other.clone()]).await;
    let engine = ProxyConnector::pointed_at(&other, &crm2.server.url()).expect("connector");
    let licence = engine
        .call(
            Op::GetLicenseStatus,
            &object(json!({"user": user(DEV_KEY), "userId": "crm-user-1"})),
            now,
        )
        .await
        .expect("licence");
    assert_eq!(licence["isLicenseValid"], true);
    assert_eq!(licence["licenseStatus"], "Active");
    // unAuthorize sends no authHeader: the user's token is what App Connect
    // has, and for an apiKey config without a template it sends none.
    let (status, body) = answer(
        crm2.anonymous(Method::POST, "/api/logout")
            .header("authorization", basic_header_for_key(DEV_KEY)),
    )
    .await;
    assert_eq!((status, body), (200, json!({})));
    crm.shutdown().await;
    crm2.shutdown().await;
}

#[tokio::test]
async fn bad_requests_are_told_what_the_config_wants() {
    let config = fixture_config("proxy-configs/redtail-like.json");
    let crm = serving(vec![config]).await;
    let post = |body: Value, auth: &str| {
        crm.anonymous(Method::POST, "/api/public/v1/activities")
            .header("authorization", auth.to_owned())
            .json(&body)
    };
    let good = redtail_auth(DEV_KEY);

    // No operation: 404 naming the config's routes.
    let (status, body) = answer(
        crm.anonymous(Method::GET, "/api/public/v1/nothing")
            .header("authorization", good.clone()),
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("redtail-like.json")
            && message.contains("POST /api/public/v1/activities (createCallLog, createMessageLog)"),
        "{message}"
    );
    // A served path with another method: 405 with Allow.
    let response = crm
        .anonymous(Method::DELETE, "/api/public/v1/contacts")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );

    // Wrong or missing auth: 401 saying which header the config builds.
    for auth in [
        "Bearer mockcrm-dev-key".to_owned(),
        redtail_auth("nobody's-key"),
        String::new(),
    ] {
        let (status, body) = answer(post(redtail_activity("s"), &auth)).await;
        assert_eq!((status, error_code(&body)), (401, "unauthorized"), "{auth}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains("Userkeyauth"), "{message}");
    }

    // A body that misses what gives the log its meaning: 400 naming it.
    let mut no_body = redtail_activity("s");
    no_body
        .as_object_mut()
        .expect("object")
        .remove("description");
    let (status, body) = answer(post(no_body, &good)).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_field"));
    let message = body["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("body.description: is missing")
            && message.contains("composedLogDetails"),
        "{message}"
    );
    // One that does not fit otherwise is stored as it came.
    let mut odd = redtail_activity("odd");
    odd["linked_contacts"] = json!("not a list");
    odd["extra"] = json!({"deep": [1, 2]});
    let (status, created) = answer(post(odd, &good)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["activity"]["id"].as_str().expect("id");
    let (_, stored) = answer(crm.dev(Method::GET, &format!("/activity/{id}"))).await;
    assert_eq!(stored["linked_contacts"], "not a list");
    assert_eq!(stored["extra"], json!({"deep": [1, 2]}));
    assert_eq!(stored["contact_id"], Value::Null);

    // A log that does not exist, or not in the caller's organisation.
    let (status, body) = answer(
        crm.anonymous(Method::GET, "/api/public/v1/activities/act_nope")
            .header("authorization", good.clone()),
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    // Native routes are still there, under their own rules.
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 200);
    crm.shutdown().await;
}

#[tokio::test]
async fn another_organisations_logs_do_not_exist_on_proxy_routes() {
    let config = fixture_config("proxy-configs/minimal.json");
    let crm = TestCrm::with_config(ServerConfig {
        seed: two_organisations(),
        proxy_configs: vec![config],
        ..ServerConfig::ephemeral()
    })
    .await;
    let as_key = |key: &str, method: Method, path: &str| crm.as_key(key, method, path);
    let (status, created) = answer(
        as_key(DEV_KEY, Method::POST, "/v1/activities").json(&json!({
            "subject": "Acme's call", "body": "- Duration: 5 seconds\n", "contact_id": "contact-1",
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id");
    for (method, body) in [
        (Method::GET, None),
        (
            Method::PATCH,
            Some(json!({"subject": "hijacked", "body": "x"})),
        ),
    ] {
        let request = as_key(GLOBEX, method.clone(), &format!("/v1/activities/{id}"));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        let (status, answered) = answer(request).await;
        assert_eq!(
            (status, error_code(&answered)),
            (404, "not_found"),
            "{method}"
        );
    }
    let (_, mine) = answer(as_key(
        DEV_KEY,
        Method::GET,
        &format!("/v1/activities/{id}"),
    ))
    .await;
    assert_eq!(mine["subject"], "Acme's call", "untouched");
    // Each organisation finds its own contacts only.
    let (_, found) = answer(as_key(GLOBEX, Method::GET, "/v1/contacts?phone=4155550199")).await;
    let ids: Vec<&Value> = found["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!("contact-2")],
        "only Globex's own Jane: {found}"
    );
    crm.shutdown().await;
}

#[tokio::test]
async fn faults_idempotency_and_the_journal_apply_to_proxy_routes() {
    let config = fixture_config("proxy-configs/pipedrive-like.json");
    let crm = serving(vec![config]).await;
    let body = json!({"subject": "Inbound Call from Jane", "note": "<b>Call</b>", "person_id": "contact-1", "due_date": "2024-01-15T15:30:00.000Z"});
    let create = |key: &str| {
        crm.dev(Method::POST, "/v1/activities")
            .header("idempotency-key", key.to_owned())
            .json(&body)
    };
    // The write commits, its answer is lost.
    let (status, _) = answer(admin(&crm, Method::POST, "/faults").json(&json!({
        "method": "POST", "path": "/v1/activities", "status": 503, "times": 1, "after_commit": true,
    })))
    .await;
    assert_eq!(status, 201);
    let (status, lost) = answer(create("call-1")).await;
    assert_eq!((status, error_code(&lost)), (503, "service_unavailable"));
    // The retry with the same key gets the first answer, and no second log.
    let response = create("call-1").send().await.expect("sent");
    assert_eq!(response.status(), 201);
    assert_eq!(
        response
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    let replayed: Value = response.json().await.expect("json");
    let id = replayed["data"]["id"].as_str().expect("id").to_owned();
    let (_, page) = answer(crm.dev(Method::GET, "/activity?limit=10")).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page["items"][0]["id"], json!(id));
    // The same key with another body is refused.
    let (status, refused) = answer(
        crm.dev(Method::POST, "/v1/activities")
            .header("idempotency-key", "call-1")
            .json(&json!({"subject": "other", "note": "x"})),
    )
    .await;
    assert_eq!(
        (status, error_code(&refused)),
        (422, "idempotency_mismatch")
    );

    let (_, journal) = answer(admin(&crm, Method::GET, "/requests?path=/v1/activities")).await;
    let statuses: Vec<&Value> = journal["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| &e["status"])
        .collect();
    assert_eq!(statuses, [&json!(422), &json!(201), &json!(503)]);
    assert!(journal["items"][2]["fault_id"].is_string());
    crm.shutdown().await;
}

#[tokio::test]
async fn the_rate_limit_counts_a_key_whatever_header_carries_it() {
    let config = fixture_config("proxy-configs/redtail-like.json");
    let crm = TestCrm::with_config(ServerConfig {
        rate_limit: Some(1),
        clock: mockcrm::Clock::manual().0,
        proxy_configs: vec![config],
        ..ServerConfig::ephemeral()
    })
    .await;
    let search = || {
        crm.anonymous(
            Method::GET,
            "/api/public/v1/contacts/search?phone_number=4155550199&page=1",
        )
        .header("authorization", redtail_auth(DEV_KEY))
    };
    let (first, _) = answer(search()).await;
    let (second, body) = answer(search()).await;
    assert_eq!((first, second), (200, 429), "{body}");
    // The same key on the native API shares the budget.
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 429);
    crm.shutdown().await;
}

#[tokio::test]
async fn two_configs_are_served_side_by_side_on_one_store() {
    let minimal = fixture_config("proxy-configs/minimal.json");
    let insightly = fixture_config("proxy-configs/insightly-like.json");
    let crm = serving(vec![minimal.clone(), insightly.clone()]).await;
    let mut ids = Vec::new();
    for config in [&minimal, &insightly] {
        let engine = ProxyConnector::pointed_at(config, &crm.server.url()).expect("connector");
        let mut log = arguments("create-call-log/missed.json");
        log.insert(
            "composedLogDetails".into(),
            json!(format!("by {}", config.file)),
        );
        let out = engine.create_call_log(&log).await;
        ids.push(
            out.log_id
                .unwrap_or_else(|| panic!("{:?}", out.return_message)),
        );
    }
    // Either config reads the other's log: one CRM, two APIs.
    let engine = ProxyConnector::pointed_at(&insightly, &crm.server.url()).expect("connector");
    let read = engine
        .get_call_log(&object(json!({
            "user": user(DEV_KEY), "authHeader": basic_header_for_key(DEV_KEY), "callLogId": ids[0],
        })))
        .await;
    assert_eq!(
        read.call_log_info.map(|i| i.full_body).as_deref(),
        Some("by minimal.json")
    );
    crm.shutdown().await;
}
