//! The contract run: plays each generated case against the connector as
//! App Connect core would (`createCallLog` → `getCallLog` → `updateCallLog`
//! → `getCallLog`), under the case's fault schedule, checks every property
//! against what the CRM holds afterwards, tallies the verdicts, and shrinks
//! the first case that breaks each property with proptest's `TestRunner`.
//!
//! It owns the order of calls and checks and the bookkeeping; what core
//! passes is `core.rs`'s, what counts as a breach `properties.rs`'s, how
//! it is shown `report.rs`'s.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use super::bridge::{Ready, Settled, StartError, Thrown, Unanswered};
use super::cases::{self, Case, CONTACTS};
use super::core::{self, Account, CallLogRow, CoreFormat, ExistingDetails};
use super::faults::{Schedule, Step};
use super::properties::{self, Property, Verdict, Verdicts};
use super::subject::Subject;
use crate::cli::admin_client::{AdminClient, AdminError, RequestsQuery, OWN_READ};
use crate::compose::{ComposeError, ComposeOptions};
use crate::harness::JournalView;
use crate::interface::{LogFormat, User};

/// How long shrinking one failure may take; each step replays a whole case.
const SHRINK_TIME: Duration = Duration::from_secs(60);
const SHRINK_STEPS: u32 = 200;

/// How long after a delayed request was sent the CRM may still commit it:
/// the count of a session's activities waits that long.
const DELAY_MARGIN: Duration = Duration::from_millis(300);

/// Connector functions core calls before the logging ones.
const HELPERS: [&str; 3] = ["getAuthType", "getBasicAuth", "getLogFormatType"];

/// What to run.
pub struct Plan {
    /// `--format`: compose in this format instead of asking the connector.
    pub format: Option<LogFormat>,
    pub cases: u32,
    pub seed: u64,
    pub schedules: Vec<Schedule>,
    /// The update style and host zone (the format is set per case).
    pub compose: ComposeOptions,
    pub call_timeout: Duration,
    pub api_key: String,
    /// One case from a fixture instead of generated ones.
    pub replay: Option<Case>,
}

/// Why a run could not be carried out at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Start(#[from] StartError),
    #[error("{0}")]
    Crm(String),
    #[error("cannot compose the case's body: {0}")]
    Compose(#[from] ComposeError),
}

impl From<AdminError> for RunError {
    fn from(error: AdminError) -> Self {
        RunError::Crm(error.to_string())
    }
}

/// Pass and fail counts of one property.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub held: u32,
    pub broken: u32,
    pub not_checked: u32,
}

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

