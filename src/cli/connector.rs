//! The reference connector's commands: `compose` (a body, to stdout), and
//! `log`, `update` and `get` (createCallLog, updateCallLog and getCallLog
//! against a CRM, through mockcrm's own API or, with `--proxy-config`, an
//! App Connect proxy-connector config), each printing the interface's JSON
//! answer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::{Map, Value};

use super::{
    exit_for, input_name, parse_json, print_json, read_input, runtime, write_stdout, CliError,
};
use crate::compose::{
    self, ComposeOptions, HostZone, SharedSmsOptions, SharedSmsRequest, SharedSmsStyle, UpdateStyle,
};
use crate::connector::{self, CrmClient, LogOptions, ProxyConnector, RetryPolicy, UpdateOptions};
use crate::interface::{ComposeRequest, CreateCallLogInput, LogFormat, MessageType};
use crate::web::{api_key_from_header, basic_header_for_key};

/// The key `mockcrm log` uses when neither `--api-key` nor the input's
/// `authHeader` gives one: the default seed's user.
pub const DEFAULT_API_KEY: &str = "mockcrm-dev-key";

#[derive(Debug, Args)]
pub(super) struct ComposeArgs {
    /// Body format; defaults to the request's `format` (with --shared-sms,
    /// its `logFormat`), else text/plain.
    #[arg(long)]
    format: Option<LogFormat>,
    /// How an `existingBody` is updated: `core` writes App Connect's own bytes,
    /// `clean` replaces each section in place. Defaults to the request's
    /// `update_style`, else core.
    #[arg(long, value_name = "core|clean", conflicts_with = "shared_sms")]
    update_style: Option<UpdateStyle>,
    /// Compose a shared-SMS conversation instead of a call log: reads
    /// {"logFormat", "conversation", "contactName", "timezoneOffset"} and
    /// prints {"subject", "body"} as JSON.
    #[arg(long)]
    shared_sms: bool,
    /// With --shared-sms: `core` writes App Connect core's bytes, quirks
    /// included; `clean` fixes them (README.md lists them).
    #[arg(long, value_name = "core|clean", requires = "shared_sms")]
    style: Option<SharedSmsStyle>,
    #[command(flatten)]
    host_tz: HostTzArgs,
    /// Compose request (or createCallLog input) as JSON; `-` or absent reads stdin.
    file: Option<PathBuf>,
}

/// The zone App Connect's host formats dates in when a user has no offset.
#[derive(Debug, Args)]
pub(super) struct HostTzArgs {
    /// IANA zone App Connect's host runs in, used for dates when the user has
    /// no timezoneOffset; default: the TZ environment variable, else UTC.
    #[arg(long, env = "MOCKCRM_HOST_TZ", value_name = "ZONE")]
    host_tz: Option<String>,
}

impl HostTzArgs {
    /// `--host-tz` (or `MOCKCRM_HOST_TZ`), else `TZ`, else UTC: read once
    /// here, so the composer itself reads no environment.
    pub(super) fn resolve(&self) -> Result<HostZone, CliError> {
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
                message: "is not valid UTF-8; set --host-tz (MOCKCRM_HOST_TZ) to an IANA zone name"
                    .into(),
            }),
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

/// Where the CRM is and who to be there.
#[derive(Debug, Args)]
pub(super) struct CrmArgs {
    /// Base URL of the mock CRM.
    #[arg(long, env = "MOCKCRM_SERVER", default_value = "http://127.0.0.1:8787")]
    server: String,
    /// API key; overrides the input's authHeader.
    #[arg(long, env = "MOCKCRM_API_KEY")]
    api_key: Option<String>,
    /// Attempts in all when the CRM is busy or unreachable (1: never retry).
    #[arg(long, default_value_t = RetryPolicy::default().max_attempts, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
    /// Total seconds for all attempts and the waits between them.
    #[arg(long, default_value_t = RetryPolicy::default().max_total.as_secs_f64())]
    retry_budget: f64,
    /// Speak this App Connect proxy-connector config instead of mockcrm's
    /// own API, rendering and reading every request as App Connect's proxy
    /// engine does (one attempt, as App Connect makes). --server then
    /// replaces the scheme, host and port of its requestDefaults.baseUrl.
    #[arg(long, value_name = "FILE")]
    proxy_config: Option<PathBuf>,
}

