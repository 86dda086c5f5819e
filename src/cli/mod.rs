//! The `mockcrm` command line: argument parsing and printing only. Each
//! command is a thin shell over the library — `serve.rs` over the server,
//! `connector.rs` over the composer and the reference connector, `admin.rs`
//! over the admin API's client, `contract.rs` over the contract runner —
//! and every failure ends as one line on
//! stderr and a non-zero exit, never a panic.

mod admin;
pub(crate) mod admin_client;
mod connector;
mod contract;
mod crms;
mod junit;
mod message;
mod serve;
mod tables;
mod tenant;

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde::de::DeserializeOwned;

use crate::compose::ComposeError;
use crate::interface::LogContent;
use crate::server::ServeError;
use admin::{ChecksArgs, FaultArgs, FaultsArgs, RequestsArgs, ResetArgs};
use admin_client::AdminError;
use connector::{ComposeArgs, GetArgs, LogArgs, UpdateArgs};
use contract::ContractArgs;
use crms::{CrmsArgs, CrmsError};
use serve::ServeArgs;
use tenant::TenantArgs;

#[derive(Debug, Parser)]
#[command(
    name = "mockcrm",
    version,
    about = "A local mock CRM for testing RingCentral App Connect connectors offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the mock CRM server.
    Serve(ServeArgs),
    /// Compose a call-log body (or with --shared-sms a shared-SMS conversation's subject and body) the way App Connect's core would, to stdout.
    Compose(ComposeArgs),
    /// Run the reference createCallLog against a running server.
    Log(LogArgs),
    /// Run the reference updateCallLog: recompose an activity's body with new values.
    Update(UpdateArgs),
    /// Run the reference getCallLog: an activity with its note parsed back out.
    Get(GetArgs),
    /// Run the reference createMessageLog (`message log`) or updateMessageLog (`message update`).
    Message(message::MessageArgs),
    /// Property-test your own connector the way App Connect core drives it; exit 1 if a property fails.
    Contract(ContractArgs),
    /// Print contract violations (e.g. a call session logged twice); exit 1 if any.
    Checks(ChecksArgs),
    /// Print the server's request journal, newest first.
    Requests(RequestsArgs),
    /// Make matching requests fail or slow down on purpose.
    Fault(FaultArgs),
    /// List the faults and how often each fired (spent ones too), or remove them.
    Faults(FaultsArgs),
    /// Put the server's data back to its seed (or empty), clearing the journal and faults.
    Reset(ResetArgs),
    /// Create, list or delete tenants: one organisation with its own key per CI job.
    Tenant(TenantArgs),
    /// Print how to reach the CRM faces a server serves (`serve --crm`) as `export` lines to eval, or JSON.
    Crms(CrmsArgs),
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("cannot read {path}: {source}; check the path")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid {what}: {detail}")]
    Parse {
        path: String,
        what: &'static str,
        detail: String,
    },
    #[error("cannot compose: {0}")]
    Compose(#[from] ComposeError),
    #[error("cannot compose the shared SMS: {0}")]
    SharedSms(#[from] crate::compose::SharedSmsError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("{error}; {hint}")]
    Database { error: String, hint: String },
    #[error("{0}")]
    Connector(String),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Crms(#[from] CrmsError),
    #[error("{field}: {message}")]
    InvalidArgument { field: String, message: String },
    #[error("{0}")]
    ProxyConfig(crate::proxy::ConfigError),
    #[error("cannot write output: {0}")]
    Write(std::io::Error),
    #[error("cannot write {path}: {source}; check that its directory exists and is writable")]
    WriteFile {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen for Ctrl-C and SIGTERM: {0}")]
    Signals(std::io::Error),
}

/// Parses the arguments, runs the command, and maps the outcome to an exit
/// code: 0 success, 1 a connector call that answered a failure (no
/// `logId`), 2 any other failure.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("mockcrm: error: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Compose(args) => connector::compose_command(args),
        Command::Log(args) => connector::log(args),
        Command::Update(args) => connector::update(args),
        Command::Get(args) => connector::get(args),
        Command::Message(args) => message::message(args),
        Command::Contract(args) => contract::contract(args),
        Command::Checks(args) => admin::checks(args),
        Command::Requests(args) => admin::requests(args),
        Command::Fault(args) => admin::fault(args),
        Command::Faults(args) => admin::faults(args),
        Command::Reset(args) => admin::reset(args),
        Command::Tenant(args) => tenant::tenant(args),
        Command::Crms(args) => crms::crms(args),
    }
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

pub(super) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|error| CliError::Connector(error.to_string()))?;
    write_stdout(&format!("{json}\n"))
}

/// Writes command output. A reader that stops early (`mockcrm get | head`)
/// is not an error: the output is simply not wanted any more.
pub(super) fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Write(error)),
        _ => Ok(()),
    }
}

/// 0 when the connector call succeeded, 1 when it answered a failure.
pub(super) fn exit_for(succeeded: bool) -> ExitCode {
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub(super) fn input_name(file: Option<&Path>) -> String {
    match file {
        Some(path) if path != Path::new("-") => path.display().to_string(),
        _ => "standard input".to_owned(),
    }
}

pub(super) fn read_input(file: Option<&Path>) -> Result<String, CliError> {
    let mut text = String::new();
    match file {
        Some(path) if path != Path::new("-") => {
            text = std::fs::read_to_string(path).map_err(|source| CliError::Read {
                path: path.display().to_string(),
                source,
            })?;
        }
        _ => {
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| CliError::Read {
                    path: "standard input".into(),
                    source,
                })?;
        }
    }
    Ok(text)
}

/// Parses JSON, naming the path of the offending field on failure.
pub(super) fn parse_json<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    what: &'static str,
) -> Result<T, CliError> {
    let parse_error = |detail: String| CliError::Parse {
        path: path.display().to_string(),
        what,
        detail,
    };
    let error = match located::<T>(text) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    if error.path().to_string() != "." {
        return Err(parse_error(describe_located(&error)));
    }
    // The call's content is flattened into the inputs, and serde cannot say
    // where inside a flattened part an error is. Reading the content on its
    // own names the field (`callLog.duration: …`) when the error is there.
    match located::<LogContent>(text) {
        Err(inner) if inner.path().to_string() != "." => Err(parse_error(describe_located(&inner))),
        _ => Err(parse_error(error.into_inner().to_string())),
    }
}

fn located<T: DeserializeOwned>(
    text: &str,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer)
}

fn describe_located(error: &serde_path_to_error::Error<serde_json::Error>) -> String {
    match error.path().to_string().as_str() {
        "." => error.inner().to_string(),
        field => format!("{field}: {}", error.inner()),
    }
}
