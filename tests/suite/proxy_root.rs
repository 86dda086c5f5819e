//! App Connect's own sample config (`fixtures/proxy-configs/app-connect-
//! sample-like.json` has its shape): served as it ships, with an empty
//! `baseUrl` (at the server's root), and with a `baseUrl`, every operation
//! runs through mockcrm's proxy engine, getUserInfo answering the one value
//! its id and name share. And what `serve` refuses at start about configs
//! like it: a root route that mockcrm's own routes would take, and a
//! mapping no answer can satisfy.

use mockcrm::{
    load_proxy_config, load_proxy_configs, ProxyConfig, ProxyConnector, ProxyOperation as Op,
};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::cli::{
    assert_one_line_failure, fixture_path, mockcrm_in_env, serve_reading_stderr, startup_line,
};
use crate::proxy_lifecycle::{arguments, checks, lifecycle, native_get, serving};
use crate::support::{answer, read_fixture, DEV_KEY};

const SAMPLE: &str = "proxy-configs/app-connect-sample-like.json";

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// The sample as it ships, or with `base_url` put in it.
fn sample(base_url: &str) -> ProxyConfig {
    let text =
        read_fixture(SAMPLE).replace(r#""baseUrl": """#, &format!(r#""baseUrl": "{base_url}""#));
    let loaded = load_proxy_configs(&[("app-connect-sample-like.json", &text)])
        .unwrap_or_else(|e| panic!("the sample loads to be served: {e}"));
    loaded.into_iter().next().expect("one config").config
}

/// Every operation of the sample, through the engine, against `config`
/// served on its own.
async fn every_operation(config: &ProxyConfig, label: &str) {
    let crm = serving(vec![config.clone()]).await;
    let engine = ProxyConnector::pointed_at(config, &crm.server.url()).expect("connector");
    let now = chrono::Utc::now();

    // getUserInfo: id and name share body.user.username, which holds the id.
    let sign_in =
        object(json!({"apiKey": DEV_KEY, "platform": "mockcrm", "hostname": "crm.example"}));
    let exchange = engine
        .exchange(Op::GetUserInfo, &sign_in, now)
        .await
        .unwrap_or_else(|e| panic!("{label}: getUserInfo: {e}"));
    assert_eq!(exchange.status, 200, "{label}");
    assert_eq!(
        exchange.response["user"]["username"], "crm-user-1",
        "{label}: {}",
        exchange.response
    );
    assert_eq!(
        exchange.response["message"],
        Value::Null,
        "{label}: the mapped message holds null"
    );
    let info = engine
        .call(Op::GetUserInfo, &sign_in, now)
        .await
        .unwrap_or_else(|e| panic!("{label}: getUserInfo: {e}"));
    let user = &info["platformUserInfo"];
    assert_eq!(user["id"], "crm-user-1-mockcrm", "{label}: {info}");
    assert_eq!(
        user["name"], "crm-user-1",
        "{label}: the name is the id, as the mapping reads it"
    );
    assert_eq!(
        user["platformAdditionalInfo"]["userResponse"]["username"], "crm-user-1",
        "{label}"
    );
    assert_eq!(
        info["returnMessage"]["message"], "Connected to mockcrm.",
        "{label}"
    );

    // findContact, createCallLog, getCallLog, updateCallLog (and the
    // journal of it all, through the native API).
    let log_id = lifecycle(config, &crm).await;
    let (status, stored) = answer(native_get(&crm, &log_id)).await;
    assert_eq!(
        (status, &stored["contact_id"]),
        (200, &json!("contact-1")),
        "{label}: {stored}"
    );

    let create = arguments("create-call-log/outbound-recording-pending.json");
    let user = create["user"].clone();
    let auth = create["authHeader"].clone();
    let created = engine
        .call(
            Op::CreateContact,
            &object(
                json!({"user": user, "authHeader": auth, "phoneNumber": "+14155550123",
                "newContactName": "Ana Lead", "newContactType": "Lead"}),
            ),
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("{label}: createContact: {e}"));
    let contact = &created["contactInfo"];
    assert!(
        contact["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("con_")),
        "{label}: {created}"
    );
    assert_eq!(
        (&contact["name"], &contact["type"]),
        (&json!("Ana Lead"), &json!("Lead")),
        "{label}"
    );

    let message = json!({"id": "msg-7", "subject": "Can we talk at 3?", "direction": "Inbound",
        "from": {"phoneNumber": "+14155550199"}, "creationTime": "2024-01-15T15:30:00.000Z"});
    let contact_info = json!({"id": "contact-1", "name": "Jane Contact"});
    let logged = engine
        .call(
            Op::CreateMessageLog,
            &object(
                json!({"user": user, "authHeader": auth, "contactInfo": contact_info,
                "message": message, "recordingLink": ""}),
            ),
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("{label}: createMessageLog: {e}"));
    let message_log = logged["logId"]
        .as_str()
        .unwrap_or_else(|| panic!("{label}: {logged}"))
        .to_owned();
    assert_ne!(
        message_log, log_id,
        "{label}: a message log of its own, not the call's"
    );
    let (_, stored) = answer(native_get(&crm, &message_log)).await;
    assert_eq!(stored["type"], "Message", "{label}: {stored}");
    assert_eq!(stored["subject"], "Message with Jane Contact", "{label}");
    assert_eq!(stored["body"], "Can we talk at 3?", "{label}");
    let mut later = message.clone();
    later["subject"] = json!("Moved to 4.");
    let updated = engine
        .call(
            Op::UpdateMessageLog,
            &object(
                json!({"user": user, "authHeader": auth, "contactInfo": contact_info,
                "existingMessageLog": {"thirdPartyLogId": message_log}, "message": later}),
            ),
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("{label}: updateMessageLog: {e}"));
    assert_eq!(
        updated["returnMessage"]["message"], "Message log updated",
        "{label}"
    );
    let (_, stored) = answer(native_get(&crm, &message_log)).await;
    assert_eq!(stored["body"], "Moved to 4.", "{label}");
    let (_, call) = answer(native_get(&crm, &log_id)).await;
    assert_eq!(
        call["type"], "PhoneCommunication",
        "{label}: the call log is untouched"
    );

    assert_eq!(checks(&crm).await["violations"], json!([]), "{label}");
    crm.shutdown().await;
}

#[tokio::test]
async fn app_connects_sample_runs_every_operation_as_it_ships_and_with_a_base_url() {
    every_operation(&sample(""), "as it ships").await;
    every_operation(&sample("https://crm.example/api/v2"), "with a baseUrl").await;
}

#[tokio::test]
async fn an_empty_base_url_is_served_at_the_root_beside_the_native_api() {
    let crm = serving(vec![sample("")]).await;
    let basic = format!("Basic {}", base64_key());
    let (status, body) = answer(
        crm.anonymous(Method::GET, "/authentication")
            .header("authorization", basic.clone()),
    )
    .await;
    assert_eq!(
        (status, &body["user"]["username"]),
        (200, &json!("crm-user-1")),
        "{body}"
    );
    // Native routes keep their own rules.
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 200);
    let (status, _) = answer(crm.anonymous(Method::GET, "/health")).await;
    assert_eq!(status, 200);
    // A path neither knows: 404 naming the config's routes.
    let (status, body) = answer(
        crm.anonymous(Method::GET, "/nothing")
            .header("authorization", basic),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("GET /authentication (getUserInfo)"),
        "{message}"
    );
    crm.shutdown().await;
}

/// `Basic base64(<key>)`'s token: the sample's credential is the key alone.
fn base64_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(DEV_KEY)
}

