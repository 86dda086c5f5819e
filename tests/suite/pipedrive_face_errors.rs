//! The Pipedrive face's OAuth (code and refresh grants, expiry, revoke,
//! each refusal in Pipedrive's shape), its answers to bad input (401, 404,
//! 400 on a missing or malformed field, an unknown route with the served
//! ones in `x-mockcrm-hint`), its `x-ratelimit-*` headers, the harness's
//! faults in front of it, and its part of the OpenAPI document.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::pipedrive_face::{call_log, form, send, Pipedrive, ADMIN};
use crate::support::{redact, snapshot_settings};
use mockcrm::ServerConfig;

const CLIENT_ID: &str = "mockcrm-pipedrive-client";
const CLIENT_SECRET: &str = "mockcrm-pipedrive-client-secret";

async fn token_request(pd: &Pipedrive, pairs: &[(&str, &str)], secret: &str) -> (u16, Value) {
    let connection = pd.connection(None).await;
    send(form(
        pd.plain
            .post(
                connection["env"]["PIPEDRIVE_ACCESS_TOKEN_URI"]
                    .as_str()
                    .expect("token URI"),
            )
            .basic_auth(CLIENT_ID, Some(secret)),
        pairs,
    ))
    .await
}

fn refused_as_pipedrive(body: &Value, needle: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains(needle)),
        "{needle:?} not in {body}"
    );
}

#[tokio::test]
async fn an_expired_token_is_pipedrives_401_and_a_refresh_replaces_the_pair() {
    // Tokens that expire the moment they are issued: the expiry is judged
    // by the store's time, no waiting involved.
    let pd = Pipedrive::with_config(ServerConfig {
        token_ttl: Duration::ZERO,
        ..ServerConfig::ephemeral()
    })
    .await;
    let tokens = pd.sign_in(None).await;
    let access = tokens["access_token"].as_str().expect("access");
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    assert_eq!(tokens["expires_in"], 1);
    let (status, body) = pd.call(access, Method::GET, "/v1/users/me", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errorCode"], 401);
    refused_as_pipedrive(&body, "expired");

    let (status, renewed) = token_request(
        &pd,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        CLIENT_SECRET,
    )
    .await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["access_token"], tokens["access_token"]);
    assert_ne!(renewed["refresh_token"], tokens["refresh_token"]);
    // A refresh token is used once.
    let (status, body) = token_request(
        &pd,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        CLIENT_SECRET,
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_grant")),
        "{body}"
    );
    assert_eq!(body["message"], "Invalid grant: refresh token is invalid");
    pd.shutdown().await;
}

#[tokio::test]
async fn fresh_tokens_work_until_revoked_and_bad_grants_are_refused() {
    let pd = Pipedrive::start().await;
    let tokens = pd.sign_in(None).await;
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let (status, _) = pd.call(&access, Method::GET, "/v1/users/me", None).await;
    assert_eq!(status, 200);

    // The code was spent by the sign-in.
    let code = pd.connection(None).await;
    let (status, body) = token_request(
        &pd,
        &[("grant_type", "authorization_code"), ("code", "not-a-code")],
        CLIENT_SECRET,
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_grant")),
        "{body}"
    );
    let fresh_code = code["credentials"]["code"].as_str().expect("code");
    let (status, body) = token_request(
        &pd,
        &[("grant_type", "authorization_code"), ("code", fresh_code)],
        "wrong-secret",
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (401, &json!("invalid_client")),
        "{body}"
    );
    let (status, body) = token_request(&pd, &[("code", fresh_code)], CLIENT_SECRET).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("invalid_request")),
        "{body}"
    );
    let (status, body) = token_request(&pd, &[("grant_type", "password")], CLIENT_SECRET).await;
    assert_eq!(
        (status, &body["error"]),
        (400, &json!("unsupported_grant_type")),
        "{body}"
    );
    snapshot_settings().bind(|| insta::assert_json_snapshot!("oauth_refusal", body));

    // unAuthorize's revoke, at oauth.pipedrive.com through the proxy.
    let (status, body) = send(form(
        pd.proxied
            .post("https://oauth.pipedrive.com/oauth/revoke")
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET)),
        &[("token", access.as_str())],
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = pd.call(&access, Method::GET, "/v1/users/me", None).await;
    assert_eq!(status, 401);
    refused_as_pipedrive(&body, "invalid");
    let (status, _) = send(form(
        pd.proxied
            .post("https://oauth.pipedrive.com/oauth/revoke")
            .basic_auth(CLIENT_ID, Some("wrong")),
        &[("token", "x")],
    ))
    .await;
    assert_eq!(status, 401);
    pd.shutdown().await;
}

