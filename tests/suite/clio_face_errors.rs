//! The Clio face's OAuth (code and refresh grants, expiry, deauthorize,
//! each refusal in Clio's shape), its answers to bad input (401, 404, 422
//! on a missing or invalid field, 400 on what cannot be read, an unknown
//! route with the served ones in `x-mockcrm-hint`), its `x-ratelimit-*`
//! headers, the harness's faults in front of it, contact paging, and its
//! part of the OpenAPI document.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::clio_face::{call_log, form, send, Clio, ADMIN};
use mockcrm::ServerConfig;

const CLIENT_ID: &str = "mockcrm-clio-client";
const CLIENT_SECRET: &str = "mockcrm-clio-client-secret";

async fn token_request(clio: &Clio, pairs: &[(&str, &str)]) -> (u16, Value) {
    let connection = clio.connection(None).await;
    send(form(
        clio.plain.post(
            connection["credentials"]["tokenUrl"]
                .as_str()
                .expect("token URL"),
        ),
        pairs,
    ))
    .await
}

/// A bad request: method, path, body, and the status, error type and a
/// word of the message Clio answers it with.
type Case = (
    Method,
    &'static str,
    Option<Value>,
    u16,
    &'static str,
    &'static str,
);

fn refused_as_clio(body: &Value, kind: &str, needle: &str) {
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|e| e.contains(needle)),
        "{needle:?} not in {body}"
    );
}

#[tokio::test]
async fn an_expired_token_is_clios_401_and_a_refresh_replaces_the_pair() {
    // Tokens that expire the moment they are issued: the expiry is judged
    // by the store's time, no waiting involved.
    let clio = Clio::with_config(ServerConfig {
        token_ttl: Duration::ZERO,
        ..ServerConfig::ephemeral()
    })
    .await;
    let tokens = clio.sign_in(None).await;
    let access = tokens["access_token"].as_str().expect("access");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, body) = clio
        .call(access, Method::GET, "/api/v4/users/who_am_i.json", None)
        .await;
    assert_eq!(status, 401, "{body}");
    refused_as_clio(&body, "Unauthorized", "expired");

    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    let (status, renewed) = token_request(&clio, &pairs).await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["access_token"], tokens["access_token"]);
    assert_ne!(renewed["refresh_token"], tokens["refresh_token"]);
    // A refresh token is used once.
    let (status, body) = token_request(&clio, &pairs).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_grant")),
        "{body}"
    );
    clio.shutdown().await;
}

#[tokio::test]
async fn tokens_work_until_deauthorized_and_bad_grants_are_refused() {
    let clio = Clio::start().await;
    // A code is used once.
    let connection = clio.connection(None).await;
    let code = connection["credentials"]["code"].as_str().expect("code");
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    let (status, tokens) = token_request(&clio, &pairs).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let (status, _) = clio
        .call(&access, Method::GET, "/api/v4/users/who_am_i.json", None)
        .await;
    assert_eq!(status, 200);
    let (status, body) = token_request(&clio, &pairs).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_grant")),
        "{body}"
    );
    // Not App Connect's client.
    let (status, body) = token_request(
        &clio,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("invalid_client")),
        "{body}"
    );
    let (status, body) = token_request(
        &clio,
        &[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ],
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("unsupported_grant_type")),
        "{body}"
    );

    // App Connect's sign-out: the token is refused from then on.
    let base = clio.base().await;
    let (status, _) = send(form(
        clio.https
            .post(format!("{base}/oauth/deauthorize"))
            .bearer_auth(&access),
        &[("token", &access)],
    ))
    .await;
    assert_eq!(status, 200);
    let (status, body) = clio
        .call(&access, Method::GET, "/api/v4/users/who_am_i.json", None)
        .await;
    assert_eq!(status, 401, "{body}");
    refused_as_clio(&body, "Unauthorized", "invalid");
    let (status, body) = send(form(
        clio.https.post(format!("{base}/oauth/deauthorize")),
        &[],
    ))
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_request")),
        "{body}"
    );
    clio.shutdown().await;
}

