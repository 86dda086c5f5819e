//! The admin API over real HTTP: reset, the request journal, fault
//! injection, contract checks and the rate limit.

use crate::support::{answer, error_code, redact, TestCrm, DEV_KEY};
use std::time::Duration;

use mockcrm::Clock;
use mockcrm::{Server, ServerConfig};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

const ADMIN: &str = "mockcrm-admin";

fn admin(crm: &TestCrm, method: Method, path: &str) -> RequestBuilder {
    crm.as_key(ADMIN, method, &format!("/__admin{path}"))
}

fn activity(session: &str) -> Value {
    json!({"subject": "Call", "type": "PhoneCommunication", "body": "- Duration: 1 second\n", "session_id": session})
}

async fn start_with(config: ServerConfig) -> TestCrm {
    TestCrm {
        server: Server::start(config).await.expect("starts"),
        http: reqwest::Client::new(),
    }
}

#[tokio::test]
async fn admin_routes_need_the_admin_key() {
    let crm = TestCrm::start().await;
    let routes = [
        (Method::POST, "/reset"),
        (Method::GET, "/requests"),
        (Method::DELETE, "/requests"),
        (Method::POST, "/faults"),
        (Method::GET, "/faults"),
        (Method::DELETE, "/faults"),
        (Method::DELETE, "/faults/flt_1"),
        (Method::GET, "/checks"),
    ];
    for (method, path) in routes {
        for key in [None, Some(DEV_KEY), Some("wrong")] {
            let url = format!("/__admin{path}");
            let request = match key {
                Some(key) => crm.as_key(key, method.clone(), &url),
                None => crm.anonymous(method.clone(), &url),
            };
            let (status, body) = answer(request).await;
            assert_eq!(
                (status, error_code(&body)),
                (401, "unauthorized"),
                "{method} {path} {key:?}"
            );
        }
    }
    let (status, body) = answer(admin(&crm, Method::GET, "/nothing")).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = answer(admin(&crm, Method::PUT, "/checks")).await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));
    crm.shutdown().await;
}

#[tokio::test]
async fn the_admin_key_is_configurable() {
    let crm = start_with(ServerConfig {
        admin_key: "s3cret".into(),
        ..ServerConfig::ephemeral()
    })
    .await;
    let (status, _) = answer(admin(&crm, Method::GET, "/checks")).await;
    assert_eq!(status, 401, "the default key no longer works");
    let (status, _) = answer(crm.as_key("s3cret", Method::GET, "/__admin/checks")).await;
    assert_eq!(status, 200);
    crm.shutdown().await;
}

#[tokio::test]
async fn reset_goes_back_to_the_seed_or_to_empty() {
    let crm = TestCrm::start().await;
    let created = crm.create_activity(activity("s1")).await;
    let id = created["id"].as_str().expect("id");
    let (status, body) = answer(admin(&crm, Method::POST, "/reset")).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, _) = answer(crm.dev(Method::GET, &format!("/activity/{id}"))).await;
    assert_eq!(status, 404, "activities are gone");
    let (status, _) = answer(crm.dev(Method::GET, "/contact/contact-1")).await;
    assert_eq!(status, 200, "the seed is back");

    let (status, _) = answer(admin(&crm, Method::POST, "/reset?empty=true")).await;
    assert_eq!(status, 204);
    let (status, body) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "unauthorized"),
        "no users at all"
    );
    let (status, body) = answer(admin(&crm, Method::POST, "/reset?empty=maybe")).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_field"));
    crm.shutdown().await;
}

