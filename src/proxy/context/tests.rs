//! The operations' variables against what index.ts builds.

use super::contacts::parsed_phone_number;
use super::*;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .expect("valid")
        .with_timezone(&Utc)
}

fn args(value: Value) -> Args {
    match value {
        Value::Object(map) => map,
        _ => panic!("test arguments are an object"),
    }
}

#[test]
fn create_call_log_builds_what_index_ts_builds() {
    let call = create_call_log(
        &args(json!({
            "user": {"id": "u1-mockcrm"},
            "authHeader": "Basic abc",
            "contactInfo": {"id": 42, "name": "Jane", "phoneNumber": "+1415"},
            "callLog": {"direction": "Inbound", "startTime": 1705332600000u64, "duration": 125, "sessionId": "s1"},
            "note": null,
            "ringSenseSummary": null,
            "composedLogDetails": "body",
        })),
        now(),
    )
    .expect("valid arguments");
    let inputs = &call.inputs;
    assert_eq!(inputs["subject"], json!("Inbound Call from Jane"));
    assert_eq!(inputs["startTime"], json!("2024-01-15T15:30:00.000Z"));
    assert_eq!(inputs["endTime"], json!("2024-01-15T15:32:05.000Z"));
    assert_eq!(
        inputs["contactInfo"]["id"],
        json!(42),
        "numbers stay numbers"
    );
    assert_eq!(inputs["note"], Value::Null, "null passes as null");
    assert_eq!(
        inputs["ringSenseSummary"],
        Value::Null,
        "a default parameter keeps null"
    );
    assert_eq!(inputs["ringSenseLink"], json!(""), "and fills undefined");
    assert!(!inputs.contains_key("aiNote"), "undefined stays undefined");
    assert_eq!(call.auth_header.as_deref(), Some("Basic abc"));
    assert_eq!(call.user, Some(json!({"id": "u1-mockcrm"})));
}

#[test]
fn subjects_follow_javascript_exactly() {
    let subject = |call_log: Value, contact: Value| {
        create_call_log(
            &args(json!({"callLog": call_log, "contactInfo": contact})),
            now(),
        )
        .map(|c| c.inputs["subject"].clone())
    };
    assert_eq!(
        subject(json!({"direction": "Outbound"}), json!({"name": "Jo"})),
        Ok(json!("Outbound Call to Jo"))
    );
    // `??` keeps an empty custom subject.
    assert_eq!(
        subject(json!({"customSubject": ""}), json!({})),
        Ok(json!(""))
    );
    // Template literals print undefined as "undefined".
    assert_eq!(
        subject(json!({}), json!({})),
        Ok(json!("undefined Call from undefined"))
    );
    assert_eq!(
        subject(json!({}), Value::Null),
        Err(ContextError::Missing {
            operation: Operation::CreateCallLog,
            field: "contactInfo"
        })
    );
}

#[test]
fn times_are_moment_iso_strings_or_null() {
    let times = |call_log: Value| {
        let call = create_call_log(
            &args(json!({"callLog": call_log, "contactInfo": {}})),
            now(),
        )
        .expect("valid");
        (
            call.inputs["startTime"].clone(),
            call.inputs["endTime"].clone(),
        )
    };
    assert_eq!(
        times(json!({"startTime": "2024-01-15T10:30:00-05:00", "duration": "pending"})),
        (
            json!("2024-01-15T15:30:00.000Z"),
            json!("2024-01-15T15:30:00.000Z")
        )
    );
    assert_eq!(
        times(json!({"startTime": "soon"})),
        (Value::Null, Value::Null)
    );
    assert_eq!(
        times(json!({})),
        (
            json!("2030-01-01T00:00:00.000Z"),
            json!("2030-01-01T00:00:00.000Z")
        ),
        "moment(undefined) is now"
    );
}