#[tokio::test]
async fn the_ready_token_of_mockcrm_crms_signs_in_and_none_does_not() {
    let clio = Clio::start().await;
    let connection = clio.connection(None).await;
    let ready = connection["user"]["accessToken"].as_str().expect("token");
    assert_eq!(connection["credentials"]["accessToken"], ready);
    let (status, me) = clio
        .call(
            ready,
            Method::GET,
            "/api/v4/users/who_am_i.json?fields=id",
            None,
        )
        .await;
    assert_eq!((status, &me["data"]["id"]), (200, &json!(1)), "{me}");
    let base = clio.base().await;
    let (status, body) = send(clio.https.get(format!("{base}/api/v4/contacts.json"))).await;
    assert_eq!(status, 401, "{body}");
    refused_as_clio(&body, "Unauthorized", "Bearer");
    clio.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_clios_400_404_and_422() {
    let clio = Clio::start().await;
    let token = clio.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let t = token.as_str();
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/api/v4/contacts/999.json",
            None,
            404,
            "RecordNotFound",
            "Contact 999",
        ),
        (
            Method::GET,
            "/api/v4/contacts/abc.json",
            None,
            400,
            "BadRequest",
            "positive integer",
        ),
        (
            Method::GET,
            "/api/v4/communications/999.json",
            None,
            404,
            "RecordNotFound",
            "Communication 999",
        ),
        (
            Method::PATCH,
            "/api/v4/communications/999.json",
            Some(json!({"data": {"body": "x"}})),
            404,
            "RecordNotFound",
            "Communication 999",
        ),
        (
            Method::PATCH,
            "/api/v4/activities/999.json",
            Some(json!({"data": {"quantity": 1}})),
            404,
            "RecordNotFound",
            "Activity 999",
        ),
        (
            Method::GET,
            "/api/v4/matters.json?client_id=999",
            None,
            404,
            "RecordNotFound",
            "Contact 999",
        ),
        (
            Method::GET,
            "/api/v4/contacts.json?fields=nope",
            None,
            400,
            "BadRequest",
            "nope",
        ),
        (
            Method::GET,
            "/api/v4/contacts.json?fields=a{b",
            None,
            400,
            "BadRequest",
            "cannot be read",
        ),
        (
            Method::GET,
            "/api/v4/contacts.json?limit=0",
            None,
            400,
            "BadRequest",
            "limit",
        ),
        (
            Method::GET,
            "/api/v4/contacts.json?fields=",
            None,
            400,
            "BadRequest",
            "cannot be read",
        ),
        (
            Method::GET,
            "/api/v4/contacts.json?query=a&query=b",
            None,
            400,
            "BadRequest",
            "more than once",
        ),
        (
            Method::POST,
            "/api/v4/contacts.json",
            Some(json!({"data": {"type": "Person"}})),
            422,
            "ValidationError",
            "Name can't be blank",
        ),
        (
            Method::POST,
            "/api/v4/contacts.json",
            Some(json!({"data": {"name": "X", "type": "Robot"}})),
            422,
            "ValidationError",
            "Person or Company",
        ),
        (
            Method::POST,
            "/api/v4/contacts.json",
            Some(json!({"name": "X"})),
            400,
            "BadRequest",
            "data",
        ),
        (
            Method::POST,
            "/api/v4/communications.json",
            Some(json!({"data": {"type": "PhoneCommunication"}})),
            422,
            "ValidationError",
            "Subject can't be blank",
        ),
        (
            Method::POST,
            "/api/v4/communications.json",
            Some(json!({"data": {"subject": "s"}})),
            422,
            "ValidationError",
            "Type can't be blank",
        ),
        (
            Method::POST,
            "/api/v4/communications.json",
            Some(call_log(json!(999))),
            404,
            "RecordNotFound",
            "Contact 999",
        ),
        (
            Method::POST,
            "/api/v4/communications.json",
            Some(
                json!({"data": {"subject": "s", "type": "PhoneCommunication", "senders": [{"id": 77, "type": "User"}]}}),
            ),
            404,
            "RecordNotFound",
            "User 77",
        ),
        (
            Method::POST,
            "/api/v4/communications.json",
            Some(
                json!({"data": {"subject": "s", "type": "PhoneCommunication", "matter": {"id": 5}}}),
            ),
            422,
            "ValidationError",
            "Matter 5",
        ),
        (
            Method::POST,
            "/api/v4/activities.json",
            Some(json!({"data": {"type": "TimeEntry", "quantity": 5}})),
            422,
            "ValidationError",
            "communication",
        ),
        (
            Method::POST,
            "/api/v4/activities.json",
            Some(json!({"data": {"type": "ExpenseEntry"}})),
            422,
            "ValidationError",
            "TimeEntry",
        ),
        (
            Method::POST,
            "/api/v4/activities.json",
            Some(json!({"data": {"type": "TimeEntry", "communication": {"id": 999}}})),
            404,
            "RecordNotFound",
            "Communication 999",
        ),
    ];
    for (method, path, body, status, kind, needle) in cases {
        let (got, answer) = clio.call(t, method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        refused_as_clio(&answer, kind, needle);
    }
    // Not JSON at all.
    let base = clio.base().await;
    let (status, body) = send(
        clio.https
            .post(format!("{base}/api/v4/communications.json"))
            .bearer_auth(t)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "BadRequest");
    // A second time entry on one communication is refused.
    let (_, logged) = clio
        .call(
            t,
            Method::POST,
            "/api/v4/communications.json",
            Some(call_log(json!(1))),
        )
        .await;
    let entry = json!({"data": {"type": "TimeEntry", "communication": {"id": logged["data"]["id"]}, "quantity": 5}});
    let (status, _) = clio
        .call(
            t,
            Method::POST,
            "/api/v4/activities.json",
            Some(entry.clone()),
        )
        .await;
    assert_eq!(status, 201);
    let (status, body) = clio
        .call(t, Method::POST, "/api/v4/activities.json", Some(entry))
        .await;
    assert_eq!(status, 409, "{body}");
    // An unknown route: Clio's 404 and the served routes.
    let response = clio
        .https
        .get(format!("{base}/api/v4/tasks.json"))
        .bearer_auth(t)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 404);
    let hint = response
        .headers()
        .get("x-mockcrm-hint")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(hint.contains("POST /api/v4/communications.json"), "{hint}");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["type"], "RecordNotFound");
    let (status, _) = clio
        .call(t, Method::DELETE, "/api/v4/communications/1.json", None)
        .await;
    assert_eq!(status, 405);
    clio.shutdown().await;
}