#[tokio::test]
async fn the_journal_lists_requests_newest_first_without_credentials() {
    let crm = TestCrm::start().await;
    crm.create_activity(activity("s1")).await;
    let basic = crm
        .anonymous(Method::GET, "/activity?session_id=s1")
        .header("authorization", mockcrm::basic_header_for_key(DEV_KEY));
    answer(basic).await;
    answer(crm.anonymous(Method::GET, "/me")).await;
    answer(admin(&crm, Method::GET, "/checks")).await;

    let (status, journal) = answer(admin(&crm, Method::GET, "/requests")).await;
    assert_eq!(status, 200);
    let items = journal["items"].as_array().expect("items");
    let summary: Vec<(String, String, u64)> = items
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or("").to_owned(),
                e["path"].as_str().unwrap_or("").to_owned(),
                e["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("GET".into(), "/me".into(), 401),
            ("GET".into(), "/activity".into(), 200),
            ("POST".into(), "/activity".into(), 201),
        ],
        "newest first, admin calls not journaled"
    );
    assert_eq!(items[1]["query"], "session_id=s1");
    assert_eq!(items[2]["request_body"]["session_id"], "s1");
    assert_eq!(items[2]["response_body"]["session_id"], "s1");
    assert!(items[2]["duration_ms"].as_f64().is_some());
    assert_eq!(items[2]["fault_id"], Value::Null);
    let text = journal.to_string();
    assert!(!text.contains(DEV_KEY), "the API key is never stored");
    assert!(!text.contains("bW9ja2NybS1kZXYta2V5"), "nor its Basic form");
    assert!(
        items.iter().all(|e| e.get("headers").is_none()),
        "no headers are kept"
    );

    let (_, filtered) = answer(admin(
        &crm,
        Method::GET,
        "/requests?method=post&path=/activity",
    ))
    .await;
    assert_eq!(filtered["items"].as_array().map(Vec::len), Some(1));
    let (_, limited) = answer(admin(&crm, Method::GET, "/requests?limit=1")).await;
    assert_eq!(limited["items"][0]["path"], "/me");
    let (status, body) = answer(admin(&crm, Method::GET, "/requests?limit=0")).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_field"));

    let (status, _) = answer(admin(&crm, Method::DELETE, "/requests")).await;
    assert_eq!(status, 204);
    let (_, cleared) = answer(admin(&crm, Method::GET, "/requests")).await;
    assert_eq!(cleared["items"], json!([]));
    crm.shutdown().await;
}

#[tokio::test]
async fn the_journal_is_bounded() {
    let crm = start_with(ServerConfig {
        journal_size: 3,
        ..ServerConfig::ephemeral()
    })
    .await;
    for n in 0..5 {
        answer(crm.dev(Method::GET, &format!("/activity?session_id={n}"))).await;
    }
    let (_, journal) = answer(admin(&crm, Method::GET, "/requests?limit=100")).await;
    let queries: Vec<&str> = journal["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["query"].as_str())
        .collect();
    assert_eq!(queries, ["session_id=4", "session_id=3", "session_id=2"]);
    crm.shutdown().await;
}

#[tokio::test]
async fn faults_fail_delay_count_and_stay_listed_when_spent() {
    let (clock, time) = Clock::manual();
    let crm = start_with(ServerConfig {
        clock,
        ..ServerConfig::ephemeral()
    })
    .await;
    let (status, fault) = answer(admin(&crm, Method::POST, "/faults").json(&json!({
        "method": "POST", "path": "/activity", "status": 503, "retry_after": 2, "times": 2,
    })))
    .await;
    assert_eq!(status, 201);
    let fault_id = fault["id"].as_str().expect("id").to_owned();
    assert_eq!(fault["fired"], 0);

    for _ in 0..2 {
        let response = crm
            .dev(Method::POST, "/activity")
            .json(&activity("f"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 503);
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("2")
        );
        let body: Value = response.json().await.expect("json");
        assert_eq!(error_code(&body), "service_unavailable");
    }
    let (status, _) = answer(crm.dev(Method::POST, "/activity").json(&activity("f"))).await;
    assert_eq!(status, 201, "the fault is spent");
    let (_, listed) = answer(admin(&crm, Method::GET, "/faults")).await;
    assert_eq!(listed["items"][0]["id"], json!(fault_id));
    assert_eq!(
        listed["items"][0]["fired"], 2,
        "a spent fault shows it fired"
    );
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

    let (_, journal) = answer(admin(&crm, Method::GET, "/requests")).await;
    let fault_ids: Vec<Value> = journal["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["fault_id"].clone())
        .collect();
    assert_eq!(
        fault_ids,
        vec![Value::Null, json!(fault_id), json!(fault_id)]
    );
    let (_, listed) = answer(crm.dev(Method::GET, "/activity?session_id=f")).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "failed attempts wrote nothing"
    );

    // Unlimited faults stay until deleted, and count how often they fired.
    let (_, slow) = answer(
        admin(&crm, Method::POST, "/faults").json(&json!({"path": "/health", "delay_ms": 30})),
    )
    .await;
    let slow_id = slow["id"].as_str().expect("id").to_owned();
    let (status, _) = answer(crm.anonymous(Method::GET, "/health")).await;
    assert_eq!(status, 200, "a delay alone answers normally");
    assert_eq!(time.waits(), [Duration::from_millis(30)], "after the delay");
    let (_, listed) = answer(admin(&crm, Method::GET, "/faults")).await;
    assert_eq!(listed["items"][1]["id"], json!(slow_id));
    assert_eq!(listed["items"][1]["fired"], 1);
    let (status, _) = answer(admin(&crm, Method::DELETE, &format!("/faults/{slow_id}"))).await;
    assert_eq!(status, 204);
    let (status, body) = answer(admin(&crm, Method::DELETE, &format!("/faults/{slow_id}"))).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));

    answer(
        admin(&crm, Method::POST, "/faults").json(&json!({"path": "/activity/*", "status": 500})),
    )
    .await;
    let (status, _) = answer(crm.dev(Method::GET, "/activity/act_x")).await;
    assert_eq!(status, 500, "prefix match");
    let (status, _) = answer(admin(&crm, Method::DELETE, "/faults")).await;
    assert_eq!(status, 204);
    let (status, _) = answer(crm.dev(Method::GET, "/activity/act_x")).await;
    assert_eq!(status, 404, "all faults cleared");
    crm.shutdown().await;
}

