//! The Insightly face through App Connect's connector's whole sequence, as
//! its requests go on the wire: sign in, find a contact by phone and by
//! name, create a contact, log a call (event, then link), read it (event,
//! then the linked person by `/${LINK_OBJECT_NAME}s/{id}`), update it,
//! read it again, then log a message and update that log. What the face
//! wrote is what the native API, the admin API and the revisions show,
//! with the face named; the answers are snapshots.

use reqwest::Method;
use serde_json::{json, Value};

use crate::insightly_face::{call_log, insightly_as, serving_insightly, ADMIN};
use crate::support::{answer, redact, snapshot_settings, TestCrm};

/// The API key `GET /__admin/crms` hands out for the face, and its base
/// URL: what App Connect is configured with.
async fn connection(crm: &TestCrm) -> (String, String) {
    let (status, info) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/crms")).await;
    assert_eq!(status, 200, "{info}");
    let face = info["crms"]
        .as_array()
        .and_then(|crms| crms.iter().find(|crm| crm["name"] == "insightly"))
        .unwrap_or_else(|| panic!("no insightly in {info}"))
        .clone();
    assert_eq!(face["env"]["INSIGHTLY_API_VERSION"], "v3.1");
    let api_url = face["user"]["platformAdditionalInfo"]["apiUrl"]
        .as_str()
        .expect("apiUrl");
    // The connector cuts the URL at its first `/v`.
    assert!(!api_url.contains("/v"), "{api_url}");
    assert_eq!(face["base_url"], format!("{api_url}/v3.1"));
    let key = face["credentials"]["apiKey"].as_str().expect("apiKey");
    (
        key.to_owned(),
        face["base_url"].as_str().expect("url").to_owned(),
    )
}

/// Dates the store set when the request ran.
fn redacted(mut value: Value) -> Value {
    for path in ["DATE_CREATED_UTC", "DATE_UPDATED_UTC"] {
        redact(&mut value, path, "[time]");
    }
    value
}

