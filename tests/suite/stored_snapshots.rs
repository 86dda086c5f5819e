//! Snapshots of what lands in the CRM: the stored activity for every
//! createCallLog fixture (`stored@<fixture>.json`, every fixture run before
//! a failure is reported), and the error body for every error code. Review
//! changes with `cargo insta review`; ids and times are redacted.

use crate::support::{answer, redact, TestCrm};
use mockcrm::interface::CreateCallLogInput;
use mockcrm::{create_call_log, CrmClient, LogOptions};
use reqwest::Method;
use serde_json::{json, Value};

#[test]
fn stored_activity_for_every_fixture() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let crm = runtime.block_on(TestCrm::start());
    let client = CrmClient::new(&crm.server.url()).expect("client");
    let mut seen = 0;
    crate::support::snapshot_settings().bind(|| {
        insta::glob!("../../fixtures/create-call-log", "*.json", |path| {
            seen += 1;
            let text = std::fs::read_to_string(path).expect("fixture readable");
            let input: CreateCallLogInput = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            let mut snapshot = runtime.block_on(async {
                let output = create_call_log(&client, &input, LogOptions::default()).await;
                let log_id = output.log_id.clone().unwrap_or_else(|| {
                    panic!("{}: no logId: {:?}", path.display(), output.return_message)
                });
                let (status, stored) =
                    answer(crm.dev(Method::GET, &format!("/activity/{log_id}"))).await;
                assert_eq!(status, 200, "{}", path.display());
                json!({"output": output, "stored": stored})
            });
            redact(&mut snapshot, "output.logId", "[id]");
            redact(&mut snapshot, "stored.id", "[id]");
            redact(&mut snapshot, "stored.created_at", "[time]");
            redact(&mut snapshot, "stored.updated_at", "[time]");
            insta::assert_json_snapshot!("stored", snapshot);
        });
    });
    assert!(seen >= 8, "expected at least 8 fixtures, saw {seen}");
    runtime.block_on(crm.shutdown());
}

#[tokio::test]
async fn error_body_for_every_error_code() {
    let crm = TestCrm::start().await;
    let keyed = |duration: u64| {
        crm.dev(Method::POST, "/activity")
            .header("idempotency-key", "snapshot-key")
            .json(&json!({"subject": "s", "type": "t", "duration": duration}))
    };
    assert_eq!(answer(keyed(1)).await.0, 201);
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "invalid_json",
            crm.dev(Method::POST, "/activity")
                .header("content-type", "application/json")
                .body("{\"subject\": "),
        ),
        (
            "invalid_field",
            crm.dev(Method::POST, "/activity")
                .json(&json!({"type": "t"})),
        ),
        ("unauthorized", crm.anonymous(Method::GET, "/me")),
        ("not_found", crm.dev(Method::GET, "/activity/act_missing")),
        ("not_found_route", crm.dev(Method::GET, "/nowhere")),
        ("not_found_near_miss", crm.dev(Method::GET, "/activty")),
        (
            "method_not_allowed",
            crm.dev(Method::PUT, "/activity/act_any"),
        ),
        (
            "payload_too_large",
            crm.dev(Method::POST, "/activity")
                .header("content-type", "application/json")
                .body(vec![b' '; crate::support::BODY_LIMIT + 1]),
        ),
        (
            "unsupported_media_type",
            crm.dev(Method::POST, "/contact")
                .header("content-type", "text/csv")
                .body("name,phone"),
        ),
        ("idempotency_mismatch", keyed(2)),
        (
            "conflict",
            crm.as_key("mockcrm-admin", Method::POST, "/__admin/tenants")
                .json(&json!({"name": "Acme"})),
        ),
    ];
    let mut answers = serde_json::Map::new();
    for (name, request) in cases {
        let (status, body) = answer(request).await;
        answers.insert(name.to_owned(), json!({"status": status, "body": body}));
    }
    crate::support::snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("error_bodies", Value::Object(answers));
    });
    crm.shutdown().await;
}
