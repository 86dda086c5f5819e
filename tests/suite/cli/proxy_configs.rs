//! The CLI with App Connect proxy configs: the start-up lines, the
//! configs `serve` refuses, and log/update/get spoken through a config.

use super::*;

#[test]
fn serve_names_the_base_url_of_every_proxy_config_at_start() {
    let minimal = fixture_path("proxy-configs/minimal.json");
    let redtail = fixture_path("proxy-configs/redtail-like.json");
    let (served, mut stderr) = serve_reading_stderr(
        &[
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--proxy-config",
            &minimal,
        ],
        &[(
            "MOCKCRM_PROXY_CONFIG",
            "ignored-when-the-flag-is-given.json",
        )],
    );
    let line = startup_line(&mut stderr, "minimal.json");
    assert!(
        line.contains(&format!("baseUrl {}/v1 serves getUserInfo, findContact, createCallLog, getCallLog, updateCallLog", served.url)),
        "{line}"
    );
    drop(served);
    // The environment takes a comma-separated list.
    let (served, mut stderr) = serve_reading_stderr(
        &["--addr", "127.0.0.1:0", "--db", ":memory:"],
        &[("MOCKCRM_PROXY_CONFIG", &format!("{minimal},{redtail}"))],
    );
    startup_line(&mut stderr, "minimal.json");
    let line = startup_line(&mut stderr, "redtail-like.json");
    assert!(
        line.contains(&format!("baseUrl {}/api/public/v1 serves", served.url)),
        "{line}"
    );
    let search = format!(
        "{}/api/public/v1/contacts/search?phone_number=4155550199",
        served.url
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(&search)
            .header("authorization", "Userkeyauth bW9ja2NybS1kZXYta2V5Og==")
            .send()
            .await
            .expect("sent")
            .status()
    });
    assert_eq!(status, 200, "the env's second config is served");
    served.terminate();
}

#[test]
fn a_proxy_config_mockcrm_cannot_serve_stops_serve_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    };
    let minimal = fixture_path("proxy-configs/minimal.json");
    let cases = [
        (
            write("broken.json", "{\"operations\": "),
            "broken.json: not JSON",
        ),
        (
            write(
                "no-url.json",
                r#"{"operations": {"createCallLog": {"method": "POST"}}}"#,
            ),
            "no-url.json: operations.createCallLog.url: missing",
        ),
        (
            write(
                "open.json",
                r#"{"operations": {"getCallLog": {"url": "/a/{{thirdPartyLogId"}}}"#,
            ),
            "open.json: operations.getCallLog.url: template \"/a/{{thirdPartyLogId\" never closes",
        ),
        (
            write(
                "jsonpath.json",
                r#"{"operations": {"createCallLog": {"url": "/a", "responseMapping": {"idPath": "$.body.id"}}}}"#,
            ),
            "jsonpath.json: operations.createCallLog.responseMapping.idPath",
        ),
        (
            write(
                "same-base.json",
                &std::fs::read_to_string(&minimal).expect("fixture"),
            ),
            "same-base.json: requestDefaults.baseUrl: base path /v1 is already claimed by",
        ),
        (
            dir.path().join("missing.json").display().to_string(),
            "missing.json",
        ),
    ];
    for (path, mentions) in cases {
        let output = mockcrm(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--proxy-config",
            &minimal,
            "--proxy-config",
            &path,
        ]);
        assert_one_line_failure(&output, mentions);
        assert!(
            output.stdout.is_empty(),
            "nothing listened: {:?}",
            output.stdout
        );
    }
}

