//! Starting and stopping the mock CRM: opens the store, binds the listener,
//! accepts connections and serves the API on each until told to stop, then
//! drains in-flight requests and closes the database. It owns the
//! connection level: HTTP/1.1 only, a header-read timeout, a cap on open
//! connections (past it a connection is answered 503 and closed), a
//! bounded wait for in-flight requests at shutdown, JSON bodies on hyper's
//! own answers (`parse_errors.rs`) and connection-level faults
//! (`connection_faults.rs`). It refuses to listen beyond loopback with the
//! well-known admin key. Tests use `Server::start` directly with `:memory:`
//! and port 0; `mockcrm serve` wraps it with signals and the ready line.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod connection_faults;
mod connections;
mod forward;
mod parse_errors;

use crate::clock::Clock;
use crate::faces::{self, Front, PageState, ProxyServing};
use crate::harness::{Harness, DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE};
use crate::proxy::ProxyConfig;
use crate::store::{
    Location, Seed, Store, StoreError, StoreHandle, StoreHold, StoreThread, WELL_KNOWN_KEYS,
};
use crate::tls::{LocalCa, TlsError};
use crate::web::crm::Place;
use crate::web::AppState;
use connections::{serve_connections, Limits, Listeners};

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub location: Location,
    pub seed: Seed,
    /// Bearer key for the `/__admin/` routes.
    pub admin_key: String,
    /// How many requests the journal keeps.
    pub journal_size: usize,
    /// How much memory the journal's entries may hold, bodies included.
    pub journal_bytes: usize,
    /// Requests per second per API key; unlimited when `None`.
    pub rate_limit: Option<u32>,
    /// The clock rate-limit refills and fault delays are timed by; tests
    /// use a manual one.
    pub clock: Clock,
    /// How long a client may take to send a request's headers (or to start
    /// the next request on a kept-alive connection), and again its body,
    /// before it is cut off. Shutdown waits at most twice this for
    /// requests in flight.
    pub read_timeout: Duration,
    /// Refuse writes with fields the API does not know (`serve --strict`).
    pub strict: bool,
    /// App Connect proxy-connector configs to serve beside the native API
    /// (`serve --proxy-config`), each already loaded and checked.
    pub proxy_configs: Vec<ProxyConfig>,
    /// Store operations that may wait for the store thread; past it a
    /// request is answered 503 with `Retry-After`.
    pub store_queue: usize,
    /// Connections served at once; past it a new connection is answered
    /// 503 with `Retry-After` and closed.
    pub max_connections: usize,
    /// Also serve HTTPS (`serve --tls`), the same routes, with a
    /// certificate from the local CA.
    pub tls: Option<TlsSettings>,
    /// The CRMs whose real API is also served (`serve --crm`), by name
    /// (`mockcrm::CRM_NAMES`).
    pub crms: Vec<String>,
    /// How long an access token the OAuth CRM faces hand out lives.
    pub token_ttl: Duration,
    /// Also be a forward proxy here (`serve --proxy-addr`) for the served
    /// CRMs' real hosts; needs `tls`, whose certificate it answers with.
    pub proxy_addr: Option<SocketAddr>,
}

/// HTTPS beside plain HTTP: where to listen, where the local CA is kept,
/// and the names the certificate must carry besides `localhost` and
/// `127.0.0.1` (the real API hosts of the CRMs served).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub addr: SocketAddr,
    /// The directory the CA is kept in; `None` for a temporary one that
    /// lives as long as the server (what `:memory:` wants).
    pub dir: Option<PathBuf>,
    pub names: Vec<String>,
}

/// The read timeout when none is given: generous for any real client.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The admin key when none is given; everyone knows it, so a server
/// that listens beyond loopback refuses it.
pub const DEFAULT_ADMIN_KEY: &str = "mockcrm-admin";

/// Store operations that may queue by default. Each write waits for the
/// writes queued ahead of it, which commit up to 256 at a time, so a write
/// behind a full queue waits for two group commits at most; past that a
/// client does better to come back later than to wait.
pub const DEFAULT_STORE_QUEUE: usize = 512;

/// Connections served at once by default: far more than the CI jobs of a
/// team open, and few enough that their buffers stay in tens of MiB.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

