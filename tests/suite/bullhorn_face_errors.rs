//! The Bullhorn face refusing what Bullhorn refuses, in Bullhorn's shapes:
//! bad OAuth grants and clients, a bad access token at `/login`, no or a
//! bad session (401), a missing Note (404), missing and malformed fields
//! and queries (400), an unserved route (404 with `x-mockcrm-hint`); the
//! refresh grant; Bullhorn's own host names; and the OpenAPI document.

use reqwest::Method;
use serde_json::{json, Value};

use crate::bullhorn_face::{call_note, phone_query, send, Bullhorn, Session};
use crate::support::snapshot_settings;

fn refused_as_bullhorn(status: u16, body: &Value, want: u16, key: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["errorCode"], want, "{body}");
    assert_eq!(body["errorMessageKey"], key, "{body}");
    assert!(body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn bad_grants_clients_and_tokens_are_refused_and_refresh_replaces_the_pair() {
    let bh = Bullhorn::start().await;
    let connection = bh.connection(None).await;
    let credentials = &connection["credentials"];
    let id = credentials["clientId"].as_str().expect("id");
    let secret = credentials["clientSecret"].as_str().expect("secret");
    let code = credentials["code"].as_str().expect("code");

    let (status, body) = bh
        .token(
            &connection,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", id),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let (status, body) = bh
        .token(
            &connection,
            &[
                ("grant_type", "authorization_code"),
                ("code", "nope"),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("oauth_refusal", body));
    let (status, body) = bh
        .token(
            &connection,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request");

    let (tokens, _) = bh.sign_in(None).await;
    // The code is spent.
    let (status, _) = bh
        .token(
            &connection,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
    assert_eq!(status, 400);
    // The connector's refresh: everything in the query.
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (status, renewed) = bh
        .token(
            &connection,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["access_token"], tokens["access_token"]);
    let (status, _) = bh
        .token(
            &connection,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await;
    assert_eq!(status, 400, "a refresh token is used once");
    let session = bh
        .login(
            &connection,
            renewed["access_token"].as_str().expect("token"),
        )
        .await;
    let (status, _) = bh.call(&session, Method::GET, "ping", None).await;
    assert_eq!(status, 200);

    // /login with a bad or no access token.
    let (status, body) = bh.raw_login(&connection, "at_unknown").await;
    refused_as_bullhorn(
        status,
        &body,
        401,
        "errors.authentication.invalidAccessToken",
    );
    let (status, body) = bh.raw_login(&connection, "").await;
    refused_as_bullhorn(
        status,
        &body,
        401,
        "errors.authentication.invalidAccessToken",
    );
    bh.shutdown().await;
}

#[tokio::test]
async fn no_or_a_bad_session_is_bullhorns_401_and_the_ready_one_works() {
    let bh = Bullhorn::start().await;
    let connection = bh.connection(None).await;
    let info = &connection["user"]["platformAdditionalInfo"];
    let rest_url = info["restUrl"].as_str().expect("restUrl").to_owned();
    let (status, body) = send(bh.http.get(format!("{rest_url}ping"))).await;
    refused_as_bullhorn(status, &body, 401, "errors.authentication.invalidRestToken");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("bad_session", body));
    let bad = Session {
        rest_url: rest_url.clone(),
        token: "bh_unknown".into(),
    };
    let (status, body) = bh
        .call(&bad, Method::PUT, "entity/Note", Some(call_note(1)))
        .await;
    refused_as_bullhorn(status, &body, 401, "errors.authentication.invalidRestToken");
    // The session GET /__admin/crms hands out, as a connector seeded with
    // the user record uses it (also as a query parameter).
    let ready = Session {
        rest_url: rest_url.clone(),
        token: info["bhRestToken"].as_str().expect("token").to_owned(),
    };
    let (status, _) = bh.call(&ready, Method::GET, "ping", None).await;
    assert_eq!(status, 200);
    let (status, _) = send(
        bh.http
            .get(format!("{rest_url}ping?BhRestToken={}", ready.token)),
    )
    .await;
    assert_eq!(status, 200);
    // The ready access token signs in too.
    let access = connection["credentials"]["accessToken"]
        .as_str()
        .expect("token");
    let (status, _) = bh.raw_login(&connection, access).await;
    assert_eq!(status, 200);
    // `ttl` sets a session's life in minutes (an hour without it), within
    // Bullhorn's bounds.
    let login_url = info["loginUrl"].as_str().expect("loginUrl");
    let (status, short) = send(bh.http.post(format!(
        "{login_url}/login?version=2.0&access_token={access}&ttl=5"
    )))
    .await;
    assert_eq!(status, 200, "{short}");
    let session = Session {
        rest_url: short["restUrl"].as_str().expect("restUrl").to_owned(),
        token: short["BhRestToken"].as_str().expect("token").to_owned(),
    };
    let (_, ping) = bh.call(&session, Method::GET, "ping", None).await;
    let left =
        ping["sessionExpires"].as_i64().expect("millis") - chrono::Utc::now().timestamp_millis();
    assert!(
        (4 * 60_000..=5 * 60_000).contains(&left),
        "{left} ms left of a 5-minute session"
    );
    let (status, body) = send(bh.http.post(format!(
        "{login_url}/login?version=2.0&access_token={access}&ttl=0"
    )))
    .await;
    refused_as_bullhorn(status, &body, 400, "errors.badRequest");
    bh.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_bullhorns_400_and_404() {
    let bh = Bullhorn::start().await;
    let (_, session) = bh.sign_in(None).await;
    let cases: Vec<(Method, &str, Option<Value>, u16, &str)> = vec![
        (
            Method::GET,
            "entity/Note/999999?fields=comments",
            None,
            404,
            "errors.cannotFindEntity",
        ),
        (
            Method::GET,
            "entity/Note/abc?fields=comments",
            None,
            404,
            "errors.cannotFindEntity",
        ),
        (
            Method::POST,
            "entity/Note/999999",
            Some(json!({"comments": "x"})),
            404,
            "errors.cannotFindEntity",
        ),
        (
            Method::GET,
            "entity/ClientContact/999999?fields=id",
            None,
            404,
            "errors.cannotFindEntity",
        ),
        (
            Method::GET,
            "entity/Note/1?fields=nope",
            None,
            400,
            "errors.badRequest",
        ),
        (
            Method::PUT,
            "entity/Note",
            Some(json!({"comments": "no one"})),
            400,
            "errors.cannotPersistEntity",
        ),
        // A person stores no Note field, but a field the document types is
        // refused with a wrong type on every entity (schemathesis found
        // both accepted on a Candidate).
        (
            Method::PUT,
            "entity/Candidate",
            Some(json!({"lastName": "Lee", "minutesSpent": -1})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/Candidate",
            Some(json!({"lastName": "Lee", "clientCorporation": false})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/Lead",
            Some(json!({"lastName": "Lee", "dateAdded": "yesterday"})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/Note",
            Some(json!({"personReference": {"id": 1}})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/Note",
            Some(json!({"comments": "x", "personReference": {"id": 999999}})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/Note",
            Some(json!({"comments": "x", "personReference": {"id": 1}, "dateAdded": "someday"})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/Note",
            Some(json!({"comments": "x", "personReference": {"id": 1}, "colour": "red"})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/ClientContact",
            Some(json!({"phone": "+14155550100", "clientCorporation": {"id": 1}})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/ClientContact",
            Some(json!({"name": "No Company"})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/ClientContact",
            Some(json!({"name": "Wrong Company", "clientCorporation": {"id": 1}})),
            400,
            "errors.cannotPersistEntity",
        ),
        (
            Method::PUT,
            "entity/JobOrder",
            Some(json!({"title": "x"})),
            400,
            "errors.badRequest",
        ),
        (
            Method::POST,
            "entity/ClientContact/1",
            Some(json!({"comments": "x"})),
            400,
            "errors.badRequest",
        ),
        (
            Method::POST,
            "search/ClientContact?fields=id",
            Some(json!({"query": "(phone:1"})),
            400,
            "errors.badRequest",
        ),
        (
            Method::POST,
            "search/ClientContact?fields=id",
            Some(json!({})),
            400,
            "errors.badRequest",
        ),
        (
            Method::POST,
            "search/ClientContact?fields=id",
            Some(json!({"query": "phone:1"})),
            200,
            "",
        ),
        (
            Method::GET,
            "query/CorporateUser?fields=id",
            None,
            400,
            "errors.badRequest",
        ),
        (
            Method::GET,
            "query/CorporateUser?fields=id&where=colour='red'",
            None,
            400,
            "errors.badRequest",
        ),
        (
            Method::GET,
            "query/Candidate?fields=id&where=id=1",
            None,
            400,
            "errors.badRequest",
        ),
        (
            Method::GET,
            "settings/somethingElse",
            None,
            400,
            "errors.badRequest",
        ),
        (Method::GET, "meta/JobOrder", None, 400, "errors.badRequest"),
    ];
    for (method, path, body, want, key) in cases {
        let (status, answer) = bh.call(&session, method.clone(), path, body).await;
        if want == 200 {
            assert_eq!(status, 200, "{method} {path}: {answer}");
            continue;
        }
        assert_eq!(status, want, "{method} {path}: {answer}");
        assert_eq!(answer["errorMessageKey"], key, "{method} {path}: {answer}");
    }
    let (status, body) = bh
        .call(
            &session,
            Method::PUT,
            "entity/Note",
            Some(json!({"comments": "no one"})),
        )
        .await;
    assert_eq!(status, 400);
    snapshot_settings().bind(|| insta::assert_json_snapshot!("missing_person", body));

    // An unserved route: Bullhorn's 404 and the routes served.
    let response = bh
        .http
        .get(format!("{}entity/JobOrder", session.rest_url))
        .header("BhRestToken", &session.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response.status(),
        405,
        "GET entity/{{entity}} is not a route, PUT is"
    );
    let response = bh
        .http
        .get(format!("{}associations/Note", session.rest_url))
        .header("BhRestToken", &session.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    let hint = response
        .headers()
        .get("x-mockcrm-hint")
        .and_then(|value| value.to_str().ok())
        .expect("hint")
        .to_owned();
    assert!(
        hint.contains("PUT /rest-services/{corpToken}/entity/{entity}"),
        "{hint}"
    );
    let mut body: Value = response.json().await.expect("JSON");
    // The corporation token is the organisation's id, new every run.
    let corp = session
        .rest_url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .expect("corp");
    let message = body["errorMessage"]
        .as_str()
        .expect("message")
        .replace(corp, "{corpToken}");
    body["errorMessage"] = Value::from(message);
    snapshot_settings().bind(|| insta::assert_json_snapshot!("unknown_route", body));
    bh.shutdown().await;
}

#[tokio::test]
async fn bullhorns_own_hosts_are_served_whatever_the_path() {
    let bh = Bullhorn::start().await;
    let connection = bh.connection(None).await;
    let access = connection["credentials"]["accessToken"]
        .as_str()
        .expect("token");
    // A client that routes rest.bullhornstaffing.com here (as the forward
    // proxy does) reaches the face at the root.
    let (status, login) = send(
        bh.http
            .post(format!(
                "{}/rest-services/login?version=2.0&access_token={access}",
                bh.server.url()
            ))
            .header("host", "rest.bullhornstaffing.com"),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let rest_url = login["restUrl"].as_str().expect("restUrl");
    assert!(
        rest_url.starts_with("https://rest.bullhornstaffing.com/rest-services/org_"),
        "{rest_url}"
    );
    let path = rest_url.trim_start_matches("https://rest.bullhornstaffing.com");
    let (status, _) = send(
        bh.http
            .get(format!("{}{path}ping", bh.server.url()))
            .header("host", "rest99.bullhornstaffing.com")
            .header("BhRestToken", login["BhRestToken"].as_str().expect("token")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        bh.http
            .get(format!("{}{path}ping", bh.server.url()))
            .header("host", "evilbullhornstaffing.com")
            .header("BhRestToken", login["BhRestToken"].as_str().expect("token")),
    )
    .await;
    assert_eq!(status, 404, "not Bullhorn's host: the native API's 404");
    bh.shutdown().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_face_and_its_answers_fit() {
    let bh = Bullhorn::start().await;
    let (status, doc) = send(bh.http.get(format!("{}/openapi.json", bh.server.url()))).await;
    assert_eq!(status, 200);
    for (path, method) in [
        ("/bullhorn/oauth/token", "post"),
        ("/bullhorn/rest-services/login", "post"),
        (
            "/bullhorn/rest-services/{corpToken}/search/{entity}",
            "post",
        ),
        (
            "/bullhorn/rest-services/{corpToken}/entity/{entity}/{id}",
            "get",
        ),
        (
            "/bullhorn/rest-services/{corpToken}/entity/{entity}/{id}",
            "post",
        ),
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

    let (_, session) = bh.sign_in(None).await;
    let (_, logged) = bh
        .call(&session, Method::PUT, "entity/Note", Some(call_note(1)))
        .await;
    let note = logged["changedEntityId"].as_i64().expect("id");
    let schema = |name: &str| json!({"$ref": format!("#/components/schemas/{name}")});
    let checks: Vec<(&str, Method, String, Option<Value>)> = vec![
        ("bullhornPing", Method::GET, "ping".into(), None),
        (
            "bullhornSettings",
            Method::GET,
            "settings/commentActionList".into(),
            None,
        ),
        (
            "bullhornMeta",
            Method::GET,
            "meta/Candidate?fields=status".into(),
            None,
        ),
        (
            "bullhornSearch",
            Method::POST,
            "search/ClientContact?fields=id,name,phone,dateAdded".into(),
            Some(phone_query("4155550199")),
        ),
        (
            "bullhornEntity",
            Method::GET,
            format!("entity/Note/{note}?fields=*"),
            None,
        ),
        (
            "bullhornChanged",
            Method::POST,
            format!("entity/Note/{note}"),
            Some(json!({"comments": "edited"})),
        ),
        (
            "bullhornQuery",
            Method::GET,
            "query/CorporateUser?fields=id,name,masterUserID&where=isDeleted=false".into(),
            None,
        ),
        (
            "bullhornError",
            Method::GET,
            "entity/Note/999999?fields=id".into(),
            None,
        ),
    ];
    for (name, method, path, body) in checks {
        let (_, answer) = bh.call(&session, method.clone(), &path, body).await;
        let validator = crate::openapi::validator(&doc, &schema(name));
        assert_eq!(validator.errors(&answer), "", "{method} {path}: {answer}");
    }
    bh.shutdown().await;
}

#[tokio::test]
async fn an_injected_fault_answers_in_bullhorns_shape_with_retry_after() {
    let bh = Bullhorn::start().await;
    let connection = bh.connection(None).await;
    let info = &connection["user"]["platformAdditionalInfo"];
    let session = Session {
        rest_url: info["restUrl"].as_str().expect("restUrl").to_owned(),
        token: info["bhRestToken"].as_str().expect("token").to_owned(),
    };
    let path = reqwest::Url::parse(&format!("{}entity/Note", session.rest_url))
        .expect("URL")
        .path()
        .to_owned();
    let (status, fault) = send(
        bh.http
            .post(format!("{}/__admin/faults", bh.server.url()))
            .bearer_auth("mockcrm-admin")
            .json(&json!({"method": "PUT", "path": path, "status": 429, "retry_after": 3, "times": 1})),
    )
    .await;
    assert_eq!(status, 201, "{fault}");
    let response = bh
        .http
        .put(format!("{}entity/Note", session.rest_url))
        .header("BhRestToken", &session.token)
        .json(&call_note(1))
        .send()
        .await
        .expect("sent");
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("3")
    );
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("JSON");
    // Bullhorn's own error shape, never mockcrm's {"error": {...}}.
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["errorCode"], 429, "{body}");
    assert!(body.get("error").is_none(), "{body}");
    let (status, _) = bh
        .call(&session, Method::PUT, "entity/Note", Some(call_note(1)))
        .await;
    assert_eq!(status, 200, "the fault fired once");
}
