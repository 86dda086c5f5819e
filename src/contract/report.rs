//! What a contract run tells people and CI: the table of properties with
//! their counts and the seed, each failure with its smallest case, the
//! requests the connector sent for it and the calls it answered, the
//! failing case as a fixture file (a createCallLog input `mockcrm log`
//! runs, which `mockcrm contract --replay` plays again), and JUnit XML.
//!
//! Formatting and parsing only; the run itself is `runner.rs`'s.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::cases::{Case, ContactRef, CreateIn, UpdateIn, UserProfile};
use super::faults::{self, Schedule};
use super::message_cases::MessageCase;
use super::plan::Replay;
use super::properties::Property;
use super::runner::{FailedCase, Failure, Report};
use crate::interface::{CallLog, Direction, Setting, TimezoneOffset};

/// The key a fixture keeps the rest of the case under; `mockcrm log`
/// ignores it.
const CONTRACT_KEY: &str = "mockcrmContract";

/// How the run was set up, as the report's heading says it.
pub struct Setup<'a> {
    pub connector: &'a str,
    pub faults: &'a str,
    pub update_style: &'a str,
    pub server: &'a str,
}

/// The heading, the table and the closing line.
pub fn table(report: &Report, setup: &Setup<'_>) -> String {
    let mut out = String::new();
    let format = if report.format_forced {
        format!("{} (--format)", report.format.describe())
    } else {
        format!("{} (from getLogFormatType)", report.format.describe())
    };
    let runs = if report.ready.node.is_empty() {
        "an App Connect proxy config, run by mockcrm's proxy engine".to_owned()
    } else {
        format!("{}, Node.js {}", report.ready.module, report.ready.node)
    };
    let runs = match &report.ready.core {
        Some(platform) => {
            format!("{runs}, registered as {platform} in @app-connect/core's registry")
        }
        None => runs,
    };
    let _ = writeln!(out, "mockcrm contract: {} ({runs})", setup.connector);
    let _ = writeln!(
        out,
        "format {format}, update style {}, faults {}, CRM {}",
        setup.update_style, setup.faults, setup.server
    );
    out.push('\n');
    let properties = report.properties();
    let width = properties
        .iter()
        .map(|property| property.title().len())
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>6}  {:>11}",
        "property", "passed", "failed", "not checked"
    );
    for property in properties.iter().copied() {
        let tally = report.tallies.get(&property).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>6}  {:>11}",
            property.title(),
            tally.held,
            tally.broken,
            tally.not_checked
        );
    }
    out.push('\n');
    for note in &report.notes {
        let _ = writeln!(out, "{note}");
    }
    let count = |n: u32, what: &str| {
        if n == 1 {
            format!("1 {what}")
        } else {
            format!("{n} {what}s")
        }
    };
    let cases = if report.replayed {
        "1 case replayed from its fixture".to_owned()
    } else {
        let mut halves = Vec::new();
        if report.ran_calls {
            halves.push(count(report.cases, "case"));
        }
        if report.ran_messages {
            halves.push(count(report.message_cases, "message case"));
        }
        format!("{}, seed {}", halves.join(" and "), report.seed)
    };
    let verdict = match report.failures.len() {
        0 => "every property held".to_owned(),
        1 => "1 property failed".to_owned(),
        n => format!("{n} properties failed"),
    };
    let _ = writeln!(out, "{cases}: {verdict}");
    if report.unfired_cases > 0 {
        let _ = writeln!(
            out,
            "note: in {} of the cases the fault aimed at the request that creates the activity never fired: the connector sent no {} during createCallLog, so those cases ran with no fault (paths match case for case: does the connector create the activity with that request?)",
            report.unfired_cases,
            report.unfired.join(" or ")
        );
    }
    out
}

