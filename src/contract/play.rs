//! Playing one call-log case: core's calls in core's order
//! (`createCallLog` → `getCallLog` → `updateCallLog` → `getCallLog`), each
//! under the faults the case's schedule gives it, with the checks between
//! them, then the count of the CRM's activities and the journal of what the
//! connector sent, all in the case's own tenant (`tenant.rs`), so a job can
//! play it while others play theirs. It owns a case's sequence and what it
//! leaves behind (`Outcome`); calling the connector is `calls.rs`'s, what
//! core passes `core.rs`'s and how one answer is judged `answers.rs`'s. It
//! must not tally, shrink, choose cases or know about other jobs.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::runtime::Runtime;

use super::answers::{
    check_body, check_get, compose_user, core_error, plural, read_created, short_json, stored_body,
    with_place, Created,
};
use super::bridge::Settled;
use super::calls::{CallNote, Core, Stop};
use super::cases::Case;
use super::core::{self, Account, CallLogRow, CoreFormat, ExistingDetails};
use super::crm;
use super::crm_faults;
use super::faults::{ScheduledFault, Step, Target};
use super::plan::{Plan, RunError};
use super::properties::{self, Property, Verdicts};
use super::subject::Subject;
use super::tenant::CaseTenant;
use crate::cli::admin_client::AdminClient;
use crate::harness::JournalView;

/// How long after a delayed request was sent the CRM may still commit it:
/// the count of a session's activities waits that long.
const DELAY_MARGIN: Duration = Duration::from_millis(300);

/// Everything one played case left behind.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The case as played (with its session id).
    pub case: Case,
    pub verdicts: Verdicts,
    /// `createCallLog`'s argument as the connector got it (the fixture),
    /// written for the `--api-key` user rather than the case's tenant,
    /// which is gone by the time anyone reads it.
    pub create_args: Option<Value>,
    pub format: Option<CoreFormat>,
    pub calls: Vec<CallNote>,
    /// What the connector sent the CRM, in order (the runner's reads left out).
    pub requests: Vec<JournalView>,
    /// Every `createCallLog` settled without a `logId`: core counts the
    /// call as not logged, so the CRM must hold nothing for it.
    pub not_logged: bool,
    /// The requests (`POST /path`) a fault aimed at the create named that
    /// the connector never sent: the case tested nothing under that fault.
    pub unfired: Vec<String>,
}

/// What every case of a run shares, whichever job plays it.
pub(super) struct Stage<'a> {
    pub rt: &'a Runtime,
    pub crm: &'a AdminClient,
    pub plan: &'a Plan,
    /// The `--api-key` user: whom a saved fixture is written for. Cases
    /// run as their tenant's user, with `home`'s server and proxy config.
    pub home: &'a Account,
}

/// The faults registered for one call: whether any, the longest delay,
/// and the requests those aimed by what they do landed on.
#[derive(Debug, Clone, Default)]
struct Armed {
    any: bool,
    delay: Option<Duration>,
    aimed: Vec<String>,
}

