//! Message logs through each CRM face: App Connect's connectors send the
//! CRM no conversation id, so the face derives one from the contact and
//! the subject (which names the contact and the day). Two logs of one
//! conversation-day are then reported by `split_conversation`, and an
//! update through the face keeps the log's conversation.

use reqwest::Method;
use serde_json::{json, Value};

use crate::insightly_face::insightly;
use crate::pipedrive_face::{call_log as pipedrive_call_log, Pipedrive, ADMIN};
use crate::redtail_face::Redtail;
use crate::support::{answer, TestCrm, DEV_KEY};
use mockcrm::ServerConfig;

const SUBJECT: &str = "SMS conversation with Jane Contact - 26/07/14";

/// The `split_conversation` violations of `checks`, with their activities.
fn splits(checks: &Value) -> Vec<Value> {
    checks["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("no violations in {checks}"))
        .iter()
        .filter(|v| v["kind"] == "split_conversation")
        .cloned()
        .collect()
}

async fn stored(crm: &TestCrm, id: &str) -> Value {
    let (status, activity) =
        answer(crm.as_key(DEV_KEY, Method::GET, &format!("/activity/{id}"))).await;
    assert_eq!(status, 200, "{activity}");
    activity
}

async fn checks(crm: &TestCrm) -> Value {
    let (status, checks) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/checks")).await;
    assert_eq!(status, 200, "{checks}");
    checks
}

#[tokio::test]
async fn redtail_message_logs_of_one_conversation_day_are_a_split() {
    let rt = Redtail::start().await;
    let sms = json!({"subject": SUBJECT, "description": "Jane: hi", "start_date": "2026-07-14T03:00:00Z",
        "end_date": "2026-07-14T03:00:00Z", "activity_code_id": 4, "category_id": 2,
        "linked_contacts": [{"contact_id": 1}]});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, created) = answer(rt.call(Method::POST, "/activities").json(&sms)).await;
        assert_eq!(status, 201, "{created}");
        ids.push(
            created["activity"]["id"]
                .to_string()
                .trim_matches('"')
                .to_owned(),
        );
    }
    let first = stored(&rt.crm, &ids[0]).await;
    assert_eq!(first["type"], "SMS", "{first}");
    let key = first["conversation_log_id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    assert!(
        key.starts_with("redtail:") && key.ends_with(SUBJECT),
        "{key}"
    );
    let (status, _) = answer(
        rt.call(Method::PUT, &format!("/activities/{}", ids[0]))
            .json(&json!({"description": "Jane: hi\nMe: hello"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        stored(&rt.crm, &ids[0]).await["conversation_log_id"],
        json!(key)
    );
    let found = splits(&checks(&rt.crm).await);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["conversation_log_id"], json!(key), "{found:?}");
    // A call log has no conversation.
    let mut call = sms.clone();
    call["subject"] = json!("Outbound Call to Jane Contact");
    let (_, created) = answer(rt.call(Method::POST, "/activities").json(&call)).await;
    let id = created["activity"]["id"].to_string();
    assert!(stored(&rt.crm, id.trim_matches('"'))
        .await
        .get("conversation_log_id")
        .is_none());
    rt.crm.shutdown().await;
}

#[tokio::test]
async fn insightly_message_logs_of_one_conversation_day_are_a_split() {
    let crm = TestCrm::with_config(ServerConfig {
        crms: vec!["insightly".into()],
        ..ServerConfig::ephemeral()
    })
    .await;
    let sms = json!({"TITLE": SUBJECT, "DETAILS": "Jane: hi",
        "START_DATE_UTC": "2026-07-14T03:00:00.000Z", "END_DATE_UTC": "2026-07-14T03:00:00.000Z"});
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, event) = answer(insightly(&crm, Method::POST, "/events").json(&sms)).await;
        assert_eq!(status, 200, "{event}");
        ids.push(event["EVENT_ID"].as_i64().expect("EVENT_ID"));
    }
    let first = stored(&crm, &ids[0].to_string()).await;
    let key = first["conversation_log_id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    assert_eq!(key, format!("insightly::{SUBJECT}"));
    let (status, updated) = answer(insightly(&crm, Method::PUT, "/events").json(
        &json!({"EVENT_ID": ids[0], "DETAILS": "Jane: hi\nMe: hello", "END_DATE_UTC": "2026-07-14T03:05:00.000Z"}),
    ))
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        stored(&crm, &ids[0].to_string()).await["conversation_log_id"],
        json!(key)
    );
    let found = splits(&checks(&crm).await);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["conversation_log_id"], json!(key));
    crm.shutdown().await;
}

#[tokio::test]
async fn pipedrive_message_logs_of_one_conversation_day_are_a_split() {
    let pd = Pipedrive::start().await;
    let token = pd.sign_in(None).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut sms = pipedrive_call_log(1);
    sms["type"] = json!("sms");
    sms["subject"] = json!(SUBJECT);
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, created) = pd
            .call(
                &token,
                Method::POST,
                "/api/v2/activities",
                Some(sms.clone()),
            )
            .await;
        assert_eq!(status, 200, "{created}");
        ids.push(created["data"]["id"].as_i64().expect("id"));
    }
    let (_, first) = pd.native(&format!("/activity/{}", ids[0])).await;
    let key = first["conversation_log_id"]
        .as_str()
        .expect("a conversation")
        .to_owned();
    assert!(
        key.starts_with("pipedrive:") && key.ends_with(SUBJECT),
        "{key}"
    );
    let (status, updated) = pd
        .call(
            &token,
            Method::PATCH,
            &format!("/api/v2/activities/{}", ids[0]),
            Some(json!({"note": "Jane: hi<br>Me: hello"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    let (_, first) = pd.native(&format!("/activity/{}", ids[0])).await;
    assert_eq!(first["conversation_log_id"], json!(key));
    let (status, checks) = crate::pipedrive_face::send(
        pd.plain
            .get(format!("{}/__admin/checks", pd.server.url()))
            .bearer_auth(ADMIN),
    )
    .await;
    assert_eq!(status, 200);
    let found = splits(&checks);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["conversation_log_id"], json!(key));
    pd.shutdown().await;
}
