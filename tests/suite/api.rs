//! The HTTP API over real HTTP: every route, every error code, auth and
//! organisation scoping (SPEC §3). Each test has its own server and store.

use crate::support::{answer, error_code, TestCrm};
use reqwest::Method;
use serde_json::{json, Value};

fn call_activity(session: &str) -> Value {
    json!({
        "subject": "Inbound Call from Jane Contact",
        "body": "- Duration: 2 minutes, 5 seconds\n",
        "type": "PhoneCommunication",
        "received_at": "2024-01-15T15:30:00.000Z",
        "contact_id": "contact-1",
        "session_id": session,
        "direction": "Inbound",
        "duration": 125,
    })
}

#[tokio::test]
async fn health_needs_no_key() {
    let crm = TestCrm::start().await;
    let (status, body) = answer(crm.anonymous(Method::GET, "/health")).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    crm.shutdown().await;
}

#[tokio::test]
async fn me_answers_for_bearer_and_basic_keys() {
    let crm = TestCrm::start().await;
    let expected = json!({
        "id": "crm-user-1",
            "number": 1,
        "name": "Test User",
        "email": "test@acme.example",
        "organisation": "Acme",
        "timezone_offset": "-05:00",
    });
    let (status, body) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!((status, &body), (200, &expected));
    let basic = crm
        .anonymous(Method::GET, "/me")
        .header("authorization", "Basic bW9ja2NybS1kZXYta2V5Og==");
    let (status, body) = answer(basic).await;
    assert_eq!((status, &body), (200, &expected));
    crm.shutdown().await;
}

#[tokio::test]
async fn contacts_are_created_found_by_digits_and_fetched() {
    let crm = TestCrm::start().await;
    let (status, created) = answer(crm.dev(Method::POST, "/contact").json(&json!({
        "name": "Ana-Maria Popescu",
        "phone_number": "+1 (415) 555-0123",
        "email": "ana@example.com",
        "type": "Lead",
    })))
    .await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["name"], "Ana-Maria Popescu");
    assert_eq!(created["type"], "Lead");

    for phone in [
        "%2B14155550123",
        "415-555-0123",
        "(415)%20555%200123",
        "14155550123",
    ] {
        let (status, found) =
            answer(crm.dev(Method::GET, &format!("/contact?phone={phone}"))).await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = found["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids, vec![id.as_str()], "phone {phone}");
    }
    let (status, none) = answer(crm.dev(Method::GET, "/contact?phone=%2B15550000000")).await;
    assert_eq!(
        (status, none),
        (200, json!({"items": [], "next_cursor": null}))
    );

    let (status, fetched) = answer(crm.dev(Method::GET, &format!("/contact/{id}"))).await;
    assert_eq!((status, &fetched), (200, &created));
    crm.shutdown().await;
}

#[tokio::test]
async fn contact_errors_name_the_field() {
    let crm = TestCrm::start().await;
    let cases = [
        (json!({"phone_number": "+14155550123"}), "name"),
        (json!({"name": "A"}), "phone_number"),
        (
            json!({"name": "A", "phone_number": "no digits"}),
            "phone_number",
        ),
        (json!({"name": 7, "phone_number": "+1"}), "name"),
        (
            json!({"name": "A", "phone_number": "+1", "fax": "x"}),
            "fax",
        ),
    ];
    for (body, field) in cases {
        let (status, answer_body) = answer(crm.dev(Method::POST, "/contact").json(&body)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_code(&answer_body), "invalid_field");
        let message = answer_body["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with(field),
            "{message:?} should name {field}"
        );
    }
    for path in ["/contact?name=", "/contact?phone=x", "/contact?limit=201"] {
        let (status, body) = answer(crm.dev(Method::GET, path)).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{path}"
        );
    }
    let (status, body) = answer(crm.dev(Method::GET, "/contact/nobody")).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    crm.shutdown().await;
}

