//! App Connect's own output, byte for byte: every request in
//! `fixtures/compose/app-connect-examples.json` (copied from the project
//! brief, produced by App Connect core 1.7.42) must compose to the body App
//! Connect wrote for it.

use mockcrm::interface::{ComposeRequest, LogFormat};
use mockcrm::{ComposeOptions, UpdateStyle};
use serde::Deserialize;

#[derive(Deserialize)]
struct Examples {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    format: LogFormat,
    request: ComposeRequest,
    expected: String,
}

fn examples() -> Vec<Case> {
    let text = crate::support::read_fixture("compose/app-connect-examples.json");
    let examples: Examples = serde_json::from_str(&text).expect("the examples parse");
    assert!(examples.cases.len() >= 20, "the examples are all there");
    examples.cases
}

#[test]
fn every_app_connect_example_composes_byte_for_byte() {
    let mut failures = Vec::new();
    for case in examples() {
        match mockcrm::compose(&case.request, &ComposeOptions::new(case.format)) {
            Ok(body) if body == case.expected => {}
            Ok(body) => failures.push(format!(
                "{}:\n  expected {:?}\n  composed {:?}",
                case.name, case.expected, body
            )),
            Err(error) => failures.push(format!("{}: {error}", case.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// In the `clean` style; `core` rewrites some bodies again (README lists how).
#[test]
fn recomposing_an_example_changes_nothing_in_the_clean_style() {
    for case in examples() {
        let mut again = case.request.clone();
        again.existing_body = Some(case.expected.clone());
        let options = ComposeOptions::new(case.format).with_update_style(UpdateStyle::Clean);
        let body = mockcrm::compose(&again, &options).expect("composes");
        assert_eq!(body, case.expected, "{}", case.name);
    }
}
