//! `mockcrm contract` run on the example connectors of
//! `fixtures/connectors/`, as a developer and a CI job run it: the good
//! connector keeps every property under faults, each broken one fails
//! exactly its own property with a shrunk fixture that fails it again when
//! replayed, start-up problems end in one line and exit 2, and `--jobs`
//! changes how long a run takes, never what it finds.
//!
//! These need Node.js; CI installs it (`.ci/run`), and a machine without it
//! fails here with a message saying so, never skips.

mod messages;
mod proxy_configs;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_mockcrm");

/// Seeds whose few cases draw the faults the tests need (every draw is
/// deterministic for a seed): with 8 cases, seed 3 draws a 503 after
/// commit and a 429 among the default schedules.
const SEED: &str = "3";
const CASES: &str = "8";

/// The example connectors' own timeout, shortened so that a create the
/// faults delay past it costs two seconds, not six; not shorter, so that
/// an answer slowed by a busy machine is not taken for the delay (cases
/// run side by side, so the waits overlap).
const ATTEMPT_TIMEOUT_MS: &str = "1000";
const CONNECTOR_TIMEOUT: &str = "1";

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn require_node() {
    let found = Command::new("node").arg("--version").output();
    assert!(
        found.is_ok_and(|output| output.status.success()),
        "these tests run connectors under Node.js, which is not on PATH; install it (Debian: apt-get install nodejs; .ci/run does so)"
    );
}

/// `mockcrm contract ARGS` from the repository root, with the example
/// connectors' timeouts shortened and no server settings inherited.
fn contract(args: &[&str]) -> Output {
    contract_in_env(args, &[])
}

