//! Organisation isolation (issue #5, item 6). With two organisations from
//! `fixtures/two-organisations.json` (what `--seed` loads), no route lets
//! one organisation read, list, find, change or delete the other's
//! contacts, activities or idempotency keys, in either direction, and
//! what "does not exist" looks like is the same whether the record belongs
//! to someone else or to no one.

use crate::support::{answer, error_code, TestCrm};
use mockcrm::Seed;
use reqwest::Method;
use serde_json::{json, Value};

const ACME: &str = "mockcrm-dev-key";
const GLOBEX: &str = "globex-key";

fn two_organisations() -> Seed {
    serde_json::from_str(&crate::support::read_fixture("two-organisations.json"))
        .expect("seed parses")
}

/// What one organisation wrote, for the other to go after.
struct Owned {
    key: &'static str,
    /// Seeded and created contact ids.
    contacts: Vec<String>,
    /// The created contact's phone number.
    phone: String,
    activities: Vec<String>,
    /// `(Idempotency-Key, body, id it created)`.
    keyed: Vec<(String, Value, String)>,
}

fn activity(session: &str, contact_id: Option<&str>) -> Value {
    let mut body = json!({
        "subject": "Inbound Call from Jane Contact",
        "body": "- Duration: 5 seconds\n",
        "type": "PhoneCommunication",
        "received_at": "2024-01-15T15:30:00Z",
        "session_id": session,
        "direction": "Inbound",
        "duration": 5,
        "deal_id": "d-1",
    });
    if let Some(contact_id) = contact_id {
        body["contact_id"] = json!(contact_id);
    }
    body
}

async fn post_keyed(
    crm: &TestCrm,
    key: &str,
    idempotency_key: &str,
    body: &Value,
) -> reqwest::Response {
    crm.as_key(key, Method::POST, "/activity")
        .header("idempotency-key", idempotency_key)
        .json(body)
        .send()
        .await
        .expect("sent")
}

