//! HTTPS (`serve --tls`): the same routes over TLS, with a certificate
//! from a local CA that is made once, kept, and trusted by a client that
//! trusts nothing else (a Rust client here; Node.js through
//! `NODE_EXTRA_CA_CERTS`, as App Connect would).

use std::path::Path;
use std::process::Command;

use mockcrm::{Server, ServerConfig, TlsSettings, CA_CERT_FILE, CA_KEY_FILE};
use reqwest::Method;
use serde_json::{json, Value};

use crate::cli::{assert_one_line_failure, BIN};
use crate::support::DEV_KEY;

fn tls_config(dir: Option<&Path>) -> ServerConfig {
    ServerConfig {
        tls: Some(TlsSettings {
            addr: "127.0.0.1:0".parse().expect("address"),
            dir: dir.map(Path::to_owned),
            names: vec!["api.crm.example".into()],
        }),
        ..ServerConfig::ephemeral()
    }
}

/// A client that trusts the local CA and nothing else.
fn trusting_only(ca_file: &Path) -> reqwest::Client {
    let pem = std::fs::read(ca_file).expect("CA file");
    let ca = reqwest::Certificate::from_pem(&pem).expect("a PEM certificate");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .expect("client")
}

#[tokio::test]
async fn the_same_routes_and_store_answer_over_https() {
    let server = Server::start(tls_config(None)).await.expect("starts");
    let https = server.tls_url().expect("a TLS listener");
    assert!(https.starts_with("https://127.0.0.1:"), "{https}");
    let client = trusting_only(server.ca_file().expect("CA file"));

    // Written over HTTPS, by IP address (the certificate names 127.0.0.1) …
    let created: Value = client
        .request(Method::POST, format!("{https}/activity"))
        .bearer_auth(DEV_KEY)
        .json(&json!({"subject": "Over TLS", "type": "PhoneCommunication", "body": "b"}))
        .send()
        .await
        .expect("sent")
        .error_for_status()
        .expect("201")
        .json()
        .await
        .expect("JSON");
    // … read back over plain HTTP: one store behind both.
    let id = created["id"].as_str().expect("id");
    let read: Value = reqwest::Client::new()
        .get(format!("{}/activity/{id}", server.url()))
        .bearer_auth(DEV_KEY)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(read["subject"], "Over TLS");

    // By the names the certificate carries: localhost and a CRM's real host.
    let port = https.rsplit(':').next().expect("port");
    let addr = format!("127.0.0.1:{port}").parse().expect("address");
    let pem = std::fs::read(server.ca_file().expect("CA")).expect("CA file");
    for host in ["localhost", "api.crm.example"] {
        let named = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
            .resolve(host, addr)
            .build()
            .expect("client");
        let status = named
            .get(format!("https://{host}:{port}/health"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{host}: {e:?}"))
            .status();
        assert_eq!(status, 200, "{host}");
    }
    // A name it does not carry is refused by the client's own check.
    let unnamed = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
        .resolve("elsewhere.example", addr)
        .build()
        .expect("client");
    assert!(unnamed
        .get(format!("https://elsewhere.example:{port}/health"))
        .send()
        .await
        .is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_local_ca_is_refused() {
    let server = Server::start(tls_config(None)).await.expect("starts");
    let https = server.tls_url().expect("a TLS listener");
    // Only the system's roots: the local CA is not among them.
    let error = reqwest::Client::new()
        .get(format!("{https}/health"))
        .send()
        .await
        .expect_err("an unknown CA is refused");
    assert!(error.is_connect(), "{error:?}");
    // And plain HTTP spoken to the TLS port gets no answer from the API.
    let plain = reqwest::Client::new()
        .get(https.replacen("https://", "http://", 1) + "/health")
        .send()
        .await;
    assert!(plain.is_err() || plain.is_ok_and(|r| r.status() != 200));
    server.shutdown().await;
}

#[tokio::test]
async fn the_ca_is_made_once_kept_and_its_key_never_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = Server::start(tls_config(Some(dir.path())))
        .await
        .expect("starts");
    let ca_file = first.ca_file().expect("CA file").to_owned();
    assert_eq!(ca_file, dir.path().join(CA_CERT_FILE));
    let pem = std::fs::read_to_string(&ca_file).expect("CA file");
    let https = first.tls_url().expect("TLS");
    // The key is nowhere on the API.
    let client = trusting_only(&ca_file);
    for path in [
        "/ca-key.pem",
        "/__admin/ca-key.pem",
        "/mockcrm-tls/ca-key.pem",
    ] {
        let response = client
            .get(format!("{https}{path}"))
            .bearer_auth("mockcrm-admin")
            .send()
            .await
            .expect("sent");
        let text = response.text().await.expect("body");
        assert!(!text.contains("PRIVATE KEY"), "{path}: {text}");
    }
    first.shutdown().await;

    // Restarted on the same directory: the same CA, so clients that
    // trusted it still do.
    let second = Server::start(tls_config(Some(dir.path())))
        .await
        .expect("restarts");
    assert_eq!(
        std::fs::read_to_string(second.ca_file().expect("CA")).expect("CA file"),
        pem
    );
    let status = trusting_only(&ca_file)
        .get(format!("{}/health", second.tls_url().expect("TLS")))
        .send()
        .await
        .expect("the old trust still holds")
        .status();
    assert_eq!(status, 200);
    second.shutdown().await;
}

#[tokio::test]
async fn a_temporary_ca_goes_with_its_server() {
    let server = Server::start(tls_config(None)).await.expect("starts");
    let dir = server
        .ca_file()
        .and_then(Path::parent)
        .expect("CA dir")
        .to_owned();
    assert!(dir.join(CA_KEY_FILE).exists());
    server.shutdown().await;
    assert!(!dir.exists(), "{} was left behind", dir.display());
}

/// `serve --tls` with a CA file that cannot be used stops with one line
/// and exit 2, and writes no new CA over the old one.
#[test]
fn serve_refuses_a_corrupt_ca_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tls_dir = dir.path().join("ca");
    std::fs::create_dir(&tls_dir).expect("dir");
    std::fs::write(tls_dir.join(CA_CERT_FILE), "garbage").expect("write");
    let tls_dir_arg = tls_dir.display().to_string();
    let output = Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--tls",
        ])
        .args(["--tls-addr", "127.0.0.1:0", "--tls-dir", &tls_dir_arg])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert_one_line_failure(&output, "ca-key.pem does not");
    assert_eq!(
        std::fs::read_to_string(tls_dir.join(CA_CERT_FILE)).expect("kept"),
        "garbage"
    );
}

