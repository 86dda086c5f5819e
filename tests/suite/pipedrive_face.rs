//! The Pipedrive face as App Connect's Pipedrive connector uses it, over
//! HTTPS from the local CA: sign in with OAuth, find a person by phone and
//! by name (with their deals and leads), create a person, log a call
//! (create → get → update → get) and a message (create → update), every
//! answer in Pipedrive's envelope and ids; and the same records seen by the
//! native API, the admin API and the review's revisions. Answers are
//! snapshotted with times and tokens redacted.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{redact, snapshot_settings, DEV_KEY};
use mockcrm::{Seed, Server, ServerConfig, TlsSettings};

pub(crate) const ADMIN: &str = "mockcrm-admin";

/// A server serving the Pipedrive face over TLS (and a forward proxy), and
/// a client that trusts only its CA and sends Pipedrive's real hosts
/// through that proxy.
pub(crate) struct Pipedrive {
    pub server: Server,
    /// Trusts the local CA; no proxy.
    pub https: reqwest::Client,
    /// Trusts the local CA; everything through mockcrm's forward proxy.
    pub proxied: reqwest::Client,
    pub plain: reqwest::Client,
}

impl Pipedrive {
    pub async fn start() -> Pipedrive {
        Pipedrive::with_config(ServerConfig::ephemeral()).await
    }

    pub async fn with_seed(seed: Seed) -> Pipedrive {
        Pipedrive::with_config(ServerConfig {
            seed,
            ..ServerConfig::ephemeral()
        })
        .await
    }

