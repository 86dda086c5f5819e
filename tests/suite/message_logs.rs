//! Message logs end to end: App Connect core's own createMessageLog and
//! updateMessageLog calls (`fixtures/messages/message-records.json`, every
//! call core 1.7.42 made for each request) through the reference connector
//! into a live server, the logs stored (snapshot), core's record of which
//! message went into which log borne out by the store, and the calls made
//! again (core's retries and repeats) writing nothing new.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::{answer, read_fixture, redact, snapshot_settings, TestCrm};
use mockcrm::interface::{MessageLogInput, MessageType};
use mockcrm::{
    create_message_log, update_message_log, Clock, CrmClient, LogOptions, RetryPolicy, Seed,
};
use reqwest::Method;
use serde_json::{json, Value};

const ADMIN: &str = "mockcrm-admin";

/// The fixture's contacts under the ids core's calls name.
pub async fn message_crm() -> TestCrm {
    let seed: Seed =
        serde_json::from_str(&read_fixture("messages/seed.json")).expect("seed parses");
    TestCrm::with_seed(seed).await
}

pub fn client(crm: &TestCrm, attempts: u32) -> CrmClient {
    let (clock, _waits) = Clock::manual();
    CrmClient::new(&crm.server.url())
        .expect("client")
        .with_retry_policy(RetryPolicy {
            max_attempts: attempts,
            max_total: Duration::from_secs(30),
            clock,
            ..RetryPolicy::default()
        })
}

/// Every connector call core made, in order: (request name, interface,
/// arguments).
pub fn core_calls(records: &Value) -> Vec<(String, String, Value)> {
    let mut calls = Vec::new();
    for request in records["requests"].as_array().expect("requests") {
        let name = request["name"].as_str().expect("name").to_owned();
        for call in request["core"]["calls"].as_array().expect("calls") {
            let interface = call["interface"].as_str().expect("interface").to_owned();
            calls.push((name.clone(), interface, call["args"].clone()));
        }
    }
    calls
}

/// Plays core's calls through the reference connector. Core's stub
/// answered its n-th create `crm-msg-log-<n>`; each is mapped to the log
/// the connector answered, for the updates that name it. Returns that map.
pub async fn play(crm: &TestCrm, calls: &[(String, String, Value)]) -> BTreeMap<String, String> {
    let client = client(crm, 3);
    let mut logs = BTreeMap::new();
    for (name, interface, args) in calls {
        let mut args = args.clone();
        if let Some(core_id) = args["existingMessageLog"]["thirdPartyLogId"].as_str() {
            let ours = logs
                .get(core_id)
                .unwrap_or_else(|| panic!("{name}: {core_id} was never created"));
            args["existingMessageLog"]["thirdPartyLogId"] = json!(ours);
        }
        let input: MessageLogInput = serde_json::from_value(args).expect("core's arguments parse");
        if interface == "createMessageLog" {
            let output = create_message_log(&client, &input, LogOptions::default()).await;
            let log_id = output
                .log_id
                .unwrap_or_else(|| panic!("{name}: no logId: {:?}", output.return_message));
            logs.insert(format!("crm-msg-log-{}", logs.len() + 1), log_id);
        } else {
            let output = update_message_log(&client, &input, LogOptions::default()).await;
            let message = output.return_message.expect("a return message");
            assert_eq!(
                message.message_type,
                MessageType::Success,
                "{name}: {message:?}"
            );
        }
    }
    logs
}

async fn stored(crm: &TestCrm) -> Vec<Value> {
    let (status, page) = answer(crm.dev(Method::GET, "/activity?limit=200")).await;
    assert_eq!(status, 200, "{page}");
    let mut items = page["items"].as_array().cloned().unwrap_or_default();
    items.reverse();
    items
}

async fn violations(crm: &TestCrm) -> Value {
    let (_, report) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/checks")).await;
    report["violations"].clone()
}