#[tokio::test]
async fn after_commit_faults_write_and_then_lose_the_answer() {
    let crm = TestCrm::start().await;
    answer(admin(&crm, Method::POST, "/faults").json(&json!({
        "path": "/activity", "method": "POST", "status": 502, "times": 1, "after_commit": true,
    })))
    .await;
    let (status, body) = answer(crm.dev(Method::POST, "/activity").json(&activity("lost"))).await;
    assert_eq!((status, error_code(&body)), (502, "bad_gateway"));
    let (_, listed) = answer(crm.dev(Method::GET, "/activity?session_id=lost")).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "the write committed"
    );
    crm.shutdown().await;
}

#[tokio::test]
async fn bad_fault_specs_name_the_field() {
    let crm = TestCrm::start().await;
    for (spec, field) in [
        (json!({"status": 503}), "fault"),
        (
            json!({"path": "/activity", "status": 503, "colour": "red"}),
            "fault",
        ),
        (json!({"path": "activity", "status": 503}), "path"),
        (json!({"path": "/activity", "status": 302}), "status"),
        (
            json!({"path": "/activity", "probability": 1.5, "status": 503}),
            "probability",
        ),
    ] {
        let (status, body) = answer(admin(&crm, Method::POST, "/faults").json(&spec)).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{spec}"
        );
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with(field),
            "{message:?} should name {field}"
        );
    }
    crm.shutdown().await;
}

#[tokio::test]
async fn checks_find_duplicate_sessions_and_empty_bodies() {
    let crm = TestCrm::start().await;
    let (_, clean) = answer(admin(&crm, Method::GET, "/checks")).await;
    let checks = json!([
        "duplicate_session",
        "empty_body",
        "duplicate_message",
        "split_conversation",
        "unknown_fields"
    ]);
    assert_eq!(clean, json!({"checks": checks, "violations": []}));
    let (_, organisations) = answer(admin(&crm, Method::GET, "/tenants")).await;
    let acme = organisations["items"][0]["id"].clone();

    let first = crm.create_activity(activity("dup")).await;
    let second = crm.create_activity(activity("dup")).await;
    crm.create_activity(activity("single")).await;
    let mut empty = activity("blank");
    empty["body"] = json!("  \n");
    let blank = crm.create_activity(empty).await;

    let (status, report) = answer(admin(&crm, Method::GET, "/checks")).await;
    assert_eq!(status, 200);
    assert_eq!(
        report,
        json!({"checks": checks, "violations": [
            {"kind": "duplicate_session", "organisation": "Acme", "org": acme, "session_id": "dup",
             "activity_ids": [first["id"], second["id"]]},
            {"kind": "empty_body", "organisation": "Acme", "org": acme, "activity_id": blank["id"],
             "session_id": "blank"},
        ]})
    );
    crm.shutdown().await;
}

