//! The listings a careful connector reads to find the activity a create
//! whose answer was lost already wrote: Pipedrive's
//! `GET /api/v2/activities?person_id=`, Clio's
//! `GET /api/v4/communications.json?contact_id=&external_property_*=` and
//! Bullhorn's `GET query/Note?where=externalID=… AND personReference.id=…`,
//! with good and bad input, each face's answer snapshotted (times and
//! tokens redacted).

use reqwest::Method;
use serde_json::{json, Value};

use crate::bullhorn_face::{self, Bullhorn};
use crate::clio_face::{self, Clio};
use crate::pipedrive_face::{self, Pipedrive};
use crate::support::{redact, snapshot_settings};

fn redacted(mut value: Value, paths: &[&str]) -> Value {
    for path in paths {
        redact(&mut value, path, "[volatile]");
    }
    value
}

fn ids(answer: &Value) -> Vec<i64> {
    answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_i64())
        .collect()
}

#[tokio::test]
async fn pipedrive_lists_a_persons_activities_newest_first_by_cursor() {
    let pd = Pipedrive::start().await;
    let tokens = pd.sign_in(None).await;
    let token = tokens["access_token"].as_str().expect("token");
    let (_, found) = pd
        .call(
            token,
            Method::GET,
            "/api/v2/persons/search?term=4155550199&fields=phone",
            None,
        )
        .await;
    let jane = found["data"]["items"][0]["item"]["id"]
        .as_i64()
        .expect("jane");
    let mut created = Vec::new();
    for _ in 0..3 {
        let (status, logged) = pd
            .call(
                token,
                Method::POST,
                "/api/v2/activities",
                Some(pipedrive_face::call_log(jane)),
            )
            .await;
        assert_eq!(status, 200, "{logged}");
        created.push(logged["data"]["id"].as_i64().expect("id"));
    }

    let path = format!("/api/v2/activities?person_id={jane}&limit=2");
    let (status, first) = pd.call(token, Method::GET, &path, None).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(ids(&first), vec![created[2], created[1]], "{first}");
    assert_eq!(
        first["data"][0]["note"],
        pipedrive_face::call_log(jane)["note"]
    );
    let cursor = first["additional_data"]["next_cursor"]
        .as_str()
        .expect("more")
        .to_owned();
    let (status, second) = pd
        .call(token, Method::GET, &format!("{path}&cursor={cursor}"), None)
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(ids(&second), vec![created[0]], "{second}");
    assert_eq!(second["additional_data"]["next_cursor"], Value::Null);
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!(
            "pipedrive_activities_listed",
            redacted(
                second,
                &[
                    "data[].add_time",
                    "data[].update_time",
                    "data[].marked_as_done_time"
                ]
            )
        )
    });

    for (query, status, words) in [
        ("person_id=abc", 400, "person_id must be a positive integer"),
        ("limit=0", 400, "limit must be a whole number from 1 to 500"),
        ("limit=501", 400, "limit must be"),
        ("cursor=nope", 400, "is not one this server gave"),
        ("person_id=999999", 404, "Person not found"),
    ] {
        let (got, answer) = pd
            .call(
                token,
                Method::GET,
                &format!("/api/v2/activities?{query}"),
                None,
            )
            .await;
        assert_eq!(got, status, "{query}: {answer}");
        assert_eq!(answer["success"], false, "{answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| e.contains(words)),
            "{query}: {answer}"
        );
    }
    let (status, answer) = pd
        .call("wrong", Method::GET, "/api/v2/activities", None)
        .await;
    assert_eq!(status, 401, "{answer}");
    pd.shutdown().await;
}

