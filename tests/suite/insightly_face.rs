//! The Insightly face (`serve --crm insightly`), route by route: each
//! route App Connect's Insightly connector calls, with good input and with
//! bad (no or a wrong API key, a record that is not there, a field
//! missing), answered in Insightly's shapes (`{"Message"}` errors,
//! upper-case fields, integer ids); an unserved route's 404 and its hint;
//! tenants and faults reaching the face as they reach the native API (a
//! fault answered in Insightly's shape).
//! `insightly_face_lifecycle.rs` plays the connector's whole sequence.

use mockcrm::{basic_header_for_key, ServerConfig};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::support::{answer, TestCrm, DEV_KEY};

pub const BASE: &str = "/insightly/v3.1";
pub const ADMIN: &str = "mockcrm-admin";

pub async fn serving_insightly() -> TestCrm {
    TestCrm::with_config(ServerConfig {
        crms: vec!["insightly".into()],
        ..ServerConfig::ephemeral()
    })
    .await
}

/// A request to the face as `key`'s user, signed in as App Connect does.
pub fn insightly_as(crm: &TestCrm, key: &str, method: Method, path: &str) -> RequestBuilder {
    crm.anonymous(method, &format!("{BASE}{path}"))
        .header("authorization", basic_header_for_key(key))
}

pub fn insightly(crm: &TestCrm, method: Method, path: &str) -> RequestBuilder {
    insightly_as(crm, DEV_KEY, method, path)
}

/// Asserts Insightly's error shape and returns its message.
pub fn message(body: &Value) -> &str {
    assert!(body.get("error").is_none(), "mockcrm's shape: {body}");
    let message = body["Message"]
        .as_str()
        .unwrap_or_else(|| panic!("no Message in {body}"));
    assert!(!message.is_empty());
    message
}

/// A call log as App Connect's connector posts it (moment dates as ISO).
pub fn call_log(title: &str) -> Value {
    json!({
        "TITLE": title,
        "DETAILS": "- Summary: a call\n- Duration: 2 minutes 5 seconds\n",
        "START_DATE_UTC": "2024-01-15T15:30:00.000Z",
        "END_DATE_UTC": "2024-01-15T15:32:05.000Z",
    })
}

async fn create_event(crm: &TestCrm, body: Value) -> Value {
    let (status, event) = answer(insightly(crm, Method::POST, "/events").json(&body)).await;
    assert_eq!(status, 200, "{event}");
    event
}

#[tokio::test]
async fn sign_in_answers_the_user_and_bad_credentials_get_insightlys_401() {
    let crm = serving_insightly().await;
    let (status, me) = answer(insightly(&crm, Method::GET, "/users/me")).await;
    assert_eq!(status, 200, "{me}");
    assert!(me["USER_ID"].is_i64(), "{me}");
    assert_eq!(me["FIRST_NAME"], "Test");
    assert_eq!(me["LAST_NAME"], "User");
    // The seed's -05:00, as a zone moment-timezone reads.
    assert_eq!(me["TIMEZONE_ID"], "Etc/GMT+5");
    // Routes are Insightly's, in any case.
    let (status, again) = answer(insightly(&crm, Method::GET, "/Users/Me")).await;
    assert_eq!((status, &again), (200, &me));

    for request in [
        crm.anonymous(Method::GET, &format!("{BASE}/users/me")),
        insightly_as(&crm, "no-such-key", Method::GET, "/users/me"),
        insightly_as(&crm, "", Method::GET, "/contacts/search"),
    ] {
        let response = request.send().await.expect("sent");
        assert_eq!(response.status(), 401);
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .is_ok_and(|value| value.starts_with("Basic")));
        let body: Value = response.json().await.expect("JSON");
        assert!(message(&body).contains("Authorization has been denied"));
    }
    let (status, users) = answer(insightly(&crm, Method::GET, "/users")).await;
    assert_eq!(status, 200);
    assert_eq!(users.as_array().map(Vec::len), Some(1), "{users}");
    assert_eq!(users[0]["USER_ID"], me["USER_ID"]);
    crm.shutdown().await;
}

