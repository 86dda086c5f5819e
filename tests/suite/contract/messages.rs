//! The message half of `mockcrm contract` (SPEC §13's contract bullet):
//! the naive message connector writes a message twice under a 503 after
//! commit and the run says so with a shrunk case that fails again when
//! replayed; `--only` picks a half; a connector without createMessageLog
//! and updateMessageLog gets a line saying the half was not played, or
//! exit 2 when `--only messages` asked for it. The good connector keeps
//! both halves under the default faults in `super`'s test of it.

use super::{contract, explain, failed, stdout, table, CONNECTOR_TIMEOUT, SEED};

const REPEAT: &str = "a message repeated by core is not written twice";

#[test]
fn the_naive_message_connector_writes_a_repeated_message_twice_under_a_lost_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("failing.json");
    let fixture_arg = fixture.display().to_string();
    let output = contract(&[
        "--serve",
        "--only",
        "messages",
        "--faults",
        "default",
        "--cases",
        "8",
        "--seed",
        SEED,
        "--connector-timeout",
        CONNECTOR_TIMEOUT,
        "--save-failing",
        &fixture_arg,
        "fixtures/connectors/naive-messages.js",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let broken = failed(&output);
    assert!(broken.iter().any(|p| p == REPEAT), "{}", explain(&output));
    // Calls are not played: only the message half's rows.
    let rows = table(&output);
    assert_eq!(rows.len(), 6, "{}", explain(&output));
    assert!(!rows.contains_key("one activity per call session"));
    let text = stdout(&output);
    assert!(text.contains("8 message cases, seed 3: "), "{text}");
    // Shrunk to one message logged once, under the fault that loses it.
    let failure = &text[text
        .find(&format!("FAILED: {REPEAT}\n"))
        .expect("the failure is shown")..];
    let smallest = failure
        .lines()
        .find(|line| line.trim_start().starts_with("smallest failing case ("))
        .expect("a smallest case");
    assert!(
        smallest.contains("shrinking steps)")
            && smallest.contains("1 message over 1 day, syncs [1]")
            && smallest.contains("createMessageLog: 503, after commit"),
        "{smallest}"
    );
    // Several properties failed: each has its own fixture; this one replays.
    let saved = dir.path().join("failing-repeat-written-once.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("fixture saved"))
            .expect("JSON");
    assert_eq!(json["mockcrmContract"]["property"], REPEAT);
    assert_eq!(json["mockcrmContract"]["messages"]["thread"], "sms");
    let saved_arg = saved.display().to_string();
    let replayed = contract(&[
        "--serve",
        "--connector-timeout",
        CONNECTOR_TIMEOUT,
        "--replay",
        &saved_arg,
        "fixtures/connectors/naive-messages.js",
    ]);
    assert_eq!(replayed.status.code(), Some(1), "{}", explain(&replayed));
    assert!(failed(&replayed).iter().any(|p| p == REPEAT));
    assert!(stdout(&replayed).contains("1 case replayed from its fixture"));
}

#[test]
fn only_picks_a_half_and_a_connector_without_message_functions_is_told() {
    // good.js logs messages, but --only calls plays calls alone.
    let output = contract(&[
        "--serve",
        "--only",
        "calls",
        "--faults",
        "none",
        "--cases",
        "2",
        "fixtures/connectors/good.js",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let rows = table(&output);
    assert_eq!(rows.len(), 6);
    assert!(!rows.contains_key(REPEAT));
    assert!(stdout(&output).contains("2 cases, seed"));

    // naive.js has no message functions: a line says so, calls still pass.
    let output = contract(&[
        "--serve",
        "--faults",
        "none",
        "--cases",
        "2",
        "fixtures/connectors/naive.js",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert_eq!(table(&output).len(), 6);
    assert!(
        stdout(&output).contains("message logs not played: the connector exports no createMessageLog or updateMessageLog; export createMessageLog and updateMessageLog to test them"),
        "{}",
        explain(&output)
    );

    // Asking for messages from it is an error saying what to export.
    let output = contract(&[
        "--serve",
        "--only",
        "messages",
        "fixtures/connectors/naive.js",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--only messages")
            && stderr.contains("export createMessageLog and updateMessageLog"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());

    let output = contract(&["--serve", "--only", "faxes", "fixtures/connectors/good.js"]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
}