    pub async fn with_config(config: ServerConfig) -> Pipedrive {
        let server = Server::start(ServerConfig {
            tls: Some(TlsSettings {
                addr: "127.0.0.1:0".parse().expect("address"),
                dir: None,
                names: Vec::new(),
            }),
            crms: vec!["pipedrive".into()],
            proxy_addr: Some("127.0.0.1:0".parse().expect("address")),
            ..config
        })
        .await
        .expect("starts");
        let pem = std::fs::read(server.ca_file().expect("CA")).expect("CA file");
        let certificate = || reqwest::Certificate::from_pem(&pem).expect("PEM");
        let https = reqwest::Client::builder()
            .tls_certs_only([certificate()])
            .no_proxy()
            .build()
            .expect("client");
        let proxied = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(server.proxy_url().expect("proxy")).expect("proxy URL"))
            .tls_certs_only([certificate()])
            .build()
            .expect("client");
        Pipedrive {
            server,
            https,
            proxied,
            plain: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
        }
    }

    /// `GET /__admin/crms`'s entry for Pipedrive, for `org` (the first
    /// organisation when `None`).
    pub async fn connection(&self, org: Option<&str>) -> Value {
        let query = org.map_or_else(String::new, |org| format!("?org={org}"));
        let crms: Value = self
            .plain
            .get(format!("{}/__admin/crms{query}", self.server.url()))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON");
        crms["crms"][0].clone()
    }

    /// `https://${user.hostname}` as App Connect's connector builds it.
    pub async fn base(&self) -> String {
        let connection = self.connection(None).await;
        format!(
            "https://{}",
            connection["user"]["hostname"].as_str().expect("hostname")
        )
    }

    /// Signs in as App Connect does: the code from `mockcrm crms`
    /// exchanged at the token endpoint the env names.
    pub async fn sign_in(&self, org: Option<&str>) -> Value {
        let connection = self.connection(org).await;
        let env = &connection["env"];
        let (status, tokens) = send(form(
            self.plain
                .post(
                    env["PIPEDRIVE_ACCESS_TOKEN_URI"]
                        .as_str()
                        .expect("token URI"),
                )
                .basic_auth(
                    env["PIPEDRIVE_CLIENT_ID"].as_str().expect("id"),
                    env["PIPEDRIVE_CLIENT_SECRET"].as_str(),
                ),
            &[
                ("grant_type", "authorization_code"),
                (
                    "code",
                    connection["credentials"]["code"].as_str().expect("code"),
                ),
                (
                    "redirect_uri",
                    env["PIPEDRIVE_REDIRECT_URI"].as_str().expect("uri"),
                ),
            ],
        ))
        .await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    /// A request to the face over HTTPS with `token`.
    pub async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base().await);
        let mut request = self.https.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// A request with the seed's API key to the native API.
    pub async fn native(&self, path: &str) -> (u16, Value) {
        send(
            self.plain
                .get(format!("{}{path}", self.server.url()))
                .bearer_auth(DEV_KEY),
        )
        .await
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// A form-encoded body, as App Connect's OAuth client sends it.
pub(crate) fn form(
    request: reqwest::RequestBuilder,
    pairs: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

/// Status and JSON body (Null when empty).
pub(crate) async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

/// App Connect's call log for `person`, as its connector posts it.
pub(crate) fn call_log(person: i64) -> Value {
    json!({
        "owner_id": 1,
        "subject": "Outbound Call to Jane Contact",
        "duration": "00:02",
        "deal_id": "",
        "note": "<br><b>Agent notes</b><br>Asked for pricing.<br><br><b>Call details</b><br>Duration: 1 minute",
        "done": true,
        "due_date": "2026-05-01",
        "due_time": "14:30",
        "participants": [{"person_id": person, "primary": true}],
        "type": "call",
    })
}

fn redacted(mut value: Value) -> Value {
    for path in [
        "data.add_time",
        "data.update_time",
        "data.marked_as_done_time",
        "data.items[].item.add_time",
        "data.items[].item.update_time",
    ] {
        redact(&mut value, path, "[time]");
    }
    value
}

#[tokio::test]
async fn app_connects_whole_round_runs_against_the_face() {
    let pd = Pipedrive::start().await;
    let tokens = pd.sign_in(None).await;
    let token = tokens["access_token"].as_str().expect("token").to_owned();
    assert_eq!(tokens["token_type"], "Bearer");

    // getUserInfo: the hard-coded host, through the forward proxy.
    let (status, me) = send(
        pd.proxied
            .get("https://api.pipedrive.com/v1/users/me")
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["data"]["id"], 1);
    assert_eq!(me["data"]["company_domain"], "acme");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("users_me", me));

    // findContact: national digits, then deals and leads per person.
    let (status, found) = pd
        .call(
            &token,
            Method::GET,
            "/api/v2/persons/search?term=4155550199&fields=phone",
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let items = found["data"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{found}");
    let jane = items[0]["item"]["id"].as_i64().expect("id");
    assert_eq!(items[0]["item"]["name"], "Jane Contact");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("search_phone", redacted(found)));
    let (status, deals) = pd
        .call(
            &token,
            Method::GET,
            &format!("/api/v2/deals?person_id={jane}&&status=open"),
            None,
        )
        .await;
    assert_eq!((status, &deals["data"]), (200, &json!([])), "{deals}");
    let (status, leads) = pd
        .call(
            &token,
            Method::GET,
            &format!("/v1/leads?person_id={jane}"),
            None,
        )
        .await;
    assert_eq!((status, &leads["success"]), (200, &json!(true)), "{leads}");

    // findContactWithName.
    let (_, named) = pd
        .call(
            &token,
            Method::GET,
            "/api/v2/persons/search?term=Jane&fields=name",
            None,
        )
        .await;
    let names: Vec<&Value> = named["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| &item["item"]["name"])
        .collect();
    assert_eq!(names, [&json!("Jane Contact")]);

    // createContact, then found by its phone.
    let (status, created) = pd
        .call(
            &token,
            Method::POST,
            "/v1/persons",
            Some(json!({"name": "Nadia New", "phone": "+442079460958"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let nadia = created["data"]["id"].as_i64().expect("id");
    let (_, again) = pd
        .call(
            &token,
            Method::GET,
            "/api/v2/persons/search?term=2079460958&fields=phone",
            None,
        )
        .await;
    assert_eq!(again["data"]["items"][0]["item"]["id"], nadia);

    // createCallLog: the person's org, the activity types, the activity.
    let (_, person) = pd
        .call(
            &token,
            Method::GET,
            &format!("/api/v2/persons/{jane}"),
            None,
        )
        .await;
    assert_eq!(person["data"]["org_id"], Value::Null);
    let (_, types) = pd
        .call(&token, Method::GET, "/v1/activityTypes", None)
        .await;
    let names: Vec<&str> = types["data"]
        .as_array()
        .expect("types")
        .iter()
        .filter(|t| t["active_flag"] == true)
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        names.iter().any(|n| n.to_lowercase().contains("call")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.to_lowercase().contains("sms")),
        "{names:?}"
    );
    let (status, logged) = pd
        .call(
            &token,
            Method::POST,
            "/api/v2/activities",
            Some(call_log(jane)),
        )
        .await;
    assert_eq!(status, 200, "{logged}");
    let log_id = logged["data"]["id"].as_i64().expect("integer id");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("call_log_created", redacted(logged)));

    // getCallLog: the note and the person's name under related_objects.
    let (status, got) = pd
        .call(
            &token,
            Method::GET,
            &format!("/api/v2/activities/{log_id}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        got["related_objects"]["person"][jane.to_string()]["name"],
        "Jane Contact"
    );
    assert_eq!(got["data"]["duration"], "00:02");
    assert_eq!(got["data"]["due_time"], "14:30");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("call_log_got", redacted(got)));

    // updateCallLog, then read back.
    let (status, patched) = pd
        .call(
            &token,
            Method::PATCH,
            &format!("/api/v2/activities/{log_id}"),
            Some(json!({"note": "<b>Agent notes</b><br>Updated.", "subject": "Outbound Call to Jane (updated)", "duration": "00:05"})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let (_, got) = pd
        .call(
            &token,
            Method::GET,
            &format!("/api/v2/activities/{log_id}"),
            None,
        )
        .await;
    assert_eq!(got["data"]["note"], "<b>Agent notes</b><br>Updated.");
    assert_eq!(got["data"]["subject"], "Outbound Call to Jane (updated)");
    assert_eq!(got["data"]["duration"], "00:05");
    assert_eq!(got["data"]["done"], true, "untouched fields stay");

    // createMessageLog: users/me, the person, an "sms" activity.
    let sms_note = "<br><b>SMS conversation with Jane Contact - 26/05/01</b><br>Conversation(1 messages)<br>BEGIN<br>------------<br><ul><li>Test User 02:30 PM<br><b>hello</b></li></ul>------------<br>END<br><br>";
    let (status, message) = pd
        .call(
            &token,
            Method::POST,
            "/api/v2/activities",
            Some(json!({
                "owner_id": 1, "subject": "SMS conversation with Jane Contact - 26/05/01",
                "note": sms_note, "done": true, "due_date": "2026-05-01", "due_time": "14:30",
                "type": "sms", "participants": [{"person_id": jane, "primary": true}],
            })),
        )
        .await;
    assert_eq!(status, 200, "{message}");
    let message_id = message["data"]["id"].as_i64().expect("id");
    assert_eq!(message["data"]["type"], "sms");
    // updateMessageLog: read the note, add the message, patch it back.
    let (_, before) = pd
        .call(
            &token,
            Method::GET,
            &format!("/api/v2/activities/{message_id}"),
            None,
        )
        .await;
    let grown = before["data"]["note"]
        .as_str()
        .expect("note")
        .replace(
            "</ul>------------<br>",
            "<li>Jane Contact 02:31 PM<br><b>hi back</b></li></ul>------------<br>",
        )
        .replace("Conversation(1 messages)", "Conversation(2 messages)");
    let (status, _) = pd
        .call(
            &token,
            Method::PATCH,
            &format!("/api/v2/activities/{message_id}"),
            Some(json!({"note": grown, "deal_id": ""})),
        )
        .await;
    assert_eq!(status, 200);

    // The native API sees the same records, numbered alike, via pipedrive.
    let (status, call) = pd.native(&format!("/activity/{log_id}")).await;
    assert_eq!(status, 200, "{call}");
    assert_eq!(call["number"], log_id);
    assert_eq!(call["via"], "pipedrive");
    assert_eq!(call["contact_id"], "contact-1");
    assert_eq!(call["body"], "<b>Agent notes</b><br>Updated.");
    assert_eq!(call["body_format"], "text/html");
    assert_eq!(call["duration"], 300);
    assert_eq!(call["received_at"], "2026-05-01T14:30:00.000Z");
    assert_eq!(call["direction"], "Outbound");
    let (_, sms) = pd.native(&format!("/activity/{message_id}")).await;
    assert_eq!(sms["type"], "SMS");
    assert!(sms["body"]
        .as_str()
        .is_some_and(|body| body.contains("Conversation(2 messages)") && body.contains("hi back")));
    let (_, contact) = pd.native(&format!("/contact/{nadia}")).await;
    assert_eq!(contact["name"], "Nadia New");
    assert_eq!(contact["phone_number"], "+442079460958");

    // An update is a revision like any other.
    let (status, revisions) = send(
        pd.plain
            .get(format!(
                "{}/__admin/activities/{}/revisions",
                pd.server.url(),
                call["id"].as_str().expect("id")
            ))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(status, 200, "{revisions}");
    assert_eq!(
        revisions["items"].as_array().map(Vec::len),
        Some(2),
        "{revisions}"
    );
    pd.shutdown().await;
}

#[tokio::test]
async fn what_the_native_api_writes_the_face_reads() {
    let pd = Pipedrive::start().await;
    let token = pd.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, created) = send(
        pd.plain
            .post(format!("{}/activity", pd.server.url()))
            .bearer_auth(DEV_KEY)
            .json(&json!({
                "subject": "Inbound Call from Priya", "type": "call", "body": "<p>native</p>",
                "body_format": "text/html", "contact_id": "contact-2", "duration": 125,
                "received_at": "2026-01-02T03:04:05Z",
            })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let number = created["number"].as_i64().expect("number");
    let (status, got) = pd
        .call(
            &token,
            Method::GET,
            &format!("/api/v2/activities/{number}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["data"]["note"], "<p>native</p>");
    assert_eq!(got["data"]["duration"], "00:02");
    assert_eq!(got["data"]["due_date"], "2026-01-02");
    assert_eq!(got["data"]["due_time"], "03:04");
    assert_eq!(got["related_objects"]["person"]["2"]["name"], "Priya Raman");
    assert_eq!(got["data"]["owner_id"], 1);
    // The admin API's CRM listing is the one the user record came from.
    let connection = pd.connection(None).await;
    assert_eq!(connection["name"], "pipedrive");
    assert_eq!(connection["user"]["id"], "1-pipedrive");
    assert!(connection["user"]["hostname"]
        .as_str()
        .is_some_and(|host| host.ends_with("/pipedrive")));
    assert_eq!(
        connection["ca_file"].as_str(),
        pd.server.ca_file().and_then(|path| path.to_str())
    );
    pd.shutdown().await;
}

#[tokio::test]
async fn each_organisation_sees_only_its_own_records() {
    let seed: Seed = serde_json::from_str(&crate::support::read_fixture("two-organisations.json"))
        .expect("seed");
    let pd = Pipedrive::with_seed(seed).await;
    let (_, tenants) = send(
        pd.plain
            .get(format!("{}/__admin/tenants", pd.server.url()))
            .bearer_auth(ADMIN),
    )
    .await;
    let globex = tenants["items"]
        .as_array()
        .expect("tenants")
        .iter()
        .find(|t| t["name"] == "Globex")
        .and_then(|t| t["id"].as_str())
        .expect("Globex")
        .to_owned();
    let acme = pd.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let other = pd.sign_in(Some(&globex)).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, found) = pd
        .call(
            &other,
            Method::GET,
            "/api/v2/persons/search?term=4155550199&fields=phone",
            None,
        )
        .await;
    let items = found["data"]["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["item"]["name"], "Jane Contact (Globex)");
    let theirs = items[0]["item"]["id"].as_i64().expect("id");
    let (status, logged) = pd
        .call(
            &other,
            Method::POST,
            "/api/v2/activities",
            Some(call_log(theirs)),
        )
        .await;
    assert_eq!(status, 200, "{logged}");
    let id = logged["data"]["id"].as_i64().expect("id");
    let (status, body) = pd
        .call(
            &acme,
            Method::GET,
            &format!("/api/v2/activities/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["success"], false);
    let (_, me) = pd.call(&other, Method::GET, "/v1/users/me", None).await;
    assert_eq!(me["data"]["name"], "Hank Scorpio");
    assert_eq!(me["data"]["timezone_offset"], "+01:00");
    pd.shutdown().await;
}
