//! Log bodies as reviewers see them: one snapshot per fixture and format for
//! create, and one for the create → update lifecycle (recording arrives,
//! duration final, note edited, AI note added). Snapshots are the body text
//! itself; review changes with `cargo insta review`.

mod common;

use common::TestCrm;
use mockcrm::compose;
use mockcrm::connector::{create_call_log, get_call_log, update_call_log, CrmClient, LogOptions};
use mockcrm::interface::{
    CallDuration, ComposeRequest, CreateCallLogInput, LogFormat, MessageType, Recording,
};

fn slug(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Plain => "plain",
        LogFormat::Html => "html",
        LogFormat::Markdown => "markdown",
    }
}

fn fixtures() -> Vec<(String, CreateCallLogInput)> {
    common::call_log_fixtures()
        .into_iter()
        // A precomposed body is written verbatim; composing it shows nothing.
        .filter(|(name, _)| name != "precomposed-html")
        .map(|(name, text)| {
            let input = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
            (name, input)
        })
        .collect()
}

#[test]
fn composed_body_for_every_fixture_and_format() {
    let settings = common::snapshot_settings();
    for (name, input) in fixtures() {
        for format in LogFormat::ALL {
            let body = compose::compose(&ComposeRequest::from(&input), format)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            settings.bind(|| {
                insta::assert_snapshot!(format!("create__{name}__{}", slug(format)), body);
            });
        }
    }
}

/// What arrives after the call: the final duration, the recording, an
/// edited note and an AI note.
fn after_the_call(mut input: CreateCallLogInput) -> CreateCallLogInput {
    input.call_log.duration = Some(CallDuration::Seconds(754));
    let recording = input
        .call_log
        .recording
        .get_or_insert_with(Recording::default);
    recording.link = Some("https://media.example.com/rec/final".into());
    input.note = Some("Edited after the call: follow up on Monday.".into());
    input.ai_note = Some("Customer agreed to a follow-up demo.".into());
    input.composed_log_details = None;
    input
}

#[tokio::test]
async fn create_then_update_lifecycle_for_every_fixture_and_format() {
    let crm = TestCrm::start().await;
    let client = CrmClient::new(&crm.server.url()).expect("client");
    let settings = common::snapshot_settings();
    for (name, input) in fixtures() {
        for format in LogFormat::ALL {
            let mut input = input.clone();
            // Each run is its own call session.
            let session = format!(
                "{}-{}",
                input.call_log.session_id.clone().unwrap_or_default(),
                slug(format)
            );
            input.call_log.session_id = Some(session);
            let created = create_call_log(&client, &input, LogOptions { format }).await;
            let log_id = created
                .log_id
                .unwrap_or_else(|| panic!("{name}: {:?}", created.return_message));

            let updated_input = after_the_call(input);
            let updated = update_call_log(&client, &log_id, &updated_input).await;
            assert_eq!(
                updated.return_message.as_ref().map(|m| m.message_type),
                Some(MessageType::Success),
                "{name} {format}: {:?}",
                updated.return_message
            );
            assert_eq!(updated.updated_note, updated_input.note);

            let read = get_call_log(
                &client,
                &log_id,
                updated_input.auth_header.as_deref(),
                updated_input.user.as_ref(),
            )
            .await;
            let info = read
                .call_log_info
                .unwrap_or_else(|| panic!("{name}: {:?}", read.return_message));
            assert_eq!(
                Some(info.note.clone()),
                updated_input.note,
                "{name} {format}: note parses back"
            );
            assert_eq!(info.full_log_response["duration"], 754);
            settings.bind(|| {
                insta::assert_snapshot!(
                    format!("lifecycle__{name}__{}", slug(format)),
                    info.full_body
                );
            });

            // Updating again with the same values changes nothing.
            update_call_log(&client, &log_id, &updated_input).await;
            let again = get_call_log(
                &client,
                &log_id,
                updated_input.auth_header.as_deref(),
                updated_input.user.as_ref(),
            )
            .await;
            assert_eq!(
                again.call_log_info.map(|i| i.full_body),
                Some(info.full_body),
                "{name} {format}: a repeated update is idempotent"
            );
        }
    }
    crm.shutdown().await;
}