/// The limit on a manual clock: nothing here depends on how fast the
/// requests go out.
#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after_per_key() {
    let (clock, time) = Clock::manual();
    let crm = start_with(ServerConfig {
        rate_limit: Some(3),
        clock,
        seed: serde_json::from_str(&crate::support::read_fixture("two-organisations.json"))
            .expect("seed"),
        ..ServerConfig::ephemeral()
    })
    .await;
    for n in 0..3 {
        let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
        assert_eq!(status, 200, "request {n} of a burst of 3 goes through");
    }
    let response = crm.dev(Method::GET, "/me").send().await.expect("sent");
    assert_eq!(response.status(), 429, "the fourth is limited");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // One token comes back a third of a second later: rounded up, 1 s.
    assert_eq!(retry_after.as_deref(), Some("1"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "rate_limited");

    let (status, _) = answer(crm.as_key("globex-key", Method::GET, "/me")).await;
    assert_eq!(status, 200, "another key has its own budget");
    let (status, _) = answer(admin(&crm, Method::GET, "/checks")).await;
    assert_eq!(status, 200, "admin routes are not limited");

    time.advance(Duration::from_millis(340));
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 200, "a third of a second refills one token");
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 429, "and only one");
    crm.shutdown().await;
}

#[tokio::test]
async fn scripted_scenario_journal_and_violations_snapshot() {
    use mockcrm::{create_call_log, CrmClient, LogOptions, RetryPolicy};
    let crm = TestCrm::start().await;
    answer(admin(&crm, Method::POST, "/faults").json(&json!({
        "method": "POST", "path": "/activity", "status": 503, "retry_after": 1, "times": 1,
    })))
    .await;
    let (clock, _) = Clock::manual();
    let client = CrmClient::new(&crm.server.url())
        .expect("client")
        .with_retry_policy(RetryPolicy {
            clock,
            ..RetryPolicy::default()
        });
    let input: mockcrm::interface::CreateCallLogInput =
        serde_json::from_str(&crate::support::read_fixture("create-call-log/missed.json"))
            .expect("fixture");
    let output = create_call_log(&client, &input, LogOptions::default()).await;
    assert!(output.log_id.is_some());
    // A careless connector logs the same session again, without a key, and
    // another writes an empty body.
    crm.create_activity(json!({
        "subject": "Missed Call from Jane Contact", "type": "PhoneCommunication",
        "body": "again", "session_id": "4503991102", "received_at": "2024-03-10T23:59:59Z",
    }))
    .await;
    crm.create_activity(json!({"subject": "Empty", "type": "PhoneCommunication", "body": "", "session_id": "4503991199",
        "received_at": "2024-03-11T08:00:00Z"}))
        .await;

    let (_, mut journal) = answer(admin(&crm, Method::GET, "/requests")).await;
    let (_, mut checks) = answer(admin(&crm, Method::GET, "/checks")).await;
    for (path, replacement) in [
        ("items[].at", "[time]"),
        ("items[].duration_ms", "[ms]"),
        ("items[].response_body.id", "[id]"),
        ("items[].response_body.created_at", "[time]"),
        ("items[].response_body.updated_at", "[time]"),
        ("items[].org", "[org]"),
    ] {
        redact(&mut journal, path, replacement);
    }
    redact(&mut checks, "violations[].activity_ids[]", "[id]");
    redact(&mut checks, "violations[].activity_id", "[id]");
    redact(&mut checks, "violations[].org", "[org]");
    crate::support::snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("scripted_journal", journal);
        insta::assert_json_snapshot!("scripted_violations", checks);
    });
    crm.shutdown().await;
}
