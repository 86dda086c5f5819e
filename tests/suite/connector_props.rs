//! Properties of the reference createCallLog against a live in-process mock
//! CRM: every valid input gets a logId for exactly one stored activity whose
//! body is the composed body; malformed requests get 4xx JSON errors and the
//! server keeps serving.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::support::{TestCrm, DEV_KEY};
use mockcrm::interface::{ComposeRequest, CreateCallLogInput, LogFormat, MessageType};
use mockcrm::ComposeOptions;
use mockcrm::{create_call_log, CrmClient, LogOptions};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Session ids are made unique per case so "exactly one activity for the
/// session" is about this case alone.
static CASE: AtomicU64 = AtomicU64::new(0);

// Boxed, here and below: unboxed, the nested strategy types make frames so
// large that generating one input overflows a test thread's stack in an
// unoptimised build.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "\\PC{0,40}",
        "[a-zA-Z0-9 ,.'&-]{1,30}",
        Just("- Duration: 5\n**Result**: <b>Summary</b> --- END $1 $&".to_owned()),
        Just("李小龙 Zoë ✅ \u{1F4DE}\nsecond line".to_owned()),
    ]
    .boxed()
}

fn start_time() -> BoxedStrategy<Value> {
    // 2000-01-01 .. 2035-01-01, as ISO 8601 or as epoch milliseconds.
    (946_684_800_000i64..2_051_222_400_000i64, any::<bool>())
        .prop_map(|(millis, iso)| {
            if iso {
                let time = chrono::DateTime::from_timestamp_millis(millis).expect("in range");
                json!(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            } else {
                json!(millis)
            }
        })
        .boxed()
}

fn duration() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!(0)),
        (0u64..10_000_000).prop_map(|s| json!(s)),
        Just(json!("pending")),
    ]
    .boxed()
}

fn party() -> BoxedStrategy<Value> {
    (
        proptest::option::of("\\+1415555[0-9]{4}"),
        proptest::option::of("[0-9]{3}"),
        proptest::option::of(text()),
    )
        .prop_map(|(phone, ext, name)| {
            let mut party = serde_json::Map::new();
            if let Some(phone) = phone {
                party.insert("phoneNumber".into(), json!(phone));
            }
            if let Some(ext) = ext {
                party.insert("extensionNumber".into(), json!(ext));
            }
            if let Some(name) = name {
                party.insert("name".into(), json!(name));
            }
            Value::Object(party)
        })
        .boxed()
}

fn settings() -> BoxedStrategy<Value> {
    let keys = [
        "addCallLogNote",
        "addCallSessionId",
        "addCallLogSubject",
        "addCallLogDateTime",
        "addCallLogDuration",
        "addCallLogResult",
        "addCallLogRecording",
        "addCallLogAiNote",
        "addCallLogTranscript",
        "addCallLogLegs",
    ];
    let formats = prop_oneof![
        Just("YYYY-MM-DD HH:mm:ss"),
        Just("YYYY-MM-DD hh:mm:ss A"),
        Just("MM/DD/YYYY hh:mm:ss A"),
        Just("MM/DD/YYYY HH:mm:ss"),
        Just("DD/MM/YYYY HH:mm:ss"),
        Just("DD/MM/YYYY hh:mm:ss A"),
    ];
    (
        proptest::collection::vec(proptest::option::of(any::<bool>()), keys.len()),
        formats,
    )
        .prop_map(move |(values, date_format)| {
            let mut settings = serde_json::Map::new();
            for (key, value) in keys.iter().zip(values) {
                if let Some(value) = value {
                    settings.insert((*key).into(), json!({ "value": value }));
                }
            }
            settings.insert("logDateFormat".into(), json!({ "value": date_format }));
            Value::Object(settings)
        })
        .boxed()
}

fn offset() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!("+05:30")),
        Just(json!("-05:00")),
        Just(json!("-4")),
        Just(json!(330)),
        Just(json!(0)),
        Just(json!("")),
        Just(Value::Null),
    ]
    .boxed()
}

