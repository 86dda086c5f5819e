//! The review page's HTML, without a browser: what each page holds, the
//! security headers, bodies sanitised, revisions compared, the journal
//! feed, faults added and removed only by the page itself, checks linked
//! to activities, and that none of it is journaled. `review_browser.rs`
//! looks at the same pages in Chromium.

use crate::support::{answer, error_code, TestCrm};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ADMIN: &str = "mockcrm-admin";

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn get(crm: &TestCrm, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = client().get(crm.url(path)).send().await.expect("sent");
    let (status, headers) = (response.status(), response.headers().clone());
    (status, headers, response.text().await.expect("text"))
}

/// The token the page's forms carry.
fn token(html: &str) -> String {
    let marker = "name=\"token\" value=\"";
    let start = html.find(marker).expect("a form with a token") + marker.len();
    html[start..].split('"').next().expect("token").to_owned()
}

fn activity(session: &str, format: &str, body: &str) -> Value {
    json!({
        "subject": format!("Call {session}"),
        "type": "PhoneCommunication",
        "session_id": session,
        "contact_id": "contact-1",
        "body_format": format,
        "body": body,
        "duration": 5,
    })
}

#[tokio::test]
async fn bodies_are_shown_as_their_crm_shows_them_and_nothing_is_journaled() {
    let crm = TestCrm::start().await;
    let html_body = "<b>Agent notes</b><br>Wants a quote<script>alert('html')</script>\
                     <img src=x onerror=\"alert('img')\"><li><b>Duration</b>: 5 seconds</li>";
    let created = crm
        .create_activity(activity("h", "text/html", html_body))
        .await;
    let markdown = crm
        .create_activity(activity(
            "m",
            "text/markdown",
            "## Call details\n**Duration**: 5 seconds\n**Result**: Missed\n",
        ))
        .await;
    crm.create_activity(activity(
        "p",
        "text/plain",
        "- Note: <b>as typed</b>\n- Duration: 5 seconds\n",
    ))
    .await;

    let (status, headers, list) = get(&crm, "/").await;
    assert_eq!(status, 200);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("content-type").starts_with("text/html"));
    let csp = header("content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(header("x-frame-options"), "DENY");
    for subject in ["Call h", "Call m", "Call p"] {
        assert!(list.contains(subject), "{subject} not listed");
    }
    let newest_first = list.find("Call p").expect("p") < list.find("Call h").expect("h");
    assert!(newest_first, "newest first");

    let id = created["id"].as_str().expect("id");
    let (status, _, page) = get(&crm, &format!("/__review/activities/{id}")).await;
    assert_eq!(status, 200);
    let rendered = section(&page, "<div class=\"crm-body html\">", "</div>");
    assert!(
        rendered.contains("<b>Agent notes</b><br>Wants a quote"),
        "{rendered}"
    );
    assert!(
        rendered.contains("<li><b>Duration</b>: 5 seconds</li>"),
        "{rendered}"
    );
    assert!(
        !rendered.contains("script") && !rendered.contains("onerror"),
        "{rendered}"
    );
    assert!(
        !page.contains("<script>alert"),
        "no live script anywhere on the page"
    );
    assert!(
        page.contains("&lt;script&gt;alert('html')&lt;/script&gt;"),
        "the raw view shows it, escaped"
    );

    let id = markdown["id"].as_str().expect("id");
    let (_, _, page) = get(&crm, &format!("/__review/activities/{id}")).await;
    let rendered = section(&page, "<div class=\"crm-body markdown\">", "</div>");
    assert!(rendered.contains("<h2>Call details</h2>"), "{rendered}");
    assert!(
        rendered.contains("<strong>Duration</strong>: 5 seconds<br>"),
        "{rendered}"
    );

    let (_, _, page) = get(&crm, "/?q=as+typed").await;
    assert!(
        page.contains("Call p") && !page.contains("Call h"),
        "text filter"
    );
    let (_, _, page) = get(&crm, "/?session_id=m").await;
    assert!(
        page.contains("Call m") && !page.contains("Call p"),
        "session filter"
    );
    let (_, _, page) = get(&crm, "/?session_id=none").await;
    assert!(page.contains("No activity matches these filters."));

    let (_, journal) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/requests")).await;
    let paths: Vec<&str> = journal["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["path"].as_str().expect("path"))
        .collect();
    assert_eq!(paths, ["/activity"; 3], "only the creates are journaled");
    crm.shutdown().await;
}

/// The text between `start` (included) and the first `end` after it.
fn section<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {page}"));
    let to = page[from..].find(end).map_or(page.len(), |at| from + at);
    &page[from..to]
}