#[tokio::test]
async fn clio_finds_a_contacts_communication_by_its_external_property() {
    let clio = Clio::start().await;
    let tokens = clio.sign_in(None).await;
    let token = tokens["access_token"].as_str().expect("token");
    let (_, found) = clio
        .call(
            token,
            Method::GET,
            "/api/v4/contacts.json?query=+14155550199&fields=id",
            None,
        )
        .await;
    let jane = found["data"][0]["id"].clone();
    let mut created = Vec::new();
    for session in ["s-1", "s-2"] {
        let mut log = clio_face::call_log(jane.clone());
        log["data"]["external_properties"] =
            json!([{"name": "ringcentral_call_session", "value": session}]);
        let (status, made) = clio
            .call(
                token,
                Method::POST,
                "/api/v4/communications.json?fields=id,external_properties",
                Some(log),
            )
            .await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(
            made["data"]["external_properties"][0]["value"], session,
            "{made}"
        );
        created.push(made["data"]["id"].as_i64().expect("id"));
    }

    let fields = "fields=id,subject,body,external_properties";
    let (status, both) = clio
        .call(
            token,
            Method::GET,
            &format!("/api/v4/communications.json?contact_id={jane}&{fields}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{both}");
    assert_eq!(ids(&both), vec![created[1], created[0]], "{both}");
    let one = format!(
        "/api/v4/communications.json?contact_id={jane}&external_property_name=ringcentral_call_session&external_property_value=s-1&{fields}"
    );
    let (status, found) = clio.call(token, Method::GET, &one, None).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(ids(&found), vec![created[0]], "{found}");
    assert_eq!(found["meta"]["records"], 1);
    snapshot_settings()
        .bind(|| insta::assert_json_snapshot!("clio_communications_by_property", found));
    let (status, paged) = clio
        .call(
            token,
            Method::GET,
            &format!("/api/v4/communications.json?contact_id={jane}&limit=1&fields=id"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{paged}");
    assert_eq!(ids(&paged), vec![created[1]]);
    assert!(
        paged["meta"]["paging"]["next"]
            .as_str()
            .is_some_and(|next| next.contains("page_token=")),
        "{paged}"
    );

    for (query, status, words) in [
        (
            "contact_id=abc",
            400,
            "contact_id must be a positive integer",
        ),
        (
            "external_property_name=ringcentral_call_session",
            400,
            "go together",
        ),
        ("contact_id=999999", 404, "Contact 999999 not found"),
        ("limit=0", 400, "limit must be"),
    ] {
        let (got, answer) = clio
            .call(
                token,
                Method::GET,
                &format!("/api/v4/communications.json?{query}"),
                None,
            )
            .await;
        assert_eq!(got, status, "{query}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(words)),
            "{query}: {answer}"
        );
    }
    let mut bad = clio_face::call_log(jane.clone());
    bad["data"]["external_properties"] = json!([{"name": "x"}]);
    let (status, answer) = clio
        .call(
            token,
            Method::POST,
            "/api/v4/communications.json",
            Some(bad),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("external_properties")),
        "{answer}"
    );
    clio.shutdown().await;
}

#[tokio::test]
async fn bullhorn_queries_notes_by_call_session_and_person() {
    let bh = Bullhorn::start().await;
    let (_, session) = bh.sign_in(None).await;
    let (_, found) = bh
        .call(
            &session,
            Method::POST,
            "search/ClientContact?fields=id",
            Some(bullhorn_face::phone_query("4155550199")),
        )
        .await;
    let jane = found["data"][0]["id"].as_i64().expect("jane");
    let mut created = Vec::new();
    for external in ["session-77", "session-78"] {
        let mut note = bullhorn_face::call_note(jane);
        note["externalID"] = json!(external);
        let (status, made) = bh
            .call(&session, Method::PUT, "entity/Note", Some(note))
            .await;
        assert_eq!(status, 200, "{made}");
        created.push(made["changedEntityId"].as_i64().expect("id"));
    }

    let by_session =
        "query/Note?fields=id,externalID,comments,dateAdded&where=externalID%3D%27session-77%27";
    let (status, one) = bh.call(&session, Method::GET, by_session, None).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(ids(&one), vec![created[0]], "{one}");
    assert_eq!(one["count"], 1);
    snapshot_settings().bind(|| {
        insta::assert_json_snapshot!("bullhorn_notes_by_session", bullhorn_face::redacted(one))
    });
    let by_person = format!("query/Note?fields=id&where=personReference.id%3D{jane}");
    let (status, both) = bh.call(&session, Method::GET, &by_person, None).await;
    assert_eq!(status, 200, "{both}");
    assert_eq!(ids(&both), vec![created[1], created[0]], "{both}");
    let (status, none) = bh
        .call(
            &session,
            Method::GET,
            "query/Note?fields=id&where=personReference.id%3D999999",
            None,
        )
        .await;
    assert_eq!((status, none["count"].clone()), (200, json!(0)), "{none}");

    for (query, words) in [
        (
            "where=subject%3D%27x%27",
            "Invalid field 'subject' in where",
        ),
        (
            "where=personReference.id%3Dabc",
            "personReference.id must be a record id",
        ),
        ("fields=id", "Missing required parameter: where"),
    ] {
        let (status, answer) = bh
            .call(&session, Method::GET, &format!("query/Note?{query}"), None)
            .await;
        assert_eq!(status, 400, "{query}: {answer}");
        assert!(
            answer["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains(words)),
            "{query}: {answer}"
        );
    }
    bh.shutdown().await;
}
