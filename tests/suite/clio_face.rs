//! The Clio face as App Connect's Clio connector uses it, over HTTPS from
//! the local CA: sign in with OAuth, find a contact by phone (a raw `+`)
//! and by name (with its matters and relationships), create a contact, log
//! a call (communication and time entry: create → get → update → get) and
//! a message (create → update), every answer in Clio's envelope and ids;
//! and the same records seen by the native API, the admin API and the
//! review's revisions. Answers are snapshotted with times redacted.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{redact, snapshot_settings, DEV_KEY};
use mockcrm::{Seed, Server, ServerConfig, TlsSettings};

pub(crate) const ADMIN: &str = "mockcrm-admin";

/// A server serving the Clio face over TLS, and clients for it.
pub(crate) struct Clio {
    pub server: Server,
    /// Trusts the local CA; no proxy.
    pub https: reqwest::Client,
    pub plain: reqwest::Client,
}

impl Clio {
    pub async fn start() -> Clio {
        Clio::with_config(ServerConfig::ephemeral()).await
    }

    pub async fn with_seed(seed: Seed) -> Clio {
        Clio::with_config(ServerConfig {
            seed,
            ..ServerConfig::ephemeral()
        })
        .await
    }

    pub async fn with_config(config: ServerConfig) -> Clio {
        let server = Server::start(ServerConfig {
            tls: Some(TlsSettings {
                addr: "127.0.0.1:0".parse().expect("address"),
                dir: None,
                names: Vec::new(),
            }),
            crms: vec!["clio".into()],
            ..config
        })
        .await
        .expect("starts");
        let pem = std::fs::read(server.ca_file().expect("CA")).expect("CA file");
        let https = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
            .no_proxy()
            .build()
            .expect("client");
        Clio {
            server,
            https,
            plain: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
        }
    }