/// One failure in full: what broke, the smallest case, what was sent.
pub fn failure_text(failure: &Failure, saved_to: Option<&str>, replay: Option<&str>) -> String {
    let outcome = &failure.outcome;
    let mut out = String::new();
    let _ = writeln!(out, "FAILED: {}", failure.property.title());
    let _ = writeln!(out, "  {}", failure.reason);
    let shrunk = match failure.shrink_steps {
        0 if failure.property == Property::SettlesInTime => {
            "not shrunk: every try would wait out --call-timeout".to_owned()
        }
        0 => "as first found".to_owned(),
        1 => "after 1 shrinking step".to_owned(),
        n => format!("after {n} shrinking steps"),
    };
    let what = match outcome {
        FailedCase::Call(outcome) => {
            format!("call session {}", outcome.case.session_id().unwrap_or("-"))
        }
        FailedCase::Messages(outcome) => describe_messages(&outcome.case),
    };
    let _ = writeln!(
        out,
        "  smallest failing case ({shrunk}): {what}, {}",
        faults::describe(outcome.faults())
    );
    let _ = writeln!(out, "  connector calls:");
    for call in outcome.calls() {
        let _ = writeln!(out, "    {}: {}", call.function, call.outcome);
    }
    let _ = writeln!(out, "  requests the connector sent:");
    if outcome.requests().is_empty() {
        let _ = writeln!(out, "    (none)");
    }
    for request in outcome.requests() {
        let query = if request.query.is_empty() {
            String::new()
        } else {
            format!("?{}", request.query)
        };
        let fault = request
            .fault_id
            .as_deref()
            .map(|id| format!(" (fault {id})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {} {}{query} -> {}{fault}",
            request.method, request.path, request.status
        );
        if !request.request_body.is_null() {
            let _ = writeln!(
                out,
                "      sent {}",
                clip(&request.request_body.to_string())
            );
        }
    }
    match (saved_to, outcome) {
        (Some(path), FailedCase::Call(_)) => {
            let _ = writeln!(
                out,
                "  fixture (a createCallLog input; `mockcrm log {path}` runs it) saved to {path}"
            );
        }
        (None, FailedCase::Call(_)) => {
            let _ = writeln!(out, "  fixture (a createCallLog input `mockcrm log` runs):");
        }
        (Some(path), FailedCase::Messages(_)) => {
            let _ = writeln!(
                out,
                "  fixture (the message case: its conversation, syncs and faults) saved to {path}"
            );
        }
        (None, FailedCase::Messages(_)) => {
            let _ = writeln!(
                out,
                "  fixture (the message case: its conversation, syncs and faults):"
            );
        }
    }
    if let Some(replay) = replay {
        let _ = writeln!(out, "  play it again against the connector: {replay}");
    }
    out
}

fn clip(text: &str) -> String {
    const MAX: usize = 400;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
        None => text.to_owned(),
    }
}

