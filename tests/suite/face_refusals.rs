//! The harness's refusals in front of each CRM face (an injected fault's
//! status, the rate limit's 429) answered in that CRM's own error shape,
//! with the refusal's status and `Retry-After`: a connector written for
//! Redtail, Insightly or Pipedrive reads them as its CRM would send them.
//! The native API keeps mockcrm's own shape for the same refusals.

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::insightly_face::{call_log as insightly_call_log, insightly};
use crate::pipedrive_face::{call_log as pipedrive_call_log, Pipedrive, ADMIN};
use crate::redtail_face::Redtail;
use crate::support::{answer, error_code, snapshot_settings, TestCrm};
use mockcrm::ServerConfig;

/// A refusal as it arrived: its status, `Retry-After` and JSON body.
#[derive(Debug)]
struct Refusal {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn refusal(request: RequestBuilder) -> Refusal {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    Refusal {
        status,
        retry_after,
        body,
    }
}

/// A one-shot fault on `path`'s creates: 503 with `Retry-After: 7`.
fn fault(path: &str) -> Value {
    json!({"method": "POST", "path": path, "status": 503, "retry_after": 7, "times": 1})
}

/// The body with the fault's id (which changes from run to run) replaced.
fn redacted(body: &Value, fault_id: &str) -> Value {
    let text = body.to_string().replace(fault_id, "[fault]");
    serde_json::from_str(&text).expect("JSON")
}

/// A config whose rate limit of 1 a second a manual clock never refills.
fn limited(crms: &[&str]) -> ServerConfig {
    ServerConfig {
        rate_limit: Some(1),
        clock: mockcrm::Clock::manual().0,
        crms: crms.iter().map(|crm| (*crm).to_owned()).collect(),
        ..ServerConfig::ephemeral()
    }
}

fn redtail_errors(body: &Value) -> &Vec<Value> {
    assert!(body.get("error").is_none(), "mockcrm's shape: {body}");
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors list in {body}"));
    assert!(errors.iter().all(Value::is_string) && !errors.is_empty());
    errors
}

fn insightly_message(body: &Value) -> &str {
    assert!(body.get("error").is_none(), "mockcrm's shape: {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    body["Message"]
        .as_str()
        .unwrap_or_else(|| panic!("no Message in {body}"))
}

fn pipedrive_error(body: &Value) -> &str {
    assert_eq!(body["success"], false, "{body}");
    assert!(body["data"].is_null() && body.get("error_info").is_some());
    body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error text in {body}"))
}

#[tokio::test]
async fn a_fault_on_redtails_create_answers_in_redtails_shape() {
    let rt = Redtail::start().await;
    let path = "/redtail/api/public/v1/activities";
    let (status, added) = answer(
        rt.crm
            .as_key(ADMIN, Method::POST, "/__admin/faults")
            .json(&fault(path)),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let fault_id = added["id"].as_str().expect("id");
    let log = json!({"subject": "Outbound Call to Jane", "start_date": "2026-07-14T03:00:00Z",
        "activity_code_id": 3, "category_id": 2, "linked_contacts": [{"contact_id": 1}]});
    let seen = refusal(rt.call(Method::POST, "/activities").json(&log)).await;
    assert_eq!(seen.status, 503);
    assert_eq!(seen.retry_after.as_deref(), Some("7"));
    let errors = redtail_errors(&seen.body);
    assert!(errors[0].as_str().is_some_and(|m| m.contains(fault_id)));
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("redtail_fault", redacted(&seen.body, fault_id));
    });
    // The fault fired once, and the write it replaced never happened.
    let (status, created) = answer(rt.call(Method::POST, "/activities").json(&log)).await;
    assert_eq!(status, 201, "{created}");
    let (_, listed) = answer(rt.native(Method::GET, "/activity")).await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    rt.crm.shutdown().await;
}

#[tokio::test]
async fn redtails_rate_limit_is_a_429_in_its_shape() {
    let rt = Redtail::with_config(limited(&["redtail"])).await;
    let (first, _) = answer(rt.call(Method::GET, "/lists/categories")).await;
    assert_eq!(first, 200);
    let seen = refusal(rt.call(Method::GET, "/lists/categories")).await;
    assert_eq!(seen.status, 429, "{:?}", seen.body);
    assert!(seen.retry_after.is_some(), "no Retry-After");
    let errors = redtail_errors(&seen.body);
    assert!(errors[0]
        .as_str()
        .is_some_and(|m| m.contains("retry after")));
    rt.crm.shutdown().await;
}

#[tokio::test]
async fn a_fault_on_insightlys_create_answers_in_insightlys_shape() {
    let crm = TestCrm::with_config(ServerConfig {
        crms: vec!["insightly".into()],
        ..ServerConfig::ephemeral()
    })
    .await;
    let (status, added) = answer(
        crm.as_key(ADMIN, Method::POST, "/__admin/faults")
            .json(&fault("/insightly/v3.1/events")),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let fault_id = added["id"].as_str().expect("id");
    let seen =
        refusal(insightly(&crm, Method::POST, "/events").json(&insightly_call_log("Lost"))).await;
    assert_eq!(seen.status, 503);
    assert_eq!(seen.retry_after.as_deref(), Some("7"));
    assert!(insightly_message(&seen.body).contains(fault_id));
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("insightly_fault", redacted(&seen.body, fault_id));
    });
    crm.shutdown().await;
}

