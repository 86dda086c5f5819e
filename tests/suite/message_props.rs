//! Properties of the reference createMessageLog and updateMessageLog
//! against a live server: whatever valid messages core sends, in whatever
//! order and however often, each conversation of a day is one log holding
//! each message once, in the order first sent; and input that cannot be
//! logged is a warning that writes nothing, never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::message_logs::{client, message_crm};
use crate::support::{answer, runtime, TestCrm};
use mockcrm::interface::{MessageLogInput, MessageType};
use mockcrm::{conversation_log_id, create_message_log, update_message_log, LogOptions};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Value};

static CASE: AtomicU64 = AtomicU64::new(0);

/// One message of the pool a case plays from.
#[derive(Debug, Clone)]
struct Spec {
    conversation: u8,
    /// Minutes after 2025-06-03T00:00Z, over two days.
    minute: u32,
    inbound: bool,
    text: String,
    image: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..3,
        0u32..2880,
        any::<bool>(),
        "\\PC{0,40}",
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(conversation, minute, inbound, text, image)| Spec {
            conversation,
            minute,
            inbound,
            text,
            image,
        })
}

fn args(case: u64, id: usize, spec: &Spec) -> Value {
    let time = chrono::DateTime::parse_from_rfc3339("2025-06-03T00:00:00Z")
        .expect("epoch")
        .with_timezone(&chrono::Utc)
        + chrono::Duration::minutes(i64::from(spec.minute));
    let mut args = json!({
        "user": {"id": "crm-user-1", "timezoneOffset": "-05:00"},
        "contactInfo": {"id": "crm-contact-1001", "name": "Jane Contact",
                        "phoneNumber": "+14155550199", "type": "Contact"},
        "authHeader": mockcrm::basic_header_for_key("mockcrm-dev-key"),
        "hashedAccountId": "acct-1",
        "message": {
            "id": format!("{case}{id:03}"),
            "conversationId": format!("c{case}-{}", spec.conversation),
            "type": "SMS",
            "direction": if spec.inbound { "Inbound" } else { "Outbound" },
            "creationTime": time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "subject": spec.text,
        },
    });
    if spec.image {
        args["imageLink"] = json!(format!("https://media.example/{case}/{id}"));
    }
    args
}