/// The smallest case found that breaks a property.
#[derive(Debug, Clone)]
pub struct Failure {
    pub property: Property,
    pub reason: String,
    pub outcome: Outcome,
    /// Simpler cases tried while shrinking.
    pub shrink_steps: u32,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Report {
    pub ready: Ready,
    pub format: CoreFormat,
    /// Whether `format` came from `--format` rather than the connector.
    pub format_forced: bool,
    pub seed: u64,
    pub cases: u32,
    /// One case from a fixture, not generated ones.
    pub replayed: bool,
    pub tallies: BTreeMap<Property, Tally>,
    pub failures: Vec<Failure>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A case cut short: the bridge hung or died, or the CRM failed us.
enum Stop {
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

/// What the last `createCallLog` left: a log (its id as core stores it)
/// or none (and what the user was told).
enum Created {
    Logged(String),
    NotLogged(Value),
}

pub struct Runner<'a> {
    rt: &'a Runtime,
    crm: AdminClient,
    account: Account,
    plan: Plan,
    subject: Subject,
    contacts: BTreeMap<String, String>,
    sessions: u32,
    session_prefix: String,
}

impl<'a> Runner<'a> {
    /// Checks the CRM and the keys, finds or creates the contacts cases
    /// are logged against; `subject` is the connector, loaded.
    pub fn prepare(
        rt: &'a Runtime,
        crm: AdminClient,
        server_url: &str,
        plan: Plan,
        subject: Subject,
    ) -> Result<Runner<'a>, RunError> {
        let me = rt.block_on(crm.me(&plan.api_key)).map_err(|error| match error {
            AdminError::Refused { status: 401, .. } => RunError::Crm(format!(
                "the CRM at {server_url} refused the API key; pass --api-key (or MOCKCRM_API_KEY) with a key of its seed"
            )),
            other => RunError::Crm(other.to_string()),
        })?;
        rt.block_on(crm.clear_faults()).map_err(|error| match error {
            AdminError::Refused { status: 401, .. } => RunError::Crm(format!(
                "the CRM at {server_url} refused the admin key; pass --admin-key (or MOCKCRM_ADMIN_KEY) as it was served with"
            )),
            other => RunError::Crm(other.to_string()),
        })?;
        let crm_user_id = me
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("crm-user")
            .to_owned();
        let account = Account {
            server_url: server_url.trim_end_matches('/').to_owned(),
            api_key: plan.api_key.clone(),
            crm_user_id,
            hashed_account_id: "d1a5c0e2f4b6a8c0e2f4b6a8c0e2f4b6".into(),
            proxy_config: subject.proxy_config().cloned(),
        };
        let mut runner = Runner {
            rt,
            crm,
            account,
            plan,
            subject,
            contacts: BTreeMap::new(),
            sessions: 0,
            session_prefix: format!("{:06}", fastrand::u32(100_000..1_000_000)),
        };
        let mut pool: Vec<(String, String, String)> = CONTACTS
            .iter()
            .map(|(name, phone)| {
                (
                    (*name).to_owned(),
                    (*phone).to_owned(),
                    "Contact".to_owned(),
                )
            })
            .collect();
        if let Some(case) = &runner.plan.replay {
            let contact = &case.contact;
            pool.push((
                contact.name.clone(),
                contact.phone_number.clone(),
                contact.contact_type.clone(),
            ));
        }
        for (name, phone, kind) in pool {
            let id = rt.block_on(runner.crm.contact_id(
                &runner.account.api_key,
                &name,
                &phone,
                &kind,
            ))?;
            runner.contacts.insert(phone, id);
        }
        Ok(runner)
    }

    /// What the connector is, as it loaded.
    pub fn ready(&self) -> &Ready {
        self.subject.ready()
    }

    /// The format cases are generated for: `--format`, else what
    /// `getLogFormatType` answers now.
    fn startup_format(&mut self) -> Result<CoreFormat, RunError> {
        if let Some(format) = self.plan.format {
            return Ok(CoreFormat::Composed(format));
        }
        let mut verdicts = Verdicts::default();
        let mut calls = Vec::new();
        match self.log_format(&mut verdicts, &mut calls, false) {
            Ok(Ok(format)) => Ok(format),
            // A throw is reported per case; generate for any format.
            Ok(Err(())) | Err(Stop::Connector) => {
                Ok(CoreFormat::Custom("getLogFormatType failed".into()))
            }
            Err(Stop::Fatal(error)) => Err(error),
        }
    }

    /// Runs the plan: every case, tallied, and each broken property's
    /// first case shrunk.
    pub fn run(mut self) -> Result<Report, RunError> {
        let format = self.startup_format()?;
        let ready = self.ready().clone();
        let mut tallies: BTreeMap<Property, Tally> = Property::ALL
            .into_iter()
            .map(|property| (property, Tally::default()))
            .collect();
        let mut failures: Vec<Failure> = Vec::new();
        let format_forced = self.plan.format.is_some();
        let seed = self.plan.seed;

        if let Some(case) = self.plan.replay.clone() {
            let outcome = self.play(&case).map_err(stop_error)?;
            tally(&mut tallies, &outcome.verdicts);
            for (property, reason) in outcome.verdicts.broken() {
                failures.push(Failure {
                    property,
                    reason: reason.to_owned(),
                    outcome: outcome.clone(),
                    shrink_steps: 0,
                });
            }
            return Ok(Report {
                ready,
                format,
                format_forced,
                seed,
                cases: 1,
                replayed: true,
                tallies,
                failures,
            });
        }

        let strategy = cases::cases(format.log_format(), self.plan.schedules.clone());
        let config = Config {
            cases: self.plan.cases,
            max_shrink_iters: SHRINK_STEPS,
            max_shrink_time: u32::try_from(SHRINK_TIME.as_millis()).unwrap_or(u32::MAX),
            failure_persistence: None,
            ..Config::default()
        };
        let mut generator = TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
        );
        for _ in 0..self.plan.cases {
            let before = generator.clone();
            let tree = strategy
                .new_tree(&mut generator)
                .map_err(|reason| RunError::Crm(format!("cannot generate a case: {reason}")))?;
            let outcome = self.play(&tree.current()).map_err(stop_error)?;
            tally(&mut tallies, &outcome.verdicts);
            let newly_broken: Vec<(Property, String)> = outcome
                .verdicts
                .broken()
                .filter(|(property, _)| failures.iter().all(|f| f.property != *property))
                .map(|(property, reason)| (property, reason.to_owned()))
                .collect();
            for (property, reason) in newly_broken {
                if property == Property::SettlesInTime {
                    // Every step of shrinking a hang would wait out the
                    // call timeout and restart Node: the case stands as found.
                    failures.push(Failure {
                        property,
                        reason,
                        outcome: outcome.clone(),
                        shrink_steps: 0,
                    });
                    continue;
                }
                // The same tree again, from the generator as it stood.
                let mut again = before.clone();
                let tree = strategy
                    .new_tree(&mut again)
                    .map_err(|reason| RunError::Crm(format!("cannot generate a case: {reason}")))?;
                let failure = self.shrink(&mut again, tree, property, reason, outcome.clone())?;
                failures.push(failure);
            }
        }
        failures.sort_by_key(|failure| failure.property);
        Ok(Report {
            ready,
            format,
            format_forced,
            seed,
            cases: self.plan.cases,
            replayed: false,
            tallies,
            failures,
        })
    }