#[tokio::test]
async fn core_calls_become_the_logs_core_recorded_and_repeats_write_nothing() {
    let records: Value =
        serde_json::from_str(&read_fixture("messages/message-records.json")).expect("fixture");
    let calls = core_calls(&records);
    let crm = message_crm().await;
    let logs = play(&crm, &calls).await;
    assert_eq!(logs.len(), 9, "core created nine logs");
    let mut first = stored(&crm).await;
    assert_eq!(first.len(), 9, "one activity per log core created");

    // Every message core recorded as logged is in the log it recorded, once.
    let by_id: BTreeMap<&str, &Value> = first
        .iter()
        .filter_map(|a| Some((a["id"].as_str()?, a)))
        .collect();
    for request in records["requests"].as_array().expect("requests") {
        for row in request["core"]["messageLogRows"].as_array().expect("rows") {
            let core_log = row["thirdPartyLogId"].as_str().expect("log");
            let log = by_id[logs[core_log].as_str()];
            let message = row["id"].as_str().expect("id");
            let conversation = row["conversationLogId"].as_str().expect("conversation");
            if message == conversation {
                // A shared SMS: core names the conversation, not a message.
                continue;
            }
            assert_eq!(log["conversation_log_id"], json!(conversation), "{message}");
            let held = log["message_ids"].as_array().expect("message_ids");
            assert_eq!(
                held.iter()
                    .filter(|id| id.as_str() == Some(message))
                    .count(),
                1,
                "{message} in {log}"
            );
        }
    }
    // A shared SMS's log holds the body core composed last.
    let shared_update = calls
        .iter()
        .find(|(name, _, _)| name == "shared-sms-update")
        .expect("shared update");
    assert_eq!(
        by_id[logs["crm-msg-log-8"].as_str()]["body"],
        shared_update.2["sharedSMSLogContent"]["body"]
    );
    assert_eq!(violations(&crm).await, json!([]));

    // Core again, as after a lost answer or a reload: every create finds
    // the log it made, and nothing changes. Shared SMS are left out: core
    // names no conversation to a shared SMS's create, so nothing can tell
    // a repeat from a new conversation (README.md says so).
    let repeatable: Vec<_> = calls
        .iter()
        .filter(|(_, _, args)| args.get("sharedSMSLogContent").is_none())
        .cloned()
        .collect();
    let again = play(&crm, &repeatable).await;
    assert_eq!(again.len(), 7);
    assert!(
        again.iter().all(|(core_id, ours)| logs[core_id] == *ours),
        "{again:?}"
    );
    assert_eq!(
        stored(&crm).await,
        first,
        "a repeated message is not written again"
    );
    assert_eq!(violations(&crm).await, json!([]));

    // A shared SMS's log is received now: core gave its create no time.
    for log in &mut first {
        if log["conversation_log_id"].is_null() {
            log["received_at"] = json!("[now]");
        }
    }
    let mut shown = json!({ "logs": first });
    for path in ["logs[].id", "logs[].created_at", "logs[].updated_at"] {
        redact(&mut shown, path, "[changes]");
    }
    snapshot_settings().bind(|| insta::assert_json_snapshot!("fixture_message_logs", shown));
    crm.shutdown().await;
}

