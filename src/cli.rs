//! The `mockcrm` command line (SPEC §2): argument parsing and printing only.
//! Each command is a thin shell over the library — `server`, `compose`,
//! `connector`, `admin` — and every failure ends as one line on stderr and
//! a non-zero exit, never a panic.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::de::DeserializeOwned;

use crate::admin::{faults_table, requests_table, violation_line, AdminClient, AdminError};
use crate::api::basic_header_for_key;
use crate::compose::{self, ComposeError, ComposeOptions, HostZone, UpdateStyle};
use crate::connector::{self, CrmClient, LogOptions, RetryPolicy, UpdateOptions};
use crate::harness::{FaultSpec, DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE};
use crate::interface::{ComposeRequest, CreateCallLogInput, LogFormat, MessageType};
use crate::server::{ServeError, Server, ServerConfig, DEFAULT_ADMIN_KEY, DEFAULT_READ_TIMEOUT};
use crate::store::{Location, Seed};

/// The key `mockcrm log` uses when neither `--api-key` nor the input's
/// `authHeader` gives one: the default seed's user.
pub const DEFAULT_API_KEY: &str = "mockcrm-dev-key";

#[derive(Debug, Parser)]
#[command(
    name = "mockcrm",
    version,
    about = "A local mock CRM for testing RingCentral App Connect connectors offline"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the mock CRM server.
    Serve(ServeArgs),
    /// Compose a call-log body the way App Connect's core would, to stdout.
    Compose(ComposeArgs),
    /// Run the reference createCallLog against a running server.
    Log(LogArgs),
    /// Run the reference updateCallLog: recompose an activity's body with new values.
    Update(UpdateArgs),
    /// Run the reference getCallLog: an activity with its note parsed back out.
    Get(GetArgs),
    /// Print contract violations (e.g. a call session logged twice); exit 1 if any.
    Checks(AdminArgs),
    /// Print the server's request journal, newest first.
    Requests(RequestsArgs),
    /// Make matching requests fail or slow down on purpose.
    Fault(FaultArgs),
    /// List the faults and how often each fired (spent ones too), or remove them.
    Faults(FaultsArgs),
    /// Put the server's data back to its seed (or empty), clearing the journal and faults.
    Reset(ResetArgs),
}

/// Where the server is and its admin key.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the mock CRM.
    #[arg(long, env = "MOCKCRM_SERVER", default_value = "http://127.0.0.1:8787")]
    pub server: String,
    /// The server's admin key.
    #[arg(long, env = "MOCKCRM_ADMIN_KEY", default_value = DEFAULT_ADMIN_KEY)]
    pub admin_key: String,
}

#[derive(Debug, Args)]
pub struct RequestsArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// How many entries, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Only requests with this method.
    #[arg(long)]
    pub method: Option<String>,
    /// Only requests to this exact path (no query string).
    #[arg(long)]
    pub path: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Empty the journal instead of printing it.
    #[arg(long, conflicts_with_all = ["limit", "method", "path", "json"])]
    pub clear: bool,
}

#[derive(Debug, Args)]
pub struct FaultsArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Remove the fault with this id.
    #[arg(long, value_name = "ID", conflicts_with = "json")]
    pub delete: Option<String>,
    /// Remove every fault.
    #[arg(long, conflicts_with_all = ["json", "delete"])]
    pub clear: bool,
}

