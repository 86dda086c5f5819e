//! The commands a CI job drives the server's admin API with: `checks`,
//! `requests`, `fault`, `faults` and `reset`, through the typed
//! `AdminClient`, printing tables (`tables.rs`) or JSON.

use std::process::ExitCode;

use clap::Args;

use super::admin_client::{AdminClient, RequestsQuery};
use super::tables::{faults_table, requests_table, violation_line};
use super::{exit_for, print_json, runtime, write_stdout, CliError};
use crate::harness::FaultSpec;
use crate::server::DEFAULT_ADMIN_KEY;

/// Where the server is and its admin key.
#[derive(Debug, Args)]
pub(super) struct AdminArgs {
    /// Base URL of the mock CRM.
    #[arg(long, env = "MOCKCRM_SERVER", default_value = "http://127.0.0.1:8787")]
    server: String,
    /// The server's admin key.
    #[arg(long, env = "MOCKCRM_ADMIN_KEY", default_value = DEFAULT_ADMIN_KEY)]
    admin_key: String,
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
    /// Let the write commit, then answer the status anyway (a lost response).
    #[arg(long)]
    after_commit: bool,
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
    Ok(AdminClient::new(&args.server, &args.admin_key)?)
}

pub(super) fn checks(args: AdminArgs) -> Result<ExitCode, CliError> {
    let violations = runtime()?.block_on(admin_client(&args)?.checks())?;
    let lines: String = violations
        .iter()
        .map(|violation| format!("{}\n", violation_line(violation)))
        .collect();
    write_stdout(&lines)?;
    eprintln!("mockcrm: {} contract violation(s)", violations.len());
    Ok(exit_for(violations.is_empty()))
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
