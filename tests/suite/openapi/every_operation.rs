//! A representative call of every operation, its success and each error
//! it documents, answered as the document says.

use super::*;

#[tokio::test]
async fn every_operation_answers_as_documented() {
    use Method as M;
    let mut c = Checker::start(ServerConfig::ephemeral()).await;
    let none = None;

    c.call(M::GET, "/health", "/health", none, &[], Body::None)
        .await;
    c.call(
        M::GET,
        "/openapi.json",
        "/openapi.json",
        none,
        &[],
        Body::None,
    )
    .await;

    let (status, _) = c.call(M::GET, "/me", "/me", dev(), &[], Body::None).await;
    assert_eq!(status, 200);
    let basic = basic_header_for_key(DEV_KEY);
    let (status, _) = c
        .call(M::GET, "/me", "/me", Some(&basic), &[], Body::None)
        .await;
    assert_eq!(status, 200);
    let (status, _) = c.call(M::GET, "/me", "/me", none, &[], Body::None).await;
    assert_eq!(status, 401);
    let (status, users) = c
        .call(M::GET, "/users", "/users", dev(), &[], Body::None)
        .await;
    assert_eq!(
        (status, users["items"][0]["id"].as_str()),
        (200, Some("crm-user-1"))
    );
    let (status, _) = c
        .call(M::GET, "/users", "/users", none, &[], Body::None)
        .await;
    assert_eq!(status, 401);

    // Contacts.
    let t = "/contact";
    let new_contact = json!({"name": "Ana", "phone_number": "+1 (415) 555-0123", "type": "Lead"});
    let (status, contact) = c
        .call(M::POST, t, t, dev(), &[], Body::Json(new_contact))
        .await;
    assert_eq!(status, 201);
    let contact_id = contact["id"].as_str().expect("id").to_owned();
    for (body, expected) in [
        (Body::Json(json!({"name": "No number"})), 400),
        (Body::Raw("application/json", b"{".to_vec()), 400),
        (too_large(), 413),
        (plain_text(), 415),
    ] {
        let (status, _) = c.call(M::POST, t, t, dev(), &[], body).await;
        assert_eq!(status, expected);
    }
    let (status, _) = c
        .call(M::POST, t, t, none, &[], Body::Json(json!({})))
        .await;
    assert_eq!(status, 401);
    let (status, found) = c
        .call(
            M::GET,
            t,
            "/contact?phone=4155550123",
            dev(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(
        (status, found["items"][0]["id"].as_str()),
        (200, Some(contact_id.as_str()))
    );
    for (path, auth, expected) in [
        ("/contact", dev(), 200),
        ("/contact?name=ana&limit=1", dev(), 200),
        ("/contact?name=%20", dev(), 400),
        ("/contact?limit=0", dev(), 400),
        ("/contact?cursor=nope", dev(), 400),
        ("/contact?phone=none", dev(), 400),
        ("/contact?phone=1", none, 401),
    ] {
        let (status, _) = c.call(M::GET, t, path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    let t = "/contact/{id}";
    for (path, auth, expected) in [
        (format!("/contact/{contact_id}"), dev(), 200),
        ("/contact/contact-1".into(), dev(), 200),
        ("/contact/con_missing".into(), dev(), 404),
        ("/contact/contact-1".into(), none, 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    // Activities.
    let t = "/activity";
    let (status, first) = c
        .call(M::POST, t, t, dev(), &[], Body::Json(call_activity("s1")))
        .await;
    assert_eq!(status, 201);
    let activity_id = first["id"].as_str().expect("id").to_owned();
    let minimal = json!({"subject": "Call", "type": "PhoneCommunication", "body": null, "duration": "pending"});
    let (status, _) = c.call(M::POST, t, t, dev(), &[], Body::Json(minimal)).await;
    assert_eq!(status, 201);
    let key = [("idempotency-key", "call-s2")];
    for _ in 0..2 {
        let (status, _) = c
            .call(M::POST, t, t, dev(), &key, Body::Json(call_activity("s2")))
            .await;
        assert_eq!(status, 201);
    }
    let (status, _) = c
        .call(
            M::POST,
            t,
            t,
            dev(),
            &key,
            Body::Json(call_activity("other")),
        )
        .await;
    assert_eq!(status, 422);
    for (body, expected) in [
        (Body::Json(json!({"subject": "no type"})), 400),
        (
            Body::Json(json!({"subject": "s", "type": "t", "contact_id": "nope"})),
            400,
        ),
        (Body::Raw("application/json", b"[]".to_vec()), 400),
        (too_large(), 413),
        (plain_text(), 415),
    ] {
        let (status, _) = c.call(M::POST, t, t, dev(), &[], body).await;
        assert_eq!(status, expected);
    }
    let (status, _) = c
        .call(M::POST, t, t, none, &[], Body::Json(call_activity("x")))
        .await;
    assert_eq!(status, 401);
    let (status, page) = c
        .call(M::GET, t, "/activity?limit=1", dev(), &[], Body::None)
        .await;
    assert_eq!(status, 200);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("another page")
        .to_owned();
    for (path, auth, expected) in [
        (format!("/activity?cursor={cursor}&limit=200"), dev(), 200),
        (
            "/activity?session_id=s1&contact_id=contact-1".into(),
            dev(),
            200,
        ),
        ("/activity?limit=0".into(), dev(), 400),
        ("/activity?cursor=garbage".into(), dev(), 400),
        ("/activity".into(), none, 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    let t = "/activity/{id}";
    let path = format!("/activity/{activity_id}");
    for (auth, expected) in [(dev(), 200), (none, 401)] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }
    let (status, _) = c
        .call(M::GET, t, "/activity/act_missing", dev(), &[], Body::None)
        .await;
    assert_eq!(status, 404);
    let patch = json!({"body": "- Duration: 3 minutes\n", "duration": 180, "deal_id": null, "direction": null});
    for (path, auth, body, expected) in [
        (path.as_str(), dev(), Body::Json(patch.clone()), 200),
        (
            path.as_str(),
            dev(),
            Body::Json(json!({"subject": null})),
            400,
        ),
        (path.as_str(), dev(), too_large(), 413),
        (path.as_str(), dev(), plain_text(), 415),
        (
            "/activity/act_missing",
            dev(),
            Body::Json(patch.clone()),
            404,
        ),
        (path.as_str(), none, Body::Json(patch.clone()), 401),
    ] {
        let (status, _) = c.call(M::PATCH, t, path, auth, &[], body).await;
        assert_eq!(status, expected, "PATCH {path}");
    }

    // Violations of both kinds, so that GET /__admin/checks shows both.
    for session in ["dup", "dup"] {
        c.call(
            M::POST,
            "/activity",
            "/activity",
            dev(),
            &[],
            Body::Json(call_activity(session)),
        )
        .await;
    }
    let mut blank = call_activity("blank");
    blank["body"] = json!("");
    c.call(
        M::POST,
        "/activity",
        "/activity",
        dev(),
        &[],
        Body::Json(blank),
    )
    .await;

    for (auth, expected) in [(none, 401), (dev(), 204), (dev(), 404)] {
        let (status, _) = c.call(M::DELETE, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }

    // Admin: faults first, so the journal has entries with fault ids.
    let t = "/__admin/faults";
    let (status, fault) = c
        .call(
            M::POST,
            t,
            t,
            admin(),
            &[],
            Body::Json(json!({"method": "GET", "path": "/health", "status": 503, "retry_after": 1, "times": 1})),
        )
        .await;
    assert_eq!(status, 201);
    // Injected answers are outside the document on purpose (see its info);
    // this one only gives the journal an entry with a fault id.
    let (status, _) = crate::support::answer(c.crm.anonymous(M::GET, "/health")).await;
    assert_eq!(status, 503, "the fault fired");
    let (status, slow) = c
        .call(
            M::POST,
            t,
            t,
            admin(),
            &[],
            Body::Json(json!({"path": "/nowhere/*", "delay_ms": 1, "probability": 0.5})),
        )
        .await;
    assert_eq!(status, 201);
    for (auth, body, expected) in [
        (admin(), Body::Json(json!({"path": "/a"})), 400),
        (
            admin(),
            Body::Json(json!({"path": "/a", "status": 503, "colour": "red"})),
            400,
        ),
        (admin(), too_large(), 413),
        (admin(), plain_text(), 415),
        (dev(), Body::Json(fault.clone()), 401),
    ] {
        let (status, _) = c.call(M::POST, t, t, auth, &[], body).await;
        assert_eq!(status, expected);
    }
    for (auth, expected) in [(admin(), 200), (none, 401)] {
        let (status, _) = c.call(M::GET, t, t, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }
    let one = format!("/__admin/faults/{}", slow["id"].as_str().expect("id"));
    for (auth, expected) in [(dev(), 401), (admin(), 204), (admin(), 404)] {
        let (status, _) = c
            .call(
                M::DELETE,
                "/__admin/faults/{id}",
                &one,
                auth,
                &[],
                Body::None,
            )
            .await;
        assert_eq!(status, expected);
    }
    for (auth, expected) in [(admin(), 204), (none, 401)] {
        let (status, _) = c.call(M::DELETE, t, t, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }

    let t = "/__admin/requests";
    let (status, journal) = c
        .call(
            M::GET,
            t,
            "/__admin/requests?limit=1000",
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(journal["items"]
        .as_array()
        .is_some_and(|items| items.len() > 20));
    for (path, auth, expected) in [
        (
            "/__admin/requests?method=post&path=/activity&limit=2",
            admin(),
            200,
        ),
        ("/__admin/requests?limit=0", admin(), 400),
        ("/__admin/requests", dev(), 401),
    ] {
        let (status, _) = c.call(M::GET, t, path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    for (auth, expected) in [(admin(), 204), (none, 401)] {
        let (status, _) = c.call(M::DELETE, t, t, auth, &[], Body::None).await;
        assert_eq!(status, expected);
    }

    let t = "/__admin/checks";
    let (status, checks) = c.call(M::GET, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 200);
    let kinds: BTreeSet<&str> = checks["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    assert_eq!(kinds, BTreeSet::from(["duplicate_session", "empty_body"]));
    let (status, _) = c.call(M::GET, t, t, none, &[], Body::None).await;
    assert_eq!(status, 401);

    let t = "/__admin/activities";
    let (status, listed) = c
        .call(
            M::GET,
            t,
            "/__admin/activities?limit=2",
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 200);
    let cursor = listed["next_cursor"].as_str().expect("more").to_owned();
    let org = listed["items"][0]["organisation"]["id"]
        .as_str()
        .expect("org")
        .to_owned();
    let listed_id = listed["items"][0]["activity"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (path, auth, expected) in [
        (
            format!("/__admin/activities?org={org}&cursor={cursor}"),
            admin(),
            200,
        ),
        (
            "/__admin/activities?session_id=s1&contact_id=contact-1&q=duration".into(),
            admin(),
            200,
        ),
        ("/__admin/activities?org=".into(), admin(), 400),
        ("/__admin/activities?limit=201".into(), admin(), 400),
        ("/__admin/activities?org=999".into(), admin(), 404),
        ("/__admin/activities".into(), dev(), 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    let t = "/__admin/activities/{id}/revisions";
    for (path, auth, expected) in [
        (
            format!("/__admin/activities/{listed_id}/revisions?org={org}"),
            admin(),
            200,
        ),
        (
            format!("/__admin/activities/{listed_id}/revisions?org="),
            admin(),
            400,
        ),
        (
            "/__admin/activities/act_missing/revisions".into(),
            admin(),
            404,
        ),
        (
            format!("/__admin/activities/{listed_id}/revisions"),
            none,
            401,
        ),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    // Tenants, and ?org= on every admin route that takes it.
    let t = "/__admin/tenants";
    let (status, tenant) = c
        .call(
            M::POST,
            t,
            t,
            admin(),
            &[],
            Body::Json(json!({"name": "ci-job-1"})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = c.call(M::POST, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 201, "no body: every default");
    for (auth, body, expected) in [
        (admin(), Body::Json(json!({"name": "ci-job-1"})), 409),
        (admin(), Body::Json(json!({"name": " "})), 400),
        (admin(), Body::Json(json!({"colour": "red"})), 400),
        (admin(), too_large(), 413),
        (admin(), plain_text(), 415),
        (dev(), Body::Json(json!({})), 401),
    ] {
        let (status, _) = c.call(M::POST, t, t, auth, &[], body).await;
        assert_eq!(status, expected);
    }
    let org = tenant["id"].as_str().expect("id").to_owned();
    let (status, listed) = c.call(M::GET, t, t, admin(), &[], Body::None).await;
    assert_eq!(status, 200);
    let acme = listed["items"][0]["id"].as_str().expect("acme").to_owned();
    let scoped = |path: &str, org: &str| format!("{path}?org={org}");
    for (path, auth, expected) in [
        (scoped(t, &org), admin(), 200),
        (scoped(t, ""), admin(), 400),
        (scoped(t, "org_gone"), admin(), 404),
        (t.to_owned(), dev(), 401),
    ] {
        let (status, _) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }
    // How to reach the CRM faces (none is served here: an empty list), for
    // the seed's organisation or a tenant.
    let t = "/__admin/crms";
    for (path, auth, expected) in [
        (t.to_owned(), admin(), 200),
        (scoped(t, &org), admin(), 200),
        (scoped(t, ""), admin(), 400),
        (scoped(t, "org_gone"), admin(), 404),
        (t.to_owned(), dev(), 401),
    ] {
        let (status, body) = c.call(M::GET, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}: {body}");
        if status == 200 {
            assert_eq!(body, json!({"crms": [], "tls": null, "proxy": null}));
        }
    }
    // Expiring a tenant's tokens (no CRM face is served here: none).
    let t = "/__admin/tokens/expire";
    for (path, auth, expected) in [
        (scoped(t, &org), admin(), 200),
        (t.to_owned(), admin(), 400),
        (scoped(t, ""), admin(), 400),
        (scoped(t, "org_gone"), admin(), 404),
        (scoped(t, &org), dev(), 401),
    ] {
        let (status, body) = c.call(M::POST, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}: {body}");
        if status == 200 {
            assert_eq!(body, json!({"expired": 0}));
        }
    }
    let scoped_routes: [(Method, &str, Option<Value>); 8] = [
        (M::GET, "/__admin/requests", None),
        (M::DELETE, "/__admin/requests", None),
        (M::GET, "/__admin/faults", None),
        (
            M::POST,
            "/__admin/faults",
            Some(json!({"path": "/activity", "kind": "reset", "times": 1})),
        ),
        (M::DELETE, "/__admin/faults", None),
        (M::DELETE, "/__admin/faults/{id}", None),
        (M::GET, "/__admin/checks", None),
        (M::POST, "/__admin/reset", None),
    ];
    for (method, template, body) in scoped_routes {
        let path = template.replace("{id}", "flt_none");
        for (query_org, expected) in [("org_gone", 404), ("", 400)] {
            let body = body.clone().map_or(Body::None, Body::Json);
            let (status, _) = c
                .call(
                    method.clone(),
                    template,
                    &scoped(&path, query_org),
                    admin(),
                    &[],
                    body,
                )
                .await;
            let expected = match (template, query_org) {
                // The empty org names no organisation for the body either.
                ("/__admin/faults", "") if method == M::POST => 400,
                _ => expected,
            };
            assert_eq!(status, expected, "{method} {path} org={query_org:?}");
        }
    }
    let (status, fault) = c
        .call(
            M::POST,
            "/__admin/faults",
            &scoped("/__admin/faults", &org),
            admin(),
            &[],
            Body::Json(json!({"path": "/activity", "kind": "truncated", "times": 1})),
        )
        .await;
    assert_eq!((status, &fault["org"]), (201, &json!(org)));
    let one = format!("/__admin/faults/{}", fault["id"].as_str().expect("id"));
    let (status, _) = c
        .call(
            M::DELETE,
            "/__admin/faults/{id}",
            &scoped(&one, &org),
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, scoped_checks) = c
        .call(
            M::GET,
            "/__admin/checks",
            &scoped("/__admin/checks", &org),
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!((status, &scoped_checks["violations"]), (200, &json!([])));
    let (status, _) = c
        .call(
            M::POST,
            "/__admin/reset",
            &scoped("/__admin/reset", &org),
            admin(),
            &[],
            Body::None,
        )
        .await;
    assert_eq!(status, 204);
    let t = "/__admin/tenants/{id}";
    for (id, auth, expected) in [
        (org.as_str(), dev(), 401),
        (acme.as_str(), admin(), 409),
        (org.as_str(), admin(), 204),
        (org.as_str(), admin(), 404),
    ] {
        let path = format!("/__admin/tenants/{id}");
        let (status, _) = c.call(M::DELETE, t, &path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    let t = "/__admin/reset";
    for (path, auth, expected) in [
        ("/__admin/reset?empty=maybe", admin(), 400),
        ("/__admin/reset", dev(), 401),
        ("/__admin/reset?empty=false", admin(), 204),
        ("/__admin/reset?empty=true", admin(), 204),
    ] {
        let (status, _) = c.call(M::POST, t, path, auth, &[], Body::None).await;
        assert_eq!(status, expected, "{path}");
    }

    // 429 only happens with --rate-limit, 503 only at a limit (see
    // overloaded_answers_are_documented), and 500 never should.
    c.assert_all_seen(&["429", "500", "503"]);
    c.crm.shutdown().await;
}
