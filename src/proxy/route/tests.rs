//! Routing: App Connect's own requests route back to their operation, two
//! operations on one route are told apart, and the rest is refused clearly.

use super::*;
use crate::proxy::answer::meaning;
use crate::proxy::fixtures;
use serde_json::json;

fn config(text: &str) -> ProxyConfig {
    crate::proxy::load("test.json", text)
        .expect("test config loads")
        .config
}

/// A request as a server reads it off a URL App Connect sent.
struct Incoming {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
}

impl Incoming {
    fn from_url(method: &str, url: &str, body: Option<&str>) -> Incoming {
        let after = url.split_once("://").map_or(url, |(_, rest)| rest);
        let target = after.find('/').map_or("/", |at| &after[at..]);
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Incoming {
            method: method.to_owned(),
            path: path.to_owned(),
            query: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            body: body.and_then(|b| serde_json::from_str(b).ok()),
        }
    }

    fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            body: self.body.as_ref(),
        }
    }
}

fn found_operation(table: &RouteTable, incoming: &Incoming) -> Option<Operation> {
    match table.find(&incoming.request()) {
        Found::Operation(m) => Some(m.operation()),
        _ => None,
    }
}

#[test]
fn routes_come_from_base_url_and_operation_paths() {
    let paths = |fixture: (&str, &str)| -> Vec<String> {
        Plan::new(&fixtures::config(fixture))
            .routes
            .iter()
            .map(|r| format!("{} {} {}", r.operation, r.method, r.path))
            .collect()
    };
    assert_eq!(
        paths(fixtures::MINIMAL),
        [
            "getUserInfo GET /v1/me",
            "findContact GET /v1/contacts",
            "createCallLog POST /v1/activities",
            "getCallLog GET /v1/activities/{{thirdPartyLogId}}",
            "updateCallLog PATCH /v1/activities/{{thirdPartyLogId}}",
        ]
    );
    assert_eq!(
        paths(fixtures::INSIGHTLY)[..3],
        [
            "getUserInfo GET /v3.1/Users/Me",
            "findContact GET /v3.1/Contacts/Search",
            "findContactWithName GET /v3.1/Contacts/Search",
        ]
    );
    assert_eq!(
        paths(fixtures::REDTAIL)[1],
        "findContact GET /api/public/v1/contacts/search"
    );
}

#[test]
fn absolute_urls_are_served_by_their_path() {
    let config = config(
        r#"{"requestDefaults": {"baseUrl": "https://crm.example/v1"}, "operations": {
            "getCallLog": {"url": "https://{{user.hostname}}/api/v2/things/{{thirdPartyLogId}}"},
            "createCallLog": {"method": "POST", "url": "{{user.platformAdditionalInfo.apiUrl}}/activities?source=rc"},
            "updateCallLog": {"method": "PUT", "url": "{{user.hostname}}/x/{{thirdPartyLogId}}"},
            "getUserInfo": {"url": "http://{{user.hostname}}"}}}"#,
    );
    let plan = Plan::new(&config);
    let paths: Vec<&str> = plan.routes.iter().map(|r| r.path.as_str()).collect();
    // A host name has no scheme, so joinUrl puts it under the base url.
    assert_eq!(
        paths,
        [
            "/api/v2/things/{{thirdPartyLogId}}",
            "/activities",
            "/v1/{{user.hostname}}/x/{{thirdPartyLogId}}",
            "/"
        ]
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let table = RouteTable::new(&[&config]);
    let incoming = Incoming::from_url(
        "POST",
        "http://127.0.0.1:8787/activities?source=rc",
        Some("{}"),
    );
    assert_eq!(
        found_operation(&table, &incoming),
        Some(Operation::CreateCallLog)
    );
    let Found::Operation(m) =
        table.find(&Incoming::from_url("GET", "http://x/api/v2/things/t%2F1%20a", None).request())
    else {
        panic!("routes");
    };
    assert_eq!(
        m.bindings.get("thirdPartyLogId").as_deref(),
        Some(&json!("t/1 a")),
        "segments are decoded"
    );
}

