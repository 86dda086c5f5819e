//! Rendering against the requests App Connect's engine sent for the fixture
//! configs (recorded in fixtures/), and each piece of performRequest alone.

use super::*;
use crate::proxy::context::{self, OperationCall};
use crate::proxy::fixtures;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::BTreeMap;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .expect("valid")
        .with_timezone(&Utc)
}

fn config(text: &str) -> ProxyConfig {
    crate::proxy::load("test.json", text)
        .expect("test config loads")
        .config
}

fn call(
    op: Operation,
    inputs: Value,
    user: Option<Value>,
    auth_header: Option<&str>,
) -> OperationCall {
    OperationCall {
        operation: op,
        inputs: match inputs {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        user,
        auth_header: auth_header.map(str::to_owned),
    }
}

fn fixture(name: &str) -> ProxyConfig {
    let found = fixtures::ALL
        .into_iter()
        .find(|(file, _)| *file == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    fixtures::config(found)
}

fn lower_keys(headers: &[(String, String)]) -> BTreeMap<String, String> {
    headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

/// Every request App Connect's own proxy connector sent for the fixture
/// configs (recorded by fixtures/proxy-configs/oracle/generate.js) is
/// rendered the same here: method, url with query, headers, body bytes,
/// timeout.
#[test]
fn fixture_requests_match_app_connect_byte_for_byte() {
    let oracle: Value =
        serde_json::from_str(fixtures::APP_CONNECT_REQUESTS).expect("oracle file is JSON");
    let cases = oracle["cases"].as_array().expect("cases");
    assert!(
        cases.len() >= 30,
        "the oracle covers every fixture operation"
    );
    for case in cases {
        let name = case["config"].as_str().expect("config name");
        let op = Operation::from_name(case["operation"].as_str().expect("op")).expect("known op");
        let label = format!("{name} {op}");
        let args = case["args"].as_object().expect("args");
        let config = fixture(name);
        let call =
            context::for_operation(op, args, now()).unwrap_or_else(|e| panic!("{label}: {e}"));
        let request = render(&config, &call).unwrap_or_else(|e| panic!("{label}: {e}"));
        let sent = &case["request"];
        assert_eq!(
            request.method,
            sent["method"].as_str().expect("method"),
            "{label}"
        );
        assert_eq!(
            request.full_url(),
            sent["url"].as_str().expect("url"),
            "{label}"
        );
        let expected_headers: Vec<(String, String)> = sent["headers"]
            .as_object()
            .expect("headers")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("text").to_owned()))
            .collect();
        assert_eq!(
            lower_keys(&request.headers),
            lower_keys(&expected_headers),
            "{label}"
        );
        assert_eq!(
            request.body_text.as_deref(),
            sent["body"].as_str(),
            "{label}"
        );
        assert_eq!(
            request.timeout.as_millis() as u64,
            sent["timeoutMs"].as_u64().expect("ms"),
            "{label}"
        );
    }
}

#[test]
fn join_url_is_app_connects() {
    // Each checked with engine.ts's joinUrl in node.
    let cases: &[(Option<&str>, Option<&str>, Option<&str>)] = &[
        (Some("https://a/v1/"), Some("/x"), Some("https://a/v1/x")),
        (Some("https://a/v1"), Some("x"), Some("https://a/v1/x")),
        (
            Some("https://a/v1//"),
            Some("//x"),
            Some("https://a/v1///x"),
        ),
        (Some(""), Some("/x"), Some("/x")),
        (Some("https://a"), Some(""), Some("https://a")),
        (None, None, None),
        (
            Some("https://a/v1"),
            Some("https://b/y"),
            Some("https://b/y"),
        ),
        (
            Some("https://a/v1"),
            Some("http:/z"),
            Some("https://a/v1/http:/z"),
        ),
    ];
    for (base, path, expected) in cases {
        assert_eq!(
            join_url(*base, *path).as_deref(),
            *expected,
            "joinUrl({base:?}, {path:?})"
        );
    }
}

#[test]
fn query_parameters_serialise_as_axios_does() {
    let config = config(
        r#"{"operations": {"findContact": {"url": "https://x.example/p#frag", "query": {
            " b ": 1, "a": "x y:$,&=+/?é", "n": null, "u": "{{missing}}", "list": [1, null, "two", true],
            "nested": {"k": "v", "deep": {"z": 0}, "arr": [{"q": 1}, 2]}, "j{}": {"x": [1]}, "ids[]": [3, 4],
            "f": 0.30000000000000004, "big": 1e21, "no": false, "mixed": [[1, 2], 3]}}}}"#,
    );
    let request = render(
        &config,
        &call(Operation::FindContact, json!({}), None, None),
    )
    .expect("renders");
    // What axios.getUri printed for the same params in node.
    assert_eq!(
        request.full_url(),
        "https://x.example/p?b=1&a=x+y:$,%26%3D%2B%2F%3F%C3%A9&list%5B%5D=1&list%5B%5D=two&list%5B%5D=true&nested%5Bk%5D=v&nested%5Bdeep%5D%5Bz%5D=0&nested%5Barr%5D%5B0%5D%5Bq%5D=1&nested%5Barr%5D%5B1%5D=2&j%7B%7D=%7B%22x%22:%5B1%5D%7D&ids%5B%5D=3&ids%5B%5D=4&f=0.30000000000000004&big=1e%2B21&no=false&mixed%5B0%5D%5B0%5D=1&mixed%5B0%5D%5B1%5D=2&mixed%5B1%5D=3"
    );
    assert_eq!(
        request.query[0],
        ("b".to_owned(), "1".to_owned()),
        "keys are trimmed"
    );
    let joined = RenderedRequest {
        url: "https://x.example/p?a=1".into(),
        query: vec![("b".into(), "2".into())],
        ..request
    };
    assert_eq!(joined.full_url(), "https://x.example/p?a=1&b=2");
}

