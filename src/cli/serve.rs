//! `mockcrm serve`: the server's flags, loading the App Connect proxy
//! configs it serves, starting it with the ready line, stopping it cleanly
//! on Ctrl-C or SIGTERM, and the log output.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{parse_json, read_input, runtime, CliError};
use crate::harness::{DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE};
use crate::proxy::{self, route, ProxyConfig};
use crate::server::{
    ServeError, Server, ServerConfig, TlsSettings, DEFAULT_ADMIN_KEY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_READ_TIMEOUT, DEFAULT_STORE_QUEUE,
};
use crate::store::{Location, Seed, StoreError};

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Address to listen on; port 0 takes a free port.
    #[arg(long, env = "MOCKCRM_ADDR", default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// SQLite database file, created if missing; `:memory:` for a throwaway store.
    #[arg(long, env = "MOCKCRM_DB", default_value = "mockcrm.db")]
    db: String,
    /// JSON file of organisations, users, keys and contacts to load into an empty database.
    #[arg(long, env = "MOCKCRM_SEED")]
    seed: Option<PathBuf>,
    /// Bearer key for the /__admin/ routes.
    #[arg(long, env = "MOCKCRM_ADMIN_KEY", default_value = DEFAULT_ADMIN_KEY)]
    admin_key: String,
    /// How many requests the journal keeps (0 turns it off).
    #[arg(long, env = "MOCKCRM_JOURNAL_SIZE", default_value_t = DEFAULT_JOURNAL_SIZE)]
    journal_size: usize,
    /// MiB the journal's entries may hold, bodies included; the oldest go first.
    #[arg(long, env = "MOCKCRM_JOURNAL_MIB", default_value_t = (DEFAULT_JOURNAL_BYTES >> 20) as u64, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    journal_mib: u64,
    /// At most N requests per second per API key; more get 429 with Retry-After.
    #[arg(long, env = "MOCKCRM_RATE_LIMIT", value_parser = clap::value_parser!(u32).range(1..))]
    rate_limit: Option<u32>,
    /// Seconds a client may take to send a request's headers, and again its
    /// body, before it is cut off; shutdown waits at most twice this for requests.
    #[arg(long, env = "MOCKCRM_READ_TIMEOUT", default_value_t = DEFAULT_READ_TIMEOUT.as_secs_f64(), value_parser = parse_read_timeout)]
    read_timeout: f64,
    /// Refuse activity writes with fields mockcrm has no column for (400
    /// naming them), instead of keeping them as extra fields.
    #[arg(long, env = "MOCKCRM_STRICT")]
    strict: bool,
    /// Also be the CRM this App Connect proxy-connector config talks to
    /// (repeatable; the env var takes a comma-separated list). At start one
    /// line per config names the baseUrl to use and the operations served.
    #[arg(
        long = "proxy-config",
        env = "MOCKCRM_PROXY_CONFIG",
        value_name = "FILE",
        value_delimiter = ','
    )]
    proxy_config: Vec<PathBuf>,
    /// Store operations that may wait their turn; past it a request gets 503 with Retry-After.
    #[arg(long, env = "MOCKCRM_STORE_QUEUE", default_value_t = DEFAULT_STORE_QUEUE as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    store_queue: u64,
    /// Connections served at once; past it a new connection gets 503 with Retry-After.
    #[arg(long, env = "MOCKCRM_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// Also serve the same routes over HTTPS on --tls-addr, with a
    /// certificate from a local CA that mockcrm makes once and keeps in
    /// --tls-dir. On whenever a served CRM's connector needs HTTPS (pipedrive).
    #[arg(long, env = "MOCKCRM_TLS")]
    tls: bool,
    /// Also be these CRMs: serve the part of each one's real API that App
    /// Connect's connector for it calls, on the same store (comma-separated;
    /// `all` for every one built). `mockcrm crms` says how to reach each.
    #[arg(
        long = "crm",
        env = "MOCKCRM_CRM",
        value_name = "NAME",
        value_delimiter = ','
    )]
    crm: Vec<String>,
    /// Also be an HTTP forward proxy here for the served CRMs' real hosts
    /// (HTTPS_PROXY=http://ADDR): CONNECT to one of them is answered by its
    /// face with TLS from the local CA; any other host gets 502. Nothing is
    /// sent to the network. Turns --tls on.
    #[arg(long, env = "MOCKCRM_PROXY_ADDR", value_name = "ADDR")]
    proxy_addr: Option<SocketAddr>,
    /// Seconds an access token from a CRM face's OAuth token endpoint lives,
    /// and at most a Bullhorn session (BhRestToken) from /login; short ones
    /// make a connector's refresh and re-login paths run inside a test.
    #[arg(long, env = "MOCKCRM_TOKEN_TTL", default_value_t = crate::web::oauth::DEFAULT_TOKEN_TTL.as_secs(), value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    token_ttl: u64,
    /// Address of the HTTPS listener; port 0 takes a free port.
    #[arg(long, env = "MOCKCRM_TLS_ADDR", default_value = "127.0.0.1:8443")]
    tls_addr: SocketAddr,
    /// Directory of the local CA (ca.pem, the file clients trust, and its
    /// owner-only key); default: mockcrm-tls beside the database, a
    /// temporary one for :memory:.
    #[arg(long, env = "MOCKCRM_TLS_DIR", value_name = "DIR")]
    tls_dir: Option<PathBuf>,
}