#[test]
fn serve_says_which_base_url_to_put_in_an_empty_one() {
    let sample = fixture_path(SAMPLE);
    let (served, mut stderr) = serve_reading_stderr(
        &[
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--proxy-config",
            &sample,
        ],
        &[],
    );
    let line = startup_line(&mut stderr, "app-connect-sample-like.json");
    assert!(
        line.contains(&format!(
            "baseUrl is empty, so the operations are served at the server's root; put baseUrl {} in the config; serves getUserInfo, findContact, createContact, createCallLog, updateCallLog, getCallLog, createMessageLog, updateMessageLog",
            served.url
        )),
        "{line}"
    );
    served.terminate();
}

#[test]
fn serve_refuses_at_start_what_it_could_not_answer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    };
    let sample_text = read_fixture(SAMPLE);
    let cases = [
        (
            write(
                "takes-contact.json",
                &sample_text.replace(r#""url": "/contacts","#, r#""url": "/contact","#),
            ),
            "takes-contact.json: operations.findContact.url: GET /contact (findContact) would take mockcrm's own GET /contact: an empty requestDefaults.baseUrl serves the operations at the server's root",
        ),
        (
            write(
                "takes-admin.json",
                &sample_text.replace(r#""url": "/authentication""#, r#""url": "/__admin/{{apiKey}}""#),
            ),
            "takes-admin.json: operations.getUserInfo.url: GET /__admin/{{apiKey}} (getUserInfo) would take mockcrm's own /__admin/…",
        ),
        (
            write(
                "nested.json",
                &sample_text.replace(r#""namePath": "body.user.username","#, r#""namePath": "body.user.username.name","#),
            ),
            "nested.json: operations.getUserInfo.responseMapping: idPath (body.user.username) and namePath (body.user.username.name): one is inside the other",
        ),
        (
            write(
                "outside.json",
                &sample_text.replace(r#""idPath": "body.activity.id""#, r#""idPath": "activity.id""#),
            ),
            "outside.json: operations.createCallLog.responseMapping.idPath: \"activity.id\" is not under body",
        ),
    ];
    let sample = fixture_path(SAMPLE);
    let serve = |configs: &[&str]| {
        let mut args = vec!["serve", "--addr", "127.0.0.1:0", "--db", ":memory:"];
        for config in configs {
            args.extend(["--proxy-config", config]);
        }
        mockcrm_in_env(&args, "", &[])
    };
    for (path, mentions) in cases {
        let output = serve(&[&path]);
        assert_one_line_failure(&output, mentions);
        assert!(
            output.stdout.is_empty(),
            "nothing listened: {:?}",
            output.stdout
        );
    }
    // Two configs at the root.
    let second = write("second-root.json", &sample_text);
    assert_one_line_failure(
        &serve(&[&sample, &second]),
        "second-root.json: requestDefaults.baseUrl: base path / is already claimed by",
    );
    // With a path of its own, a route like a native one is the config's.
    let text = sample_text
        .replace(r#""url": "/contacts","#, r#""url": "/contact","#)
        .replace(
            r#""baseUrl": """#,
            r#""baseUrl": "https://crm.example/crm""#,
        );
    assert!(load_proxy_config("own-path.json", &text).is_ok());
}
