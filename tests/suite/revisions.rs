//! Revisions through the admin API: every write of an activity (create,
//! keyed create, PATCH) is kept with the journal id of the request that
//! made it, a replay writes none, and `GET /__admin/activities` lists every
//! organisation's activities with their revision counts, narrowed by
//! `?org=`, contact, session and text.

use crate::support::{answer, error_code, TestCrm};
use mockcrm::Seed;
use reqwest::Method;
use serde_json::{json, Value};

const ADMIN: &str = "mockcrm-admin";

fn call(session: &str, body: &str) -> Value {
    json!({
        "subject": "Outbound Call to Jane Contact",
        "body": body,
        "type": "PhoneCommunication",
        "contact_id": "contact-1",
        "session_id": session,
        "duration": 125,
    })
}

/// The journal's entries, oldest first, as (id, method, status).
async fn journal(crm: &TestCrm) -> Vec<(u64, String, u64)> {
    let (_, body) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/requests")).await;
    let mut entries: Vec<(u64, String, u64)> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["id"].as_u64().expect("id"),
                e["method"].as_str().expect("method").to_owned(),
                e["status"].as_u64().expect("status"),
            )
        })
        .collect();
    entries.reverse();
    entries
}

#[tokio::test]
async fn each_write_is_a_revision_naming_its_request() {
    let crm = TestCrm::start().await;
    let created = crm
        .create_activity(call("s-1", "- Duration: 2 minutes, 5 seconds\n"))
        .await;
    let id = created["id"].as_str().expect("id");
    let (status, _) = answer(
        crm.dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"body": "- Duration: 12 minutes\n", "duration": 720})),
    )
    .await;
    assert_eq!(status, 200);
    // A keyed create, and its replay, which writes nothing.
    for _ in 0..2 {
        let (status, _) = answer(
            crm.dev(Method::POST, "/activity")
                .header("idempotency-key", "call-s-2")
                .json(&call("s-2", "b")),
        )
        .await;
        assert_eq!(status, 201);
    }

    let entries = journal(&crm).await;
    let ids: Vec<u64> = entries.iter().map(|e| e.0).collect();
    assert_eq!(ids, [1, 2, 3, 4]);
    let (status, revisions) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities/{id}/revisions"),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(revisions["organisation"]["name"], "Acme");
    assert!(revisions["organisation"]["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("org_")));
    let items = revisions["items"].as_array().expect("items");
    let seen: Vec<(u64, u64, &str, Value)> = items
        .iter()
        .map(|r| {
            (
                r["number"].as_u64().expect("number"),
                r["request_id"].as_u64().expect("journaled"),
                r["activity"]["body"].as_str().expect("body"),
                r["activity"]["duration"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (1, 1, "- Duration: 2 minutes, 5 seconds\n", json!(125)),
            (2, 2, "- Duration: 12 minutes\n", json!(720)),
        ]
    );
    assert_eq!(
        items[0]["activity"], created,
        "revision 1 is the created activity"
    );
    assert_eq!(items[1]["at"], items[1]["activity"]["updated_at"]);

    let (_, listed) =
        answer(crm.as_key(ADMIN, Method::GET, "/__admin/activities?session_id=s-2")).await;
    let keyed = &listed["items"][0];
    assert_eq!(keyed["revisions"], 1, "the replay wrote no revision");
    let keyed_id = keyed["activity"]["id"].as_str().expect("id");
    let (_, keyed_revisions) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities/{keyed_id}/revisions"),
    ))
    .await;
    assert_eq!(keyed_revisions["items"][0]["request_id"], 3);

    // Gone with their activity.
    let (status, _) = answer(crm.dev(Method::DELETE, &format!("/activity/{id}"))).await;
    assert_eq!(status, 204);
    let (status, body) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities/{id}/revisions"),
    ))
    .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    crm.shutdown().await;
}

#[tokio::test]
async fn a_write_whose_answer_a_fault_replaced_still_names_its_request() {
    let crm = TestCrm::start().await;
    let (status, _) = answer(crm.as_key(ADMIN, Method::POST, "/__admin/faults").json(&json!({
        "method": "POST", "path": "/activity", "status": 503, "times": 1, "after_commit": true
    })))
    .await;
    assert_eq!(status, 201);
    let (status, _) = answer(crm.dev(Method::POST, "/activity").json(&call("s-f", "b"))).await;
    assert_eq!(status, 503);
    let (_, listed) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/activities")).await;
    let id = listed["items"][0]["activity"]["id"]
        .as_str()
        .expect("written");
    let (_, revisions) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities/{id}/revisions"),
    ))
    .await;
    let request_id = revisions["items"][0]["request_id"].as_u64().expect("id");
    let (_, requests) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/requests")).await;
    let entry = &requests["items"][0];
    assert_eq!(entry["id"], request_id);
    assert_eq!(
        (entry["status"].as_u64(), entry["fault_id"].is_string()),
        (Some(503), true)
    );
    crm.shutdown().await;
}

#[tokio::test]
async fn the_listing_spans_organisations_and_narrows_by_each_filter() {
    let seed: Seed = serde_json::from_str(&crate::support::read_fixture("two-organisations.json"))
        .expect("seed");
    let crm = TestCrm::with_seed(seed).await;
    let (_, other) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/activities")).await;
    assert_eq!(other["items"], json!([]));
    crm.create_activity(call("s-a", "Jane asked about PRICING"))
        .await;
    let globex_key = {
        let text = crate::support::read_fixture("two-organisations.json");
        let seed: Value = serde_json::from_str(&text).expect("json");
        seed["organisations"][1]["users"][0]["api_key"]
            .as_str()
            .expect("second organisation's key")
            .to_owned()
    };
    let (status, _) = answer(crm.as_key(&globex_key, Method::POST, "/activity").json(&json!({
        "subject": "Inbound Call", "type": "PhoneCommunication", "session_id": "s-b", "body": "x"
    })))
    .await;
    assert_eq!(status, 201);

    let list = |query: String| {
        let request = crm.as_key(ADMIN, Method::GET, &format!("/__admin/activities{query}"));
        async move {
            let (status, body) = answer(request).await;
            assert_eq!(status, 200, "{query}: {body}");
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|item| {
                    item["activity"]["session_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("".to_owned()).await, ["s-b", "s-a"]);
    assert_eq!(list("?q=pricing".to_owned()).await, ["s-a"]);
    assert_eq!(list("?contact_id=contact-1".to_owned()).await, ["s-a"]);
    assert_eq!(list("?session_id=s-b".to_owned()).await, ["s-b"]);
    let (_, all) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/activities")).await;
    let globex = all["items"][0]["organisation"]["id"]
        .as_str()
        .expect("an organisation id")
        .to_owned();
    assert_eq!(list(format!("?org={globex}")).await, ["s-b"]);
    assert_eq!(
        list(format!("?org={globex}&q=pricing")).await,
        Vec::<String>::new()
    );
    let (status, body) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/activities?org=77")).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
    let (status, body) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/activities?org=")).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_field"));
    crm.shutdown().await;
}