/// Node.js trusts the CA through `NODE_EXTRA_CA_CERTS`, which is how App
/// Connect is pointed at mockcrm's HTTPS. Needs `node` on PATH (.ci/run
/// installs it); without it this fails, it does not skip.
#[tokio::test]
async fn node_trusts_the_local_ca_through_node_extra_ca_certs() {
    let server = Server::start(tls_config(None)).await.expect("starts");
    let https = server.tls_url().expect("TLS");
    let ca_file = server.ca_file().expect("CA").to_owned();
    let (trusted, untrusted) = tokio::task::spawn_blocking(move || {
        (
            node_get_me(&https, Some(&ca_file)),
            node_get_me(&https, None),
        )
    })
    .await
    .expect("node ran");
    assert!(trusted.starts_with("200 "), "{trusted}");
    assert!(trusted.contains("\"crm-user-1\""), "{trusted}");
    assert!(untrusted.starts_with("error "), "{untrusted}");
    server.shutdown().await;
}

/// `GET /me` from Node.js's own https module: `"<status> <body>"`, or
/// `"error <code>"` when the connection is refused.
fn node_get_me(base: &str, ca: Option<&Path>) -> String {
    const SCRIPT: &str = r#"
        const https = require('https');
        https.get(process.argv[1] + '/me', { headers: { Authorization: 'Bearer mockcrm-dev-key' } }, (res) => {
            let body = '';
            res.on('data', (chunk) => body += chunk);
            res.on('end', () => { console.log(res.statusCode + ' ' + body); });
        }).on('error', (e) => { console.log('error ' + e.code); });
    "#;
    let mut command = Command::new("node");
    command
        .args(["-e", SCRIPT, base])
        .env_remove("NODE_EXTRA_CA_CERTS")
        .env_remove("NODE_TLS_REJECT_UNAUTHORIZED");
    if let Some(ca) = ca {
        command.env("NODE_EXTRA_CA_CERTS", ca);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("node is not on PATH ({e}); install Node.js (.ci/run does so)"));
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
