//! The contract run: generates the cases from the seed, has the jobs play
//! them (`jobs.rs`, each case by `play.rs` in a tenant of its own), tallies
//! the verdicts in the cases' order, and has the first case that breaks
//! each property shrunk (`shrink.rs`), the failures shrunk side by side.
//!
//! It owns the plan, the order of cases and the bookkeeping, so that a
//! seed gives the same cases, the same first failure and the same shrunk
//! case whatever `--jobs` is: nothing here depends on which job finished
//! first. How one case is played and judged is `play.rs`'s, what core
//! passes `core.rs`'s, what counts as a breach `properties.rs`'s, how it is
//! shown `report.rs`'s; it must not judge a case itself.

use std::collections::BTreeMap;

use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use tokio::runtime::Runtime;

use super::bridge::Ready;
use super::calls::{self, Core, Stop};
use super::cases::{self, Case};
use super::core::{Account, CoreFormat};
use super::jobs;
use super::message_cases::{self, MessageCase};
use super::message_play::{self, MessageOutcome};
pub use super::plan::{Only, Plan, Replay, RunError};
use super::play::{self, stop_error, Outcome, Stage};
use super::properties::{Property, Verdict, Verdicts};
use super::shrink::{self, ShrinkError, Tried};
use super::subject::Subject;
use crate::cli::admin_client::{AdminClient, AdminError};
use crate::interface::LogFormat;

/// `--jobs` when not given. A case mostly waits (a delayed answer, a
/// `Retry-After`, the connector's own timeout), so jobs overlap waits
/// rather than share cores, and the number of cores says nothing about
/// how many pay. Each job is a Node.js process (60–85 MiB in use); at 8,
/// 100 cases under the default faults take ~20 s instead of ~130 s, and
/// twice as many jobs save only another quarter (benches/README.md).
pub const DEFAULT_JOBS: usize = 8;
/// The most `--jobs` takes: each job is a Node.js process.
pub const MAX_JOBS: usize = 64;

/// Pass and fail counts of one property.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub held: u32,
    pub broken: u32,
    pub not_checked: u32,
}

/// The functions a connector exports to log messages; the message half
/// runs only when it has both.
pub const MESSAGE_FUNCTIONS: [&str; 2] = ["createMessageLog", "updateMessageLog"];

/// What a failing case left: a call case's or a message case's.
#[derive(Debug, Clone)]
pub enum FailedCase {
    Call(Box<Outcome>),
    Messages(Box<MessageOutcome>),
}

impl FailedCase {
    pub fn calls(&self) -> &[super::calls::CallNote] {
        match self {
            FailedCase::Call(outcome) => &outcome.calls,
            FailedCase::Messages(outcome) => &outcome.calls,
        }
    }

    pub fn requests(&self) -> &[crate::harness::JournalView] {
        match self {
            FailedCase::Call(outcome) => &outcome.requests,
            FailedCase::Messages(outcome) => &outcome.requests,
        }
    }

    pub fn faults(&self) -> &super::faults::Schedule {
        match self {
            FailedCase::Call(outcome) => &outcome.case.faults,
            FailedCase::Messages(outcome) => &outcome.case.faults,
        }
    }
}

/// The smallest case found that breaks a property.
#[derive(Debug, Clone)]
pub struct Failure {
    pub property: Property,
    pub reason: String,
    pub outcome: FailedCase,
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
    /// Whether the call half and the message half ran.
    pub ran_calls: bool,
    pub ran_messages: bool,
    /// Message cases played (the call half's count is `cases`).
    pub message_cases: u32,
    /// Why a half did not run, for the report's lines.
    pub notes: Vec<String>,
    /// How many cases had a fault aimed at the create that never fired,
    /// and the requests it was aimed at (each once).
    pub unfired_cases: u32,
    pub unfired: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The properties of the halves that ran, in report order.
    pub fn properties(&self) -> Vec<Property> {
        Property::ALL
            .into_iter()
            .filter(|property| {
                (self.ran_calls && Property::CALLS.contains(property))
                    || (self.ran_messages && Property::MESSAGES.contains(property))
            })
            .collect()
    }

