//! Config loading: the exact line of every bad config, the warnings for
//! what App Connect would get silently wrong, and the fixture configs.

use super::*;

fn error(text: &str) -> String {
    load("my-crm.json", text)
        .expect_err("a bad config")
        .to_string()
}

fn warnings(text: &str) -> Vec<String> {
    load("my-crm.json", text)
        .expect("a config that loads")
        .1
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// A config with nothing to warn about, to which each test adds one thing.
fn with_operations(operations: &str) -> String {
    format!(
        r#"{{"meta": {{"logFormat": "text/plain"}}, "auth": {{"type": "apiKey"}},
            "requestDefaults": {{"baseUrl": "https://crm.example/v1"}},
            "operations": {operations}}}"#
    )
}

const CREATE: &str = r#"{"createCallLog": {"method": "POST", "url": "/activities", "body": {"subject": "{{subject}}"}, "responseMapping": {"idPath": "body.id"}}}"#;

#[test]
fn every_bad_config_gives_one_exact_line() {
    let cases: &[(&str, String)] = &[
        ("{\"operations\": }", "my-crm.json: not JSON: expected value at line 1 column 16".into()),
        ("[]", "my-crm.json: expected an object at the top level, found an array".into()),
        (
            r#"{"requestDefaults": {"timeoutSeconds": "30"}}"#,
            "my-crm.json: requestDefaults.timeoutSeconds: expected a number, found the string \"30\"".into(),
        ),
        (
            r#"{"requestDefaults": {"timeoutSeconds": -1}}"#,
            "my-crm.json: requestDefaults.timeoutSeconds: must be 0 or more seconds, not -1".into(),
        ),
        (
            r#"{"requestDefaults": {"baseUrl": "api.example.com/v1"}}"#,
            "my-crm.json: requestDefaults.baseUrl: \"api.example.com/v1\" is not an http:// or https:// URL".into(),
        ),
        (
            r#"{"operations": []}"#,
            "my-crm.json: operations: expected an object, found an array".into(),
        ),
        (
            r#"{"meta": {"logFormat": 3}}"#,
            "my-crm.json: meta.logFormat: expected a string, found the number 3".into(),
        ),
        (
            r#"{"auth": {"encode": false}}"#,
            "my-crm.json: auth.encode: expected a string, found false".into(),
        ),
        (
            r#"{"auth": {"credentialTemplate": "{{apiKey}:"}}"#,
            "my-crm.json: auth.credentialTemplate: template \"{{apiKey}:\" never closes".into(),
        ),
        (
            r#"{"operations": {"createCallLog": "POST /activities"}}"#,
            "my-crm.json: operations.createCallLog: expected an object, found the string \"POST /activities\"".into(),
        ),
        (
            r#"{"operations": {"createCallLog": {"method": "POST", "url": "/activities/{{x"}}}"#,
            "my-crm.json: operations.createCallLog.url: template \"/activities/{{x\" never closes".into(),
        ),
        (
            r#"{"operations": {"createCallLog": {"url": "/a", "body": {"links": [{"id": "{{contactInfo.id"}]}}}}"#,
            "my-crm.json: operations.createCallLog.body.links[0].id: template \"{{contactInfo.id\" never closes".into(),
        ),
        (
            r#"{"operations": {"createCallLog": {"url": "/a", "query": {"q": "a {{}} b"}}}}"#,
            "my-crm.json: operations.createCallLog.query.q: template \"a {{}} b\" has a \"{{\" that starts no expression (write {{name.path}}, with no \"}\" inside)".into(),
        ),
        (
            r#"{"operations": {"getCallLog": {"method": "GET"}}}"#,
            "my-crm.json: operations.getCallLog.url: missing: every operation needs a url".into(),
        ),
        (
            r#"{"operations": {"getCallLog": {"url": 5}}}"#,
            "my-crm.json: operations.getCallLog.url: expected a string, found the number 5".into(),
        ),
        (
            r#"{"operations": {"createCallLog": {"url": "/a", "headers": ["x"]}}}"#,
            "my-crm.json: operations.createCallLog.headers: expected an object, found an array".into(),
        ),
        (
            r#"{"operations": {"createCallLog": {"url": "/a", "headers": {"Bad Header": "x"}}}}"#,
            "my-crm.json: operations.createCallLog.headers.Bad Header: \"Bad Header\" is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)".into(),
        ),
        (
            r#"{"operations": {"createCallLog": {"url": "/a", "query": "phone={{phoneNumber}}"}}}"#,
            "my-crm.json: operations.createCallLog.query: expected an object, found the string \"phone={{phoneNumber}}\"".into(),
        ),
        (
            r#"{"operations": {"getCallLog": {"url": "/a", "responseMapping": {"subjectPath": "body.items[0].subject"}}}}"#,
            "my-crm.json: operations.getCallLog.responseMapping.subjectPath: \"body.items[0].subject\" is not a dot path: write array indices as parts, e.g. body.items.0.subject".into(),
        ),
        (
            r#"{"operations": {"createCallLog": {"url": "/a", "responseMapping": {"idPath": "$.data.id"}}}}"#,
            "my-crm.json: operations.createCallLog.responseMapping.idPath: \"$.data.id\" is not a dot path: drop the leading \"$.\": paths start at the answer's fields, e.g. body.id".into(),
        ),
        (
            r#"{"operations": {"findContact": {"url": "/c", "responseMapping": {"item": {"idPath": "id..x"}}}}}"#,
            "my-crm.json: operations.findContact.responseMapping.item.idPath: \"id..x\" is not a dot path: it has an empty part (two dots, or a dot at an end)".into(),
        ),
        (
            r#"{"operations": {"findContact": {"url": "/c", "responseMapping": {"item": "id"}}}}"#,
            "my-crm.json: operations.findContact.responseMapping.item: expected an object, found the string \"id\"".into(),
        ),
        (
            r#"{"operations": {"getUserInfo": {"url": "/me", "responseMapping": {"platformAdditionalInfoPaths": {"tenant": 1}}}}}"#,
            "my-crm.json: operations.getUserInfo.responseMapping.platformAdditionalInfoPaths.tenant: expected a string, found the number 1".into(),
        ),
        (
            r#"{"operations": {"getUserInfo": {"url": "/me", "responseMapping": {"idPath": ["body", "id"]}}}}"#,
            "my-crm.json: operations.getUserInfo.responseMapping.idPath: expected a string, found an array".into(),
        ),
    ];
    for (text, expected) in cases {
        let got = error(text);
        assert_eq!(&got, expected, "for {text}");
        assert!(!got.contains('\n'), "one line: {got}");
    }
}