prop_compose! {
    fn valid_input()(
        direction in prop_oneof![Just("Inbound"), Just("Outbound")].boxed(),
        result in prop_oneof![
            Just("Accepted"), Just("Call connected"), Just("Missed"), Just("Voicemail"),
            Just("Rejected"), Just("Busy"), Just("No Answer"), Just("Hang Up"),
        ].boxed(),
        start in start_time().boxed(),
        duration in duration().boxed(),
        from in party().boxed(),
        to in party().boxed(),
        custom_subject in proptest::option::of(text()).boxed(),
        contact_id in proptest::option::of(prop_oneof![
            Just("contact-1"), Just("contact-2"), Just("contact-3"), Just("contact-4"),
        ]).boxed(),
        contact_name in proptest::option::of(text()).boxed(),
        note in proptest::option::of(text()).boxed(),
        ai_note in proptest::option::of(text()).boxed(),
        transcript in proptest::option::of(text()).boxed(),
        recording_link in proptest::option::of(prop_oneof![
            Just("(pending...)".to_owned()),
            "https://media\\.example\\.com/rec/[0-9]{1,6}",
        ]).boxed(),
        legs in proptest::collection::vec((party(), party(), 0u64..5000), 0..4).boxed(),
        precomposed in proptest::option::of(prop_oneof![Just(String::new()), text()]).boxed(),
        user_settings in settings().boxed(),
        timezone_offset in offset().boxed(),
    ) -> Value {
        let mut call = json!({
            "id": "generated",
            "direction": direction,
            "result": result,
            "startTime": start,
            "duration": duration,
            "from": from,
            "to": to,
            "legs": legs.into_iter().map(|(from, to, d)| json!({
                "direction": direction, "from": from, "to": to, "duration": d,
            })).collect::<Vec<_>>(),
            "billing": {"costIncluded": 0.0},
        });
        if let Some(subject) = custom_subject {
            call["customSubject"] = json!(subject);
        }
        if let Some(link) = recording_link {
            call["recording"] = json!({"id": "1", "link": link});
        }
        let mut contact = json!({"phoneNumber": "+14155550199", "type": "Contact"});
        if let Some(id) = contact_id {
            contact["id"] = json!(id);
        }
        if let Some(name) = contact_name {
            contact["name"] = json!(name);
        }
        let mut input = json!({
            "user": {"id": "crm-user-1", "timezoneOffset": timezone_offset, "userSettings": user_settings},
            "contactInfo": contact,
            "callLog": call,
        });
        for (key, value) in [("note", note), ("aiNote", ai_note), ("transcript", transcript), ("composedLogDetails", precomposed)] {
            if let Some(value) = value {
                input[key] = json!(value);
            }
        }
        input
    }
}

fn basic_dev_header() -> String {
    mockcrm::basic_header_for_key(DEV_KEY)
}

#[test]
fn every_valid_input_gets_a_log_id_for_exactly_one_activity() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    let client = CrmClient::new(&crm.server.url()).expect("client");
    let config = ProptestConfig::with_cases(300);
    proptest!(config, |(mut raw in valid_input(), format_index in 0usize..3)| {
        let session = format!("prop-{}", CASE.fetch_add(1, Ordering::Relaxed));
        raw["callLog"]["sessionId"] = json!(session);
        raw["authHeader"] = json!(basic_dev_header());
        let input: CreateCallLogInput = serde_json::from_value(raw.clone())
            .map_err(|e| TestCaseError::fail(format!("generated input does not parse: {e}")))?;
        let format = LogFormat::ALL[format_index];
        let output = rt.block_on(create_call_log(&client, &input, LogOptions {
                format,
                ..LogOptions::default()
            }));
        let log_id = output.log_id.clone().unwrap_or_default();
        prop_assert!(!log_id.is_empty(), "no logId: {:?}", output.return_message);
        prop_assert_eq!(
            output.return_message.as_ref().map(|m| m.message_type),
            Some(MessageType::Success)
        );

        let (status, stored) = rt.block_on(crate::support::answer(
            crm.dev(reqwest::Method::GET, &format!("/activity/{log_id}")),
        ));
        prop_assert_eq!(status, 200);
        let expected_body = match input.composed_log_details.as_deref() {
            Some(body) if !body.is_empty() => body.to_owned(),
            _ => mockcrm::compose(&ComposeRequest::from(&input), &ComposeOptions::new(format))
                .map_err(|e| TestCaseError::fail(format!("valid input failed to compose: {e}")))?,
        };
        prop_assert_eq!(stored["body"].as_str(), Some(expected_body.as_str()));
        prop_assert_eq!(stored["body_format"].as_str(), Some(format.mime()));
        prop_assert_eq!(stored["session_id"].as_str(), Some(session.as_str()));
        prop_assert_eq!(stored["type"].as_str(), Some("PhoneCommunication"));

        let (_, listed) = rt.block_on(crate::support::answer(
            crm.dev(reqwest::Method::GET, &format!("/activity?session_id={session}")),
        ));
        let ids: Vec<&str> = listed["items"].as_array().map(|items| {
            items.iter().filter_map(|a| a["id"].as_str()).collect()
        }).unwrap_or_default();
        prop_assert_eq!(ids, vec![log_id.as_str()]);
    });
    rt.block_on(crm.shutdown());
}

fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("subject".to_owned()),
                    Just("type".to_owned()),
                    Just("duration".to_owned()),
                    Just("received_at".to_owned()),
                    Just("contact_id".to_owned()),
                    Just("name".to_owned()),
                    Just("phone_number".to_owned()),
                    "[a-z_]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

fn hostile_body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\PC{0,100}".prop_map(String::into_bytes),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        // A valid body cut short.
        (json_value(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let text = v.to_string().into_bytes();
            let at = cut.index(text.len().max(1));
            text[..at.min(text.len())].to_vec()
        }),
    ]
    .boxed()
}

#[test]
fn malformed_bodies_get_4xx_json_errors_and_the_server_keeps_serving() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    let config = ProptestConfig::with_cases(300);
    proptest!(config, |(
        body in hostile_body(),
        route in prop_oneof![
            Just((reqwest::Method::POST, "/activity")),
            Just((reqwest::Method::POST, "/contact")),
            Just((reqwest::Method::PATCH, "/activity/act_missing")),
        ],
        content_type in prop_oneof![Just("application/json"), Just("text/plain"), Just("")],
    )| {
        let (method, path) = route;
        let mut request = crm.dev(method, path).body(body.clone());
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let (status, answer) = rt.block_on(crate::support::answer(request));
        if status == 201 {
            // The generator can, rarely, produce a valid create.
            prop_assert!(answer["id"].is_string());
        } else {
            prop_assert!((400..500).contains(&status), "status {} for {:?}", status, String::from_utf8_lossy(&body));
            let code = answer["error"]["code"].as_str().unwrap_or_default();
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            prop_assert!(!code.is_empty() && !message.is_empty(), "error shape: {}", answer);
        }
        let (health, _) = rt.block_on(crate::support::answer(crm.anonymous(reqwest::Method::GET, "/health")));
        prop_assert_eq!(health, 200);
    });
    rt.block_on(crm.shutdown());
}

#[test]
fn an_unreachable_crm_is_a_warning_not_a_panic() {
    let rt = crate::support::runtime();
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let client = CrmClient::new(&format!("http://127.0.0.1:{port}"))
        .expect("client")
        .with_retry_policy(mockcrm::RetryPolicy::none());
    let input: CreateCallLogInput = serde_json::from_str(&crate::support::read_fixture(
        "create-call-log/inbound-answered.json",
    ))
    .expect("fixture parses");
    let output = rt.block_on(create_call_log(&client, &input, LogOptions::default()));
    assert_eq!(output.log_id, None);
    let message = output.return_message.expect("a message");
    assert_eq!(message.message_type, MessageType::Warning);
    assert!(
        message.message.contains("Could not reach the CRM"),
        "{}",
        message.message
    );
}

#[test]
fn a_rejected_key_asks_the_user_to_reconnect() {
    let rt = crate::support::runtime();
    let crm = rt.block_on(TestCrm::start());
    let client = CrmClient::new(&crm.server.url()).expect("client");
    let mut input: CreateCallLogInput = serde_json::from_str(&crate::support::read_fixture(
        "create-call-log/inbound-answered.json",
    ))
    .expect("fixture parses");
    input.auth_header = Some("Bearer not-a-key".into());
    let output = rt.block_on(create_call_log(&client, &input, LogOptions::default()));
    assert_eq!(output.log_id, None);
    let message = output.return_message.expect("a message");
    assert_eq!(message.message_type, MessageType::Warning);
    assert!(message.message.contains("reconnect"), "{}", message.message);
    rt.block_on(crm.shutdown());
}
