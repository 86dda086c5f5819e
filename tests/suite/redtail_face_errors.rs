//! The Redtail face's refusals, in Redtail's shape (`{"errors": […]}`):
//! 401 for missing, unknown or another partner's credentials, 404 for a
//! record the caller's database lacks and (with `x-mockcrm-hint`) for a
//! route the face does not serve (405 with `Allow` for a served path with
//! another method), 422 naming a missing or wrong field, 400
//! for a body that is not JSON; and the harness around it (faults, the
//! journal, tenants, checks) as for every other face.

use reqwest::Method;
use serde_json::{json, Value};

use crate::redtail_face::{Redtail, ADMIN};
use crate::support::{answer, snapshot_settings};
use mockcrm::ServerConfig;

/// The error body's messages, asserting its shape.
fn errors(body: &Value) -> String {
    let messages = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list in {body}"));
    assert!(!messages.is_empty(), "{body}");
    assert!(
        body.get("error").is_none(),
        "not mockcrm's own shape: {body}"
    );
    messages
        .iter()
        .map(|m| m.as_str().expect("a message").to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

fn call_log(contact: Value) -> Value {
    json!({
        "subject": "Outbound Call to Jane Contact",
        "description": "<li><b>Session Id</b>: 77</li>",
        "start_date": "2026-07-14T03:00:00Z",
        "end_date": "2026-07-14T03:00:30Z",
        "activity_code_id": 3,
        "category_id": 2,
        "linked_contacts": [{"contact_id": contact}],
    })
}

#[tokio::test]
async fn bad_credentials_are_redtails_401() {
    let rt = Redtail::start().await;
    let wrong_password = format!(
        "Basic {}",
        base64_of(&format!("{}:{}:nope", rt.api_key, rt.username))
    );
    let wrong_user = format!(
        "Basic {}",
        base64_of(&format!("{}:someone-else:{}", rt.api_key, rt.password))
    );
    let other_partner = base64_of(&format!("another-partner:{}", rt.ready_user_key));
    let cases: Vec<(&str, Option<String>)> = vec![
        ("none", None),
        ("a wrong password", Some(wrong_password)),
        ("the password of another username", Some(wrong_user)),
        (
            "an unknown user key",
            Some(base64_of(&format!("{}:nope", rt.api_key))),
        ),
        ("another partner's key", Some(other_partner)),
        ("not base64", Some("%%%".into())),
        (
            "a Bearer token",
            Some(format!("Bearer {}", rt.ready_user_key)),
        ),
    ];
    for path in [
        "/authentication",
        "/contacts/search_basic?name=Jane",
        "/activities/1",
    ] {
        for (what, header) in &cases {
            let mut request = rt.bare(Method::GET, path);
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            let (status, body) = answer(request).await;
            assert_eq!(status, 401, "{what} on {path}: {body}");
            assert!(errors(&body).contains("Unauthorized"), "{body}");
        }
    }
    // The password signs in on any route, as Redtail's Basic does.
    let (status, _) = answer(
        rt.bare(Method::GET, "/lists/database_users")
            .header("authorization", rt.login_header()),
    )
    .await;
    assert_eq!(status, 200);
    rt.crm.shutdown().await;
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn missing_records_and_unserved_routes_are_redtails_404() {
    let rt = Redtail::start().await;
    for (method, path) in [
        (Method::GET, "/activities/999999"),
        (Method::GET, "/activities/abc"),
        (Method::GET, "/activities/0"),
        (Method::PUT, "/activities/999999"),
        (Method::PATCH, "/activities/999999"),
        (Method::POST, "/activities/999999/notes"),
        (Method::GET, "/activities/999999/notes"),
        (Method::GET, "/contacts/999999"),
        (Method::GET, "/contacts/jane"),
    ] {
        let (status, body) = answer(
            rt.call(method.clone(), path)
                .json(&json!({"completed": true, "body": "x"})),
        )
        .await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert!(errors(&body).contains("not found"), "{body}");
    }
    let mut hints = Vec::new();
    for (method, path, status, allow) in [
        (Method::GET, "/calendar/activities/1", 404, None),
        (Method::GET, "/contacts", 405, Some("POST")),
        (
            Method::DELETE,
            "/activities/1",
            405,
            Some("GET, PUT, PATCH"),
        ),
    ] {
        let response = rt.call(method.clone(), path).send().await.expect("sent");
        assert_eq!(response.status(), status, "{method} {path}");
        assert_eq!(
            response
                .headers()
                .get("allow")
                .and_then(|v| v.to_str().ok()),
            allow,
            "{method} {path}"
        );
        let hint = response
            .headers()
            .get("x-mockcrm-hint")
            .and_then(|v| v.to_str().ok())
            .expect("a hint")
            .to_owned();
        let body: Value = response.json().await.expect("json");
        errors(&body);
        hints.push(hint);
    }
    // Outside the API's path too, and without credentials.
    let response = rt
        .crm
        .anonymous(Method::GET, "/redtail/v2/contacts")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    assert!(response.headers().contains_key("x-mockcrm-hint"));
    assert!(hints.iter().all(|hint| hint == &hints[0]));
    for route in [
        "GET /api/public/v1/authentication",
        "GET /api/public/v1/contacts/search_basic",
        "POST /api/public/v1/activities",
        "PATCH /api/public/v1/activities/{id}",
    ] {
        assert!(hints[0].contains(route), "{route} in {}", hints[0]);
    }
    rt.crm.shutdown().await;
}

#[tokio::test]
async fn missing_and_wrong_fields_are_refused_by_name() {
    let rt = Redtail::start().await;
    let (_, created) = answer(
        rt.call(Method::POST, "/activities")
            .json(&call_log(json!(1))),
    )
    .await;
    let id = created["activity"]["id"].as_i64().expect("created");
    let without = |field: &str| {
        let mut body = call_log(json!(1));
        body.as_object_mut().expect("object").remove(field);
        body
    };
    let cases = [
        (
            Method::POST,
            "/activities".to_owned(),
            without("subject"),
            "subject",
        ),
        (
            Method::POST,
            "/activities".to_owned(),
            without("start_date"),
            "start_date",
        ),
        (
            Method::POST,
            "/activities".to_owned(),
            call_log(json!(999999)),
            "linked_contacts",
        ),
        (
            Method::POST,
            "/activities".to_owned(),
            call_log(json!("jane")),
            "linked_contacts",
        ),
        (
            Method::POST,
            "/activities".to_owned(),
            json!({"subject": "x", "start_date": "soon"}),
            "start_date",
        ),
        (
            Method::PUT,
            format!("/activities/{id}"),
            json!({"category_id": 9}),
            "category_id",
        ),
        (
            Method::PUT,
            format!("/activities/{id}"),
            json!({"completed": "yes"}),
            "completed",
        ),
        (
            Method::PATCH,
            format!("/activities/{id}"),
            json!({"description": 5}),
            "description",
        ),
        (
            Method::POST,
            format!("/activities/{id}/notes"),
            json!({"note_type": 1}),
            "body",
        ),
        (
            Method::POST,
            "/contacts".to_owned(),
            json!({"phones": [{"number": "4155550100"}]}),
            "last_name",
        ),
        (
            Method::POST,
            "/contacts".to_owned(),
            json!({"last_name": "X", "phones": [{"number": "none"}]}),
            "phones",
        ),
        (
            Method::POST,
            "/contacts".to_owned(),
            json!({"last_name": "X", "type": "Crm::Contact::Business"}),
            "type",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, answered) = answer(rt.call(method.clone(), &path).json(&body)).await;
        assert_eq!(status, 422, "{method} {path} {body}: {answered}");
        assert!(errors(&answered).starts_with(field), "{field}: {answered}");
    }
    let (status, body) =
        answer(rt.call(Method::GET, "/contacts/search_basic?phone_number=none")).await;
    assert_eq!(status, 422, "{body}");
    assert!(errors(&body).starts_with("phone_number"), "{body}");
    // No criterion at all lists the newest contacts.
    let (status, body) = answer(rt.call(Method::GET, "/contacts/search_basic")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["contacts"].as_array().map(Vec::len),
        Some(4),
        "the seed's: {body}"
    );
    let (status, body) = answer(
        rt.call(Method::POST, "/activities")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    errors(&body);
    let (status, body) = answer(
        rt.call(Method::POST, "/contacts")
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(status, 415, "{body}");
    errors(&body);
    // Nothing refused was written.
    let (_, native) = answer(rt.native(Method::GET, "/activity")).await;
    assert_eq!(native["items"].as_array().map(Vec::len), Some(1));
    let (_, notes) = answer(rt.call(Method::GET, &format!("/activities/{id}/notes"))).await;
    assert_eq!(notes, json!({"notes": []}));

    let mut seen = Vec::new();
    for (method, path) in [
        (Method::GET, "/activities/999999"),
        (Method::POST, "/activities"),
    ] {
        let (status, body) = answer(rt.call(method, path).json(&json!({"subject": "x"}))).await;
        seen.push(json!({"status": status, "body": body}));
    }
    let (status, body) = answer(rt.bare(Method::GET, "/activities/1")).await;
    seen.push(json!({"status": status, "body": body}));
    snapshot_settings().bind(|| insta::assert_json_snapshot!("redtail_errors", seen));
    rt.crm.shutdown().await;
}

#[tokio::test]
async fn faults_the_journal_tenants_and_checks_apply_to_the_face() {
    let rt = Redtail::with_config(ServerConfig::ephemeral()).await;
    let admin =
        |method: Method, path: &str| rt.crm.as_key(ADMIN, method, &format!("/__admin{path}"));
    let (status, _) = answer(admin(Method::POST, "/faults").json(&json!({
        "method": "POST", "path": "/redtail/api/public/v1/activities", "status": 503, "times": 1,
    })))
    .await;
    assert_eq!(status, 201);
    let (status, _) = answer(
        rt.call(Method::POST, "/activities")
            .json(&call_log(json!(1))),
    )
    .await;
    assert_eq!(status, 503, "the fault fires on the face's route");
    let (status, first) = answer(
        rt.call(Method::POST, "/activities")
            .json(&call_log(json!(1))),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let (_, journal) = answer(admin(
        Method::GET,
        "/requests?path=/redtail/api/public/v1/activities",
    ))
    .await;
    let statuses: Vec<&Value> = journal["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|entry| &entry["status"])
        .collect();
    assert_eq!(statuses.len(), 2, "{journal}");
    assert!(statuses.contains(&&json!(503)) && statuses.contains(&&json!(201)));

    // The same session logged twice, and a write of nothing Redtail keeps.
    let (_, second) = answer(
        rt.call(Method::POST, "/activities")
            .json(&call_log(json!(1))),
    )
    .await;
    let id = second["activity"]["id"].as_i64().expect("id");
    let (status, _) = answer(
        rt.call(Method::PUT, &format!("/activities/{id}"))
            .json(&json!({"colour": "red"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, checks) = answer(admin(Method::GET, "/checks")).await;
    let kinds: Vec<&str> = checks["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .filter_map(|v| v["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"duplicate_session"), "{checks}");
    assert!(kinds.contains(&"unknown_fields"), "{checks}");

    // A tenant signs in with its own user and sees its own records alone.
    let (status, tenant) =
        answer(admin(Method::POST, "/tenants").json(&json!({"name": "job-a"}))).await;
    assert_eq!(status, 201, "{tenant}");
    let org = tenant["id"].as_str().expect("id").to_owned();
    let acme_key = rt.ready_user_key.clone();
    let acme_header = rt.user_header(&acme_key);
    let job = Redtail::of(rt.crm, Some(&org)).await;
    assert_ne!(job.ready_user_key, acme_key);
    let (status, signed_in) = job.sign_in().await;
    assert_eq!(status, 200, "{signed_in}");
    let (status, created) = answer(job.call(Method::POST, "/contacts").json(&json!({
        "first_name": "Only", "last_name": "Tenant", "phones": [{"number": "2125550100", "country_code": 1}],
    })))
    .await;
    assert_eq!(status, 201);
    let contact = created["contact"]["id"].clone();
    let (status, logged) = answer(
        job.call(Method::POST, "/activities")
            .json(&call_log(contact.clone())),
    )
    .await;
    assert_eq!(status, 201, "{logged}");
    let tenant_activity = logged["activity"]["id"].as_i64().expect("id");
    // Acme's user finds neither.
    let as_acme = |method: Method, path: &str| {
        job.bare(method, path)
            .header("authorization", acme_header.clone())
    };
    let (status, _) = answer(as_acme(
        Method::GET,
        &format!("/activities/{tenant_activity}"),
    ))
    .await;
    assert_eq!(status, 404);
    let (_, found) = answer(as_acme(
        Method::GET,
        "/contacts/search_basic?phone_number=2125550100",
    ))
    .await;
    assert_eq!(found["contacts"], json!([]));
    // Acme's contact cannot be linked from the tenant.
    let (status, _) = answer(
        job.call(Method::POST, "/activities")
            .json(&call_log(json!(1))),
    )
    .await;
    assert_eq!(status, 422);
    let (_, scoped) = answer(job.crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities?org={org}"),
    ))
    .await;
    assert_eq!(
        scoped["items"].as_array().map(Vec::len),
        Some(1),
        "{scoped}"
    );
    job.crm.shutdown().await;
}
