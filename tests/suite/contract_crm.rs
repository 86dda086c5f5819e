//! `mockcrm contract --crm NAME`: a connector written for a CRM's own API
//! run against that CRM's face, handed what App Connect core hands it (a
//! signed-in user record with `save()` and `update()`, the CRM's
//! environment, `DATABASE_URL`, registration in `@app-connect/core`'s
//! registry), judged from the store; and TypeScript connectors under
//! `--node "npx tsx"`.
//!
//! These need Node.js, and the TypeScript test needs tsx from
//! `tests/node/` (`npm ci --prefix tests/node`, which `.ci/run` does): a
//! machine without them fails here with a message saying so, never skips.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mockcrm");

pub(super) fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn require_node() {
    let found = Command::new("node").arg("--version").output();
    assert!(
        found.is_ok_and(|output| output.status.success()),
        "these tests run connectors under Node.js, which is not on PATH; install it (Debian: apt-get install nodejs; .ci/run does so)"
    );
}

/// `mockcrm contract ARGS` in `dir`, with the example connectors' timeouts
/// shortened and no server settings inherited.
pub(super) fn contract_in(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    require_node();
    let mut command = Command::new(BIN);
    for name in [
        "MOCKCRM_SERVER",
        "MOCKCRM_API_KEY",
        "MOCKCRM_ADMIN_KEY",
        "MOCKCRM_HOST_TZ",
        "TZ",
        "MOCKCRM_JOBS",
        "PROBE_BREAK",
        "DATABASE_URL",
    ] {
        command.env_remove(name);
    }
    command
        .current_dir(dir)
        .env("MOCKCRM_CONNECTOR_ATTEMPT_TIMEOUT_MS", "1000")
        .envs(vars.iter().copied())
        .arg("contract");
    // These tests are about the call half; the CRM connectors' message
    // half has tests of its own (`contract_crm_messages.rs`).
    if !args.contains(&"--only") {
        command.args(["--only", "calls"]);
    }
    command.args(args).output().expect("mockcrm runs")
}

pub(super) fn explain(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The property table: name → (passed, failed, not checked).
pub(super) fn table(output: &Output) -> BTreeMap<String, (u32, u32, u32)> {
    let text = String::from_utf8_lossy(&output.stdout);
    let mut rows = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 4 {
            continue;
        }
        let counts: Vec<u32> = words[words.len() - 3..]
            .iter()
            .filter_map(|word| word.parse().ok())
            .collect();
        if counts.len() == 3 {
            rows.insert(
                words[..words.len() - 3].join(" "),
                (counts[0], counts[1], counts[2]),
            );
        }
    }
    rows
}

pub(super) fn assert_every_property_held(output: &Output, cases: u32) {
    assert_eq!(output.status.code(), Some(0), "{}", explain(output));
    let rows = table(output);
    assert_eq!(rows.len(), 6, "{}", explain(output));
    for (property, (passed, failed, _)) in &rows {
        assert_eq!(failed, &0, "{property}: {}", explain(output));
        assert!(*passed > 0, "{property} never checked: {}", explain(output));
    }
    assert_eq!(rows["a call is never lost"].0, cases, "{}", explain(output));
}

const PROBE: &str = "fixtures/connectors/core-stub/probe.js";

#[test]
fn a_crm_connector_gets_a_signed_in_user_record_env_and_core_registry_under_faults() {
    let output = contract_in(
        repository(),
        &[
            "--crm",
            "insightly",
            "--cases",
            "8",
            "--seed",
            "3",
            "--jobs",
            "4",
            "--connector-timeout",
            "1",
            PROBE,
        ],
        &[],
    );
    assert_every_property_held(&output, 8);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("CRM --crm insightly (in memory)"), "{text}");
    assert!(
        text.contains("registered as insightly in @app-connect/core's registry"),
        "{text}"
    );
    // The probe logs through the native API, never Insightly's create,
    // so the default faults (aimed there under --crm) never fire: said.
    assert!(
        text.contains("the connector sent no POST /insightly/v3.1/events during createCallLog"),
        "{text}"
    );
}

#[test]
fn what_a_connector_changes_without_update_or_save_is_not_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = dir.path().join("failing.json");
    let probe = repository().join(PROBE);
    let output = contract_in(
        repository(),
        &[
            "--crm",
            "insightly",
            "--cases",
            "3",
            "--seed",
            "5",
            "--faults",
            "none",
            "--save-failing",
            &fixture.display().to_string(),
            &probe.display().to_string(),
        ],
        &[("PROBE_BREAK", "forget")],
    );
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let rows = table(&output);
    assert_eq!(rows["nothing throws"].1, 3, "{}", explain(&output));
    assert_eq!(rows["stored body equals composedLogDetails"].1, 0);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("FAILED: nothing throws"), "{text}");
    assert!(
        text.contains("what createCallLog saved with user.update() is gone"),
        "{text}"
    );
    assert!(
        text.contains("--crm insightly"),
        "the replay names --crm: {text}"
    );
    assert!(fixture.exists(), "the failing case is saved");
}

