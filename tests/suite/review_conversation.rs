//! The review page's conversation view of message logs, over HTTP: core's
//! recorded calls (`fixtures/messages/message-records.json`) logged through
//! the reference connector, then the list's marks and each log's entries
//! in order, with notes and assignments of a shared-SMS thread marked;
//! and a hostile log written through the native API, whose text is
//! escaped and whose non-http links are never hrefs.

use crate::message_logs::{core_calls, message_crm, play};
use crate::support::{answer, read_fixture, TestCrm};
use reqwest::Method;
use serde_json::{json, Value};

async fn get(crm: &TestCrm, path: &str) -> String {
    let response = reqwest::get(crm.url(path)).await.expect("sent");
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.expect("text")
}

/// The stored activity whose body holds `text`.
async fn log_holding(crm: &TestCrm, text: &str) -> Value {
    let (status, page) = answer(crm.dev(Method::GET, "/activity?limit=200")).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["body"].as_str().is_some_and(|b| b.contains(text)))
        .unwrap_or_else(|| panic!("no log holds {text:?}"))
        .clone()
}

/// The page's conversation section.
fn conversation(page: &str) -> &str {
    let start = page
        .find("<section id=\"conversation\">")
        .unwrap_or_else(|| panic!("no conversation in {page}"));
    let end = start + page[start..].find("</section>").expect("section ends");
    &page[start..end]
}

/// Positions of `texts` in `html`, each present, in order.
fn in_order(html: &str, texts: &[&str]) {
    let mut last = 0;
    for text in texts {
        let at = html[last..]
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} missing or out of order in {html}"));
        last += at + text.len();
    }
}

#[tokio::test]
async fn logs_from_core_calls_read_as_conversations_and_are_marked_in_the_list() {
    let records: Value =
        serde_json::from_str(&read_fixture("messages/message-records.json")).expect("fixture");
    let crm = message_crm().await;
    play(&crm, &core_calls(&records)).await;

    let list = get(&crm, "/").await;
    for mark in ["SMS · 2 messages", "Voicemail", "Fax", "SMS · 4 messages"] {
        assert!(
            list.contains(&format!("<span class=\"badge message-log\">{mark}")),
            "{mark} not in {list}"
        );
    }

    let group = log_holding(&crm, "kickoff call moved").await;
    let page = get(
        &crm,
        &format!("/__review/activities/{}", group["id"].as_str().expect("id")),
    )
    .await;
    let thread = conversation(&page);
    assert!(thread.contains("SMS conversation"), "{thread}");
    in_order(
        thread,
        &[
            "class=\"entry message\"",
            "<b class=\"speaker\">Test User</b>",
            "Hi both — kickoff call moved to Friday 10am ET.",
            "class=\"entry message\"",
            "Works for me.",
        ],
    );
    assert!(page.contains("<section id=\"raw\">"), "the raw body stays");
    assert!(
        page.contains("<section id=\"revisions\">"),
        "revisions stay"
    );

    let shared = log_holding(&crm, "Receiving call queue: Support Queue").await;
    let page = get(
        &crm,
        &format!(
            "/__review/activities/{}",
            shared["id"].as_str().expect("id")
        ),
    )
    .await;
    let thread = conversation(&page);
    assert!(thread.contains("Shared SMS thread"), "{thread}");
    in_order(
        thread,
        &[
            "RMA #A-77 created",
            "Still rebooting.",
            "<li class=\"entry note\">",
            "<span class=\"tag\">Note</span>",
            "Known firmware issue &lt;FW 2.1&gt;; RMA if it persists",
            "Sorry about that! Can you unplug it for 30s &amp; retry?",
            "<li class=\"entry assignment\">",
            "Conversation assigned to <b class=\"speaker\">Test Agent</b>",
            "My router keeps rebooting",
        ],
    );

    let voicemail = log_holding(&crm, "Voicemail recording link").await;
    let page = get(
        &crm,
        &format!(
            "/__review/activities/{}",
            voicemail["id"].as_str().expect("id")
        ),
    )
    .await;
    let thread = conversation(&page);
    assert!(thread.contains("<li class=\"entry file\">"), "{thread}");
    assert!(thread.contains("Recording: "), "{thread}");
}

#[tokio::test]
async fn a_hostile_log_is_escaped_and_only_http_links_are_links() {
    let crm = TestCrm::start().await;
    let body = "Conversation summary\nTuesday, June 03, 2025\nParticipants\n    <b>Agent</b>\n\
                Conversation(2 messages)\nBEGIN\n------------\n\
                <script>alert(1)</script> 09:05 AM\n<img src=x onerror=alert(2)>\n\
                Image: javascript:alert(3)\n\n\
                Agent 09:06 AM\nsee attachment\nVideo: https://media.example/v.mp4?a=1&b=\"2\"\n\n\
                ------------\nEND";
    let hostile = crm
        .create_activity(json!({
            "subject": "SMS conversation with <i>Mallory</i>",
            "type": "SMS",
            "body_format": "text/plain",
            "body": body,
            "conversation_log_id": "conv-1-2025-06-03",
            "message_ids": ["m1", "m2"],
        }))
        .await;
    let unreadable = crm
        .create_activity(json!({
            "subject": "An SMS written by hand",
            "type": "SMS",
            "body_format": "text/plain",
            "body": "Texted the customer about <their> order",
            "message_ids": ["m9"],
        }))
        .await;

    let list = get(&crm, "/").await;
    assert!(list.contains("SMS · 2 messages"), "{list}");
    assert!(
        list.contains("SMS · 1 message<"),
        "counted from message_ids: {list}"
    );
    assert!(!list.contains("<i>Mallory</i>"), "{list}");

    let page = get(
        &crm,
        &format!(
            "/__review/activities/{}",
            hostile["id"].as_str().expect("id")
        ),
    )
    .await;
    let thread = conversation(&page);
    in_order(
        thread,
        &[
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "&lt;img src=x onerror=alert(2)&gt;",
            "<span class=\"unsafe-link\">javascript:alert(3)</span>",
            "<b class=\"speaker\">Agent</b>",
            "href=\"https://media.example/v.mp4?a=1&amp;b=&quot;2&quot;\"",
        ],
    );
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("href=\"javascript"), "{page}");

    let page = get(
        &crm,
        &format!(
            "/__review/activities/{}",
            unreadable["id"].as_str().expect("id")
        ),
    )
    .await;
    assert!(!page.contains("<section id=\"conversation\">"), "{page}");
    assert!(
        page.contains("Texted the customer about &lt;their&gt; order"),
        "shown as today: {page}"
    );
}
