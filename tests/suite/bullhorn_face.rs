//! The Bullhorn face as App Connect's Bullhorn connector uses it: sign in
//! (OAuth code → access token → `/login` session and `restUrl`, `ping`),
//! find people by phone and by name with its Lucene queries, create a
//! placeholder ClientCorporation and a ClientContact, log a call as a Note
//! (create → get → update → get) and a message (create → update), every
//! answer in Bullhorn's shapes and ids; and the same records seen by the
//! native API, the admin API and the revisions. Answers are snapshotted
//! with times and tokens redacted.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{redact, snapshot_settings, DEV_KEY};
use mockcrm::{Seed, Server, ServerConfig};

pub(crate) const ADMIN: &str = "mockcrm-admin";

/// A server serving the Bullhorn face, and a client.
pub(crate) struct Bullhorn {
    pub server: Server,
    pub http: reqwest::Client,
}

/// A signed-in session: where its calls go and its token.
pub(crate) struct Session {
    pub rest_url: String,
    pub token: String,
}

impl Bullhorn {
    pub async fn start() -> Bullhorn {
        Bullhorn::with_config(ServerConfig::ephemeral()).await
    }

    pub async fn with_seed(seed: Seed) -> Bullhorn {
        Bullhorn::with_config(ServerConfig {
            seed,
            ..ServerConfig::ephemeral()
        })
        .await
    }

    pub async fn with_config(config: ServerConfig) -> Bullhorn {
        let server = Server::start(ServerConfig {
            crms: vec!["bullhorn".into()],
            ..config
        })
        .await
        .expect("starts");
        Bullhorn {
            server,
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
        }
    }

    /// `GET /__admin/crms`'s entry for Bullhorn, for `org` (the first
    /// organisation when `None`).
    pub async fn connection(&self, org: Option<&str>) -> Value {
        let query = org.map_or_else(String::new, |org| format!("?org={org}"));
        let (status, crms) = send(
            self.http
                .get(format!("{}/__admin/crms{query}", self.server.url()))
                .bearer_auth(ADMIN),
        )
        .await;
        assert_eq!(status, 200, "{crms}");
        crms["crms"][0].clone()
    }

    /// The token endpoint with `pairs` in the URL's query, as App
    /// Connect's connector sends them (and an empty Authorization).
    pub async fn token(&self, connection: &Value, pairs: &[(&str, &str)]) -> (u16, Value) {
        let url = connection["user"]["platformAdditionalInfo"]["tokenUrl"]
            .as_str()
            .expect("tokenUrl");
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        send(
            self.http
                .post(format!("{url}?{query}"))
                .header("authorization", ""),
        )
        .await
    }

    /// Signs in as App Connect does: the code from `mockcrm crms`
    /// exchanged for tokens, the access token for a session.
    pub async fn sign_in(&self, org: Option<&str>) -> (Value, Session) {
        let connection = self.connection(org).await;
        let credentials = &connection["credentials"];
        let (status, tokens) = self
            .token(
                &connection,
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
            )
            .await;
        assert_eq!(status, 200, "{tokens}");
        let session = self
            .login(
                &connection,
                tokens["access_token"].as_str().expect("access token"),
            )
            .await;
        (tokens, session)
    }

    /// `POST {loginUrl}/login?version=2.0&access_token=…`.
    pub async fn login(&self, connection: &Value, access_token: &str) -> Session {
        let (status, login) = self.raw_login(connection, access_token).await;
        assert_eq!(status, 200, "{login}");
        Session {
            rest_url: login["restUrl"].as_str().expect("restUrl").to_owned(),
            token: login["BhRestToken"].as_str().expect("token").to_owned(),
        }
    }

    pub async fn raw_login(&self, connection: &Value, access_token: &str) -> (u16, Value) {
        let login_url = connection["user"]["platformAdditionalInfo"]["loginUrl"]
            .as_str()
            .expect("loginUrl");
        send(self.http.post(format!(
            "{login_url}/login?version=2.0&access_token={access_token}"
        )))
        .await
    }