#[test]
fn an_unknown_crm_is_one_line_naming_those_served() {
    let output = contract_in(repository(), &["--crm", "salesforce", PROBE], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "mockcrm: error: --crm: \"salesforce\" is not a CRM mockcrm serves; it serves redtail, insightly"
        ),
        "{stderr}"
    );

    let config = contract_in(
        repository(),
        &["--crm", "redtail", "fixtures/proxy-configs/minimal.json"],
        &[],
    );
    assert_eq!(config.status.code(), Some(2), "{}", explain(&config));
    assert!(String::from_utf8_lossy(&config.stderr).contains("not a proxy config"));
}

/// `tests/node/`, where tsx is installed; fails, never skips, without it.
fn tsx_dir() -> PathBuf {
    let dir = repository().join("tests/node");
    assert!(
        dir.join("node_modules/.bin/tsx").exists(),
        "tsx is not installed in {}: run `npm ci --prefix tests/node` (.ci/run does) to install the version its package-lock.json pins",
        dir.display()
    );
    dir
}

#[test]
fn a_typescript_connector_runs_under_npx_tsx() {
    let dir = tsx_dir();
    let connector = repository().join("fixtures/connectors/typed.ts");
    let output = contract_in(
        &dir,
        &[
            "--serve",
            "--node",
            "npx tsx",
            "--faults",
            "none",
            "--cases",
            "4",
            "--jobs",
            "2",
            "--seed",
            "9",
            &connector.display().to_string(),
        ],
        &[],
    );
    assert_every_property_held(&output, 4);

    // Plain node cannot read its type annotations: tsx did the work.
    let plain = contract_in(
        &dir,
        &[
            "--serve",
            "--faults",
            "none",
            "--cases",
            "1",
            &connector.display().to_string(),
        ],
        &[],
    );
    assert_eq!(plain.status.code(), Some(2), "{}", explain(&plain));
    assert!(
        String::from_utf8_lossy(&plain.stderr).contains("typed.ts"),
        "{}",
        explain(&plain)
    );
}

/// `contract --crm NAME` on the face's own example connector.
fn crm_contract(crm: &str, connector: &str, faults: &str, cases: &str) -> Output {
    crm_contract_seeded(crm, connector, faults, cases, "3")
}

fn crm_contract_seeded(
    crm: &str,
    connector: &str,
    faults: &str,
    cases: &str,
    seed: &str,
) -> Output {
    contract_in(
        repository(),
        &[
            "--crm",
            crm,
            "--cases",
            cases,
            "--seed",
            seed,
            "--jobs",
            "6",
            "--faults",
            faults,
            "--connector-timeout",
            "1",
            "--save-failing",
            &std::env::temp_dir()
                .join(format!(
                    "mockcrm-contract-crm-{crm}-{}.json",
                    std::process::id()
                ))
                .display()
                .to_string(),
            connector,
        ],
        &[],
    )
}

#[test]
fn the_crm_faces_example_connectors_keep_every_property_through_their_faces() {
    // Pipedrive's is OAuth over HTTPS: the run serves TLS and trusts its CA.
    for crm in ["redtail", "insightly", "pipedrive"] {
        let output = crm_contract(crm, &format!("fixtures/connectors/{crm}.js"), "none", "8");
        assert_every_property_held(&output, 8);
        // Signed in through the face, as App Connect's sign-in does.
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains(&format!("CRM --crm {crm} (in memory)")),
            "{text}"
        );
    }
}

/// Seed 6's 6 cases draw every default schedule (no fault, 503 after
/// commit, 429 with Retry-After, 502, a delay past the connector's 1 s
/// timeout) for an HTML and for a plain-text connector alike:
/// `contract::runner`'s `seed_6_draws_every_default_schedule…` holds that.
/// With 6 jobs the run takes about as long as its slowest case (a 1 s
/// Retry-After, a 2 s delay and a retry): 2.5-3 s each.
const EVERY_SCHEDULE_SEED: &str = "6";
const EVERY_SCHEDULE_CASES: &str = "6";

#[test]
fn redtail_and_insightly_connectors_keep_every_property_under_the_default_faults() {
    for crm in ["redtail", "insightly"] {
        let output = crm_contract_seeded(
            crm,
            &format!("fixtures/connectors/{crm}.js"),
            "default",
            EVERY_SCHEDULE_CASES,
            EVERY_SCHEDULE_SEED,
        );
        assert_every_property_held(&output, 6);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains("faults default (on the create)"), "{text}");
        // Every fault fired: each met the connector's create.
        assert!(!text.contains("never fired"), "{text}");
    }
}

