//! Calling the connector as App Connect core does: one function at a
//! time with a deadline, the `authHeader` core builds before each call
//! (`getAuthType`, `getBasicAuth`) and the format it asks for
//! (`getLogFormatType`), each call noted for the report and a throw, a hang
//! or a dead bridge counted against the case.
//!
//! It owns the calls of one case on one job's connector; it must not talk
//! to the CRM, nor decide which calls a case makes (`play.rs` does).

use serde_json::{json, Map, Value};
use tokio::runtime::Runtime;

use super::answers::{short_json, threw_reason};
use super::bridge::{Settled, Unanswered};
use super::core::{self, Account, CoreFormat};
use super::plan::{Plan, RunError};
use super::properties::{Property, Verdicts};
use super::session::CrmSession;
use super::subject::Subject;
use crate::cli::admin_client::AdminError;
use crate::compose::ComposeError;
use crate::interface::LogFormat;

/// Core's OAuth around the calls: sign-in by code, `checkAndRefreshAccessToken`
/// before each call, and scheduled token expiry.
pub(super) mod refresh;

/// Connector functions core calls before the logging ones.
const HELPERS: [&str; 4] = [
    "getAuthType",
    "getBasicAuth",
    "getLogFormatType",
    "getOauthInfo",
];

/// One connector call of a case and how it settled, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CallNote {
    pub function: String,
    pub outcome: String,
}

/// A case cut short: the bridge hung or died, or the CRM failed us.
pub(super) enum Stop {
    Connector,
    Fatal(RunError),
}

impl From<AdminError> for Stop {
    fn from(error: AdminError) -> Self {
        Stop::Fatal(error.into())
    }
}

impl From<ComposeError> for Stop {
    fn from(error: ComposeError) -> Self {
        Stop::Fatal(error.into())
    }
}

impl From<RunError> for Stop {
    fn from(error: RunError) -> Self {
        Stop::Fatal(error)
    }
}

/// Core, about to call one job's connector for `account`.
pub(super) struct Core<'s> {
    pub rt: &'s Runtime,
    pub plan: &'s Plan,
    pub account: Account,
    pub subject: &'s mut Subject,
    /// With `--crm`, once signed in: the user row and the environment
    /// every call is handed.
    pub crm: Option<CrmSession>,
}