#[test]
fn update_and_get_carry_the_log_id() {
    let call = update_call_log(
        &args(
            json!({"existingCallLog": {"thirdPartyLogId": "act_1"}, "startTime": 0, "duration": 60, "subject": "S"}),
        ),
        now(),
    );
    assert_eq!(call.inputs["thirdPartyLogId"], json!("act_1"));
    assert_eq!(call.inputs["endTime"], json!("1970-01-01T00:01:00.000Z"));
    assert_eq!(call.inputs["subject"], json!("S"));
    let get = get_call_log(&get_call_log_args(
        None,
        "act_1",
        Some(&json!(7)),
        Some("Bearer k"),
    ));
    assert_eq!(
        get.inputs,
        args(json!({"thirdPartyLogId": "act_1", "contactId": 7}))
    );
    assert_eq!(get.auth_header.as_deref(), Some("Bearer k"));
    let none = update_call_log(&args(json!({})), now());
    assert!(!none.inputs.contains_key("thirdPartyLogId"));
}

#[test]
fn the_update_fixture_becomes_update_arguments() {
    let input: Value = serde_json::from_str(include_str!(
        "../../../fixtures/update/outbound-recording-ready.json"
    ))
    .expect("fixture is JSON");
    let update = update_call_log_args(&args(input), "act_9", None);
    assert_eq!(
        update["existingCallLog"],
        json!({"thirdPartyLogId": "act_9", "sessionId": "4503991004", "contactId": "contact-1"})
    );
    assert_eq!(
        update["recordingLink"],
        json!("https://media.example.com/rec/2315419004")
    );
    assert_eq!(update["duration"], json!(754));
    assert_eq!(update["subject"], json!("Outbound Call to Jane Contact"));
    let call = update_call_log(&update, now());
    assert_eq!(call.inputs["endTime"], json!("2024-01-15T15:42:34.000Z"));
    assert_eq!(
        call.auth_header.as_deref(),
        Some("Basic bW9ja2NybS1kZXYta2V5Og==")
    );
}

#[test]
fn message_logs_need_a_message() {
    let err = create_message_log(&args(json!({"contactInfo": {}})), now()).expect_err("no message");
    assert_eq!(
        err.to_string(),
        "createMessageLog needs message: App Connect reads it and fails without it"
    );
    let call = update_message_log(
        &args(json!({"message": {"id": 5, "creationTime": "2024-01-15T15:30:00Z"}, "existingMessageLog": {"thirdPartyLogId": 9}})),
        now(),
    )
    .expect("valid");
    assert_eq!(
        call.inputs["creationTime"],
        json!("2024-01-15T15:30:00.000Z")
    );
    assert_eq!(call.inputs["thirdPartyLogId"], json!(9));
}

#[test]
fn phone_numbers_are_parsed_where_it_is_safe() {
    let call = find_contact(&args(json!({"phoneNumber": " 14155550199"}))).expect("valid");
    assert_eq!(
        call.inputs["phoneNumber"],
        json!(" 14155550199"),
        "kept as given"
    );
    assert_eq!(
        call.inputs["parsedPhoneNumber"],
        json!({"valid": true, "countryCode": 1, "number": {
            "input": "+14155550199", "e164": "+14155550199", "international": "+1 415-555-0199",
            "national": "(415) 555-0199", "rfc3966": "tel:+1-415-555-0199", "significant": "4155550199"}})
    );
    assert_eq!(
        parsed_phone_number("+442071838750"),
        json!({"number": {"input": "+442071838750", "e164": "+442071838750"}})
    );
    assert_eq!(
        parsed_phone_number("ext 101"),
        json!({"number": {"input": "ext 101"}})
    );
    assert!(find_contact(&args(json!({}))).is_err());
    let given = find_contact(&args(
        json!({"phoneNumber": "1", "parsedPhoneNumber": {"x": 1}}),
    ))
    .expect("valid");
    assert_eq!(given.inputs["parsedPhoneNumber"], json!({"x": 1}));
}

#[test]
fn user_info_gets_an_empty_user_and_unauthorize_no_header() {
    let info = get_user_info(&args(
        json!({"apiKey": "k", "authHeader": "Basic x", "platform": "p"}),
    ));
    assert_eq!(info.user, Some(json!({})));
    assert_eq!(info.inputs, args(json!({"apiKey": "k", "platform": "p"})));
    let out = un_authorize(&args(json!({"user": {"id": "1"}, "authHeader": "Basic x"})));
    assert_eq!(out.auth_header, None);
    assert!(out.inputs.is_empty());
}