#[derive(Debug, Args)]
pub struct FaultArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Only this method (any when absent).
    #[arg(long)]
    pub method: Option<String>,
    /// Exact path, or a prefix ending in `*`.
    #[arg(long)]
    pub path: String,
    /// Error status to answer (400-599).
    #[arg(long)]
    pub status: Option<u16>,
    /// Seconds to send as Retry-After.
    #[arg(long)]
    pub retry_after: Option<u64>,
    /// Milliseconds to wait before answering.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// How many matching requests get the fault (until deleted when absent).
    #[arg(long)]
    pub times: Option<u64>,
    /// Chance, 0 to 1, that a matching request gets the fault.
    #[arg(long, default_value_t = 1.0)]
    pub probability: f64,
    /// Let the write commit, then answer the status anyway (a lost response).
    #[arg(long)]
    pub after_commit: bool,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    #[command(flatten)]
    pub admin: AdminArgs,
    /// Empty the database instead of going back to the seed.
    #[arg(long)]
    pub empty: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 takes a free port.
    #[arg(long, env = "MOCKCRM_ADDR", default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,
    /// SQLite database file, created if missing; `:memory:` for a throwaway store.
    #[arg(long, env = "MOCKCRM_DB", default_value = "mockcrm.db")]
    pub db: String,
    /// JSON file of organisations, users, keys and contacts to load into an empty database.
    #[arg(long, env = "MOCKCRM_SEED")]
    pub seed: Option<PathBuf>,
    /// Bearer key for the /__admin/ routes.
    #[arg(long, env = "MOCKCRM_ADMIN_KEY", default_value = DEFAULT_ADMIN_KEY)]
    pub admin_key: String,
    /// How many requests the journal keeps (0 turns it off).
    #[arg(long, env = "MOCKCRM_JOURNAL_SIZE", default_value_t = DEFAULT_JOURNAL_SIZE)]
    pub journal_size: usize,
    /// MiB the journal's entries may hold, bodies included; the oldest go first.
    #[arg(long, env = "MOCKCRM_JOURNAL_MIB", default_value_t = (DEFAULT_JOURNAL_BYTES >> 20) as u64, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub journal_mib: u64,
    /// At most N requests per second per API key; more get 429 with Retry-After.
    #[arg(long, env = "MOCKCRM_RATE_LIMIT", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit: Option<u32>,
    /// Seconds a client may take to send a request's headers, and again its
    /// body, before it is cut off; shutdown waits at most twice this for requests.
    #[arg(long, env = "MOCKCRM_READ_TIMEOUT", default_value_t = DEFAULT_READ_TIMEOUT.as_secs_f64(), value_parser = parse_read_timeout)]
    pub read_timeout: f64,
}

fn parse_read_timeout(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.001 && *seconds <= 3600.0)
        .ok_or_else(|| format!("{text:?} is not a number of seconds from 0.001 to 3600"))
}

#[derive(Debug, Args)]
pub struct ComposeArgs {
    /// Body format; defaults to the request's `format`, else text/plain.
    #[arg(long)]
    pub format: Option<LogFormat>,
    /// How an `existingBody` is updated: `core` writes App Connect's own bytes,
    /// `clean` replaces each section in place. Defaults to the request's
    /// `update_style`, else core.
    #[arg(long, value_name = "core|clean")]
    pub update_style: Option<UpdateStyle>,
    #[command(flatten)]
    pub host_tz: HostTzArgs,
    /// Compose request (or createCallLog input) as JSON; `-` or absent reads stdin.
    pub file: Option<PathBuf>,
}

/// The zone App Connect's host formats dates in when a user has no offset.
#[derive(Debug, Args)]
pub struct HostTzArgs {
    /// IANA zone App Connect's host runs in, used for dates when the user has
    /// no timezoneOffset; default: the TZ environment variable, else UTC.
    #[arg(long, env = "MOCKCRM_HOST_TZ", value_name = "ZONE")]
    pub host_tz: Option<String>,
}

impl HostTzArgs {
    /// `--host-tz` (or `MOCKCRM_HOST_TZ`), else `TZ`, else UTC.
    fn resolve(&self) -> Result<HostZone, CliError> {
        if let Some(name) = self.host_tz.as_deref().filter(|n| !n.trim().is_empty()) {
            return HostZone::named(name.trim()).map_err(|error| CliError::InvalidArgument {
                field: "--host-tz".into(),
                message: error.to_string(),
            });
        }
        match std::env::var("TZ") {
            Ok(value) => HostZone::from_tz_value(&follow_zone_link(&value)).map_err(|error| {
                CliError::InvalidArgument {
                    field: "TZ".into(),
                    message: format!(
                        "{error}; or set --host-tz (MOCKCRM_HOST_TZ) to the zone App Connect's host runs in"
                    ),
                }
            }),
            Err(std::env::VarError::NotPresent) => Ok(HostZone::UTC),
            Err(std::env::VarError::NotUnicode(_)) => Err(CliError::InvalidArgument {
                field: "TZ".into(),
                message: "is not valid UTF-8; set --host-tz (MOCKCRM_HOST_TZ) to an IANA zone name".into(),
            }),
        }
    }
}

