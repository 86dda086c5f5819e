//! Playing one case: core's calls in core's order (`createCallLog` →
//! `getCallLog` → `updateCallLog` → `getCallLog`), each under the faults
//! the case's schedule gives it, with the checks between them, then the
//! count of the CRM's activities and the journal of what the connector
//! sent. It owns a case's sequence and what it leaves behind (`Outcome`);
//! what core passes is `core.rs`'s and how one answer is judged
//! `answers.rs`'s. It must not tally, shrink or choose cases.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::answers::{
    check_body, check_get, compose_user, core_error, plural, read_created, short_json, stored_body,
    threw_reason, with_place, Created,
};
use super::bridge::Settled;
use super::bridge::Unanswered;
use super::cases::Case;
use super::core::{self, CallLogRow, CoreFormat, ExistingDetails};
use super::faults::Step;
use super::properties::{self, Property, Verdicts};
use super::runner::{RunError, Runner};
use crate::cli::admin_client::{AdminError, RequestsQuery, OWN_READ};
use crate::compose::ComposeError;
use crate::harness::JournalView;
use crate::interface::LogFormat;

/// How long after a delayed request was sent the CRM may still commit it:
/// the count of a session's activities waits that long.
const DELAY_MARGIN: Duration = Duration::from_millis(300);

/// Connector functions core calls before the logging ones.
const HELPERS: [&str; 3] = ["getAuthType", "getBasicAuth", "getLogFormatType"];

/// One connector call of a case and how it settled, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct CallNote {
    pub function: String,
    pub outcome: String,
}

/// Everything one played case left behind.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case as played (with its session id).
    pub case: Case,
    pub verdicts: Verdicts,
    /// `createCallLog`'s argument as the connector got it (the fixture).
    pub create_args: Option<Value>,
    pub format: Option<CoreFormat>,
    pub calls: Vec<CallNote>,
    /// What the connector sent the CRM, in order (the runner's reads left out).
    pub requests: Vec<JournalView>,
    /// Every `createCallLog` settled without a `logId`: core counts the
    /// call as not logged, so the CRM must hold nothing for it.
    pub not_logged: bool,
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

/// The faults registered for one call: whether any, and the longest delay.
#[derive(Debug, Clone, Copy, Default)]
struct Armed {
    any: bool,
    delay: Option<Duration>,
}