impl ServerConfig {
    /// An in-memory server on a free loopback port: what tests want.
    pub fn ephemeral() -> ServerConfig {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            location: Location::Memory,
            seed: Seed::default_seed(),
            admin_key: DEFAULT_ADMIN_KEY.to_owned(),
            journal_size: DEFAULT_JOURNAL_SIZE,
            journal_bytes: DEFAULT_JOURNAL_BYTES,
            rate_limit: None,
            clock: Clock::Real,
            read_timeout: DEFAULT_READ_TIMEOUT,
            strict: false,
            proxy_configs: Vec::new(),
            store_queue: DEFAULT_STORE_QUEUE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            tls: None,
            crms: Vec::new(),
            proxy_addr: None,
            token_ttl: crate::web::oauth::DEFAULT_TOKEN_TTL,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot listen on {addr}: {source}; pick another --addr (127.0.0.1:0 takes any free port)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("refusing to listen on {addr} with the default admin key, which anyone who can reach it could use to read every request and reset the data; set --admin-key or MOCKCRM_ADMIN_KEY")]
    DefaultAdminKeyOnNetwork { addr: SocketAddr },
    #[error("there is no CRM face {name:?}; mockcrm serves {known} (or all)")]
    UnknownCrm { name: String, known: String },
    #[error("--proxy-addr needs --tls: a tunnel to a CRM's host is answered with the local CA's certificate")]
    ProxyNeedsTls,
    #[error(
        "cannot listen as a forward proxy on {addr}: {source}; pick another --proxy-addr (127.0.0.1:0 takes any free port)"
    )]
    ProxyBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot make a temporary directory for the local CA: {0}; give one with --tls-dir")]
    TlsTempDir(std::io::Error),
    #[error(
        "cannot listen with TLS on {addr}: {source}; pick another --tls-addr (127.0.0.1:0 takes any free port)"
    )]
    TlsBind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A running mock CRM.
