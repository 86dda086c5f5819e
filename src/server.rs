//! Starting and stopping the mock CRM: opens the store, binds the listener,
//! accepts connections and serves the API on each until told to stop, then
//! drains in-flight requests and closes the database. It owns the
//! connection-level limits: HTTP/1.1 only, a header-read timeout, and a
//! bounded wait for in-flight requests at shutdown. Tests use
//! `Server::start` directly with `:memory:` and port 0; `mockcrm serve`
//! wraps it with signals and the ready line.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

mod parse_errors;

use crate::api::{self, AppState, ProxyServing};
use crate::clock::Clock;
use crate::harness::{Harness, DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE};
use crate::page::PageState;
use crate::proxy::ProxyConfig;
use crate::store::{Location, Seed, Store, StoreError, StoreHandle, StoreThread};

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
}

/// The read timeout when none is given: generous for any real client.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The admin key when none is given (SPEC §3).
pub const DEFAULT_ADMIN_KEY: &str = "mockcrm-admin";

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
}

/// A running mock CRM.
pub struct Server {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    serving: JoinHandle<()>,
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
        } = config;
        let seed = Arc::new(seed);
        let opening_seed = Arc::clone(&seed);
        // Opening and migrating touch the disk: keep them off the runtime.
        let store = tokio::task::spawn_blocking(move || Store::open(&location, &opening_seed))
            .await
            .map_err(|_| StoreError::Closed)??;
        let (store, store_thread) = StoreHandle::spawn(store)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr, source })?;
        let (stop, stopped) = oneshot::channel::<()>();
        let state = AppState {
            store,
            harness: Arc::new(Harness::new(journal_size, journal_bytes, rate_limit, clock)),
            page: Arc::new(PageState::new(addr, &admin_key)),
            admin_key: Arc::from(admin_key),
            seed,
            strict,
            proxy: Arc::new(ProxyServing::new(proxy_configs)),
        };
        let serving = tokio::spawn(serve_connections(listener, state, read_timeout, stopped));
        Ok(Server {
            addr,
            stop,
            serving,
            store_thread,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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
        // Every StoreHandle lived inside the routes, now dropped; joining
        // waits for queued writes and the connection's clean close.
        let store_thread = self.store_thread;
        let _ = tokio::task::spawn_blocking(move || store_thread.join()).await;
    }
}

/// Accepts connections until `stopped` fires, then lets in-flight requests
/// finish for up to twice `read_timeout` before closing what is left.
///
/// warp::serve has no way to set hyper's header-read timeout (and without a
/// timer hyper silently drops its own 30 s default), so a client that sends
/// half a request line, or opens a connection and says nothing, would hold
/// it, and hold up shutdown, forever. Serving each connection with hyper
/// directly lets us give it a timer. HTTP/1.1 only: h2c was never part of
/// the contract, and its connection preface has no read timeout of its own.
async fn serve_connections(
    listener: TcpListener,
    state: AppState,
    read_timeout: Duration,
    stopped: oneshot::Receiver<()>,
) {
    let routes = api::routes(state, read_timeout);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut stopped = std::pin::pin!(stopped);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // A dropped sender means the same as a sent stop.
            _ = &mut stopped => break,
        };
        // Reap finished connections so the set holds only live ones.
        while connections.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                // Out of file descriptors and the like: back off rather
                // than spin, and try again.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(warp::service(routes.clone()));
        let io = TokioIo::new(parse_errors::JsonParseErrors::new(stream));
        let connection = graceful.watch(http.serve_connection(io, service));
        connections.spawn(async move {
            if let Err(error) = connection.await {
                // A client that hangs up, stalls or sends garbage: its
                // problem, not the server's, so not worth more than debug.
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
    drop(listener);
    // A client that stalls mid-request is cut off by the read timeouts, at
    // most one for its head and one for its body, and then answered; one
    // that never reads its answer is not: bound the wait, then close.
    if tokio::time::timeout(read_timeout.saturating_mul(2), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = connections.len(),
            "connections still busy at shutdown; closing them"
        );
    }
    // Dropping the connections drops their `StoreHandle`s, which is what
    // lets the store thread finish.
    connections.shutdown().await;
}

/// Errors `accept` reports for a connection that died before we took it.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
