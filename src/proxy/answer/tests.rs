//! Answers read forwards (through App Connect's mappings) as the values they
//! were built from, for every fixture config; and a request's meaning.

use super::*;
use crate::proxy::fixtures;
use crate::proxy::mapping;
use crate::proxy::template::{Bindings, Template};
use serde_json::json;

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("an object"),
    }
}

fn config(text: &str) -> ProxyConfig {
    crate::proxy::load("test.json", text)
        .expect("test config loads")
        .config
}

fn jane() -> ContactView {
    ContactView {
        id: json!(101),
        name: Some(json!("Jane Contact")),
        phone: Some(json!("+14155550199")),
        contact_type: Some(json!("Lead")),
        title: Some(json!("CTO")),
        company: Some(json!("Acme")),
        created_date: Some(json!("2024-01-01T00:00:00Z")),
        most_recent_activity_date: Some(json!("2024-02-01T00:00:00Z")),
        additional_info: Some(json!({"deals": [1]})),
        fields: object(json!({"email": "jane@example.com", "name": "stored name"})),
    }
}

fn agent() -> UserView {
    UserView {
        id: json!("crm-user-1"),
        name: Some(json!("Test User")),
        email: Some(json!("test@acme.example")),
        timezone_name: Some(json!("America/New_York")),
        fields: object(json!({
            "email": "test@acme.example", "organisation": "Acme", "timezoneOffset": "-05:00",
            "userKey": "uk-9", "databaseId": 3, "companyId": 4, "companyDomain": "acme"
        })),
    }
}

/// What each answer must say, checked by reading it back the way App
/// Connect reads it.
fn values() -> AnswerValues {
    AnswerValues {
        id: Some(json!(501)),
        record: object(json!({"subject": "stored subject", "type": "call", "done": 1})),
        subject: Some(json!("Outbound Call to Jane Contact")),
        note: Some(json!("Customer asked for pricing.")),
        full_body: Some(json!("<b>Note</b><br>Customer asked for pricing.")),
        contacts: vec![
            jane(),
            ContactView {
                id: json!("c2"),
                ..ContactView::default()
            },
        ],
        contact: Some(jane()),
        user: Some(agent()),
        users: vec![
            agent(),
            UserView {
                id: json!(13),
                ..UserView::default()
            },
        ],
        license: Some(LicenseView {
            valid: json!(true),
            status: Some(json!("Pro")),
            description: Some(json!("")),
        }),
    }
}

/// For every fixture config and every operation it maps, the answer built
/// backwards reads forwards, through App Connect's own mappings, as the
/// values it was built from.
#[test]
fn answers_satisfy_every_fixture_mapping() {
    let values = values();
    for fixture in fixtures::ALL {
        let config = fixtures::config(fixture);
        let name = fixture.0;
        for op in config.operations.iter().map(|o| o.operation) {
            let built = answer(&config, op, &values).unwrap_or_else(|e| panic!("{name} {op}: {e}"));
            let label = format!("{name} {op}: {built}");
            match op {
                Operation::CreateCallLog => {
                    assert_eq!(
                        mapping::create_call_log_id(&config, &built).as_deref(),
                        Some("501"),
                        "{label}"
                    )
                }
                Operation::CreateMessageLog => {
                    assert_eq!(
                        mapping::create_message_log_id(&config, &built).as_deref(),
                        Some("501"),
                        "{label}"
                    )
                }
                Operation::GetCallLog => {
                    let info = mapping::get_call_log(&config, &built);
                    assert_eq!(info.subject, values.subject, "{label}");
                    assert_eq!(info.full_body, values.full_body, "{label}");
                    // Every fixture keeps the note apart from the body.
                    assert_eq!(info.note, values.note, "{label}");
                }
                Operation::FindContact | Operation::FindContactWithName => {
                    let found = mapping::find_contacts(&config, op, &built).expect("a list");
                    assert_eq!(found.len(), 2, "{label}");
                    let first = &found[0];
                    assert_eq!(first["id"], json!(101), "{label}");
                    assert_eq!(first["name"], json!("Jane Contact"), "{label}");
                    assert_eq!(first["phone"], json!("+14155550199"), "{label}");
                    for (field, expected) in [
                        ("type", json!("Lead")),
                        ("title", json!("CTO")),
                        ("company", json!("Acme")),
                        ("createdDate", json!("2024-01-01T00:00:00Z")),
                        ("mostRecentActivityDate", json!("2024-02-01T00:00:00Z")),
                        ("additionalInfo", json!({"deals": [1]})),
                    ] {
                        assert_eq!(first[field], expected, "{label}: {field}");
                    }
                    assert_eq!(found[1]["id"], json!("c2"), "{label}");
                }
                Operation::CreateContact => {
                    let contact = mapping::created_contact(&config, &built);
                    assert_eq!(contact["id"], json!(101), "{label}");
                    assert_eq!(contact["name"], json!("Jane Contact"), "{label}");
                }
                Operation::GetUserInfo => {
                    let args = object(json!({"platform": "mockcrm"}));
                    let info = mapping::user_info(&config, &built, &args);
                    let user = &info["platformUserInfo"];
                    assert_eq!(user["id"], json!("crm-user-1-mockcrm"), "{label}");
                    assert_eq!(user["name"], json!("Test User"), "{label}");
                    let map = config
                        .operation(op)
                        .and_then(|o| o.response_mapping.as_ref())
                        .expect("mapped");
                    if map.path_if_set("timezoneNamePath").is_some() {
                        assert_eq!(user["timezoneName"], json!("America/New_York"), "{label}");
                    }
                    for (key, _) in map.platform_additional_info_paths() {
                        assert_eq!(
                            user["platformAdditionalInfo"][key],
                            agent().fields[key],
                            "{label}: {key}"
                        );
                    }
                }
                Operation::GetUserList => {
                    let users = mapping::user_list(&config, &built).expect("a list");
                    assert_eq!(
                        users,
                        vec![
                            json!({"id": "crm-user-1", "name": "Test User", "email": "test@acme.example"}),
                            // A mapped path with no value holds null.
                            json!({"id": 13, "name": null, "email": null}),
                        ],
                        "{label}"
                    );
                }
                Operation::UpdateCallLog
                | Operation::UpdateMessageLog
                | Operation::UpsertCallDisposition => {
                    // App Connect reads none of these answers: the record,
                    // shaped as the create's answer is.
                    let read = if op == Operation::UpdateMessageLog {
                        mapping::create_message_log_id(&config, &built)
                    } else {
                        mapping::create_call_log_id(&config, &built)
                    };
                    assert_eq!(read.as_deref(), Some("501"), "{label}: {built}");
                }
                _ => {
                    assert_eq!(built["id"], json!(501), "{label}");
                    assert_eq!(built["type"], json!("call"), "{label}");
                }
            }
        }
    }
}