    fn note_unfired(&mut self, outcome: &Outcome) {
        if outcome.unfired.is_empty() {
            return;
        }
        self.unfired_cases += 1;
        for request in &outcome.unfired {
            if !self.unfired.contains(request) {
                self.unfired.push(request.clone());
            }
        }
    }
}

/// The first case (in the cases' order) that broke a property.
struct FirstBreach {
    property: Property,
    index: usize,
    reason: String,
}

pub struct Runner<'a> {
    rt: &'a Runtime,
    crm: AdminClient,
    /// The `--api-key` user, with the server and the proxy config.
    home: Account,
    plan: Plan,
    /// The connector, loaded: the first job's.
    subject: Subject,
}

impl<'a> Runner<'a> {
    /// Checks the `--api-key` user a saved fixture is written for;
    /// `subject` is the connector, loaded.
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
        let crm_user_id = me
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("crm-user")
            .to_owned();
        let home = Account {
            server_url: server_url.trim_end_matches('/').to_owned(),
            api_key: plan.api_key.clone(),
            crm_user_id,
            hashed_account_id: "d1a5c0e2f4b6a8c0e2f4b6a8c0e2f4b6".into(),
            proxy_config: subject.proxy_config().cloned(),
            platform: plan
                .crm
                .clone()
                .unwrap_or_else(|| super::core::PLATFORM.to_owned()),
        };
        Ok(Runner {
            rt,
            crm,
            home,
            plan,
            subject,
        })
    }

    /// Whether the connector exports what the message half calls; with
    /// `--only messages`, an error saying what to export when it does not.
    pub fn logs_messages(&self) -> Result<bool, RunError> {
        let logs = MESSAGE_FUNCTIONS
            .iter()
            .all(|function| self.subject.exports(function));
        if !logs && self.plan.only == Only::Messages {
            return Err(RunError::Crm(format!(
                "--only messages: {} exports no {}; export createMessageLog and updateMessageLog (README.md, \"mockcrm contract\")",
                self.subject.ready().path,
                MESSAGE_FUNCTIONS
                    .iter()
                    .filter(|function| !self.subject.exports(function))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" or ")
            )));
        }
        Ok(logs)
    }

    /// Runs the plan: every case, tallied, and each broken property's
    /// first case shrunk.
    pub fn run(self) -> Result<Report, RunError> {
        let logs_messages = self.logs_messages()?;
        let Runner {
            rt,
            crm,
            home,
            plan,
            subject,
        } = self;
        let ready = subject.ready().clone();
        let stage = Stage {
            rt,
            crm: &crm,
            plan: &plan,
            home: &home,
        };
        let mut workers = vec![subject];
        let format = calls::startup_format(&mut Core {
            rt,
            plan: &plan,
            account: home.clone(),
            subject: &mut workers[0],
            crm: None,
        })?;
        let mut tallies: BTreeMap<Property, Tally> = Property::ALL
            .into_iter()
            .map(|property| (property, Tally::default()))
            .collect();
        let mut report = Report {
            ready,
            format: format.clone(),
            format_forced: plan.format.is_some(),
            seed: plan.seed,
            cases: plan.cases,
            replayed: plan.replay.is_some(),
            tallies: BTreeMap::new(),
            failures: Vec::new(),
            ran_calls: false,
            ran_messages: false,
            message_cases: 0,
            notes: Vec::new(),
            unfired_cases: 0,
            unfired: Vec::new(),
        };

        if let Some(replayed) = &plan.replay {
            let (verdicts, failed) = match replayed {
                Replay::Call(case) => {
                    let case = match case.session_id() {
                        Some(_) => (**case).clone(),
                        None => (**case).clone().with_session(&session(plan.seed, 0)),
                    };
                    let outcome = play::play(&stage, &mut workers[0], &case).map_err(stop_error)?;
                    report.ran_calls = true;
                    report.note_unfired(&outcome);
                    (
                        outcome.verdicts.clone(),
                        FailedCase::Call(Box::new(outcome)),
                    )
                }
                Replay::Messages(case) => {
                    let outcome =
                        message_play::play(&stage, &mut workers[0], case).map_err(stop_error)?;
                    report.ran_messages = true;
                    report.message_cases = 1;
                    (
                        outcome.verdicts.clone(),
                        FailedCase::Messages(Box::new(outcome)),
                    )
                }
            };
            let half = match replayed {
                Replay::Call(_) => &Property::CALLS,
                Replay::Messages(_) => &Property::MESSAGES,
            };
            tally(&mut tallies, &verdicts, half);
            for (property, reason) in verdicts.broken() {
                report.failures.push(Failure {
                    property,
                    reason: reason.to_owned(),
                    outcome: failed.clone(),
                    shrink_steps: 0,
                });
            }
            report.cases = 1;
            report.tallies = tallies;
            return Ok(report);
        }

        let log_format = format.log_format();
        let several_wanted = plan.jobs.clamp(1, plan.cases.max(1) as usize);
        while workers.len() < several_wanted {
            let next = workers[0].for_job();
            workers.push(next);
        }
        let several = workers.len() > 1;
        let mut failures = Vec::new();
        if plan.only.calls() {
            report.ran_calls = true;
            let strategy = cases::cases(log_format, plan.schedules.clone());
            let generated = generate(&strategy, plan.seed, plan.cases, |case, index| {
                case.with_session(&session(plan.seed, index))
            })?;
            let outcomes = jobs::run(&mut workers, &generated, |subject, index, case| {
                subject.tag_logs(several.then_some(case_number(index)));
                play::play(&stage, subject, case).map_err(stop_error)
            })?;
            for outcome in &outcomes {
                report.note_unfired(outcome);
            }
            let breaches = first_breaches(
                &mut tallies,
                &Property::CALLS,
                outcomes.iter().map(|o| &o.verdicts),
            );
            let shrunk = jobs::run(&mut workers, &breaches, |subject, _, breach| {
                subject.tag_logs(several.then_some(case_number(breach.index)));
                shrink_breach(&stage, subject, log_format, breach, &outcomes[breach.index])
            });
            failures.extend(shrunk?);
        }
        if plan.only.messages() && logs_messages {
            report.ran_messages = true;
            report.message_cases = plan.cases;
            let strategy = message_cases::message_cases(plan.message_schedules.clone());
            let seed = message_seed(plan.seed);
            let generated = generate(&strategy, seed, plan.cases, |case, index| {
                case.with_conversation(&conversation(plan.seed, index))
            })?;
            let outcomes = jobs::run(&mut workers, &generated, |subject, index, case| {
                subject.tag_logs(several.then_some(case_number(index)));
                message_play::play(&stage, subject, case).map_err(stop_error)
            })?;
            let breaches = first_breaches(
                &mut tallies,
                &Property::MESSAGES,
                outcomes.iter().map(|o| &o.verdicts),
            );
            let shrunk = jobs::run(&mut workers, &breaches, |subject, _, breach| {
                subject.tag_logs(several.then_some(case_number(breach.index)));
                shrink_message_breach(&stage, subject, breach, &outcomes[breach.index])
            });
            failures.extend(shrunk?);
        } else if plan.only.messages() {
            report.notes.push(format!(
                "message logs not played: the connector exports no {}; export createMessageLog and updateMessageLog to test them",
                MESSAGE_FUNCTIONS
                    .iter()
                    .filter(|function| !workers[0].exports(function))
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        // Both halves judge "nothing throws" and "settles in time": the
        // call half's failure (found first) stands for both.
        failures.sort_by_key(|failure| failure.property);
        failures.dedup_by_key(|failure| failure.property);
        report.tallies = tallies;
        report.failures = failures;
        Ok(report)
    }
}

/// `count` cases from the strategy for `seed`, each made unique by `name`.
fn generate<T: std::fmt::Debug>(
    strategy: &BoxedStrategy<T>,
    seed: u64,
    count: u32,
    name: impl Fn(T, usize) -> T,
) -> Result<Vec<T>, RunError> {
    let mut generator = case_generator(seed);
    let mut generated = Vec::new();
    for index in 0..count as usize {
        let tree = new_tree(strategy, &mut generator)?;
        generated.push(name(tree.current(), index));
    }
    Ok(generated)
}

/// Tallies the verdicts, and gives the first case (in the cases' order)
/// that broke each property.
fn first_breaches<'v>(
    tallies: &mut BTreeMap<Property, Tally>,
    half: &[Property],
    verdicts: impl Iterator<Item = &'v Verdicts>,
) -> Vec<FirstBreach> {
    let mut breaches: Vec<FirstBreach> = Vec::new();
    for (index, verdicts) in verdicts.enumerate() {
        tally(tallies, verdicts, half);
        for (property, reason) in verdicts.broken() {
            if breaches.iter().all(|breach| breach.property != property) {
                breaches.push(FirstBreach {
                    property,
                    index,
                    reason: reason.to_owned(),
                });
            }
        }
    }
    breaches
}

/// The message half draws from a generator of its own, so that adding it
/// changed no call case a seed gives.
fn message_seed(seed: u64) -> u64 {
    seed ^ 0x6d65_7373_6167_6573
}

/// The conversation of message case `index`: numeric, eight digits, so
/// that its message ids (two digits more) stay exact in JavaScript.
fn conversation(seed: u64, index: usize) -> String {
    format!("{}{:04}", 5100 + seed % 900, (index + 1) % 10_000)
}

/// What a played case of either half leaves for shrinking and the report.
trait Played: Clone {
    fn verdicts(&self) -> &Verdicts;
    fn failed(self) -> FailedCase;
}

impl Played for Outcome {
    fn verdicts(&self) -> &Verdicts {
        &self.verdicts
    }
    fn failed(self) -> FailedCase {
        FailedCase::Call(Box::new(self))
    }
}

impl Played for MessageOutcome {
    fn verdicts(&self) -> &Verdicts {
        &self.verdicts
    }
    fn failed(self) -> FailedCase {
        FailedCase::Messages(Box::new(self))
    }
}

/// The smallest message case that still breaks `breach.property`.
fn shrink_message_breach(
    stage: &Stage<'_>,
    subject: &mut Subject,
    breach: &FirstBreach,
    first: &MessageOutcome,
) -> Result<Failure, RunError> {
    let plan = stage.plan;
    let strategy = message_cases::message_cases(plan.message_schedules.clone());
    let name = conversation(plan.seed, breach.index);
    shrink_case(
        &strategy,
        message_seed(plan.seed),
        breach,
        first,
        |candidate: &MessageCase| {
            let candidate = candidate.clone().with_conversation(&name);
            message_play::play(stage, subject, &candidate)
        },
    )
}

/// The smallest call case that still breaks `breach.property`, from the
/// case that first broke it (`first`), played on `subject`.
fn shrink_breach(
    stage: &Stage<'_>,
    subject: &mut Subject,
    log_format: Option<LogFormat>,
    breach: &FirstBreach,
    first: &Outcome,
) -> Result<Failure, RunError> {
    let plan = stage.plan;
    let strategy = cases::cases(log_format, plan.schedules.clone());
    let session = session(plan.seed, breach.index);
    shrink_case(&strategy, plan.seed, breach, first, |candidate: &Case| {
        let candidate = candidate.clone().with_session(&session);
        play::play(stage, subject, &candidate)
    })
}

/// Shrinks the case that first broke `breach.property`: the
/// `breach.index`th drawn from `strategy` with `seed`, each simpler
/// candidate played by `play`.
fn shrink_case<C: std::fmt::Debug, O: Played>(
    strategy: &BoxedStrategy<C>,
    seed: u64,
    breach: &FirstBreach,
    first: &O,
    mut play: impl FnMut(&C) -> Result<O, Stop>,
) -> Result<Failure, RunError> {
    if breach.property == Property::SettlesInTime {
        // Every step of shrinking a hang would wait out the call timeout
        // and restart Node: the case stands as found.
        return Ok(Failure {
            property: breach.property,
            reason: breach.reason.clone(),
            outcome: first.clone().failed(),
            shrink_steps: 0,
        });
    }
    // The case's tree again: the generator replayed up to it (a tree
    // cannot cross threads, so it is made where it is shrunk).
    let mut generator = case_generator(seed);
    let mut tree = new_tree(strategy, &mut generator)?;
    for _ in 0..breach.index {
        tree = new_tree(strategy, &mut generator)?;
    }
    let shrunk = shrink::shrink(
        tree,
        (breach.reason.clone(), first.clone()),
        |candidate: &C| match play(candidate) {
            Ok(outcome) => match outcome.verdicts().get(breach.property) {
                Verdict::Broken(reason) => Tried::Broke(reason.clone(), outcome),
                _ => Tried::Held,
            },
            Err(Stop::Connector) => Tried::Unjudged,
            Err(Stop::Fatal(error)) => Tried::Fatal(error),
        },
    )
    .map_err(|error| match error {
        ShrinkError::Fatal(error) => error,
        ShrinkError::Aborted(why) => RunError::Crm(format!("shrinking stopped: {why}")),
    })?;
    Ok(Failure {
        property: breach.property,
        reason: shrunk.reason,
        outcome: shrunk.outcome.failed(),
        shrink_steps: shrunk.steps,
    })
}

/// The generator of a run's cases: the same seed, the same cases.
fn case_generator(seed: u64) -> TestRunner {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
    )
}

