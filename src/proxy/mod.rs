//! App Connect proxy-connector configs: CRMs described as JSON (README.md, "Serving your CRM from an App Connect proxy config").
//!
//! The pure core that both sides of mockcrm need: reading and validating a
//! config (`config`), its `{{…}}` templates run forwards and backwards
//! (`template`, `path`, with JavaScript's own value semantics in `js` and key
//! order in `json`), the requests App Connect's engine sends (`context`
//! builds each operation's variables, `render` the request, `mapping` reads
//! the answers), and for serving, the routes (`route`, described for
//! OpenAPI in `route::openapi`), what a request must carry (`needs`), the
//! answers that satisfy a response mapping, their schema, and the meaning
//! of a request (`answer`).
//!
//! This module never touches SQL, HTTP, files, the clock or the environment:
//! callers hand it text, values and the current time.

pub mod answer;
pub mod config;
pub mod context;
// JavaScript value semantics live crate-wide (the composer needs them too);
// re-exported so this module's files keep reaching them as `super::js`.
pub(crate) use crate::js;
pub mod json;
pub mod mapping;
pub mod needs;
pub mod path;
pub mod render;
pub mod route;
pub mod template;

#[cfg(test)]
mod fixtures;

use std::fmt;

pub use config::{ConfigError, ConfigWarning, ProxyConfig};

/// The connector interfaces a proxy config can describe, keyed in
/// `operations` by these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    GetUserInfo,
    FindContact,
    FindContactWithName,
    CreateContact,
    CreateCallLog,
    GetCallLog,
    UpdateCallLog,
    UpsertCallDisposition,
    CreateMessageLog,
    UpdateMessageLog,
    GetUserList,
    GetLicenseStatus,
    UnAuthorize,
}

/// Variables every operation's templates can read (engine.ts adds them to
/// the operation's own).
pub const COMMON_VARIABLES: [&str; 4] = ["user", "authHeader", "apiKey", "secretKey"];