#[test]
fn stored_fields_sit_beside_the_mapped_paths() {
    let values = values();
    let pipedrive = fixtures::config(fixtures::PIPEDRIVE);
    assert_eq!(
        answer(&pipedrive, Operation::CreateCallLog, &values),
        Ok(json!({"data": {"id": 501, "subject": "stored subject", "type": "call", "done": 1}}))
    );
    // subject and full body live in `data`; the note falls to App Connect's
    // default `body.note`, beside it.
    assert_eq!(
        answer(&pipedrive, Operation::GetCallLog, &values),
        Ok(json!({
            "note": "Customer asked for pricing.",
            "data": {"subject": "Outbound Call to Jane Contact", "note": "<b>Note</b><br>Customer asked for pricing.", "type": "call", "done": 1}
        }))
    );
    // A record stored with its envelope is answered with it, not nested twice.
    let redtail = fixtures::config(fixtures::REDTAIL);
    let wrapped = AnswerValues {
        record: object(json!({"activity": {"subject": "S", "description": "D"}, "meta": 1})),
        subject: Some(json!("S")),
        full_body: Some(json!("D")),
        note: Some(json!("N")),
        ..AnswerValues::default()
    };
    assert_eq!(
        answer(&redtail, Operation::GetCallLog, &wrapped),
        Ok(json!({"activity": {"subject": "S", "description": "D", "note": "N"}, "meta": 1}))
    );
    // Redtail's create body is flat; its answer wraps it in `activity`.
    let flat = AnswerValues {
        id: Some(json!(77)),
        record: object(json!({"subject": "S", "linked_contacts": [{"contact_id": 4}]})),
        ..AnswerValues::default()
    };
    assert_eq!(
        answer(&redtail, Operation::CreateCallLog, &flat),
        Ok(json!({"activity": {"id": 77, "subject": "S", "linked_contacts": [{"contact_id": 4}]}}))
    );
}

#[test]
fn app_connects_default_paths_answer_too() {
    let bare = config(
        r#"{"operations": {"getCallLog": {"url": "/a"}, "createCallLog": {"url": "/a"}, "findContact": {"url": "/c", "responseMapping": {}}}}"#,
    );
    let values = values();
    // notePath and fullBodyPath both default to body.note: the full body
    // wins, since App Connect recomposes updates on top of it.
    let built = answer(&bare, Operation::GetCallLog, &values).expect("answers");
    assert_eq!(
        built["note"],
        json!("<b>Note</b><br>Customer asked for pricing.")
    );
    assert_eq!(built["subject"], json!("Outbound Call to Jane Contact"));
    let built = answer(&bare, Operation::CreateCallLog, &values).expect("answers");
    assert_eq!(built["id"], json!(501));
    let built = answer(&bare, Operation::FindContact, &values).expect("answers");
    assert!(
        built.is_array(),
        "listPath defaults to the whole answer: {built}"
    );
    assert_eq!(
        built[0]["email"],
        json!("jane@example.com"),
        "stored fields kept"
    );
    assert_eq!(built[0]["name"], json!("Jane Contact"), "mapped values win");
}

