//! Tenants (issue #14): CI jobs sharing one server each get an
//! organisation with its own key, and with `?org=` every admin route sees
//! and changes that tenant alone. Like `isolation.rs` does for the CRM API,
//! every admin route is sent at one tenant while the other's view is
//! compared before and after: journal, faults, checks, reset and delete.

use crate::support::{answer, error_code, TestCrm};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

const ADMIN: &str = "mockcrm-admin";

struct Tenant {
    id: String,
    key: String,
}

fn admin(crm: &TestCrm, method: Method, path: &str) -> RequestBuilder {
    crm.as_key(ADMIN, method, &format!("/__admin{path}"))
}

fn scoped(path: &str, org: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}org={org}")
}

async fn new_tenant(crm: &TestCrm, name: &str) -> Tenant {
    let (status, created) =
        answer(admin(crm, Method::POST, "/tenants").json(&json!({ "name": name }))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], name);
    Tenant {
        id: created["id"].as_str().expect("id").to_owned(),
        key: created["api_key"].as_str().expect("key").to_owned(),
    }
}

fn activity(session: &str, body: &str) -> Value {
    json!({"subject": "Call", "type": "PhoneCommunication", "body": body,
           "session_id": session, "contact_id": "contact-1"})
}

/// A tenant's life: a contact, activities (a session logged twice and an
/// empty body, so checks find something), and a fault of its own.
async fn write(crm: &TestCrm, tenant: &Tenant, tag: &str) -> String {
    let (status, contact) = answer(
        crm.as_key(&tenant.key, Method::POST, "/contact")
            .json(&json!({"name": format!("Private {tag}"), "phone_number": "+12125550100"})),
    )
    .await;
    assert_eq!(status, 201, "{contact}");
    for (session, body) in [
        (format!("{tag}-dup"), "x"),
        (format!("{tag}-dup"), "x"),
        (format!("{tag}-blank"), ""),
    ] {
        let (status, created) = answer(
            crm.as_key(&tenant.key, Method::POST, "/activity")
                .json(&activity(&session, body)),
        )
        .await;
        assert_eq!(status, 201, "{created}");
    }
    let (status, fault) = answer(
        admin(crm, Method::POST, &scoped("/faults", &tenant.id))
            .json(&json!({"method": "GET", "path": "/nowhere", "status": 500})),
    )
    .await;
    assert_eq!(status, 201, "{fault}");
    assert_eq!(fault["org"], tenant.id.as_str());
    fault["id"].as_str().expect("fault id").to_owned()
}

/// Everything the admin API shows of one tenant, and what its key sees.
async fn view(crm: &TestCrm, tenant: &Tenant) -> Value {
    let mut shown = serde_json::Map::new();
    for route in ["/requests?limit=1000", "/faults", "/checks", "/tenants"] {
        let (status, body) = answer(admin(crm, Method::GET, &scoped(route, &tenant.id))).await;
        assert_eq!(status, 200, "{route}: {body}");
        shown.insert(route.to_owned(), body);
    }
    let (_, activities) = answer(crm.as_key(&tenant.key, Method::GET, "/activity?limit=200")).await;
    let (_, contacts) =
        answer(crm.as_key(&tenant.key, Method::GET, "/contact?phone=2125550100")).await;
    shown.insert("activities".into(), activities);
    shown.insert("contacts".into(), contacts);
    Value::Object(shown)
}