async fn logs_of_case(crm: &TestCrm, case: u64) -> Vec<Value> {
    let (_, page) = answer(crm.dev(Method::GET, "/activity?limit=200")).await;
    let prefix = format!("c{case}-");
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|a| {
                    a["conversation_log_id"]
                        .as_str()
                        .is_some_and(|id| id.starts_with(&prefix))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_message_is_in_its_conversations_one_log_once() {
    let rt = runtime();
    let crm = rt.block_on(message_crm());
    let client = client(&crm, 3);
    proptest!(ProptestConfig::with_cases(24), |(
        pool in proptest::collection::vec(spec(), 1..6),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 1..10),
    )| {
        let case = CASE.fetch_add(1, Ordering::Relaxed) + 1;
        // Core's own table: which log a conversation went into. It keeps no
        // record of messages here, so every repeat reaches the connector.
        let mut core: BTreeMap<String, String> = BTreeMap::new();
        let mut first_seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for index in &order {
            let id = index.index(pool.len());
            let mut args = args(case, id, &pool[id]);
            let input: MessageLogInput = serde_json::from_value(args.clone()).expect("input");
            let conversation = conversation_log_id(&input, LogOptions::default()).expect("valid");
            let message_id = args["message"]["id"].as_str().unwrap_or_default().to_owned();
            let seen = first_seen.entry(conversation.clone()).or_default();
            if !seen.contains(&message_id) {
                seen.push(message_id);
            }
            match core.get(&conversation) {
                Some(log) => {
                    args["existingMessageLog"] = json!({"thirdPartyLogId": log,
                                                        "conversationLogId": conversation});
                    let input: MessageLogInput = serde_json::from_value(args).expect("input");
                    let output = rt.block_on(update_message_log(&client, &input, LogOptions::default()));
                    prop_assert_eq!(
                        output.return_message.map(|m| m.message_type),
                        Some(MessageType::Success)
                    );
                }
                None => {
                    let output = rt.block_on(create_message_log(&client, &input, LogOptions::default()));
                    prop_assert!(output.log_id.is_some(), "{:?}", output.return_message);
                    core.insert(conversation, output.log_id.unwrap_or_default());
                }
            }
        }
        let logs = rt.block_on(logs_of_case(&crm, case));
        let conversations: BTreeSet<&str> = logs
            .iter()
            .filter_map(|log| log["conversation_log_id"].as_str())
            .collect();
        prop_assert_eq!(logs.len(), conversations.len(), "one log per conversation and day");
        prop_assert_eq!(logs.len(), first_seen.len());
        for log in &logs {
            let conversation = log["conversation_log_id"].as_str().unwrap_or_default();
            prop_assert_eq!(&log["message_ids"], &json!(first_seen[conversation]));
            let body = log["body"].as_str().unwrap_or_default();
            let count = format!("Conversation({} messages)", first_seen[conversation].len());
            prop_assert!(body.contains(&count), "{} in {}", count, body);
        }
        let (_, checks) = rt.block_on(answer(crm.as_key("mockcrm-admin", Method::GET, "/__admin/checks")));
        prop_assert_eq!(&checks["violations"], &json!([]));
    });
    rt.block_on(crm.shutdown());
}

/// Something core could not have sent, or a connector cannot log: no
/// message, no id, a time or an offset nobody can read, an update with no
/// log to update.
fn broken() -> impl Strategy<Value = (bool, Value)> {
    let good = json!({"id": 7, "conversationId": "c", "type": "SMS", "direction": "Inbound",
                      "creationTime": "2025-06-03T14:00:00Z", "subject": "hi"});
    let time = "\\PC{0,24}".prop_filter("not a time", |text| {
        chrono::DateTime::parse_from_rfc3339(text).is_err()
    });
    let offset = "[a-z]{1,12}";
    prop_oneof![
        Just((false, json!({"contactInfo": {"name": "J"}}))),
        Just((
            false,
            json!({"message": {"conversationId": "c",
                                         "creationTime": "2025-06-03T14:00:00Z"}})
        )),
        time.prop_map(move |time| {
            let mut message = good.clone();
            message["creationTime"] = json!(time);
            (false, json!({ "message": message }))
        }),
        offset.prop_map(|offset| (
            false,
            json!({
                "user": {"timezoneOffset": offset},
                "message": {"id": 8, "creationTime": "2025-06-03T14:00:00Z"},
            })
        )),
        Just((
            true,
            json!({"message": {"id": 9, "creationTime": "2025-06-03T14:00:00Z"}})
        )),
    ]
}

#[test]
fn input_that_cannot_be_logged_is_a_warning_that_writes_nothing() {
    let rt = runtime();
    let crm = rt.block_on(message_crm());
    let client = client(&crm, 1);
    let count = |rt: &tokio::runtime::Runtime| {
        let (_, page) = rt.block_on(answer(crm.dev(Method::GET, "/activity?limit=200")));
        page["items"].as_array().map_or(0, Vec::len)
    };
    let before = count(&rt);
    proptest!(ProptestConfig::with_cases(48), |((update, mut args) in broken())| {
        args["authHeader"] = json!(mockcrm::basic_header_for_key("mockcrm-dev-key"));
        let input: MessageLogInput = serde_json::from_value(args).expect("parses as an input");
        let message = if update {
            rt.block_on(update_message_log(&client, &input, LogOptions::default())).return_message
        } else {
            let output = rt.block_on(create_message_log(&client, &input, LogOptions::default()));
            prop_assert_eq!(output.log_id, None);
            output.return_message
        };
        let message = message.expect("a return message");
        prop_assert_eq!(message.message_type, MessageType::Warning);
        prop_assert!(message.message.starts_with("The message cannot be logged: "), "{}", message.message);
        prop_assert_eq!(count(&rt), before);
    });
    rt.block_on(crm.shutdown());
}