#[tokio::test]
async fn activity_lifecycle_create_get_patch_delete() {
    let crm = TestCrm::start().await;
    let mut request = call_activity("4503991004");
    request["deal_id"] = json!("deal-7");
    request["tags"] = json!(["vip", {"nested": true}]);
    let created = crm.create_activity(request).await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("act_"));
    assert_eq!(created["subject"], "Inbound Call from Jane Contact");
    assert_eq!(created["body_format"], "text/plain");
    assert_eq!(created["duration"], 125);
    assert_eq!(created["deal_id"], "deal-7", "extra fields are kept");
    assert_eq!(created["tags"], json!(["vip", {"nested": true}]));
    assert_eq!(created["created_at"], created["updated_at"]);

    let (status, fetched) = answer(crm.dev(Method::GET, &format!("/activity/{id}"))).await;
    assert_eq!((status, &fetched), (200, &created));

    let (status, patched) = answer(
        crm.dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"body": "new body", "duration": "pending", "deal_id": null, "stage": 2})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["body"], "new body");
    assert_eq!(patched["duration"], "pending");
    assert_eq!(
        patched["subject"], created["subject"],
        "untouched fields stay"
    );
    assert_eq!(patched["created_at"], created["created_at"]);
    assert!(
        patched.get("deal_id").is_none(),
        "null removes an extra field"
    );
    assert_eq!(patched["stage"], 2);
    assert!(
        patched["updated_at"].as_str() > created["updated_at"].as_str(),
        "updated_at moves"
    );
    let (_, refetched) = answer(crm.dev(Method::GET, &format!("/activity/{id}"))).await;
    assert_eq!(refetched, patched, "the patch is stored");

    let (status, body) = answer(crm.dev(Method::DELETE, &format!("/activity/{id}"))).await;
    assert_eq!((status, body), (204, Value::Null));
    for method in [Method::GET, Method::DELETE, Method::PATCH] {
        let request = crm
            .dev(method.clone(), &format!("/activity/{id}"))
            .json(&json!({"body": "x"}));
        let (status, body) = answer(request).await;
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{method}");
    }
    crm.shutdown().await;
}

#[tokio::test]
async fn activity_validation_names_the_field() {
    let crm = TestCrm::start().await;
    let base = call_activity("s");
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        if value.is_null() {
            body.as_object_mut().expect("object").remove(field);
        } else {
            body[field] = value;
        }
        body
    };
    let cases = [
        (with("subject", Value::Null), "subject"),
        (with("subject", json!("  ")), "subject"),
        (with("type", Value::Null), "type"),
        (with("type", json!(3)), "type"),
        (with("received_at", json!("yesterday")), "received_at"),
        (with("duration", json!(-1)), "duration"),
        (with("duration", json!(1.5)), "duration"),
        (with("duration", json!({"s": 1})), "duration"),
        (with("body", json!(["x"])), "body"),
        (with("body_format", json!("text/rtf")), "body_format"),
        (with("contact_id", json!("contact-999")), "contact_id"),
        (with("session_id", json!(42)), "session_id"),
        (with("id", json!("act_mine")), "id"),
        (
            with("created_at", json!("2024-01-01T00:00:00Z")),
            "created_at",
        ),
    ];
    for (body, field) in cases {
        let (status, answer_body) = answer(crm.dev(Method::POST, "/activity").json(&body)).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(error_code(&answer_body), "invalid_field", "{body}");
        let message = answer_body["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with(field),
            "{message:?} should name {field}"
        );
    }
    let created = crm.create_activity(base).await;
    let id = created["id"].as_str().expect("id");
    for (body, field) in [
        (json!({"subject": null}), "subject"),
        (json!({"received_at": "soon"}), "received_at"),
        (json!({"contact_id": "contact-999"}), "contact_id"),
        (json!({"updated_at": "2024-01-01T00:00:00Z"}), "updated_at"),
    ] {
        let (status, answer_body) = answer(
            crm.dev(Method::PATCH, &format!("/activity/{id}"))
                .json(&body),
        )
        .await;
        assert_eq!(
            (status, error_code(&answer_body)),
            (400, "invalid_field"),
            "{body}"
        );
        let message = answer_body["error"]["message"].as_str().expect("message");
        assert!(
            message.starts_with(field),
            "{message:?} should name {field}"
        );
    }
    let (_, unchanged) = answer(crm.dev(Method::GET, &format!("/activity/{id}"))).await;
    assert_eq!(unchanged, created, "refused patches change nothing");
    let (list_status, list) = answer(crm.dev(Method::GET, "/activity")).await;
    assert_eq!(list_status, 200);
    assert_eq!(
        list["items"].as_array().map(Vec::len),
        Some(1),
        "nothing else was written"
    );
    crm.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_get_json_errors() {
    let crm = TestCrm::start().await;
    let raw = |body: &'static str| {
        crm.dev(Method::POST, "/activity")
            .header("content-type", "application/json")
            .body(body)
    };
    for body in ["", "{", "[1,2]", "\"text\"", "{\"subject\": }", "nul"] {
        let (status, answer_body) = answer(raw(body)).await;
        assert_eq!(
            (status, error_code(&answer_body)),
            (400, "invalid_json"),
            "{body:?}"
        );
    }
    let (status, body) = answer(
        crm.dev(Method::POST, "/activity")
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!((status, error_code(&body)), (415, "unsupported_media_type"));
    let huge = format!(
        "{{\"subject\": \"{}\"}}",
        "x".repeat(crate::support::BODY_LIMIT)
    );
    let (status, body) = answer(
        crm.dev(Method::POST, "/activity")
            .header("content-type", "application/json")
            .body(huge),
    )
    .await;
    assert_eq!((status, error_code(&body)), (413, "payload_too_large"));
    crm.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let crm = TestCrm::start().await;
    // `/` is the review page (review_page.rs).
    for path in ["/nope", "/activity/a/b", "/contacts", "/activity/"] {
        let (status, body) = answer(crm.dev(Method::GET, path)).await;
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{path}");
    }
    let response = crm
        .dev(Method::PUT, "/activity")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET, POST")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(error_code(&body), "method_not_allowed");
    let (status, body) = answer(crm.anonymous(Method::POST, "/health")).await;
    assert_eq!((status, error_code(&body)), (405, "method_not_allowed"));
    crm.shutdown().await;
}