#[tokio::test]
async fn contacts_page_with_an_absolute_next_url() {
    let clio = Clio::start().await;
    let token = clio.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, first) = clio
        .call(
            &token,
            Method::GET,
            "/api/v4/contacts.json?fields=id&limit=2",
            None,
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["meta"]["records"], 2);
    let next = first["meta"]["paging"]["next"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert!(next.starts_with("https://127.0.0.1:"), "{next}");
    assert!(next.contains("/clio/api/v4/contacts.json?"), "{next}");
    let mut seen: Vec<Value> = first["data"].as_array().expect("data").clone();
    let mut url = Some(next);
    while let Some(page) = url {
        let (status, body) = send(clio.https.get(&page).bearer_auth(&token)).await;
        assert_eq!(status, 200, "{body}");
        seen.extend(body["data"].as_array().expect("data").iter().cloned());
        url = body["meta"]["paging"]["next"].as_str().map(str::to_owned);
    }
    let (_, native) = clio.native("/contact?limit=100").await;
    assert_eq!(
        seen.len(),
        native["items"].as_array().map_or(0, Vec::len),
        "every contact once: {seen:?}"
    );
    clio.shutdown().await;
}

#[tokio::test]
async fn rate_limit_headers_count_down_and_faults_front_the_face() {
    let clio = Clio::with_config(ServerConfig {
        rate_limit: Some(1000),
        ..ServerConfig::ephemeral()
    })
    .await;
    let token = clio.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let base = clio.base().await;
    let get = || {
        clio.https
            .get(format!("{base}/api/v4/users/who_am_i.json"))
            .bearer_auth(&token)
            .send()
    };
    let first = get().await.expect("sent");
    assert_eq!(
        first
            .headers()
            .get("x-ratelimit-limit")
            .map(|v| v.as_bytes()),
        Some(b"1000".as_slice())
    );
    let remaining = |response: &reqwest::Response| -> u32 {
        response
            .headers()
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("x-ratelimit-remaining")
    };
    let second = get().await.expect("sent");
    assert!(remaining(&second) < 1000 && remaining(&first) <= 999);

    let (status, fault) = send(
        clio.plain
            .post(format!("{}/__admin/faults", clio.server.url()))
            .bearer_auth(ADMIN)
            .json(&json!({"method": "POST", "path": "/clio/api/v4/communications.json", "status": 503, "times": 1})),
    )
    .await;
    assert_eq!(status, 201, "{fault}");
    let (status, refused) = clio
        .call(
            &token,
            Method::POST,
            "/api/v4/communications.json",
            Some(call_log(json!(1))),
        )
        .await;
    assert_eq!(status, 503);
    // The fault answers as Clio would, not in mockcrm's own shape.
    assert!(refused["error"]["type"].is_string(), "{refused}");
    assert!(refused["error"].get("code").is_none(), "{refused}");
    let (status, _) = clio
        .call(
            &token,
            Method::POST,
            "/api/v4/communications.json",
            Some(call_log(json!(1))),
        )
        .await;
    assert_eq!(status, 201, "the fault fired once");
    clio.shutdown().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_face_and_its_answers_fit() {
    let clio = Clio::start().await;
    let (status, doc) = send(
        clio.plain
            .get(format!("{}/openapi.json", clio.server.url())),
    )
    .await;
    assert_eq!(status, 200);
    for (path, method) in [
        ("/clio/oauth/token", "post"),
        ("/clio/api/v4/users/who_am_i.json", "get"),
        ("/clio/api/v4/contacts.json", "get"),
        ("/clio/api/v4/communications/{id}.json", "patch"),
        ("/clio/api/v4/activities", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(
        doc["paths"]["/activity"].is_object(),
        "the native API stays"
    );
    let mut unresolved = Vec::new();
    crate::openapi::walk(&doc, "", &mut |pointer, value| {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            if doc.pointer(reference.trim_start_matches('#')).is_none() {
                unresolved.push(format!("{pointer}: {reference}"));
            }
        }
    });
    assert_eq!(unresolved, Vec::<String>::new());

    let token = clio.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let all = "fields=id,etag,subject,body,type,date,received_at,created_at,updated_at,senders,receivers,matter,time_entries_count";
    let (_, logged) = clio
        .call(
            &token,
            Method::POST,
            "/api/v4/communications.json",
            Some(call_log(json!(1))),
        )
        .await;
    let id = logged["data"]["id"].as_i64().expect("id");
    let entry = json!({"data": {"type": "TimeEntry", "communication": {"id": id}, "quantity": 5}});
    let checks: Vec<(&str, Method, String, Option<Value>)> = vec![
        ("clioUserAnswer", Method::GET, "/api/v4/users/who_am_i.json?fields=id,name,time_zone".into(), None),
        ("clioUserList", Method::GET, "/api/v4/users.json?fields=id,name,email".into(), None),
        ("clioContactList", Method::GET, "/api/v4/contacts.json?query=Jane&fields=id,name,type,primary_phone_number,phone_numbers".into(), None),
        ("clioContactAnswer", Method::GET, "/api/v4/contacts/1.json?fields=id,name,first_name,last_name,email_addresses".into(), None),
        ("clioContactAnswer", Method::POST, "/api/v4/contacts.json".into(), Some(json!({"data": {"name": "Z Z"}}))),
        ("clioEmptyList", Method::GET, "/api/v4/matters.json?client_id=1".into(), None),
        ("clioCommunicationAnswer", Method::GET, format!("/api/v4/communications/{id}.json?{all}"), None),
        ("clioCommunicationAnswer", Method::PATCH, format!("/api/v4/communications/{id}.json?{all}"), Some(json!({"data": {"subject": "s"}}))),
        ("clioTimeEntryAnswer", Method::POST, "/api/v4/activities.json?fields=id,type,date,quantity,note,non_billable,communication".into(), Some(entry)),
        ("clioTimeEntryList", Method::GET, format!("/api/v4/activities?communication_id={id}&fields=id,quantity,communication"), None),
        ("clioError", Method::GET, "/api/v4/communications/999999.json".into(), None),
    ];
    for (name, method, path, body) in checks {
        let (_, answer) = clio.call(&token, method, &path, body).await;
        crate::openapi::assert_valid(&doc, &schema(name), &answer, &format!("{path} as {name}"));
    }
    clio.shutdown().await;
}