impl Core<'_> {
    /// Core's `getUserInfo` at sign-in, handed `argument`: the answer's
    /// `platformUserInfo` when it signs the user in, or `None` once a
    /// verdict says why it did not (`given` says what the connector had).
    pub fn signed_in_user_info(
        &mut self,
        argument: Map<String, Value>,
        given: &str,
        verdicts: &mut Verdicts,
        calls: &mut Vec<CallNote>,
    ) -> Result<Option<Value>, Stop> {
        let answer = self.call(
            "getUserInfo",
            vec![Value::Object(argument)],
            verdicts,
            calls,
        )?;
        let Settled::Returned { value, .. } = answer else {
            return Ok(None);
        };
        let value = value.unwrap_or(Value::Null);
        let info = value
            .get("platformUserInfo")
            .filter(|info| info.is_object());
        let (true, Some(info)) = (crate::js::truthy(value.get("successful")), info) else {
            verdicts.broke(
                Property::NothingThrows,
                format!(
                    "sign-in failed: getUserInfo, given {given}, answered {} (App Connect core signs no one in without successful: true and platformUserInfo)",
                    short_json(&value)
                ),
            );
            return Ok(None);
        };
        Ok(Some(info.clone()))
    }

    pub fn exports(&self, function: &str) -> bool {
        self.subject.exports(function)
    }

    /// Calls one connector function. A throw is a breach of "nothing
    /// throws"; a call that never settles or a bridge that dies ends the
    /// case (and the bridge).
    pub fn call(
        &mut self,
        function: &str,
        mut args: Vec<Value>,
        verdicts: &mut Verdicts,
        calls: &mut Vec<CallNote>,
    ) -> Result<Settled, Stop> {
        let timeout = self.plan.call_timeout;
        let extras = self.crm.as_ref().map(|session| {
            // The row as core has it now, also in what the report shows.
            if let Some(argument) = args.first_mut().and_then(Value::as_object_mut) {
                if argument.contains_key("user") {
                    argument.insert("user".into(), session.user.clone());
                }
            }
            session.extras()
        });
        let answer = self
            .subject
            .call(self.rt, function, args, extras.as_ref(), timeout)
            .map_err(|error| Stop::Fatal(RunError::Start(error)))?;
        if let (Some(session), Some(saved)) = (self.crm.as_mut(), self.subject.take_saved_user()) {
            session.user = saved;
        }
        match answer {
            // The helpers core calls around every operation say nothing
            // worth a line of the report unless they fail.
            Ok(settled @ Settled::Returned { .. }) if HELPERS.contains(&function) => Ok(settled),
            Ok(settled) => {
                let outcome = match &settled {
                    Settled::Returned { value: None, .. } => "returned undefined".to_owned(),
                    Settled::Returned {
                        value: Some(value), ..
                    } => {
                        format!("returned {}", short_json(value))
                    }
                    Settled::Threw(thrown) => {
                        verdicts.broke(Property::NothingThrows, threw_reason(function, thrown));
                        format!("{} {}", thrown.kind, thrown.headline())
                    }
                };
                calls.push(CallNote {
                    function: function.to_owned(),
                    outcome,
                });
                Ok(settled)
            }
            Err(Unanswered::TimedOut) => {
                verdicts.broke(
                    Property::SettlesInTime,
                    format!(
                        "{function} did not settle within {} (--call-timeout)",
                        super::faults::seconds_text(timeout)
                    ),
                );
                calls.push(CallNote {
                    function: function.to_owned(),
                    outcome: "never settled".into(),
                });
                Err(Stop::Connector)
            }
            Err(Unanswered::Died(how)) => {
                verdicts.broke(Property::NothingThrows, format!("during {function}, {how}"));
                calls.push(CallNote {
                    function: function.to_owned(),
                    outcome: how,
                });
                Err(Stop::Connector)
            }
        }
    }

    /// Core's `getLogFormatType(platform, proxyConfig)`, or `--format`.
    /// `Ok(Err(()))`: it threw, and core answers an error for the operation.
    pub fn log_format(
        &mut self,
        verdicts: &mut Verdicts,
        calls: &mut Vec<CallNote>,
        updating: bool,
    ) -> Result<Result<CoreFormat, ()>, Stop> {
        if let Some(format) = self.plan.format {
            return Ok(Ok(CoreFormat::Composed(format)));
        }
        if !self.exports("getLogFormatType") {
            return Ok(Ok(
                core::format_from(None).unwrap_or(CoreFormat::Composed(LogFormat::Plain))
            ));
        }
        let args = self.account.log_format_arguments(updating);
        let answer = self.call("getLogFormatType", args, verdicts, calls)?;
        Ok(core::format_from(Some(&answer)).map_err(drop))
    }

    /// The `authHeader` core builds before every call: the connector's own
    /// `getAuthType` and `getBasicAuth` when it has them. `Ok(Err(()))`:
    /// one threw, and core answers an error instead of calling on.
    pub fn auth_header(
        &mut self,
        verdicts: &mut Verdicts,
        calls: &mut Vec<CallNote>,
        proxy_null: bool,
    ) -> Result<Result<String, ()>, Stop> {
        let key = match &self.crm {
            Some(session) => session.access_token(),
            None => self.account.api_key.clone(),
        };
        let basic = || crate::web::basic_header_for_key(&key);
        if !self.exports("getAuthType") {
            return Ok(Ok(basic()));
        }
        let argument = self.account.auth_type_argument(proxy_null);
        let kind = match self.call("getAuthType", vec![argument], verdicts, calls)? {
            Settled::Returned { value, .. } => value,
            Settled::Threw(_) => return Ok(Err(())),
        };
        match kind.as_ref().and_then(Value::as_str) {
            Some("apiKey") if self.exports("getBasicAuth") => {
                match self.call(
                    "getBasicAuth",
                    vec![json!({"apiKey": key})],
                    verdicts,
                    calls,
                )? {
                    Settled::Threw(_) => Ok(Err(())),
                    // Not awaited: a Promise interpolates as such.
                    Settled::Returned { is_async: true, .. } => {
                        Ok(Ok("Basic [object Promise]".into()))
                    }
                    Settled::Returned { value, .. } => Ok(Ok(format!(
                        "Basic {}",
                        crate::js::to_string_or_undefined(value.as_ref())
                    ))),
                }
            }
            Some("apiKey") => Ok(Ok(basic())),
            Some("oauth") => {
                // Core refreshes a token due to expire first (`refresh.rs`).
                if refresh::check_and_refresh(self, verdicts, calls)?.is_err() {
                    return Ok(Err(()));
                }
                let key = match &self.crm {
                    Some(session) => session.access_token(),
                    None => key,
                };
                Ok(Ok(format!("Bearer {key}")))
            }
            _ => Ok(Ok(String::new())),
        }
    }
}

/// The format cases are generated for: `--format`, else what
/// `getLogFormatType` answers before the first case.
pub(super) fn startup_format(core: &mut Core<'_>) -> Result<CoreFormat, RunError> {
    if let Some(format) = core.plan.format {
        return Ok(CoreFormat::Composed(format));
    }
    let mut verdicts = Verdicts::default();
    let mut calls = Vec::new();
    match core.log_format(&mut verdicts, &mut calls, false) {
        Ok(Ok(format)) => Ok(format),
        // A throw is reported per case; generate for any format.
        Ok(Err(())) | Err(Stop::Connector) => {
            Ok(CoreFormat::Custom("getLogFormatType failed".into()))
        }
        Err(Stop::Fatal(error)) => Err(error),
    }
}