#[test]
fn operations_without_a_place_to_go_are_warnings() {
    let config = config(
        r#"{"operations": {"getCallLog": {"url": "/a/{{thirdPartyLogId}}"}, "createCallLog": {"method": "PO ST", "url": "https://a/x"}}}"#,
    );
    let warnings: Vec<String> = Plan::new(&config)
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        [
            "test.json: operations.getCallLog: not served: its url \"/a/{{thirdPartyLogId}}\" is relative and there is no requestDefaults.baseUrl, so App Connect has nowhere to send it",
            "test.json: operations.createCallLog: not served: \"PO ST\" is not an HTTP method",
        ]
    );
    assert!(served_operations(&config).is_empty());
    let loaded = crate::proxy::load(
        "test.json",
        r#"{"operations": {"getCallLog": {"url": "/a"}}}"#,
    )
    .expect("loads");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.message.starts_with("not served")),
        "load reports what cannot be served"
    );
}

/// Every request App Connect's engine sent for the fixture configs goes
/// back to the operation that sent it, and its templates give back the
/// values that were rendered into it.
#[test]
fn app_connects_requests_route_back_to_their_operation() {
    let oracle: Value =
        serde_json::from_str(fixtures::APP_CONNECT_REQUESTS).expect("oracle file is JSON");
    for case in oracle["cases"].as_array().expect("cases") {
        let name = case["config"].as_str().expect("name");
        let op = Operation::from_name(case["operation"].as_str().expect("op")).expect("known");
        let fixture = fixtures::ALL
            .into_iter()
            .find(|(f, _)| *f == name)
            .expect("fixture");
        let config = fixtures::config(fixture);
        let table = RouteTable::new(&[&config]);
        let sent = &case["request"];
        let incoming = Incoming::from_url(
            sent["method"].as_str().expect("method"),
            sent["url"].as_str().expect("url"),
            sent["body"].as_str(),
        );
        let Found::Operation(matched) = table.find(&incoming.request()) else {
            panic!("{name} {op}: not routed");
        };
        assert_eq!(
            matched.operation(),
            op,
            "{name}: {} {}",
            incoming.method,
            incoming.path
        );
        assert_eq!(matched.fit.conflicts, 0, "{name} {op}");
        assert!(matched.bindings.disagreements().is_empty(), "{name} {op}");
        let args = &case["args"];
        let what = meaning(op, &matched.bindings);
        match op {
            Operation::CreateCallLog => {
                assert_eq!(
                    what.body.as_deref(),
                    args["composedLogDetails"].as_str(),
                    "{name}"
                );
                assert_eq!(what.contact_id, Some(json!(42)), "{name}: raw, not text");
                assert_eq!(
                    what.subject.as_deref(),
                    Some("Outbound Call to Jane Contact"),
                    "{name}"
                );
                assert!(what.message_id.is_none());
            }
            Operation::GetCallLog => assert_eq!(what.log_id, Some(json!("77")), "{name}"),
            Operation::UpdateCallLog => {
                assert_eq!(what.log_id, Some(json!("77")), "{name}");
                assert_eq!(what.body.as_deref(), Some("<b>Updated</b>"), "{name}");
            }
            Operation::CreateMessageLog => {
                assert_eq!(what.message_id, Some(json!("60279564004")), "{name}");
                assert_eq!(what.body.as_deref(), Some("Flight information"), "{name}");
                assert!(what.is_message(op));
            }
            Operation::UpdateMessageLog => assert_eq!(what.log_id, Some(json!("88")), "{name}"),
            Operation::FindContact => {
                let phone = matched.bindings.get("phoneNumber").expect("bound");
                // A '+' in a raw query string reads as a space, as App
                // Connect itself expects (it puts the '+' back).
                assert!(
                    phone
                        .as_str()
                        .is_some_and(|p| p.trim_start_matches(['+', ' ']) == "14155550199"),
                    "{name}: {phone}"
                );
            }
            Operation::FindContactWithName => {
                assert_eq!(
                    matched.bindings.get("name").as_deref(),
                    Some(&json!("Jane C")),
                    "{name}"
                )
            }
            _ => {}
        }
    }
}

