//! What a CI job does with the binary: every command's help, faults,
//! the journal, checks, and a log updated through the CLI.

use super::*;

#[test]
fn every_command_has_help() {
    for command in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["compose", "--help"],
        vec!["log", "--help"],
        vec!["faults", "--help"],
        vec!["requests", "--help"],
        vec!["checks", "--help"],
        vec!["tenant", "--help"],
        vec!["tenant", "new", "--help"],
        vec!["tenant", "list", "--help"],
        vec!["tenant", "delete", "--help"],
    ] {
        let output = mockcrm(&command);
        assert!(output.status.success(), "{command:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"));
    }
}

#[test]
fn a_ci_job_injects_faults_logs_and_checks() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let server = served.url.as_str();
    let added = mockcrm(&[
        "fault",
        "--server",
        server,
        "--path",
        "/activity",
        "--status",
        "503",
        "--times",
        "2",
        "--after-commit",
    ]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let fault: Value = serde_json::from_slice(&added.stdout).expect("fault JSON");
    assert_eq!(fault["times"], 2);

    let path = fixture_path("create-call-log/inbound-answered.json");
    let logged = mockcrm(&["log", "--server", server, &path]);
    assert!(
        logged.status.success(),
        "{}",
        String::from_utf8_lossy(&logged.stdout)
    );

    let table = mockcrm(&["requests", "--server", server]);
    assert!(table.status.success());
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    let posts = table
        .lines()
        .filter(|line| line.contains("POST") && line.contains("/activity"))
        .count();
    assert_eq!(posts, 3, "two faulted attempts and one replay:\n{table}");

    let json = mockcrm(&["requests", "--server", server, "--json", "--limit", "1"]);
    let entries: Value = serde_json::from_slice(&json.stdout).expect("journal JSON");
    assert_eq!(entries["items"].as_array().map(Vec::len), Some(1));

    let clean = mockcrm(&["checks", "--server", server]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(clean.stdout.is_empty());

    // A second, key-less write for the same session is what checks catch.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{server}/activity"))
            .bearer_auth(crate::support::DEV_KEY)
            .json(&serde_json::json!({"subject": "again", "type": "PhoneCommunication", "body": "again", "session_id": "4503991101"}))
            .send()
            .await
            .expect("sent")
    });
    let dirty = mockcrm(&["checks", "--server", server]);
    assert_eq!(dirty.status.code(), Some(1));
    let lines = String::from_utf8_lossy(&dirty.stdout).into_owned();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(
        lines.starts_with("duplicate_session organisation=Acme session_id=4503991101"),
        "{lines}"
    );

    let reset = mockcrm(&["reset", "--server", server]);
    assert!(reset.status.success());
    assert_eq!(
        mockcrm(&["checks", "--server", server]).status.code(),
        Some(0)
    );

    assert_one_line_failure(
        &mockcrm(&["checks", "--server", server, "--admin-key", "nope"]),
        "admin key",
    );
    assert_one_line_failure(
        &mockcrm(&[
            "fault",
            "--server",
            server,
            "--path",
            "/activity",
            "--status",
            "200",
        ]),
        "--status",
    );
}

