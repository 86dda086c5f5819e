//! Review page benchmark: `cargo bench --bench review_page`.
//!
//! Starts an in-process server on an in-memory store, logs 10,000
//! activities over HTTP (HTML bodies as App Connect composes them, each
//! updated once, so each has two revisions), then measures:
//!
//! - the weight of one activity's page: the bytes of its HTML, its
//!   stylesheet and its script, headers included (everything a browser
//!   transfers for it; nothing else is loaded);
//! - the time to answer the list page (`/`, 50 newest of the 10,000; and
//!   `/?limit=200`, the largest page) and one activity's page, over
//!   loopback with keep-alive: median, p95 and max of 200 requests each.
//!
//! Knobs: `MOCKCRM_BENCH_ACTIVITIES` (default 10000), `MOCKCRM_BENCH_ROUNDS`
//! (default 200).

use std::time::{Duration, Instant};

use mockcrm::{Server, ServerConfig};
use serde_json::json;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn body(n: usize) -> String {
    format!(
        "<b>Agent notes</b><br>Customer {n} asked for pricing.<br><br><b>Call details</b><br>\
         <li><b>Session Id</b>: {n}</li><li><b>Summary</b>: Outbound Call to Jane Contact</li>\
         <li><b>Date/time</b>: 2024-01-15 10:30:00 AM</li><li><b>Duration</b>: 2 minutes, 5 seconds</li>\
         <li><b>Result</b>: Call connected</li><li><b>Call recording link</b>: (pending...)</li>\
         <div><b>AI Note</b><br>Customer wants a quote for 20 seats.<br>Next step: send pricing sheet.</div><br>"
    )
}

/// Bytes on the wire for an answer: status line, headers and body.
fn wire_bytes(response_headers: &reqwest::header::HeaderMap, body: usize) -> usize {
    let headers: usize = response_headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    "HTTP/1.1 200 OK\r\n".len() + headers + 2 + body
}

async fn time(
    client: &reqwest::Client,
    url: &str,
    rounds: usize,
) -> (Duration, Duration, Duration, usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut size = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let response = client.get(url).send().await.expect("answered");
        assert_eq!(response.status(), 200, "{url}");
        size = response.bytes().await.expect("body").len();
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95), at(1.0), size)
}

#[tokio::main]
async fn main() {
    let count = knob("MOCKCRM_BENCH_ACTIVITIES", 10_000);
    let rounds = knob("MOCKCRM_BENCH_ROUNDS", 200);
    let server = Server::start(ServerConfig {
        journal_size: 1000,
        ..ServerConfig::ephemeral()
    })
    .await
    .expect("server starts");
    let base = server.url();
    let client = reqwest::Client::new();

    let filling = Instant::now();
    let mut last = String::new();
    for n in 0..count {
        let response = client
            .post(format!("{base}/activity"))
            .bearer_auth("mockcrm-dev-key")
            .json(&json!({
                "subject": "Outbound Call to Jane Contact",
                "type": "PhoneCommunication",
                "body_format": "text/html",
                "body": body(n),
                "contact_id": "contact-1",
                "session_id": n.to_string(),
                "duration": 125,
            }))
            .send()
            .await
            .expect("created");
        assert_eq!(response.status(), 201);
        let created: serde_json::Value = response.json().await.expect("json");
        let id = created["id"].as_str().expect("id").to_owned();
        let updated_body = body(n)
            .replace("2 minutes, 5 seconds", "12 minutes, 34 seconds")
            .replace(
                "(pending...)",
                "<a target=\"_blank\" href=\"https://media.example.com/rec/1\">open</a>",
            );
        let patched = client
            .patch(format!("{base}/activity/{id}"))
            .bearer_auth("mockcrm-dev-key")
            .json(&json!({"body": updated_body, "duration": 754}))
            .send()
            .await
            .expect("patched");
        assert_eq!(patched.status(), 200);
        last = id;
    }
    println!(
        "filled {count} activities (create + update each) in {:.1} s",
        filling.elapsed().as_secs_f64()
    );

    // Weight of one activity's page, as a browser loads it.
    let page_url = format!("{base}/__review/activities/{last}");
    let mut total = 0;
    println!("\nweight of one activity's page (bytes on the wire, headers included):");
    for url in [
        page_url.clone(),
        format!("{base}/__review/assets/review.css"),
        format!("{base}/__review/assets/review.js"),
    ] {
        let response = client.get(&url).send().await.expect("answered");
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").len();
        let bytes = wire_bytes(&headers, body);
        total += bytes;
        println!(
            "  {:<40} {:>7} B (body {body} B)",
            url.trim_start_matches(&base),
            bytes
        );
    }
    println!("  {:<40} {:>7} B", "total", total);

    println!("\ntime to answer, {rounds} requests each, {count} activities stored:");
    println!(
        "  {:<40} {:>9} {:>9} {:>9} {:>9}",
        "page", "p50", "p95", "max", "bytes"
    );
    for (label, url) in [
        ("/ (list, 50 newest)", format!("{base}/")),
        (
            "/?limit=200 (list, 200 newest)",
            format!("{base}/?limit=200"),
        ),
        (
            "/?q=Customer+9999 (text search)",
            format!("{base}/?q=Customer+9999"),
        ),
        ("activity page (2 revisions, diff)", page_url.clone()),
    ] {
        time(&client, &url, 5).await;
        let (p50, p95, max, size) = time(&client, &url, rounds).await;
        println!(
            "  {:<40} {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>9}",
            label,
            p50.as_secs_f64() * 1e3,
            p95.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            size
        );
    }
    server.shutdown().await;
}