impl CrmArgs {
    pub(super) fn client(&self) -> Result<CrmClient, CliError> {
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
    pub(super) fn auth_header(&self, from_input: Option<String>) -> String {
        match (&self.api_key, from_input) {
            (Some(key), _) => basic_header_for_key(key),
            (None, Some(header)) if !header.trim().is_empty() => header,
            (None, _) => basic_header_for_key(DEFAULT_API_KEY),
        }
    }

    /// Refuses `--proxy-config` for a command that speaks only mockcrm's
    /// own API.
    pub(super) fn native_only(&self, command: &str) -> Result<(), CliError> {
        match &self.proxy_config {
            None => Ok(()),
            Some(_) => Err(CliError::InvalidArgument {
                field: "--proxy-config".into(),
                message: format!(
                    "`mockcrm {command}` speaks mockcrm's own API only; leave --proxy-config out"
                ),
            }),
        }
    }

    /// The connector for `--proxy-config`, if given, pointed at `--server`.
    fn proxy_connector(&self) -> Result<Option<ProxyConnector>, CliError> {
        let Some(path) = &self.proxy_config else {
            return Ok(None);
        };
        let name = path.display().to_string();
        let loaded =
            crate::proxy::load(&name, &read_input(Some(path))?).map_err(CliError::ProxyConfig)?;
        for warning in &loaded.warnings {
            eprintln!("mockcrm: warning: {warning}");
        }
        ProxyConnector::pointed_at(&loaded.config, &self.server)
            .map(Some)
            .map_err(|e| CliError::InvalidArgument {
                field: "--server".into(),
                message: e.to_string(),
            })
    }

    /// The connector arguments for a proxy config: the input as written
    /// (numbers stay numbers), with the `authHeader` chosen as for the
    /// native connector, and the API key as `user.accessToken`, which is
    /// where App Connect keeps it and where a config's
    /// `credentialTemplate` reads `{{apiKey}}` from.
    fn proxy_args(&self, mut input: Map<String, Value>) -> Map<String, Value> {
        let from_input = input
            .get("authHeader")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let header = self.auth_header(from_input);
        let key = self
            .api_key
            .clone()
            .or_else(|| api_key_from_header(&header))
            .unwrap_or_else(|| DEFAULT_API_KEY.to_owned());
        input.insert("authHeader".into(), Value::from(header));
        let user = input
            .entry("user")
            .or_insert_with(|| Value::Object(Map::new()));
        if !user.is_object() {
            *user = Value::Object(Map::new());
        }
        if let Value::Object(user) = user {
            let has_token = user.get("accessToken").is_some_and(|t| !t.is_null());
            if self.api_key.is_some() || !has_token {
                user.insert("accessToken".into(), Value::from(key));
            }
        }
        input
    }
}

#[derive(Debug, Args)]
pub(super) struct LogArgs {
    #[command(flatten)]
    crm: CrmArgs,
    /// Body format, used to compose when composedLogDetails is empty
    /// (default text/plain; with --proxy-config, the config's meta.logFormat).
    #[arg(long)]
    format: Option<LogFormat>,
    #[command(flatten)]
    host_tz: HostTzArgs,
    /// createCallLog input as JSON; `-` or absent reads stdin.
    file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct UpdateArgs {
    #[command(flatten)]
    crm: CrmArgs,
    /// The activity to update (the logId createCallLog returned).
    #[arg(long)]
    log_id: String,
    /// How the stored body is updated: `core` writes App Connect's own bytes,
    /// `clean` replaces each section in place.
    #[arg(long, value_name = "core|clean", default_value_t = UpdateStyle::Core)]
    update_style: UpdateStyle,
    #[command(flatten)]
    host_tz: HostTzArgs,
    /// createCallLog-shaped input with the new values (final duration,
    /// recording link, edited note, …); `-` or absent reads stdin.
    file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(super) struct GetArgs {
    #[command(flatten)]
    crm: CrmArgs,
    /// The activity to read (the logId createCallLog returned).
    #[arg(long)]
    log_id: String,
}

pub(super) fn compose_command(args: ComposeArgs) -> Result<ExitCode, CliError> {
    if args.shared_sms {
        return compose_shared_sms(args);
    }
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

/// `compose --shared-sms`: the conversation's subject and body as JSON.
/// The current time stands in for a missing time, as in App Connect's core.
fn compose_shared_sms(args: ComposeArgs) -> Result<ExitCode, CliError> {
    let path = input_name(args.file.as_deref());
    let mut request: SharedSmsRequest = parse_json(
        &read_input(args.file.as_deref())?,
        Path::new(&path),
        "shared-SMS compose request",
    )?;
    if let Some(format) = args.format {
        request.log_format = Some(format);
    }
    let options = SharedSmsOptions::default()
        .with_style(args.style.unwrap_or_default())
        .with_host_zone(args.host_tz.resolve()?)
        .with_now(chrono::Utc::now());
    let log = compose::compose_shared_sms(&request, &options)?;
    print_json(&log)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn log(args: LogArgs) -> Result<ExitCode, CliError> {
    if let Some(proxy) = args.crm.proxy_connector()? {
        if args.format.is_some() {
            return Err(CliError::InvalidArgument {
                field: "--format".into(),
                message: "cannot be used with --proxy-config, whose meta.logFormat says how App Connect composes; leave it out".into(),
            });
        }
        let input = args
            .crm
            .proxy_args(read_input_object(args.file.as_deref())?);
        let host_zone = args.host_tz.resolve()?;
        let output = runtime()?.block_on(async { proxy.log(&input, host_zone).await });
        print_json(&output)?;
        return Ok(exit_for(output.log_id.is_some()));
    }
    let mut input = read_call_log_input(args.file.as_deref())?;
    input.auth_header = Some(args.crm.auth_header(input.auth_header.take()));
    let crm = args.crm.client()?;
    let options = LogOptions {
        format: args.format.unwrap_or(LogFormat::Plain),
        host_zone: args.host_tz.resolve()?,
    };
    let output =
        runtime()?.block_on(async { connector::create_call_log(&crm, &input, options).await });
    print_json(&output)?;
    Ok(exit_for(output.log_id.is_some()))
}

pub(super) fn update(args: UpdateArgs) -> Result<ExitCode, CliError> {
    if let Some(proxy) = args.crm.proxy_connector()? {
        let input = args
            .crm
            .proxy_args(read_input_object(args.file.as_deref())?);
        let host_zone = args.host_tz.resolve()?;
        let output = runtime()?.block_on(async {
            proxy
                .update(&args.log_id, &input, args.update_style, host_zone)
                .await
        });
        return print_update(&output);
    }
    let mut input = read_call_log_input(args.file.as_deref())?;
    input.auth_header = Some(args.crm.auth_header(input.auth_header.take()));
    let crm = args.crm.client()?;
    let options = UpdateOptions {
        update_style: args.update_style,
        host_zone: args.host_tz.resolve()?,
    };
    let output = runtime()?
        .block_on(async { connector::update_call_log(&crm, &args.log_id, &input, options).await });
    print_update(&output)
}

fn print_update(output: &crate::interface::UpdateCallLogOutput) -> Result<ExitCode, CliError> {
    let succeeded = output
        .return_message
        .as_ref()
        .is_some_and(|message| message.message_type == MessageType::Success);
    print_json(output)?;
    Ok(exit_for(succeeded))
}

pub(super) fn get(args: GetArgs) -> Result<ExitCode, CliError> {
    if let Some(proxy) = args.crm.proxy_connector()? {
        let input = args.crm.proxy_args(Map::new());
        let call = crate::proxy::context::get_call_log_args(
            input.get("user"),
            &args.log_id,
            None,
            input.get("authHeader").and_then(Value::as_str),
        );
        let output = runtime()?.block_on(async { proxy.get_call_log(&call).await });
        print_json(&output)?;
        return Ok(exit_for(output.call_log_info.is_some()));
    }
    let auth = args.crm.auth_header(None);
    let crm = args.crm.client()?;
    let output = runtime()?
        .block_on(async { connector::get_call_log(&crm, &args.log_id, Some(&auth), None).await });
    print_json(&output)?;
    Ok(exit_for(output.call_log_info.is_some()))
}

/// The input as a JSON object, as written.
fn read_input_object(file: Option<&Path>) -> Result<Map<String, Value>, CliError> {
    let path = input_name(file);
    parse_json(&read_input(file)?, Path::new(&path), "createCallLog input")
}

fn read_call_log_input(file: Option<&Path>) -> Result<CreateCallLogInput, CliError> {
    let path = input_name(file);
    parse_json(&read_input(file)?, Path::new(&path), "createCallLog input")
}