#[tokio::test]
async fn a_phone_search_finds_by_the_national_number_and_every_result_has_links() {
    let crm = serving_insightly().await;
    let search = |kind: &str, field: &str, value: &str| {
        insightly(
            &crm,
            Method::GET,
            &format!("/{kind}/search?field_name={field}&field_value={value}&brief=false"),
        )
    };
    // The seed's Jane Contact is +14155550199; App Connect sends 4155550199.
    let (status, found) = answer(search("contacts", "PHONE", "4155550199")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["FIRST_NAME"], "Jane");
    assert_eq!(found[0]["LAST_NAME"], "Contact");
    assert_eq!(found[0]["PHONE"], "+14155550199");
    assert_eq!(found[0]["LINKS"], json!([]));
    assert!(found[0]["CONTACT_ID"].is_i64());
    for (kind, field) in [
        ("contacts", "PHONE_MOBILE"),
        ("leads", "PHONE"),
        ("leads", "MOBILE"),
    ] {
        let (status, none) = answer(search(kind, field, "4155550199")).await;
        assert_eq!((status, none), (200, json!([])), "{kind} {field}");
    }
    // brief leaves the collections out.
    let (_, brief) = answer(insightly(
        &crm,
        Method::GET,
        "/contacts/search?field_name=PHONE&field_value=4155550199&brief=true",
    ))
    .await;
    assert!(brief[0].get("LINKS").is_none(), "{brief}");
    assert_eq!(brief[0]["CONTACT_ID"], found[0]["CONTACT_ID"]);
    crm.shutdown().await;
}

#[tokio::test]
async fn a_name_search_matches_the_whole_first_or_last_name_in_any_case() {
    let crm = serving_insightly().await;
    let search = |field: &str, value: &str| {
        insightly(
            &crm,
            Method::GET,
            &format!("/contacts/search?field_name={field}&field_value={value}"),
        )
    };
    let (_, by_first) = answer(search("FIRST_NAME", "priya")).await;
    assert_eq!(by_first.as_array().map(Vec::len), Some(1), "{by_first}");
    assert_eq!(by_first[0]["LAST_NAME"], "Raman");
    let (_, by_last) = answer(search("last_name", "RAMAN")).await;
    assert_eq!(by_last, by_first);
    let (_, part) = answer(search("FIRST_NAME", "pri")).await;
    assert_eq!(part, json!([]), "a search matches whole values");
    // Everyone, paged.
    let (_, all) = answer(insightly(&crm, Method::GET, "/contacts/search")).await;
    assert_eq!(all.as_array().map(Vec::len), Some(4), "{all}");
    let (_, page) = answer(insightly(
        &crm,
        Method::GET,
        "/contacts/search?skip=1&top=2",
    ))
    .await;
    assert_eq!(page.as_array().map(Vec::len), Some(2));
    assert_eq!(page[0], all[1]);

    // A field with no value looks for an empty one; a value with no field
    // is ignored.
    let (_, empty) = answer(insightly(
        &crm,
        Method::GET,
        "/contacts/search?field_name=PHONE",
    ))
    .await;
    assert_eq!(empty, json!([]));
    let (_, ignored) = answer(insightly(
        &crm,
        Method::GET,
        "/contacts/search?field_value=1",
    ))
    .await;
    assert_eq!(ignored, all);

    for (query, expected) in [
        (
            "field_name=PHONE_EXTRA__c&field_value=1",
            "Invalid field name",
        ),
        ("top=501", "top"),
        ("skip=-1", "skip"),
        ("skip=1000001", "skip"),
        ("brief=maybe", "brief"),
    ] {
        let (status, body) = answer(insightly(
            &crm,
            Method::GET,
            &format!("/contacts/search?{query}"),
        ))
        .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(message(&body).contains(expected), "{query}: {body}");
    }
    crm.shutdown().await;
}

