//! Log bodies as reviewers see them: for every createCallLog fixture and
//! every format, the body as created and the bodies after the update
//! lifecycle (recording arrives, duration final, note edited, AI note
//! added; then the same update again) in each update style. Snapshots are
//! the body text itself, named `<kind>_<format>@<fixture>.json`: `created`;
//! `core_updated` and `core_updated_again`, what App Connect's core writes
//! after each update; `updated`, the `clean` style, whose second update must
//! change nothing. `insta::glob!` runs every fixture before it fails, so one
//! run reports every changed body. Review changes with `cargo insta review`.

use std::path::Path;

use crate::support::TestCrm;
use mockcrm::interface::{
    CallDuration, ComposeRequest, CreateCallLogInput, LogFormat, MessageType, Recording,
};
use mockcrm::{create_call_log, get_call_log, update_call_log, CrmClient, LogOptions};
use mockcrm::{ComposeOptions, HostZone, UpdateOptions, UpdateStyle};

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
                let body =
                    mockcrm::compose(&ComposeRequest::from(&input), &ComposeOptions::new(format))
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                insta::assert_snapshot!(format!("created_{}", slug(format)), body);
            }
        });
    });
}

/// What arrives after the call: the final duration, the recording, an
/// edited note and an AI note.
fn after_the_call(mut input: CreateCallLogInput) -> CreateCallLogInput {
    input.content.call_log.duration = Some(CallDuration::Seconds(754));
    let recording = input
        .content
        .call_log
        .recording
        .get_or_insert_with(Recording::default);
    recording.link = Some("https://media.example.com/rec/final".into());
    input.content.note = Some("Edited after the call: follow up on Monday.".into());
    input.content.ai_note = Some("Customer agreed to a follow-up demo.".into());
    input.composed_log_details = None;
    input
}

/// Logs `input` in `format` through the reference connector, updates it
/// twice in `style` with what arrives after the call, checks what reads back
/// after each update, and returns the stored body after each.
async fn lifecycle(
    client: &CrmClient,
    name: &str,
    input: &CreateCallLogInput,
    format: LogFormat,
    style: UpdateStyle,
) -> [String; 2] {
    let mut input = input.clone();
    // Each run is its own call session; the clean ones keep the ids their
    // snapshots were first taken with.
    let suffix = match style {
        UpdateStyle::Core => "-core",
        UpdateStyle::Clean => "",
    };
    let session = format!(
        "{}-{}{suffix}",
        input
            .content
            .call_log
            .session_id
            .clone()
            .unwrap_or_default(),
        slug(format)
    );
    input.content.call_log.session_id = Some(session);
    let options = LogOptions {
        format,
        host_zone: HostZone::UTC,
    };
    let created = create_call_log(client, &input, options).await;
    let log_id = created
        .log_id
        .unwrap_or_else(|| panic!("{name}: {:?}", created.return_message));

    let updated_input = after_the_call(input);
    let update_options = UpdateOptions {
        update_style: style,
        host_zone: HostZone::UTC,
    };
    let auth = updated_input.auth_header.as_deref();
    let mut bodies = Vec::new();
    for round in 1..=2 {
        let updated = update_call_log(client, &log_id, &updated_input, update_options).await;
        assert_eq!(
            updated.return_message.as_ref().map(|m| m.message_type),
            Some(MessageType::Success),
            "{name} {format} {style} update {round}: {:?}",
            updated.return_message
        );
        assert_eq!(updated.updated_note, updated_input.content.note);
        let read = get_call_log(client, &log_id, auth, updated_input.content.user.as_ref()).await;
        let info = read
            .call_log_info
            .unwrap_or_else(|| panic!("{name}: {:?}", read.return_message));
        assert_eq!(
            Some(info.note.clone()),
            updated_input.content.note,
            "{name} {format} {style} update {round}: the note parses back"
        );
        assert_eq!(info.full_log_response["duration"], 754);
        bodies.push(info.full_body);
    }
    let again = bodies.pop().expect("two updates");
    let once = bodies.pop().expect("two updates");
    [once, again]
}

#[test]
fn create_then_update_lifecycle_for_every_fixture_format_and_style() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let crm = runtime.block_on(TestCrm::start());
    let client = CrmClient::new(&crm.server.url()).expect("client");
    crate::support::snapshot_settings().bind(|| {
        insta::glob!("../../fixtures/create-call-log", "*.json", |path| {
            let Some((name, input)) = composable_fixture(path) else {
                return;
            };
            for format in LogFormat::ALL {
                let slug = slug(format);
                let [once, again] =
                    runtime.block_on(lifecycle(&client, &name, &input, format, UpdateStyle::Core));
                insta::assert_snapshot!(format!("core_updated_{slug}"), once);
                insta::assert_snapshot!(format!("core_updated_again_{slug}"), again);
                let [once, again] = runtime.block_on(lifecycle(
                    &client,
                    &name,
                    &input,
                    format,
                    UpdateStyle::Clean,
                ));
                insta::assert_snapshot!(format!("updated_{slug}"), once);
                assert_eq!(
                    once, again,
                    "{name} {format}: a repeated clean update changes nothing"
                );
            }
        });
    });
    runtime.block_on(crm.shutdown());
}
