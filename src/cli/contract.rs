//! `mockcrm contract`: its flags, the connector (a JavaScript module, or an
//! App Connect proxy-connector config), the CRM it runs against (a running
//! one, or a throwaway in-process one with `--serve`, serving the config
//! too), and printing and saving what the run found. The run itself is
//! `crate::contract`'s.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::admin_client::AdminClient;
use super::connector::HostTzArgs;
use super::{read_input, runtime, write_stdout, CliError};
use crate::compose::{ComposeOptions, UpdateStyle};
use crate::connector::ProxyConnector;
use crate::contract::{self, Launch, Launcher, Plan, Report, Runner, Setup, Stream, Subject};
use crate::interface::LogFormat;
use crate::proxy::ProxyConfig;
use crate::server::{Server, ServerConfig, TlsSettings, DEFAULT_ADMIN_KEY};

/// Where a failing case is saved when `--save-failing` names no file.
const DEFAULT_FIXTURE: &str = "mockcrm-contract-failing.json";

/// How much longer than the connector's own timeout `--faults default`
/// delays a create.
const PAST_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
#[command(after_help = "\
A connector for a CRM's own API (--crm redtail|insightly) runs against that
CRM's face of a throwaway server, signed in and handed the user record (with
save() and update()) and environment App Connect core hands it, plus
DATABASE_URL=sqlite::memory:; it is registered in @app-connect/core's registry
when that resolves from its folder. App Connect's own connector, in a folder
with its dependencies:

  npm install @app-connect/core axios moment moment-timezone awesome-phonenumber tsx
  mockcrm contract --crm redtail --node \"npx tsx\" index.ts

An OAuth CRM (--crm pipedrive|clio|bullhorn) is served with hour-long access
tokens; they expire exactly when a fault says so (\"expire_tokens\": \"core_knows\"
or \"crm_only\" in a --faults file; --faults default has both, before
createCallLog), never because the machine was slow.

TypeScript connectors run with --node \"npx tsx\". `mockcrm crms` prints a running
server's connection info; README.md has the details.")]
pub(super) struct ContractArgs {
    /// The connector: a JavaScript module (CommonJS or ES module) exporting
    /// createCallLog, getCallLog and updateCallLog (and createMessageLog and
    /// updateMessageLog for the message half), or an App Connect
    /// proxy-connector config (`.json`), run by mockcrm's own proxy engine.
    #[arg(required_unless_present = "proxy_config")]
    connector: Option<String>,
    /// An App Connect proxy-connector config: with no CONNECTOR it is the
    /// connector under test (as CONNECTOR.json is); --serve serves it either way.
    #[arg(long, value_name = "FILE")]
    proxy_config: Option<PathBuf>,
    /// A running mockcrm to test against (default http://127.0.0.1:8787).
    /// Each case runs in a tenant of its own, deleted after it; nothing else
    /// on the server is touched.
    #[arg(long, env = "MOCKCRM_SERVER", value_name = "URL")]
    server: Option<String>,
    /// Start a throwaway in-memory mockcrm for the run instead (with the
    /// default seed and keys: --server, --api-key and --admin-key are unused).
    #[arg(long)]
    serve: bool,
    /// The connector is written for this CRM's own API (redtail,
    /// insightly, pipedrive, clio, bullhorn): it runs against that CRM's face of a throwaway mockcrm
    /// (as --serve), signed in and handed the user record and environment
    /// App Connect core hands it (`mockcrm crms` prints them); the
    /// properties are still judged from the store.
    #[arg(long, value_name = "NAME")]
    crm: Option<String>,
    /// API key of the CRM user a saved failing case is written for (`mockcrm
    /// log FILE` logs as them); each case itself runs as its tenant's user.
    #[arg(long, env = "MOCKCRM_API_KEY", default_value = "mockcrm-dev-key")]
    api_key: String,
    /// The server's admin key (for its journal and faults).
    #[arg(long, env = "MOCKCRM_ADMIN_KEY", default_value = DEFAULT_ADMIN_KEY)]
    admin_key: String,
    /// Compose bodies in this format instead of the one the connector's
    /// getLogFormatType gives.
    #[arg(long, value_name = "text/plain|text/html|text/markdown")]
    format: Option<LogFormat>,
    /// How many generated cases to play.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    cases: u32,
    /// Seed of the generated cases (printed with every run); random when absent.
    #[arg(long)]
    seed: Option<u64>,
    /// How many cases run at once, each with a Node.js process of its own.
    /// Cases mostly wait on the CRM's faults, so more jobs than cores pays.
    #[arg(long, env = "MOCKCRM_JOBS", default_value_t = contract::DEFAULT_JOBS, value_parser = jobs)]
    jobs: usize,
    /// Faults each case runs under: none, default (no fault, a 503 after
    /// commit, a 429 with Retry-After, a 502, a delay past
    /// --connector-timeout, one drawn per case; with --crm on the request
    /// that creates the activity, and for an OAuth CRM the access token
    /// expired before createCallLog, with App Connect core's record knowing
    /// or not), or a JSON file of schedules.
    #[arg(long, default_value = "default", value_name = "none|default|FILE")]
    faults: String,
    /// The connector's own timeout for one CRM request, in seconds: the
    /// default faults delay a create 1 s longer than this. Default 5, or a
    /// proxy config's requestDefaults.timeoutSeconds.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    connector_timeout: Option<f64>,
    /// How updates are composed: `core` writes App Connect's own bytes,
    /// `clean` replaces each section in place.
    #[arg(long, value_name = "core|clean", default_value_t = UpdateStyle::Core)]
    update_style: UpdateStyle,
    #[command(flatten)]
    host_tz: HostTzArgs,
    /// The command that runs Node.js, split on spaces (`npx tsx` for TypeScript).
    #[arg(long, default_value = "node", value_name = "CMD")]
    node: String,
    /// Seconds one connector call may take before its case fails and the
    /// connector is restarted.
    #[arg(long, default_value_t = 30.0, value_name = "SECS", value_parser = seconds)]
    call_timeout: f64,
    /// Write a JUnit XML report here: one test case per property.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Where a failing case is saved as a fixture (default
    /// mockcrm-contract-failing.json, with the property's name added when
    /// several fail).
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = DEFAULT_FIXTURE)]
    save_failing: Option<PathBuf>,
    /// Play one saved failing case (a fixture this command wrote, or any
    /// createCallLog input) instead of generated ones.
    #[arg(long, value_name = "FIXTURE")]
    replay: Option<PathBuf>,
    /// Play only call logs or only message logs. By default both: message
    /// logs when the connector exports createMessageLog and updateMessageLog
    /// (the report says so when it does not); --cases of each.
    #[arg(long, value_name = "calls|messages", value_parser = only)]
    only: Option<contract::Only>,
}

