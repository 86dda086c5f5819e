//! The Redtail face (`serve --crm redtail`) as App Connect's Redtail
//! connector drives it: sign in with the partner key, username and
//! password `GET /__admin/crms` hands out, find contacts by phone and by
//! name, create one, log a call (create, note, complete), read it back with
//! its linked contact, update it, log and update a message; every answer in
//! Redtail's shape and fitting the face's part of `GET /openapi.json`, and
//! every record the same one the native API and the admin API see.

use base64::Engine;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::openapi::validator;
use crate::support::{answer, redact, snapshot_settings, TestCrm, DEV_KEY};
use mockcrm::ServerConfig;

pub(crate) const ADMIN: &str = "mockcrm-admin";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A server serving the Redtail face, and how to reach it as the
/// organisation's user.
pub(crate) struct Redtail {
    pub crm: TestCrm,
    pub base: String,
    pub api_key: String,
    pub username: String,
    pub password: String,
    /// The user key App Connect is handed ready (`user.accessToken`).
    pub ready_user_key: String,
}

impl Redtail {
    pub async fn start() -> Redtail {
        Redtail::with_config(ServerConfig::ephemeral()).await
    }

    pub async fn with_config(config: ServerConfig) -> Redtail {
        let crm = TestCrm::with_config(ServerConfig {
            crms: vec!["redtail".into()],
            ..config
        })
        .await;
        Redtail::of(crm, None).await
    }

    /// The face of `crm` as the first user of organisation `org` (the
    /// seed's first without one).
    pub async fn of(crm: TestCrm, org: Option<&str>) -> Redtail {
        let path = match org {
            Some(org) => format!("/__admin/crms?org={org}"),
            None => "/__admin/crms".to_owned(),
        };
        let (status, crms) = answer(crm.as_key(ADMIN, Method::GET, &path)).await;
        assert_eq!(status, 200, "{crms}");
        let face = crms["crms"]
            .as_array()
            .and_then(|faces| faces.iter().find(|face| face["name"] == "redtail"))
            .unwrap_or_else(|| panic!("no redtail in {crms}"))
            .clone();
        let text = |value: &Value| {
            value
                .as_str()
                .unwrap_or_else(|| panic!("{value}"))
                .to_owned()
        };
        Redtail {
            base: text(&face["env"]["REDTAIL_API_SERVER"]),
            api_key: text(&face["env"]["REDTAIL_API_KEY"]),
            username: text(&face["credentials"]["username"]),
            password: text(&face["credentials"]["password"]),
            ready_user_key: text(&face["user"]["accessToken"]),
            crm,
        }
    }

    pub fn login_header(&self) -> String {
        format!(
            "Basic {}",
            b64(&format!(
                "{}:{}:{}",
                self.api_key, self.username, self.password
            ))
        )
    }

    /// `Authorization` as App Connect's connector sends it after sign-in.
    pub fn user_header(&self, user_key: &str) -> String {
        b64(&format!("{}:{user_key}", self.api_key))
    }

    /// A request to `path` below the API's base, with no credentials.
    pub fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.crm
            .http
            .request(method, format!("{}{path}", self.base))
    }

    /// A request as the signed-in user.
    pub fn call(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path)
            .header("authorization", self.user_header(&self.ready_user_key))
    }

    /// Signs in as App Connect's `getUserInfo` does; the user key.
    pub async fn sign_in(&self) -> (u16, Value) {
        answer(
            self.bare(Method::GET, "/authentication")
                .header("authorization", self.login_header()),
        )
        .await
    }

    pub fn native(&self, method: Method, path: &str) -> RequestBuilder {
        self.crm.as_key(DEV_KEY, method, path)
    }
}

/// Asserts `body` fits the document's component schema `name`.
fn fits(doc: &Value, name: &str, body: &Value) {
    let schema = json!({"$ref": format!("#/components/schemas/{name}")});
    let errors = validator(doc, &schema).errors(body);
    assert!(errors.is_empty(), "{body} is not a {name}:\n{errors}");
}

