//! The commands a CI job drives the server's admin API with: `checks`,
//! `requests`, `fault`, `faults` and `reset`, through the typed
//! `AdminClient`, printing tables (`tables.rs`), JSON or, for `checks`, a
//! JUnit report (`junit.rs`). Each works on the whole server, or with
//! `--org` (or `MOCKCRM_ORG`, which `mockcrm tenant new` prints) on one
//! organisation alone.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::admin_client::{AdminClient, RequestsQuery};
use super::junit::checks_report;
use super::tables::{faults_table, requests_table, violation_line};
use super::{exit_for, print_json, runtime, write_stdout, CliError};
use crate::harness::{FaultKind, FaultSpec};
use crate::server::DEFAULT_ADMIN_KEY;

/// Where the server is and its admin key.
#[derive(Debug, Args)]
pub(super) struct ServerArgs {
    /// Base URL of the mock CRM.
    #[arg(
        long,
        alias = "url",
        env = "MOCKCRM_SERVER",
        default_value = "http://127.0.0.1:8787"
    )]
    server: String,
    /// The server's admin key.
    #[arg(long, env = "MOCKCRM_ADMIN_KEY", default_value = DEFAULT_ADMIN_KEY)]
    admin_key: String,
}

impl ServerArgs {
    pub(super) fn client(&self) -> Result<AdminClient, CliError> {
        Ok(AdminClient::new(&self.server, &self.admin_key)?)
    }

    /// The server's base URL, as given.
    pub(super) fn url(&self) -> &str {
        &self.server
    }
}

/// The server, and the organisation to work on.
#[derive(Debug, Args)]
pub(super) struct AdminArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Only this organisation's data, journal and faults (its id, org_…,
    /// from `mockcrm tenant new` or `tenant list`); the whole server when absent.
    #[arg(long, env = "MOCKCRM_ORG", value_name = "ID")]
    org: Option<String>,
}

#[derive(Debug, Args)]
pub(super) struct ChecksArgs {
    #[command(flatten)]
    admin: AdminArgs,
    /// Also write the checks as a JUnit XML report to FILE, one test case per check.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct RequestsArgs {
    #[command(flatten)]
    admin: AdminArgs,
    /// How many entries, newest first.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Only requests with this method.
    #[arg(long)]
    method: Option<String>,
    /// Only requests to this exact path (no query string).
    #[arg(long)]
    path: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Empty the journal instead of printing it.
    #[arg(long, conflicts_with_all = ["limit", "method", "path", "json"])]
    clear: bool,
}

#[derive(Debug, Args)]
pub(super) struct FaultsArgs {
    #[command(flatten)]
    admin: AdminArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Remove the fault with this id.
    #[arg(long, value_name = "ID", conflicts_with = "json")]
    delete: Option<String>,
    /// Remove every fault.
    #[arg(long, conflicts_with_all = ["json", "delete"])]
    clear: bool,
}

#[derive(Debug, Args)]
pub(super) struct FaultArgs {
    #[command(flatten)]
    admin: AdminArgs,
    /// Only this method (any when absent).
    #[arg(long)]
    method: Option<String>,
    /// Exact path, or a prefix ending in `*`.
    #[arg(long)]
    path: String,
    /// Error status to answer (400-599).
    #[arg(long)]
    status: Option<u16>,
    /// Seconds to send as Retry-After.
    #[arg(long)]
    retry_after: Option<u64>,
    /// Milliseconds to wait before answering.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// How many matching requests get the fault (until deleted when absent).
    #[arg(long)]
    times: Option<u64>,
    /// Chance, 0 to 1, that a matching request gets the fault.
    #[arg(long, default_value_t = 1.0)]
    probability: f64,
    /// Let the write commit, then answer the status anyway (a lost response),
    /// or close the connection anyway (kinds reset and empty).
    #[arg(long)]
    after_commit: bool,
    /// What the fault does: answer a status, or at the connection level
    /// reset it, close it empty, truncate the answer, or dribble it over --delay-ms.
    #[arg(long, value_name = "status|reset|empty|truncated|dribble", default_value = "status", value_parser = parse_kind)]
    kind: FaultKind,
}

fn parse_kind(text: &str) -> Result<FaultKind, String> {
    serde_json::from_value(serde_json::Value::from(text))
        .map_err(|_| format!("{text:?} is not a kind: status, reset, empty, truncated or dribble"))
}

#[derive(Debug, Args)]
pub(super) struct ResetArgs {
    #[command(flatten)]
    admin: AdminArgs,
    /// Empty the database instead of going back to the seed.
    #[arg(long)]
    empty: bool,
}

fn admin_client(args: &AdminArgs) -> Result<AdminClient, CliError> {
    Ok(args.server.client()?.scoped(args.org.as_deref()))
}

pub(super) fn checks(args: ChecksArgs) -> Result<ExitCode, CliError> {
    let report = runtime()?.block_on(admin_client(&args.admin)?.checks())?;
    if let Some(path) = &args.junit {
        let xml = checks_report(&report, args.admin.org.as_deref());
        std::fs::write(path, xml).map_err(|source| CliError::WriteFile {
            path: path.display().to_string(),
            source,
        })?;
    }
    let lines: String = report
        .violations
        .iter()
        .map(|violation| format!("{}\n", violation_line(violation)))
        .collect();
    write_stdout(&lines)?;
    eprintln!("mockcrm: {} contract violation(s)", report.violations.len());
    Ok(exit_for(report.violations.is_empty()))
}

pub(super) fn requests(args: RequestsArgs) -> Result<ExitCode, CliError> {
    let client = admin_client(&args.admin)?;
    if args.clear {
        runtime()?.block_on(client.clear_requests())?;
        return Ok(ExitCode::SUCCESS);
    }
    let entries = runtime()?.block_on(client.requests(&RequestsQuery {
        limit: args.limit,
        method: args.method.as_deref(),
        path: args.path.as_deref(),
    }))?;
    if args.json {
        print_json(&serde_json::json!({ "items": entries }))?;
    } else {
        write_stdout(&requests_table(&entries))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn fault(args: FaultArgs) -> Result<ExitCode, CliError> {
    let spec = FaultSpec {
        method: args.method,
        path: args.path,
        status: args.status,
        retry_after: args.retry_after,
        delay_ms: args.delay_ms,
        times: args.times,
        probability: args.probability,
        after_commit: args.after_commit,
        kind: args.kind,
        // The client scopes by `--org` itself.
        org: None,
    };
    spec.validate()
        .map_err(|(field, message)| CliError::InvalidArgument {
            field: format!("--{}", field.replace('_', "-")),
            message,
        })?;
    let fault = runtime()?.block_on(admin_client(&args.admin)?.add_fault(&spec))?;
    print_json(&fault)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn faults(args: FaultsArgs) -> Result<ExitCode, CliError> {
    let client = admin_client(&args.admin)?;
    if let Some(id) = &args.delete {
        runtime()?.block_on(client.delete_fault(id))?;
    } else if args.clear {
        runtime()?.block_on(client.clear_faults())?;
    } else {
        let faults = runtime()?.block_on(client.faults())?;
        if args.json {
            print_json(&serde_json::json!({ "items": faults }))?;
        } else {
            write_stdout(&faults_table(&faults))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn reset(args: ResetArgs) -> Result<ExitCode, CliError> {
    runtime()?.block_on(admin_client(&args.admin)?.reset(args.empty))?;
    Ok(ExitCode::SUCCESS)
}