#[test]
fn a_connector_that_retries_a_lost_create_without_looking_writes_the_call_twice() {
    // Redtail takes no idempotency key: the 503 after the commit is
    // retried, and the first activity is left beside the second.
    let output = crm_contract_seeded(
        "redtail",
        "fixtures/connectors/redtail-no-lookup.js",
        "default",
        EVERY_SCHEDULE_CASES,
        EVERY_SCHEDULE_SEED,
    );
    assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
    let rows = table(&output);
    assert_eq!(rows.len(), 6, "{}", explain(&output));
    for (property, (_, failed, _)) in &rows {
        let expected = u32::from(property == "one activity per call session");
        assert_eq!(*failed, expected, "{property}: {}", explain(&output));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("FAILED: one activity per call session"),
        "{text}"
    );
    assert!(text.contains("was written as 2 activities"), "{text}");
    assert!(
        text.contains("createCallLog: 503, after commit, on the request that creates the activity"),
        "the shrunk case names its fault: {text}"
    );
    // The fault hit the create itself (not the sign-in), which committed
    // and was sent again.
    let faulted = text
        .find("POST /redtail/api/public/v1/activities -> 503 (fault flt_")
        .unwrap_or_else(|| panic!("the create was faulted: {text}"));
    assert!(
        text[faulted..].contains("POST /redtail/api/public/v1/activities -> 201"),
        "{text}"
    );
    assert!(
        text.contains("GET /redtail/api/public/v1/authentication -> 200"),
        "{text}"
    );
}

#[test]
fn a_crm_connector_that_drops_the_note_breaks_only_the_get_call_log_round_trip() {
    for crm in ["redtail", "insightly"] {
        let output = crm_contract(
            crm,
            &format!("fixtures/connectors/{crm}-drops-note.js"),
            "none",
            "8",
        );
        assert_eq!(output.status.code(), Some(1), "{}", explain(&output));
        let rows = table(&output);
        assert_eq!(rows.len(), 6, "{}", explain(&output));
        for (property, (_, failed, _)) in &rows {
            if property == "getCallLog returns the body and the note" {
                assert!(*failed > 0, "{property}: {}", explain(&output));
            } else {
                assert_eq!(*failed, 0, "{property}: {}", explain(&output));
            }
        }
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("getCallLog's callLogInfo has no note; the body holds the note"),
            "{text}"
        );
    }
}

#[test]
fn a_fault_aimed_at_the_create_needs_crm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let faults = dir.path().join("faults.json");
    std::fs::write(
        &faults,
        r#"[[{"on": "createCallLog", "status": 502, "at": "create"}]]"#,
    )
    .expect("written");
    let output = contract_in(
        repository(),
        &[
            "--serve",
            "--faults",
            &faults.display().to_string(),
            "fixtures/connectors/good.js",
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(2), "{}", explain(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("[0][0].at needs --crm NAME"), "{stderr}");
}

/// Under `--crm`, a fault aimed `at: create` lands on the request each
/// CRM's connector creates the activity with (Redtail `POST …/activities`,
/// Insightly `POST …/events`, Pipedrive `POST /api/v2/activities`, Clio
/// `POST /api/v4/communications.json`, Bullhorn `PUT {restUrl}entity/Note`):
/// replayed once each (no shrinking), the run never notes it unfired,
/// whether or not the connector survives the 502.
#[test]
fn a_fault_aimed_at_the_create_meets_each_crms_create_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = std::fs::read_to_string(
        repository().join("fixtures/create-call-log/inbound-answered.json"),
    )
    .expect("fixture");
    let mut case: serde_json::Value = serde_json::from_str(&input).expect("JSON");
    case["mockcrmContract"] = serde_json::json!({
        "faults": [{"on": "createCallLog", "status": 502, "at": "create"}]
    });
    let fixture = dir.path().join("aimed.json");
    std::fs::write(&fixture, case.to_string()).expect("written");
    for crm in ["redtail", "insightly", "pipedrive", "clio", "bullhorn"] {
        let output = contract_in(
            repository(),
            &[
                "--crm",
                crm,
                "--connector-timeout",
                "1",
                "--replay",
                &fixture.display().to_string(),
                &format!("fixtures/connectors/{crm}.js"),
            ],
            &[],
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{crm}: {}",
            explain(&output)
        );
        assert!(
            text.contains("1 case replayed from its fixture"),
            "{crm}: {text}"
        );
        assert!(!text.contains("never fired"), "{crm}: {text}");
    }
}