#[test]
fn context_is_built_as_perform_request_builds_it() {
    let config = config(r#"{"secretKey": "s3", "operations": {"getCallLog": {"url": "/x"}}}"#);
    let ctx = context(
        &config,
        &call(
            Operation::GetCallLog,
            json!({"thirdPartyLogId": 5, "authHeader": "from inputs", "user": "hidden"}),
            Some(json!({"id": "123-pipedrive-x", "accessToken": "tok", "hostname": "h", "rcAccountId": "not copied", "tokenExpiry": null})),
            None,
        ),
    )
    .expect("context");
    assert_eq!(
        ctx,
        json!({"thirdPartyLogId": 5, "apiKey": "tok", "secretKey": "s3",
               "user": {"id": "123", "accessToken": "tok", "hostname": "h", "tokenExpiry": null}})
    );
    // getUserInfo's `user: {}`: the api key input becomes the access token.
    let ctx = context(
        &config,
        &call(
            Operation::GetUserInfo,
            json!({"apiKey": "k"}),
            Some(json!({})),
            Some("Basic x"),
        ),
    )
    .expect("context");
    assert_eq!(
        ctx,
        json!({"apiKey": "k", "authHeader": "Basic x", "user": {"accessToken": "k"}, "secretKey": "s3"})
    );
    // No user at all: an empty access token.
    let ctx =
        context(&config, &call(Operation::GetCallLog, json!({}), None, None)).expect("context");
    assert_eq!(ctx["user"], json!({"accessToken": ""}));
    let err = context(
        &config,
        &call(
            Operation::GetCallLog,
            json!({}),
            Some(json!({"id": 7})),
            None,
        ),
    )
    .expect_err("id must be text");
    assert_eq!(err, RenderError::UserIdNotText);
}

fn auth_value(
    auth: Value,
    ctx: Value,
    header: Option<&str>,
) -> Result<Option<(String, Option<Value>)>, RenderError> {
    let text = json!({"auth": auth, "operations": {}}).to_string();
    let config = config(&text);
    auth_header(config.auth.as_ref(), &ctx, header)
        .map(|found| found.map(|(name, value)| (name, value.to_value())))
}

#[test]
fn auth_headers_follow_get_auth_header_from_auth_config() {
    let ctx = json!({"apiKey": "key-1", "user": {"accessToken": "tok", "platformAdditionalInfo": {"userKey": "uk"}}});
    let some = |name: &str, value: &str| Ok(Some((name.to_owned(), Some(json!(value)))));
    assert_eq!(
        auth_value(
            json!({"scheme": "Basic", "credentialTemplate": "{{apiKey}}:"}),
            ctx.clone(),
            Some("Basic ignored")
        ),
        some("Authorization", "Basic a2V5LTE6")
    );
    assert_eq!(
        auth_value(
            json!({"scheme": "Bearer", "credentialTemplate": "{{apiKey}}", "encode": "none", "headerName": "X-Api-Key"}),
            ctx.clone(),
            None
        ),
        some("X-Api-Key", "Bearer key-1")
    );
    assert_eq!(
        auth_value(
            json!({"credentialTemplate": "{{apiKey}}", "encode": "none"}),
            ctx.clone(),
            None
        ),
        some("Authorization", "key-1")
    );
    // encode "none" with an undefined credential: the scheme prints it.
    assert_eq!(
        auth_value(
            json!({"scheme": "Token", "credentialTemplate": "{{nothing}}", "encode": "none"}),
            ctx.clone(),
            None
        ),
        some("Authorization", "Token undefined")
    );
    assert_eq!(
        auth_value(
            json!({"credentialTemplate": "{{nothing}}"}),
            ctx.clone(),
            None
        ),
        Err(RenderError::CredentialNotText("undefined".into())),
        "Buffer.from(undefined) throws"
    );
    assert_eq!(
        auth_value(json!({"type": "apiKey"}), ctx.clone(), Some("Basic abc")),
        some("Authorization", "Basic abc")
    );
    assert_eq!(
        auth_value(json!({"type": "oauth"}), ctx.clone(), None),
        some("Authorization", "Bearer tok")
    );
    assert_eq!(
        auth_value(
            json!({"type": "oauth", "scheme": "Token"}),
            ctx.clone(),
            Some("")
        ),
        some("Authorization", "Token tok")
    );
    assert_eq!(auth_value(json!({"type": "apiKey"}), ctx, None), Ok(None));
}

#[test]
fn headers_merge_as_axios_merges_them() {
    let config = config(
        r#"{"auth": {"type": "apiKey"}, "requestDefaults": {"baseUrl": "https://a.example",
              "defaultHeaders": {"Accept": "text/plain", "X-Secret": "{{secretKey}}", "X-Gone": "{{missing}}", "X-Num": 5, "X-Off": false}},
            "secretKey": "s", "operations": {"getCallLog": {"url": "/x",
              "headers": {"accept": "application/json", "x-secret": "{{missing}}", "X-off": "on", "X-List": ["a ", false, "b"]}}}}"#,
    );
    let request = render(
        &config,
        &call(Operation::GetCallLog, json!({}), None, Some("Basic k")),
    )
    .expect("renders");
    // Checked with axios 1.21 in node: a later header of the same name wins
    // whatever its case and keeps the first spelling; undefined unsets it;
    // a GET with a body gets a JSON content type.
    assert_eq!(
        request.headers,
        vec![
            ("Accept".to_owned(), "application/json".to_owned()),
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("X-Num".to_owned(), "5".to_owned()),
            ("X-Off".to_owned(), "on".to_owned()),
            ("X-List".to_owned(), "a, false, b".to_owned()),
            ("Authorization".to_owned(), "Basic k".to_owned()),
        ]
    );
    let unset = config_with_header_named("Accept", "{{missing}}");
    let request =
        render(&unset, &call(Operation::GetCallLog, json!({}), None, None)).expect("renders");
    assert_eq!(
        request.header("accept"),
        None,
        "an undefined Accept removes axios's default"
    );
    let kept = config_with_header_named("X-Other", "1");
    let request =
        render(&kept, &call(Operation::GetCallLog, json!({}), None, None)).expect("renders");
    assert_eq!(
        request.header("accept"),
        Some("application/json, text/plain, */*")
    );
    // axios strips control characters and trims; Node.js's adapter then
    // drops what Latin-1 cannot hold and sends one byte per character.
    let named = config_with_header_named("X-Name", "{{name}}");
    let request = render(
        &named,
        &call(
            Operation::GetCallLog,
            json!({"name": " Zoë\n李X\t"}),
            None,
            None,
        ),
    )
    .expect("renders");
    assert_eq!(request.header("x-name"), Some("Zoë李X"));
    let wire = request.wire_headers();
    let sent = wire
        .iter()
        .find(|(n, _)| n == "X-Name")
        .map(|(_, v)| v.clone());
    assert_eq!(sent, Some(b"Zo\xebX".to_vec()));
}