#[test]
fn two_operations_on_one_route_are_told_apart_by_literal_text() {
    let redtail = fixtures::config(fixtures::REDTAIL);
    let table = RouteTable::new(&[&redtail]);
    let post = |body: Value| Incoming {
        method: "POST".into(),
        path: "/api/public/v1/activities".into(),
        query: vec![],
        body: Some(body),
    };
    let sms = post(
        json!({"subject": "SMS 5 with Jane", "activity_code_id": 4, "linked_contacts": [{"contact_id": 1}]}),
    );
    assert_eq!(
        found_operation(&table, &sms),
        Some(Operation::CreateMessageLog)
    );
    let call = post(
        json!({"subject": "Inbound Call from Jane", "activity_code_id": 3, "linked_contacts": [{"contact_id": 1}]}),
    );
    assert_eq!(
        found_operation(&table, &call),
        Some(Operation::CreateCallLog)
    );
    // Nothing tells them apart: the call log wins.
    let bare = post(json!({"linked_contacts": [{"contact_id": 1}]}));
    assert_eq!(
        found_operation(&table, &bare),
        Some(Operation::CreateCallLog)
    );
    let put = |body: Value| Incoming {
        method: "put".into(),
        path: "/api/public/v1/activities/9".into(),
        query: vec![],
        body: Some(body),
    };
    assert_eq!(
        found_operation(&table, &put(json!({}))),
        Some(Operation::UpdateCallLog)
    );
    assert_eq!(
        found_operation(
            &table,
            &put(json!({"subject": "SMS 6 with Jo", "description": "hi"}))
        ),
        Some(Operation::UpdateMessageLog)
    );

    let insightly = fixtures::config(fixtures::INSIGHTLY);
    let table = RouteTable::new(&[&insightly]);
    let search = |field: &str| Incoming {
        method: "GET".into(),
        path: "/v3.1/Contacts/Search".into(),
        query: vec![
            ("field_name".into(), field.into()),
            ("field_value".into(), "x".into()),
        ],
        body: None,
    };
    assert_eq!(
        found_operation(&table, &search("FIRST_NAME")),
        Some(Operation::FindContactWithName)
    );
    assert_eq!(
        found_operation(&table, &search("PHONE")),
        Some(Operation::FindContact)
    );

    let pipedrive = fixtures::config(fixtures::PIPEDRIVE);
    let table = RouteTable::new(&[&pipedrive]);
    let update = Incoming::from_url(
        "PUT",
        "https://h/v1/activities/501",
        Some(r#"{"subject": "s", "note": "n", "duration": 5}"#),
    );
    assert_eq!(
        found_operation(&table, &update),
        Some(Operation::UpdateCallLog)
    );
    let disposition = Incoming::from_url(
        "PUT",
        "https://h/v1/activities/501",
        Some(r#"{"deal_id": 8}"#),
    );
    assert_eq!(
        found_operation(&table, &disposition),
        Some(Operation::UpsertCallDisposition)
    );
}

#[test]
fn unknown_paths_and_methods_are_told_apart() {
    let minimal = fixtures::config(fixtures::MINIMAL);
    let table = RouteTable::new(&[&minimal]);
    let request = |method: &str, path: &str| Incoming {
        method: method.into(),
        path: path.into(),
        query: vec![],
        body: None,
    };
    match table.find(&request("DELETE", "/v1/activities/5").request()) {
        Found::WrongMethod { allowed } => assert_eq!(allowed, ["GET", "PATCH"]),
        other => panic!("expected a wrong method, got {other:?}"),
    }
    assert!(matches!(
        table.find(&request("GET", "/v2/activities/5").request()),
        Found::Nothing
    ));
    assert!(
        matches!(
            table.find(&request("GET", "/v1/activities/5/").request()),
            Found::Nothing
        ),
        "a trailing slash is another path"
    );
    assert_eq!(
        table.describe(),
        [
            "GET /v1/me (getUserInfo)",
            "GET /v1/contacts (findContact)",
            "POST /v1/activities (createCallLog)",
            "GET /v1/activities/{{thirdPartyLogId}} (getCallLog)",
            "PATCH /v1/activities/{{thirdPartyLogId}} (updateCallLog)",
        ]
    );
}

#[test]
fn several_configs_share_one_table() {
    let redtail = fixtures::config(fixtures::REDTAIL);
    let insightly = fixtures::config(fixtures::INSIGHTLY);
    let mockcrm = fixtures::config(fixtures::MOCKCRM);
    let table = RouteTable::new(&[&redtail, &insightly, &mockcrm]);
    let get = |path: &str| Incoming {
        method: "GET".into(),
        path: path.into(),
        query: vec![],
        body: None,
    };
    let Found::Operation(m) = table.find(&get("/v3.1/Events/301").request()) else {
        panic!("routes")
    };
    assert_eq!((m.config, m.operation()), (1, Operation::GetCallLog));
    let Found::Operation(m) = table.find(&get("/activity/act_1").request()) else {
        panic!("routes")
    };
    assert_eq!((m.config, m.operation()), (2, Operation::GetCallLog));
    assert_eq!(
        base_url(&insightly, "http://127.0.0.1:8787/").as_deref(),
        Some("http://127.0.0.1:8787/v3.1")
    );
    assert_eq!(
        base_url(&mockcrm, "http://127.0.0.1:8787").as_deref(),
        Some("http://127.0.0.1:8787")
    );
    assert_eq!(
        summary(&redtail, "http://127.0.0.1:8787"),
        "redtail-like.json: baseUrl http://127.0.0.1:8787/api/public/v1 serves getUserInfo, findContact, createContact, createCallLog, getCallLog, updateCallLog, createMessageLog, updateMessageLog"
    );
}

#[test]
fn a_request_that_carries_too_little_still_routes() {
    let minimal = fixtures::config(fixtures::MINIMAL);
    let table = RouteTable::new(&[&minimal]);
    let incoming = Incoming {
        method: "POST".into(),
        path: "/v1/activities".into(),
        query: vec![],
        body: Some(json!({"subject": "S", "contact_id": 4})),
    };
    let Found::Operation(m) = table.find(&incoming.request()) else {
        panic!("routes")
    };
    let unmet: Vec<&str> = crate::proxy::needs::needs(m.operation(), &m.route.expressions())
        .into_iter()
        .filter(|need| !crate::proxy::needs::met(need, &m.bindings))
        .map(|need| need.expr)
        .collect();
    assert_eq!(unmet, ["composedLogDetails"]);
}

#[test]
fn query_pairs_read_back_into_the_object_axios_wrote() {
    let pairs: Vec<(String, String)> = [
        ("a", "1"),
        ("list[]", "x"),
        ("list[]", "y"),
        ("nested[k]", "v"),
        ("nested[arr][0][q]", "1"),
        ("j{}", r#"{"x":[1]}"#),
        ("r", "1"),
        ("r", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        query_object(&pairs),
        json!({"a": "1", "list": ["x", "y"], "nested": {"k": "v", "arr": [{"q": "1"}]}, "j{}": {"x": [1]}, "r": ["1", "2"]})
    );
}

#[test]
fn an_empty_base_url_serves_at_the_root_and_a_missing_one_does_not() {
    let root = config(
        r#"{"requestDefaults": {"baseUrl": ""}, "operations": {"getCallLog": {"url": "activities/{{thirdPartyLogId}}"}, "getUserInfo": {"url": "/me"}}}"#,
    );
    assert!(root.claims_base_path());
    let plan = Plan::new(&root);
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    let paths: Vec<&str> = plan.routes.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/activities/{{thirdPartyLogId}}", "/me"]);
    assert_eq!(
        base_url(&root, "http://127.0.0.1:8787/").as_deref(),
        Some("http://127.0.0.1:8787")
    );
    assert_eq!(
        summary(&root, "http://127.0.0.1:8787"),
        "test.json: baseUrl is empty, so the operations are served at the server's root; put baseUrl http://127.0.0.1:8787 in the config; serves getCallLog, getUserInfo"
    );
    let missing = config(r#"{"operations": {"getUserInfo": {"url": "/me"}}}"#);
    assert!(!missing.claims_base_path());
    assert!(served_operations(&missing).is_empty());
}

#[test]
fn routes_overlap_the_paths_a_request_for_which_could_reach_them() {
    let root = config(
        r#"{"requestDefaults": {"baseUrl": ""}, "operations": {"getCallLog": {"url": "/activity/{{thirdPartyLogId}}"}, "getUserInfo": {"url": "/{{user.id}}/me"}, "findContact": {"url": "/c-{{phoneNumber}}"}}}"#,
    );
    let plan = Plan::new(&root);
    let route = |op: Operation| {
        plan.routes
            .iter()
            .find(|r| r.operation == op)
            .expect("served")
    };
    let get = route(Operation::GetCallLog);
    assert!(get.overlaps("/activity/{id}"));
    assert!(get.overlaps("/activity/search"));
    assert!(!get.overlaps("/activity"));
    assert!(!get.overlaps("/contact/{id}"));
    let me = route(Operation::GetUserInfo);
    assert!(
        me.overlaps("/__admin/*"),
        "its first segment can be anything"
    );
    assert!(!me.overlaps("/me"));
    let find = route(Operation::FindContact);
    assert!(find.overlaps("/c-1"));
    assert!(!find.overlaps("/contact"), "the literal start must fit");
    assert!(find.overlaps("/{id}"));
}
