//! App Connect's own shared-SMS output, byte for byte, in the `core` style:
//!
//! - `fixtures/compose/shared-sms-examples.json`: 48 cases of App Connect
//!   core 1.7.42's `composeSharedSMSLog` (16 conversations in each of the
//!   three formats), each with the zone core's host ran in;
//! - `fixtures/messages/message-records.json`: the `sharedSMSLogContent`
//!   core's `createMessageLog` handler passed the connector for each
//!   shared-SMS request, composed from the request as the handler does.

use serde::Deserialize;
use serde_json::Value;

use super::input::SharedSmsRequest;
use super::outcome::SharedSmsLog;
use super::{compose_shared_sms, SharedSmsOptions, SharedSmsStyle};
use crate::compose::host_zone::HostZone;
use crate::interface::LogFormat;

const EXAMPLES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/compose/shared-sms-examples.json"
));
const RECORDS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/messages/message-records.json"
));

#[derive(Deserialize)]
struct Examples {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    format: LogFormat,
    input: Value,
    expected: SharedSmsLog,
}

fn core_on(host: &str) -> SharedSmsOptions {
    SharedSmsOptions::default()
        .with_style(SharedSmsStyle::Core)
        .with_host_zone(HostZone::named(host).expect("the examples name real zones"))
}

#[test]
fn every_example_matches_app_connect_byte_for_byte_in_the_core_style() {
    let examples: Examples = serde_json::from_str(EXAMPLES).expect("the examples parse");
    assert_eq!(examples.cases.len(), 48, "all 48 examples are there");
    let mut matched = std::collections::HashMap::<LogFormat, usize>::new();
    let mut failures = Vec::new();
    for case in &examples.cases {
        let host = case.input["hostTz"]
            .as_str()
            .expect("each case names its host zone");
        let request: SharedSmsRequest = serde_json::from_value(case.input.clone())
            .unwrap_or_else(|e| panic!("{}: {e}", case.id));
        assert_eq!(request.log_format, Some(case.format), "{}", case.id);
        match compose_shared_sms(&request, &core_on(host)) {
            Ok(log) if log == case.expected => *matched.entry(case.format).or_default() += 1,
            Ok(log) => failures.push(format!(
                "{}:\n  expected {:?}\n  composed {:?}",
                case.id, case.expected, log
            )),
            Err(error) => failures.push(format!("{}: {error}", case.id)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for format in LogFormat::ALL {
        assert_eq!(matched.get(&format), Some(&16), "{format}: 16 of 16 match");
    }
}

#[test]
fn the_shared_sms_requests_compose_what_core_passed_the_connector() {
    let records: Value = serde_json::from_str(RECORDS).expect("the records parse");
    let offset = records["user"]["timezoneOffset"].clone();
    let mut checked = 0;
    for request in records["requests"].as_array().expect("a list of requests") {
        let log_info = &request["request"]["logInfo"];
        if log_info["owner"]["name"].as_str().is_none() {
            continue;
        }
        let name = request["name"].as_str().unwrap_or_default();
        // What handlers/log.ts passes: the connector's format (text/plain
        // for this recording), logInfo, the contact's name, the user's offset.
        let input = serde_json::json!({
            "logFormat": "text/plain",
            "conversation": log_info,
            "contactName": request["request"]["contactName"],
            "timezoneOffset": offset,
        });
        let request_in: SharedSmsRequest = serde_json::from_value(input).expect("a request");
        let expected: SharedSmsLog = serde_json::from_value(
            request["core"]["calls"][0]["args"]["sharedSMSLogContent"].clone(),
        )
        .expect("core's composed content");
        assert_eq!(
            compose_shared_sms(&request_in, &core_on("UTC")),
            Ok(expected),
            "{name}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3, "the three shared-SMS requests were checked");
}