impl Runner<'_> {
    fn fresh_session(&mut self) -> String {
        self.sessions += 1;
        format!("{}{:05}", self.session_prefix, self.sessions)
    }

    fn exports(&self, function: &str) -> bool {
        self.subject.exports(function)
    }

    /// Calls one connector function. A throw is a breach of "nothing
    /// throws"; a call that never settles or a bridge that dies ends the
    /// case (and the bridge).
    fn call(
        &mut self,
        function: &str,
        args: Vec<Value>,
        verdicts: &mut Verdicts,
        calls: &mut Vec<CallNote>,
    ) -> Result<Settled, Stop> {
        let timeout = self.plan.call_timeout;
        let answer = self
            .subject
            .call(self.rt, function, args, timeout)
            .map_err(|error| Stop::Fatal(RunError::Start(error)))?;
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
    pub(super) fn log_format(
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
    fn auth_header(
        &mut self,
        verdicts: &mut Verdicts,
        calls: &mut Vec<CallNote>,
        proxy_null: bool,
    ) -> Result<Result<String, ()>, Stop> {
        let key = self.account.api_key.clone();
        let basic = || crate::api::basic_header_for_key(&key);
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
            Some("oauth") => Ok(Ok(format!("Bearer {key}"))),
            _ => Ok(Ok(String::new())),
        }
    }

    /// Registers the case's faults for `step`.
    fn arm(&mut self, case: &Case, step: Step) -> Result<Armed, Stop> {
        let mut armed = Armed::default();
        for fault in case.faults.iter().filter(|fault| fault.on == step) {
            self.rt.block_on(self.crm.add_fault(&fault.spec()))?;
            armed.any = true;
            if fault.delay_ms > 0 {
                let delay = Duration::from_millis(fault.delay_ms);
                armed.delay = Some(armed.delay.map_or(delay, |longest| longest.max(delay)));
            }
        }
        Ok(armed)
    }

    fn disarm(&mut self, armed: Armed) -> Result<(), Stop> {
        if armed.any {
            self.rt.block_on(self.crm.clear_faults())?;
        }
        Ok(())
    }

    fn stored_activity(&self, id: &str) -> Result<Option<Value>, Stop> {
        Ok(self
            .rt
            .block_on(self.crm.activity(&self.account.api_key, id))?)
    }

    /// Plays one case from a clean slate and gathers its verdicts.
    pub(super) fn play(&mut self, generated: &Case) -> Result<Outcome, Stop> {
        let case = if generated.session_id().is_some() && self.plan.replay.is_some() {
            let session = generated.session_id().unwrap_or_default().to_owned();
            let taken = !self
                .rt
                .block_on(
                    self.crm
                        .activities(&self.account.api_key, Some(&session), None),
                )?
                .is_empty();
            if taken {
                // A replay against a CRM that already holds the session.
                let fresh = format!("{session}{}", self.fresh_session());
                generated.clone().with_session(&fresh)
            } else {
                generated.clone()
            }
        } else {
            let session = self.fresh_session();
            generated.clone().with_session(&session)
        };
        self.rt.block_on(self.crm.clear_faults())?;
        self.rt.block_on(self.crm.clear_requests())?;
        // Reports from an earlier case's background work are that case's.
        self.subject.take_uncaught();
        // Every activity newer than this one is the case's doing.
        let before = self
            .rt
            .block_on(self.crm.newest_activity(&self.account.api_key))?;
        let mut outcome = Outcome {
            case: case.clone(),
            verdicts: Verdicts::default(),
            create_args: None,
            format: None,
            calls: Vec::new(),
            requests: Vec::new(),
            not_logged: false,
        };
        let started = Instant::now();
        let mut delays = None;
        let played = self.sequence(&case, &mut outcome, &mut delays);
        match played {
            Ok(()) | Err(Stop::Connector) => {}
            Err(Stop::Fatal(error)) => return Err(Stop::Fatal(error)),
        }
        for uncaught in self.subject.take_uncaught() {
            outcome.verdicts.broke(
                Property::NothingThrows,
                format!(
                    "an {} escaped the connector's background work: {}",
                    uncaught.kind,
                    with_place(&uncaught.error)
                ),
            );
        }
        if played.is_ok() {
            outcome.verdicts.held(Property::NothingThrows);
            outcome.verdicts.held(Property::SettlesInTime);
        }
        // A request the faults delayed may still commit: count after it.
        if let Some(delay) = delays {
            let until = started + delay + DELAY_MARGIN;
            std::thread::sleep(until.saturating_duration_since(Instant::now()));
        }
        self.count_activities(&mut outcome, before.as_deref())?;
        let entries = self.rt.block_on(self.crm.requests(&RequestsQuery {
            limit: 1000,
            method: None,
            path: None,
        }))?;
        let marker = format!("{}={}", OWN_READ.0, OWN_READ.1);
        outcome.requests = entries
            .into_iter()
            .rev()
            .filter(|entry| !entry.query.contains(&marker))
            .collect();
        Ok(outcome)
    }

    /// The calls of one case, in core's order, with the checks between them.
    fn sequence(
        &mut self,
        case: &Case,
        outcome: &mut Outcome,
        delays: &mut Option<Duration>,
    ) -> Result<(), Stop> {
        let contact_id = self
            .contacts
            .get(&case.contact.phone_number)
            .cloned()
            .ok_or_else(|| {
                Stop::Fatal(RunError::Crm(format!(
                    "no contact for {}",
                    case.contact.phone_number
                )))
            })?;
        let Outcome {
            verdicts,
            calls,
            create_args,
            format: played_format,
            not_logged,
            ..
        } = outcome;
        // What the fixture shows even if core never got as far as calling.
        let basic = crate::api::basic_header_for_key(&self.account.api_key);
        *create_args = Some(core::create_args(
            &self.account,
            case,
            &contact_id,
            &basic,
            "",
        ));

        // 1. createCallLog, and once more if it logged nothing, as the
        //    user (or auto-log) may: core keeps no row after a failure.
        let mut created = Created::NotLogged(Value::Null);
        let mut created_body = None;
        let mut format = None;
        for attempt in 0..2 {
            let Ok(auth) = self.auth_header(verdicts, calls, false)? else {
                created = Created::NotLogged(core_error("createCallLog"));
                continue;
            };
            let this_format = match self.log_format(verdicts, calls, false)? {
                Ok(this_format) => this_format,
                Err(()) => {
                    created = Created::NotLogged(core_error("createCallLog"));
                    continue;
                }
            };
            let composed = match this_format.log_format() {
                Some(log_format) => core::compose_create(
                    &self.account,
                    case,
                    &contact_id,
                    log_format,
                    &self.plan.compose,
                )?,
                None => String::new(),
            };
            let args = core::create_args(&self.account, case, &contact_id, &auth, &composed);
            if attempt == 0 {
                *create_args = Some(args.clone());
            }
            let armed = if attempt == 0 {
                self.arm(case, Step::Create)?
            } else {
                Armed::default()
            };
            *delays = (*delays).max(armed.delay);
            let answer = self.call("createCallLog", vec![args], verdicts, calls);
            self.disarm(armed)?;
            created = read_created(answer?, verdicts);
            format = Some(this_format);
            created_body = Some(composed);
            if matches!(created, Created::Logged(_)) {
                break;
            }
        }
        played_format.clone_from(&format);
        let log_id = match created {
            Created::Logged(log_id) => log_id,
            Created::NotLogged(message) => {
                // "Never lost" for a call not logged needs the final count.
                *not_logged = true;
                let told = message
                    .get("messageType")
                    .and_then(Value::as_str)
                    .is_some_and(|kind| kind == "warning" || kind == "danger");
                if !told {
                    verdicts.broke(
                        Property::NeverLost,
                        format!(
                            "createCallLog returned no logId and no warning (returnMessage {}): the user is never told the call was not logged",
                            short_json(&message)
                        ),
                    );
                }
                return Ok(());
            }
        };
        let (Some(format), Some(created_body)) = (format, created_body) else {
            return Ok(());
        };
        let Some(activity) = self.stored_activity(&log_id)? else {
            verdicts.broke(
                Property::NeverLost,
                format!("createCallLog returned logId {log_id:?}, but the CRM holds no activity {log_id:?}"),
            );
            return Ok(());
        };
        verdicts.held(Property::NeverLost);
        let user = compose_user(case);
        let stored = stored_body(&activity);
        if format.log_format().is_some() {
            check_body(verdicts, "createCallLog", &created_body, stored.as_deref());
        }

        // 2. The getCallLog core runs before an update (skipped for a
        //    custom format), then the update composed on its fullBody.
        let row = CallLogRow::new(case, log_id.clone(), &contact_id);
        let (existing_body, details) = if format.log_format().is_some() {
            let Ok(auth) = self.auth_header(verdicts, calls, true)? else {
                return Ok(());
            };
            let armed = self.arm(case, Step::Get)?;
            *delays = (*delays).max(armed.delay);
            let args = core::get_args(&self.account, case, &row, &auth);
            let answer = self.call("getCallLog", vec![args], verdicts, calls);
            self.disarm(armed)?;
            let answer = answer?;
            let expected = format.log_format().and_then(|log_format| {
                properties::expected_note(
                    &created_body,
                    log_format,
                    &user,
                    case.create.note.as_deref(),
                )
            });
            check_get(verdicts, &answer, stored.as_deref(), expected.as_ref());
            core::existing_from(&answer)
        } else {
            (String::new(), ExistingDetails::Null)
        };

        let Ok(auth) = self.auth_header(verdicts, calls, true)? else {
            return Ok(());
        };
        let update_format = match self.log_format(verdicts, calls, true)? {
            Ok(update_format) => update_format,
            Err(()) => return Ok(()),
        };
        let update_body = match update_format.log_format() {
            Some(log_format) => core::compose_update(
                &self.account,
                case,
                &existing_body,
                log_format,
                &self.plan.compose,
            )?,
            None => String::new(),
        };
        let details = if update_format.log_format().is_some() {
            details
        } else {
            ExistingDetails::Null
        };
        let args = core::update_args(&self.account, case, &row, &auth, &update_body, &details);
        let armed = self.arm(case, Step::Update)?;
        *delays = (*delays).max(armed.delay);
        let answer = self.call("updateCallLog", vec![args], verdicts, calls);
        self.disarm(armed)?;
        if let Settled::Returned { value, .. } = answer? {
            if !value.as_ref().is_some_and(Value::is_object) {
                verdicts.broke(
                    Property::NothingThrows,
                    format!(
                        "updateCallLog returned {}, which App Connect core cannot destructure: it fails with \"Error updating call log\"; return {{updatedNote, returnMessage}}",
                        value.as_ref().map_or("undefined".into(), short_json)
                    ),
                );
            }
        }
        let stored = match self.stored_activity(&log_id)? {
            Some(activity) => stored_body(&activity),
            None => None,
        };
        if update_format.log_format().is_some() {
            check_body(verdicts, "updateCallLog", &update_body, stored.as_deref());
        }

        // 3. The log view: getCallLog, whose answer the user edits.
        let Ok(auth) = self.auth_header(verdicts, calls, true)? else {
            return Ok(());
        };
        let args = core::get_args(&self.account, case, &row, &auth);
        let answer = self.call("getCallLog", vec![args], verdicts, calls)?;
        let note = case.update.note.as_deref().or(case.create.note.as_deref());
        let expected = update_format.log_format().and_then(|log_format| {
            properties::expected_note(&update_body, log_format, &user, note)
        });
        check_get(verdicts, &answer, stored.as_deref(), expected.as_ref());
        if let Settled::Returned { value, .. } = &answer {
            if !value.as_ref().is_some_and(Value::is_object) {
                verdicts.broke(
                    Property::NothingThrows,
                    format!(
                        "getCallLog returned {}, which App Connect core cannot read (it answers \"Error getting call log\"); return {{callLogInfo: {{subject, note, fullBody, fullLogResponse}}}}",
                        value.as_ref().map_or("undefined".into(), short_json)
                    ),
                );
            }
        }
        Ok(())
    }

    /// "One activity per call session", and "never lost" for a call the
    /// connector did not log, from the CRM's own list: a case logs one
    /// call, so every activity written while it ran (newer than `before`)
    /// is that call's, whether or not the connector stored its session id.
    fn count_activities(
        &mut self,
        outcome: &mut Outcome,
        before: Option<&str>,
    ) -> Result<(), Stop> {
        let session = outcome.case.session_id().unwrap_or("-").to_owned();
        if outcome
            .calls
            .iter()
            .all(|call| call.function != "createCallLog")
        {
            return Ok(());
        }
        let activities =
            self.rt
                .block_on(self.crm.activities(&self.account.api_key, None, before))?;
        let ids: Vec<&str> = activities
            .iter()
            .rev()
            .filter_map(|activity| activity.get("id").and_then(Value::as_str))
            .collect();
        let verdicts = &mut outcome.verdicts;
        verdicts.check(Property::OneActivityPerSession, ids.len() <= 1, || {
            format!(
                "call session {session} was written as {} activities ({}): App Connect shows one call, the CRM holds it {} times",
                ids.len(),
                ids.join(", "),
                ids.len()
            )
        });
        if outcome.not_logged {
            // Not logged, and the user was warned: nothing may exist.
            verdicts.check(Property::NeverLost, ids.is_empty(), || {
                format!(
                    "createCallLog returned no logId, yet the CRM holds {} ({}) for call session {session}: App Connect counts the call as not logged while the CRM has it",
                    plural(ids.len(), "activity", "activities"),
                    ids.join(", ")
                )
            });
        }
        Ok(())
    }
}

pub(super) fn stop_error(stop: Stop) -> RunError {
    match stop {
        Stop::Fatal(error) => error,
        Stop::Connector => RunError::Crm("the connector stopped".into()),
    }
}
