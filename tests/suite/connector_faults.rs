//! The reference createCallLog against a flaky CRM: transient faults
//! (statuses, and connections that reset, close empty, break off mid-answer
//! or dribble) within the retry budget still give one logId for one
//! activity; beyond it, a warning and still at most one activity;
//! concurrent calls for one session write once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::support::TestCrm;
use mockcrm::interface::{CreateCallLogInput, MessageType};
use mockcrm::Clock;
use mockcrm::{create_call_log, CrmClient, LogOptions, RetryPolicy};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

static CASE: AtomicU64 = AtomicU64::new(0);
const ADMIN: &str = "mockcrm-admin";

fn fixture_input(session: &str) -> CreateCallLogInput {
    let mut input: CreateCallLogInput = serde_json::from_str(&crate::support::read_fixture(
        "create-call-log/ai-note-and-transcript.json",
    ))
    .expect("fixture parses");
    input.content.call_log.session_id = Some(session.to_owned());
    input
}

/// One transient failure the CRM can produce: a status, or one at the
/// connection level. `dribble` is the one that is not a failure: a slow
/// answer that still arrives whole within the connector's timeout.
#[derive(Debug, Clone)]
struct Transient {
    kind: &'static str,
    status: Option<u16>,
    retry_after: Option<u64>,
    delay_ms: u64,
    after_commit: bool,
}

impl Transient {
    /// The connector sees no failure at all.
    fn succeeds(&self) -> bool {
        self.kind == "dribble"
    }
}

/// Failures the connector must retry.
fn failure() -> BoxedStrategy<Transient> {
    let status = (
        prop_oneof![Just(429u16), Just(502), Just(503), Just(504)],
        proptest::option::of(0u64..=2),
        prop_oneof![4 => Just(0u64), 1 => 1u64..15],
        any::<bool>(),
    )
        .prop_map(|(status, retry_after, delay_ms, after_commit)| Transient {
            kind: "status",
            status: Some(status),
            retry_after: if status == 429 {
                Some(retry_after.unwrap_or(1))
            } else {
                retry_after
            },
            delay_ms,
            after_commit,
        });
    // A connection that breaks sends no Retry-After the connector could read.
    let connection = (
        prop_oneof![Just("reset"), Just("empty"), Just("truncated")],
        any::<bool>(),
        proptest::option::of(prop_oneof![Just(502u16), Just(503)]),
    )
        .prop_map(|(kind, after_commit, status)| Transient {
            kind,
            // A cut error answer, or (no status) the real one cut.
            status: if kind == "truncated" { status } else { None },
            retry_after: None,
            delay_ms: 0,
            after_commit: after_commit && (kind != "truncated" || status.is_some()),
        });
    prop_oneof![3 => status, 2 => connection].boxed()
}

/// Failures, and now and then an answer dribbled out slowly.
fn transient() -> BoxedStrategy<Transient> {
    let dribble = (1u64..40).prop_map(|delay_ms| Transient {
        kind: "dribble",
        status: None,
        retry_after: None,
        delay_ms,
        after_commit: false,
    });
    prop_oneof![6 => failure(), 1 => dribble].boxed()
}

fn policy(clock: Clock) -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        max_total: Duration::from_secs(30),
        clock,
        ..RetryPolicy::default()
    }
}