#[test]
fn a_ci_job_lists_and_removes_faults_and_filters_and_clears_the_journal() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let server = served.url.as_str();
    let add = |args: &[&str]| -> String {
        let mut all = vec!["fault", "--server", server];
        all.extend_from_slice(args);
        let added = mockcrm(&all);
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let fault: Value = serde_json::from_slice(&added.stdout).expect("fault JSON");
        fault["id"].as_str().expect("fault id").to_owned()
    };
    let failing = add(&["--path", "/me", "--status", "500", "--times", "5"]);
    let slow = add(&["--method", "GET", "--path", "/contact*", "--delay-ms", "1"]);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let status = rt.block_on(async {
        let client = reqwest::Client::new();
        for path in ["/health", "/activity"] {
            client
                .get(format!("{server}{path}"))
                .bearer_auth(crate::support::DEV_KEY)
                .send()
                .await
                .expect("sent");
        }
        client
            .get(format!("{server}/me"))
            .bearer_auth(crate::support::DEV_KEY)
            .send()
            .await
            .expect("sent")
            .status()
    });
    assert_eq!(status.as_u16(), 500, "the fault fired");

    let table = mockcrm(&["faults", "--server", server]);
    assert!(table.status.success());
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    let row = |id: &str| -> Vec<String> {
        table
            .lines()
            .find(|line| line.starts_with(id))
            .unwrap_or_else(|| panic!("no row for {id}:\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        row(&failing).last().map(String::as_str),
        Some("1"),
        "fired once:\n{table}"
    );
    assert_eq!(row(&slow)[1..3], ["GET", "/contact*"], "{table}");
    assert_eq!(row(&slow).last().map(String::as_str), Some("0"), "{table}");

    let listed = |server: &str| -> Vec<String> {
        let json = mockcrm(&["faults", "--server", server, "--json"]);
        let faults: Value = serde_json::from_slice(&json.stdout).expect("faults JSON");
        faults["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|fault| fault["id"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(listed(server), [failing.clone(), slow.clone()]);
    assert!(
        mockcrm(&["faults", "--server", server, "--delete", &failing])
            .status
            .success()
    );
    assert_eq!(listed(server), [slow]);
    assert_one_line_failure(
        &mockcrm(&["faults", "--server", server, "--delete", &failing]),
        "no fault with id",
    );
    assert!(mockcrm(&["faults", "--server", server, "--clear"])
        .status
        .success());
    assert!(listed(server).is_empty());

    let filtered = mockcrm(&[
        "requests", "--server", server, "--json", "--method", "GET", "--path", "/me",
    ]);
    let filtered: Value = serde_json::from_slice(&filtered.stdout).expect("journal JSON");
    let items = filtered["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{filtered}");
    assert_eq!(items[0]["status"], 500);
    assert!(mockcrm(&["requests", "--server", server, "--clear"])
        .status
        .success());
    let emptied = mockcrm(&["requests", "--server", server, "--json"]);
    let emptied: Value = serde_json::from_slice(&emptied.stdout).expect("journal JSON");
    assert_eq!(emptied["items"], serde_json::json!([]));
}

#[test]
fn log_then_update_then_the_activity_shows_the_new_body() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let server = served.url.as_str();
    let created = fixture_path("create-call-log/outbound-recording-pending.json");
    let logged = mockcrm(&[
        "log",
        "--server",
        server,
        "--format",
        "text/markdown",
        &created,
    ]);
    assert!(logged.status.success());
    let log_id = serde_json::from_slice::<Value>(&logged.stdout).expect("json")["logId"]
        .as_str()
        .expect("logId")
        .to_owned();
    let before = get_json(&format!("{server}/activity/{log_id}"));
    assert!(before["body"]
        .as_str()
        .is_some_and(|b| b.contains("(pending...)")));

    let final_values = fixture_path("update/outbound-recording-ready.json");
    let updated = mockcrm(&[
        "update",
        "--server",
        server,
        "--log-id",
        &log_id,
        &final_values,
    ]);
    assert!(
        updated.status.success(),
        "{}",
        String::from_utf8_lossy(&updated.stdout)
    );
    let output: Value = serde_json::from_slice(&updated.stdout).expect("json");
    assert_eq!(output["returnMessage"]["messageType"], "success");
    assert!(output["updatedNote"]
        .as_str()
        .is_some_and(|n| n.ends_with("Update: quote sent.")));

    let after = get_json(&format!("{server}/activity/{log_id}"));
    let body = after["body"].as_str().expect("body");
    assert!(
        body.contains("https://media.example.com/rec/2315419004"),
        "{body}"
    );
    assert!(!body.contains("(pending...)"), "{body}");
    assert!(body.contains("12 minutes, 34 seconds"), "{body}");
    assert_eq!(after["duration"], 754);
    assert!(after["updated_at"].as_str() > before["updated_at"].as_str());

    let read = mockcrm(&["get", "--server", server, "--log-id", &log_id]);
    assert!(read.status.success());
    let info: Value = serde_json::from_slice(&read.stdout).expect("json");
    assert_eq!(info["callLogInfo"]["fullBody"], body);
    assert!(info["callLogInfo"]["note"]
        .as_str()
        .is_some_and(|n| n.ends_with("Update: quote sent.")));

    // The update wrote what `compose` (core, the default) writes on top of
    // the stored body.
    let mut request: Value =
        serde_json::from_str(&std::fs::read_to_string(&final_values).expect("fixture"))
            .expect("fixture JSON");
    request["existingBody"] = before["body"].clone();
    let composed = mockcrm_with_stdin(
        &["compose", "--format", "text/markdown"],
        &request.to_string(),
    );
    assert_eq!(String::from_utf8_lossy(&composed.stdout), body);

    // In the clean style a repeated update changes nothing.
    let clean_update = || {
        let output = mockcrm(&[
            "update",
            "--server",
            server,
            "--update-style",
            "clean",
            "--log-id",
            &log_id,
            &final_values,
        ]);
        assert!(output.status.success());
        get_json(&format!("{server}/activity/{log_id}"))["body"].clone()
    };
    let once = clean_update();
    assert_eq!(clean_update(), once);

    let missing = mockcrm(&[
        "update",
        "--server",
        server,
        "--log-id",
        "act_nope",
        &final_values,
    ]);
    assert_eq!(missing.status.code(), Some(1));
}