    /// `GET /__admin/crms`'s entry for Clio, for `org` (the first
    /// organisation when `None`).
    pub async fn connection(&self, org: Option<&str>) -> Value {
        let query = org.map_or_else(String::new, |org| format!("?org={org}"));
        let (status, crms) = send(
            self.plain
                .get(format!("{}/__admin/crms{query}", self.server.url()))
                .bearer_auth(ADMIN),
        )
        .await;
        assert_eq!(status, 200, "{crms}");
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

    /// Signs in as an OAuth client does: the code from `mockcrm crms`
    /// exchanged at the face's token endpoint, the client in the form.
    pub async fn sign_in(&self, org: Option<&str>) -> Value {
        let connection = self.connection(org).await;
        let credentials = &connection["credentials"];
        let (status, tokens) = send(form(
            self.plain
                .post(credentials["tokenUrl"].as_str().expect("token URL")),
            &[
                ("grant_type", "authorization_code"),
                ("code", credentials["code"].as_str().expect("code")),
                ("client_id", credentials["clientId"].as_str().expect("id")),
                (
                    "client_secret",
                    credentials["clientSecret"].as_str().expect("secret"),
                ),
                (
                    "redirect_uri",
                    "https://ringcentral.github.io/ringcentral-embeddable/redirect.html",
                ),
            ],
        ))
        .await;
        assert_eq!(status, 200, "{tokens}");
        tokens
    }

    /// A request to the face over HTTPS with `token`; `path` is sent as
    /// written (a `+` in its query stays raw, as axios sends it).
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

    /// A GET with the seed's API key to the native API.
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

/// App Connect's call log for `contact`, as its connector posts it
/// (outbound: the user sends, the contact receives).
pub(crate) fn call_log(contact: Value) -> Value {
    json!({"data": {
        "subject": "[Call] Outbound Call to Jane Contact [+14155550199]",
        "body": "- Note: Asked for pricing.\n- Duration: 2 minutes\n",
        "type": "PhoneCommunication",
        "received_at": "2026-05-01T14:30:00.000Z",
        "senders": [{"id": "1", "type": "User"}],
        "receivers": [{"id": contact, "type": "Contact"}],
        "notification_event_subscribers": [{"user_id": "1"}],
    }})
}

fn redacted(mut value: Value) -> Value {
    for path in [
        "data.created_at",
        "data.updated_at",
        "data.etag",
        "data[].created_at",
        "data[].updated_at",
        "data[].etag",
    ] {
        redact(&mut value, path, "[volatile]");
    }
    value
}

const CONTACT_FIELDS: &str = "fields=type,id,name,created_at,updated_at";
const LOG_FIELDS: &str = "fields=subject,body,matter,senders,receivers,id";

#[tokio::test]
async fn app_connects_whole_round_runs_against_the_face() {
    let clio = Clio::start().await;
    let tokens = clio.sign_in(None).await;
    let token = tokens["access_token"].as_str().expect("token").to_owned();
    assert_eq!(tokens["token_type"], "bearer");

    // getUserInfo.
    let (status, me) = clio
        .call(
            &token,
            Method::GET,
            "/api/v4/users/who_am_i.json?fields=id,name,time_zone",
            None,
        )
        .await;
    assert_eq!(status, 200, "{me}");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("clio_who_am_i", me));

    // findContact: E.164 with a raw `+`, then matters and relationships.
    let (status, found) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/contacts.json?query=+14155550199&{CONTACT_FIELDS}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"].as_array().map(Vec::len), Some(1), "{found}");
    let jane = found["data"][0]["id"].clone();
    assert_eq!(found["data"][0]["type"], "Person");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("clio_search_phone", redacted(found)));
    let (status, matters) = clio
        .call(
            &token,
            Method::GET,
            &format!(
                "/api/v4/matters.json?client_id={jane}&fields=id,display_number,description,status"
            ),
            None,
        )
        .await;
    assert_eq!((status, &matters["data"]), (200, &json!([])), "{matters}");
    let (status, related) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/relationships.json?contact_id={jane}&fields=matter{{id,display_number,description,status}}"),
            None,
        )
        .await;
    assert_eq!((status, &related["data"]), (200, &json!([])), "{related}");
    assert!(related["meta"]["paging"]["next"].is_null());

    // findContactWithName.
    let (_, named) = clio
        .call(
            &token,
            Method::GET,
            "/api/v4/contacts.json?query=Jane&fields=id,name,created_at,updated_at,primary_email_address,primary_phone_number",
            None,
        )
        .await;
    assert_eq!(named["data"][0]["name"], "Jane Contact", "{named}");
    assert_eq!(named["data"][0]["primary_phone_number"], "+14155550199");
    assert_eq!(
        named["data"][0]["primary_email_address"],
        "jane@example.com"
    );

    // createContact, then found by its phone.
    let (status, created) = clio
        .call(
            &token,
            Method::POST,
            "/api/v4/contacts.json",
            Some(
                json!({"data": {"name": "Nadia New", "type": "Person", "phone_numbers": [
                    {"name": "Work", "number": "+442079460958", "default_number": true}
                ]}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["name"], "Nadia New");
    let nadia = created["data"]["id"].as_i64().expect("integer id");
    let (_, again) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/contacts.json?query=+442079460958&{CONTACT_FIELDS}"),
            None,
        )
        .await;
    assert_eq!(again["data"][0]["id"], nadia, "{again}");

    // createCallLog: the communication, then its time entry.
    let (status, logged) = clio
        .call(
            &token,
            Method::POST,
            "/api/v4/communications.json",
            Some(call_log(jane.clone())),
        )
        .await;
    assert_eq!(status, 201, "{logged}");
    let log_id = logged["data"]["id"].as_i64().expect("integer id");
    let (status, entry) = clio
        .call(
            &token,
            Method::POST,
            "/api/v4/activities.json",
            Some(
                json!({"data": {"communication": {"id": log_id}, "quantity": 125,
                "date": "2026-05-01T14:30:00.000Z", "type": "TimeEntry", "non_billable": true,
                "note": "- Note: Asked for pricing.\n"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{entry}");

    // getCallLog: the contact is the receiver, of type Person.
    let (status, got) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/communications/{log_id}.json?{LOG_FIELDS}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["data"]["senders"][0]["type"], "User");
    assert_eq!(got["data"]["receivers"][0]["type"], "Person");
    assert_eq!(got["data"]["receivers"][0]["id"], jane);
    snapshot_settings().bind(|| insta::assert_json_snapshot!("clio_call_log_got", redacted(got)));
    let (_, contact) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/contacts/{jane}.json?fields=name"),
            None,
        )
        .await;
    assert_eq!(contact, json!({"data": {"name": "Jane Contact"}}));

    // updateCallLog: the time entry found by communication, patched; then
    // the communication patched.
    let (status, entries) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/activities?communication_id={log_id}&fields=quantity,id"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{entries}");
    assert_eq!(entries["data"], json!([{"quantity": 125, "id": log_id}]));
    let (status, _) = clio
        .call(
            &token,
            Method::PATCH,
            &format!("/api/v4/activities/{log_id}.json"),
            Some(json!({"data": {"quantity": 300, "note": "- Note: Updated.\n"}})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, patched) = clio
        .call(
            &token,
            Method::PATCH,
            &format!("/api/v4/communications/{log_id}.json"),
            Some(json!({"data": {"body": "- Note: Updated.\n", "subject": "[Call] Outbound Call to Jane (updated)",
                "received_at": "2026-05-01T14:31:00.000Z"}})),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    let (_, got) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/communications/{log_id}.json?{LOG_FIELDS}"),
            None,
        )
        .await;
    assert_eq!(got["data"]["body"], "- Note: Updated.\n");
    assert_eq!(
        got["data"]["subject"],
        "[Call] Outbound Call to Jane (updated)"
    );
    assert_eq!(
        got["data"]["receivers"][0]["id"], jane,
        "untouched fields stay"
    );

    // createMessageLog (inbound: the contact sends), then updateMessageLog.
    let sms = "\nConversation summary\nFriday, May 01, 2026\nParticipants\n    Test User\n    Jane Contact\n\nConversation(1 messages)\nBEGIN\n------------\nJane Contact (+14155550199) 02:30 PM\nhello\n------------\nEND\n\n--- Created via RingCentral App Connect";
    let (status, message) = clio
        .call(
            &token,
            Method::POST,
            "/api/v4/communications.json",
            Some(json!({"data": {
                "subject": "SMS conversation with Jane Contact - 05/01/2026", "body": sms,
                "type": "PhoneCommunication", "received_at": "2026-05-01T14:30:00.000Z",
                "senders": [{"id": jane, "type": "Contact"}], "receivers": [{"id": "1", "type": "User"}],
                "notification_event_subscribers": [{"user_id": "1"}],
            }})),
        )
        .await;
    assert_eq!(status, 201, "{message}");
    let message_id = message["data"]["id"].as_i64().expect("id");
    let (_, before) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/communications/{message_id}.json?fields=body"),
            None,
        )
        .await;
    assert_eq!(before["data"]["body"], sms, "stored byte for byte");
    let grown = sms
        .replace(
            "------------\nEND",
            "Test User 02:31 PM\nhi back\n\n------------\nEND",
        )
        .replace("Conversation(1 messages)", "Conversation(2 messages)");
    let (status, _) = clio
        .call(
            &token,
            Method::PATCH,
            &format!("/api/v4/communications/{message_id}.json"),
            Some(json!({"data": {"body": grown}})),
        )
        .await;
    assert_eq!(status, 200);

    // The native API sees the same records, numbered alike, via clio.
    let (status, call) = clio.native(&format!("/activity/{log_id}")).await;
    assert_eq!(status, 200, "{call}");
    assert_eq!(call["number"], log_id);
    assert_eq!(call["via"], "clio");
    assert_eq!(call["type"], "Call");
    assert_eq!(call["contact_id"], "contact-1");
    assert_eq!(call["body"], "- Note: Updated.\n");
    assert_eq!(call["body_format"], "text/plain");
    assert_eq!(call["duration"], 300);
    assert_eq!(call["received_at"], "2026-05-01T14:31:00.000Z");
    assert_eq!(call["direction"], "Outbound");
    let (_, sms_activity) = clio.native(&format!("/activity/{message_id}")).await;
    assert_eq!(sms_activity["type"], "SMS");
    assert_eq!(sms_activity["direction"], "Inbound");
    assert!(sms_activity["body"]
        .as_str()
        .is_some_and(|body| body.contains("Conversation(2 messages)") && body.contains("hi back")));
    let (_, contact) = clio.native(&format!("/contact/{nadia}")).await;
    assert_eq!(contact["name"], "Nadia New");
    assert_eq!(contact["phone_number"], "+442079460958");

    // Each change is a revision like any other: create, time entry, two
    // patches.
    let (status, revisions) = send(
        clio.plain
            .get(format!(
                "{}/__admin/activities/{}/revisions",
                clio.server.url(),
                call["id"].as_str().expect("id")
            ))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(status, 200, "{revisions}");
    assert_eq!(
        revisions["items"].as_array().map(Vec::len),
        Some(4),
        "{revisions}"
    );
    clio.shutdown().await;
}

#[tokio::test]
async fn what_the_native_api_writes_the_face_reads() {
    let clio = Clio::start().await;
    let token = clio.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, created) = send(
        clio.plain
            .post(format!("{}/activity", clio.server.url()))
            .bearer_auth(DEV_KEY)
            .json(&json!({
                "subject": "Inbound Call from Priya", "type": "Call", "body": "native",
                "contact_id": "contact-2", "direction": "Inbound", "duration": 125,
                "received_at": "2026-01-02T03:04:05Z",
            })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let number = created["number"].as_i64().expect("number");
    let (status, got) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/communications/{number}.json?fields=id,subject,body,received_at,senders,receivers"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["data"]["body"], "native");
    assert_eq!(got["data"]["received_at"], "2026-01-02T03:04:05+00:00");
    // Inbound: the contact sends, as App Connect's getCallLog reads it.
    assert_eq!(got["data"]["senders"][0]["type"], "Person");
    assert_eq!(got["data"]["senders"][0]["name"], "Priya Raman");
    assert_eq!(got["data"]["receivers"][0]["type"], "User");
    // No time entry was made for it.
    let (_, entries) = clio
        .call(
            &token,
            Method::GET,
            &format!("/api/v4/activities.json?communication_id={number}"),
            None,
        )
        .await;
    assert_eq!(entries["data"], json!([]));
    // The admin API's CRM listing is the one the user record came from.
    let connection = clio.connection(None).await;
    assert_eq!(connection["name"], "clio");
    assert_eq!(connection["user"]["id"], "1-clio");
    assert!(connection["user"]["timezoneOffset"].is_number());
    assert!(connection["user"]["hostname"]
        .as_str()
        .is_some_and(|host| host.ends_with("/clio")));
    assert_eq!(
        connection["ca_file"].as_str(),
        clio.server.ca_file().and_then(|path| path.to_str())
    );
    clio.shutdown().await;
}

#[tokio::test]
async fn each_organisation_sees_only_its_own_records() {
    let seed: Seed = serde_json::from_str(&crate::support::read_fixture("two-organisations.json"))
        .expect("seed");
    let clio = Clio::with_seed(seed).await;
    let (_, tenants) = send(
        clio.plain
            .get(format!("{}/__admin/tenants", clio.server.url()))
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
    let acme = clio.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let other = clio.sign_in(Some(&globex)).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (_, found) = clio
        .call(
            &other,
            Method::GET,
            &format!("/api/v4/contacts.json?query=+14155550199&{CONTACT_FIELDS}"),
            None,
        )
        .await;
    let items = found["data"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["name"], "Jane Contact (Globex)");
    let theirs = items[0]["id"].clone();
    let (_, me) = clio
        .call(
            &other,
            Method::GET,
            "/api/v4/users/who_am_i.json?fields=id,name",
            None,
        )
        .await;
    let mut log = call_log(theirs);
    log["data"]["senders"][0]["id"] = me["data"]["id"].clone();
    let (status, logged) = clio
        .call(
            &other,
            Method::POST,
            "/api/v4/communications.json",
            Some(log),
        )
        .await;
    assert_eq!(status, 201, "{logged}");
    let id = logged["data"]["id"].as_i64().expect("id");
    let (status, body) = clio
        .call(
            &acme,
            Method::GET,
            &format!("/api/v4/communications/{id}.json"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["type"], "RecordNotFound");
    assert_eq!(me["data"]["name"], "Hank Scorpio");
    clio.shutdown().await;
}