async fn admin(crm: &TestCrm, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = crm.as_key(ADMIN, method, &format!("/__admin{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    crate::support::answer(request).await
}

/// Queues the schedule as one-shot faults on `POST /activity`, in order.
async fn schedule(crm: &TestCrm, faults: &[Transient]) {
    for fault in faults {
        let mut spec = json!({
            "method": "POST", "path": "/activity", "kind": fault.kind, "status": fault.status,
            "times": 1, "delay_ms": fault.delay_ms, "after_commit": fault.after_commit,
        });
        if let Some(seconds) = fault.retry_after {
            spec["retry_after"] = json!(seconds);
        }
        let (status, body) = admin(crm, Method::POST, "/faults", Some(spec)).await;
        assert_eq!(status, 201, "{body}");
    }
}

async fn activities_for(crm: &TestCrm, session: &str) -> Vec<String> {
    let (_, listed) =
        crate::support::answer(crm.dev(Method::GET, &format!("/activity?session_id={session}")))
            .await;
    listed["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|a| a["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn transient_faults_within_the_budget_still_log_exactly_once() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    proptest!(ProptestConfig::with_cases(500), |(faults in proptest::collection::vec(transient(), 0..5))| {
        let session = format!("flaky-{}", CASE.fetch_add(1, Ordering::Relaxed));
        let (clock, waits) = Clock::manual();
        let client = CrmClient::new(&crm.server.url()).expect("client").with_retry_policy(policy(clock));
        let output = rt.block_on(async {
            schedule(&crm, &faults).await;
            let output = create_call_log(&client, &fixture_input(&session), LogOptions::default()).await;
            // Faults after a dribbled success are left over: not for the next case.
            admin(&crm, Method::DELETE, "/faults", None).await;
            output
        });
        let log_id = output.log_id.clone();
        prop_assert!(log_id.is_some(), "no logId after {:?}: {:?}", faults, output.return_message);
        prop_assert_eq!(activities_for_blocking(&rt, &crm, &session), vec![log_id.unwrap_or_default()]);
        let (_, report) = rt.block_on(admin(&crm, Method::GET, "/checks", None));
        prop_assert_eq!(&report["violations"], &json!([]));
        // One retry per failure up to the first success (a dribble), and
        // every wait honoured the Retry-After of the failure before it.
        let failures: Vec<&Transient> = faults.iter().take_while(|f| !f.succeeds()).collect();
        let waits = waits.waits();
        prop_assert_eq!(waits.len(), failures.len());
        for (wait, fault) in waits.iter().zip(failures) {
            prop_assert!(*wait >= Duration::from_secs(fault.retry_after.unwrap_or(0)));
        }
    });
    rt.block_on(crm.shutdown());
}

fn activities_for_blocking(
    rt: &tokio::runtime::Runtime,
    crm: &TestCrm,
    session: &str,
) -> Vec<String> {
    rt.block_on(activities_for(crm, session))
}

#[test]
fn beyond_the_budget_a_warning_and_at_most_one_activity() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    proptest!(ProptestConfig::with_cases(500), |(faults in proptest::collection::vec(failure(), 5..8))| {
        let session = format!("down-{}", CASE.fetch_add(1, Ordering::Relaxed));
        let (clock, waits) = Clock::manual();
        let client = CrmClient::new(&crm.server.url()).expect("client").with_retry_policy(policy(clock));
        let output = rt.block_on(async {
            schedule(&crm, &faults).await;
            let output = create_call_log(&client, &fixture_input(&session), LogOptions::default()).await;
            // Leftover faults must not leak into the next case.
            admin(&crm, Method::DELETE, "/faults", None).await;
            output
        });
        prop_assert_eq!(output.log_id, None);
        let message = output.return_message.expect("a message");
        prop_assert_eq!(message.message_type, MessageType::Warning);
        prop_assert!(message.message.contains("gave up after 5 attempts"), "{}", message.message);
        prop_assert!(activities_for_blocking(&rt, &crm, &session).len() <= 1);
        let (_, report) = rt.block_on(admin(&crm, Method::GET, "/checks", None));
        prop_assert_eq!(&report["violations"], &json!([]));
        prop_assert_eq!(waits.waits().len(), 4);
    });
    rt.block_on(crm.shutdown());
}

#[test]
fn a_time_budget_stops_retries_before_the_attempts_run_out() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    let (clock, waits) = Clock::manual();
    let client = CrmClient::new(&crm.server.url())
        .expect("client")
        .with_retry_policy(RetryPolicy {
            max_attempts: 10,
            max_total: Duration::from_secs(5),
            clock,
            ..RetryPolicy::default()
        });
    let output = rt.block_on(async {
        admin(
            &crm,
            Method::POST,
            "/faults",
            Some(json!({"path": "/activity", "status": 429, "retry_after": 3})),
        )
        .await;
        create_call_log(&client, &fixture_input("budget"), LogOptions::default()).await
    });
    assert_eq!(output.log_id, None);
    let waits = waits.waits();
    assert_eq!(
        waits.len(),
        1,
        "3 s + 3 s would pass the 5 s budget: {waits:?}"
    );
    rt.block_on(crm.shutdown());
}

#[test]
fn final_errors_are_not_retried() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    let (clock, waits) = Clock::manual();
    let client = CrmClient::new(&crm.server.url())
        .expect("client")
        .with_retry_policy(policy(clock));
    for status in [400u16, 401, 403, 404, 409, 413, 422] {
        let output = rt.block_on(async {
            admin(
                &crm,
                Method::POST,
                "/faults",
                Some(json!({"path": "/activity", "status": status, "times": 1})),
            )
            .await;
            create_call_log(
                &client,
                &fixture_input(&format!("final-{status}")),
                LogOptions::default(),
            )
            .await
        });
        assert_eq!(output.log_id, None, "{status}");
        let message = output.return_message.expect("message");
        assert_eq!(message.message_type, MessageType::Warning);
        if status == 401 {
            assert!(message.message.contains("reconnect"), "{}", message.message);
        }
    }
    assert!(waits.waits().is_empty(), "no waits: nothing was retried");
    rt.block_on(crm.shutdown());
}

#[test]
fn thirty_two_concurrent_calls_for_one_session_write_one_activity() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    let client = CrmClient::new(&crm.server.url()).expect("client");
    let input = fixture_input("concurrent-session");
    let log_ids: Vec<Option<String>> = rt.block_on(async {
        let calls = (0..32).map(|_| {
            let client = client.clone();
            let input = input.clone();
            tokio::spawn(async move {
                create_call_log(&client, &input, LogOptions::default())
                    .await
                    .log_id
            })
        });
        let mut ids = Vec::new();
        for call in calls {
            ids.push(call.await.expect("task ran"));
        }
        ids
    });
    let first = log_ids[0].clone().expect("a logId");
    assert!(
        log_ids
            .iter()
            .all(|id| id.as_deref() == Some(first.as_str())),
        "{log_ids:?}"
    );
    assert_eq!(
        rt.block_on(activities_for(&crm, "concurrent-session")),
        vec![first]
    );
    rt.block_on(crm.shutdown());
}