#[test]
fn two_configs_claiming_one_base_path_fail() {
    let a = r#"{"requestDefaults": {"baseUrl": "https://a.example/v1/"}, "operations": {}}"#;
    let b = r#"{"requestDefaults": {"baseUrl": "http://127.0.0.1:9/v1"}, "operations": {}}"#;
    let c = r#"{"requestDefaults": {"baseUrl": "https://a.example/v2"}, "operations": {}}"#;
    let err = crate::proxy::load_all(&[("a.json", a), ("c.json", c), ("b.json", b)])
        .expect_err("same base path");
    assert_eq!(
        err.to_string(),
        "b.json: requestDefaults.baseUrl: base path /v1 is already claimed by a.json"
    );
    assert!(crate::proxy::load_all(&[("a.json", a), ("c.json", c)]).is_ok());
    let root = r#"{"requestDefaults": {"baseUrl": "https://crm.example"}, "operations": {}}"#;
    let err = crate::proxy::load_all(&[("x.json", root), ("y.json", root)]).expect_err("both at /");
    assert_eq!(
        err.to_string(),
        "y.json: requestDefaults.baseUrl: base path / is already claimed by x.json"
    );
    // Configs without a base url claim nothing.
    let absolute = r#"{"operations": {"getCallLog": {"url": "https://{{user.hostname}}/a/{{thirdPartyLogId}}"}}}"#;
    assert!(crate::proxy::load_all(&[("p.json", absolute), ("q.json", absolute)]).is_ok());
}

#[test]
fn a_clean_config_has_no_warnings() {
    assert_eq!(warnings(&with_operations(CREATE)), Vec::<String>::new());
}

#[test]
fn silent_mistakes_are_warnings() {
    let ops = r#"{
        "createCallLog": {"url": "/a", "body": {"id": "{{logId}}", "x": "{{contactinfo.id}}"}},
        "getCallLog": {"url": "/a/{{thirdPartyLogId}}", "responseMapping": {"subjectPath": "subject", "idPath": "body.id"}},
        "updateCallLog": {"url": "/a/{{thirdPartyLogId}}", "responseMapping": {"idPath": "body.id"}},
        "findContact": {"url": "/c", "responseMapping": {"item": {"emailPath": "email"}}},
        "getUserInfo": {"url": "/me", "responseMapping": {"idPath": "apiKey", "namePath": "name"}},
        "getUserList": {"url": "/users"},
        "logCall": {"url": "/x"}
    }"#;
    let got = warnings(&with_operations(ops));
    let expected = [
        "my-crm.json: operations.createCallLog.body.id: {{logId}}: App Connect gives createCallLog no variable \"logId\", so it renders as nothing (it gives contactInfo, callLog, note, additionalSubmission, aiNote, transcript, voicemailLink, voicemailMessageId, composedLogDetails, hashedAccountId, isFromSSCL, subject, startTime, endTime, ringSenseTranscript, ringSenseSummary, ringSenseAIScore, ringSenseBulletedSummary, ringSenseLink, user, authHeader, apiKey, secretKey)",
        "my-crm.json: operations.createCallLog.body.x: {{contactinfo.id}}: App Connect gives createCallLog no variable \"contactinfo\", so it renders as nothing (it gives contactInfo, callLog, note, additionalSubmission, aiNote, transcript, voicemailLink, voicemailMessageId, composedLogDetails, hashedAccountId, isFromSSCL, subject, startTime, endTime, ringSenseTranscript, ringSenseSummary, ringSenseAIScore, ringSenseBulletedSummary, ringSenseLink, user, authHeader, apiKey, secretKey)",
        "my-crm.json: operations.createCallLog.responseMapping: missing, so App Connect never gets a logId and reports every call as not logged (add \"idPath\")",
        "my-crm.json: operations.getCallLog.responseMapping.idPath: App Connect does not read this for getCallLog (it reads subjectPath, notePath, fullBodyPath)",
        "my-crm.json: operations.getCallLog.responseMapping.subjectPath: \"subject\" does not start with body, so it never finds anything (paths are read from {body: <the answer>}, e.g. body.subject)",
        "my-crm.json: operations.updateCallLog.responseMapping.idPath: App Connect reads no answer of updateCallLog, so it ignores this",
        "my-crm.json: operations.findContact.responseMapping.item.emailPath: App Connect does not read this (it reads idPath, namePath, phonePath, typePath, titlePath, companyPath, createdDatePath, mostRecentActivityDatePath, additionalInfoPath)",
        "my-crm.json: operations.getUserInfo.responseMapping.namePath: \"name\" does not start with body or additionalInfo or apiKey or hostname or platform, so it never finds anything (paths are read from {body: <the answer>}, e.g. body.name)",
        "my-crm.json: operations.getUserList.responseMapping.listPath: missing, so App Connect always gets an empty user list",
        "my-crm.json: operations.logCall: not an App Connect interface, so App Connect never calls it; not served",
    ];
    assert_eq!(got, expected);
}

