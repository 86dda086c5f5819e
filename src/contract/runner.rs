//! The contract run: checks the keys and finds the contacts cases are
//! logged against, generates the cases, has each one played (`play.rs`),
//! tallies the verdicts, and has the first case that breaks each property
//! shrunk (`shrink.rs`).
//!
//! It owns the order of cases and the bookkeeping; how one case is played
//! and judged is `play.rs`'s, what core passes `core.rs`'s, what counts as
//! a breach `properties.rs`'s, how it is shown `report.rs`'s. It must not
//! judge a case itself.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use tokio::runtime::Runtime;

use super::bridge::{Ready, StartError};
use super::cases::{self, Case, CONTACTS};
use super::core::{Account, CoreFormat};
use super::faults::Schedule;
use super::play::{stop_error, Outcome, Stop};
use super::properties::{Property, Verdict, Verdicts};
use super::shrink::{SHRINK_STEPS, SHRINK_TIME};
use super::subject::Subject;
use crate::cli::admin_client::{AdminClient, AdminError};
use crate::compose::{ComposeError, ComposeOptions};
use crate::interface::LogFormat;

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

pub struct Runner<'a> {
    pub(super) rt: &'a Runtime,
    pub(super) crm: AdminClient,
    pub(super) account: Account,
    pub(super) plan: Plan,
    pub(super) subject: Subject,
    pub(super) contacts: BTreeMap<String, String>,
    pub(super) sessions: u32,
    pub(super) session_prefix: String,
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