fn only(text: &str) -> Result<contract::Only, String> {
    match text {
        "calls" => Ok(contract::Only::Calls),
        "messages" => Ok(contract::Only::Messages),
        other => Err(format!("{other:?} is neither calls nor messages")),
    }
}

fn seconds(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.001 && *seconds <= 3600.0)
        .ok_or_else(|| format!("{text:?} is not a number of seconds from 0.001 to 3600"))
}

fn jobs(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|jobs| (1..=contract::MAX_JOBS).contains(jobs))
        .ok_or_else(|| {
            format!(
                "{text:?} is not a number of jobs from 1 to {} (each job is a Node.js process)",
                contract::MAX_JOBS
            )
        })
}

fn invalid(field: &str, message: String) -> CliError {
    CliError::InvalidArgument {
        field: field.into(),
        message,
    }
}

/// What is under test: a JavaScript module, or a proxy config the engine
/// runs; and the config the server serves, if any.
enum Tested {
    Module {
        path: String,
        served: Option<LoadedConfig>,
    },
    Config(LoadedConfig),
}

struct LoadedConfig {
    path: String,
    config: ProxyConfig,
    /// As written, for `proxyConfig` in core's arguments.
    json: serde_json::Value,
}

impl ContractArgs {
    /// The CRM face `--crm` names, or why there is none such.
    fn crm(&self) -> Result<Option<String>, CliError> {
        let Some(given) = &self.crm else {
            return Ok(None);
        };
        let name = given.trim().to_ascii_lowercase();
        if !crate::faces::CRM_NAMES.contains(&name.as_str()) {
            return Err(invalid(
                "--crm",
                format!(
                    "{given:?} is not a CRM mockcrm serves; it serves {}",
                    crate::faces::CRM_NAMES.join(", ")
                ),
            ));
        }
        if self.proxy_config.is_some()
            || self
                .connector
                .as_deref()
                .is_some_and(|path| path.to_ascii_lowercase().ends_with(".json"))
        {
            return Err(invalid(
                "--crm",
                "takes a JavaScript or TypeScript connector written for that CRM's API, not a proxy config; drop --crm to test a proxy config".into(),
            ));
        }
        Ok(Some(name))
    }