fn config_with_header_named(name: &str, value: &str) -> ProxyConfig {
    config(&json!({"requestDefaults": {"baseUrl": "https://a.example"}, "operations": {"getCallLog": {"url": "/x", "headers": {name: value}}}}).to_string())
}

type Sent = Result<(Option<String>, Option<String>), RenderError>;

/// The content type and body text axios sends for a body template.
fn sent_body(body: Value, headers: Value, method: &str) -> Sent {
    let text = json!({"requestDefaults": {"baseUrl": "https://a.example"},
        "operations": {"createCallLog": {"method": method, "url": "/x", "headers": headers, "body": body}}})
    .to_string();
    let inputs = json!({"s": "text", "o": {"b": 1, "a": 2}, "n": 3, "id": 1});
    render(
        &config(&text),
        &call(Operation::CreateCallLog, inputs, None, None),
    )
    .map(|r| (r.header("content-type").map(str::to_owned), r.body_text))
}

#[test]
fn bodies_go_out_as_axios_sends_them() {
    let sent = |content_type: Option<&str>, text: Option<&str>| -> Sent {
        Ok((content_type.map(str::to_owned), text.map(str::to_owned)))
    };
    let json_type = Some("application/json");
    let form_type = Some("application/x-www-form-urlencoded");
    // Each checked with axios 1.21 in node.
    assert_eq!(
        sent_body(
            json!({"z": "{{s}}", "a": "{{o}}", "u": "{{missing}}"}),
            json!({}),
            "POST"
        ),
        sent(json_type, Some(r#"{"a":{"a":2,"b":1},"z":"text"}"#))
    );
    assert_eq!(
        sent_body(json!(""), json!({}), "GET"),
        sent(json_type, Some("{}")),
        "a falsy body is {{}}"
    );
    assert_eq!(
        sent_body(json!("{{s}}"), json!({}), "POST"),
        sent(form_type, Some("text"))
    );
    assert_eq!(
        sent_body(
            json!("{{s}}"),
            json!({"Content-Type": "application/json"}),
            "PUT"
        ),
        sent(json_type, Some("\"text\""))
    );
    assert_eq!(
        sent_body(
            json!("  [1]  "),
            json!({"Content-Type": "application/json"}),
            "PUT"
        ),
        sent(json_type, Some("[1]")),
        "JSON text is sent as it is, trimmed"
    );
    assert_eq!(
        sent_body(json!("{{missing}}"), json!({}), "POST"),
        sent(form_type, None)
    );
    assert_eq!(
        sent_body(json!("{{missing}}"), json!({}), "GET"),
        sent(None, None)
    );
    assert_eq!(
        sent_body(json!("{{n}}"), json!({}), "POST"),
        Err(RenderError::BodyNotSendable("3".into()))
    );
    assert_eq!(
        sent_body(
            json!("{{id}}"),
            json!({"Content-Type": "application/json"}),
            "POST"
        ),
        sent(json_type, Some("1"))
    );
    assert_eq!(
        sent_body(json!({"a": 1}), json!({"Content-Type": false}), "POST"),
        sent(None, Some(r#"{"a":1}"#)),
        "false keeps any content type off"
    );
    assert_eq!(
        sent_body(
            json!({"z": "{{id}}", "a": {"b": [1, "x y", null], "c": true}, "k[]": ["é", 2]}),
            json!({"Content-Type": "application/x-www-form-urlencoded"}),
            "POST"
        ),
        sent(
            form_type,
            Some(
                "a%5Bb%5D%5B0%5D=1&a%5Bb%5D%5B1%5D=x+y&a%5Bc%5D=true&k%5B%5D=%C3%A9&k%5B%5D=2&z=1"
            )
        )
    );
    assert_eq!(
        sent_body(
            json!({"a": 1}),
            json!({"Content-Type": "multipart/form-data"}),
            "POST"
        ),
        Err(RenderError::MultipartBody)
    );
}

#[test]
fn urls_render_through_join_url() {
    let base = r#""requestDefaults": {"baseUrl": "https://crm.example/api/"}"#;
    let url_of = |url: &str, inputs: Value| {
        let text = format!(
            r#"{{{base}, "operations": {{"getCallLog": {{"url": {}}}}}}}"#,
            json!(url)
        );
        render(
            &config(&text),
            &call(
                Operation::GetCallLog,
                inputs,
                Some(json!({"hostname": "h.example"})),
                None,
            ),
        )
        .map(|r| r.url)
    };
    assert_eq!(
        url_of("/a/{{thirdPartyLogId}}", json!({"thirdPartyLogId": 7})),
        Ok("https://crm.example/api/a/7".into())
    );
    assert_eq!(
        url_of("https://{{user.hostname}}/v2/a", json!({})),
        Ok("https://h.example/v2/a".into())
    );
    assert_eq!(
        url_of("{{u}}", json!({"u": "https://elsewhere.example/x"})),
        Ok("https://elsewhere.example/x".into())
    );
    assert_eq!(
        url_of("{{u}}", json!({})),
        Ok("https://crm.example/api/".into()),
        "undefined is the base url"
    );
    assert_eq!(
        url_of("{{u}}", json!({"u": 5})),
        Err(RenderError::UrlNotText("5".into()))
    );
    let no_base = config(r#"{"operations": {"getCallLog": {"url": "{{u}}"}}}"#);
    assert_eq!(
        render(
            &no_base,
            &call(Operation::GetCallLog, json!({}), None, None)
        ),
        Err(RenderError::NoUrl)
    );
    assert_eq!(
        render(
            &no_base,
            &call(Operation::CreateCallLog, json!({}), None, None)
        ),
        Err(RenderError::NotConfigured(Operation::CreateCallLog))
    );
}

#[test]
fn a_server_replaces_the_origin_and_keeps_the_path() {
    assert_eq!(
        with_server("https://api.crm.example:8443/v1/", "http://127.0.0.1:8787"),
        Ok("http://127.0.0.1:8787/v1/".into())
    );
    assert_eq!(
        with_server("https://api.crm.example", "http://127.0.0.1:8787/"),
        Ok("http://127.0.0.1:8787".into())
    );
    assert_eq!(
        with_server("https://api.crm.example?x=1", "https://sandbox.example"),
        Ok("https://sandbox.example?x=1".into())
    );
    assert_eq!(
        with_server("https://a", "127.0.0.1:8787"),
        Err(RenderError::NotAnHttpUrl("127.0.0.1:8787".into()))
    );
    let moved = point_at(
        &fixtures::config(fixtures::REDTAIL),
        "http://127.0.0.1:9000",
    )
    .expect("moves");
    assert_eq!(
        moved.request_defaults.base_url.as_deref(),
        Some("http://127.0.0.1:9000/api/public/v1")
    );
    assert_eq!(moved.base_path(), "/api/public/v1");
}

#[test]
fn timeouts_default_to_thirty_seconds() {
    let timeout = |t: &str| {
        let text = format!(
            r#"{{"requestDefaults": {{"baseUrl": "https://a", "timeoutSeconds": {t}}}, "operations": {{"getCallLog": {{"url": "/x"}}}}}}"#
        );
        render(
            &config(&text),
            &call(Operation::GetCallLog, json!({}), None, None),
        )
        .map(|r| r.timeout)
    };
    assert_eq!(timeout("0"), Ok(Duration::from_secs(30)));
    assert_eq!(timeout("null"), Ok(Duration::from_secs(30)));
    assert_eq!(timeout("2.5"), Ok(Duration::from_millis(2500)));
}