/// Plays one case on a job's connector, in a tenant of its own, and
/// gathers its verdicts. `Err` only when the run cannot go on (the CRM
/// failed us); a connector that hung or died is a verdict.
pub(super) fn play(stage: &Stage<'_>, subject: &mut Subject, case: &Case) -> Result<Outcome, Stop> {
    let tenant = CaseTenant::open(stage.rt, stage.crm, &stage.home.server_url)?;
    let contact = &case.contact;
    let (contact_id, contact_number) =
        tenant.contact_id(&contact.name, &contact.phone_number, &contact.contact_type)?;
    // A CRM face's ids are the records' numbers (core passes them as text).
    let contact_id = match (&stage.plan.crm, contact_number) {
        (Some(_), Some(number)) => number.to_string(),
        _ => contact_id,
    };
    let account = Account {
        api_key: tenant.api_key.clone(),
        crm_user_id: tenant.user_id.clone(),
        ..stage.home.clone()
    };
    // Reports from an earlier case's background work are that case's.
    subject.take_uncaught();
    let mut played = CallCase {
        core: Core {
            rt: stage.rt,
            plan: stage.plan,
            account,
            subject,
            crm: None,
        },
        tenant,
        contact_id,
        connection: None,
    };
    let mut outcome = Outcome {
        case: case.clone(),
        verdicts: Verdicts::default(),
        create_args: None,
        format: None,
        calls: Vec::new(),
        requests: Vec::new(),
        not_logged: false,
        unfired: Vec::new(),
    };
    let started = Instant::now();
    let mut delays = None;
    let sequence = match played.sign_in(stage, case, &mut outcome) {
        Ok(true) => played.sequence(case, &mut outcome, &mut delays),
        other => other.map(drop),
    };
    match sequence {
        Ok(()) | Err(Stop::Connector) => {}
        Err(Stop::Fatal(error)) => return Err(Stop::Fatal(error)),
    }
    for uncaught in played.core.subject.take_uncaught() {
        outcome.verdicts.broke(
            Property::NothingThrows,
            format!(
                "an {} escaped the connector's background work: {}",
                uncaught.kind,
                with_place(&uncaught.error)
            ),
        );
    }
    if sequence.is_ok() {
        outcome.verdicts.held(Property::NothingThrows);
        outcome.verdicts.held(Property::SettlesInTime);
    }
    // A request the faults delayed may still commit: count after it.
    if let Some(delay) = delays {
        let until = started + delay + DELAY_MARGIN;
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
    }
    played.count_activities(&mut outcome)?;
    outcome.requests = played.tenant.requests()?;
    outcome.create_args = outcome
        .create_args
        .take()
        .map(|args| for_home(args, &played.core.account, stage.home, case));
    played.tenant.close()?;
    Ok(outcome)
}

/// `createCallLog`'s argument as a fixture: the same, but for the
/// `--api-key` user, so that `mockcrm log FILE` runs it as them (the
/// tenant's key dies with the tenant). The `authHeader` is rewritten only
/// in the two shapes core builds from a key; one the connector's own
/// `getBasicAuth` shaped otherwise is kept as it was.
fn for_home(mut args: Value, played_as: &Account, home: &Account, case: &Case) -> Value {
    let Some(object) = args.as_object_mut() else {
        return args;
    };
    object.insert("user".into(), core::user(home, case));
    let played_key = &played_as.api_key;
    let rekeyed = match object.get("authHeader").and_then(Value::as_str) {
        Some(header) if header == crate::web::basic_header_for_key(played_key) => {
            Some(crate::web::basic_header_for_key(&home.api_key))
        }
        Some(header) if header == format!("Bearer {played_key}") => {
            Some(format!("Bearer {}", home.api_key))
        }
        _ => None,
    };
    if let Some(header) = rekeyed {
        object.insert("authHeader".into(), Value::from(header));
    }
    args
}

/// One case under way: core on the job's connector, and the tenant the
/// case runs in.
struct CallCase<'s> {
    core: Core<'s>,
    tenant: CaseTenant<'s>,
    /// The case's contact, in the tenant.
    contact_id: String,
    /// With `--crm`, the CRM's connection info for the case's tenant
    /// (`GET /__admin/crms?org=`), which a fault aimed at the create is
    /// resolved against.
    connection: Option<Value>,
}

