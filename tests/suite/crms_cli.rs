//! `mockcrm crms` against a running `mockcrm serve --crm …`: the export
//! lines, evaluated by a real shell, hold what `GET /__admin/crms` says;
//! `--json` is that answer; `--org` gives a tenant's own sign-in; a server
//! serving no CRM, or none at all, is one line and a non-zero exit.

use std::process::Command;

use serde_json::Value;

use crate::cli::{assert_one_line_failure, mockcrm_in_env, Served};

const ADMIN: &str = "mockcrm-admin";

fn admin_crms(url: &str, org: Option<&str>) -> Value {
    let query = org.map_or(String::new(), |org| format!("?org={org}"));
    let request = reqwest::Client::new()
        .get(format!("{url}/__admin/crms{query}"))
        .bearer_auth(ADMIN);
    crate::support::runtime().block_on(async {
        request
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("JSON")
    })
}

/// Evaluates `lines` in `sh` and prints each named variable as it then is.
fn eval_in_shell(lines: &str, names: &[&str]) -> Vec<String> {
    let printed: Vec<String> = names
        .iter()
        .map(|name| format!("printf '%s\\036' \"${name}\""))
        .collect();
    let script = format!("eval \"$MOCKCRM_LINES\"\n{}", printed.join("\n"));
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("MOCKCRM_LINES", lines)
        .output()
        .expect("sh runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let mut values: Vec<String> = text.split('\u{1e}').map(str::to_owned).collect();
    values.pop();
    values
}

fn run(args: &[&str]) -> std::process::Output {
    mockcrm_in_env(args, "", &[])
}

#[test]
fn the_export_lines_eval_to_the_connection_info_and_json_is_the_endpoint() {
    let served = Served::start(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--crm",
        "redtail,insightly",
    ]);
    let url = served.url.clone();
    let expected = admin_crms(&url, None);

    let json = run(&["crms", "--server", &url, "--json"]);
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let printed: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(printed, expected);

    let lines = run(&["crms", "--url", &url]);
    assert!(
        lines.status.success(),
        "{}",
        String::from_utf8_lossy(&lines.stderr)
    );
    let lines = String::from_utf8(lines.stdout).expect("UTF-8");
    let redtail = &expected["crms"][0];
    let insightly = &expected["crms"][1];
    assert_eq!(redtail["name"], "redtail", "{expected}");
    assert_eq!(insightly["name"], "insightly", "{expected}");
    let values = eval_in_shell(
        &lines,
        &[
            "REDTAIL_API_SERVER",
            "REDTAIL_API_KEY",
            "MOCKCRM_REDTAIL_BASE_URL",
            "MOCKCRM_REDTAIL_USERNAME",
            "MOCKCRM_REDTAIL_PASSWORD",
            "INSIGHTLY_API_VERSION",
            "MOCKCRM_INSIGHTLY_API_KEY",
            "MOCKCRM_INSIGHTLY_API_URL",
            "MOCKCRM_INSIGHTLY_USER",
        ],
    );
    let text = |value: &Value| value.as_str().expect("a string").to_owned();
    assert_eq!(
        values,
        vec![
            text(&redtail["env"]["REDTAIL_API_SERVER"]),
            text(&redtail["env"]["REDTAIL_API_KEY"]),
            text(&redtail["base_url"]),
            text(&redtail["credentials"]["username"]),
            text(&redtail["credentials"]["password"]),
            text(&insightly["env"]["INSIGHTLY_API_VERSION"]),
            text(&insightly["credentials"]["apiKey"]),
            text(&insightly["credentials"]["apiUrl"]),
            insightly["user"].to_string(),
        ]
    );
    assert!(values[0].starts_with(&url), "{values:?}");
    assert!(
        !values[4].is_empty(),
        "a password is handed out: {values:?}"
    );
    // Plain HTTP: nothing to trust.
    assert!(!lines.contains("NODE_EXTRA_CA_CERTS"), "{lines}");

    // A tenant's user signs in with credentials of its own.
    let tenant = run(&["tenant", "new", "--server", &url, "--json"]);
    assert!(tenant.status.success());
    let tenant: Value = serde_json::from_slice(&tenant.stdout).expect("JSON");
    let org = tenant["id"].as_str().expect("id");
    let scoped = run(&["crms", "--server", &url, "--org", org, "--json"]);
    assert!(
        scoped.status.success(),
        "{}",
        String::from_utf8_lossy(&scoped.stderr)
    );
    let scoped: Value = serde_json::from_slice(&scoped.stdout).expect("JSON");
    assert_eq!(scoped, admin_crms(&url, Some(org)));
    assert_eq!(
        scoped["crms"][1]["credentials"]["apiKey"],
        tenant["api_key"]
    );
    assert_ne!(
        scoped["crms"][0]["credentials"]["password"],
        redtail["credentials"]["password"]
    );
    served.terminate();
}

#[test]
fn no_crm_served_and_no_server_are_one_line_failures() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let none = run(&["crms", "--server", &served.url]);
    assert_one_line_failure(&none, "serves no CRM face");
    assert!(String::from_utf8_lossy(&none.stderr).contains("--crm"));
    served.terminate();

    // A port nothing listens on: the one just freed.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    let unreachable = run(&["crms", "--server", &format!("http://127.0.0.1:{port}")]);
    assert_one_line_failure(&unreachable, "mockcrm serve");
}