    fn tested(&self) -> Result<Tested, CliError> {
        let is_config = |path: &str| path.to_ascii_lowercase().ends_with(".json");
        match (&self.connector, &self.proxy_config) {
            (Some(path), Some(config)) if is_config(path) && Path::new(path) != config => {
                Err(invalid(
                    "--proxy-config",
                    format!(
                        "names {} while the connector is the config {path}; give the config once",
                        config.display()
                    ),
                ))
            }
            (Some(path), _) if is_config(path) => Ok(Tested::Config(load_config(Path::new(path))?)),
            (Some(path), config) => Ok(Tested::Module {
                path: path.clone(),
                served: config.as_deref().map(load_config).transpose()?,
            }),
            (None, Some(config)) => Ok(Tested::Config(load_config(config)?)),
            (None, None) => Err(invalid(
                "CONNECTOR",
                "give your connector module, or --proxy-config with your App Connect proxy config"
                    .into(),
            )),
        }
    }
}

impl Tested {
    fn name(&self) -> &str {
        match self {
            Tested::Module { path, .. } => path,
            Tested::Config(loaded) => &loaded.path,
        }
    }

    fn served(&self) -> Option<&LoadedConfig> {
        match self {
            Tested::Module { served, .. } => served.as_ref(),
            Tested::Config(loaded) => Some(loaded),
        }
    }
}

/// Reads and checks a proxy config as `mockcrm serve` does; what it gets
/// wrong but can live with is a warning on stderr.
fn load_config(path: &Path) -> Result<LoadedConfig, CliError> {
    let name = path.display().to_string();
    let text = read_input(Some(path))?;
    let loaded = crate::proxy::load(&name, &text).map_err(CliError::ProxyConfig)?;
    for warning in &loaded.warnings {
        eprintln!("mockcrm: warning: {warning}");
    }
    let json = serde_json::from_str(&text).map_err(|error| CliError::Parse {
        path: name.clone(),
        what: "proxy config",
        detail: error.to_string(),
    })?;
    Ok(LoadedConfig {
        path: name,
        config: loaded.config,
        json,
    })
}

