//! The forward proxy for hard-coded hosts (`serve --proxy-addr`): a client
//! that sends its traffic through it (as App Connect does with
//! `HTTPS_PROXY`) reaches a served CRM's face when it asks for that CRM's
//! real host, over TLS from the local CA, and is refused with 502 for any
//! other host, which is never contacted: mockcrm works offline.

use mockcrm::{Server, ServerConfig, TlsSettings};
use serde_json::Value;

use crate::support::DEV_KEY;

const ADMIN: &str = "mockcrm-admin";

async fn serving_insightly() -> Server {
    Server::start(ServerConfig {
        tls: Some(TlsSettings {
            addr: "127.0.0.1:0".parse().expect("address"),
            dir: None,
            names: Vec::new(),
        }),
        crms: vec!["insightly".into()],
        proxy_addr: Some("127.0.0.1:0".parse().expect("address")),
        ..ServerConfig::ephemeral()
    })
    .await
    .expect("starts")
}

/// A client that sends everything through mockcrm's proxy and trusts only
/// its CA: nothing it does can reach the network.
fn through_proxy(server: &Server) -> reqwest::Client {
    let proxy = server.proxy_url().expect("a proxy");
    let pem = std::fs::read(server.ca_file().expect("CA")).expect("CA file");
    reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(proxy).expect("proxy URL"))
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
        .build()
        .expect("client")
}

async fn journal(server: &Server) -> Vec<Value> {
    let journal: Value = reqwest::Client::new()
        .get(format!("{}/__admin/requests?limit=100", server.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    journal["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_served_crm_host_is_answered_by_its_face_through_a_tunnel() {
    let server = serving_insightly().await;
    let client = through_proxy(&server);
    let response = client
        .get("https://api.insightly.com/v3.1/users/me")
        .basic_auth(DEV_KEY, Some(""))
        .send()
        .await
        .expect("the tunnel is served");
    let status = response.status();
    let entries = journal(&server).await;
    let connect = entries
        .iter()
        .find(|entry| entry["method"] == "CONNECT")
        .expect("the CONNECT is in the journal");
    assert_eq!(connect["path"], "api.insightly.com:443");
    assert_eq!(connect["status"], 200);
    // The request inside the tunnel reached mockcrm's routes, by the CRM's
    // own path, with the answer it got.
    let inside = entries
        .iter()
        .find(|entry| entry["path"] == "/v3.1/users/me")
        .expect("the tunnelled request is in the journal");
    assert_eq!(inside["status"], status.as_u16());
    assert_ne!(status, 502);
    // The review page's requests page lists the CONNECT as well, so a user
    // sees which hosts a connector reached through the proxy.
    let page = reqwest::get(format!("{}/__review/requests", server.url()))
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(page.contains("CONNECT"), "{page}");
    assert!(page.contains("api.insightly.com:443"), "{page}");
    server.shutdown().await;
}

#[tokio::test]
async fn any_other_host_is_refused_and_never_contacted() {
    let server = serving_insightly().await;
    let client = through_proxy(&server);
    // HTTPS: the tunnel itself is refused.
    let refused = client
        .get("https://api.github.com/")
        .send()
        .await
        .expect_err("no tunnel to a host mockcrm does not emulate");
    assert!(refused.is_connect(), "{refused:?}");
    // Plain HTTP through the proxy: the 502 and what it says.
    let response = client
        .get("http://example.org/anything")
        .send()
        .await
        .expect("answered by the proxy");
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "not_emulated");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("works offline"), "{message}");
    assert!(message.contains("example.org"), "{message}");
    assert!(message.contains("api.insightly.com"), "{message}");
    let entries = journal(&server).await;
    assert!(entries.iter().any(|entry| entry["method"] == "CONNECT"
        && entry["path"] == "api.github.com:443"
        && entry["status"] == 502));
    server.shutdown().await;
}

#[tokio::test]
async fn a_plain_request_to_a_served_host_is_served_as_it_is() {
    let server = serving_insightly().await;
    let client = through_proxy(&server);
    let response = client
        .get("http://api.insightly.com/v3.1/users/me")
        .basic_auth(DEV_KEY, Some(""))
        .send()
        .await
        .expect("served");
    assert_ne!(response.status(), 502);
    let entries = journal(&server).await;
    assert!(entries
        .iter()
        .any(|entry| entry["path"] == "/v3.1/users/me"));
    server.shutdown().await;
}

#[tokio::test]
async fn the_proxy_needs_tls_and_the_connection_info_names_it() {
    let refused = Server::start(ServerConfig {
        proxy_addr: Some("127.0.0.1:0".parse().expect("address")),
        ..ServerConfig::ephemeral()
    })
    .await
    .err()
    .expect("refused without TLS");
    assert!(refused.to_string().contains("--tls"), "{refused}");

    let server = serving_insightly().await;
    let info: Value = reqwest::Client::new()
        .get(format!("{}/__admin/crms", server.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        info["proxy"].as_str(),
        server.proxy_url().as_deref(),
        "{info}"
    );
    assert_eq!(info["tls"].as_str(), server.tls_url().as_deref());
    server.shutdown().await;
}