#[tokio::test]
async fn revisions_are_listed_with_their_requests_and_compared_line_by_line() {
    let crm = TestCrm::start().await;
    let created = crm
        .create_activity(activity(
            "r",
            "text/plain",
            "- Duration: 5 seconds\n- Call recording link: (pending...)\n",
        ))
        .await;
    let id = created["id"].as_str().expect("id");
    let (status, _) = answer(crm.dev(Method::PATCH, &format!("/activity/{id}")).json(&json!({
        "body": "- Duration: 2 minutes\n- Call recording link: https://media.example/rec/1\n",
        "duration": 120
    })))
    .await;
    assert_eq!(status, 200);
    let (status, _, page) = get(&crm, &format!("/__review/activities/{id}")).await;
    assert_eq!(status, 200);
    for expected in [
        "href=\"/__review/requests/1\"",
        "href=\"/__review/requests/2\"",
        "body, duration",
        "Revision #1 → #2",
        "<tr class=\"del\">",
        "<tr class=\"ins\">",
        "https://media.example/rec/1",
        // Which face wrote it, at the top and for each revision.
        "written through <span class=\"face\">native</span>",
        "<th>Through</th>",
    ] {
        assert!(page.contains(expected), "{expected} not on the page");
    }
    let fields = section(&page, "<table class=\"fields-diff\">", "</table>");
    assert!(
        fields.contains(">duration<") && fields.contains(">5<") && fields.contains(">120<"),
        "{fields}"
    );

    let (status, _, page) = get(&crm, &format!("/__review/activities/{id}?from=2&to=1")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Revision #2 → #1"));
    let (status, _, body) = get(&crm, &format!("/__review/activities/{id}?to=9")).await;
    let body: Value = serde_json::from_str(&body).expect("json error");
    assert_eq!((status.as_u16(), error_code(&body)), (400, "invalid_field"));
    let (status, _, body) = get(&crm, "/__review/activities/act_missing").await;
    let body: Value = serde_json::from_str(&body).expect("json error");
    assert_eq!((status.as_u16(), error_code(&body)), (404, "not_found"));
    crm.shutdown().await;
}

#[tokio::test]
async fn the_journal_feed_gives_what_was_recorded_since_the_page_was_drawn() {
    let crm = TestCrm::start().await;
    let (_, _, page) = get(&crm, "/__review/requests").await;
    assert!(page.contains("data-after=\"0\""), "{page}");
    assert!(page.contains("No requests yet."));
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 200);
    let (status, headers, fragment) = get(&crm, "/__review/requests/feed?after=0").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("x-journal-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert!(
        fragment.contains("data-id=\"1\"") && fragment.contains("/me"),
        "{fragment}"
    );
    assert!(!fragment.contains("<html"), "a fragment, not a page");
    let (_, headers, fragment) = get(&crm, "/__review/requests/feed?after=1").await;
    assert_eq!(fragment, "");
    assert_eq!(
        headers.get("x-journal-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let (_, _, one) = get(&crm, "/__review/requests/1").await;
    assert!(
        one.contains("Request #1") && one.contains("crm-user-1"),
        "bodies shown"
    );
    let (status, _, _) = get(&crm, "/__review/requests/feed?after=x").await;
    assert_eq!(status, 400);
    crm.shutdown().await;
}

#[tokio::test]
async fn faults_are_added_and_removed_only_by_the_page_itself() {
    let crm = TestCrm::start().await;
    let (_, _, page) = get(&crm, "/__review/faults").await;
    let token = token(&page);
    let origin = crm.server.url();
    let post = |path: &str, form: Vec<(&str, &str)>, origin: &str, site: &str| {
        client()
            .post(crm.url(path))
            .header("origin", origin)
            .header("sec-fetch-site", site)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish(),
            )
            .send()
    };
    let add = vec![
        ("token", token.as_str()),
        ("method", "POST"),
        ("path", "/activity"),
        ("status", "503"),
        ("times", "2"),
    ];
    let response = post("/__review/faults", add.clone(), &origin, "same-origin")
        .await
        .expect("sent");
    assert_eq!(response.status(), 303);
    let (_, faults) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/faults")).await;
    let fault = &faults["items"][0];
    assert_eq!(
        (
            fault["path"].as_str(),
            fault["status"].as_u64(),
            fault["times"].as_u64()
        ),
        (Some("/activity"), Some(503), Some(2))
    );
    let id = fault["id"].as_str().expect("id").to_owned();

    let response = post(
        "/__review/faults",
        add.clone(),
        "http://evil.example",
        "cross-site",
    )
    .await
    .expect("sent");
    assert_eq!(response.status(), 403);
    let mut stale = add.clone();
    stale[0] = ("token", "guessed");
    let response = post("/__review/faults", stale, &origin, "same-origin")
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);
    let bad = vec![
        ("token", token.as_str()),
        ("path", "activity"),
        ("status", "503"),
    ];
    let response = post("/__review/faults", bad, &origin, "same-origin")
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    let page = response.text().await.expect("page");
    assert!(
        page.contains("path: must start with /"),
        "the form says what is wrong"
    );
    let (_, faults) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/faults")).await;
    assert_eq!(
        faults["items"].as_array().map(Vec::len),
        Some(1),
        "nothing else added"
    );

    let (_, _, page) = get(&crm, "/__review/faults").await;
    assert!(page.contains(&id) && page.contains("answers 503"));
    let remove = format!("/__review/faults/{id}/remove");
    let response = post(
        &remove,
        vec![("token", token.as_str())],
        &origin,
        "same-origin",
    )
    .await
    .expect("sent");
    assert_eq!(response.status(), 303);
    let (_, faults) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/faults")).await;
    assert_eq!(faults["items"], json!([]));
    crm.shutdown().await;
}

