//! `mockcrm compose --shared-sms` as a user runs it: the conversation in
//! (a file or stdin), `{"subject", "body"}` out, and one line with a
//! non-zero exit for anything that is not a conversation.

use serde_json::Value;

use crate::cli::{assert_one_line_failure, mockcrm_in_env};
use crate::support::read_fixture;

fn compose(args: &[&str], input: &str) -> Value {
    compose_in_env(args, input, &[])
}

fn compose_in_env(args: &[&str], input: &str, vars: &[(&str, &str)]) -> Value {
    let mut all = vec!["compose", "--shared-sms"];
    all.extend_from_slice(args);
    let output = mockcrm_in_env(&all, input, vars);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the output is JSON")
}

fn failure(args: &[&str], input: &str, mentions: &str) {
    let mut all = vec!["compose", "--shared-sms"];
    all.extend_from_slice(args);
    assert_one_line_failure(&mockcrm_in_env(&all, input, &[]), mentions);
}

#[test]
fn prints_the_subject_and_body_core_writes() {
    let input = read_fixture("shared-sms/iso-times.json");
    let out = compose(&["-"], &input);
    assert_eq!(out["subject"], "SMS conversation with Hannah Schmidt");
    let body = out["body"].as_str().expect("a body");
    assert!(body.starts_with("Conversation summary\nStarted: Tuesday, June 03, 2025 at 05:10 PM\n"));
    // Core's quirk: ISO lastModifiedTimes never beat its starting 0.
    assert!(
        body.contains("Ended: Wednesday, December 31, 1969 at 07:00 PM\n"),
        "{body}"
    );
    assert!(body.ends_with("------------\nEND"), "{body}");
    assert_eq!(
        out.as_object().map(|o| o.len()),
        Some(2),
        "only subject and body"
    );
}

#[test]
fn the_clean_style_fixes_what_core_gets_wrong() {
    let input = read_fixture("shared-sms/iso-times.json");
    let out = compose(&["--style", "clean", "-"], &input);
    let body = out["body"].as_str().expect("a body");
    assert!(
        body.contains("Ended: Tuesday, June 03, 2025 at 05:12 PM\n"),
        "{body}"
    );
    assert!(body.contains("Duration: 0 d 0 h\n"), "{body}");
    let core = compose(&["--style", "core", "-"], &input);
    assert_ne!(core["body"], out["body"]);
}

#[test]
fn format_and_host_zone_come_from_flags_or_the_environment() {
    let input = read_fixture("shared-sms/queue-thread.json");
    let html = compose(&["--format", "text/html", "-"], &input);
    assert!(html["body"]
        .as_str()
        .is_some_and(|b| b.starts_with("<div><b>Conversation summary</b>")));
    // Without an offset, dates show in the host's zone: --host-tz, else
    // MOCKCRM_HOST_TZ or TZ.
    let mut request: Value = serde_json::from_str(&input).expect("JSON");
    request.as_object_mut().map(|r| r.remove("timezoneOffset"));
    let request = request.to_string();
    let started = |out: Value| {
        out["body"]
            .as_str()
            .and_then(|b| b.lines().nth(1))
            .map(str::to_owned)
    };
    let utc = started(compose(&["-"], &request));
    let tokyo = started(compose(&["--host-tz", "Asia/Tokyo", "-"], &request));
    let tokyo_env = started(compose_in_env(&["-"], &request, &[("TZ", "Asia/Tokyo")]));
    assert_eq!(
        utc.as_deref(),
        Some("Started: Tuesday, June 03, 2025 at 08:01 PM")
    );
    assert_eq!(
        tokyo.as_deref(),
        Some("Started: Wednesday, June 04, 2025 at 05:01 AM")
    );
    assert_eq!(tokyo, tokyo_env);
}

#[test]
fn reads_a_file_as_well_as_stdin() {
    let path = crate::support::fixtures_dir().join("shared-sms/queue-thread.json");
    let from_file = compose(&[path.to_str().expect("a UTF-8 path")], "");
    let from_stdin = compose(&[], &read_fixture("shared-sms/queue-thread.json"));
    assert_eq!(from_file, from_stdin);
}

#[test]
fn what_is_not_a_conversation_is_one_line_and_exit_2() {
    failure(&["-"], "not json", "shared-SMS compose request");
    failure(&["-"], r#"{"contactName": "x"}"#, "conversation");
    failure(&["-"], r#"{"conversation": {"entities": []}}"#, "messages");
    failure(
        &["-"],
        r#"{"conversation": {"messages": [], "entities": [{"author": {"name": 5}}]}}"#,
        "conversation.entities[0].author",
    );
    failure(
        &["-"],
        r#"{"logFormat": "text/rtf", "conversation": {"messages": []}}"#,
        "logFormat",
    );
    let bad_time = r#"{"conversation": {"creationTime": "last tuesday", "messages": []}}"#;
    failure(
        &["-"],
        bad_time,
        "conversation.creationTime \"last tuesday\"",
    );
    let clean_missing =
        r#"{"conversation": {"messages": [], "entities": [{"recordType": "AliveNote"}]}}"#;
    failure(
        &["--style", "clean", "-"],
        clean_missing,
        "conversation.entities[0].creationTime is missing",
    );
    failure(
        &["--style", "clean", "-"],
        r#"{"timezoneOffset": "Europe/Paris", "conversation": {"creationTime": 0, "messages": []}}"#,
        "timezoneOffset",
    );
    failure(
        &["--host-tz", "Mars/Olympus", "-"],
        r#"{"conversation": {"messages": []}}"#,
        "Mars/Olympus",
    );
}

#[test]
fn style_goes_with_shared_sms_and_update_style_does_not() {
    let input = r#"{"conversation": {"messages": []}}"#;
    let tidy = mockcrm_in_env(
        &["compose", "--shared-sms", "--style", "tidy", "-"],
        input,
        &[],
    );
    assert!(!tidy.status.success());
    assert!(String::from_utf8_lossy(&tidy.stderr).contains("core or clean"));
    let without = mockcrm_in_env(&["compose", "--style", "clean", "-"], input, &[]);
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("--shared-sms"));
    let both = mockcrm_in_env(
        &["compose", "--shared-sms", "--update-style", "clean", "-"],
        input,
        &[],
    );
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("--update-style"));
}

#[test]
fn a_missing_time_is_the_current_one_in_the_core_style() {
    // moment(undefined) is now: the body shows a date, not an error.
    let out = compose(&["-"], r#"{"conversation": {"messages": []}}"#);
    let body = out["body"].as_str().expect("a body");
    assert!(
        body.starts_with("Conversation summary\nStarted: "),
        "{body}"
    );
    assert!(!body.contains("Invalid date"), "{body}");
    assert!(
        body.contains("Ended: Thursday, January 01, 1970 at 12:00 AM\n"),
        "{body}"
    );
}
