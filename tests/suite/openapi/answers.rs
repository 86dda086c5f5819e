//! The answers every operation shares, as documented: overloaded and
//! rate-limited answers, keys, wrong methods, field validation, violations.

use super::*;

/// 503 overloaded, as every operation documents it: the store's queue is
/// held full (a queue of one, behind a held store thread), so each request
/// that needs the store is turned away at once.
#[tokio::test]
async fn overloaded_answers_are_documented() {
    use Method as M;
    let mut c = Checker::start(ServerConfig {
        store_queue: 1,
        ..ServerConfig::ephemeral()
    })
    .await;
    // The dev key is resolved once, so later requests need no store trip
    // to authenticate and reach their handler's.
    let (status, _) = c.call(M::GET, "/me", "/me", dev(), &[], Body::None).await;
    assert_eq!(status, 200);
    let hold = c.crm.server.hold_store_for_test().await.expect("hold");
    // Two requests at once: one takes the only place in the queue and
    // waits there, the other is turned away. Which is which is up to the
    // scheduler; that one of each happens is not.
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..2 {
        let request = c.crm.dev(M::GET, "/activity/act_waiting");
        let answers = answers.clone();
        tokio::spawn(async move {
            let status = request.send().await.map(|r| r.status().as_u16()).ok();
            let _ = answers.send(status);
        });
    }
    let first = answered.recv().await.expect("an answer");
    assert_eq!(first, Some(503), "the second request is turned away");
    // The queue stays full until the hold goes: every request that needs
    // the store is turned away now.
    let (status, body) = c
        .call(
            M::GET,
            "/activity/{id}",
            "/activity/act_probe",
            dev(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("overloaded"))
    );
    for (method, template, path, auth) in [
        (M::GET, "/activity", "/activity?session_id=s", dev()),
        (M::GET, "/__admin/checks", "/__admin/checks", admin()),
        (M::GET, "/__admin/tenants", "/__admin/tenants", admin()),
    ] {
        let (status, body) = c.call(method, template, path, auth, &[], Body::None).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(body["error"]["code"], "overloaded");
    }
    drop(hold);
    let waited = answered.recv().await.expect("an answer");
    assert_eq!(
        waited,
        Some(404),
        "the queued request was served, not dropped"
    );
    c.crm.shutdown().await;
}

#[tokio::test]
async fn rate_limited_answers_are_documented() {
    // A manual clock never refills the bucket by itself.
    let (clock, _time) = mockcrm::Clock::manual();
    let mut c = Checker::start(ServerConfig {
        rate_limit: Some(1),
        clock,
        ..ServerConfig::ephemeral()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(
            c.call(Method::GET, "/me", "/me", dev(), &[], Body::None)
                .await
                .0,
        );
    }
    assert_eq!(statuses, [200, 429]);
    c.crm.shutdown().await;
}

/// Every operation the document says needs credentials refuses a request
/// without them, with a key no one has, and with a Basic header that is
/// not base64; every open one answers without any. The operations come
/// from the document, so a route added there is covered here.
#[tokio::test]
async fn secured_operations_refuse_bad_keys_and_open_ones_need_none() {
    let mut c = Checker::start(ServerConfig::ephemeral()).await;
    let doc = c.doc.clone();
    for (method, template, operation) in operations(&doc) {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let path = template.replace("{id}", "x");
        let open = operation["security"] == json!([]);
        let credentials: &[Option<&str>] = if open {
            &[None]
        } else {
            &[None, Some("Bearer wrong-key"), Some("Basic %%%")]
        };
        for authorization in credentials {
            let (status, _) = c
                .call(
                    method.clone(),
                    &template,
                    &path,
                    *authorization,
                    &[],
                    Body::None,
                )
                .await;
            let expected = if open { 200 } else { 401 };
            assert_eq!(
                status, expected,
                "{method} {template} with {authorization:?}"
            );
        }
    }
    c.crm.shutdown().await;
}

#[tokio::test]
async fn other_methods_get_405_with_the_documented_methods_in_allow() {
    let crm = TestCrm::start().await;
    let doc = document();
    let mut by_path: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, path, _) in operations(&doc) {
        by_path.entry(path).or_default().insert(method);
    }
    for (template, methods) in &by_path {
        let path = template.replace("{id}", "x");
        let authorization = if template.starts_with("/__admin/") {
            "Bearer mockcrm-admin"
        } else {
            "Bearer mockcrm-dev-key"
        };
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            if methods.contains(method) {
                continue;
            }
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let response = crm
                .anonymous(method.clone(), &path)
                .header("authorization", authorization)
                .send()
                .await
                .expect("sent");
            assert_eq!(response.status(), 405, "{method} {path}");
            let allow: BTreeSet<String> = response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .split(',')
                .map(|m| m.trim().to_owned())
                .collect();
            assert_eq!(&allow, methods, "Allow of {method} {path}");
            let body: Value = response.json().await.expect("json");
            assert_valid(
                &doc,
                &doc["components"]["responses"]["MethodNotAllowed"]["content"]["application/json"]
                    ["schema"],
                &body,
                &format!("{method} {path}"),
            );
        }
    }
    crm.shutdown().await;
}