impl CallCase<'_> {
    /// Registers the case's faults for `step`, limited to its tenant.
    fn arm(&mut self, case: &Case, step: Step) -> Result<Armed, Stop> {
        let mut armed = Armed::default();
        for fault in case
            .faults
            .iter()
            .filter(|fault| fault.on == step && fault.registers())
        {
            let spec = self.spec(fault)?;
            self.tenant.add_fault(&spec)?;
            if fault.at.is_some() {
                armed.aimed.push(format!(
                    "{} {}",
                    spec.method.as_deref().unwrap_or("any method"),
                    spec.path
                ));
            }
            armed.any = true;
            if fault.delay_ms > 0 {
                let delay = Duration::from_millis(fault.delay_ms);
                armed.delay = Some(armed.delay.map_or(delay, |longest| longest.max(delay)));
            }
        }
        Ok(armed)
    }

    /// Expires the tokens the case's faults for `step` expire, before core
    /// builds the call's `authHeader`, so that core's refresh sees what it
    /// is to know.
    fn expire_before(&mut self, case: &Case, step: Step) -> Result<(), Stop> {
        for fault in case.faults.iter().filter(|fault| fault.on == step) {
            if let Some(expiry) = fault.expire_tokens {
                super::calls::refresh::expire(&mut self.core, &self.tenant, expiry)?;
            }
        }
        Ok(())
    }

    /// The admin API's fault for `fault`: as written, or, aimed `at` a
    /// request by what it does, at that request of the case's CRM.
    fn spec(&self, fault: &ScheduledFault) -> Result<crate::harness::FaultSpec, Stop> {
        match (fault.at, &self.core.plan.crm, &self.connection) {
            (None, _, _) => Ok(fault.spec()),
            (Some(Target::Create), Some(name), Some(connection)) => {
                Ok(crm_faults::aim_at_create(fault.spec(), name, connection)?)
            }
            (Some(Target::Create), _, _) => Err(Stop::Fatal(RunError::Crm(format!(
                "the fault \"{fault}\" needs --crm NAME: only a CRM face says which request creates the activity; run it with the --crm it was saved under"
            )))),
        }
    }

    /// The requests `armed`'s aimed faults named that were never sent.
    fn unfired(&self, armed: &Armed) -> Result<Vec<String>, Stop> {
        if armed.aimed.is_empty() {
            return Ok(Vec::new());
        }
        let idle: Vec<String> = self
            .tenant
            .faults()?
            .into_iter()
            .filter(|fault| fault.fired == 0)
            .map(|fault| {
                format!(
                    "{} {}",
                    fault.spec.method.as_deref().unwrap_or("any method"),
                    fault.spec.path
                )
            })
            .collect();
        Ok(armed
            .aimed
            .iter()
            .filter(|aimed| idle.contains(aimed))
            .cloned()
            .collect())
    }

    fn disarm(&mut self, armed: Armed) -> Result<(), Stop> {
        if armed.any {
            self.tenant.clear_faults()?;
        }
        Ok(())
    }

    /// With `--crm`, signs the case's user in to the face, as core does
    /// when the user connects; `Ok(false)`: that failed, the case ends.
    fn sign_in(
        &mut self,
        stage: &Stage<'_>,
        case: &Case,
        outcome: &mut Outcome,
    ) -> Result<bool, Stop> {
        let Some(name) = &stage.plan.crm else {
            return Ok(true);
        };
        let connection = crm::connection(&self.tenant.crms()?, name)?;
        let signed_in = crm::sign_in(
            &mut self.core,
            &connection,
            case,
            &mut outcome.verdicts,
            &mut outcome.calls,
        );
        self.connection = Some(connection);
        signed_in
    }

    fn stored_activity(&self, id: &str) -> Result<Option<Value>, Stop> {
        Ok(self.tenant.activity(id)?)
    }

    /// The calls of one case, in core's order, with the checks between them.
    fn sequence(
        &mut self,
        case: &Case,
        outcome: &mut Outcome,
        delays: &mut Option<Duration>,
    ) -> Result<(), Stop> {
        let Outcome {
            verdicts,
            calls,
            create_args,
            format: played_format,
            not_logged,
            unfired,
            ..
        } = outcome;
        // What the fixture shows even if core never got as far as calling.
        let basic = crate::web::basic_header_for_key(&self.core.account.api_key);
        *create_args = Some(core::create_args(
            &self.core.account,
            case,
            &self.contact_id,
            &basic,
            "",
        ));

        // 1. createCallLog, and once more if it logged nothing, as the
        //    user (or auto-log) may: core keeps no row after a failure.
        let mut created = Created::NotLogged(Value::Null);
        let mut created_body = None;
        let mut format = None;
        for attempt in 0..2 {
            if attempt == 0 {
                self.expire_before(case, Step::Create)?;
            }
            let Ok(auth) = self.core.auth_header(verdicts, calls, false)? else {
                created = Created::NotLogged(core_error("createCallLog"));
                continue;
            };
            let this_format = match self.core.log_format(verdicts, calls, false)? {
                Ok(this_format) => this_format,
                Err(()) => {
                    created = Created::NotLogged(core_error("createCallLog"));
                    continue;
                }
            };
            let composed = match this_format.log_format() {
                Some(log_format) => core::compose_create(
                    &self.core.account,
                    case,
                    &self.contact_id,
                    log_format,
                    &self.core.plan.compose,
                )?,
                None => String::new(),
            };
            let args =
                core::create_args(&self.core.account, case, &self.contact_id, &auth, &composed);
            if attempt == 0 {
                *create_args = Some(args.clone());
            }
            let armed = if attempt == 0 {
                self.arm(case, Step::Create)?
            } else {
                Armed::default()
            };
            *delays = (*delays).max(armed.delay);
            let answer = self.core.call("createCallLog", vec![args], verdicts, calls);
            unfired.extend(self.unfired(&armed)?);
            self.disarm(armed)?;
            created = read_created(answer?, verdicts, self.core.plan.crm.is_some());
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
        let row = CallLogRow::new(case, log_id.clone(), &self.contact_id);
        let (existing_body, details) = if format.log_format().is_some() {
            self.expire_before(case, Step::Get)?;
            let Ok(auth) = self.core.auth_header(verdicts, calls, true)? else {
                return Ok(());
            };
            let armed = self.arm(case, Step::Get)?;
            *delays = (*delays).max(armed.delay);
            let args = core::get_args(&self.core.account, case, &row, &auth);
            let answer = self.core.call("getCallLog", vec![args], verdicts, calls);
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

        self.expire_before(case, Step::Update)?;
        let Ok(auth) = self.core.auth_header(verdicts, calls, true)? else {
            return Ok(());
        };
        let update_format = match self.core.log_format(verdicts, calls, true)? {
            Ok(update_format) => update_format,
            Err(()) => return Ok(()),
        };
        let update_body = match update_format.log_format() {
            Some(log_format) => core::compose_update(
                &self.core.account,
                case,
                &existing_body,
                log_format,
                &self.core.plan.compose,
            )?,
            None => String::new(),
        };
        let details = if update_format.log_format().is_some() {
            details
        } else {
            ExistingDetails::Null
        };
        let args = core::update_args(
            &self.core.account,
            case,
            &row,
            &auth,
            &update_body,
            &details,
        );
        let armed = self.arm(case, Step::Update)?;
        *delays = (*delays).max(armed.delay);
        let answer = self.core.call("updateCallLog", vec![args], verdicts, calls);
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
        let Ok(auth) = self.core.auth_header(verdicts, calls, true)? else {
            return Ok(());
        };
        let args = core::get_args(&self.core.account, case, &row, &auth);
        let answer = self.core.call("getCallLog", vec![args], verdicts, calls)?;
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
    /// call in a tenant of its own, so every activity the tenant holds is
    /// that call's, whether or not the connector stored its session id.
    fn count_activities(&mut self, outcome: &mut Outcome) -> Result<(), Stop> {
        let session = outcome.case.session_id().unwrap_or("-").to_owned();
        if outcome
            .calls
            .iter()
            .all(|call| call.function != "createCallLog")
        {
            return Ok(());
        }
        let activities = self.tenant.activities()?;
        let ids: Vec<&str> = activities
            .iter()
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
