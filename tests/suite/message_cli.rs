//! `mockcrm message log|update` as a user runs them: core's own calls from
//! the fixture, the exit codes, and one line for input that is not JSON.

use std::process::Output;

use crate::cli::{assert_one_line_failure, fixture_path, get_json_as, mockcrm_in_env, Served};
use serde_json::{json, Value};

fn first_calls() -> (Value, Value) {
    let records: Value = serde_json::from_str(&crate::support::read_fixture(
        "messages/message-records.json",
    ))
    .expect("fixture");
    let calls = &records["requests"][0]["core"]["calls"];
    (calls[0]["args"].clone(), calls[1]["args"].clone())
}

fn run(args: &[&str], input: &Value) -> (Output, Value) {
    let output = mockcrm_in_env(args, &input.to_string(), &[]);
    let printed = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output, printed)
}

#[test]
fn message_log_then_update_and_both_again() {
    let seed = fixture_path("messages/seed.json");
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:", "--seed", &seed]);
    let (create, mut update) = first_calls();
    let log = ["message", "log", "--server", &served.url, "-"];
    let (output, created) = run(&log, &create);
    assert!(output.status.success(), "{output:?}");
    let log_id = created["logId"].as_str().expect("a logId").to_owned();
    assert_eq!(created["returnMessage"]["messageType"], "success");

    update["existingMessageLog"]["thirdPartyLogId"] = json!(log_id);
    let patch = ["message", "update", "--server", &served.url, "-"];
    for _ in 0..2 {
        let (output, updated) = run(&patch, &update);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(updated["returnMessage"]["message"], "Message log updated");
    }
    let (_, again) = run(&log, &create);
    assert_eq!(again["logId"], json!(log_id), "core's repeat finds the log");

    let stored = get_json_as(
        &format!("{}/activity/{log_id}", served.url),
        crate::support::DEV_KEY,
    );
    assert_eq!(stored["message_ids"], json!(["1874001001", "1874001187"]));
    assert_eq!(stored["type"], "SMS");

    // No log to update: a warning and exit 1.
    update["existingMessageLog"] = Value::Null;
    let (output, warned) = run(&patch, &update);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(warned["returnMessage"]["messageType"], "warning");

    let broken = mockcrm_in_env(&["message", "log", "--server", &served.url, "-"], "{", &[]);
    assert_one_line_failure(&broken, "createMessageLog input");
    let proxy = mockcrm_in_env(
        &["message", "log", "--proxy-config", "x.json", "-"],
        "{}",
        &[],
    );
    assert_one_line_failure(&proxy, "--proxy-config");
    for help in [["message", "log"], ["message", "update"]] {
        let output = mockcrm_in_env(&[help[0], help[1], "--help"], "", &[]);
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"));
    }
    served.terminate();
}