    /// The smallest case proptest finds from `tree` that still breaks
    /// `property`; `first` is the failure as first seen.
    fn shrink<T: ValueTree<Value = Case>>(
        &mut self,
        shrinker: &mut TestRunner,
        tree: T,
        property: Property,
        reason: String,
        first: Outcome,
    ) -> Result<Failure, RunError> {
        let original = tree.current();
        let this = RefCell::new(&mut *self);
        let fatal: RefCell<Option<RunError>> = RefCell::new(None);
        let smallest: RefCell<(Case, String, Outcome)> = RefCell::new((original, reason, first));
        let steps = Cell::new(0u32);
        let result = shrinker.run_one(tree, |case: Case| {
            if fatal.borrow().is_some() {
                return Err(TestCaseError::reject("the run already failed"));
            }
            steps.set(steps.get() + 1);
            let outcome = match this.borrow_mut().play(&case) {
                Ok(outcome) => outcome,
                Err(Stop::Fatal(error)) => {
                    *fatal.borrow_mut() = Some(error);
                    return Err(TestCaseError::reject("the run failed"));
                }
                Err(Stop::Connector) => return Err(TestCaseError::reject("the bridge failed")),
            };
            match outcome.verdicts.get(property) {
                Verdict::Broken(reason) => {
                    let reason = reason.clone();
                    *smallest.borrow_mut() = (case, reason.clone(), outcome);
                    Err(TestCaseError::fail(reason))
                }
                _ => Ok(()),
            }
        });
        if let Some(error) = fatal.into_inner() {
            return Err(error);
        }
        // proptest ends on the smallest failing value, the last one that
        // failed, whose outcome `smallest` kept.
        let (_, reason, outcome) = smallest.into_inner();
        if let Err(TestError::Abort(why)) = result {
            return Err(RunError::Crm(format!("shrinking stopped: {why}")));
        }
        Ok(Failure {
            property,
            reason,
            outcome,
            shrink_steps: steps.get().saturating_sub(1),
        })
    }

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
    fn log_format(
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
    fn play(&mut self, generated: &Case) -> Result<Outcome, Stop> {
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
        let basic = crate::web::basic_header_for_key(&self.account.api_key);
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

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

fn stop_error(stop: Stop) -> RunError {
    match stop {
        Stop::Fatal(error) => error,
        Stop::Connector => RunError::Crm("the connector stopped".into()),
    }
}

fn tally(tallies: &mut BTreeMap<Property, Tally>, verdicts: &Verdicts) {
    for property in Property::ALL {
        let entry = tallies.entry(property).or_default();
        match verdicts.get(property) {
            Verdict::Held => entry.held += 1,
            Verdict::Broken(_) => entry.broken += 1,
            Verdict::NotChecked => entry.not_checked += 1,
        }
    }
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for (index, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = seed.rotate_left(16 * index as u32)
            ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

fn compose_user(case: &Case) -> User {
    User {
        id: None,
        timezone_offset: case.user.timezone_offset.clone(),
        user_settings: case.user.user_settings.clone(),
        extra: Default::default(),
    }
}

fn stored_body(activity: &Value) -> Option<String> {
    activity
        .get("body")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The warning core shows when it could not even call the connector.
fn core_error(function: &str) -> Value {
    core::thrown_message(
        function,
        &Thrown {
            kind: "threw".into(),
            name: "Error".into(),
            message: String::new(),
            stack: None,
            status: None,
        },
    )
}

/// What core makes of a `createCallLog` answer.
fn read_created(answer: Settled, verdicts: &mut Verdicts) -> Created {
    let value = match answer {
        Settled::Threw(thrown) => {
            return Created::NotLogged(core::thrown_message("createCallLog", &thrown))
        }
        Settled::Returned { value, .. } => value,
    };
    let Some(object) = value.as_ref().filter(|value| value.is_object()) else {
        verdicts.broke(
            Property::NothingThrows,
            format!(
                "createCallLog returned {}, which App Connect core cannot destructure: it answers \"Error creating call log\"; return {{logId, returnMessage}}",
                value.as_ref().map_or("undefined".into(), short_json)
            ),
        );
        return Created::NotLogged(core_error("createCallLog"));
    };
    let log_id = object.get("logId").cloned().unwrap_or(Value::Null);
    let message = object.get("returnMessage").cloned().unwrap_or(Value::Null);
    if !crate::js::truthy(Some(&log_id)) {
        return Created::NotLogged(message);
    }
    match log_id {
        Value::String(id) => Created::Logged(id),
        other => {
            verdicts.broke(
                Property::NeverLost,
                format!(
                    "createCallLog returned logId {other}, not a string; App Connect keeps it as text: return the CRM's id as a string"
                ),
            );
            Created::Logged(crate::js::to_string(&other))
        }
    }
}

fn check_body(verdicts: &mut Verdicts, after: &str, composed: &str, stored: Option<&str>) {
    match stored {
        Some(stored) => verdicts.check(Property::BodyStored, stored == composed, || {
            format!(
                "after {after}, the CRM's body is not composedLogDetails: {}",
                properties::first_difference(composed, stored)
            )
        }),
        None => verdicts.broke(
            Property::BodyStored,
            format!("after {after}, the CRM's activity has no body"),
        ),
    }
}

/// `getCallLog` gives back what the CRM holds, and the note the body holds
/// (`expected` is `None` when that note cannot be told).
fn check_get(
    verdicts: &mut Verdicts,
    answer: &Settled,
    stored: Option<&str>,
    expected_note: Option<&properties::ExpectedNote>,
) {
    let Settled::Returned { value, .. } = answer else {
        return;
    };
    let info = value
        .as_ref()
        .and_then(|value| value.get("callLogInfo"))
        .filter(|info| info.is_object());
    let Some(info) = info else {
        let message = value
            .as_ref()
            .and_then(|value| value.get("returnMessage"))
            .map_or("none".into(), short_json);
        verdicts.broke(
            Property::GetCallLogRoundTrip,
            format!("getCallLog answered no callLogInfo (returnMessage {message}): App Connect cannot show or update the log"),
        );
        return;
    };
    let full_body = info.get("fullBody").and_then(Value::as_str);
    match (full_body, stored) {
        (Some(full), Some(stored)) if full == stored => verdicts.held(Property::GetCallLogRoundTrip),
        (Some(full), Some(stored)) => verdicts.broke(
            Property::GetCallLogRoundTrip,
            format!(
                "getCallLog's fullBody is not the body the CRM holds: {}",
                properties::first_difference(stored, full)
            ),
        ),
        (None, _) => verdicts.broke(
            Property::GetCallLogRoundTrip,
            "getCallLog's callLogInfo has no fullBody: App Connect core then composes the update on the note alone and the rest of the body is lost",
        ),
        (Some(_), None) => {}
    }
    if let Some(expected) = expected_note {
        let note = info.get("note");
        verdicts.check(
            Property::GetCallLogRoundTrip,
            expected.accepts(note),
            || match note {
                None => format!(
                    "getCallLog's callLogInfo has no note; {}",
                    expected.describe()
                ),
                Some(note) => format!(
                    "getCallLog's note is {}; {}",
                    short_json(note),
                    expected.describe()
                ),
            },
        );
    }
}

fn short_json(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn threw_reason(function: &str, thrown: &Thrown) -> String {
    let how = match thrown.kind.as_str() {
        "threw" => "threw",
        "rejected" => "rejected",
        "unserializable" => "returned what JSON cannot carry",
        _ => "failed",
    };
    let core = match thrown.status {
        Some(status) => format!(
            " (HTTP {status}; App Connect core shows its own warning instead of the connector's)"
        ),
        None => String::new(),
    };
    format!("{function} {how}: {}{core}", with_place(thrown))
}

/// The error's first line and the connector's frame it came from.
fn with_place(thrown: &Thrown) -> String {
    let frame = thrown.stack.as_deref().and_then(|stack| {
        stack
            .lines()
            .skip(1)
            .map(str::trim)
            .find(|line| line.starts_with("at ") && !line.contains("node:internal"))
    });
    match frame {
        Some(frame) => format!("{} ({frame})", thrown.headline()),
        None => thrown.headline(),
    }
}