fn new_tree<T: std::fmt::Debug>(
    strategy: &BoxedStrategy<T>,
    generator: &mut TestRunner,
) -> Result<Box<dyn ValueTree<Value = T>>, RunError> {
    strategy
        .new_tree(generator)
        .map_err(|reason| RunError::Crm(format!("cannot generate a case: {reason}")))
}

/// The call session of case `index` (from 0): numeric, as RingCentral's
/// are, and the same for a seed in every run, so that a case and its
/// shrunk form read the same whatever `--jobs` is. Each case runs in a
/// tenant of its own, so sessions never meet across runs.
fn session(seed: u64, index: usize) -> String {
    format!("{}{:05}", 100_000 + seed % 900_000, index + 1)
}

/// The number a person reads for case `index` (from 0).
fn case_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// Counts one case's verdicts on its half's properties.
fn tally(tallies: &mut BTreeMap<Property, Tally>, verdicts: &Verdicts, half: &[Property]) {
    for property in half.iter().copied() {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::contract::faults::{aimed_at_create, default_schedules, Schedule};

    /// Which of `schedules` each generated case drew.
    fn drawn(format: LogFormat, schedules: &[Schedule], seed: u64, count: u32) -> Vec<usize> {
        let strategy = cases::cases(Some(format), schedules.to_vec());
        generate(&strategy, seed, count, |case, index| {
            case.with_session(&session(seed, index))
        })
        .expect("cases")
        .iter()
        .map(|case| {
            schedules
                .iter()
                .position(|schedule| *schedule == case.faults)
                .expect("a listed schedule")
        })
        .collect()
    }

    /// `tests/suite/contract_crm.rs` runs Redtail (HTML) and Insightly
    /// (plain text) connectors under the default faults with seed 6 and
    /// 6 cases, and claims every schedule is drawn: this holds it to that.
    #[test]
    fn seed_6_draws_every_default_schedule_in_six_cases_of_html_and_of_plain_text() {
        let schedules = aimed_at_create(default_schedules(Duration::from_secs(2)));
        for format in [LogFormat::Html, LogFormat::Plain] {
            let drawn = drawn(format, &schedules, 6, 6);
            for index in 0..schedules.len() {
                assert!(
                    drawn.contains(&index),
                    "{format:?}: schedule {index} never drawn in {drawn:?}"
                );
            }
            assert_eq!(
                drawn,
                self::drawn(format, &schedules, 6, 6),
                "the same seed, the same cases"
            );
        }
    }
}