/// A message case in words: the thread, its messages and syncs.
fn describe_messages(case: &MessageCase) -> String {
    let syncs: Vec<String> = case
        .syncs
        .iter()
        .map(|sync| {
            let numbers: Vec<String> = sync.iter().map(|index| (index + 1).to_string()).collect();
            format!("[{}]", numbers.join(","))
        })
        .collect();
    format!(
        "{:?} conversation {} with {}, {} message{} over {} day{}, syncs {}",
        case.thread,
        case.conversation_id,
        case.contacts
            .iter()
            .map(|contact| contact.name.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
        case.messages.len(),
        if case.messages.len() == 1 { "" } else { "s" },
        case.days().len(),
        if case.days().len() == 1 { "" } else { "s" },
        syncs.join(" ")
    )
}

/// The failing case as a fixture: for a call case the createCallLog input
/// the connector got, and under `mockcrmContract` the rest of the case;
/// for a message case, the case itself under `mockcrmContract.messages`.
pub fn fixture(failure: &Failure, style: &str, replay: &str) -> Value {
    let outcome = match &failure.outcome {
        FailedCase::Call(outcome) => outcome,
        FailedCase::Messages(outcome) => {
            return json!({
                CONTRACT_KEY: {
                    "property": failure.property.title(),
                    "failure": failure.reason,
                    "messages": outcome.case,
                    "calls": outcome.calls.iter().map(|call| format!("{}: {}", call.function, call.outcome)).collect::<Vec<_>>(),
                    "replay": replay,
                }
            });
        }
    };
    let mut top = match &outcome.create_args {
        Some(Value::Object(args)) => args.clone(),
        _ => Map::new(),
    };
    let format = outcome
        .format
        .as_ref()
        .and_then(|format| format.log_format())
        .map_or(Value::Null, |format| Value::from(format.mime()));
    top.insert(
        CONTRACT_KEY.into(),
        json!({
            "property": failure.property.title(),
            "failure": failure.reason,
            "format": format,
            "updateStyle": style,
            "faults": outcome.case.faults,
            "update": outcome.case.update,
            "calls": outcome.calls.iter().map(|call| format!("{}: {}", call.function, call.outcome)).collect::<Vec<_>>(),
            "replay": replay,
        }),
    );
    Value::Object(top)
}

/// A fixture read back into the case it came from.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FixtureIn {
    #[serde(default)]
    user: Option<UserIn>,
    contact_info: ContactIn,
    call_log: CallLog,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    ai_note: Option<String>,
    #[serde(default)]
    transcript: Option<String>,
    #[serde(default)]
    ring_sense_transcript: Option<String>,
    #[serde(default)]
    ring_sense_summary: Option<String>,
    #[serde(rename = "ringSenseAIScore", default)]
    ring_sense_ai_score: Option<Value>,
    #[serde(default)]
    ring_sense_bulleted_summary: Option<String>,
    #[serde(default)]
    ring_sense_link: Option<String>,
    #[serde(rename = "isFromSSCL", default)]
    is_from_sscl: Option<bool>,
    #[serde(rename = "mockcrmContract", default)]
    contract: Option<ContractIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIn {
    #[serde(default)]
    timezone_offset: Option<TimezoneOffset>,
    #[serde(default)]
    user_settings: std::collections::BTreeMap<String, Setting>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContactIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
    #[serde(rename = "type", default)]
    contact_type: Option<String>,
}

#[derive(Deserialize)]
struct ContractIn {
    #[serde(default)]
    faults: Schedule,
    #[serde(default)]
    update: UpdateIn,
}

/// A message case's fixture: the case under `mockcrmContract.messages`.
#[derive(Deserialize)]
struct MessageFixtureIn {
    #[serde(rename = "mockcrmContract")]
    contract: MessageContractIn,
}

#[derive(Deserialize)]
struct MessageContractIn {
    messages: MessageCase,
}

/// The case a fixture file holds: a message case's fixture, or a call
/// case's (any createCallLog input).
pub fn case_from_fixture(text: &str) -> Result<Replay, String> {
    let is_messages = serde_json::from_str::<Value>(text)
        .ok()
        .is_some_and(|value| value.pointer("/mockcrmContract/messages").is_some());
    if !is_messages {
        return call_case_from_fixture(text).map(|case| Replay::Call(Box::new(case)));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fixture: MessageFixtureIn = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| format!("{}: {}", error.path(), error.inner()))?;
    let case = fixture.contract.messages;
    if case.contacts.is_empty() || case.messages.is_empty() {
        return Err(format!(
            "{CONTRACT_KEY}.messages: a message case needs a contact and a message"
        ));
    }
    if let Some(index) = case
        .syncs
        .iter()
        .flatten()
        .find(|index| **index >= case.messages.len())
    {
        return Err(format!(
            "{CONTRACT_KEY}.messages.syncs: message {index} is not among the case's {} messages",
            case.messages.len()
        ));
    }
    for (index, fault) in case.faults.iter().enumerate() {
        fault
            .validate()
            .map_err(|message| format!("{CONTRACT_KEY}.messages.faults[{index}]{message}"))?;
    }
    Ok(Replay::Messages(case))
}

/// A call case's fixture. A plain createCallLog input (no
/// `mockcrmContract`) is a case without an update's new values or faults.
fn call_case_from_fixture(text: &str) -> Result<Case, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fixture: FixtureIn =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let at = error.path().to_string();
            if at == "." {
                error.inner().to_string()
            } else {
                format!("{at}: {}", error.inner())
            }
        })?;
    let call = &fixture.call_log;
    let contact_side = match call.direction {
        Some(Direction::Inbound) => call.from.as_ref(),
        _ => call.to.as_ref(),
    };
    let phone_number = fixture
        .contact_info
        .phone_number
        .clone()
        .or_else(|| contact_side.and_then(|party| party.phone_number.clone()))
        .ok_or("contactInfo.phoneNumber: missing; the contact's number finds it in the CRM")?;
    let contact = ContactRef {
        name: fixture
            .contact_info
            .name
            .clone()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| phone_number.clone()),
        phone_number,
        contact_type: fixture
            .contact_info
            .contact_type
            .clone()
            .filter(|kind| !kind.is_empty())
            .unwrap_or_else(|| "Contact".into()),
    };
    let score = fixture.ring_sense_ai_score.filter(|score| !score.is_null());
    let user = fixture
        .user
        .map_or_else(UserProfile::default, |user| UserProfile {
            timezone_offset: user.timezone_offset,
            user_settings: user.user_settings,
        });
    let (faults, update) = fixture.contract.map_or_else(
        || (Vec::new(), UpdateIn::default()),
        |c| (c.faults, c.update),
    );
    for (index, fault) in faults.iter().enumerate() {
        fault
            .validate()
            .map_err(|message| format!("{CONTRACT_KEY}.faults[{index}]{message}"))?;
    }
    Ok(Case {
        user,
        contact,
        create: CreateIn {
            call_log: fixture.call_log,
            note: fixture.note,
            ai_note: fixture.ai_note,
            transcript: fixture.transcript,
            ring_sense_transcript: fixture.ring_sense_transcript,
            ring_sense_summary: fixture.ring_sense_summary,
            ring_sense_ai_score: score,
            ring_sense_bulleted_summary: fixture.ring_sense_bulleted_summary,
            ring_sense_link: fixture.ring_sense_link,
            is_from_sscl: fixture.is_from_sscl.unwrap_or(false),
        },
        update,
        faults,
    })
}