#[tokio::test]
async fn insightlys_rate_limit_is_a_429_in_its_shape() {
    let crm = TestCrm::with_config(limited(&["insightly"])).await;
    let (first, _) = answer(insightly(&crm, Method::GET, "/users/me")).await;
    assert_eq!(first, 200);
    let seen = refusal(insightly(&crm, Method::GET, "/users/me")).await;
    assert_eq!(seen.status, 429, "{:?}", seen.body);
    assert!(seen.retry_after.is_some(), "no Retry-After");
    assert!(insightly_message(&seen.body).contains("retry after"));
    // The same key on the native API shares the budget, in mockcrm's shape.
    let (status, body) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 429);
    assert_eq!(error_code(&body), "rate_limited");
    crm.shutdown().await;
}

#[tokio::test]
async fn a_fault_on_pipedrives_create_answers_in_pipedrives_shape() {
    let pd = Pipedrive::start().await;
    let token = pd.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (status, added) = crate::pipedrive_face::send(
        pd.plain
            .post(format!("{}/__admin/faults", pd.server.url()))
            .bearer_auth(ADMIN)
            .json(&fault("/pipedrive/api/v2/activities")),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let fault_id = added["id"].as_str().expect("id");
    let url = format!("{}/api/v2/activities", pd.base().await);
    let seen = refusal(
        pd.https
            .post(url)
            .bearer_auth(&token)
            .json(&pipedrive_call_log(1)),
    )
    .await;
    assert_eq!(seen.status, 503);
    assert_eq!(seen.retry_after.as_deref(), Some("7"));
    assert!(pipedrive_error(&seen.body).contains(fault_id));
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("pipedrive_fault", redacted(&seen.body, fault_id));
    });
    pd.shutdown().await;
}

#[tokio::test]
async fn pipedrives_rate_limit_is_a_429_in_its_shape() {
    let pd = Pipedrive::with_config(limited(&[])).await;
    let token = pd.connection(None).await["credentials"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let url = format!("{}/v1/activityTypes", pd.base().await);
    let first = refusal(pd.https.get(&url).bearer_auth(&token)).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let seen = refusal(pd.https.get(&url).bearer_auth(&token)).await;
    assert_eq!(seen.status, 429, "{:?}", seen.body);
    assert!(seen.retry_after.is_some(), "no Retry-After");
    assert!(pipedrive_error(&seen.body).contains("retry after"));
    pd.shutdown().await;
}
