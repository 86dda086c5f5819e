//! Shared-SMS bodies as a CRM holds them: for every conversation in
//! `fixtures/shared-sms/`, each style and each format, the subject and
//! body, named `<style>_<format>@<fixture>.json`. The `core` ones are what
//! App Connect core writes (the golden test in `src/compose/shared_sms/`
//! pins them byte for byte against core's own output); the `clean` ones
//! show each quirk fixed. Review changes with `cargo insta review`.

use mockcrm::interface::LogFormat;
use mockcrm::{compose_shared_sms, SharedSmsOptions, SharedSmsRequest, SharedSmsStyle};

fn slug(format: LogFormat) -> &'static str {
    match format {
        LogFormat::Plain => "plain",
        LogFormat::Html => "html",
        LogFormat::Markdown => "markdown",
    }
}

#[test]
fn composed_subject_and_body_for_every_conversation_style_and_format() {
    crate::support::snapshot_settings().bind(|| {
        insta::glob!("../../fixtures/shared-sms", "*.json", |path| {
            let text = std::fs::read_to_string(path).expect("the fixture reads");
            let request: SharedSmsRequest =
                serde_json::from_str(&text).expect("the fixture is a shared-SMS request");
            for style in SharedSmsStyle::ALL {
                for format in LogFormat::ALL {
                    let mut request = request.clone();
                    request.log_format = Some(format);
                    let options = SharedSmsOptions::default().with_style(style);
                    let log = compose_shared_sms(&request, &options)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    insta::assert_snapshot!(
                        format!("{style}_{}", slug(format)),
                        format!("{}\n\n{}", log.subject, log.body)
                    );
                }
            }
        });
    });
}