fn parse_read_timeout(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|seconds| seconds.is_finite() && *seconds >= 0.001 && *seconds <= 3600.0)
        .ok_or_else(|| format!("{text:?} is not a number of seconds from 0.001 to 3600"))
}

pub(super) fn serve(args: ServeArgs) -> Result<ExitCode, CliError> {
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
    let proxy_configs = load_proxy_configs(&args.proxy_config)?;
    let crms = crm_names(&args.crm)?;
    // A CRM whose connector only speaks HTTPS (Pipedrive) is unreachable
    // without the TLS listener, so serving one turns it on.
    let needs_tls = crms
        .iter()
        .filter_map(|name| crate::faces::crm_face(name))
        .any(|face| face.needs_tls());
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
        strict: args.strict,
        proxy_configs: proxy_configs.clone(),
        store_queue: usize::try_from(args.store_queue).unwrap_or(usize::MAX),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        crms,
        proxy_addr: args.proxy_addr,
        token_ttl: Duration::from_secs(args.token_ttl),
        tls: (args.tls || args.proxy_addr.is_some() || needs_tls).then(|| TlsSettings {
            addr: args.tls_addr,
            dir: tls_dir(args.tls_dir.clone(), &args.db),
            names: Vec::new(),
        }),
    };
    raise_open_file_limit(config.max_connections);
    runtime()?.block_on(async {
        let server = Server::start(config).await.map_err(with_db_hint)?;
        let signals = ShutdownSignals::listen()?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "mockcrm listening on {}", server.url()).map_err(CliError::Write)?;
        stdout.flush().map_err(CliError::Write)?;
        if let (Some(url), Some(ca_file)) = (server.tls_url(), server.ca_file()) {
            writeln!(stdout, "mockcrm listening on {url}").map_err(CliError::Write)?;
            stdout.flush().map_err(CliError::Write)?;
            tracing::info!(
                "HTTPS on {url}, certificate issued by the local CA {} (trust it with NODE_EXTRA_CA_CERTS={})",
                ca_file.display(),
                ca_file.display()
            );
        }
        if let Some(proxy) = server.proxy_url() {
            tracing::info!(
                "forward proxy on {proxy}: run App Connect with HTTPS_PROXY={proxy} (and NODE_EXTRA_CA_CERTS) so its calls to the served CRMs' real hosts come here; every other host is refused"
            );
        }
        for (name, base_url) in server.crm_base_urls() {
            tracing::info!(
                "CRM {name}: its API at {base_url}; `mockcrm crms` prints how to point App Connect's {name} connector at it"
            );
        }
        for config in &proxy_configs {
            tracing::info!("proxy config {}", route::summary(config, &server.url()));
        }
        tracing::info!(db = %args.db, "serving; Ctrl-C or SIGTERM stops");
        server.run_until(signals.received()).await;
        tracing::info!("stopped cleanly");
        Ok(ExitCode::SUCCESS)
    })
}

