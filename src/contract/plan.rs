//! What a contract run is asked to do (`Plan`) and why it could not be
//! carried out at all (`RunError`): the data every part of a run shares,
//! kept apart from the runner so that the parts below it (playing a case,
//! calling the connector, the tenant) need not reach back up to it.
//!
//! Data only: it must not run anything.

use std::time::Duration;

use super::bridge::StartError;
use super::cases::Case;
use super::faults::Schedule;
use super::message_cases::MessageCase;
use crate::cli::admin_client::AdminError;
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
    /// The user a saved fixture is written for (`--api-key`); each case
    /// runs as the user of a tenant of its own.
    pub api_key: String,
    /// How many cases are played at once, each job with a connector of
    /// its own.
    pub jobs: usize,
    /// One case from a fixture instead of generated ones.
    pub replay: Option<Replay>,
    /// Which halves to run (`--only`).
    pub only: Only,
    /// The message half's schedules (`--faults` on the message calls).
    pub message_schedules: Vec<Schedule>,
    /// `--crm`: the CRM face the connector is written for; each case's
    /// user signs in to it as App Connect core signs a user in.
    pub crm: Option<String>,
}

/// A saved case to play again: a call case or a message case.
#[derive(Debug, Clone)]
pub enum Replay {
    Call(Box<Case>),
    Messages(MessageCase),
}

/// `--only`: which halves of the contract a run plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Only {
    /// Calls, and messages when the connector logs messages.
    #[default]
    Both,
    Calls,
    Messages,
}

impl Only {
    pub fn calls(self) -> bool {
        self != Only::Messages
    }

    pub fn messages(self) -> bool {
        self != Only::Calls
    }
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