/// JUnit XML: one test case per property, a failure's text the smallest
/// case and what the connector sent for it.
pub fn junit(report: &Report, setup: &Setup<'_>, texts: &[(Property, String)]) -> String {
    let failures = report.failures.len();
    let properties = report.properties();
    let skipped = properties
        .iter()
        .filter(|property| {
            let tally = report.tallies.get(property).copied().unwrap_or_default();
            tally.held == 0 && tally.broken == 0
        })
        .count();
    let suite = format!("mockcrm contract {}", setup.connector);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"mockcrm contract\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        properties.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" errors=\"0\">",
        xml(&suite),
        properties.len()
    );
    let _ = writeln!(out, "    <properties>");
    for (name, value) in [
        ("seed", report.seed.to_string()),
        ("cases", report.cases.to_string()),
        ("format", report.format.describe()),
        ("faults", setup.faults.to_owned()),
        ("update-style", setup.update_style.to_owned()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            xml(&value)
        );
    }
    let _ = writeln!(out, "    </properties>");
    for property in properties.iter().copied() {
        let tally = report.tallies.get(&property).copied().unwrap_or_default();
        let _ = write!(
            out,
            "    <testcase classname=\"mockcrm.contract\" name=\"{}\"",
            xml(property.title())
        );
        let failure = report.failures.iter().find(|f| f.property == property);
        match failure {
            Some(failure) => {
                let text = texts
                    .iter()
                    .find(|(p, _)| *p == property)
                    .map_or(String::new(), |(_, text)| text.clone());
                let _ = writeln!(out, ">");
                let _ = writeln!(
                    out,
                    "      <failure type=\"property\" message=\"{}\">{}</failure>",
                    xml(&format!(
                        "{} of {} cases failed: {}",
                        tally.broken,
                        tally.held + tally.broken + tally.not_checked,
                        failure.reason
                    )),
                    xml(&text)
                );
                let _ = writeln!(out, "    </testcase>");
            }
            None if tally.held == 0 && tally.broken == 0 => {
                let _ = writeln!(out, ">");
                let _ = writeln!(
                    out,
                    "      <skipped message=\"no case reached a point where it applies\"/>"
                );
                let _ = writeln!(out, "    </testcase>");
            }
            None => {
                let _ = writeln!(out, "/>");
            }
        }
    }
    let _ = writeln!(out, "  </testsuite>");
    let _ = writeln!(out, "</testsuites>");
    out
}

/// Text and attribute escaping; characters XML 1.0 cannot hold at all
/// (most control characters) become U+FFFD.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_hold() {
        assert_eq!(xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(xml("bell\u{7}"), "bell\u{FFFD}");
        assert_eq!(xml("line\nnext"), "line\nnext");
    }

    #[test]
    fn a_plain_create_call_log_input_is_a_case() {
        let text = r#"{
            "contactInfo": {"id": "contact-1", "name": "Jane Contact"},
            "callLog": {"sessionId": "4503991004", "direction": "Inbound",
                        "from": {"phoneNumber": "+14155550199"},
                        "startTime": "2024-01-15T15:30:00.000Z", "duration": 125},
            "note": "hello"
        }"#;
        let case = call_case_from_fixture(text).expect("a case");
        assert_eq!(case.contact.phone_number, "+14155550199");
        assert_eq!(case.session_id(), Some("4503991004"));
        assert_eq!(case.create.note.as_deref(), Some("hello"));
        assert!(case.faults.is_empty());
    }

    #[test]
    fn a_bad_fixture_names_the_field() {
        let error = call_case_from_fixture(r#"{"contactInfo": {}, "callLog": {"duration": -1}}"#)
            .expect_err("negative duration");
        assert!(error.starts_with("callLog.duration"), "{error}");
        let error = call_case_from_fixture(
            r#"{"contactInfo": {"phoneNumber": "+1"}, "callLog": {}, "mockcrmContract": {"faults": [{"on": "createCallLog", "status": 200}]}}"#,
        )
        .expect_err("bad fault");
        assert!(error.contains("faults[0].status"), "{error}");
    }
}