#[tokio::test]
async fn checks_link_each_violation_to_its_activities() {
    let crm = TestCrm::start().await;
    let (_, _, page) = get(&crm, "/__review/checks").await;
    assert!(page.contains("No violations"));
    let first = crm
        .create_activity(activity("dup", "text/plain", "a"))
        .await;
    let second = crm.create_activity(activity("dup", "text/plain", "")).await;
    let (_, _, page) = get(&crm, "/__review/checks").await;
    for id in [&first["id"], &second["id"]] {
        let id = id.as_str().expect("id");
        assert!(
            page.contains(&format!("href=\"/__review/activities/{id}\"")),
            "{id} linked"
        );
    }
    assert!(page.contains("Duplicate session") && page.contains("Empty body"));
    crm.shutdown().await;
}

#[tokio::test]
async fn another_sites_host_name_and_unknown_pages_are_refused() {
    let crm = TestCrm::start().await;
    let response = client()
        .get(crm.url("/"))
        .header("host", "rebound.example")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "forbidden");
    for (method, path, status) in [
        (Method::GET, "/__review/nope", 404),
        (Method::DELETE, "/", 405),
        (Method::GET, "/__review/assets/nope.js", 404),
    ] {
        let (got, body) = answer(client().request(method.clone(), crm.url(path))).await;
        assert_eq!(got, status, "{method} {path}");
        error_code(&body);
    }
    let (status, headers, css) = get(&crm, "/__review/assets/review.css").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/css")));
    assert!(css.contains("crm-body"));
    crm.shutdown().await;
}
