//! Connection-level faults as a client meets them (issue #14). Over raw
//! TCP: `reset` ends the connection with a TCP reset and no answer, `empty`
//! closes it with no answer, `truncated` sends the head and part of the
//! body, `dribble` sends the whole answer in pieces and keeps the
//! connection. With `after_commit` (and for `truncated` without a status,
//! whose real answer is what is cut) the write happened anyway. Through
//! the reference connector: each is a transport failure it retries, and
//! the call is still logged exactly once.

use crate::support::{answer, connect, exchange, End, Seen, TestCrm, DEV_KEY};
use mockcrm::interface::MessageType;
use mockcrm::{create_call_log, Clock, CrmClient, LogOptions, RetryPolicy};
use reqwest::Method;
use serde_json::{json, Value};

const ADMIN: &str = "mockcrm-admin";

fn create_request(session: &str) -> Vec<u8> {
    let body = json!({
        "subject": "Inbound Call from Jane Contact", "type": "PhoneCommunication",
        "body": "- Duration: 5 seconds\n", "session_id": session,
    })
    .to_string();
    format!(
        "POST /activity HTTP/1.1\r\nHost: mockcrm\r\nAuthorization: Bearer {DEV_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn add_fault(crm: &TestCrm, spec: Value) -> String {
    let (status, fault) = answer(
        crm.as_key(ADMIN, Method::POST, "/__admin/faults")
            .json(&spec),
    )
    .await;
    assert_eq!(status, 201, "{fault}");
    fault["id"].as_str().expect("id").to_owned()
}

async fn stored(crm: &TestCrm, session: &str) -> usize {
    let (_, listed) =
        answer(crm.dev(Method::GET, &format!("/activity?session_id={session}"))).await;
    listed["items"].as_array().map_or(0, Vec::len)
}

/// Runs the blocking raw exchange off the runtime the server serves on.
async fn raw(crm: &TestCrm, request: Vec<u8>) -> Seen {
    let mut stream = connect(crm);
    tokio::task::spawn_blocking(move || exchange(&mut stream, &request))
        .await
        .expect("exchange ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_and_empty_answer_nothing_and_commit_only_after_commit() {
    let crm = TestCrm::start().await;
    for (kind, end) in [("reset", End::Reset), ("empty", End::Closed)] {
        for after_commit in [false, true] {
            let session = format!("{kind}-{after_commit}");
            let fault = add_fault(
                &crm,
                json!({"method": "POST", "path": "/activity", "kind": kind, "times": 1,
                       "after_commit": after_commit}),
            )
            .await;
            let seen = raw(&crm, create_request(&session)).await;
            assert_eq!(seen.bytes, Vec::<u8>::new(), "{kind}: no answer at all");
            assert_eq!(seen.end, end, "{kind}");
            assert_eq!(
                stored(&crm, &session).await,
                usize::from(after_commit),
                "{kind}: written only after_commit"
            );
            let (_, journal) =
                answer(crm.as_key(ADMIN, Method::GET, "/__admin/requests?limit=1&method=POST"))
                    .await;
            let entry = &journal["items"][0];
            assert_eq!(
                (
                    &entry["status"],
                    &entry["fault_id"],
                    &entry["response_body"]
                ),
                (&json!(0), &json!(fault), &Value::Null),
                "{kind}: the journal says nothing was answered"
            );
        }
    }
    crm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_sends_the_head_and_part_of_the_body_then_closes() {
    let crm = TestCrm::start().await;
    // Without a status, the real answer is cut: the write happened.
    add_fault(
        &crm,
        json!({"method": "POST", "path": "/activity", "kind": "truncated", "times": 1}),
    )
    .await;
    let seen = raw(&crm, create_request("cut-real")).await;
    let (head, body) = seen.head_and_body();
    assert!(head.starts_with("HTTP/1.1 201 Created\r\n"), "{head}");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("mockcrm-connection-fault"),
        "{head}"
    );
    assert!(
        !body.is_empty() && body.len() < seen.content_length(),
        "{}",
        seen.text()
    );
    assert_eq!(seen.end, End::Closed);
    assert_eq!(stored(&crm, "cut-real").await, 1);

    // With a status, the error answer is cut, and nothing is written.
    add_fault(
        &crm,
        json!({"method": "POST", "path": "/activity", "kind": "truncated", "status": 503,
               "times": 1}),
    )
    .await;
    let seen = raw(&crm, create_request("cut-error")).await;
    let (head, body) = seen.head_and_body();
    assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
    assert!(
        body.len() < seen.content_length() && b"{\"error\"".starts_with(&body[..body.len().min(8)])
    );
    assert_eq!(seen.end, End::Closed);
    assert_eq!(stored(&crm, "cut-error").await, 0);
    crm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dribble_sends_the_whole_answer_in_pieces_and_keeps_the_connection() {
    let crm = TestCrm::start().await;
    add_fault(
        &crm,
        json!({"method": "POST", "path": "/activity", "kind": "dribble", "delay_ms": 1000,
               "times": 1}),
    )
    .await;
    let mut stream = connect(&crm);
    let (first, second) = tokio::task::spawn_blocking(move || {
        let first = exchange(&mut stream, &create_request("slow"));
        let second = exchange(&mut stream, &create_request("after-slow"));
        (first, second)
    })
    .await
    .expect("exchanges ran");
    let (head, body) = first.head_and_body();
    assert!(head.starts_with("HTTP/1.1 201 Created\r\n"), "{head}");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("mockcrm-connection-fault"),
        "{head}"
    );
    let created: Value = serde_json::from_slice(&body).expect("the whole JSON body");
    assert_eq!(created["session_id"], "slow");
    assert_eq!(first.end, End::Open);
    // Ten pieces a tenth of a second apart arrive in more than one read.
    assert!(first.reads >= 2, "{} read(s)", first.reads);
    let (head, _) = second.head_and_body();
    assert!(
        head.starts_with("HTTP/1.1 201 Created\r\n"),
        "the connection carries on: {head}"
    );
    crm.shutdown().await;
}

/// Each kind as the reference connector meets it: one attempt sees a
/// transport failure with a message a user can act on; with retries, the
/// call is logged, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connector_retries_every_connection_fault_and_logs_once() {
    let crm = TestCrm::start().await;
    let input = |session: &str| {
        let mut input: mockcrm::interface::CreateCallLogInput =
            serde_json::from_str(&crate::support::read_fixture("create-call-log/missed.json"))
                .expect("fixture");
        input.content.call_log.session_id = Some(session.to_owned());
        input
    };
    for (kind, after_commit, says) in [
        ("reset", false, "broke off before an answer"),
        ("reset", true, "broke off before an answer"),
        ("empty", false, "broke off before an answer"),
        ("empty", true, "broke off before an answer"),
        ("truncated", false, "broke off mid-answer"),
    ] {
        let once = json!({"method": "POST", "path": "/activity", "kind": kind, "times": 1,
                          "after_commit": after_commit});
        // One attempt only: the failure as the user would read it.
        add_fault(&crm, once.clone()).await;
        let single = CrmClient::new(&crm.server.url())
            .expect("client")
            .with_retry_policy(RetryPolicy::none());
        let session = format!("single-{kind}-{after_commit}");
        let output = create_call_log(&single, &input(&session), LogOptions::default()).await;
        let message = output.return_message.expect("a message");
        assert_eq!(output.log_id, None, "{kind}");
        assert_eq!(message.message_type, MessageType::Warning);
        assert!(
            message.message.contains(says) && message.message.contains("try again later"),
            "{kind}: {}",
            message.message
        );

        add_fault(&crm, once).await;
        let (clock, waits) = Clock::manual();
        let retrying = CrmClient::new(&crm.server.url())
            .expect("client")
            .with_retry_policy(RetryPolicy {
                clock,
                ..RetryPolicy::default()
            });
        let session = format!("retried-{kind}-{after_commit}");
        let output = create_call_log(&retrying, &input(&session), LogOptions::default()).await;
        assert!(
            output.log_id.is_some(),
            "{kind}: {:?}",
            output.return_message
        );
        assert_eq!(waits.waits().len(), 1, "{kind}: retried once");
        assert_eq!(
            stored(&crm, &session).await,
            1,
            "{kind}: logged exactly once"
        );
    }
    let (_, report) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/checks")).await;
    assert_eq!(report["violations"], json!([]));
    crm.shutdown().await;
}