#[test]
fn impossible_mappings_are_errors_and_refused_before_serving() {
    let clash = config(
        r#"{"operations": {"getCallLog": {"url": "https://crm.example/a", "responseMapping": {"subjectPath": "body.a.b", "fullBodyPath": "body.a"}}}}"#,
    );
    assert_eq!(
        answer(&clash, Operation::GetCallLog, &values()),
        Err(AnswerError::Unsatisfiable {
            operation: Operation::GetCallLog,
            reason: "fullBodyPath (body.a) cannot hold its value: another path of the mapping is inside it".into()
        })
    );
    let refused = |config: &ProxyConfig| {
        check_servable(config)
            .map_err(|e| e.to_string())
            .expect_err("refused")
    };
    assert_eq!(
        refused(&clash),
        "test.json: operations.getCallLog.responseMapping: fullBodyPath (body.a) and subjectPath (body.a.b): one is inside the other, so no answer can hold both; give each a path of its own"
    );
    let outside = config(
        r#"{"operations": {"createCallLog": {"url": "https://crm.example/a", "responseMapping": {"idPath": "id"}}}}"#,
    );
    assert_eq!(
        answer(&outside, Operation::CreateCallLog, &values()).map_err(|e| e.to_string()),
        Err("createCallLog: responseMapping.idPath is \"id\"; an answer can only hold paths under body".into())
    );
    assert_eq!(
        refused(&outside),
        "test.json: operations.createCallLog.responseMapping.idPath: \"id\" is not under body, so no answer can hold it: App Connect reads it from {body: <the answer>} (write body.id)"
    );
    let deep = config(
        r#"{"operations": {"findContact": {"url": "https://crm.example/c", "responseMapping": {"item": {"phonePath": "phones.5000"}}}}}"#,
    );
    assert_eq!(
        refused(&deep),
        "test.json: operations.findContact.responseMapping.item.phonePath: \"phones.5000\": index 5000 is more than mockcrm fills in (at most 1000)"
    );
    // An operation that is not served is not checked.
    let unserved = config(
        r#"{"operations": {"createCallLog": {"url": "/a", "responseMapping": {"idPath": "id"}}}}"#,
    );
    assert_eq!(check_servable(&unserved), Ok(()));
    // getUserInfo may read App Connect's own arguments; every fixture is
    // servable.
    let own = config(
        r#"{"operations": {"getUserInfo": {"url": "https://crm.example/me", "responseMapping": {"idPath": "apiKey", "namePath": "body.name"}}}}"#,
    );
    assert_eq!(check_servable(&own), Ok(()));
    for fixture in fixtures::ALL {
        assert_eq!(
            check_servable(&fixtures::config(fixture)),
            Ok(()),
            "{}",
            fixture.0
        );
    }
}

/// App Connect's own sample config maps a user's id and name to one path,
/// and keeps the whole user object besides.
const SHARED: &str = r#"{"requestDefaults": {"baseUrl": ""}, "operations": {
    "getUserInfo": {"url": "/authentication", "responseMapping": {
        "idPath": "body.user.username", "namePath": "body.user.username",
        "messagePath": "body.message", "timezoneNamePath": "body.user.tz",
        "platformAdditionalInfoPaths": {"userResponse": "body.user", "email": "body.email"}}},
    "createContact": {"method": "POST", "url": "/contacts", "responseMapping": {
        "idPath": "body.id", "namePath": "body.name", "typePath": "body.type"}},
    "getCallLog": {"url": "/a/{{thirdPartyLogId}}", "responseMapping": {
        "subjectPath": "body.x", "notePath": "body.x", "fullBodyPath": "body.x"}}}}"#;