/// Every `org` an answer names, wherever it is.
fn orgs_in(value: &Value) -> Vec<String> {
    match value {
        Value::Object(object) => object
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("org", Value::String(org)) => vec![org.clone()],
                _ => orgs_in(value),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(orgs_in).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn every_admin_route_with_org_sees_and_changes_one_tenant_alone() {
    let crm = TestCrm::start().await;
    let a = new_tenant(&crm, "job-a").await;
    let b = new_tenant(&crm, "job-b").await;
    assert_ne!(a.id, b.id);
    assert_ne!(a.key, b.key);
    let a_fault = write(&crm, &a, "a").await;
    let b_fault = write(&crm, &b, "b").await;
    // Requests without a known key belong to no tenant.
    answer(crm.as_key("nobody", Method::GET, "/me")).await;

    // Reads: each tenant's answers name that tenant and nothing else.
    for (tenant, other) in [(&a, &b), (&b, &a)] {
        let seen = view(&crm, tenant).await;
        let named = orgs_in(&seen);
        assert!(!named.is_empty());
        assert!(named.iter().all(|org| org == &tenant.id), "{named:?}");
        let text = seen.to_string();
        assert!(!text.contains(&other.id), "{} sees {}", tenant.id, other.id);
        let journal = seen["/requests?limit=1000"]["items"]
            .as_array()
            .expect("items");
        // The contact and three activities; `view` reads the journal first.
        assert_eq!(journal.len(), 4, "{journal:?}");
        let violations = seen["/checks"]["violations"]
            .as_array()
            .expect("violations");
        assert_eq!(violations.len(), 2, "{violations:?}");
        assert_eq!(seen["/faults"]["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(seen["/tenants"]["items"].as_array().map(Vec::len), Some(1));
    }
    // The whole server sees both, and the request of no tenant.
    let (_, everything) = answer(admin(&crm, Method::GET, "/requests?limit=1000")).await;
    assert!(everything["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|entry| entry["org"].is_null()));

    // A's fault fires for A only; a fault for everyone fires for both.
    let nowhere = |tenant: &Tenant| crm.as_key(&tenant.key, Method::GET, "/nowhere");
    let (_, a_sees) = answer(nowhere(&a)).await;
    assert_eq!(error_code(&a_sees), "internal", "A's own fault: {a_sees}");

    // Writes with ?org=A change nothing of B's.
    let before = view(&crm, &b).await;
    let (status, _) = answer(admin(
        &crm,
        Method::DELETE,
        &scoped(&format!("/faults/{b_fault}"), &a.id),
    ))
    .await;
    assert_eq!(status, 404, "B's fault does not exist for A");
    for (method, route) in [
        (Method::DELETE, "/requests"),
        (Method::DELETE, "/faults"),
        (Method::POST, "/reset"),
    ] {
        let (status, body) = answer(admin(&crm, method.clone(), &scoped(route, &a.id))).await;
        assert_eq!(status, 204, "{method} {route}: {body}");
    }
    let after = view(&crm, &b).await;
    // B's view grew only by the reads `view` itself made.
    let journal = |seen: &Value| {
        seen["/requests?limit=1000"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        journal(&after)[2..],
        journal(&before)[..],
        "B's journal kept"
    );
    for key in ["/faults", "/checks", "/tenants", "activities", "contacts"] {
        assert_eq!(after[key], before[key], "B's {key} unchanged");
    }
    let (_, b_sees) = answer(nowhere(&b)).await;
    assert_eq!(
        error_code(&b_sees),
        "internal",
        "B's fault still fires: {b_sees}"
    );

    // A is back to its seed: nothing it wrote, the seed's contacts, its key
    // still working, its journal and faults empty.
    let a_now = view(&crm, &a).await;
    assert_eq!(a_now["activities"]["items"], json!([]));
    assert_eq!(
        a_now["contacts"]["items"],
        json!([]),
        "its own contact is gone"
    );
    assert_eq!(a_now["/faults"]["items"], json!([]));
    assert_eq!(a_now["/checks"]["violations"], json!([]));
    let (status, _) = answer(crm.as_key(&a.key, Method::GET, "/contact/contact-1")).await;
    assert_eq!(status, 200, "the seed's contact is back");
    let (_, a_sees) = answer(nowhere(&a)).await;
    assert_eq!(
        error_code(&a_sees),
        "not_found",
        "A's fault went with the reset"
    );
    assert_ne!(a_fault, b_fault);

    // Deleting A removes it everywhere, and B stays as it was.
    let before = view(&crm, &b).await;
    let (status, _) = answer(admin(&crm, Method::DELETE, &format!("/tenants/{}", a.id))).await;
    assert_eq!(status, 204);
    let (status, body) = answer(crm.as_key(&a.key, Method::GET, "/me")).await;
    assert_eq!(
        (status, error_code(&body)),
        (401, "unauthorized"),
        "A's key is gone"
    );
    for route in ["/requests", "/faults", "/checks", "/tenants"] {
        let (status, body) = answer(admin(&crm, Method::GET, &scoped(route, &a.id))).await;
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{route}");
    }
    let (status, _) = answer(admin(&crm, Method::POST, &scoped("/reset", &a.id))).await;
    assert_eq!(status, 404);
    let after = view(&crm, &b).await;
    assert_eq!(journal(&after)[2..], journal(&before)[..]);
    for key in ["/faults", "/checks", "activities", "contacts"] {
        assert_eq!(
            after[key], before[key],
            "B's {key} unchanged by A's deletion"
        );
    }
    let (_, listed) = answer(admin(&crm, Method::GET, "/tenants")).await;
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|org| org["id"].as_str())
        .collect();
    assert!(!ids.contains(&a.id.as_str()) && ids.contains(&b.id.as_str()));
    crm.shutdown().await;
}

#[tokio::test]
async fn a_tenant_starts_as_the_seed_and_its_records_are_its_own() {
    let crm = TestCrm::start().await;
    let a = new_tenant(&crm, "job-a").await;
    let b = new_tenant(&crm, "job-b").await;
    // Both hold the seed's contact-1, each its own.
    for tenant in [&a, &b] {
        let (status, me) = answer(crm.as_key(&tenant.key, Method::GET, "/me")).await;
        assert_eq!((status, &me["name"]), (200, &json!("Test User")));
        let (status, contact) =
            answer(crm.as_key(&tenant.key, Method::GET, "/contact/contact-1")).await;
        assert_eq!((status, &contact["name"]), (200, &json!("Jane Contact")));
    }
    let (_, written) = answer(
        crm.as_key(&a.key, Method::POST, "/activity")
            .json(&activity("shared-session", "a's")),
    )
    .await;
    let id = written["id"].as_str().expect("id");
    for path in [
        format!("/activity/{id}"),
        "/activity?contact_id=contact-1".to_owned(),
        "/activity?session_id=shared-session".to_owned(),
    ] {
        let (status, body) = answer(crm.as_key(&b.key, Method::GET, &path)).await;
        assert!(
            status == 404 || body["items"] == json!([]),
            "B sees A's activity at {path}: {body}"
        );
    }
    // The seeded organisation is listed, marked, and not deleted.
    let (_, listed) = answer(admin(&crm, Method::GET, "/tenants")).await;
    let acme = &listed["items"][0];
    assert_eq!(
        (&acme["name"], &acme["seeded"]),
        (&json!("Acme"), &json!(true))
    );
    let (status, body) = answer(admin(
        &crm,
        Method::DELETE,
        &format!("/tenants/{}", acme["id"].as_str().expect("id")),
    ))
    .await;
    assert_eq!((status, error_code(&body)), (409, "conflict"));
    // A name is taken once; an unknown field or a blank name is refused.
    let (status, _) =
        answer(admin(&crm, Method::POST, "/tenants").json(&json!({"name": "job-a"}))).await;
    assert_eq!(status, 409);
    for body in [
        json!({"name": ""}),
        json!({"colour": "red"}),
        json!({"name": 7}),
    ] {
        let (status, answered) = answer(admin(&crm, Method::POST, "/tenants").json(&body)).await;
        assert_eq!(
            (status, error_code(&answered)),
            (400, "invalid_field"),
            "{body}"
        );
    }
    // A body that is sent must be a JSON object; none at all is every default.
    let (status, answered) = answer(
        admin(&crm, Method::POST, "/tenants")
            .header("content-type", "application/json")
            .body("\t"),
    )
    .await;
    assert_eq!((status, error_code(&answered)), (400, "invalid_json"));
    let (status, _) = answer(admin(&crm, Method::POST, "/tenants")).await;
    assert_eq!(status, 201);
    // A fault for an organisation that does not exist is refused.
    let (status, answered) = answer(
        admin(&crm, Method::POST, "/faults")
            .json(&json!({"path": "/activity", "status": 503, "org": "org_nope"})),
    )
    .await;
    assert_eq!((status, error_code(&answered)), (400, "invalid_field"));
    let (status, answered) = answer(
        admin(&crm, Method::POST, &scoped("/faults", &a.id))
            .json(&json!({"path": "/activity", "status": 503, "org": b.id})),
    )
    .await;
    assert_eq!(
        (status, error_code(&answered)),
        (400, "invalid_field"),
        "?org= and org disagree"
    );
    crm.shutdown().await;
}
