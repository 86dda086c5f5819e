//! `POST /__admin/tokens/expire?org=`: one organisation's access tokens and
//! Bullhorn sessions expire at that moment, answered exactly as tokens
//! past their time are (each CRM's 401), while its refresh tokens and
//! every other organisation's tokens keep working; and the route's own
//! refusals (no admin key, no or an unknown organisation).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::bullhorn_face::{send, Bullhorn, Session, ADMIN};
use crate::pipedrive_face::Pipedrive;
use mockcrm::ServerConfig;

async fn new_tenant(http: &reqwest::Client, url: &str) -> String {
    let (status, tenant) = send(
        http.post(format!("{url}/__admin/tenants"))
            .bearer_auth(ADMIN)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 201, "{tenant}");
    tenant["id"].as_str().expect("id").to_owned()
}

async fn expire(http: &reqwest::Client, url: &str, query: &str, key: &str) -> (u16, Value) {
    send(
        http.post(format!("{url}/__admin/tokens/expire{query}"))
            .bearer_auth(key),
    )
    .await
}

#[tokio::test]
async fn expiring_one_tenants_tokens_ends_its_sessions_only_and_refresh_still_works() {
    let bh = Bullhorn::start().await;
    let url = bh.server.url();
    let (a, b) = (
        new_tenant(&bh.http, &url).await,
        new_tenant(&bh.http, &url).await,
    );
    let (tokens, session) = bh.sign_in(Some(&a)).await;
    let (_, other) = bh.sign_in(Some(&b)).await;
    let (status, _) = bh.call(&session, Method::GET, "ping", None).await;
    assert_eq!(status, 200);

    let (status, body) = expire(&bh.http, &url, &format!("?org={a}"), ADMIN).await;
    assert_eq!(status, 200, "{body}");
    // The ready access token and session `GET /__admin/crms` made, and the
    // ones the sign-in got.
    assert_eq!(body, json!({"expired": 4}));

    let (status, body) = bh.call(&session, Method::GET, "ping", None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body["errorMessageKey"],
        "errors.authentication.invalidRestToken"
    );
    let connection = bh.connection(Some(&a)).await;
    let access = tokens["access_token"].as_str().expect("access");
    let (status, body) = bh.raw_login(&connection, access).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        body["errorMessageKey"],
        "errors.authentication.invalidAccessToken"
    );
    // The other tenant is untouched.
    let (status, _) = bh.call(&other, Method::GET, "ping", None).await;
    assert_eq!(status, 200);

    // The refresh token still works, and so does what it gets.
    let credentials = &connection["credentials"];
    let (status, renewed) = bh
        .token(
            &connection,
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    tokens["refresh_token"].as_str().expect("refresh"),
                ),
                ("client_id", credentials["clientId"].as_str().expect("id")),
                (
                    "client_secret",
                    credentials["clientSecret"].as_str().expect("secret"),
                ),
            ],
        )
        .await;
    assert_eq!(status, 200, "{renewed}");
    let fresh: Session = bh
        .login(
            &connection,
            renewed["access_token"].as_str().expect("access"),
        )
        .await;
    let (status, _) = bh.call(&fresh, Method::GET, "ping", None).await;
    assert_eq!(status, 200);
    // What expired already is not counted again.
    let (_, body) = expire(&bh.http, &url, &format!("?org={a}"), ADMIN).await;
    assert_eq!(
        body["expired"], 4,
        "the crms call's new ready pair, the refreshed token and its session: {body}"
    );
    bh.shutdown().await;
}

#[tokio::test]
async fn the_route_needs_the_admin_key_and_an_organisation_that_exists() {
    let bh = Bullhorn::start().await;
    let url = bh.server.url();
    let tenant = new_tenant(&bh.http, &url).await;
    let (_, session) = bh.sign_in(Some(&tenant)).await;

    let (status, body) = expire(&bh.http, &url, &format!("?org={tenant}"), "not-the-key").await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
    let (status, body) = expire(&bh.http, &url, "", ADMIN).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "invalid_field", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("org")),
        "{body}"
    );
    let (status, body) = expire(&bh.http, &url, "?org=", ADMIN).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = expire(&bh.http, &url, "?org=org_nosuch", ADMIN).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = send(
        bh.http
            .get(format!("{url}/__admin/tokens/expire?org={tenant}"))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(status, 405);
    // Nothing was expired by the refusals.
    let (status, _) = bh.call(&session, Method::GET, "ping", None).await;
    assert_eq!(status, 200);
    bh.shutdown().await;
}

#[tokio::test]
async fn a_token_expired_by_the_admin_api_is_answered_as_one_past_its_time() {
    let early = Pipedrive::start().await;
    let url = early.server.url();
    let tenant = new_tenant(&early.plain, &url).await;
    let tokens = early.sign_in(Some(&tenant)).await;
    let access = tokens["access_token"].as_str().expect("access");
    let (status, _) = early.call(access, Method::GET, "/v1/users/me", None).await;
    assert_eq!(status, 200);
    let (status, body) = expire(&early.plain, &url, &format!("?org={tenant}"), ADMIN).await;
    assert_eq!((status, &body["expired"]), (200, &json!(2)), "{body}");
    let (status, expired) = early.call(access, Method::GET, "/v1/users/me", None).await;
    assert_eq!(status, 401, "{expired}");

    // Tokens that expire as they are issued, on a server of their own.
    let late = Pipedrive::with_config(ServerConfig {
        token_ttl: Duration::ZERO,
        ..ServerConfig::ephemeral()
    })
    .await;
    let tokens = late.sign_in(None).await;
    let access = tokens["access_token"].as_str().expect("access");
    let (status, natural) = late.call(access, Method::GET, "/v1/users/me", None).await;
    assert_eq!(status, 401, "{natural}");
    assert_eq!(expired, natural, "the same 401 either way");
    early.shutdown().await;
    late.shutdown().await;
}