#[tokio::test]
async fn app_connects_lifecycle_through_redtail_is_one_world_with_the_native_api() {
    let rt = Redtail::start().await;
    let (status, doc) = answer(rt.crm.anonymous(Method::GET, "/openapi.json")).await;
    assert_eq!(status, 200);
    let mut steps: Vec<Value> = Vec::new();
    let mut step = |name: &str, status: u16, body: &Value| {
        steps.push(json!({"step": name, "status": status, "body": body}));
    };

    // getUserInfo: the user key it answers is the one handed out ready.
    let (status, signed_in) = rt.sign_in().await;
    assert_eq!(status, 200, "{signed_in}");
    fits(&doc, "RedtailAuthentication", &signed_in);
    let user_key = signed_in["authenticated_user"]["user_key"]
        .as_str()
        .expect("user_key")
        .to_owned();
    assert_eq!(user_key, rt.ready_user_key);
    let (again, signed_in_again) = rt.sign_in().await;
    assert_eq!(
        (again, &signed_in_again),
        (200, &signed_in),
        "sign-in is stable"
    );
    step("sign in", status, &signed_in);
    // The user key works bare (as App Connect sends it) and after Userkeyauth.
    let header = rt.user_header(&user_key);
    for value in [header.clone(), format!("Userkeyauth {header}")] {
        let (status, _) = answer(
            rt.bare(Method::GET, "/lists/categories")
                .header("authorization", value),
        )
        .await;
        assert_eq!(status, 200);
    }

    // findContact: national digits, then the categories.
    let (status, found) = answer(rt.call(
        Method::GET,
        "/contacts/search_basic?phone_number=4155550199",
    ))
    .await;
    assert_eq!(status, 200, "{found}");
    fits(&doc, "RedtailContactList", &found);
    assert_eq!(found["contacts"].as_array().map(Vec::len), Some(1));
    assert_eq!(found["contacts"][0]["first_name"], "Jane");
    assert_eq!(found["contacts"][0]["last_name"], "Contact");
    assert_eq!(found["contacts"][0]["id"], 1, "the seed's first contact");
    step("find by phone", status, &found);
    let (status, categories) = answer(rt.call(Method::GET, "/lists/categories")).await;
    fits(&doc, "RedtailCategoryList", &categories);
    step("categories", status, &categories);
    let (status, by_name) = answer(rt.call(Method::GET, "/contacts/search_basic?name=priya")).await;
    assert_eq!(status, 200);
    assert_eq!(by_name["contacts"][0]["full_name"], "Priya Raman");
    let (_, nobody) = answer(rt.call(
        Method::GET,
        "/contacts/search_basic?phone_number=4155557031",
    ))
    .await;
    assert_eq!(nobody["contacts"], json!([]));

    // createContact.
    let (status, created) = answer(rt.call(Method::POST, "/contacts").json(&json!({
        "type": "Crm::Contact::Individual",
        "first_name": "Taylor",
        "last_name": "Morgan",
        "phones": [{"phone_type": 6, "number": "4155557031", "country_code": 1}],
    })))
    .await;
    assert_eq!(status, 201, "{created}");
    fits(&doc, "RedtailContactEnvelope", &created);
    let contact_id = created["contact"]["id"].as_i64().expect("integer id");
    assert_eq!(contact_id, 5, "after the seed's four");
    step("create contact", status, &created);
    let (_, found) = answer(rt.call(
        Method::GET,
        "/contacts/search_basic?phone_number=4155557031",
    ))
    .await;
    assert_eq!(found["contacts"][0]["id"], contact_id);
    let (status, one) = answer(rt.call(Method::GET, &format!("/contacts/{contact_id}"))).await;
    assert_eq!((status, &one["contact"]), (200, &created["contact"]));

    // createCallLog: create, note, complete.
    let description = "<li><b>Summary</b>: Inbound Call from Taylor Morgan</li><li><b>Session Id</b>: 4500000001</li><b>Agent notes</b><br>Wants a review<br><br>";
    let (status, posted) = answer(rt.call(Method::POST, "/activities").json(&json!({
        "subject": "Inbound Call from Taylor Morgan",
        "description": description,
        "start_date": "2026-07-14T03:00:00.000Z",
        "end_date": "2026-07-14T03:01:05.000Z",
        "activity_code_id": 3,
        "category_id": 2,
        "repeats": "never",
        "linked_contacts": [{"contact_id": contact_id}],
    })))
    .await;
    assert_eq!(status, 201, "{posted}");
    fits(&doc, "RedtailActivityEnvelope", &posted);
    let call = posted["activity"]["id"].as_i64().expect("integer id");
    assert_eq!(posted["activity"]["completed"], false);
    step("create call log", status, &posted);
    let (status, note) = answer(
        rt.call(Method::POST, &format!("/activities/{call}/notes"))
            .json(&json!({
                "category_id": 2, "note_type": 1, "body": "Wants a review",
            })),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    fits(&doc, "RedtailNoteEnvelope", &note);
    step("add note", status, &note);
    let (status, completed) = answer(
        rt.call(Method::PUT, &format!("/activities/{call}"))
            .json(&json!({"completed": true})),
    )
    .await;
    assert_eq!(status, 200, "{completed}");
    assert_eq!(
        completed["activity"]["id"], call,
        "the log id comes from here"
    );
    assert_eq!(completed["activity"]["completed"], true);
    assert_eq!(
        completed["activity"]["description"], description,
        "kept byte for byte"
    );
    step("complete", status, &completed);

    // getCallLog: the contact's names only with `include: linked_contacts`.
    let (status, plain) = answer(rt.call(Method::GET, &format!("/activities/{call}"))).await;
    assert_eq!(status, 200);
    assert!(
        plain["activity"].get("linked_contacts").is_none(),
        "{plain}"
    );
    let (status, got) = answer(
        rt.call(Method::GET, &format!("/activities/{call}"))
            .header("include", "linked_contacts"),
    )
    .await;
    assert_eq!(status, 200);
    fits(&doc, "RedtailActivityEnvelope", &got);
    let linked = &got["activity"]["linked_contacts"][0];
    assert_eq!(
        (&linked["first_name"], &linked["last_name"]),
        (&json!("Taylor"), &json!("Morgan"))
    );
    assert_eq!(got["activity"]["category_id"], 2);
    step("get call log", status, &got);

    // updateCallLog, then getCallLog again.
    let updated_body = format!("{description}<li><b>Result</b>: Call connected</li>");
    let (status, updated) = answer(rt.call(Method::PUT, &format!("/activities/{call}")).json(
        &json!({
            "subject": "Inbound Call from Taylor Morgan (reviewed)",
            "description": updated_body,
            "start_date": "2026-07-14T03:00:00.000Z",
            "end_date": "2026-07-14T03:02:00.000Z",
        }),
    ))
    .await;
    assert_eq!(status, 200, "{updated}");
    step("update call log", status, &updated);
    let (_, got) = answer(
        rt.call(Method::GET, &format!("/activities/{call}"))
            .header("include", "linked_contacts"),
    )
    .await;
    assert_eq!(got["activity"]["description"], updated_body);
    assert_eq!(
        got["activity"]["subject"],
        "Inbound Call from Taylor Morgan (reviewed)"
    );
    assert_eq!(got["activity"]["end_date"], "2026-07-14T03:02:00.000Z");
    assert_eq!(
        got["activity"]["completed"], true,
        "an update keeps what it does not send"
    );

    // createMessageLog (no category), completed; updateMessageLog: GET, PATCH.
    let sms_body = "<br><b>SMS conversation with Taylor Morgan - 26/07/14</b><br>Conversation(1 messages)<br>BEGIN<br>------------<br><ul><li>Taylor Morgan 03:00 AM<br><b>Hello</b></li></ul>------------<br>END<br><br>";
    let (status, sms) = answer(rt.call(Method::POST, "/activities").json(&json!({
        "subject": "SMS conversation with Taylor Morgan - 26/07/14",
        "description": sms_body,
        "start_date": "2026-07-14T03:00:00.000Z",
        "end_date": "2026-07-14T03:00:00.000Z",
        "activity_code_id": 3,
        "repeats": "never",
        "linked_contacts": [{"contact_id": contact_id}],
    })))
    .await;
    assert_eq!(status, 201, "{sms}");
    let message = sms["activity"]["id"].as_i64().expect("id");
    let (status, _) = answer(
        rt.call(Method::PUT, &format!("/activities/{message}"))
            .json(&json!({"completed": true})),
    )
    .await;
    assert_eq!(status, 200);
    let appended = sms_body.replace(
        "</ul>------------<br>",
        "<li>Test User 03:05 AM<br><b>Hi</b></li></ul>------------<br>",
    );
    let (status, patched) = answer(
        rt.call(Method::PATCH, &format!("/activities/{message}"))
            .json(&json!({
                "description": appended, "end_date": "2026-07-14T03:05:00.000Z",
            })),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    step("update message log", status, &patched);
    assert_eq!(patched["activity"]["description"], appended);
    assert_eq!(
        patched["activity"]["start_date"],
        "2026-07-14T03:00:00.000Z"
    );
    assert_eq!(patched["activity"]["end_date"], "2026-07-14T03:05:00.000Z");

    // The same records through the native API…
    let (status, native) = answer(rt.native(Method::GET, "/activity")).await;
    assert_eq!(status, 200);
    let items = native["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{native}");
    let (native_sms, native_call) = (&items[0], &items[1]);
    assert_eq!(native_call["number"], call);
    assert_eq!(native_call["via"], "redtail");
    assert_eq!(native_call["type"], "PhoneCommunication");
    assert_eq!(native_call["body"], updated_body);
    assert_eq!(native_call["body_format"], "text/html");
    assert_eq!(native_call["note"], "Wants a review");
    assert_eq!(native_call["direction"], "Inbound");
    assert_eq!(native_call["duration"], 120);
    assert_eq!(native_call["session_id"], "4500000001");
    assert_eq!(native_call["received_at"], "2026-07-14T03:00:00.000Z");
    assert_eq!(native_sms["number"], message);
    assert_eq!(native_sms["type"], "SMS");
    assert_eq!(native_sms["duration"], Value::Null);
    let (_, contact) = answer(rt.native(Method::GET, &format!("/contact/{contact_id}"))).await;
    assert_eq!(contact["name"], "Taylor Morgan");
    assert_eq!(contact["phone_number"], "+14155557031");
    assert_eq!(native_call["contact_id"], contact["id"]);
    // …and the admin API: every write through the face a revision.
    let id = native_call["id"].as_str().expect("id");
    let (status, revisions) = answer(rt.crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities/{id}/revisions"),
    ))
    .await;
    assert_eq!(status, 200, "{revisions}");
    let revisions = revisions["items"].as_array().expect("items");
    assert_eq!(revisions.len(), 4, "create, note, complete, update");
    let (_, listed) = answer(rt.crm.as_key(ADMIN, Method::GET, "/__admin/activities")).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    // A native write is seen through the face.
    let (status, _) = answer(
        rt.native(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"subject": "Renamed natively"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, got) = answer(rt.call(Method::GET, &format!("/activities/{call}"))).await;
    assert_eq!(got["activity"]["subject"], "Renamed natively");

    let mut steps = Value::Array(steps);
    for path in [
        "[].body.authenticated_user.user_key",
        "[].body.contacts[].created_at",
        "[].body.contacts[].updated_at",
        "[].body.contact.created_at",
        "[].body.contact.updated_at",
        "[].body.activity.created_at",
        "[].body.activity.updated_at",
        "[].body.note.created_at",
        "[].body.note.updated_at",
    ] {
        redact_all(&mut steps, path);
    }
    snapshot_settings().bind(|| insta::assert_json_snapshot!("redtail_lifecycle", steps));
    rt.crm.shutdown().await;
}

/// `redact` for a path that starts at every element of a top-level array.
fn redact_all(steps: &mut Value, path: &str) {
    let path = path.trim_start_matches("[].");
    if let Value::Array(items) = steps {
        for item in items {
            redact(item, path, "[redacted]");
        }
    }
}

#[tokio::test]
async fn the_document_describes_every_route_of_the_face_and_stays_valid() {
    let rt = Redtail::start().await;
    let (status, doc) = answer(rt.crm.anonymous(Method::GET, "/openapi.json")).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().expect("paths");
    let mut redtail_operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("path item") {
            if operation["tags"] != json!(["redtail"]) {
                continue;
            }
            redtail_operations += 1;
            assert!(path.starts_with("/redtail/api/public/v1/"), "{path}");
            // Every operation is served: a request without credentials is
            // the face's 401, never the 404 of a route it does not serve.
            let concrete = path.replace("{id}", "1");
            let method =
                Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("method");
            let (status, body) = answer(rt.crm.anonymous(method.clone(), &concrete)).await;
            assert_eq!(status, 401, "{method} {concrete}: {body}");
        }
    }
    assert_eq!(redtail_operations, 13);
    crate::openapi::walk(&doc, "", &mut |_, value| {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            crate::openapi::resolve(&doc, &json!({ "$ref": reference }));
        }
    });
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut examples = 0;
    for (name, schema) in schemas
        .iter()
        .filter(|(name, _)| name.starts_with("Redtail"))
    {
        validator(&doc, schema);
        if let Some(example) = schema.get("example") {
            fits(&doc, name, example);
            examples += 1;
        }
    }
    assert!(examples >= 4, "{examples}");
    for scheme in ["RedtailLogin", "RedtailUserKey"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
    // The native API's part is still there beside it.
    assert!(paths.contains_key("/activity/{id}"));
    rt.crm.shutdown().await;
}

/// `GET /contacts/{id}/activities`: how a connector finds the activity a
/// create whose answer was lost wrote, before it creates another.
#[tokio::test]
async fn a_contacts_activities_are_listed_newest_first_and_a_bad_page_or_contact_refused() {
    let rt = Redtail::start().await;
    let (_, doc) = answer(rt.crm.anonymous(Method::GET, "/openapi.json")).await;
    let log = |subject: &str, contact: u32| {
        json!({
            "subject": subject,
            "description": "<li><b>Duration</b>: 5 seconds</li>",
            "start_date": "2024-01-15T15:30:00Z",
            "end_date": "2024-01-15T15:30:05Z",
            "activity_code_id": 3,
            "category_id": 2,
            "linked_contacts": [{"contact_id": contact.to_string()}],
        })
    };
    let mut ids = Vec::new();
    for (subject, contact) in [
        ("Inbound Call from Jane Contact [RingCentral call 41]", 1),
        ("Outbound Call to Priya Raman [RingCentral call 42]", 2),
        ("Outbound Call to Jane Contact [RingCentral call 43]", 1),
    ] {
        let (status, created) = answer(
            rt.call(Method::POST, "/activities")
                .json(&log(subject, contact)),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["activity"]["id"].clone());
    }
    let (status, listed) = answer(rt.call(Method::GET, "/contacts/1/activities")).await;
    assert_eq!(status, 200, "{listed}");
    fits(&doc, "RedtailActivityList", &listed);
    let listed_ids: Vec<&Value> = listed["activities"]
        .as_array()
        .expect("activities")
        .iter()
        .map(|activity| &activity["id"])
        .collect();
    assert_eq!(listed_ids, [&ids[2], &ids[0]], "Jane's, newest first");
    assert_eq!(
        listed["meta"],
        json!({"total_records": 2, "total_pages": 1})
    );
    let (status, past) = answer(rt.call(Method::GET, "/contacts/1/activities?page=2")).await;
    assert_eq!(status, 200);
    assert_eq!(past["activities"], json!([]));
    let (_, none) = answer(rt.call(Method::GET, "/contacts/3/activities")).await;
    assert_eq!(none["meta"], json!({"total_records": 0, "total_pages": 0}));

    for (path, status_wanted, says) in [
        ("/contacts/1/activities?page=0", 422, "page"),
        ("/contacts/1/activities?page=two", 422, "page"),
        (
            "/contacts/999999/activities",
            404,
            "Contact 999999 not found",
        ),
        ("/contacts/jane/activities", 404, "Contact jane not found"),
    ] {
        let (status, refused) = answer(rt.call(Method::GET, path)).await;
        assert_eq!(status, status_wanted, "{path}: {refused}");
        fits(&doc, "RedtailErrors", &refused);
        assert!(refused.to_string().contains(says), "{path}: {refused}");
    }
    let (status, _) = answer(rt.bare(Method::GET, "/contacts/1/activities")).await;
    assert_eq!(status, 401);

    let mut listed = listed;
    for activity in listed["activities"].as_array_mut().into_iter().flatten() {
        for field in ["created_at", "updated_at"] {
            redact(activity, field, "[redacted]");
        }
    }
    snapshot_settings().bind(|| insta::assert_json_snapshot!("redtail_contact_activities", listed));
    rt.crm.shutdown().await;
}
