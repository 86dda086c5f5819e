//! What real connectors needed from the native API when tried with App
//! Connect's core: numeric contact ids, epoch-millisecond start times, a
//! note field, contacts by name and page by page, the organisation's
//! users, and writes made of fields the API does not know: reported by
//! `checks` as unknown_fields, and refused by `serve --strict`.

use mockcrm::{Seed, SeedContact, ServerConfig};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{answer, error_code, TestCrm};

fn admin_checks(crm: &TestCrm) -> reqwest::RequestBuilder {
    crm.anonymous(Method::GET, "/__admin/checks")
        .bearer_auth(mockcrm::DEFAULT_ADMIN_KEY)
}

fn activity() -> Value {
    json!({"subject": "Inbound Call from Jane", "type": "PhoneCommunication", "body": "- Duration: 5 seconds\n"})
}

#[tokio::test]
async fn numbers_name_contacts_and_epoch_milliseconds_are_times() {
    let mut seed = Seed::default_seed();
    seed.organisations[0].contacts.push(SeedContact {
        id: Some("42".into()),
        name: "Numbered Contact".into(),
        phone_number: "+14155550142".into(),
        email: None,
        contact_type: None,
    });
    let crm = TestCrm::with_seed(seed).await;
    let mut body = activity();
    body["contact_id"] = json!(42);
    body["received_at"] = json!(1705332600000_i64);
    body["note"] = json!("Customer asked for pricing.");
    let (status, created) = answer(crm.dev(Method::POST, "/activity").json(&body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["contact_id"], "42");
    assert_eq!(created["received_at"], "2024-01-15T15:30:00.000Z");
    assert_eq!(created["note"], "Customer asked for pricing.");
    let id = created["id"].as_str().expect("id");
    let (status, patched) = answer(
        crm.dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"received_at": 0, "note": null, "contact_id": "contact-1"})),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["received_at"], "1970-01-01T00:00:00.000Z");
    assert!(
        patched.get("note").is_none(),
        "null clears the note: {patched}"
    );
    assert_eq!(patched["contact_id"], "contact-1");

    for (field, value) in [
        ("contact_id", json!(7)),
        ("contact_id", json!(4.5)),
        ("received_at", json!(1.5)),
        ("received_at", json!(253402300800000_i64)),
        ("note", json!(5)),
    ] {
        let mut body = activity();
        body[field] = value.clone();
        let (status, refused) = answer(crm.dev(Method::POST, "/activity").json(&body)).await;
        assert_eq!(
            (status, error_code(&refused)),
            (400, "invalid_field"),
            "{field} {value}"
        );
        let message = refused["error"]["message"].as_str().expect("message");
        assert!(message.starts_with(field), "{message}");
    }
    crm.shutdown().await;
}

#[tokio::test]
async fn contacts_are_found_by_name_and_listed_page_by_page() {
    let crm = TestCrm::start().await;
    for name in ["Zoë Åberg", "ZOË Quinn", "Bob"] {
        let (status, _) = answer(
            crm.dev(Method::POST, "/contact")
                .json(&json!({"name": name, "phone_number": "+1 212 555 0100"})),
        )
        .await;
        assert_eq!(status, 201);
    }
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let (_, found) = answer(crm.dev(Method::GET, "/contact?name=zo%C3%AB")).await;
    assert_eq!(
        names(&found),
        ["ZOË Quinn", "Zoë Åberg"],
        "newest first, any case"
    );
    assert_eq!(found["next_cursor"], Value::Null);
    let (_, both) = answer(crm.dev(Method::GET, "/contact?phone=2125550100&name=bob")).await;
    assert_eq!(names(&both), ["Bob"]);
    // A phone search answers every match, but a bad page size is still bad.
    let (status, refused) =
        answer(crm.dev(Method::GET, "/contact?phone=2125550100&limit=1.5")).await;
    assert_eq!((status, error_code(&refused)), (400, "invalid_field"));

    // Every contact, two at a time: four seeded and three created.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) =
            answer(crm.dev(Method::GET, &format!("/contact?limit=2&cursor={cursor}"))).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(names(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(seen.first().map(String::as_str), Some("Bob"));
    assert_eq!(seen.last().map(String::as_str), Some("Jane Contact"));

    let (status, users) = answer(crm.dev(Method::GET, "/users")).await;
    assert_eq!(
        (status, users),
        (
            200,
            json!({"items": [{"id": "crm-user-1", "number": 1, "name": "Test User", "email": "test@acme.example", "timezone_offset": "-05:00"}]})
        )
    );
    crm.shutdown().await;
}

#[tokio::test]
async fn a_write_the_api_does_not_understand_is_reported_and_strict_refuses_it() {
    let crm = TestCrm::start().await;
    let mut body = activity();
    body["deal_id"] = json!("d-1");
    let (_, created) = answer(crm.dev(Method::POST, "/activity").json(&body)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    // Extras beside known fields are the API's extra fields, not a problem.
    let (status, _) = answer(
        crm.dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"body": "new", "stage": 2})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, clean) = answer(admin_checks(&crm)).await;
    assert_eq!(clean["violations"], json!([]));
    // App Connect's own template once sent this: answered 200, it changed
    // nothing the API shows.
    let (status, patched) = answer(
        crm.dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"data": {"subject": "s", "body": "b"}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(patched["body"], "new");
    let (_, mut checks) = answer(admin_checks(&crm)).await;
    crate::support::redact(&mut checks, "violations[].org", "[org]");
    assert_eq!(
        checks["violations"],
        json!([{"kind": "unknown_fields", "organisation": "Acme", "org": "[org]", "activity_id": id, "fields": ["data"]}])
    );
    crm.shutdown().await;

    let strict = TestCrm::with_config(ServerConfig {
        strict: true,
        ..ServerConfig::ephemeral()
    })
    .await;
    let (status, refused) = answer(strict.dev(Method::POST, "/activity").json(&body)).await;
    assert_eq!((status, error_code(&refused)), (400, "invalid_field"));
    let message = refused["error"]["message"].as_str().expect("message");
    assert!(
        message.starts_with("deal_id:") && message.contains("--strict"),
        "{message}"
    );
    let (status, created) = answer(strict.dev(Method::POST, "/activity").json(&activity())).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().expect("id");
    let (status, refused) = answer(
        strict
            .dev(Method::PATCH, &format!("/activity/{id}"))
            .json(&json!({"data": {"subject": "s"}, "body": "b"})),
    )
    .await;
    assert_eq!((status, error_code(&refused)), (400, "invalid_field"));
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("data:")),
        "{refused}"
    );
    strict.shutdown().await;
}
