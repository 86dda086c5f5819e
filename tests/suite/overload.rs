//! Overload pushes back (issue #14): past the store's queue or the
//! connection cap, a request is answered 503 `overloaded` with
//! `Retry-After` at once, nothing of it is done, and every request that was
//! let in is served, an acknowledged write always committed. The limits
//! are made tiny and the store thread is held still
//! (`Server::hold_store_for_test`), so that which requests are turned away
//! follows from the limits, not from timing.

use std::collections::BTreeMap;

use crate::support::{answer, connect, error_code, exchange, End, TestCrm, DEV_KEY};
use mockcrm::{Server, ServerConfig};
use reqwest::Method;
use serde_json::{json, Value};

async fn start(config: ServerConfig) -> TestCrm {
    TestCrm {
        server: Server::start(config).await.expect("server starts"),
        http: reqwest::Client::new(),
    }
}

fn create(session: &str) -> Value {
    json!({"subject": "Call", "type": "PhoneCommunication", "body": "b", "session_id": session})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_queue_turns_requests_away_and_drops_no_acknowledged_write() {
    const BURST: usize = 8;
    let crm = start(ServerConfig {
        store_queue: 1,
        ..ServerConfig::ephemeral()
    })
    .await;
    // The key is resolved once, so a create's only store trip is its write.
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 200);
    let hold = crm.server.hold_store_for_test().await.expect("hold");
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    for n in 0..BURST {
        let request = crm
            .dev(Method::POST, "/activity")
            .json(&create(&format!("burst-{n}")));
        let answers = answers.clone();
        tokio::spawn(async move {
            let response = request.send().await.expect("answered");
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = response.json().await.expect("JSON");
            let _ = answers.send((n, status, retry_after, body));
        });
    }
    // One create holds the only place in the queue; every other is turned
    // away without waiting for the store.
    let mut turned_away = Vec::new();
    for _ in 1..BURST {
        let (n, status, retry_after, body) = answered.recv().await.expect("an answer");
        assert_eq!(status, 503, "{body}");
        assert_eq!(error_code(&body), "overloaded");
        assert_eq!(retry_after.as_deref(), Some("1"));
        turned_away.push(n);
    }
    drop(hold);
    let (queued, status, _, body) = answered.recv().await.expect("the queued answer");
    assert_eq!(status, 201, "let in, so served: {body}");
    assert!(!turned_away.contains(&queued));

    // Exactly the acknowledged write is stored; the others did nothing.
    let (_, listed) = answer(crm.dev(Method::GET, "/activity?limit=200")).await;
    let sessions: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["session_id"].as_str())
        .collect();
    assert_eq!(sessions, [format!("burst-{queued}")]);
    // The journal holds every answer, as sent.
    let (_, journal) = answer(crm.as_key(
        "mockcrm-admin",
        Method::GET,
        "/__admin/requests?method=POST&limit=100",
    ))
    .await;
    let mut statuses = BTreeMap::new();
    for entry in journal["items"].as_array().expect("items") {
        *statuses
            .entry(entry["status"].as_u64().unwrap_or(0))
            .or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(201, 1), (503, BURST - 1)]));
    crm.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_a_connection_is_answered_503_and_closed_but_health_is_up() {
    let crm = start(ServerConfig {
        max_connections: 2,
        ..ServerConfig::ephemeral()
    })
    .await;
    let health = b"GET /health HTTP/1.1\r\nHost: mockcrm\r\n\r\n".to_vec();
    let create_body = create("over-the-cap").to_string();
    let create_request = format!(
        "POST /activity HTTP/1.1\r\nHost: mockcrm\r\nAuthorization: Bearer {DEV_KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{create_body}",
        create_body.len()
    )
    .into_bytes();
    // Only `GET /health` is let through past the cap: not another method on
    // it, nor another route.
    let turned_away_too = [
        b"POST /health HTTP/1.1\r\nHost: mockcrm\r\nContent-Length: 0\r\n\r\n".to_vec(),
        format!("GET /me HTTP/1.1\r\nHost: mockcrm\r\nAuthorization: Bearer {DEV_KEY}\r\n\r\n")
            .into_bytes(),
        b"GET /healthz HTTP/1.1\r\nHost: mockcrm\r\n\r\n".to_vec(),
    ];
    // Two connections take the two places, in the order they connect.
    let mut first = connect(&crm);
    let mut second = connect(&crm);
    let (first_seen, second_seen, probe, refused) = tokio::task::spawn_blocking({
        let mut probe_connection = connect(&crm);
        let mut create_connection = connect(&crm);
        let others: Vec<_> = turned_away_too.iter().map(|_| connect(&crm)).collect();
        let health = health.clone();
        move || {
            let first_seen = exchange(&mut first, &health);
            let probe = exchange(&mut probe_connection, &health);
            let mut refused = vec![exchange(&mut create_connection, &create_request)];
            for (mut connection, request) in others.into_iter().zip(&turned_away_too) {
                refused.push(exchange(&mut connection, request));
            }
            // Those let in are served throughout; the turned-away create
            // did nothing.
            let list = format!(
                "GET /activity?session_id=over-the-cap HTTP/1.1\r\nHost: mockcrm\r\n\
                 Authorization: Bearer {DEV_KEY}\r\n\r\n"
            );
            let second_seen = exchange(&mut second, list.as_bytes());
            (first_seen, second_seen, probe, refused)
        }
    })
    .await
    .expect("exchanges ran");
    for seen in [&first_seen, &second_seen] {
        let (head, _) = seen.head_and_body();
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        assert_eq!(seen.end, End::Open);
    }
    // The liveness probe past the cap: up, busy, and closed like the rest.
    let (head, body) = probe.head_and_body();
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("\r\nconnection: close"),
        "{head}"
    );
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(body, json!({"status": "ok", "overloaded": true}));
    // A probe on a connection that was let in is not told it is busy.
    let (_, body) = first_seen.head_and_body();
    let body: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(body, json!({"status": "ok"}));
    assert_eq!(refused.len(), 4);
    for seen in &refused {
        let (head, body) = seen.head_and_body();
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        let lower = head.to_ascii_lowercase();
        assert!(lower.contains("\r\nretry-after: 1"), "{head}");
        assert!(lower.contains("\r\nconnection: close"), "{head}");
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(error_code(&body), "overloaded");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("all 2 connections are in use")),
            "{body}"
        );
    }
    let (_, listed) = second_seen.head_and_body();
    let listed: Value = serde_json::from_slice(&listed).expect("JSON");
    assert_eq!(
        listed["items"],
        json!([]),
        "the turned-away create did nothing"
    );
    crm.shutdown().await;
}