pub(super) fn contract(args: ContractArgs) -> Result<ExitCode, CliError> {
    let crm_face = args.crm()?;
    let tested = args.tested()?;
    // A CRM face is served by a server of the run's own.
    let serve = args.serve || crm_face.is_some();
    let call_timeout = Duration::from_secs_f64(args.call_timeout);
    // A proxy config's own timeout is the one its requests run under.
    let own_timeout = match (&tested, args.connector_timeout) {
        (_, Some(seconds)) => seconds,
        (Tested::Config(loaded), None) => loaded
            .config
            .request_defaults
            .timeout_seconds
            .filter(|seconds| *seconds > 0.0 && seconds.is_finite())
            .unwrap_or(crate::proxy::render::DEFAULT_TIMEOUT_SECONDS),
        (Tested::Module { .. }, None) => 5.0,
    };
    let delay = Duration::from_secs_f64(own_timeout) + PAST_TIMEOUT;
    let (schedules, message_schedules, faults_name) = match args.faults.as_str() {
        "none" => (
            contract::no_faults(),
            contract::no_faults(),
            "none".to_owned(),
        ),
        // Under --crm, the faults hit the request that creates the
        // activity (a call log or a message log) in that CRM: the write a
        // lost answer duplicates.
        // An OAuth CRM's tokens also expire, at an exact moment: before
        // the create, with core's record knowing and without.
        "default" if crm_face.is_some() => {
            let oauth = crm_face
                .as_deref()
                .and_then(crate::faces::crm_face)
                .is_some_and(|face| !face.expiring_secrets().is_empty());
            let mut calls = contract::default_schedules(delay);
            if oauth {
                calls.extend(contract::token_expiry_schedules());
            }
            let messages = contract::on_messages(calls.clone());
            (
                contract::aimed_at_create(calls),
                contract::aimed_at_create(messages),
                if oauth {
                    "default (on the create; tokens expired before it)".to_owned()
                } else {
                    "default (on the create)".to_owned()
                },
            )
        }
        "default" => (
            contract::default_schedules(delay),
            contract::default_message_schedules(delay),
            "default".to_owned(),
        ),
        file => {
            let path = Path::new(file);
            let schedules = contract::parse_faults(&read_input(Some(path))?)
                .and_then(|schedules| {
                    contract::check_aims(&schedules, crm_face.is_some()).map(|()| schedules)
                })
                .map_err(|message| invalid("--faults", format!("{file} {message}")))?;
            // A file that names no message call has its faults moved to
            // the message calls for the message half.
            let names_messages = schedules
                .iter()
                .flatten()
                .any(|fault| contract::is_message_step(fault.on));
            let message_schedules = if names_messages {
                schedules.clone()
            } else {
                contract::on_messages(schedules.clone())
            };
            (schedules, message_schedules, file.to_owned())
        }
    };
    let longest = contract::longest_delay(&schedules);
    if call_timeout <= longest {
        return Err(invalid(
            "--call-timeout",
            format!(
                "{} s is not longer than the longest fault delay ({} s); raise --call-timeout{}",
                args.call_timeout,
                longest.as_secs_f64(),
                if args.faults == "default" {
                    " or lower --connector-timeout"
                } else {
                    ""
                }
            ),
        ));
    }
    let node = contract::split_command(&args.node);
    if node.is_empty() {
        return Err(invalid(
            "--node",
            "is empty; give the command that runs Node.js, such as node".into(),
        ));
    }
    let replay = match &args.replay {
        Some(path) => Some(
            contract::case_from_fixture(&read_input(Some(path))?).map_err(|detail| {
                CliError::Parse {
                    path: path.display().to_string(),
                    what: "contract fixture",
                    detail,
                }
            })?,
        ),
        None => None,
    };
    let compose = ComposeOptions::new(LogFormat::Plain)
        .with_update_style(args.update_style)
        .with_host_zone(args.host_tz.resolve()?);
    let cwd =
        std::env::current_dir().map_err(|error| invalid("working directory", error.to_string()))?;
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..1_000_000_000));

    let rt = runtime()?;
    let served = if serve {
        let config = ServerConfig {
            proxy_configs: tested
                .served()
                .map(|loaded| loaded.config.clone())
                .into_iter()
                .collect(),
            crms: crm_face.iter().cloned().collect(),
            // A CRM whose connector only speaks HTTPS gets the TLS listener,
            // as `serve --crm` gives it.
            tls: crm_face
                .as_deref()
                .and_then(crate::faces::crm_face)
                .filter(|face| face.needs_tls())
                .map(|_| TlsSettings {
                    addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                    dir: None,
                    names: Vec::new(),
                }),
            ..ServerConfig::ephemeral()
        };
        Some(rt.block_on(Server::start(config))?)
    } else {
        None
    };
    let server_url = match &served {
        Some(server) => server.url(),
        None => args
            .server
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8787".to_owned()),
    };
    let admin_key = if serve {
        DEFAULT_ADMIN_KEY.to_owned()
    } else {
        args.admin_key.clone()
    };
    let api_key = if serve {
        super::connector::DEFAULT_API_KEY.to_owned()
    } else {
        args.api_key.clone()
    };
    let crm = AdminClient::new(&server_url, &admin_key)?;
    let env = match &crm_face {
        Some(name) => {
            let answer = rt.block_on(crm.crms())?;
            let connection = contract::crm_connection(&answer, name)
                .map_err(|error| CliError::Connector(error.to_string()))?;
            contract::crm_launch_env(&connection, name)
        }
        None => Vec::new(),
    };
    let subject = match &tested {
        Tested::Module { path, .. } => {
            let launcher = Launcher::new(Launch {
                node,
                connector: path.clone(),
                cwd,
                server_url: server_url.clone(),
                start_timeout: call_timeout.max(Duration::from_secs(10)),
                logs: connector_logs(),
                env,
            })
            .map_err(|error| CliError::Connector(error.to_string()))?;
            Subject::node(launcher).map_err(|error| CliError::Connector(error.to_string()))?
        }
        Tested::Config(loaded) => {
            let connector = ProxyConnector::pointed_at(&loaded.config, &server_url)
                .map_err(|error| invalid("--server", error.to_string()))?;
            Subject::proxy(connector, loaded.json.clone(), &loaded.path)
        }
    };
    let plan = Plan {
        format: args.format,
        cases: args.cases,
        seed,
        schedules,
        compose,
        call_timeout,
        api_key,
        jobs: args.jobs,
        replay,
        crm: crm_face.clone(),
        only: args.only.unwrap_or_default(),
        message_schedules,
    };
    let outcome = Runner::prepare(&rt, crm, &server_url, plan, subject).and_then(Runner::run);
    if let Some(server) = served {
        rt.block_on(server.shutdown());
    }
    let report = outcome.map_err(|error| CliError::Connector(error.to_string()))?;
    let style = args.update_style.name();
    let setup = Setup {
        connector: tested.name(),
        faults: &faults_name,
        update_style: style,
        server: match (&crm_face, serve) {
            (Some(name), _) => &format!("--crm {name} (in memory)"),
            (None, true) => "--serve (in memory)",
            (None, false) => &server_url,
        },
    };
    print_report(&args, &tested, &report, &setup)?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The table, then each failure with its fixture (saved to a file unless
/// a replay is shown again), then the JUnit report.
fn print_report(
    args: &ContractArgs,
    tested: &Tested,
    report: &Report,
    setup: &Setup<'_>,
) -> Result<(), CliError> {
    let mut out = contract::table(report, setup);
    let save = match (&args.save_failing, &args.replay) {
        (Some(path), _) => Some(path.clone()),
        // Replaying must not overwrite the fixture being replayed.
        (None, Some(_)) => None,
        (None, None) => Some(PathBuf::from(DEFAULT_FIXTURE)),
    };
    let mut texts = Vec::new();
    for failure in &report.failures {
        let path = save.as_ref().map(|path| {
            if report.failures.len() == 1 {
                path.clone()
            } else {
                with_suffix(path, failure.property.slug())
            }
        });
        let shown = path.as_ref().map(|path| path.display().to_string());
        let replay = replay_command(args, tested, shown.as_deref().unwrap_or("FIXTURE"));
        let fixture = contract::fixture(failure, setup.update_style, &replay);
        let json = serde_json::to_string_pretty(&fixture)
            .map_err(|error| CliError::Connector(error.to_string()))?;
        if let Some(path) = &path {
            std::fs::write(path, format!("{json}\n")).map_err(|error| {
                invalid(
                    "--save-failing",
                    format!("cannot write {}: {error}", path.display()),
                )
            })?;
        }
        let text = contract::failure_text(failure, shown.as_deref(), Some(&replay));
        out.push('\n');
        out.push_str(&text);
        out.push_str(&json);
        out.push('\n');
        texts.push((failure.property, format!("{text}{json}\n")));
    }
    write_stdout(&out)?;
    if let Some(path) = &args.junit {
        let xml = contract::junit(report, setup, &texts);
        std::fs::write(path, xml).map_err(|error| {
            invalid(
                "--junit",
                format!("cannot write {}: {error}", path.display()),
            )
        })?;
    }
    Ok(())
}

/// `name.json` with `-slug` before the extension.
fn with_suffix(path: &Path, slug: &str) -> PathBuf {
    let stem = path.file_stem().map_or_else(
        || "mockcrm-contract-failing".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{slug}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{slug}"),
    };
    path.with_file_name(name)
}

/// The command that plays a saved case again with this run's settings.
fn replay_command(args: &ContractArgs, tested: &Tested, fixture: &str) -> String {
    let mut command = String::from("mockcrm contract");
    if let Some(name) = &args.crm {
        command.push_str(&format!(" --crm {name}"));
    } else if args.serve {
        command.push_str(" --serve");
    } else if let Some(server) = &args.server {
        command.push_str(&format!(" --server {server}"));
    }
    if let Some(format) = args.format {
        command.push_str(&format!(" --format {format}"));
    }
    match args.only {
        Some(contract::Only::Calls) => command.push_str(" --only calls"),
        Some(contract::Only::Messages) => command.push_str(" --only messages"),
        _ => {}
    }
    if args.update_style != UpdateStyle::Core {
        command.push_str(&format!(" --update-style {}", args.update_style));
    }
    if args.node != "node" {
        command.push_str(&format!(" --node '{}'", args.node));
    }
    if let Some(seconds) = args.connector_timeout {
        command.push_str(&format!(" --connector-timeout {seconds}"));
    }
    if let Tested::Module {
        served: Some(config),
        ..
    } = tested
    {
        command.push_str(&format!(" --proxy-config {}", config.path));
    }
    command.push_str(&format!(" --replay {fixture} {}", tested.name()));
    command
}

/// The connector's own output, on stderr, each line marked as its, and
/// with the case a job was playing when several play at once
/// (`connector[12]|`).
fn connector_logs() -> contract::LogSink {
    Arc::new(|stream: Stream, case: Option<u32>, line: &str| {
        let mark = match stream {
            Stream::Stdout => '|',
            Stream::Stderr => '!',
        };
        let mut stderr = std::io::stderr().lock();
        let _ = match case {
            Some(case) => writeln!(stderr, "connector[{case}]{mark} {line}"),
            None => writeln!(stderr, "connector{mark} {line}"),
        };
    })
}