/// Where the CRM is and who to be there.
#[derive(Debug, Args)]
pub struct CrmArgs {
    /// Base URL of the mock CRM.
    #[arg(long, env = "MOCKCRM_SERVER", default_value = "http://127.0.0.1:8787")]
    pub server: String,
    /// API key; overrides the input's authHeader.
    #[arg(long, env = "MOCKCRM_API_KEY")]
    pub api_key: Option<String>,
    /// Attempts in all when the CRM is busy or unreachable (1: never retry).
    #[arg(long, default_value_t = RetryPolicy::default().max_attempts, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub max_attempts: u32,
    /// Total seconds for all attempts and the waits between them.
    #[arg(long, default_value_t = RetryPolicy::default().max_total.as_secs_f64())]
    pub retry_budget: f64,
}

impl CrmArgs {
    fn client(&self) -> Result<CrmClient, CliError> {
        if !(self.retry_budget.is_finite()
            && self.retry_budget > 0.0
            && self.retry_budget <= 3600.0)
        {
            return Err(CliError::Connector(format!(
                "--retry-budget {} must be a number of seconds between 0 and 3600",
                self.retry_budget
            )));
        }
        let policy = RetryPolicy {
            max_attempts: self.max_attempts,
            max_total: Duration::from_secs_f64(self.retry_budget),
            ..RetryPolicy::default()
        };
        CrmClient::new(&self.server)
            .map(|client| client.with_retry_policy(policy))
            .map_err(|e| CliError::Connector(e.to_string()))
    }

    /// `--api-key`, else the input's `authHeader`, else the default key.
    fn auth_header(&self, from_input: Option<String>) -> String {
        match (&self.api_key, from_input) {
            (Some(key), _) => basic_header_for_key(key),
            (None, Some(header)) if !header.trim().is_empty() => header,
            (None, _) => basic_header_for_key(DEFAULT_API_KEY),
        }
    }
}