/// The README's worked example: serve a config, point the engine at the
/// printed base URL, log, update and read a call, then look at the journal
/// and the checks.
#[test]
fn log_update_and_get_speak_a_served_proxy_config() {
    let config = fixture_path("proxy-configs/redtail-like.json");
    let served = Served::start(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--proxy-config",
        &config,
    ]);
    let server = served.url.as_str();
    let created = fixture_path("create-call-log/outbound-recording-pending.json");
    let logged = mockcrm(&[
        "log",
        "--server",
        server,
        "--proxy-config",
        &config,
        &created,
    ]);
    assert_eq!(
        logged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&logged.stdout)
    );
    let output: Value = serde_json::from_slice(&logged.stdout).expect("json");
    assert_eq!(output["returnMessage"]["message"], "Call logged");
    let log_id = output["logId"].as_str().expect("logId").to_owned();
    let stored = get_json(&format!("{server}/activity/{log_id}"));
    assert_eq!(
        stored["body_format"], "text/html",
        "composed in meta.logFormat"
    );
    assert!(stored["body"]
        .as_str()
        .is_some_and(|b| b.starts_with("<b>Agent notes</b>")));

    let ready = fixture_path("update/outbound-recording-ready.json");
    let updated = mockcrm(&[
        "update",
        "--server",
        server,
        "--proxy-config",
        &config,
        "--log-id",
        &log_id,
        &ready,
    ]);
    assert_eq!(
        updated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&updated.stdout)
    );
    let read = mockcrm(&[
        "get",
        "--server",
        server,
        "--proxy-config",
        &config,
        "--log-id",
        &log_id,
    ]);
    assert_eq!(read.status.code(), Some(0));
    let info: Value = serde_json::from_slice(&read.stdout).expect("json");
    assert!(
        info["callLogInfo"]["note"]
            .as_str()
            .is_some_and(|n| n.ends_with("Update: quote sent.")),
        "{info}"
    );
    assert_eq!(
        info["callLogInfo"]["fullBody"],
        get_json(&format!("{server}/activity/{log_id}"))["body"]
    );

    let journal = mockcrm(&["requests", "--server", server]);
    let table = String::from_utf8_lossy(&journal.stdout);
    assert!(
        table.contains("POST    /api/public/v1/activities"),
        "{table}"
    );
    assert!(
        table.contains(&format!("PUT     /api/public/v1/activities/{log_id}")),
        "{table}"
    );
    let checks = mockcrm(&["checks", "--server", server]);
    assert_eq!(
        checks.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checks.stdout)
    );

    // Bad use is one line; a CRM that is not there is a warning and exit 1.
    let with_format = mockcrm(&[
        "log",
        "--server",
        server,
        "--proxy-config",
        &config,
        "--format",
        "text/plain",
        &created,
    ]);
    assert_one_line_failure(&with_format, "--format");
    let bad = mockcrm(&[
        "log",
        "--proxy-config",
        "/nonexistent/config.json",
        &created,
    ]);
    assert_one_line_failure(&bad, "/nonexistent/config.json");
    drop(served);
    let nothing = mockcrm(&[
        "log",
        "--server",
        "http://127.0.0.1:9",
        "--proxy-config",
        &config,
        &created,
    ]);
    assert_eq!(nothing.status.code(), Some(1));
    let output: Value = serde_json::from_slice(&nothing.stdout).expect("json");
    assert_eq!(output["returnMessage"]["messageType"], "warning");
    assert!(output.get("logId").is_none(), "{output}");
}

#[test]
fn an_operation_mockcrm_cannot_serve_is_a_warning_and_the_rest_are_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("partly.json");
    std::fs::write(
        &path,
        r#"{"meta": {"logFormat": "text/plain"}, "auth": {"type": "apiKey"}, "operations": {
            "getCallLog": {"url": "https://{{user.hostname}}/api/logs/{{thirdPartyLogId}}"},
            "createCallLog": {"method": "POST", "url": "/logs", "responseMapping": {"idPath": "body.id"}}}}"#,
    )
    .expect("written");
    let path = path.display().to_string();
    let (served, mut stderr) = serve_reading_stderr(
        &[
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--proxy-config",
            &path,
        ],
        &[],
    );
    let warning = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("stderr") > 0,
            "no warning"
        );
        if line.contains("WARN") && line.contains("operations.createCallLog") {
            break line;
        }
    };
    assert!(warning.contains("not served"), "{warning}");
    let line = startup_line(&mut stderr, "partly.json");
    assert!(
        line.contains("(getCallLog)") && !line.contains("createCallLog"),
        "{line}"
    );
    served.terminate();
}