/// The CRM faces `--crm` names, `all` standing for every one built; an
/// unknown name stops `serve` naming the known ones.
fn crm_names(given: &[String]) -> Result<Vec<String>, CliError> {
    let mut names: Vec<String> = Vec::new();
    for name in given.iter().map(|name| name.trim().to_ascii_lowercase()) {
        let adding: Vec<String> = match name.as_str() {
            "" => continue,
            "all" => crate::faces::CRM_NAMES
                .iter()
                .map(|n| (*n).to_owned())
                .collect(),
            known if crate::faces::CRM_NAMES.contains(&known) => vec![name.clone()],
            _ => {
                return Err(CliError::InvalidArgument {
                    field: "--crm".into(),
                    message: format!(
                        "{name:?} is not a CRM mockcrm serves; it serves {} (or all)",
                        crate::faces::CRM_NAMES.join(", ")
                    ),
                })
            }
        };
        for name in adding {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// Where the local CA is kept: `--tls-dir`, else `mockcrm-tls` beside a
/// database file (so the CA a client trusts outlives restarts), else
/// (`:memory:`) a temporary directory the server removes when it stops.
fn tls_dir(flag: Option<PathBuf>, db: &str) -> Option<PathBuf> {
    flag.or_else(|| match Location::parse(db) {
        Location::Memory => None,
        Location::File(path) => Some(
            path.parent()
                .filter(|parent| !parent.as_os_str().is_empty())
                .map_or_else(
                    || PathBuf::from("mockcrm-tls"),
                    |parent| parent.join("mockcrm-tls"),
                ),
        ),
    })
}

/// Reads and checks every `--proxy-config` before anything listens: one
/// that cannot be served stops the server with its one-line error; what a
/// config gets wrong but can live with is logged as a warning.
fn load_proxy_configs(paths: &[PathBuf]) -> Result<Vec<ProxyConfig>, CliError> {
    let mut files = Vec::new();
    for path in paths.iter().filter(|p| !p.as_os_str().is_empty()) {
        files.push((path.display().to_string(), read_input(Some(path))?));
    }
    let named: Vec<(&str, &str)> = files
        .iter()
        .map(|(name, text)| (name.as_str(), text.as_str()))
        .collect();
    let loaded = proxy::load_all(&named).map_err(CliError::ProxyConfig)?;
    let configs: Vec<ProxyConfig> = loaded.iter().map(|l| l.config.clone()).collect();
    crate::faces::check_native_collisions(&configs).map_err(CliError::ProxyConfig)?;
    for warning in loaded.iter().flat_map(|l| &l.warnings) {
        tracing::warn!("proxy config {warning}");
    }
    Ok(configs)
}

/// A store error about the database file, with what to do about it in
/// this command's words.
fn with_db_hint(error: ServeError) -> CliError {
    let ServeError::Store(store) = &error else {
        return CliError::Serve(error);
    };
    let hint = match store {
        StoreError::IsDirectory { path } => {
            format!("pass a file path such as {path}/mockcrm.db to --db")
        }
        StoreError::NoDirectory { .. } => "create it or pass another --db".to_owned(),
        other if other.is_about_the_file() => "or pass another --db file".to_owned(),
        _ => return CliError::Serve(error),
    };
    CliError::Database {
        error: error.to_string(),
        hint,
    }
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

/// Every connection is a file descriptor, and many systems start a process
/// with a soft limit of 1024 (macOS: 256) under a far higher hard one: with
/// it, accepting would fail before `--max-connections` is reached, and a
/// connection past the cap could not even be answered 503. Raise the soft
/// limit as far as the cap needs (the hard limit allows), as servers do.
fn raise_open_file_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        // Connections, those being turned away, and the database's files.
        let wanted = libc::rlim_t::try_from(max_connections)
            .unwrap_or(libc::rlim_t::MAX)
            .saturating_add(512);
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit only read and write the struct
        // passed, which lives on this stack frame for both calls.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return;
            }
            let current = limit.rlim_cur;
            if current >= wanted {
                return;
            }
            let raised = wanted.min(limit.rlim_max);
            if raised > current {
                limit.rlim_cur = raised;
                let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
            if raised < wanted {
                tracing::warn!(
                    open_files = raised,
                    max_connections,
                    "the open-file limit is below what --max-connections needs; \
                     raise it (ulimit -n) or lower --max-connections"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = max_connections;
}

fn init_tracing() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let default = || {
        Targets::new()
            .with_target("mockcrm", LevelFilter::INFO)
            .with_default(LevelFilter::WARN)
    };
    // RUST_LOG in its common form (`mockcrm=debug,warn`); a value that is
    // not one is said once and the default is used.
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) => value.parse::<Targets>().unwrap_or_else(|error| {
            eprintln!("mockcrm: RUST_LOG={value:?} is not a log filter ({error}); using mockcrm=info,warn");
            default()
        }),
        Err(_) => default(),
    };
    // A second init (tests) is harmless; the first subscriber stays. Colours
    // only on a terminal: a CI log or a file would get raw escape codes.
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
        .try_init();
}
