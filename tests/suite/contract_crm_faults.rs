//! `mockcrm contract --crm pipedrive|clio|bullhorn` under faults aimed at
//! each face's create, and token expiry at exact moments: a schedule's
//! `expire_tokens` expires the tenant's access tokens (and Bullhorn
//! sessions) just before its call, with App Connect core's record knowing
//! (core refreshes first) or not (the connector meets the CRM's 401), so
//! no outcome depends on how fast the machine is. The example connectors
//! (`fixtures/connectors/{pipedrive,clio,bullhorn}.js` on `lib/careful.js`)
//! keep every property; the same connector with one habit broken
//! (`CAREFUL_BREAK`) fails the properties that habit is for.
//!
//! The schedules are `fixtures/contract-faults/<crm>.json` (none, a 503
//! after commit, a 429 with Retry-After, a 502, a create delayed past the
//! connector's 2 s timeout, the token expired before the create with core
//! knowing, expired unknown to core before a create whose answer is then
//! lost (503 after commit), and expired unknown to core before the
//! update). Each run takes 5 to 7 s (six jobs, mostly waiting on the
//! faults).

use std::process::Output;

use super::contract_crm::{assert_every_property_held, contract_in, explain, repository, table};

/// The connectors' own timeout per request (`MOCKCRM_CONNECTOR_ATTEMPT_TIMEOUT_MS`)
/// and `--connector-timeout`: short, so the delayed create times out soon.
const ATTEMPT_TIMEOUT_MS: &str = "2000";

fn crm_run(crm: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let fixture = std::env::temp_dir().join(format!(
        "mockcrm-contract-crm-faults-{crm}-{}.json",
        std::process::id()
    ));
    let fixture = fixture.display().to_string();
    let connector = format!("fixtures/connectors/{crm}.js");
    let mut all = vec![
        "--crm",
        crm,
        "--connector-timeout",
        "2",
        "--save-failing",
        &fixture,
    ];
    all.extend_from_slice(args);
    all.push(&connector);
    let mut env = vec![("MOCKCRM_CONNECTOR_ATTEMPT_TIMEOUT_MS", ATTEMPT_TIMEOUT_MS)];
    env.extend_from_slice(vars);
    contract_in(repository(), &all, &env)
}

#[test]
fn pipedrive_clio_and_bullhorn_connectors_keep_every_property_under_faults_and_token_expiry() {
    for crm in ["pipedrive", "clio", "bullhorn"] {
        let faults = format!("fixtures/contract-faults/{crm}.json");
        let output = crm_run(
            crm,
            &[
                "--faults", &faults, "--cases", "12", "--seed", "3", "--jobs", "6",
            ],
            &[],
        );
        assert_every_property_held(&output, 12);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains(&format!("faults {faults}, CRM --crm {crm}")),
            "{text}"
        );
    }
}

/// Replays one saved case with the connector's `habit` broken.
fn replay_broken(case: &str, habit: &str) -> Output {
    let fixture = format!("fixtures/contract-faults/replay/{case}");
    crm_run(
        "pipedrive",
        &["--replay", &fixture],
        &[("CAREFUL_BREAK", habit)],
    )
}

fn assert_only_failed(output: &Output, failing: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", explain(output));
    for (property, (_, failed, _)) in &table(output) {
        let expected = u32::from(property == failing);
        assert_eq!(*failed, expected, "{property}: {}", explain(output));
    }
}

#[test]
fn a_connector_that_sends_a_lost_create_again_without_looking_writes_the_call_twice() {
    // A 503 after the create committed: sent again blindly, it is a
    // second activity; looked for first, the first one is adopted.
    let case = "pipedrive-lost-create.json";
    assert_every_property_held(&replay_broken(case, ""), 1);
    let output = replay_broken(case, "lookup");
    assert_only_failed(&output, "one activity per call session");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("was written as 2 activities"), "{text}");
}

#[test]
fn a_connector_that_ignores_token_expiry_cannot_read_the_log_back() {
    // The access token expired at the CRM before updateCallLog while core's
    // record still says it is good: core calls with it, and only a
    // connector that renews on the CRM's 401 updates the log and then
    // reads it back (the replayed update changes nothing, so the body
    // still holds). The expiry is an event of the schedule, not a race
    // with a clock, so this fails the same way on any machine.
    let case = "pipedrive-token-expires.json";
    assert_every_property_held(&replay_broken(case, ""), 1);
    let output = replay_broken(case, "renew");
    assert_only_failed(&output, "getCallLog returns the body and the note");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("getCallLog answered no callLogInfo"),
        "{text}"
    );
    assert!(text.contains("access token has expired"), "{text}");
    assert!(
        text.contains(
            "updateCallLog: access token expired before the call, unknown to App Connect core"
        ),
        "{text}"
    );
}