fn contract_in_env(args: &[&str], vars: &[(&str, &str)]) -> Output {
    require_node();
    let mut command = Command::new(BIN);
    for name in [
        "MOCKCRM_SERVER",
        "MOCKCRM_API_KEY",
        "MOCKCRM_ADMIN_KEY",
        "MOCKCRM_HOST_TZ",
        "TZ",
        "MOCKCRM_SLOW_FN",
        "MOCKCRM_JOBS",
    ] {
        command.env_remove(name);
    }
    command
        .current_dir(repository())
        .env("MOCKCRM_CONNECTOR_ATTEMPT_TIMEOUT_MS", ATTEMPT_TIMEOUT_MS)
        .envs(vars.iter().copied())
        .arg("contract")
        .args(args)
        .output()
        .expect("mockcrm runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn explain(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The table: property → (passed, failed, not checked).
fn table(output: &Output) -> BTreeMap<String, (u32, u32, u32)> {
    let text = stdout(output);
    let mut rows = BTreeMap::new();
    let mut lines = text
        .lines()
        .skip_while(|line| !line.starts_with("property "));
    lines.next();
    for line in lines.take_while(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [.., passed, failed, unchecked] = fields[..] else {
            panic!("a table row with three counts: {line:?}");
        };
        let title = fields[..fields.len() - 3].join(" ");
        let count = |text: &str| text.parse::<u32>().expect("a count");
        rows.insert(title, (count(passed), count(failed), count(unchecked)));
    }
    // Six for one half, ten for both (two are shared).
    assert!(
        rows.len() == 6 || rows.len() == 10,
        "six or ten properties in\n{}",
        explain(output)
    );
    rows
}

/// The properties with at least one failed case.
fn failed(output: &Output) -> Vec<String> {
    table(output)
        .into_iter()
        .filter(|(_, (_, failed, _))| *failed > 0)
        .map(|(title, _)| title)
        .collect()
}

/// Runs a broken connector, expects exactly `property` to fail with a saved
/// fixture, then replays that fixture and expects the same.
fn fails_exactly(connector: &str, faults: &str, property: &str) {
    fails_exactly_with(connector, faults, property, &[]);
}

/// `fails_exactly` with more flags (`--jobs N`) for the run that finds it;
/// the run's output and the fixture it saved.
fn fails_exactly_with(
    connector: &str,
    faults: &str,
    property: &str,
    more: &[&str],
) -> (Output, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = dir.path().join("failing.json");
    let fixture_arg = fixture.display().to_string();
    // The call half's properties; the message half has tests of its own.
    let mut args = vec![
        "--serve",
        "--only",
        "calls",
        "--faults",
        faults,
        "--cases",
        CASES,
        "--seed",
        SEED,
        "--connector-timeout",
        CONNECTOR_TIMEOUT,
        "--save-failing",
        &fixture_arg,
    ];
    args.extend_from_slice(more);
    args.push(connector);
    let output = contract(&args);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    assert_eq!(failed(&output), [property], "{}", explain(&output));
    let text = stdout(&output);
    assert!(text.contains(&format!("FAILED: {property}\n")), "{text}");
    assert!(text.contains("requests the connector sent:"), "{text}");
    assert!(
        text.contains(&format!("saved to {fixture_arg}")),
        "says where the fixture went: {text}"
    );

    // The fixture is a createCallLog input: the fields `mockcrm log` reads,
    // with the body core composed for it.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).expect("the fixture was saved"))
            .expect("the fixture is JSON");
    for field in [
        "user",
        "contactInfo",
        "authHeader",
        "callLog",
        "composedLogDetails",
    ] {
        assert!(saved.get(field).is_some(), "{field} in {saved}");
    }
    assert_eq!(saved["mockcrmContract"]["property"], property);
    assert!(saved["callLog"]["sessionId"].is_string(), "{saved}");

    let replayed = contract(&[
        "--serve",
        "--only",
        "calls",
        "--connector-timeout",
        CONNECTOR_TIMEOUT,
        "--replay",
        &fixture_arg,
        connector,
    ]);
    assert_eq!(replayed.status.code(), Some(1), "{}", explain(&replayed));
    assert_eq!(failed(&replayed), [property], "{}", explain(&replayed));
    assert!(stdout(&replayed).contains("1 case replayed from its fixture"));
    (output, saved)
}

#[test]
fn the_good_connector_keeps_every_property_under_the_default_faults() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junit = dir.path().join("contract.xml");
    let junit_arg = junit.display().to_string();
    let output = contract(&[
        "--serve",
        "--faults",
        "default",
        "--cases",
        CASES,
        "--seed",
        SEED,
        "--connector-timeout",
        CONNECTOR_TIMEOUT,
        "--junit",
        &junit_arg,
        "fixtures/connectors/good.js",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    for (property, (passed, failed, _)) in table(&output) {
        assert_eq!(failed, 0, "{property}");
        assert!(passed > 0, "{property} was checked: {}", explain(&output));
    }
    let text = stdout(&output);
    assert!(
        text.contains("format text/markdown (from getLogFormatType)"),
        "{text}"
    );
    assert!(
        text.contains("8 cases and 8 message cases, seed 3: every property held"),
        "{text}"
    );
    assert_eq!(table(&output).len(), 10, "both halves ran: {text}");
    let xml = std::fs::read_to_string(&junit).expect("JUnit report written");
    assert_eq!(xml.matches("<testcase ").count(), 10, "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
}

#[test]
fn the_naive_connector_writes_two_activities_for_one_call_under_faults() {
    fails_exactly(
        "fixtures/connectors/naive.js",
        "default",
        "one activity per call session",
    );
}

/// The line naming the smallest failing case and how many shrinking steps
/// found it.
fn smallest_case_line(output: &Output) -> String {
    stdout(output)
        .lines()
        .find(|line| line.trim_start().starts_with("smallest failing case ("))
        .unwrap_or_else(|| panic!("a smallest failing case in\n{}", explain(output)))
        .to_owned()
}

/// What a saved fixture says about the case itself, leaving out what names
/// one run's records (activity ids in the reasons and calls, the server's
/// port in the user row) and the replay command (it names the file).
fn case_of(fixture: &Value) -> Value {
    let contract = &fixture["mockcrmContract"];
    let mut user = fixture["user"].clone();
    user["hostname"] = Value::Null;
    user["platformAdditionalInfo"] = Value::Null;
    serde_json::json!({
        "callLog": fixture["callLog"],
        "composedLogDetails": fixture["composedLogDetails"],
        "contactInfo": fixture["contactInfo"],
        "authHeader": fixture["authHeader"],
        "user": user,
        "note": fixture["note"],
        "property": contract["property"],
        "faults": contract["faults"],
        "update": contract["update"],
        "format": contract["format"],
    })
}

#[test]
fn jobs_change_nothing_a_seed_finds_nor_the_shrunk_case() {
    // naive.js under the default faults: the 503 after commit is found,
    // and shrunk, one case at a time and four at a time.
    let property = "one activity per call session";
    let (alone, alone_fixture) = fails_exactly_with(
        "fixtures/connectors/naive.js",
        "default",
        property,
        &["--jobs", "1"],
    );
    let (four, four_fixture) = fails_exactly_with(
        "fixtures/connectors/naive.js",
        "default",
        property,
        &["--jobs", "4"],
    );
    assert_eq!(
        table(&alone),
        table(&four),
        "the same verdicts per property"
    );
    let line = smallest_case_line(&four);
    assert_eq!(smallest_case_line(&alone), line, "the same shrunk case");
    assert!(
        line.contains("shrinking steps)") && line.contains("createCallLog: 503, after commit"),
        "shrunk, down to the fault that breaks it: {line}"
    );
    assert_eq!(case_of(&alone_fixture), case_of(&four_fixture));
    // Written for the --api-key user (here the default one), whose key
    // outlives the tenant the case ran in.
    assert_eq!(four_fixture["user"]["accessToken"], "mockcrm-dev-key");
    assert_eq!(four_fixture["authHeader"], "Basic bW9ja2NybS1kZXYta2V5Og==");
}

#[test]
fn jobs_come_from_the_flag_or_the_environment_and_are_bounded() {
    for (args, vars) in [
        (vec!["--jobs", "0"], vec![]),
        (vec!["--jobs", "65"], vec![]),
        (vec!["--jobs", "two"], vec![]),
        (vec![], vec![("MOCKCRM_JOBS", "0")]),
    ] {
        let mut all = vec!["--serve"];
        all.extend(args);
        all.push("fixtures/connectors/good.js");
        let output = contract_in_env(&all, &vars);
        assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("--jobs") && stderr.contains("from 1 to 64"),
            "{stderr}"
        );
    }
    // The environment sets it as the flag does: one job prints the
    // connector's output unmarked, several mark it with the case.
    let dir = tempfile::tempdir().expect("tempdir");
    let connector = dir.path().join("chatty.js");
    let good = repository().join("fixtures/connectors/good.js");
    std::fs::write(
        &connector,
        format!(
            "const good = require({good:?});\nmodule.exports = {{ ...good, async createCallLog(input) {{ console.log('logging', input.callLog.sessionId); return good.createCallLog(input); }} }};\n",
            good = good.display().to_string()
        ),
    )
    .expect("connector written");
    let connector = connector.display().to_string();
    let run = |jobs: &str| {
        let output = contract_in_env(
            &[
                "--serve", "--faults", "none", "--cases", "3", "--seed", SEED, &connector,
            ],
            &[("MOCKCRM_JOBS", jobs)],
        );
        assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let alone = run("1");
    assert_eq!(
        alone.matches("connector| logging ").count(),
        3,
        "one job: unmarked lines\n{alone}"
    );
    let three = run("3");
    let marked: Vec<&str> = three
        .lines()
        .filter(|line| line.contains("| logging "))
        .collect();
    assert_eq!(marked.len(), 3, "{three}");
    for line in marked {
        let case = line
            .strip_prefix("connector[")
            .and_then(|rest| rest.split_once("]| logging "))
            .map(|(case, _)| case);
        assert!(
            matches!(case, Some("1" | "2" | "3")),
            "marked with the case a job plays: {line}"
        );
    }
}

#[test]
fn a_connector_that_throws_on_429_breaks_only_nothing_throws() {
    fails_exactly(
        "fixtures/connectors/throws-on-429.js",
        "default",
        "nothing throws",
    );
}

#[test]
fn a_connector_that_drops_the_note_breaks_only_the_get_call_log_round_trip() {
    fails_exactly(
        "fixtures/connectors/drops-note.js",
        "none",
        "getCallLog returns the body and the note",
    );
}

#[test]
fn a_connector_that_trims_the_body_breaks_only_the_stored_body() {
    fails_exactly(
        "fixtures/connectors/trims-body.js",
        "none",
        "stored body equals composedLogDetails",
    );
}

#[test]
fn the_junit_report_fails_the_broken_property_with_its_shrunk_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junit = dir.path().join("contract.xml");
    let junit_arg = junit.display().to_string();
    let fixture_arg = dir.path().join("failing.json").display().to_string();
    let output = contract(&[
        "--serve",
        "--only",
        "calls",
        "--faults",
        "none",
        "--cases",
        "4",
        "--seed",
        SEED,
        "--junit",
        &junit_arg,
        "--save-failing",
        &fixture_arg,
        "fixtures/connectors/trims-body.js",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let xml = std::fs::read_to_string(&junit).expect("JUnit report written");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 6, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    let failure = &xml[xml.find("<failure ").expect("a failure")..];
    assert!(
        failure.starts_with(
            "<failure type=\"property\" message=\"4 of 4 cases failed: after createCallLog"
        ),
        "{failure}"
    );
    // The failure text carries the fixture, escaped.
    assert!(
        failure.contains("&quot;composedLogDetails&quot;"),
        "{failure}"
    );
    let testcase_before = &xml[..xml.find("<failure ").expect("a failure")];
    assert!(
        testcase_before.ends_with("name=\"stored body equals composedLogDetails\">\n      "),
        "{testcase_before}"
    );
}

#[test]
fn a_call_that_never_settles_fails_its_case_after_the_call_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture_arg = dir.path().join("failing.json").display().to_string();
    let output = contract(&[
        "--serve",
        "--only",
        "calls",
        "--faults",
        "none",
        "--cases",
        "2",
        "--call-timeout",
        "2",
        "--save-failing",
        &fixture_arg,
        "fixtures/connectors/slow.js",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    assert_eq!(
        failed(&output),
        ["every call settles within --call-timeout"],
        "{}",
        explain(&output)
    );
    let rows = table(&output);
    assert_eq!(
        rows["every call settles within --call-timeout"],
        (0, 2, 0),
        "both cases hung, each on a fresh bridge"
    );
    let text = stdout(&output);
    assert!(
        text.contains("createCallLog did not settle within 2 s (--call-timeout)"),
        "{text}"
    );

    // A hang later in the sequence: the create was logged and checked first.
    let output = contract_in_env(
        &[
            "--serve",
            "--only",
            "calls",
            "--faults",
            "none",
            "--cases",
            "1",
            "--call-timeout",
            "2",
            "--save-failing",
            &fixture_arg,
            "fixtures/connectors/slow.js",
        ],
        &[("MOCKCRM_SLOW_FN", "updateCallLog")],
    );
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let rows = table(&output);
    assert_eq!(rows["stored body equals composedLogDetails"].0, 1);
    assert!(stdout(&output).contains("updateCallLog did not settle"));
}

#[test]
fn an_es_module_connector_loads_and_passes() {
    let output = contract(&[
        "--serve",
        "--faults",
        "none",
        "--cases",
        "3",
        "fixtures/connectors/good.mjs",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("mockcrm contract: fixtures/connectors/good.mjs (module, Node.js v"),
        "{text}"
    );
}

/// One line on stderr saying what to fix, exit 2, nothing on stdout.
fn assert_start_up_error(output: &Output, starts: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", explain(output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(
        stderr.starts_with(&format!("mockcrm: error: {starts}")),
        "{stderr:?}"
    );
    assert!(output.stdout.is_empty(), "{}", explain(output));
}

#[test]
fn a_connector_that_cannot_be_loaded_is_one_line_and_exit_2() {
    assert_start_up_error(
        &contract(&["--serve", "fixtures/connectors/syntax-error.js"]),
        "fixtures/connectors/syntax-error.js:7: syntax error: ",
    );
    assert_start_up_error(
        &contract(&["--serve", "fixtures/connectors/missing-function.js"]),
        "fixtures/connectors/missing-function.js does not export updateCallLog;",
    );
    assert_start_up_error(
        &contract(&["--serve", "fixtures/connectors/no-such-connector.js"]),
        "fixtures/connectors/no-such-connector.js: no such file",
    );
    assert_start_up_error(
        &contract(&[
            "--serve",
            "--node",
            "mockcrm-no-such-node",
            "fixtures/connectors/good.js",
        ]),
        "cannot run `mockcrm-no-such-node`: not found; install Node.js",
    );
    assert_start_up_error(
        &contract(&[
            "--serve",
            "--call-timeout",
            "1",
            "fixtures/connectors/good.js",
        ]),
        "--call-timeout: 1 s is not longer than the longest fault delay (6 s)",
    );
}

#[test]
fn a_running_server_is_tested_in_tenants_of_its_own_and_left_as_it_was() {
    const ADMIN: &str = "mockcrm-admin";
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let crm = rt.block_on(crate::support::TestCrm::start());
    let url = crm.server.url();
    let send = |request: reqwest::RequestBuilder| -> (u16, Value) {
        rt.block_on(crate::support::answer(request))
    };
    // Someone else's state on the shared server: a fault and a journal
    // entry of the seeded organisation.
    let (_, tenants) = send(crm.as_key(ADMIN, reqwest::Method::GET, "/__admin/tenants"));
    let seeded = tenants["items"][0]["id"]
        .as_str()
        .expect("the seeded org")
        .to_owned();
    let (status, _) = send(
        crm.as_key(ADMIN, reqwest::Method::POST, "/__admin/faults")
            .json(
                &serde_json::json!({"path": "/not-the-connectors", "status": 503, "org": seeded}),
            ),
    );
    assert_eq!(status, 201);
    let (status, _) = send(crm.dev(reqwest::Method::GET, "/me"));
    assert_eq!(status, 200);

    // Two runs at once against the one server, under faults.
    let runs: Vec<Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = ["1", "3"]
            .into_iter()
            .map(|jobs| {
                let url = url.clone();
                scope.spawn(move || {
                    contract(&[
                        "--server",
                        &url,
                        "--only",
                        "calls",
                        "--faults",
                        "default",
                        "--connector-timeout",
                        CONNECTOR_TIMEOUT,
                        "--cases",
                        "4",
                        "--seed",
                        SEED,
                        "--jobs",
                        jobs,
                        "fixtures/connectors/good.js",
                    ])
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("the run's thread"))
            .collect()
    });
    for output in &runs {
        assert_eq!(output.status.code(), Some(0), "{}", explain(output));
        assert!(stdout(output).contains(&format!("CRM {url}")));
        for (property, (passed, failed, _)) in table(output) {
            assert_eq!((passed, failed), (4, 0), "{property}: {}", explain(output));
        }
    }

    // Every case ran in a tenant of its own, gone now with its activities;
    // the seeded organisation's data, fault and journal are as they were.
    let (_, tenants) = send(crm.as_key(ADMIN, reqwest::Method::GET, "/__admin/tenants"));
    assert_eq!(
        tenants["items"].as_array().map(Vec::len),
        Some(1),
        "{tenants}"
    );
    let (_, listed) = send(crm.dev(reqwest::Method::GET, "/activity?limit=200"));
    assert_eq!(listed["items"], serde_json::json!([]), "{listed}");
    let (_, faults) = send(crm.as_key(ADMIN, reqwest::Method::GET, "/__admin/faults"));
    let paths: Vec<&str> = faults["items"]
        .as_array()
        .expect("faults")
        .iter()
        .filter_map(|fault| fault["path"].as_str())
        .collect();
    assert_eq!(paths, ["/not-the-connectors"], "{faults}");
    let (_, journal) = send(crm.as_key(
        ADMIN,
        reqwest::Method::GET,
        &format!("/__admin/requests?org={seeded}"),
    ));
    let seen: Vec<&str> = journal["items"]
        .as_array()
        .expect("journal")
        .iter()
        .filter_map(|entry| entry["path"].as_str())
        .collect();
    assert!(seen.contains(&"/me"), "{journal}");

    let wrong_key = contract(&[
        "--server",
        &url,
        "--api-key",
        "not-a-key",
        "fixtures/connectors/good.js",
    ]);
    assert_start_up_error(&wrong_key, &format!("the CRM at {url} refused the API key"));
    let wrong_admin_key = contract(&[
        "--server",
        &url,
        "--admin-key",
        "not-the-admin-key",
        "fixtures/connectors/good.js",
    ]);
    assert_start_up_error(
        &wrong_admin_key,
        &format!("the CRM at {url} refused the admin key"),
    );
    rt.block_on(crm.shutdown());
}

#[test]
fn an_async_get_log_format_type_means_core_composes_nothing() {
    // App Connect core calls getLogFormatType without await: a Promise
    // matches no format, so composedLogDetails is '' and the connector
    // writes its own body (here: none).
    let dir = tempfile::tempdir().expect("tempdir");
    let connector = dir.path().join("async-format.js");
    let good = repository().join("fixtures/connectors/good.js");
    std::fs::write(
        &connector,
        format!(
            "const good = require({good:?});\nmodule.exports = {{ ...good, async getLogFormatType() {{ return 'text/markdown'; }} }};\n",
            good = good.display().to_string()
        ),
    )
    .expect("connector written");
    let output = contract(&[
        "--serve",
        "--faults",
        "none",
        "--cases",
        "3",
        &connector.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    let text = stdout(&output);
    assert!(
        text.contains(
            "format custom (getLogFormatType is async and App Connect core does not await it"
        ),
        "{text}"
    );
    let rows = table(&output);
    assert_eq!(rows["stored body equals composedLogDetails"], (0, 0, 3));
    assert_eq!(rows["one activity per call session"], (3, 0, 0));
}
