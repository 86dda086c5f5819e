//! `mockcrm contract` on App Connect proxy configs: every fixture config
//! keeps the properties, a lost create answer is caught, and the flag names
//! what is tested.

use super::*;

#[test]
fn every_fixture_proxy_config_keeps_every_property_without_faults_and_without_node() {
    // A proxy config runs in mockcrm's own engine: no Node.js on PATH.
    for config in [
        "fixtures/proxy-configs/minimal.json",
        "fixtures/proxy-configs/insightly-like.json",
        "fixtures/proxy-configs/pipedrive-like.json",
        "fixtures/proxy-configs/redtail-like.json",
        "fixtures/proxy-configs/app-connect-sample-like.json",
        "fixtures/app-connect/mockcrm.proxy.json",
    ] {
        let output = Command::new(BIN)
            .current_dir(repository())
            .env("PATH", "")
            .env_remove("MOCKCRM_SERVER")
            .env_remove("MOCKCRM_API_KEY")
            .env_remove("MOCKCRM_ADMIN_KEY")
            .args([
                "contract", "--serve", "--only", "calls", "--faults", "none", "--cases", "4",
                "--seed", SEED, config,
            ])
            .output()
            .expect("mockcrm runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{config}: {}",
            explain(&output)
        );
        let text = stdout(&output);
        assert!(
            text.starts_with(&format!(
                "mockcrm contract: {config} (an App Connect proxy config, run by mockcrm's proxy engine)"
            )),
            "{text}"
        );
        for (property, (passed, failed, _)) in table(&output) {
            assert_eq!((passed, failed), (4, 0), "{config}: {property}");
        }
    }
}

/// The message half of a proxy config with a `createMessageLog`
/// operation: `(passed, failed)` of each message property.
fn message_half(config: &str) -> (Output, BTreeMap<String, (u32, u32, u32)>) {
    let output = contract(&[
        "--serve",
        "--only",
        "messages",
        "--faults",
        "none",
        "--cases",
        "8",
        "--seed",
        SEED,
        "--save-failing",
        "/dev/null",
        config,
    ]);
    let rows = table(&output);
    (output, rows)
}

#[test]
fn a_proxy_configs_message_logs_are_played_and_judged_from_what_it_stores() {
    // redtail-like.json appends each message to the log's note: every
    // message lands once, in one log per conversation and day.
    let (output, rows) = message_half("fixtures/proxy-configs/redtail-like.json");
    for property in [
        "every message is in exactly one log of its conversationLogId",
        "one log per conversationLogId",
        "an update never drops an earlier message",
        "a message repeated by core is not written twice",
    ] {
        let (passed, failed, _) = rows[property];
        assert!(
            passed > 0 && failed == 0,
            "{property}: {}",
            explain(&output)
        );
    }
    // App Connect's proxy connector reads message.creationTime, which a
    // shared-SMS thread does not have: it throws, and so does the engine.
    let text = stdout(&output);
    assert!(
        text.contains("FAILED: nothing throws\n  createMessageLog rejected: Error: createMessageLog needs message")
            && text.contains("Shared conversation"),
        "{text}"
    );

    // App Connect's sample config rewrites the description with the latest
    // message on every update: earlier messages are dropped.
    let (output, rows) = message_half("fixtures/proxy-configs/app-connect-sample-like.json");
    assert!(
        rows["an update never drops an earlier message"].1 > 0,
        "{}",
        explain(&output)
    );
    assert!(stdout(&output)
        .contains("FAILED: an update never drops an earlier message\n  a write of log "));

    // A config without the operation: no message functions, a line says so.
    let output = contract(&[
        "--serve",
        "--faults",
        "none",
        "--cases",
        "1",
        "fixtures/proxy-configs/minimal.json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert!(
        stdout(&output).contains("message logs not played"),
        "{}",
        explain(&output)
    );
}

#[test]
fn a_proxy_config_writes_twice_when_the_answer_to_a_create_is_lost() {
    // App Connect's proxy engine sends no Idempotency-Key and does not
    // retry: after a 503 that followed the commit, logging the call again
    // writes a second activity, even though the config sends no session id
    // (the CRM's records of the case are what is counted).
    fails_exactly(
        "fixtures/proxy-configs/minimal.json",
        "default",
        "one activity per call session",
    );
}

#[test]
fn proxy_config_flag_names_the_connector_or_what_the_server_serves() {
    let output = contract(&[
        "--serve",
        "--only",
        "calls",
        "--faults",
        "none",
        "--cases",
        "2",
        "--proxy-config",
        "fixtures/proxy-configs/redtail-like.json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert!(stdout(&output).starts_with(
        "mockcrm contract: fixtures/proxy-configs/redtail-like.json (an App Connect proxy config"
    ));

    // Beside a JavaScript connector, the config is what --serve serves too.
    let output = contract(&[
        "--serve",
        "--faults",
        "none",
        "--cases",
        "2",
        "--proxy-config",
        "fixtures/proxy-configs/redtail-like.json",
        "fixtures/connectors/good.js",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", explain(&output));
    assert!(stdout(&output).starts_with("mockcrm contract: fixtures/connectors/good.js (commonjs"));

    assert_start_up_error(
        &contract(&[
            "--serve",
            "--proxy-config",
            "fixtures/proxy-configs/redtail-like.json",
            "fixtures/proxy-configs/minimal.json",
        ]),
        "--proxy-config: names fixtures/proxy-configs/redtail-like.json while the connector is the config",
    );
}