/// `tag` keeps the two organisations' phone numbers apart.
async fn write_records(crm: &TestCrm, key: &'static str, tag: u8) -> Owned {
    let (_, seeded) = answer(crm.as_key(key, Method::GET, "/contact?phone=4155550199")).await;
    let seeded_id = seeded["items"][0]["id"]
        .as_str()
        .expect("seeded contact")
        .to_owned();
    let phone = format!("+1 (212) 555-01{tag:02}");
    let (status, created) = answer(
        crm.as_key(key, Method::POST, "/contact")
            .json(&json!({"name": format!("Private {tag}"), "phone_number": phone})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let created_id = created["id"].as_str().expect("id").to_owned();

    let mut activities = Vec::new();
    for (session, contact) in [("shared-session", &seeded_id), ("own-session", &created_id)] {
        let (status, body) = answer(
            crm.as_key(key, Method::POST, "/activity")
                .json(&activity(session, Some(contact))),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        activities.push(body["id"].as_str().expect("id").to_owned());
    }
    let mut keyed = Vec::new();
    for n in 0..2 {
        // Named after the owner, so that the other organisation, going
        // after them, is using keys it has never used itself.
        let idempotency_key = format!("key-{tag}-{n}");
        let body = activity(&format!("keyed-{n}"), None);
        let response = post_keyed(crm, key, &idempotency_key, &body).await;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await.expect("json");
        let id = created["id"].as_str().expect("id").to_owned();
        activities.push(id.clone());
        keyed.push((idempotency_key, body, id));
    }
    Owned {
        key,
        contacts: vec![seeded_id, created_id],
        phone,
        activities,
        keyed,
    }
}

/// Every activity `key` can list, walking the pages two at a time.
async fn list_all(crm: &TestCrm, key: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/activity?limit=2{query}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let (status, page) = answer(crm.as_key(key, Method::GET, &path)).await;
        assert_eq!(status, 200, "{page}");
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// Everything the owner can see of its own data, to compare before and
/// after the other organisation has had a go at it.
async fn view(crm: &TestCrm, owned: &Owned) -> Value {
    let mut activities = Vec::new();
    for id in &owned.activities {
        activities
            .push(answer(crm.as_key(owned.key, Method::GET, &format!("/activity/{id}"))).await);
    }
    let mut contacts = Vec::new();
    for id in &owned.contacts {
        contacts.push(answer(crm.as_key(owned.key, Method::GET, &format!("/contact/{id}"))).await);
    }
    let (_, by_phone) = answer(crm.as_key(
        owned.key,
        Method::GET,
        &format!("/contact?phone={}", owned.phone),
    ))
    .await;
    json!({
        "activities": activities.iter().map(|(s, b)| json!([s, b])).collect::<Vec<_>>(),
        "listed": list_all(crm, owned.key, "").await,
        "contacts": contacts.iter().map(|(s, b)| json!([s, b])).collect::<Vec<_>>(),
        "by_phone": by_phone,
    })
}

/// The owner's idempotency keys still replay the owner's own answers.
async fn assert_keys_replay(crm: &TestCrm, owned: &Owned) {
    for (idempotency_key, body, id) in &owned.keyed {
        let response = post_keyed(crm, owned.key, idempotency_key, body).await;
        assert_eq!(response.status(), 201);
        assert_eq!(
            response
                .headers()
                .get("idempotent-replayed")
                .map(|v| v.as_bytes()),
            Some(&b"true"[..])
        );
        let replayed: Value = response.json().await.expect("json");
        assert_eq!(
            replayed["id"],
            id.as_str(),
            "{} replays its own answer",
            owned.key
        );
    }
}

/// The 404 for someone else's record must say no more than the 404 for a
/// record that never existed.
async fn assert_not_found_like_nothing(
    request: reqwest::RequestBuilder,
    fake: reqwest::RequestBuilder,
    real_id: &str,
    fake_id: &str,
) {
    let (status, body) = answer(request).await;
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (fake_status, fake_body) = answer(fake).await;
    assert_eq!(fake_status, 404);
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .replace(real_id, "ID");
    let fake_message = fake_body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .replace(fake_id, "ID");
    assert_eq!(
        message, fake_message,
        "a foreign id answers like a missing one"
    );
}

async fn attack(crm: &TestCrm, intruder: &'static str, owner: &Owned) {
    let as_intruder = |method: Method, path: &str| crm.as_key(intruder, method, path);
    let fake_id = "act_00000000000000000000000000000000";

    for id in &owner.activities {
        let path = format!("/activity/{id}");
        let fake_path = format!("/activity/{fake_id}");
        assert_not_found_like_nothing(
            as_intruder(Method::GET, &path),
            as_intruder(Method::GET, &fake_path),
            id,
            fake_id,
        )
        .await;
        let patch = json!({"subject": "hijacked", "body": "", "deal_id": null, "contact_id": null});
        assert_not_found_like_nothing(
            as_intruder(Method::PATCH, &path).json(&patch),
            as_intruder(Method::PATCH, &fake_path).json(&patch),
            id,
            fake_id,
        )
        .await;
        assert_not_found_like_nothing(
            as_intruder(Method::DELETE, &path),
            as_intruder(Method::DELETE, &fake_path),
            id,
            fake_id,
        )
        .await;
    }
    for id in &owner.contacts {
        let fake_contact = "con_00000000000000000000000000000000";
        assert_not_found_like_nothing(
            as_intruder(Method::GET, &format!("/contact/{id}")),
            as_intruder(Method::GET, &format!("/contact/{fake_contact}")),
            id,
            fake_contact,
        )
        .await;
        // Listing by the owner's contact shows nothing of the owner's.
        assert_eq!(
            list_all(crm, intruder, &format!("&contact_id={id}")).await,
            Vec::<Value>::new()
        );
        // Nor can an activity be pointed at it, on create or on update.
        let (status, body) =
            answer(as_intruder(Method::POST, "/activity").json(&activity("x", Some(id)))).await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{body}"
        );
        let (_, own) =
            answer(as_intruder(Method::POST, "/activity").json(&activity("mine", None))).await;
        let own_id = own["id"].as_str().expect("own activity");
        let (status, body) = answer(
            as_intruder(Method::PATCH, &format!("/activity/{own_id}"))
                .json(&json!({"contact_id": id})),
        )
        .await;
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid_field"),
            "{body}"
        );
    }

    // Phone search finds only the intruder's own contacts.
    let (status, found) = answer(as_intruder(
        Method::GET,
        &format!("/contact?phone={}", owner.phone),
    ))
    .await;
    assert_eq!((status, &found["items"]), (200, &json!([])));
    let (_, shared_number) =
        answer(as_intruder(Method::GET, "/contact?phone=%2B14155550199")).await;
    for contact in shared_number["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert!(!owner
            .contacts
            .contains(&contact["id"].as_str().unwrap_or_default().to_owned()));
    }

    // Lists, whatever the filter or cursor, hold none of the owner's.
    let owner_ids = |items: &[Value]| -> Vec<String> {
        items
            .iter()
            .filter_map(|item| item["id"].as_str())
            .filter(|id| owner.activities.iter().any(|owned| owned == id))
            .map(str::to_owned)
            .collect()
    };
    for query in [
        "",
        "&session_id=shared-session",
        "&session_id=own-session",
        "&session_id=keyed-0",
    ] {
        let items = list_all(crm, intruder, query).await;
        assert_eq!(owner_ids(&items), Vec::<String>::new(), "query {query:?}");
    }
    let (_, first_page) = answer(crm.as_key(owner.key, Method::GET, "/activity?limit=1")).await;
    if let Some(cursor) = first_page["next_cursor"].as_str() {
        let (_, page) = answer(as_intruder(
            Method::GET,
            &format!("/activity?cursor={cursor}"),
        ))
        .await;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(owner_ids(&items), Vec::<String>::new(), "owner's cursor");
    }

    // Idempotency keys are per organisation. The owner's first key with
    // another body is not a mismatch here; the owner's second key with the
    // owner's very body is not a replay of the owner's answer.
    let (first_key, _, _) = &owner.keyed[0];
    let response = post_keyed(crm, intruder, first_key, &activity("different", None)).await;
    assert_eq!(
        response.status(),
        201,
        "not 422: the owner's key is not visible"
    );
    let (second_key, second_body, owner_id) = &owner.keyed[1];
    let response = post_keyed(crm, intruder, second_key, second_body).await;
    assert_eq!(response.status(), 201);
    assert!(response.headers().get("idempotent-replayed").is_none());
    let created: Value = response.json().await.expect("json");
    assert_ne!(
        created["id"],
        owner_id.as_str(),
        "a new activity, not the owner's"
    );
    // And the intruder's own use of that key now replays the intruder's.
    let again = post_keyed(crm, intruder, second_key, second_body).await;
    let replayed: Value = again.json().await.expect("json");
    assert_eq!(replayed["id"], created["id"]);
}

#[tokio::test]
async fn no_route_reads_or_changes_another_organisations_data() {
    let crm = TestCrm::with_seed(two_organisations()).await;
    let (_, me) = answer(crm.as_key(GLOBEX, Method::GET, "/me")).await;
    assert_eq!(me["organisation"], "Globex");
    let (_, me) = answer(crm.as_key(ACME, Method::GET, "/me")).await;
    assert_eq!(me["organisation"], "Acme");

    let acme = write_records(&crm, ACME, 1).await;
    let globex = write_records(&crm, GLOBEX, 2).await;
    assert_ne!(acme.contacts, globex.contacts);

    for (owner, intruder) in [(&acme, GLOBEX), (&globex, ACME)] {
        let before = view(&crm, owner).await;
        attack(&crm, intruder, owner).await;
        assert_eq!(
            view(&crm, owner).await,
            before,
            "{intruder} changed nothing of {}'s",
            owner.key
        );
        assert_keys_replay(&crm, owner).await;
    }
    crm.shutdown().await;
}