/// A `TZ` that names a file (`:/etc/localtime`) names the zone that file
/// links to (`/usr/share/zoneinfo/Europe/Paris`); any other value, or a file
/// that links nowhere, is left as it is.
fn follow_zone_link(value: &str) -> String {
    let path = value.trim().trim_start_matches(':');
    if path.starts_with('/') {
        if let Ok(target) = std::fs::canonicalize(path) {
            return target.display().to_string();
        }
    }
    value.to_owned()
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub crm: CrmArgs,
    /// Body format, used to compose when composedLogDetails is empty.
    #[arg(long, default_value = "text/plain")]
    pub format: LogFormat,
    #[command(flatten)]
    pub host_tz: HostTzArgs,
    /// createCallLog input as JSON; `-` or absent reads stdin.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub crm: CrmArgs,
    /// The activity to update (the logId createCallLog returned).
    #[arg(long)]
    pub log_id: String,
    /// How the stored body is updated: `core` writes App Connect's own bytes,
    /// `clean` replaces each section in place.
    #[arg(long, value_name = "core|clean", default_value_t = UpdateStyle::Core)]
    pub update_style: UpdateStyle,
    #[command(flatten)]
    pub host_tz: HostTzArgs,
    /// createCallLog-shaped input with the new values (final duration,
    /// recording link, edited note, …); `-` or absent reads stdin.
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub crm: CrmArgs,
    /// The activity to read (the logId createCallLog returned).
    #[arg(long)]
    pub log_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
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
    #[error(transparent)]
    Serve(#[from] ServeError),
    #[error("{0}")]
    Connector(String),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("{field}: {message}")]
    InvalidArgument { field: String, message: String },
    #[error("cannot write output: {0}")]
    Write(std::io::Error),
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

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Serve(args) => serve(args),
        Command::Compose(args) => compose_command(args),
        Command::Log(args) => log(args),
        Command::Update(args) => update(args),
        Command::Get(args) => get(args),
        Command::Checks(args) => checks(args),
        Command::Requests(args) => requests(args),
        Command::Fault(args) => fault(args),
        Command::Faults(args) => faults(args),
        Command::Reset(args) => reset(args),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
    init_tracing();
    if args.db.trim().is_empty() {
        // SQLite would quietly open a temporary database for "".
        return Err(CliError::InvalidArgument {
            field: "--db".into(),
            message: "is empty; pass a file path, or :memory: for a throwaway store".into(),
        });
    }
    let seed = match &args.seed {
        Some(path) => parse_json::<Seed>(&read_input(Some(path))?, path, "seed file")?,
        None => Seed::default_seed(),
    };
    let config = ServerConfig {
        addr: args.addr,
        location: Location::parse(&args.db),
        seed,
        admin_key: args.admin_key,
        journal_size: args.journal_size,
        journal_bytes: usize::try_from(args.journal_mib << 20).unwrap_or(usize::MAX),
        rate_limit: args.rate_limit,
        clock: crate::clock::Clock::Real,
        read_timeout: Duration::from_secs_f64(args.read_timeout),
    };
    runtime()?.block_on(async {
        let server = Server::start(config).await?;
        let signals = ShutdownSignals::listen()?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "mockcrm listening on {}", server.url()).map_err(CliError::Write)?;
        stdout.flush().map_err(CliError::Write)?;
        tracing::info!(db = %args.db, "serving; Ctrl-C or SIGTERM stops");
        server.run_until(signals.received()).await;
        tracing::info!("stopped cleanly");
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C and SIGTERM, listened for from the moment this is made: made
/// before the ready line is printed, so a signal sent as soon as a script
/// has read that line still stops the server cleanly instead of killing it.
struct ShutdownSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn listen() -> Result<ShutdownSignals, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(ShutdownSignals {
                interrupt: signal(SignalKind::interrupt()).map_err(CliError::Signals)?,
                terminate: signal(SignalKind::terminate()).map_err(CliError::Signals)?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Completes on the first Ctrl-C or SIGTERM.
    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

fn compose_command(args: ComposeArgs) -> Result<ExitCode, CliError> {
    let path = input_name(args.file.as_deref());
    let request: ComposeRequest = parse_json(
        &read_input(args.file.as_deref())?,
        Path::new(&path),
        "compose request",
    )?;
    let options = ComposeOptions::new(args.format.or(request.format).unwrap_or(LogFormat::Plain))
        .with_update_style(
            args.update_style
                .or(request.update_style)
                .unwrap_or_default(),
        )
        .with_host_zone(args.host_tz.resolve()?);
    let body = compose::compose(&request, &options)?;
    write_stdout(&body)?;
    Ok(ExitCode::SUCCESS)
}

fn log(args: LogArgs) -> Result<ExitCode, CliError> {
    let mut input = read_call_log_input(args.file.as_deref())?;
    input.auth_header = Some(args.crm.auth_header(input.auth_header.take()));
    let crm = args.crm.client()?;
    let options = LogOptions {
        format: args.format,
        host_zone: args.host_tz.resolve()?,
    };
    let output =
        runtime()?.block_on(async { connector::create_call_log(&crm, &input, options).await });
    print_json(&output)?;
    Ok(exit_for(output.log_id.is_some()))
}

fn update(args: UpdateArgs) -> Result<ExitCode, CliError> {
    let mut input = read_call_log_input(args.file.as_deref())?;
    input.auth_header = Some(args.crm.auth_header(input.auth_header.take()));
    let crm = args.crm.client()?;
    let options = UpdateOptions {
        update_style: args.update_style,
        host_zone: args.host_tz.resolve()?,
    };
    let output = runtime()?
        .block_on(async { connector::update_call_log(&crm, &args.log_id, &input, options).await });
    let succeeded = output
        .return_message
        .as_ref()
        .is_some_and(|message| message.message_type == MessageType::Success);
    print_json(&output)?;
    Ok(exit_for(succeeded))
}

fn get(args: GetArgs) -> Result<ExitCode, CliError> {
    let auth = args.crm.auth_header(None);
    let crm = args.crm.client()?;
    let output = runtime()?
        .block_on(async { connector::get_call_log(&crm, &args.log_id, Some(&auth), None).await });
    print_json(&output)?;
    Ok(exit_for(output.call_log_info.is_some()))
}

fn admin_client(args: &AdminArgs) -> AdminClient {
    AdminClient::new(&args.server, &args.admin_key)
}

fn checks(args: AdminArgs) -> Result<ExitCode, CliError> {
    let violations = runtime()?.block_on(admin_client(&args).checks())?;
    let lines: String = violations
        .iter()
        .map(|violation| format!("{}\n", violation_line(violation)))
        .collect();
    write_stdout(&lines)?;
    eprintln!("mockcrm: {} contract violation(s)", violations.len());
    Ok(exit_for(violations.is_empty()))
}

fn requests(args: RequestsArgs) -> Result<ExitCode, CliError> {
    let client = admin_client(&args.admin);
    if args.clear {
        runtime()?.block_on(client.clear_requests())?;
        return Ok(ExitCode::SUCCESS);
    }
    let entries = runtime()?.block_on(client.requests(
        args.limit,
        args.method.as_deref(),
        args.path.as_deref(),
    ))?;
    if args.json {
        print_json(&serde_json::json!({ "items": entries }))?;
    } else {
        write_stdout(&requests_table(&entries))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn fault(args: FaultArgs) -> Result<ExitCode, CliError> {
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
    let fault = runtime()?.block_on(admin_client(&args.admin).add_fault(&spec))?;
    print_json(&fault)?;
    Ok(ExitCode::SUCCESS)
}

fn faults(args: FaultsArgs) -> Result<ExitCode, CliError> {
    let client = admin_client(&args.admin);
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

fn reset(args: ResetArgs) -> Result<ExitCode, CliError> {
    runtime()?.block_on(admin_client(&args.admin).reset(args.empty))?;
    Ok(ExitCode::SUCCESS)
}

fn read_call_log_input(file: Option<&Path>) -> Result<CreateCallLogInput, CliError> {
    let path = input_name(file);
    parse_json(&read_input(file)?, Path::new(&path), "createCallLog input")
}

fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|error| CliError::Connector(error.to_string()))?;
    write_stdout(&format!("{json}\n"))
}

/// Writes command output. A reader that stops early (`mockcrm get | head`)
/// is not an error: the output is simply not wanted any more.
fn write_stdout(text: &str) -> Result<(), CliError> {
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
fn exit_for(succeeded: bool) -> ExitCode {
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn input_name(file: Option<&Path>) -> String {
    match file {
        Some(path) if path != Path::new("-") => path.display().to_string(),
        _ => "standard input".to_owned(),
    }
}

fn read_input(file: Option<&Path>) -> Result<String, CliError> {
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
fn parse_json<T: DeserializeOwned>(
    text: &str,
    path: &Path,
    what: &'static str,
) -> Result<T, CliError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = error.path().to_string();
        let detail = if field == "." {
            error.inner().to_string()
        } else {
            format!("{field}: {}", error.inner())
        };
        CliError::Parse {
            path: path.display().to_string(),
            what,
            detail,
        }
    })
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("mockcrm=info,warn"));
    // A second init (tests) is harmless; the first subscriber stays. Colours
    // only on a terminal: a CI log or a file would get raw escape codes.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