#[tokio::test]
async fn app_connects_sequence_through_the_face_is_seen_by_every_other_face() {
    let crm = serving_insightly().await;
    let (key, base_url) = connection(&crm).await;
    assert_eq!(base_url, crm.url("/insightly/v3.1"));
    let call = |method: Method, path: &str| insightly_as(&crm, &key, method, path);

    // Sign in.
    let (status, me) = answer(call(Method::GET, "/users/me")).await;
    assert_eq!(status, 200, "{me}");

    // findContact: four searches by the national number; nobody yet.
    for (kind, field) in [
        ("contacts", "PHONE"),
        ("contacts", "PHONE_MOBILE"),
        ("leads", "PHONE"),
        ("leads", "MOBILE"),
    ] {
        let path = format!("/{kind}/search?field_name={field}&field_value=6505550188&brief=false");
        let (status, found) = answer(call(Method::GET, &path)).await;
        assert_eq!((status, found), (200, json!([])), "{path}");
    }

    // createContact, as the connector splits the name.
    let (status, contact) = answer(call(Method::POST, "/contacts").json(&json!({
        "PHONE": "+16505550188", "FIRST_NAME": "Marie", "LAST_NAME": "Curie"
    })))
    .await;
    assert_eq!(status, 200, "{contact}");
    let contact_id = contact["CONTACT_ID"].as_i64().expect("id");

    // Found now, by phone and by name.
    let (_, by_phone) = answer(call(
        Method::GET,
        "/contacts/search?field_name=PHONE&field_value=6505550188&brief=false",
    ))
    .await;
    assert_eq!(by_phone, json!([contact.clone()]));
    let (_, by_name) = answer(call(
        Method::GET,
        "/contacts/search?field_name=LAST_NAME&field_value=Curie&brief=false",
    ))
    .await;
    assert_eq!(by_name, json!([contact.clone()]));

    // createCallLog: the event, then its link to the contact.
    let (status, created) =
        answer(call(Method::POST, "/events").json(&call_log("Inbound Call from Marie Curie")))
            .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["LINKS"], json!([]));
    let event_id = created["EVENT_ID"].as_i64().expect("id");
    let (status, link) = answer(
        call(Method::POST, &format!("/events/{event_id}/links"))
            .json(&json!({"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": contact_id})),
    )
    .await;
    assert_eq!(status, 200, "{link}");

    // getCallLog: the event, then the person its first link names.
    let (status, logged) = answer(call(Method::GET, &format!("/events/{event_id}"))).await;
    assert_eq!(status, 200, "{logged}");
    let first_link = &logged["LINKS"][0];
    assert_eq!(first_link["LINK_OBJECT_ID"], contact_id);
    let person_path = format!(
        "/{}s/{}",
        first_link["LINK_OBJECT_NAME"].as_str().expect("name"),
        first_link["LINK_OBJECT_ID"]
    );
    let (status, person) = answer(call(Method::GET, &person_path)).await;
    assert_eq!(status, 200, "{person_path}: {person}");
    assert_eq!(person["FIRST_NAME"], "Marie");

    // updateCallLog: the id as the string core keeps it.
    let (status, updated) = answer(call(Method::PUT, "/events").json(&json!({
        "EVENT_ID": event_id.to_string(),
        "DETAILS": "- Summary: a call\n- Note: call back on Monday\n- Duration: 3 minutes\n",
        "TITLE": "Inbound Call from Marie Curie",
        "START_DATE_UTC": "2024-01-15T15:30:00.000Z",
        "END_DATE_UTC": "2024-01-15T15:33:00.000Z",
    })))
    .await;
    assert_eq!(status, 200, "{updated}");
    let (_, reread) = answer(call(Method::GET, &format!("/events/{event_id}"))).await;
    assert_eq!(reread, updated);
    assert_eq!(reread["END_DATE_UTC"], "2024-01-15 15:33:00");
    assert_eq!(reread["LINKS"], logged["LINKS"], "an update keeps the link");

    // createMessageLog: users/me, the event, its link.
    let sms_body = "\nConversation summary\nMonday, January 15, 2024\nParticipants\n    Test User\n    Marie Curie\n\nConversation(1 messages)\nBEGIN\n------------\nMarie Curie (+16505550188) 03:40 PM\nAre we still on?\n\n------------\nEND\n\n--- Created via RingCentral App Connect";
    let (_, sms) = answer(call(Method::POST, "/events").json(&json!({
        "TITLE": "SMS conversation with Marie Curie - 24/01/15",
        "DETAILS": sms_body,
        "START_DATE_UTC": "2024-01-15T15:40:00.000Z",
        "END_DATE_UTC": "2024-01-15T15:40:00.000Z",
    })))
    .await;
    let sms_id = sms["EVENT_ID"].as_i64().expect("id");
    let (status, _) = answer(
        call(Method::POST, &format!("/events/{sms_id}/links"))
            .json(&json!({"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": contact_id})),
    )
    .await;
    assert_eq!(status, 200);
    // updateMessageLog: read it, add the message before the end, put back
    // only the details and the end.
    let (_, before) = answer(call(Method::GET, &format!("/events/{sms_id}"))).await;
    let details = before["DETAILS"]
        .as_str()
        .expect("details")
        .replace(
            "------------\nEND",
            "Test User 03:42 PM\nYes, see you at 4\n------------\nEND",
        )
        .replace("Conversation(1 messages)", "Conversation(2 messages)");
    let (status, sms_updated) = answer(call(Method::PUT, "/events").json(&json!({
        "EVENT_ID": sms_id.to_string(),
        "DETAILS": details,
        "END_DATE_UTC": "2024-01-15T15:42:00.000Z",
    })))
    .await;
    assert_eq!(status, 200, "{sms_updated}");
    assert_eq!(
        sms_updated["TITLE"], sms["TITLE"],
        "a PUT keeps what it leaves out"
    );
    assert_eq!(sms_updated["START_DATE_UTC"], "2024-01-15 15:40:00");
    assert_eq!(sms_updated["END_DATE_UTC"], "2024-01-15 15:42:00");

    // The native API sees the same records, written through this face.
    let (_, native_call) = answer(crm.dev(Method::GET, &format!("/activity/{event_id}"))).await;
    assert_eq!(native_call["number"], event_id);
    assert_eq!(native_call["via"], "insightly");
    assert_eq!(native_call["type"], "PhoneCommunication");
    assert_eq!(native_call["direction"], "Inbound");
    assert_eq!(native_call["duration"], 180);
    assert_eq!(native_call["body"], updated["DETAILS"]);
    let (_, native_contact) = answer(crm.dev(Method::GET, &format!("/contact/{contact_id}"))).await;
    assert_eq!(native_call["contact_id"], native_contact["id"]);
    assert_eq!(native_contact["name"], "Marie Curie");
    assert_eq!(native_contact["type"], "Contact");
    let (_, native_sms) = answer(crm.dev(Method::GET, &format!("/activity/{sms_id}"))).await;
    assert_eq!(native_sms["type"], "SMS");
    assert_eq!(native_sms["body"], details);

    // The admin API: the call's revisions (create, link, update).
    let activity_id = native_call["id"].as_str().expect("id");
    let (status, revisions) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!("/__admin/activities/{activity_id}/revisions"),
    ))
    .await;
    assert_eq!(status, 200, "{revisions}");
    let items = revisions["items"].as_array().expect("items");
    assert_eq!(items.len(), 3, "{revisions}");
    let (_, checks) = answer(crm.as_key(ADMIN, Method::GET, "/__admin/checks")).await;
    assert_eq!(checks["violations"], json!([]), "{checks}");

    let mut snapshot = json!({
        "me": me,
        "contact": contact,
        "created": created,
        "link": link,
        "updated": updated,
        "sms_updated": sms_updated,
    });
    for name in ["contact", "created", "updated", "sms_updated"] {
        snapshot[name] = redacted(snapshot[name].take());
    }
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("insightly_sequence", snapshot);
    });
    crm.shutdown().await;
}

