//! `mockcrm contract`: property-tests a developer's own App Connect
//! connector the way App Connect core drives it. A Node.js bridge shipped
//! in the binary (`bridge.js`, `PROTOCOL.md`) loads the connector; mockcrm
//! plays core (`CORE_CALLS.md`): it generates calls, composes their bodies
//! and calls `createCallLog` → `getCallLog` → `updateCallLog` →
//! `getCallLog` with core's exact arguments, under injected faults, then
//! checks each property against what the CRM itself holds; and, for a
//! connector that logs messages, core's `createMessageLog` handler over
//! generated conversations (the message half, `--only`).
//!
//! - `bridge.rs`: the Node process and the protocol client;
//! - `subject.rs`: the connector under test: a module under that bridge,
//!   or a proxy-connector config run in-process by mockcrm's proxy engine;
//! - `cases.rs`: the generated cases (proptest strategies);
//! - `faults.rs`: fault schedules; `crm_faults.rs`: under `--crm`, the
//!   request that creates the activity in each CRM, where the default
//!   faults are aimed;
//! - `core.rs`: mockcrm as App Connect core (arguments, composing);
//! - `properties.rs`: the properties and the comparisons behind them;
//! - `plan.rs`: what a run is asked to do, and why it could not start;
//! - `runner.rs`: the run: cases generated, tallied, failures shrunk;
//! - `jobs.rs`: cases (and shrinks) played several at a time, each job
//!   with a connector of its own, results in the cases' order;
//! - `play.rs`: playing one case, core's calls in order, and what it left;
//! - `message_cases.rs`, `message_play.rs`, `message_properties.rs`: the
//!   message half: conversations as core receives them, played as core's
//!   `createMessageLog` handler plays them, judged from the CRM's logs and
//!   their revisions;
//! - `tenant.rs`: the throwaway organisation each case runs in, which
//!   scopes its faults, its journal and its activities;
//! - `calls.rs`: calling the connector as core does (auth header, format);
//! - `crm.rs`: `--crm`: a connector written for a CRM's own API, signed
//!   in as core does; `session.rs`: the user row and environment core
//!   keeps for it; `calls/refresh.rs`: core's OAuth sign-in and its token
//!   refresh before every call;
//! - `answers.rs`: how core reads an answer, and the checks on one answer;
//! - `shrink.rs`: shrinking a failing case with proptest;
//! - `report.rs`: the table, each failure, the fixture file, JUnit XML.
//!
//! It reaches the CRM only over HTTP (the admin API and a user's API key),
//! never through the store, so it tests a server started elsewhere exactly
//! as one started for it.

mod answers;
mod bridge;
mod calls;
mod cases;
mod core;
mod crm;
mod crm_faults;
mod faults;
mod jobs;
mod message_cases;
mod message_play;
mod message_properties;
mod plan;
mod play;
mod properties;
mod report;
mod runner;
mod session;
mod shrink;
mod subject;
mod tenant;

pub use bridge::{split_command, Launch, Launcher, LogSink, Stream};
pub use crm::{connection as crm_connection, launch_env as crm_launch_env};
pub use faults::{
    aimed_at_create, check_aims, default_message_schedules, default_schedules, is_message_step,
    longest_delay, none as no_faults, on_messages, parse_file as parse_faults,
    token_expiry_schedules,
};
pub use plan::{Only, Plan};
pub use report::{case_from_fixture, failure_text, fixture, junit, table, Setup};
pub use runner::{Report, Runner, DEFAULT_JOBS, MAX_JOBS};
pub use subject::Subject;