/// Where the document's schemas and the server's validation could drift
/// apart silently (text that looks blank, times chrono reads loosely), the
/// server accepts a value exactly when the document says it is valid.
#[tokio::test]
async fn field_validation_agrees_with_the_document() {
    let crm = TestCrm::start().await;
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    let timestamps = [
        "2024-01-15T15:30:00Z",
        "2024-01-15t15:30:00.123456789012z",
        "2016-12-31T23:59:60Z",
        "2016-12-31T18:59:60-05:00",
        "2016-12-31T23:59:60+01:00",
        "2024-01-15 15:30:00Z",
        "2024-01-15T12:30:60Z",
        "2024-01-15T15:30:00+0000",
        "2024-02-30T00:00:00Z",
        "2024-01-15T15:30Z",
    ];
    let texts = [
        "a", " a ", "", " ", "\t\n", "\u{1c}", "\u{85}", "\u{a0}", "\u{3000}", "\u{200b}",
    ];
    let mut cases = Vec::new();
    for time in timestamps {
        let body = json!({"subject": "s", "type": "t", "received_at": time});
        cases.push((&schemas["Timestamp"], json!(time), "/activity", body));
    }
    for text in texts {
        let body = json!({"subject": text, "type": "t"});
        cases.push((&schemas["NonBlankString"], json!(text), "/activity", body));
        let body = json!({"name": text, "phone_number": "+14155550100"});
        cases.push((&schemas["NonBlankString"], json!(text), "/contact", body));
    }
    for (schema, value, path, body) in cases {
        let valid = validator(&doc, schema).is_valid(&value);
        let (status, _) = crate::support::answer(crm.dev(Method::POST, path).json(&body)).await;
        let expected = if valid { 201 } else { 400 };
        assert_eq!(
            status, expected,
            "{path} with {value}: document says valid={valid}"
        );
    }
    let key_schema = &doc["components"]["parameters"]["IdempotencyKey"]["schema"];
    let long = "k".repeat(255);
    let too_long = "k".repeat(256);
    for key in ["k", "call 42", "a\tb", long.as_str(), too_long.as_str()] {
        let valid = validator(&doc, key_schema).is_valid(&json!(key));
        let request = crm
            .dev(Method::POST, "/activity")
            .header("idempotency-key", key)
            .json(&json!({"subject": "s", "type": "t"}));
        let (status, _) = crate::support::answer(request).await;
        let expected = if valid { 201 } else { 400 };
        assert_eq!(
            status, expected,
            "Idempotency-Key {key:?}: document says valid={valid}"
        );
    }
    crm.shutdown().await;
}

/// Every kind of violation a native client can cause answers as the
/// document says, the organisation's id included.
#[tokio::test]
async fn violations_answer_as_documented() {
    use Method as M;
    let mut c = Checker::start(ServerConfig::ephemeral()).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, created) = c
            .call(
                M::POST,
                "/activity",
                "/activity",
                dev(),
                &[],
                Body::Json(call_activity("twice")),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let path = format!("/activity/{}", ids[0]);
    let (status, _) = c
        .call(
            M::PATCH,
            "/activity/{id}",
            &path,
            dev(),
            &[],
            Body::Json(json!({"colour": "red"})),
        )
        .await;
    assert_eq!(status, 200);
    let t = "/__admin/checks";
    let (status, checks) = c.call(M::GET, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 200);
    let kinds: BTreeSet<&str> = checks["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["duplicate_session", "unknown_fields"])
    );
    c.crm.shutdown().await;
}