async fn fault(crm: &TestCrm, method: &str, path: &str, times: u32) {
    let spec = json!({"method": method, "path": path, "status": 503, "times": times,
                      "after_commit": true});
    let (status, body) = answer(
        crm.as_key(ADMIN, Method::POST, "/__admin/faults")
            .json(&spec),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

fn sms(id: u64, time: &str, text: &str) -> Value {
    json!({"id": id, "conversationId": "9001", "type": "SMS", "direction": "Inbound",
           "creationTime": time, "subject": text})
}

fn input(message: Value, existing: Option<&str>) -> MessageLogInput {
    let mut args = json!({
        "user": {"id": "crm-user-1", "timezoneOffset": "-05:00"},
        "contactInfo": {"id": "crm-contact-1001", "name": "Jane Contact",
                        "phoneNumber": "+14155550199", "type": "Contact"},
        "authHeader": mockcrm::basic_header_for_key("mockcrm-dev-key"),
        "hashedAccountId": "acct-1",
        "message": message,
    });
    if let Some(log) = existing {
        args["existingMessageLog"] = json!({"thirdPartyLogId": log,
                                            "conversationLogId": "9001-2025-06-03"});
    }
    serde_json::from_value(args).expect("input")
}

/// The CRM commits a write and the answer is lost, once and for every
/// attempt: the retry, and core's call again later, find the message
/// already there.
#[tokio::test]
async fn a_lost_answer_never_writes_a_message_twice() {
    let crm = message_crm().await;
    let retrying = client(&crm, 5);
    let once = client(&crm, 1);
    let first = sms(1, "2025-06-03T14:00:00Z", "one");
    // The create's answer is lost once; the retry is answered by its key.
    fault(&crm, "POST", "/activity", 1).await;
    let created = create_message_log(
        &retrying,
        &input(first.clone(), None),
        LogOptions::default(),
    )
    .await;
    let log_id = created.log_id.expect("logged after a retry");
    // Lost for good: core sees a failure and calls create again later.
    let second = sms(2, "2025-06-03T14:05:00Z", "two");
    fault(&crm, "PATCH", &format!("/activity/{log_id}"), 1).await;
    let lost = update_message_log(
        &once,
        &input(second.clone(), Some(&log_id)),
        LogOptions::default(),
    )
    .await;
    assert_eq!(
        lost.return_message.map(|m| m.message_type),
        Some(MessageType::Warning)
    );
    let again =
        update_message_log(&once, &input(second, Some(&log_id)), LogOptions::default()).await;
    assert_eq!(
        again.return_message.map(|m| m.message_type),
        Some(MessageType::Success)
    );
    // Core never recorded the first create: it creates again, and the
    // connector finds the conversation's log instead of making another.
    let recreated = create_message_log(&once, &input(first, None), LogOptions::default()).await;
    assert_eq!(recreated.log_id.as_deref(), Some(log_id.as_str()));

    let (_, log) = answer(crm.dev(Method::GET, &format!("/activity/{log_id}"))).await;
    assert_eq!(log["message_ids"], json!(["1", "2"]));
    let body = log["body"].as_str().expect("body");
    assert_eq!(body.matches("\none\n").count(), 1, "{body}");
    assert_eq!(body.matches("\ntwo\n").count(), 1, "{body}");
    assert!(body.contains("Conversation(2 messages)"), "{body}");
    assert_eq!(stored(&crm).await.len(), 1);
    assert_eq!(violations(&crm).await, json!([]));
    // The lost update is a revision like any other: the log as it stood
    // before it held one message.
    let (_, revisions) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities/{log_id}/revisions"),
    ))
    .await;
    let held: Vec<Value> = revisions["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|r| r["activity"]["message_ids"].clone())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(held, [json!(["1"]), json!(["1", "2"])], "{revisions}");
    crm.shutdown().await;
}

/// The native API's side: a message log's fields in, out, found by its
/// conversation, replaced by a PATCH, refused with the field named.
#[tokio::test]
async fn the_native_api_keeps_a_logs_conversation_and_messages() {
    let crm = TestCrm::start().await;
    let call = crm
        .create_activity(json!({"subject": "Call", "type": "PhoneCommunication", "body": "b"}))
        .await;
    assert!(call.get("message_ids").is_none() && call.get("conversation_log_id").is_none());
    let log = crm
        .create_activity(json!({"subject": "SMS", "type": "SMS", "body": "b",
                                "conversation_log_id": "c-2025-06-03",
                                "message_ids": ["m1", 1874001187_u64]}))
        .await;
    assert_eq!(log["message_ids"], json!(["m1", "1874001187"]));
    let id = log["id"].as_str().expect("id");
    let (status, found) =
        answer(crm.dev(Method::GET, "/activity?conversation_log_id=c-2025-06-03")).await;
    assert_eq!(status, 200);
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["items"][0]["id"], json!(id));
    let (_, none) = answer(crm.dev(Method::GET, "/activity?conversation_log_id=other")).await;
    assert_eq!(none["items"], json!([]));

    let (status, patched) = answer(
        crm.dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"message_ids": ["m1", "m2", "m1"]})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["message_ids"], json!(["m1", "m2", "m1"]));
    let found = violations(&crm).await;
    assert_eq!(found[0]["kind"], "duplicate_message", "{found}");
    assert_eq!(found[0]["message_id"], "m1");
    let (_, cleared) = answer(
        crm.dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"message_ids": null, "conversation_log_id": null})),
    )
    .await;
    assert!(cleared.get("message_ids").is_none(), "{cleared}");
    assert_eq!(violations(&crm).await, json!([]));

    for (body, field) in [
        (
            json!({"subject": "s", "type": "SMS", "message_ids": "m1"}),
            "message_ids",
        ),
        (
            json!({"subject": "s", "type": "SMS", "message_ids": [""]}),
            "message_ids",
        ),
        (
            json!({"subject": "s", "type": "SMS", "message_ids": [-1]}),
            "message_ids",
        ),
        (
            json!({"subject": "s", "type": "SMS", "conversation_log_id": 5}),
            "conversation_log_id",
        ),
        (
            json!({"subject": "s", "type": "SMS", "conversation_log_id": " "}),
            "conversation_log_id",
        ),
    ] {
        let (status, error) = answer(crm.dev(Method::POST, "/activity").json(&body)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(crate::support::error_code(&error), "invalid_field");
        let message = error["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{message}");
    }
    crm.shutdown().await;
}