#[tokio::test]
async fn contacts_and_leads_are_created_read_and_kept_apart() {
    let crm = serving_insightly().await;
    let (status, contact) = answer(insightly(&crm, Method::POST, "/contacts").json(&json!({
        "PHONE": "+16505550123", "FIRST_NAME": "Ada", "LAST_NAME": "Lovelace"
    })))
    .await;
    assert_eq!(status, 200, "{contact}");
    let id = contact["CONTACT_ID"].as_i64().expect("an integer id");
    let (status, lead) = answer(insightly(&crm, Method::POST, "/leads").json(&json!({
        "PHONE": "+16505550124", "FIRST_NAME": "Grace", "LAST_NAME": "Lead"
    })))
    .await;
    assert_eq!(status, 200, "{lead}");
    let lead_id = lead["LEAD_ID"].as_i64().expect("an integer id");

    let (status, read) = answer(insightly(&crm, Method::GET, &format!("/Contacts/{id}"))).await;
    assert_eq!((status, &read), (200, &contact));
    let (status, read) = answer(insightly(&crm, Method::GET, &format!("/leads/{lead_id}"))).await;
    assert_eq!((status, &read), (200, &lead));
    // A contact is not a lead, and the other way round.
    for path in [
        format!("/leads/{id}"),
        format!("/contacts/{lead_id}"),
        "/contacts/999999".to_owned(),
        "/contacts/0".to_owned(),
    ] {
        let (status, body) = answer(insightly(&crm, Method::GET, &path)).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(message(&body).contains("was found"), "{body}");
    }
    let (_, leads) = answer(insightly(
        &crm,
        Method::GET,
        "/leads/search?field_name=PHONE&field_value=6505550124",
    ))
    .await;
    assert_eq!(leads.as_array().map(Vec::len), Some(1), "{leads}");
    assert_eq!(leads[0]["LEAD_ID"], lead_id);

    for (path, body, expected) in [
        (
            "/contacts",
            json!({"LAST_NAME": "Only"}),
            "FIRST_NAME is required",
        ),
        (
            "/leads",
            json!({"FIRST_NAME": "Only"}),
            "LAST_NAME is required",
        ),
        (
            "/contacts",
            json!({"FIRST_NAME": ["x"]}),
            "FIRST_NAME must be text",
        ),
    ] {
        let (status, answered) = answer(insightly(&crm, Method::POST, path).json(&body)).await;
        assert_eq!(status, 400, "{body}: {answered}");
        assert!(message(&answered).contains(expected), "{answered}");
    }
    let (status, body) = answer(
        insightly(&crm, Method::POST, "/contacts")
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, 400);
    message(&body);
    crm.shutdown().await;
}

#[tokio::test]
async fn events_refuse_what_insightly_refuses() {
    let crm = serving_insightly().await;
    let mut no_title = call_log("x");
    no_title.as_object_mut().map(|o| o.remove("TITLE"));
    let mut no_start = call_log("x");
    no_start.as_object_mut().map(|o| o.remove("START_DATE_UTC"));
    let mut backwards = call_log("x");
    backwards["END_DATE_UTC"] = json!("2024-01-15 15:00:00");
    let mut bad_date = call_log("x");
    bad_date["START_DATE_UTC"] = json!("tomorrow");
    for (body, expected) in [
        (no_title, "TITLE"),
        (no_start, "START_DATE_UTC"),
        (backwards, "END_DATE_UTC"),
        (bad_date, "START_DATE_UTC"),
    ] {
        let (status, answered) = answer(insightly(&crm, Method::POST, "/events").json(&body)).await;
        assert_eq!(status, 400, "{body}: {answered}");
        assert!(message(&answered).contains(expected), "{answered}");
    }
    let event = create_event(&crm, call_log("Outbound Call to Jane")).await;
    let id = event["EVENT_ID"].as_i64().expect("an integer id");

    for path in ["/events/999999", "/events/abc", "/events/999999/links"] {
        let (status, body) = answer(insightly(&crm, Method::GET, path)).await;
        assert_eq!(status, 404, "{path}: {body}");
        message(&body);
    }
    for (body, status) in [
        (json!({"DETAILS": "no id"}), 400),
        (json!({"EVENT_ID": "x1", "DETAILS": "bad id"}), 400),
        (json!({"EVENT_ID": 999999, "DETAILS": "gone"}), 404),
        (json!({"EVENT_ID": id, "TITLE": ""}), 400),
        (json!({"EVENT_ID": id, "TITLE": null}), 400),
        (json!({"EVENT_ID": id, "END_DATE_UTC": null}), 400),
        (json!({"EVENT_ID": 0, "DETAILS": "no such id"}), 400),
    ] {
        let (answered, reply) = answer(insightly(&crm, Method::PUT, "/events").json(&body)).await;
        assert_eq!(answered, status, "{body}: {reply}");
        message(&reply);
    }
    let link = |event: i64, body: Value| {
        insightly(&crm, Method::POST, &format!("/events/{event}/links")).json(&body)
    };
    for (event, body, status) in [
        (
            id,
            json!({"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": 999999}),
            404,
        ),
        (
            id,
            json!({"LINK_OBJECT_NAME": "Organisation", "LINK_OBJECT_ID": 1}),
            400,
        ),
        (id, json!({"LINK_OBJECT_NAME": "contact"}), 400),
        (id, json!({"LINK_OBJECT_ID": 1}), 400),
        (
            999999,
            json!({"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": 1}),
            404,
        ),
    ] {
        let (answered, reply) = answer(link(event, body.clone())).await;
        assert_eq!(answered, status, "{body}: {reply}");
        message(&reply);
    }
    // An event for two people at once is a conflict: one contact each.
    let mut two = call_log("Inbound Call from two people");
    two["LINKS"] = json!([
        {"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": 1},
        {"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": 2},
    ]);
    let (status, reply) = answer(insightly(&crm, Method::POST, "/events").json(&two)).await;
    assert_eq!(status, 409, "{reply}");
    message(&reply);
    // Nothing above changed the event.
    let (_, read) = answer(insightly(&crm, Method::GET, &format!("/events/{id}"))).await;
    assert_eq!(read, event);
    crm.shutdown().await;
}