#[tokio::test]
async fn listing_filters_and_pages_newest_first() {
    let crm = TestCrm::start().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut body = call_activity(if n % 2 == 0 { "even" } else { "odd" });
        if n == 4 {
            body["contact_id"] = json!("contact-2");
        }
        ids.push(
            crm.create_activity(body).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let ids_of = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let (_, all) = answer(crm.dev(Method::GET, "/activity")).await;
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(ids_of(&all), newest_first);
    assert_eq!(all["next_cursor"], Value::Null);

    let (_, even) = answer(crm.dev(Method::GET, "/activity?session_id=even")).await;
    assert_eq!(
        ids_of(&even),
        vec![ids[4].clone(), ids[2].clone(), ids[0].clone()]
    );
    let (_, contact) = answer(crm.dev(Method::GET, "/activity?contact_id=contact-2")).await;
    assert_eq!(ids_of(&contact), vec![ids[4].clone()]);

    let mut walked = Vec::new();
    let mut path = "/activity?limit=2".to_owned();
    loop {
        let (status, page) = answer(crm.dev(Method::GET, &path)).await;
        assert_eq!(status, 200);
        assert!(page["items"].as_array().expect("items").len() <= 2);
        walked.extend(ids_of(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/activity?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, newest_first);

    for query in ["limit=0", "limit=201", "limit=ten", "cursor=bogus"] {
        let (status, body) = answer(crm.dev(Method::GET, &format!("/activity?{query}"))).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{query}"
        );
    }
    crm.shutdown().await;
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_a_different_body() {
    let crm = TestCrm::start().await;
    let post = |body: &Value| {
        crm.dev(Method::POST, "/activity")
            .header("idempotency-key", "call-4503991004")
            .json(body)
    };
    let body = call_activity("4503991004");
    let first = post(&body).send().await.expect("sent");
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.expect("json");

    // Same JSON with other key order and spacing is the same request.
    let reordered: Value =
        serde_json::from_str(&serde_json::to_string_pretty(&body).expect("json")).expect("json");
    let again = post(&reordered).send().await.expect("sent");
    assert_eq!(again.status(), 201);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(again.json::<Value>().await.expect("json"), first);

    let mut changed = body.clone();
    changed["duration"] = json!(126);
    let (status, answer_body) = answer(post(&changed)).await;
    assert_eq!(
        (status, error_code(&answer_body)),
        (422, "idempotency_mismatch")
    );

    let (_, listed) = answer(crm.dev(Method::GET, "/activity?session_id=4503991004")).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));

    let (status, answer_body) = answer(
        crm.dev(Method::POST, "/activity")
            .header("idempotency-key", "")
            .json(&body),
    )
    .await;
    assert_eq!((status, error_code(&answer_body)), (400, "invalid_field"));
    crm.shutdown().await;
}