#[tokio::test]
async fn a_native_activity_is_an_event_and_a_lead_link_reads_back_as_a_lead() {
    let crm = serving_insightly().await;
    let (key, _) = connection(&crm).await;
    let call = |method: Method, path: &str| insightly_as(&crm, &key, method, path);
    let native = crm
        .create_activity(json!({
            "subject": "Logged natively",
            "body": "from the native API",
            "type": "PhoneCommunication",
            "received_at": "2024-03-01T09:00:00+01:00",
            "duration": 60,
            "contact_id": "contact-1",
        }))
        .await;
    let (status, event) = answer(call(Method::GET, &format!("/events/{}", native["number"]))).await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["TITLE"], "Logged natively");
    assert_eq!(event["START_DATE_UTC"], "2024-03-01 08:00:00");
    assert_eq!(event["END_DATE_UTC"], "2024-03-01 08:01:00");
    assert_eq!(event["LINKS"][0]["LINK_OBJECT_NAME"], "Contact");

    // A lead, and an event linked to it inside the create.
    let (_, lead) = answer(call(Method::POST, "/leads").json(&json!({
        "FIRST_NAME": "Nikola", "LAST_NAME": "Lead", "PHONE": "+16505550190"
    })))
    .await;
    let lead_id = lead["LEAD_ID"].as_i64().expect("id");
    let mut body = call_log("Outbound Call to Nikola Lead");
    body["LINKS"] = json!([{"LINK_OBJECT_NAME": "lead", "LINK_OBJECT_ID": lead_id.to_string()}]);
    let (status, event) = answer(call(Method::POST, "/events").json(&body)).await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["LINKS"][0]["LINK_OBJECT_NAME"], "Lead");
    let (_, links) = answer(call(
        Method::GET,
        &format!("/events/{}/links", event["EVENT_ID"]),
    ))
    .await;
    assert_eq!(links, event["LINKS"]);
    // Linking the same lead again changes nothing; another person is a conflict.
    let path = format!("/events/{}/links", event["EVENT_ID"]);
    let (status, _) = answer(
        call(Method::POST, &path)
            .json(&json!({"LINK_OBJECT_NAME": "Lead", "LINK_OBJECT_ID": lead_id})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, refused) = answer(call(Method::POST, &path).json(
        &json!({"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": native_contact_number(&crm).await}),
    ))
    .await;
    assert_eq!(status, 409, "{refused}");
    let (_, native) =
        answer(crm.dev(Method::GET, &format!("/activity/{}", event["EVENT_ID"]))).await;
    assert_eq!(native["direction"], "Outbound");
    let (_, revisions) = answer(crm.as_key(
        ADMIN,
        Method::GET,
        &format!(
            "/__admin/activities/{}/revisions",
            native["id"].as_str().expect("id")
        ),
    ))
    .await;
    assert_eq!(
        revisions["items"].as_array().map(Vec::len),
        Some(1),
        "a link inside the create is no second write: {revisions}"
    );
    crm.shutdown().await;
}

/// The number of the seed's first contact.
async fn native_contact_number(crm: &TestCrm) -> i64 {
    let (_, contact) = answer(crm.dev(Method::GET, "/contact/contact-1")).await;
    contact["number"].as_i64().expect("number")
}