impl Operation {
    pub const ALL: [Operation; 13] = [
        Operation::GetUserInfo,
        Operation::FindContact,
        Operation::FindContactWithName,
        Operation::CreateContact,
        Operation::CreateCallLog,
        Operation::GetCallLog,
        Operation::UpdateCallLog,
        Operation::UpsertCallDisposition,
        Operation::CreateMessageLog,
        Operation::UpdateMessageLog,
        Operation::GetUserList,
        Operation::GetLicenseStatus,
        Operation::UnAuthorize,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Operation::GetUserInfo => "getUserInfo",
            Operation::FindContact => "findContact",
            Operation::FindContactWithName => "findContactWithName",
            Operation::CreateContact => "createContact",
            Operation::CreateCallLog => "createCallLog",
            Operation::GetCallLog => "getCallLog",
            Operation::UpdateCallLog => "updateCallLog",
            Operation::UpsertCallDisposition => "upsertCallDisposition",
            Operation::CreateMessageLog => "createMessageLog",
            Operation::UpdateMessageLog => "updateMessageLog",
            Operation::GetUserList => "getUserList",
            Operation::GetLicenseStatus => "getLicenseStatus",
            Operation::UnAuthorize => "unAuthorize",
        }
    }

    pub fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The operation's own template variables, as index.ts passes them.
    pub fn variables(self) -> &'static [&'static str] {
        const RING_SENSE: [&str; 5] = [
            "ringSenseTranscript",
            "ringSenseSummary",
            "ringSenseAIScore",
            "ringSenseBulletedSummary",
            "ringSenseLink",
        ];
        const CREATE_CALL_LOG: [&str; 19] = [
            "contactInfo",
            "callLog",
            "note",
            "additionalSubmission",
            "aiNote",
            "transcript",
            "voicemailLink",
            "voicemailMessageId",
            "composedLogDetails",
            "hashedAccountId",
            "isFromSSCL",
            "subject",
            "startTime",
            "endTime",
            RING_SENSE[0],
            RING_SENSE[1],
            RING_SENSE[2],
            RING_SENSE[3],
            RING_SENSE[4],
        ];
        const UPDATE_CALL_LOG: [&str; 25] = [
            "thirdPartyLogId",
            "existingCallLog",
            "recordingLink",
            "recordingDownloadLink",
            "voicemailLink",
            "voicemailMessageId",
            "subject",
            "note",
            "startTime",
            "endTime",
            "duration",
            "result",
            "aiNote",
            "transcript",
            "legs",
            "additionalSubmission",
            "composedLogDetails",
            "existingCallLogDetails",
            "hashedAccountId",
            "isFromSSCL",
            RING_SENSE[0],
            RING_SENSE[1],
            RING_SENSE[2],
            RING_SENSE[3],
            RING_SENSE[4],
        ];
        match self {
            Operation::GetUserInfo => &[
                "additionalInfo",
                "apiKey",
                "hostname",
                "platform",
                "userEmail",
            ],
            Operation::FindContact => &[
                "phoneNumber",
                "parsedPhoneNumber",
                "overridingFormat",
                "isExtension",
            ],
            Operation::FindContactWithName => &["name"],
            Operation::CreateContact => &[
                "phoneNumber",
                "newContactName",
                "newContactType",
                "additionalSubmission",
            ],
            Operation::CreateCallLog => &CREATE_CALL_LOG,
            Operation::GetCallLog => &["thirdPartyLogId", "contactId"],
            Operation::UpdateCallLog => &UPDATE_CALL_LOG,
            Operation::UpsertCallDisposition => {
                &["existingCallLog", "dispositions", "thirdPartyLogId"]
            }
            Operation::CreateMessageLog => &[
                "contactInfo",
                "message",
                "additionalSubmission",
                "recordingLink",
                "faxDocLink",
                "faxDownloadLink",
                "imageLink",
                "videoLink",
                "creationTime",
            ],
            Operation::UpdateMessageLog => &[
                "contactInfo",
                "existingMessageLog",
                "thirdPartyLogId",
                "message",
                "additionalSubmission",
                "imageLink",
                "videoLink",
                "creationTime",
            ],
            Operation::GetUserList => &["user"],
            Operation::GetLicenseStatus => &["userId", "platform"],
            Operation::UnAuthorize => &[],
        }
    }

    /// Whether templates of this operation can read `name` (the first part
    /// of an expression). `$` and the empty name read the whole context.
    pub fn knows_variable(self, name: &str) -> bool {
        name.is_empty()
            || name == "$"
            || COMMON_VARIABLES.contains(&name)
            || self.variables().contains(&name)
    }

    pub fn is_call_log(self) -> bool {
        matches!(
            self,
            Operation::CreateCallLog | Operation::GetCallLog | Operation::UpdateCallLog
        )
    }

    pub fn is_message_log(self) -> bool {
        matches!(
            self,
            Operation::CreateMessageLog | Operation::UpdateMessageLog
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A config read and checked, with everything worth telling its author.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: ProxyConfig,
    pub warnings: Vec<ConfigWarning>,
}

/// Reads one config (`file` names it in messages): either a config mockcrm
/// can serve and render, with warnings (operations it cannot serve among
/// them), or the one error that stops it.
pub fn load(file: &str, text: &str) -> Result<Loaded, ConfigError> {
    let (config, mut warnings) = config::load(file, text)?;
    warnings.extend(route::Plan::new(&config).warnings);
    Ok(Loaded { config, warnings })
}

/// Reads several configs to serve side by side. Two that claim the same
/// base path are an error, and so is a response mapping no answer can
/// satisfy (`answer::check_servable`).
pub fn load_all(files: &[(&str, &str)]) -> Result<Vec<Loaded>, ConfigError> {
    let loaded = files
        .iter()
        .map(|(file, text)| load(file, text))
        .collect::<Result<Vec<_>, _>>()?;
    let configs: Vec<&ProxyConfig> = loaded.iter().map(|l| &l.config).collect();
    config::check_base_paths(&configs)?;
    for config in configs {
        answer::check_servable(config)?;
    }
    Ok(loaded)
}
