//! Log bodies as reviewers see them: for every createCallLog fixture and
//! every format, the body as created and the body after the update
//! lifecycle (recording arrives, duration final, note edited, AI note
//! added). Snapshots are the body text itself, named
//! `<created|updated>_<format>@<fixture>.json`; `insta::glob!` runs every
//! fixture before it fails, so one run reports every changed body. Review
//! changes with `cargo insta review`.

use std::path::Path;

use crate::support::TestCrm;
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

/// The fixture at `path`, unless it is one whose body is precomposed: that
/// body is written verbatim, so composing it would show nothing.
fn composable_fixture(path: &Path) -> Option<(String, CreateCallLogInput)> {
    let name = path.file_stem()?.to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let input: CreateCallLogInput =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    let precomposed = input
        .composed_log_details
        .as_deref()
        .is_some_and(|body| !body.is_empty());
    (!precomposed).then_some((name, input))
}

#[test]
fn composed_body_for_every_fixture_and_format() {
    crate::support::snapshot_settings().bind(|| {
        insta::glob!("../../fixtures/create-call-log", "*.json", |path| {
            let Some((name, input)) = composable_fixture(path) else {
                return;
            };
            for format in LogFormat::ALL {
                let body = compose::compose(&ComposeRequest::from(&input), format)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                insta::assert_snapshot!(format!("created_{}", slug(format)), body);
            }
        });
    });
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

/// Logs `input` in `format` through the reference connector, updates it
/// with what arrives after the call, checks what reads back, and returns
/// the stored body.
async fn lifecycle(
    client: &CrmClient,
    name: &str,
    input: &CreateCallLogInput,
    format: LogFormat,
) -> String {
    let mut input = input.clone();
    // Each run is its own call session.
    let session = format!(
        "{}-{}",
        input.call_log.session_id.clone().unwrap_or_default(),
        slug(format)
    );
    input.call_log.session_id = Some(session);
    let created = create_call_log(client, &input, LogOptions { format }).await;
    let log_id = created
        .log_id
        .unwrap_or_else(|| panic!("{name}: {:?}", created.return_message));

    let updated_input = after_the_call(input);
    let updated = update_call_log(client, &log_id, &updated_input).await;
    assert_eq!(
        updated.return_message.as_ref().map(|m| m.message_type),
        Some(MessageType::Success),
        "{name} {format}: {:?}",
        updated.return_message
    );
    assert_eq!(updated.updated_note, updated_input.note);

    let auth = updated_input.auth_header.as_deref();
    let read = get_call_log(client, &log_id, auth, updated_input.user.as_ref()).await;
    let info = read
        .call_log_info
        .unwrap_or_else(|| panic!("{name}: {:?}", read.return_message));
    assert_eq!(
        Some(info.note.clone()),
        updated_input.note,
        "{name} {format}: note parses back"
    );
    assert_eq!(info.full_log_response["duration"], 754);

    // Updating again with the same values changes nothing.
    update_call_log(client, &log_id, &updated_input).await;
    let again = get_call_log(client, &log_id, auth, updated_input.user.as_ref()).await;
    assert_eq!(
        again.call_log_info.map(|i| i.full_body),
        Some(info.full_body.clone()),
        "{name} {format}: a repeated update is idempotent"
    );
    info.full_body
}

#[test]
fn create_then_update_lifecycle_for_every_fixture_and_format() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let crm = runtime.block_on(TestCrm::start());
    let client = CrmClient::new(&crm.server.url()).expect("client");
    crate::support::snapshot_settings().bind(|| {
        insta::glob!("../../fixtures/create-call-log", "*.json", |path| {
            let Some((name, input)) = composable_fixture(path) else {
                return;
            };
            for format in LogFormat::ALL {
                let body = runtime.block_on(lifecycle(&client, &name, &input, format));
                insta::assert_snapshot!(format!("updated_{}", slug(format)), body);
            }
        });
    });
    runtime.block_on(crm.shutdown());
}