#[tokio::test]
async fn the_ready_token_of_mockcrm_crms_signs_in_and_bad_ones_do_not() {
    let pd = Pipedrive::start().await;
    let connection = pd.connection(None).await;
    let ready = connection["credentials"]["accessToken"]
        .as_str()
        .expect("ready token");
    assert_eq!(connection["user"]["accessToken"], ready);
    let (status, me) = pd.call(ready, Method::GET, "/v1/users/me", None).await;
    assert_eq!((status, &me["data"]["id"]), (200, &json!(1)), "{me}");

    let (status, body) = send(pd.https.get(format!("{}/v1/users/me", pd.base().await))).await;
    assert_eq!(status, 401);
    refused_as_pipedrive(&body, "unauthorized access");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("unauthorized", body));
    let (status, body) = pd
        .call("at_unknown", Method::GET, "/api/v2/persons/1", None)
        .await;
    assert_eq!(status, 401);
    refused_as_pipedrive(&body, "invalid");
    pd.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_pipedrives_400_and_404() {
    let pd = Pipedrive::start().await;
    let token = pd.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let t = token.as_str();
    let cases: Vec<(Method, &str, Option<Value>, u16, &str)> = vec![
        (
            Method::POST,
            "/v1/persons",
            Some(json!({"phone": "+1"})),
            400,
            "Name must be given",
        ),
        (
            Method::POST,
            "/v1/persons",
            Some(json!({"name": "X", "phone": 5})),
            400,
            "phone",
        ),
        (
            Method::GET,
            "/api/v2/persons/search?term=4",
            None,
            400,
            "term",
        ),
        (
            Method::GET,
            "/api/v2/persons/search?fields=phone",
            None,
            400,
            "term",
        ),
        (
            Method::GET,
            "/api/v2/persons/search?term=Jane&fields=owner",
            None,
            400,
            "fields",
        ),
        (
            Method::GET,
            "/api/v2/persons/999999",
            None,
            404,
            "Person not found",
        ),
        (Method::GET, "/api/v2/persons/abc", None, 400, "integer"),
        (
            Method::GET,
            "/api/v2/deals?person_id=999999&status=open",
            None,
            404,
            "Person",
        ),
        (
            Method::GET,
            "/api/v2/deals?status=closed",
            None,
            400,
            "status",
        ),
        (Method::GET, "/v1/leads?person_id=x", None, 400, "integer"),
        (
            Method::GET,
            "/api/v2/activities/999999",
            None,
            404,
            "Activity not found",
        ),
        (
            Method::PATCH,
            "/api/v2/activities/999999",
            Some(json!({"note": "x"})),
            404,
            "Activity not found",
        ),
        (
            Method::PATCH,
            "/api/v2/activities/1",
            Some(json!({})),
            400,
            "at least one field",
        ),
        (
            Method::POST,
            "/api/v2/activities",
            Some(json!({"subject": "x", "type": "fax"})),
            400,
            "activity type",
        ),
        (
            Method::POST,
            "/api/v2/activities",
            Some(json!({"duration": "ten"})),
            400,
            "duration",
        ),
        (
            Method::POST,
            "/api/v2/activities",
            Some(json!({"due_date": "May 1"})),
            400,
            "due_date",
        ),
        (
            Method::POST,
            "/api/v2/activities",
            Some(json!({"participants": [{"person_id": 999999, "primary": true}]})),
            404,
            "Person with id",
        ),
        (
            Method::POST,
            "/api/v2/activities",
            Some(json!([1])),
            400,
            "JSON object",
        ),
    ];
    for (method, path, body, status, needle) in cases {
        let label = format!("{method} {path}");
        let (got, answer) = pd.call(t, method, path, body).await;
        assert_eq!(got, status, "{label}: {answer}");
        refused_as_pipedrive(&answer, needle);
    }
    // A body that is no JSON at all.
    let (status, body) = send(
        pd.https
            .post(format!("{}/api/v2/activities", pd.base().await))
            .bearer_auth(t)
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["success"], false);

    // An unserved route: Pipedrive's 404, and what is served.
    let response = pd
        .https
        .get(format!("{}/v1/deals", pd.base().await))
        .bearer_auth(t)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    let hint = response
        .headers()
        .get("x-mockcrm-hint")
        .and_then(|v| v.to_str().ok())
        .expect("hint")
        .to_owned();
    assert!(hint.contains("POST /api/v2/activities"), "{hint}");
    let mut body: Value = response.json().await.expect("JSON");
    assert_eq!(body["success"], false);
    redact(&mut body, "error_info", "[info]");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("unknown_route", body));
    let (status, body) = pd
        .call(t, Method::DELETE, "/api/v2/activities/1", None)
        .await;
    assert_eq!(status, 405, "{body}");
    pd.shutdown().await;
}