    /// A request below the session's `restUrl`, with its `BhRestToken`.
    pub async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", session.rest_url))
            .header("BhRestToken", &session.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        send(request).await
    }

    /// A request with the seed's API key to the native API.
    pub async fn native(&self, path: &str) -> (u16, Value) {
        send(
            self.http
                .get(format!("{}{path}", self.server.url()))
                .bearer_auth(DEV_KEY),
        )
        .await
    }

    /// A request to the admin API.
    pub async fn admin(&self, path: &str) -> (u16, Value) {
        send(
            self.http
                .get(format!("{}{path}", self.server.url()))
                .bearer_auth(ADMIN),
        )
        .await
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
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

/// The connector's phone query for `entity`'s search.
pub(crate) fn phone_query(national: &str) -> Value {
    json!({"query": format!(
        "(phone:{national} OR mobile:{national} OR phone2:{national} OR phone3:{national}) \
         AND isDeleted:false NOT status:\"Archive\""
    )})
}

/// The connector's name query.
pub(crate) fn name_query(name: &str) -> Value {
    let first = name.split(' ').next().unwrap_or_default();
    let last = name.split(' ').next_back().unwrap_or_default();
    json!({"query": format!(
        "((name:\"{name}\" AND isDeleted:false) OR (firstName:{first} AND isDeleted:false) OR \
         (lastName:{last} AND isDeleted:false)) NOT status:\"Archive\""
    )})
}

/// App Connect's call log Note for a contact, as its connector puts it.
pub(crate) fn call_note(contact: i64) -> Value {
    json!({
        "comments": "<ul><li><b>Summary</b>: Outbound Call to Pat Placed</li><li><b>Direction</b>: Outbound</li></ul><br><b>Agent notes</b><br>Asked for pricing.<br><br><b>Call details</b><br>Duration: 1 minute",
        "personReference": {"id": contact, "personSubtype": "Contact"},
        "action": "pending note",
        "dateAdded": "2026-05-01T14:30:00.000Z",
        "externalID": "session-77",
        "minutesSpent": 1.5,
    })
}

pub(crate) fn redacted(mut value: Value) -> Value {
    for path in [
        "data.dateAdded",
        "data.dateLastModified",
        "data[].dateAdded",
        "data[].dateLastModified",
        "data[].dateLastVisit",
        "data[].dateLastComment",
        "sessionExpires",
        "BhRestToken",
        "restUrl",
        "entityMetaUrl",
    ] {
        redact(&mut value, path, "[volatile]");
    }
    value
}

#[tokio::test]
async fn app_connects_whole_round_runs_against_the_face() {
    let bh = Bullhorn::start().await;
    let connection = bh.connection(None).await;
    let (tokens, session) = bh.sign_in(None).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(session.rest_url.ends_with('/'), "{}", session.rest_url);
    assert!(session
        .rest_url
        .starts_with(&format!("{}/bullhorn/rest-services/", bh.server.url())));

    let (status, ping) = bh.call(&session, Method::GET, "ping", None).await;
    assert_eq!(status, 200);
    let expires = ping["sessionExpires"].as_i64().expect("millis");
    assert!(
        expires > chrono::Utc::now().timestamp_millis() + 120_000,
        "the connector refreshes a session within two minutes of its end"
    );

    // getUserInfo: the user by username, with the BhRestToken in the query.
    let username = connection["credentials"]["username"]
        .as_str()
        .expect("username");
    let (status, users) = send(bh.http.get(format!(
        "{}query/CorporateUser?fields=id,name,timeZoneOffsetEST,masterUserID&BhRestToken={}&where=username='{username}'",
        session.rest_url, session.token
    )))
    .await;
    assert_eq!(status, 200, "{users}");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("corporate_user", users));
    assert_eq!(
        format!("{}-bullhorn", users["data"][0]["masterUserID"]),
        connection["user"]["id"].as_str().expect("id")
    );

    // Account data.
    let (_, actions) = bh
        .call(&session, Method::GET, "settings/commentActionList", None)
        .await;
    assert!(actions["commentActionList"]
        .as_array()
        .is_some_and(|list| !list.is_empty()));
    let (_, meta) = bh
        .call(&session, Method::GET, "meta/Lead?fields=status", None)
        .await;
    snapshot_settings().bind(|| insta::assert_json_snapshot!("meta_lead_status", redacted(meta)));

    // findContact: the seeded Jane is a ClientContact, nobody a Candidate.
    let fields = "fields=id,name,email,phone,dateAdded,dateLastModified,dateLastVisit";
    let (status, found) = bh
        .call(
            &session,
            Method::POST,
            &format!("search/ClientContact?{fields}"),
            Some(phone_query("4155550199")),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("search_phone", redacted(found)));
    let (_, candidates) = bh
        .call(
            &session,
            Method::POST,
            "search/Candidate?fields=id,name",
            Some(phone_query("4155550199")),
        )
        .await;
    assert_eq!(candidates["total"], 0);

    // createContact (Contact): the placeholder corporation, then the contact.
    let placeholder = json!({"query": "name:RingCentral_CRM_Extension_Placeholder_Company"});
    let (_, none) = bh
        .call(
            &session,
            Method::POST,
            "search/ClientCorporation?fields=id,name",
            Some(placeholder.clone()),
        )
        .await;
    assert_eq!(none["total"], 0);
    let (status, company) = bh
        .call(
            &session,
            Method::PUT,
            "entity/ClientCorporation",
            Some(json!({"name": "RingCentral_CRM_Extension_Placeholder_Company", "companyDescription": "<b>made by App Connect</b>"})),
        )
        .await;
    assert_eq!(status, 200, "{company}");
    let company_id = company["changedEntityId"].as_i64().expect("id");
    let (_, again) = bh
        .call(
            &session,
            Method::POST,
            "search/ClientCorporation?fields=id,name",
            Some(placeholder),
        )
        .await;
    assert_eq!(
        again["data"][0]["id"], company_id,
        "a second contact reuses it"
    );
    let (status, created) = bh
        .call(
            &session,
            Method::PUT,
            "entity/ClientContact",
            Some(json!({
                "name": "Pat Placed", "firstName": "Pat", "lastName": "Placed",
                "phone": "+14155550123", "clientCorporation": {"id": company_id},
                "status": "Active",
            })),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["changeType"], "INSERT");
    let contact = created["changedEntityId"].as_i64().expect("id");

    // Found again by phone (national digits) and by name.
    let (_, by_phone) = bh
        .call(
            &session,
            Method::POST,
            &format!("search/ClientContact?{fields}"),
            Some(phone_query("4155550123")),
        )
        .await;
    assert_eq!(by_phone["data"][0]["id"], contact, "{by_phone}");
    let (_, by_name) = bh
        .call(
            &session,
            Method::POST,
            "search/ClientContact?fields=id,name,email,phone,status,dateAdded",
            Some(name_query("Pat Placed")),
        )
        .await;
    assert_eq!(by_name["total"], 1, "{by_name}");
    assert_eq!(by_name["data"][0]["name"], "Pat Placed");

    // createCallLog → getCallLog → updateCallLog → getCallLog.
    let (status, logged) = bh
        .call(
            &session,
            Method::PUT,
            "entity/Note",
            Some(call_note(contact)),
        )
        .await;
    assert_eq!(status, 200, "{logged}");
    let note = logged["changedEntityId"].as_i64().expect("id");
    let get = format!("entity/Note/{note}?fields=comments,candidates,clientContacts,action");
    let (status, got) = bh.call(&session, Method::GET, &get, None).await;
    assert_eq!(status, 200, "{got}");
    snapshot_settings().bind(|| insta::assert_json_snapshot!("note_got", redacted(got.clone())));
    assert_eq!(got["data"]["clientContacts"]["total"], 1);
    assert_eq!(got["data"]["candidates"]["total"], 0);
    let edited = "<ul><li><b>Summary</b>: Outbound Call to Pat Placed (edited)</li></ul><br><b>Agent notes</b><br>Call back Friday.";
    let (status, updated) = bh
        .call(
            &session,
            Method::POST,
            &format!("entity/Note/{note}"),
            Some(json!({"comments": edited, "minutesSpent": 2, "dateAdded": 1777645800000_i64})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["changeType"], "UPDATE");
    let (_, got) = bh
        .call(
            &session,
            Method::GET,
            &format!("entity/Note/{note}?fields=comments,minutesSpent,dateAdded,externalID"),
            None,
        )
        .await;
    assert_eq!(got["data"]["comments"], edited);
    assert_eq!(got["data"]["minutesSpent"], 2);
    assert_eq!(got["data"]["dateAdded"], 1777645800000_i64);
    assert_eq!(got["data"]["externalID"], "session-77");

    // The native API sees the same activity, as a Call with its revisions.
    let (status, activity) = bh.native(&format!("/activity/{note}")).await;
    assert_eq!(status, 200, "{activity}");
    assert_eq!(activity["type"], "Call");
    assert_eq!(activity["subject"], "Outbound Call to Pat Placed (edited)");
    assert_eq!(activity["body"], edited);
    assert_eq!(activity["session_id"], "session-77");
    assert_eq!(activity["duration"], 120);
    let activity_id = activity["id"].as_str().expect("id").to_owned();
    let (_, revisions) = bh
        .admin(&format!("/__admin/activities/{activity_id}/revisions"))
        .await;
    assert_eq!(
        revisions["items"].as_array().map(Vec::len),
        Some(2),
        "{revisions}"
    );
    let (_, listed) = bh.admin("/__admin/activities?q=Pat%20Placed").await;
    assert!(
        listed.to_string().contains("\"via\":\"bullhorn\""),
        "{listed}"
    );
    let (_, contact_json) = bh.native(&format!("/contact/{contact}")).await;
    assert_eq!(contact_json["name"], "Pat Placed");

    // createMessageLog → updateMessageLog.
    let sms = "<br><b>SMS conversation with Pat Placed - 26/05/01</b><br><b>Conversation summary</b><br>Participants<br>Conversation(1 messages)<br>BEGIN<br>------------<br><ul><li>Pat Placed 02:30 PM<br><b>hello</b></li></ul>------------<br>END<br><br>";
    let (status, message) = bh
        .call(
            &session,
            Method::PUT,
            "entity/Note",
            Some(json!({
                "comments": sms, "action": "",
                "personReference": {"id": contact, "personSubtype": "Contact"},
                "dateAdded": "2026-05-01T14:30:00.000Z",
            })),
        )
        .await;
    assert_eq!(status, 200, "{message}");
    let message = message["changedEntityId"].as_i64().expect("id");
    let (_, got) = bh
        .call(
            &session,
            Method::GET,
            &format!("entity/Note/{message}?fields=id,comments"),
            None,
        )
        .await;
    let body = got["data"]["comments"].as_str().expect("comments");
    let added = body
        .replace(
            "</ul>------------<br>",
            "<li>Test User 02:31 PM<br><b>bye</b></li></ul>------------<br>",
        )
        .replace("Conversation(1 messages)", "Conversation(2 messages)");
    let (status, _) = bh
        .call(
            &session,
            Method::POST,
            &format!("entity/Note/{message}"),
            Some(json!({"comments": added, "dateAdded": "2026-05-01T14:30:00.000Z"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, stored) = bh.native(&format!("/activity/{message}")).await;
    assert_eq!(stored["type"], "SMS");
    assert_eq!(
        stored["subject"],
        "SMS conversation with Pat Placed - 26/05/01"
    );
    assert!(stored["body"]
        .as_str()
        .is_some_and(|b| b.contains("hello") && b.contains("bye")));
    bh.shutdown().await;
}

#[tokio::test]
async fn what_the_native_api_writes_the_face_reads() {
    let bh = Bullhorn::start().await;
    let (status, created) = send(
        bh.http
            .post(format!("{}/contact", bh.server.url()))
            .bearer_auth(DEV_KEY)
            .json(&json!({"name": "Nia Native", "phone_number": "+1 (212) 555-0101"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (_, session) = bh.sign_in(None).await;
    let (_, found) = bh
        .call(
            &session,
            Method::POST,
            "search/ClientContact?fields=id,name,phone",
            Some(phone_query("2125550101")),
        )
        .await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["data"][0]["id"], created["number"]);
    let (status, activity) = send(
        bh.http
            .post(format!("{}/activity", bh.server.url()))
            .bearer_auth(DEV_KEY)
            .json(&json!({
                "subject": "Native call", "type": "Call", "body": "<p>hi</p>",
                "body_format": "text/html", "contact_id": created["id"],
                "received_at": "2026-05-01T10:00:00Z",
            })),
    )
    .await;
    assert_eq!(status, 201, "{activity}");
    let (status, note) = bh
        .call(
            &session,
            Method::GET,
            &format!(
                "entity/Note/{}?fields=comments,clientContacts,dateAdded",
                activity["number"]
            ),
            None,
        )
        .await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(note["data"]["comments"], "<p>hi</p>");
    assert_eq!(
        note["data"]["clientContacts"]["data"][0]["firstName"],
        "Nia"
    );
    assert_eq!(note["data"]["dateAdded"], 1777629600000_i64);
    bh.shutdown().await;
}

#[tokio::test]
async fn each_organisation_sees_only_its_own_records() {
    let bh = Bullhorn::with_seed(Seed::default_seed()).await;
    let (status, tenant) = send(
        bh.http
            .post(format!("{}/__admin/tenants", bh.server.url()))
            .bearer_auth(ADMIN)
            .json(&json!({"name": "other"})),
    )
    .await;
    assert_eq!(status, 201, "{tenant}");
    let other = tenant["id"].as_str().expect("id");
    let (_, ours) = bh.sign_in(None).await;
    let (_, theirs) = bh.sign_in(Some(other)).await;
    assert_ne!(ours.rest_url, theirs.rest_url, "one corporation token each");
    let (_, logged) = bh
        .call(&ours, Method::PUT, "entity/Note", Some(call_note(1)))
        .await;
    let note = logged["changedEntityId"].as_i64().expect("id");
    let (status, body) = bh
        .call(
            &theirs,
            Method::GET,
            &format!("entity/Note/{note}?fields=comments"),
            None,
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["errorMessageKey"], "errors.cannotFindEntity");
    // Another corporation's restUrl with our session is refused.
    let foreign = Session {
        rest_url: theirs.rest_url.clone(),
        token: ours.token.clone(),
    };
    let (status, body) = bh.call(&foreign, Method::GET, "ping", None).await;
    assert_eq!(status, 401, "{body}");
    // Their copy of the seed's Jane is theirs, with its own number.
    let (_, mine) = bh
        .call(
            &ours,
            Method::POST,
            "search/ClientContact?fields=id",
            Some(phone_query("4155550199")),
        )
        .await;
    let (_, yours) = bh
        .call(
            &theirs,
            Method::POST,
            "search/ClientContact?fields=id",
            Some(phone_query("4155550199")),
        )
        .await;
    assert_eq!(mine["total"], 1);
    assert_eq!(yours["total"], 1);
    assert_ne!(mine["data"][0]["id"], yours["data"][0]["id"]);
    bh.shutdown().await;
}
