//! Starting and stopping the mock CRM: opens the store, binds the listener,
//! serves the API until told to stop, then drains in-flight requests and
//! closes the database. Tests use `Server::start` directly with `:memory:`
//! and port 0; `mockcrm serve` wraps it with signals and the ready line.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, AppState};
use crate::harness::{Harness, DEFAULT_JOURNAL_BYTES, DEFAULT_JOURNAL_SIZE};
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
}

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
        let routes = api::routes(AppState {
            store,
            harness: Arc::new(Harness::new(journal_size, journal_bytes, rate_limit)),
            admin_key: Arc::from(admin_key),
            seed,
        });
        let serving = tokio::spawn(
            warp::serve(routes)
                .incoming(listener)
                .graceful(async {
                    // A dropped sender means the same as a sent stop.
                    let _ = stopped.await;
                })
                .run(),
        );
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