#[tokio::test]
async fn rate_limit_headers_count_down_and_faults_front_the_face() {
    let pd = Pipedrive::with_config(ServerConfig {
        rate_limit: Some(1000),
        ..ServerConfig::ephemeral()
    })
    .await;
    let token = pd.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let base = pd.base().await;
    let remaining = |response: &reqwest::Response| -> u32 {
        response
            .headers()
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("x-ratelimit-remaining")
    };
    let first = pd
        .https
        .get(format!("{base}/v1/activityTypes"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        first
            .headers()
            .get("x-ratelimit-limit")
            .map(|v| v.as_bytes()),
        Some(b"1000".as_slice())
    );
    assert!(first.headers().contains_key("x-ratelimit-reset"));
    let second = pd
        .https
        .get(format!("{base}/v1/activityTypes"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("sent");
    assert!(remaining(&second) < 1000 && remaining(&first) <= 999);

    // A fault on the activity route answers instead of the face.
    let (status, fault) = send(
        pd.plain
            .post(format!("{}/__admin/faults", pd.server.url()))
            .bearer_auth(ADMIN)
            .json(&json!({"method": "POST", "path": "/pipedrive/api/v2/activities", "status": 503, "times": 1})),
    )
    .await;
    assert_eq!(status, 201, "{fault}");
    let (status, _) = pd
        .call(
            &token,
            Method::POST,
            "/api/v2/activities",
            Some(call_log(1)),
        )
        .await;
    assert_eq!(status, 503);
    let (status, _) = pd
        .call(
            &token,
            Method::POST,
            "/api/v2/activities",
            Some(call_log(1)),
        )
        .await;
    assert_eq!(status, 200, "the fault fired once");
    pd.shutdown().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_face_and_its_answers_fit() {
    let pd = Pipedrive::start().await;
    let (status, doc) = send(pd.plain.get(format!("{}/openapi.json", pd.server.url()))).await;
    assert_eq!(status, 200);
    for (path, method) in [
        ("/pipedrive/oauth/token", "post"),
        ("/pipedrive/v1/users/me", "get"),
        ("/pipedrive/api/v2/persons/search", "get"),
        ("/pipedrive/api/v2/activities/{id}", "patch"),
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

    let token = pd.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let (_, logged) = pd
        .call(
            &token,
            Method::POST,
            "/api/v2/activities",
            Some(call_log(1)),
        )
        .await;
    let id = logged["data"]["id"].as_i64().expect("id");
    let checks: Vec<(&str, Method, String, Option<Value>)> = vec![
        (
            "pipedriveUserAnswer",
            Method::GET,
            "/v1/users/me".into(),
            None,
        ),
        ("pipedriveUsers", Method::GET, "/v1/users".into(), None),
        (
            "pipedriveActivityTypes",
            Method::GET,
            "/v1/activityTypes".into(),
            None,
        ),
        (
            "pipedriveSearch",
            Method::GET,
            "/api/v2/persons/search?term=Jane".into(),
            None,
        ),
        (
            "pipedrivePersonAnswer",
            Method::GET,
            "/api/v2/persons/1".into(),
            None,
        ),
        (
            "pipedrivePersonV1Answer",
            Method::POST,
            "/v1/persons".into(),
            Some(json!({"name": "Z Z"})),
        ),
        (
            "pipedriveEmptyList",
            Method::GET,
            "/api/v2/deals?person_id=1".into(),
            None,
        ),
        (
            "pipedriveActivityAnswer",
            Method::GET,
            format!("/api/v2/activities/{id}"),
            None,
        ),
        (
            "pipedriveActivityAnswer",
            Method::PATCH,
            format!("/api/v2/activities/{id}"),
            Some(json!({"subject": "s"})),
        ),
        (
            "pipedriveError",
            Method::GET,
            "/api/v2/activities/999999".into(),
            None,
        ),
    ];
    for (name, method, path, body) in checks {
        let (_, answer) = pd.call(&token, method, &path, body).await;
        crate::openapi::assert_valid(&doc, &schema(name), &answer, &format!("{path} as {name}"));
    }
    pd.shutdown().await;
}