pub struct Server {
    addr: SocketAddr,
    /// The forward proxy's address, with `--proxy-addr`.
    proxy: Option<SocketAddr>,
    /// Each CRM face served and its base URL.
    crm_base_urls: Vec<(&'static str, String)>,
    /// The HTTPS listener and the CA file clients trust, with `--tls`.
    tls: Option<(SocketAddr, PathBuf)>,
    /// A temporary CA directory, removed when the server is dropped.
    _tls_temp: Option<tempfile::TempDir>,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<()>,
    /// For `hold_store`; dropped before the store thread is joined.
    store: StoreHandle,
    store_thread: StoreThread,
}

impl Server {
    /// Opens the store and starts serving; returns once the port is bound,
    /// so a caller may connect at once.
    pub async fn start(config: ServerConfig) -> Result<Server, ServeError> {
        let ServerConfig {
            addr,
            location,
            seed,
            admin_key,
            journal_size,
            journal_bytes,
            rate_limit,
            clock,
            read_timeout,
            strict,
            proxy_configs,
            store_queue,
            max_connections,
            tls,
            crms,
            proxy_addr,
            token_ttl,
        } = config;
        if proxy_addr.is_some() && tls.is_none() {
            return Err(ServeError::ProxyNeedsTls);
        }
        let crms = crms
            .iter()
            .map(|name| {
                faces::crm_face(name).ok_or_else(|| ServeError::UnknownCrm {
                    name: name.clone(),
                    known: faces::CRM_NAMES.join(", "),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let shared = !addr.ip().is_loopback()
            || tls.as_ref().is_some_and(|tls| !tls.addr.ip().is_loopback())
            || proxy_addr.is_some_and(|proxy| !proxy.ip().is_loopback());
        if shared && admin_key == DEFAULT_ADMIN_KEY {
            return Err(ServeError::DefaultAdminKeyOnNetwork { addr });
        }
        // The CA before the store: a CA problem is the user's to fix, and
        // should not leave a database half opened behind it.
        let tls = match tls {
            Some(mut settings) => {
                // The certificate names the real API hosts of the CRMs
                // served, so a client routed here for them trusts it.
                for face in &crms {
                    settings
                        .names
                        .extend(face.hosts().iter().map(|host| (*host).to_owned()));
                }
                Some(Tls::prepare(settings).await?)
            }
            None => None,
        };
        let seed = Arc::new(seed);
        let opening_seed = Arc::clone(&seed);
        // Opening and migrating touch the disk: keep them off the runtime.
        let store = tokio::task::spawn_blocking(move || Store::open(&location, &opening_seed))
            .await
            .map_err(|_| StoreError::Closed)??;
        let (store, store_thread) = StoreHandle::spawn(store, store_queue)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        let (tls_listener, tls, tls_temp) = match tls {
            Some(tls) => {
                let listener = tokio::net::TcpListener::bind(tls.addr)
                    .await
                    .map_err(|source| ServeError::TlsBind {
                        addr: tls.addr,
                        source,
                    })?;
                let bound = listener
                    .local_addr()
                    .map_err(|source| ServeError::TlsBind {
                        addr: tls.addr,
                        source,
                    })?;
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
                (
                    Some((listener, acceptor)),
                    Some((bound, tls.ca_file)),
                    tls.temp,
                )
            }
            None => (None, None, None),
        };
        let (forward_listener, proxy_bound) = match proxy_addr {
            Some(proxy) => {
                let listener = tokio::net::TcpListener::bind(proxy)
                    .await
                    .map_err(|source| ServeError::ProxyBind {
                        addr: proxy,
                        source,
                    })?;
                let bound = listener
                    .local_addr()
                    .map_err(|source| ServeError::ProxyBind {
                        addr: proxy,
                        source,
                    })?;
                (Some(listener), Some(bound))
            }
            None => (None, None),
        };
        if shared {
            warn_of_well_known_keys(&store, addr).await;
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let place = Place {
            http: format!("http://{addr}"),
            tls: tls.as_ref().map(|(bound, _)| format!("https://{bound}")),
            proxy: proxy_bound.map(|bound| format!("http://{bound}")),
            ca_file: tls
                .as_ref()
                .map(|(_, ca_file)| ca_file.display().to_string()),
        };
        let front = Front::new(
            AppState {
                store: store.clone(),
                harness: Arc::new(Harness::new(
                    journal_size,
                    journal_bytes,
                    rate_limit,
                    clock.clone(),
                )),
                admin_key: Arc::from(admin_key.as_str()),
                seed,
                strict,
                token_ttl,
            },
            PageState::new(addr, &admin_key),
            ProxyServing::new(proxy_configs),
            crms,
            place,
        );
        let limits = Limits {
            read_timeout,
            max_connections: max_connections.max(1),
            clock,
        };
        let listeners = Listeners {
            plain: listener,
            tls: tls_listener,
            forward: forward_listener,
        };
        let crm_base_urls = front.crm_base_urls();
        let serving = tokio::spawn(serve_connections(listeners, front, limits, stopped));
        Ok(Server {
            addr,
            proxy: proxy_bound,
            crm_base_urls,
            tls,
            _tls_temp: tls_temp,
            stop,
            serving,
            store,
            store_thread,
        })
    }

    /// Test-only: keeps the store thread busy until the hold is dropped,
    /// so that a test can fill the store's queue without racing it
    /// (tests/suite/overload.rs). Nothing else should call this.
    #[doc(hidden)]
    pub async fn hold_store_for_test(&self) -> Result<StoreHold, StoreError> {
        self.store.hold().await
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Each CRM face served (`--crm`), with the base URL its App Connect
    /// connector is configured with on this server.
    pub fn crm_base_urls(&self) -> &[(&'static str, String)] {
        &self.crm_base_urls
    }

    /// `http://HOST:PORT` of the forward proxy, with `--proxy-addr`: what a
    /// process sets as `HTTPS_PROXY` to reach the served CRMs' real hosts.
    pub fn proxy_url(&self) -> Option<String> {
        self.proxy.map(|addr| format!("http://{addr}"))
    }

    /// `https://HOST:PORT` with `--tls`: the same routes over TLS.
    pub fn tls_url(&self) -> Option<String> {
        self.tls.as_ref().map(|(addr, _)| format!("https://{addr}"))
    }

    /// The local CA's certificate, the file a client trusts
    /// (`NODE_EXTRA_CA_CERTS`), with `--tls`.
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.as_ref().map(|(_, file)| file.as_path())
    }

    /// Serves until `signal` completes, then shuts down gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }

    /// Stops accepting, lets in-flight requests finish, closes the database.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        // The serving task only ends by finishing; a join error would mean
        // it panicked, which tracing has already reported.
        let _ = self.serving.await;
        // Every other StoreHandle lived inside the routes, now dropped;
        // joining waits for queued writes and the connection's clean close.
        drop(self.store);
        let store_thread = self.store_thread;
        let _ = tokio::task::spawn_blocking(move || store_thread.join()).await;
    }
}

/// The TLS side, ready to bind: the CA loaded or made, the certificate
/// issued.
struct Tls {
    addr: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    ca_file: PathBuf,
    temp: Option<tempfile::TempDir>,
}

impl Tls {
    async fn prepare(settings: TlsSettings) -> Result<Tls, ServeError> {
        let TlsSettings { addr, dir, names } = settings;
        let (dir, temp) = match dir {
            Some(dir) => (dir, None),
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("mockcrm-tls-")
                    .tempdir()
                    .map_err(ServeError::TlsTempDir)?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        let mut all_names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        if !addr.ip().is_unspecified() && !addr.ip().is_loopback() {
            all_names.push(addr.ip().to_string());
        }
        for name in names {
            if !all_names.contains(&name) {
                all_names.push(name);
            }
        }
        // Key generation and file I/O: off the runtime.
        let (config, ca_file) = tokio::task::spawn_blocking(move || {
            let ca = LocalCa::open_or_create(&dir)?;
            Ok::<_, TlsError>((ca.server_config(&all_names)?, ca.ca_file()))
        })
        .await
        .map_err(|_| ServeError::Store(StoreError::Closed))??;
        Ok(Tls {
            addr,
            config,
            ca_file,
            temp,
        })
    }
}

/// A warning when the seed's published API keys work on a server others
/// can reach: anyone on the network could write as that user.
async fn warn_of_well_known_keys(store: &StoreHandle, addr: SocketAddr) {
    let mut active = Vec::new();
    for key in WELL_KNOWN_KEYS {
        if let Ok(Some(_)) = store.caller_for_key(key.to_owned()).await {
            active.push(key);
        }
    }
    if !active.is_empty() {
        tracing::warn!(
            "the well-known API key(s) {} are active, and anyone who can reach {addr} can use them; \
             give each CI job its own key with `mockcrm tenant new`, or serve a --seed with keys of your own",
            active.join(", ")
        );
    }
}