#[test]
fn missing_pieces_app_connect_needs_are_warnings() {
    let got = warnings(r#"{"operations": {}}"#);
    assert_eq!(
        got,
        [
            "my-crm.json: meta.logFormat: missing, so App Connect composes no body and composedLogDetails is empty",
            "my-crm.json: auth: missing; App Connect reads auth.type for every call and fails without it (add {\"type\": \"apiKey\"})",
            "my-crm.json: operations: no operations, so there is nothing to call or serve",
        ]
    );
    let got = warnings(
        r#"{"meta": {"logFormat": "custom"}, "auth": {"type": "basic", "encode": "hex"}, "requestDefaults": {"baseUrl": "https://{{user.hostname}}/api"}, "operations": {"getUserList": {"url": "/u", "responseMapping": {"listPath": "body"}}}}"#,
    );
    assert_eq!(
        got,
        [
            "my-crm.json: meta.logFormat: \"custom\" is not text/plain, text/html or text/markdown, so App Connect composes no body and composedLogDetails is empty",
            "my-crm.json: auth.type: \"basic\" is neither apiKey nor oauth; App Connect treats it as neither and builds no OAuth header",
            "my-crm.json: auth.encode: \"hex\" is not \"none\", so App Connect encodes the credential as base64",
            "my-crm.json: requestDefaults.baseUrl: App Connect fills no templates in baseUrl and sends \"{{…}}\" as written; put the template in each operation's url instead",
        ]
    );
}

#[test]
fn unknown_keys_are_kept_and_defaults_filled() {
    let (config, _) = load(
        "my-crm.json",
        r#"{"meta": {"logFormat": "text/html", "vendor": {"x": 1}}, "auth": {"type": "oauth", "clientId": 7},
            "requestDefaults": {"baseUrl": "https://crm.example/api/v2/", "timeoutSeconds": 0},
            "operations": {"createCallLog": {"method": "post", "url": "/a", "body": "", "retries": 3,
               "responseMapping": {"idPath": "", "extra": {"a": 1}}}},
            "x-notes": ["anything"]}"#,
    )
    .expect("loads");
    assert_eq!(config.log_format(), Some(LogFormat::Html));
    assert_eq!(config.base_path(), "/api/v2");
    let op = config
        .operation(Operation::CreateCallLog)
        .expect("configured");
    assert_eq!(op.method, "POST");
    assert_eq!(
        op.body,
        TemplateValue::empty_object(),
        "a falsy body is {{}}"
    );
    let mapping = op.response_mapping.as_ref().expect("mapped");
    assert_eq!(mapping.path("idPath"), Some(""));
    assert_eq!(
        mapping.path_or("idPath", "body.id"),
        "body.id",
        "an empty path falls back"
    );
    assert_eq!(
        config.source.get("x-notes"),
        Some(&Json::Array(vec![Json::String("anything".into())]))
    );
    assert_eq!(
        config.auth.as_ref().and_then(|a| a.auth_type.as_deref()),
        Some("oauth")
    );
    assert_eq!(config.request_defaults.timeout_seconds, Some(0.0));
}

#[test]
fn url_paths_are_read_from_base_urls() {
    assert_eq!(url_path("https://crm.example/v1/x?y=1#z"), "/v1/x");
    assert_eq!(url_path("https://crm.example"), "");
    assert_eq!(url_path("https://crm.example?x=1"), "");
    assert_eq!(url_path("/relative/path"), "/relative/path");
}

#[test]
fn every_fixture_config_loads_cleanly() {
    for (file, text) in crate::proxy::fixtures::ALL {
        let (config, warnings) = load(file, text).unwrap_or_else(|e| panic!("{e}"));
        assert!(warnings.is_empty(), "{file}: {warnings:?}");
        assert!(!config.operations.is_empty(), "{file}");
    }
}