#[tokio::test]
async fn an_unserved_route_is_insightlys_404_with_the_routes_served() {
    let crm = serving_insightly().await;
    let response = insightly(&crm, Method::GET, "/tasks")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    let hint = response.headers()["x-mockcrm-hint"]
        .to_str()
        .expect("text")
        .to_owned();
    for route in [
        "GET /v3.1/users/me",
        "PUT /v3.1/events",
        "POST /v3.1/events/{id}/links",
    ] {
        assert!(hint.contains(route), "{hint}");
    }
    let body: Value = response.json().await.expect("JSON");
    assert!(message(&body).contains("No HTTP resource"), "{body}");
    // Even without credentials, a wrong path is a 404 first.
    let response = crm
        .anonymous(Method::GET, &format!("{BASE}/contact/search"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 404);
    assert!(response.headers()["x-mockcrm-hint"]
        .to_str()
        .is_ok_and(|hint| hint.starts_with("did you mean GET /v3.1/contacts/search?")));
    // A served path with another method is a 405 naming the methods.
    let response = insightly(&crm, Method::DELETE, "/events")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST, PUT");
    crm.shutdown().await;
}

#[tokio::test]
async fn a_tenant_sees_only_its_own_records_through_the_face() {
    let crm = serving_insightly().await;
    let (status, tenant) = answer(
        crm.as_key(ADMIN, Method::POST, "/__admin/tenants")
            .json(&json!({"name": "insightly-job"})),
    )
    .await;
    assert_eq!(status, 201, "{tenant}");
    let key = tenant["api_key"].as_str().expect("key").to_owned();
    let event = create_event(&crm, call_log("Inbound Call from Jane")).await;
    let path = format!("/events/{}", event["EVENT_ID"]);
    let (status, body) = answer(insightly_as(&crm, &key, Method::GET, &path)).await;
    assert_eq!(status, 404, "another organisation's event: {body}");
    let (status, created) = answer(
        insightly_as(&crm, &key, Method::POST, "/contacts")
            .json(&json!({"FIRST_NAME": "Only", "LAST_NAME": "Mine", "PHONE": "+12125550111"})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let search = "/contacts/search?field_name=PHONE&field_value=2125550111";
    let (_, theirs) = answer(insightly_as(&crm, &key, Method::GET, search)).await;
    assert_eq!(theirs.as_array().map(Vec::len), Some(1));
    let (_, ours) = answer(insightly(&crm, Method::GET, search)).await;
    assert_eq!(ours, json!([]));
    // The journal keeps the tenant's requests under its organisation.
    let (_, journal) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!(
            "/__admin/requests?org={}",
            tenant["id"].as_str().expect("id")
        ),
    ))
    .await;
    let paths: Vec<&str> = journal["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|entry| entry["path"].as_str())
        .collect();
    assert!(paths.contains(&"/insightly/v3.1/contacts"), "{paths:?}");
    assert!(!paths.contains(&"/insightly/v3.1/events"), "{paths:?}");
    crm.shutdown().await;
}

#[tokio::test]
async fn a_fault_on_a_face_path_fires_and_leaves_the_store_alone() {
    let crm = serving_insightly().await;
    let (status, fault) = answer(crm.as_key(ADMIN, Method::POST, "/__admin/faults").json(
        &json!({"method": "POST", "path": "/insightly/v3.1/events", "status": 429,
                "retry_after": 1, "times": 1}),
    ))
    .await;
    assert!(status == 200 || status == 201, "{fault}");
    let response = insightly(&crm, Method::POST, "/events")
        .json(&call_log("Lost"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    // As Insightly would send it: a connector reads a fault as the CRM's.
    let body: Value = response.json().await.expect("JSON");
    assert!(message(&body).contains("injected"), "{body}");
    let event = create_event(&crm, call_log("Kept")).await;
    let (_, listed) = answer(crm.dev(Method::GET, "/activity")).await;
    let subjects: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["subject"].as_str())
        .collect();
    assert_eq!(subjects, ["Kept"], "{listed}");
    assert!(event["EVENT_ID"].is_i64());
    crm.shutdown().await;
}

/// `GET /Events/Search`: how a connector finds the event a create whose
/// answer was lost wrote (by the `LOCATION` it marked it with), before it
/// creates another.
#[tokio::test]
async fn an_event_is_found_by_its_whole_location_or_title_and_a_bad_search_is_refused() {
    let crm = serving_insightly().await;
    let marked = |location: &str| {
        let mut event = call_log("Inbound Call from Jane Contact");
        event["LOCATION"] = json!(location);
        event
    };
    let first = create_event(&crm, marked("RingCentral call 42")).await;
    let second = create_event(&crm, marked("RingCentral call 421")).await;
    create_event(&crm, call_log("Outbound Call to Priya Raman")).await;

    // Whole value, trimmed, any case; the field name in any case too.
    let (status, found) = answer(insightly(
        &crm,
        Method::GET,
        "/Events/Search?field_name=location&field_value=%20ringcentral%20CALL%2042",
    ))
    .await;
    assert_eq!(status, 200, "{found}");
    let ids = |found: &Value| -> Vec<Value> {
        found
            .as_array()
            .unwrap_or_else(|| panic!("an array: {found}"))
            .iter()
            .map(|event| event["EVENT_ID"].clone())
            .collect()
    };
    assert_eq!(ids(&found), [first["EVENT_ID"].clone()]);
    assert_eq!(found[0]["LOCATION"], "RingCentral call 42");
    // By title, oldest first, paged by skip and top.
    let by_title =
        "/events/search?field_name=TITLE&field_value=Inbound%20Call%20from%20Jane%20Contact";
    let (_, both) = answer(insightly(&crm, Method::GET, by_title)).await;
    assert_eq!(
        ids(&both),
        [first["EVENT_ID"].clone(), second["EVENT_ID"].clone()]
    );
    let (_, paged) = answer(insightly(
        &crm,
        Method::GET,
        &format!("{by_title}&skip=1&top=1"),
    ))
    .await;
    assert_eq!(ids(&paged), [second["EVENT_ID"].clone()]);
    let (_, none) = answer(insightly(
        &crm,
        Method::GET,
        "/events/search?field_name=LOCATION&field_value=RingCentral%20call%204",
    ))
    .await;
    assert_eq!(none, json!([]), "a part of the value finds nothing");
    // Another organisation's user finds none of them.
    let (status, tenant) = answer(
        crm.as_key(ADMIN, Method::POST, "/__admin/tenants")
            .json(&json!({"name": "search-elsewhere"})),
    )
    .await;
    assert_eq!(status, 201, "{tenant}");
    let (_, elsewhere) = answer(insightly_as(
        &crm,
        tenant["api_key"].as_str().expect("key"),
        Method::GET,
        "/events/search?field_name=LOCATION&field_value=RingCentral%20call%2042",
    ))
    .await;
    assert_eq!(elsewhere, json!([]));

    for (query, says) in [
        ("", "field_name"),
        (
            "?field_name=DETAILS&field_value=x",
            "Invalid field name \"DETAILS\"",
        ),
        ("?field_name=TITLE&field_value=x&top=501", "top"),
        ("?field_name=TITLE&field_value=x&skip=some", "skip"),
    ] {
        let (status, refused) = answer(insightly(
            &crm,
            Method::GET,
            &format!("/events/search{query}"),
        ))
        .await;
        assert_eq!(status, 400, "{query}: {refused}");
        assert!(message(&refused).contains(says), "{query}: {refused}");
    }
    let (status, _) = answer(crm.anonymous(
        Method::GET,
        &format!("{BASE}/events/search?field_name=TITLE"),
    ))
    .await;
    assert_eq!(status, 401);

    let mut found = found;
    for event in found.as_array_mut().into_iter().flatten() {
        for field in ["DATE_CREATED_UTC", "DATE_UPDATED_UTC", "EVENT_ID"] {
            crate::support::redact(event, field, "[redacted]");
        }
    }
    crate::support::snapshot_settings()
        .bind(|| insta::assert_json_snapshot!("insightly_events_search", found));
    crm.shutdown().await;
}