#[test]
fn shared_paths_hold_the_value_app_connect_reads_for_both() {
    let config = config(SHARED);
    assert_eq!(check_servable(&config), Ok(()));
    let mut values = values();
    if let Some(user) = values.user.as_mut() {
        user.timezone_name = None;
    }
    let built = answer(&config, Operation::GetUserInfo, &values).expect("answers");
    assert_eq!(
        built["user"]["username"],
        json!("crm-user-1"),
        "the id: {built}"
    );
    assert_eq!(
        built["message"],
        Value::Null,
        "a mapped path with no value holds null"
    );
    assert_eq!(built["user"]["tz"], Value::Null);
    assert_eq!(built["email"], json!("test@acme.example"));
    let args = object(json!({"platform": "mockcrm"}));
    let info = mapping::user_info(&config, &built, &args);
    let user = &info["platformUserInfo"];
    assert_eq!(user["id"], json!("crm-user-1-mockcrm"));
    assert_eq!(user["name"], json!("crm-user-1"));
    assert_eq!(
        info["returnMessage"]["message"],
        json!("Connected to mockcrm."),
        "a null message falls back to App Connect's own"
    );
    assert_eq!(
        user["platformAdditionalInfo"]["userResponse"]["username"],
        json!("crm-user-1"),
        "the object the other paths make: {info}"
    );

    // A contact with no type: null where the mapping reads it.
    let mut untyped = values.clone();
    if let Some(contact) = untyped.contact.as_mut() {
        contact.contact_type = None;
    }
    let built = answer(&config, Operation::CreateContact, &untyped).expect("answers");
    assert_eq!(built["id"], json!(101));
    assert_eq!(built["type"], Value::Null);
    assert_eq!(
        mapping::created_contact(&config, &built)["type"],
        json!("Contact")
    );

    // Subject, note and full body at one path: the full body.
    let built = answer(&config, Operation::GetCallLog, &values).expect("answers");
    assert_eq!(
        built["x"],
        json!("<b>Note</b><br>Customer asked for pricing.")
    );
}

fn bind(template: &str, received: Value) -> Bindings {
    let mut bindings = Bindings::default();
    let json = crate::proxy::json::Json::parse(template).expect("template JSON");
    crate::proxy::template::TemplateValue::from_json(&json).bind(&received, &mut bindings);
    bindings
}

#[test]
fn meaning_comes_from_the_bound_values() {
    let call = bind(
        r#"{"subject": "{{subject}}", "description": "{{composedLogDetails}}", "start": "{{startTime}}",
            "session": "{{callLog.sessionId}}", "seconds": "{{callLog.duration}}", "dir": "{{callLog.direction}}",
            "note": "{{note}}", "contact": "{{contactInfo}}"}"#,
        json!({"subject": "S", "description": "B", "start": "2024-01-15T15:30:00.000Z", "session": "s1",
               "seconds": 125, "dir": "Inbound", "note": null, "contact": {"id": 7, "name": "J"}}),
    );
    assert_eq!(
        meaning(Operation::CreateCallLog, &call),
        Meaning {
            body: Some("B".into()),
            subject: Some("S".into()),
            contact_id: Some(json!(7)),
            start_time: Some(json!("2024-01-15T15:30:00.000Z")),
            session_id: Some(json!("s1")),
            duration: Some(json!(125)),
            direction: Some("Inbound".into()),
            note: None,
            message_id: None,
            log_id: None,
            conversation_log_id: None,
        }
    );
    let update = bind(
        r#"{"id": "{{existingCallLog.thirdPartyLogId}}", "d": "{{duration}}"}"#,
        json!({"id": 9, "d": 30}),
    );
    let update_meaning = meaning(Operation::UpdateCallLog, &update);
    assert_eq!(update_meaning.log_id, Some(json!(9)));
    assert_eq!(update_meaning.duration, Some(json!(30)));
    let mut message = Bindings::default();
    Template::parse("SMS {{message.id}} with {{contactInfo.name}}")
        .bind_text("SMS 5 with Jo", &mut message);
    let message_meaning = meaning(Operation::CreateCallLog, &message);
    assert_eq!(message_meaning.message_id, Some(json!("5")));
    assert!(
        message_meaning.is_message(Operation::CreateCallLog),
        "message.id marks a message log"
    );
    assert!(!meaning(Operation::CreateCallLog, &call).is_message(Operation::CreateCallLog));
}

#[test]
fn a_message_logs_conversation_is_cores_key_or_made_like_it() {
    let created = bind(
        r#"{"c": "{{message.conversationId}}", "t": "{{message.creationTime}}"}"#,
        json!({"c": "9001", "t": "2024-01-15T23:30:00-05:00"}),
    );
    assert_eq!(
        meaning(Operation::CreateMessageLog, &created).conversation_log_id,
        Some("9001-2024-01-16".into())
    );
    let updated = bind(
        r#"{"c": "{{existingMessageLog.conversationLogId}}", "t": "{{message.creationTime}}"}"#,
        json!({"c": "9001-2024-01-15", "t": "2024-01-15T23:30:00-05:00"}),
    );
    assert_eq!(
        meaning(Operation::UpdateMessageLog, &updated).conversation_log_id,
        Some("9001-2024-01-15".into())
    );
    let without_time = bind(
        r#"{"c": "{{message.conversationId}}"}"#,
        json!({"c": "9001"}),
    );
    assert_eq!(
        meaning(Operation::CreateMessageLog, &without_time).conversation_log_id,
        None
    );
}
