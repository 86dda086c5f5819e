//! Forward mappings against the results App Connect's connector returned
//! for the fixture configs (recorded in fixtures/), and their edge cases.

use super::*;
use crate::proxy::fixtures;

fn config(text: &str) -> ProxyConfig {
    crate::proxy::load("test.json", text)
        .expect("test config loads")
        .config
}

/// For every fixture operation, the result index.ts returned for a canned
/// answer (recorded by fixtures/proxy-configs/oracle/generate.js) is what
/// `result` returns.
#[test]
fn fixture_results_match_app_connect() {
    let oracle: Value =
        serde_json::from_str(fixtures::APP_CONNECT_REQUESTS).expect("oracle file is JSON");
    for case in oracle["cases"].as_array().expect("cases") {
        let name = case["config"].as_str().expect("config name");
        let op = Operation::from_name(case["operation"].as_str().expect("op")).expect("known op");
        let (_, text) = fixtures::ALL
            .into_iter()
            .find(|(file, _)| *file == name)
            .expect("fixture exists");
        let config = crate::proxy::load(name, text).expect("loads").config;
        let args = case["args"].as_object().expect("args");
        let got = result(&config, op, &case["answer"], args).expect("maps");
        assert_eq!(got, case["result"], "{name} {op}");
    }
}

#[test]
fn log_ids_are_strings_of_truthy_values() {
    let config = config(
        r#"{"operations": {"createCallLog": {"url": "/a", "responseMapping": {"idPath": "body.data.id"}}, "createMessageLog": {"url": "/m"}}}"#,
    );
    assert_eq!(
        create_call_log_id(&config, &json!({"data": {"id": 12}})),
        Some("12".into())
    );
    assert_eq!(
        create_call_log_id(&config, &json!({"data": {"id": 1e21}})),
        Some("1e+21".into())
    );
    assert_eq!(
        create_call_log_id(&config, &json!({"data": {"id": {"x": 1}}})),
        Some("[object Object]".into())
    );
    assert_eq!(
        create_call_log_id(&config, &json!({"data": {"id": 0}})),
        None,
        "0 is falsy"
    );
    assert_eq!(
        create_call_log_id(&config, &json!({"data": {"id": ""}})),
        None
    );
    assert_eq!(create_call_log_id(&config, &json!("not json")), None);
    // createMessageLog reads body.id without a mapping; createCallLog does not.
    assert_eq!(
        create_message_log_id(&config, &json!({"id": "m1"})),
        Some("m1".into())
    );
    let unmapped = self::config(r#"{"operations": {"createCallLog": {"url": "/a"}}}"#);
    assert_eq!(create_call_log_id(&unmapped, &json!({"id": "a1"})), None);
}

#[test]
fn get_call_log_reads_body_note_for_both_by_default() {
    let config = config(r#"{"operations": {"getCallLog": {"url": "/a"}}}"#);
    let info = get_call_log(&config, &json!({"subject": "S", "note": "N"}));
    assert_eq!(
        info.to_value(),
        json!({"subject": "S", "note": "N", "fullBody": "N", "fullLogResponse": {"subject": "S", "note": "N"}})
    );
    let info = get_call_log(&config, &json!([1]));
    assert_eq!(
        info.to_value(),
        json!({"fullLogResponse": [1]}),
        "undefined members are left out"
    );
}

#[test]
fn contacts_get_app_connects_defaults() {
    let config = config(
        r#"{"operations": {"findContact": {"url": "/c", "responseMapping": {"item": {"phonePath": "phones.0"}}}}}"#,
    );
    let contacts = find_contacts(
        &config,
        Operation::FindContact,
        &json!([{"id": 0, "name": "", "phones": ["+1"], "type": "", "additionalInfo": 0}, null]),
    )
    .expect("a list");
    assert_eq!(
        contacts,
        vec![
            json!({"id": 0, "name": "", "phone": "+1", "type": "Contact", "title": "", "company": "", "additionalInfo": null}),
            json!({"name": "", "type": "Contact", "title": "", "company": "", "additionalInfo": null}),
        ]
    );
    let err = find_contacts(&config, Operation::FindContact, &json!({"items": []}))
        .expect_err("not a list");
    assert_eq!(
        err.to_string(),
        "findContact: body in the answer is an object, not a list"
    );
    assert_eq!(
        find_contacts(&config, Operation::FindContactWithName, &json!([{}])),
        Ok(vec![]),
        "no mapping, no contacts"
    );
}

#[test]
fn user_info_follows_index_ts() {
    let config = config(
        r#"{"operations": {"getUserInfo": {"url": "/me", "responseMapping": {"idPath": "body.u.id", "messagePath": "body.msg",
            "platformAdditionalInfoPaths": {"tenant": "body.u.tenant", "gone": "body.nothing", "host": "hostname"}}}}}"#,
    );
    let args = json!({"platform": "crm", "hostname": "h", "additionalInfo": {"password": "pw", "region": "eu"}});
    let info = user_info(
        &config,
        &json!({"u": {"id": 7, "tenant": "t1"}, "msg": ""}),
        args.as_object().expect("object"),
    );
    assert_eq!(
        info,
        json!({"successful": true,
               "platformUserInfo": {"id": "7-crm", "name": 7, "platformAdditionalInfo": {"region": "eu", "tenant": "t1", "host": "h"}},
               "returnMessage": {"messageType": "success", "message": "Connected to crm.", "ttl": 1000}})
    );
    let bare = self::config(r#"{"operations": {"getUserInfo": {"url": "/me"}}}"#);
    assert_eq!(
        user_info(&bare, &json!({}), &Map::new())["platformUserInfo"],
        json!({"id": "undefined-undefined"})
    );
    // A path read as undefined still counts as a key: the object is kept.
    let only_gone = self::config(
        r#"{"operations": {"getUserInfo": {"url": "/me", "responseMapping": {"platformAdditionalInfoPaths": {"gone": "body.x"}}}}}"#,
    );
    assert_eq!(
        user_info(&only_gone, &json!({}), &Map::new())["platformUserInfo"]
            ["platformAdditionalInfo"],
        json!({})
    );
}

#[test]
fn user_lists_and_licenses() {
    let config = config(
        r#"{"operations": {"getUserList": {"url": "/u", "responseMapping": {"listPath": "body.users", "emailPath": "mail"}},
                           "getLicenseStatus": {"url": "/l", "responseMapping": {"licenseStatusPath": "body.plan"}}}}"#,
    );
    assert_eq!(
        user_list(
            &config,
            &json!({"users": [{"id": 1, "name": "A", "mail": "a@x"}]})
        ),
        Ok(vec![json!({"id": 1, "name": "A", "email": "a@x"})])
    );
    assert!(user_list(&config, &json!({"users": "none"})).is_err());
    assert_eq!(
        license_status(&config, &json!({"isLicenseValid": true, "plan": "Pro"})),
        json!({"isLicenseValid": true, "licenseStatus": "Pro"})
    );
}
