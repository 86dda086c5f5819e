//! The Insightly face in `GET /openapi.json` of `serve --crm insightly`:
//! every route it serves is there, under its mount, with Insightly's
//! security scheme; every reference resolves and every example fits; and
//! the face's real answers, good and bad, fit the schemas documented for
//! their status.

use reqwest::Method;
use serde_json::{json, Value};

use crate::insightly_face::{call_log, insightly, serving_insightly, BASE};
use crate::openapi::{assert_valid, resolve, walk};
use crate::support::{answer, TestCrm};

async fn served_document(crm: &TestCrm) -> Value {
    let (status, doc) = answer(crm.anonymous(Method::GET, "/openapi.json")).await;
    assert_eq!(status, 200);
    doc
}

/// The schema documented for `method path` answering `status`.
fn documented<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = operation["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {path} {status} is not documented"));
    &resolve(doc, response)["content"]["application/json"]["schema"]
}

#[tokio::test]
async fn the_served_document_describes_the_face_and_its_answers_fit() {
    let crm = serving_insightly().await;
    let doc = served_document(&crm).await;
    // The native API is still there, and the face's routes are added.
    assert!(doc["paths"]["/activity"].is_object());
    for (method, path) in [
        ("get", "/users/me"),
        ("get", "/users"),
        ("get", "/contacts/search"),
        ("post", "/contacts"),
        ("get", "/contacts/{id}"),
        ("get", "/leads/search"),
        ("post", "/leads"),
        ("get", "/leads/{id}"),
        ("post", "/events"),
        ("put", "/events"),
        ("get", "/events/search"),
        ("get", "/events/{id}"),
        ("get", "/events/{id}/links"),
        ("post", "/events/{id}/links"),
    ] {
        let operation = &doc["paths"][format!("{BASE}{path}")][method];
        assert_eq!(
            operation["security"],
            json!([{"insightlyBasic": []}]),
            "{method} {path}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["insightlyBasic"]["scheme"],
        "basic"
    );
    let mut references = 0;
    walk(&doc, "", &mut |pointer, value| {
        if let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            resolve(&doc, &json!({"$ref": reference}));
            references += 1;
        }
        if let (Some(schema), Some(example)) = (value.get("schema"), value.get("example")) {
            assert_valid(&doc, schema, example, pointer);
        }
    });
    assert!(references > 0);
    for (name, schema) in doc["components"]["schemas"].as_object().expect("schemas") {
        if let (true, Some(example)) = (name.starts_with("Insightly"), schema.get("example")) {
            assert_valid(&doc, schema, example, name);
        }
    }

    // Real answers against the schemas of their statuses.
    let check = |method: &str, path: &str, status: u16, body: &Value| {
        let schema = documented(&doc, method, &format!("{BASE}{path}"), status);
        assert_valid(&doc, schema, body, &format!("{method} {path} {status}"));
    };
    let (status, me) = answer(insightly(&crm, Method::GET, "/users/me")).await;
    check("get", "/users/me", status, &me);
    let (status, unauthorized) = answer(crm.anonymous(Method::GET, &format!("{BASE}/users"))).await;
    check("get", "/users", status, &unauthorized);
    let (status, found) = answer(insightly(
        &crm,
        Method::GET,
        "/contacts/search?field_name=PHONE&field_value=4155550199",
    ))
    .await;
    check("get", "/contacts/search", status, &found);
    let (status, refused) = answer(insightly(
        &crm,
        Method::GET,
        "/leads/search?field_name=NOPE&field_value=1",
    ))
    .await;
    check("get", "/leads/search", status, &refused);
    let (status, lead) = answer(
        insightly(&crm, Method::POST, "/leads")
            .json(&json!({"FIRST_NAME": "Lin", "LAST_NAME": "Lead", "PHONE": "+16505550170"})),
    )
    .await;
    check("post", "/leads", status, &lead);
    let (status, event) =
        answer(insightly(&crm, Method::POST, "/events").json(&call_log("Inbound Call from Lin")))
            .await;
    check("post", "/events", status, &event);
    let links = format!("/events/{}/links", event["EVENT_ID"]);
    let (status, link) = answer(
        insightly(&crm, Method::POST, &links)
            .json(&json!({"LINK_OBJECT_NAME": "lead", "LINK_OBJECT_ID": lead["LEAD_ID"]})),
    )
    .await;
    check("post", "/events/{id}/links", status, &link);
    let (status, updated) = answer(
        insightly(&crm, Method::PUT, "/events")
            .json(&json!({"EVENT_ID": event["EVENT_ID"].to_string(), "DETAILS": "later"})),
    )
    .await;
    check("put", "/events", status, &updated);
    let (status, searched) = answer(insightly(
        &crm,
        Method::GET,
        "/events/search?field_name=TITLE&field_value=Inbound%20Call%20from%20Lin",
    ))
    .await;
    assert_eq!(searched.as_array().map(Vec::len), Some(1), "{searched}");
    check("get", "/events/search", status, &searched);
    let (status, unsearchable) = answer(insightly(
        &crm,
        Method::GET,
        "/events/search?field_name=DETAILS",
    ))
    .await;
    assert_eq!(status, 400);
    check("get", "/events/search", status, &unsearchable);
    let (status, missing) = answer(insightly(&crm, Method::GET, "/events/424242")).await;
    check("get", "/events/{id}", status, &missing);
    let (status, bad) = answer(insightly(&crm, Method::POST, "/events").json(&json!({}))).await;
    check("post", "/events", status, &bad);
    assert_eq!(
        [
            me.is_object(),
            unauthorized["Message"].is_string(),
            missing["Message"].is_string()
        ],
        [true; 3]
    );
    assert_eq!(bad["Message"], "TITLE: is required");
    crm.shutdown().await;
}
