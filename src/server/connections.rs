//! Accepting and serving connections: the plain listener, the HTTPS one
//! (`--tls`) and the forward proxy's (`--proxy-addr`), under one cap on
//! open connections, with hyper's header-read timeout, TLS handshakes
//! bounded by the same timeout, the turn-away answer past the cap, and the
//! bounded wait at shutdown. What a request means is the front's
//! (`faces`); this module only moves bytes to and from it.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;

use super::connection_faults::{self, FaultyIo, Marking, Slot};
use super::forward::{Forward, Tunnel};
use super::parse_errors;
use crate::clock::Clock;
use crate::faces::{self, Front};
use crate::web::{self, ApiError, OVERLOAD_RETRY_AFTER};

/// Connections being turned away (read, answered 503, closed) at once;
/// past it a new connection is closed without an answer.
const MAX_TURNING_AWAY: usize = 256;

/// How long a connection being turned away may take to send its request:
/// short, since it is only read to be answered.
const TURN_AWAY_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What `serve_connections` holds each connection to.
pub(super) struct Limits {
    pub(super) read_timeout: Duration,
    pub(super) max_connections: usize,
    /// What connection faults' delays are timed by.
    pub(super) clock: Clock,
}

/// The sockets connections arrive on: plain HTTP always, HTTPS with
/// `--tls`, the forward proxy with `--proxy-addr` (which needs the TLS
/// side: it answers a tunnel with the same certificate). All serve the same
/// routes under the same connection cap.
pub(super) struct Listeners {
    pub(super) plain: TcpListener,
    pub(super) tls: Option<(TcpListener, tokio_rustls::TlsAcceptor)>,
    pub(super) forward: Option<TcpListener>,
}

/// Which listener a connection came in on.
enum Door {
    Plain,
    Tls(tokio_rustls::TlsAcceptor),
    Forward,
}

impl Listeners {
    /// The next connection on any socket, and which one it came in on.
    async fn accept(&self) -> std::io::Result<(TcpStream, Door)> {
        let tls = async {
            match &self.tls {
                Some((listener, acceptor)) => {
                    let (stream, _) = listener.accept().await?;
                    Ok((stream, Door::Tls(acceptor.clone())))
                }
                None => std::future::pending().await,
            }
        };
        let forward = async {
            match &self.forward {
                Some(listener) => {
                    let (stream, _) = listener.accept().await?;
                    Ok((stream, Door::Forward))
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = self.plain.accept() => accepted.map(|(stream, _)| (stream, Door::Plain)),
            accepted = tls => accepted,
            accepted = forward => accepted,
        }
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
/// A TLS handshake is bounded by the same read timeout.
///
/// At most `max_connections` are served at once. One more is not left to
/// wait in the kernel's backlog (a queue nobody bounds or answers): it is
/// read, answered 503 `overloaded` with `Retry-After`, and closed, so its
/// client knows to come back. `GET /health` is the exception: a liveness
/// probe must not report a busy server as dead (an orchestrator would
/// restart it mid-run), so it gets 200 with `"overloaded": true`.
///
/// A forward-proxy connection is served by `Forward`; a tunnel it opens
/// (`CONNECT` to a served CRM's host) comes back here to be served like an
/// HTTPS connection, so that it is counted, faulted and shut down like one.
pub(super) async fn serve_connections(
    listeners: Listeners,
    front: Front,
    limits: Limits,
    stopped: oneshot::Receiver<()>,
) {
    let Limits {
        read_timeout,
        max_connections,
        clock,
    } = limits;
    let forward_hosts = front.crm_hosts();
    let harness = Arc::clone(&front.app.harness);
    let front = Arc::new(front);
    let routes = web::routes(
        move |request| {
            let front = Arc::clone(&front);
            async move { front.handle(request).await }
        },
        read_timeout,
    );
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    let mut turn_away = hyper::server::conn::http1::Builder::new();
    turn_away
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout.min(TURN_AWAY_READ_TIMEOUT))
        .keep_alive(false);
    let (tunnels, mut tunnels_opened) = mpsc::unbounded_channel::<Tunnel>();
    let tunnel_acceptor = listeners.tls.as_ref().map(|(_, acceptor)| acceptor.clone());
    let forward = Arc::new(Forward::new(
        forward_hosts,
        harness,
        tunnels,
        TowerToHyperService::new(warp::service(routes.clone())),
    ));
    let serving = Arc::new(Semaphore::new(max_connections));
    let turning_away = Arc::new(Semaphore::new(MAX_TURNING_AWAY));
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut stopped = std::pin::pin!(stopped);
    loop {
        let accepted = tokio::select! {
            accepted = listeners.accept() => accepted,
            Some((upgrade, place)) = tunnels_opened.recv() => {
                // A tunnel through the forward proxy: TLS inside it, then
                // served like any HTTPS connection, holding the place its
                // proxy connection had under the cap.
                let Some(acceptor) = tunnel_acceptor.clone() else { continue };
                let watcher = graceful.watcher();
                let http = http.clone();
                let service = routes.clone();
                let clock = clock.clone();
                connections.spawn(async move {
                    let Ok(upgraded) = upgrade.await else { return };
                    let stream = TokioIo::new(upgraded);
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(read_timeout, acceptor.accept(stream)).await
                    else {
                        tracing::debug!("TLS handshake in a proxy tunnel failed");
                        return;
                    };
                    let slot = Slot::default();
                    let service =
                        Marking::new(TowerToHyperService::new(warp::service(service)), slot.clone());
                    let io = wrap_io(stream, slot, clock);
                    if let Err(error) = watcher.watch(http.serve_connection(io, service)).await {
                        tracing::debug!(%error, "tunnel closed with an error");
                    }
                    drop(place);
                });
                continue;
            }
            // A dropped sender means the same as a sent stop.
            _ = &mut stopped => break,
        };
        // Reap finished connections so the set holds only live ones.
        while connections.try_join_next().is_some() {}
        let (stream, door) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                // Out of file descriptors and the like: back off rather
                // than spin, and try again.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let watcher = graceful.watcher();
        let Ok(permit) = Arc::clone(&serving).try_acquire_owned() else {
            let Ok(permit) = Arc::clone(&turning_away).try_acquire_owned() else {
                // Past even that: closing at once is all that is left.
                continue;
            };
            let turn_away = turn_away.clone();
            let handshake_timeout = read_timeout.min(TURN_AWAY_READ_TIMEOUT);
            connections.spawn(async move {
                let answer = hyper::service::service_fn(move |request| {
                    overloaded(request, max_connections, read_timeout)
                });
                match door {
                    Door::Plain | Door::Forward => {
                        let connection = turn_away.serve_connection(TokioIo::new(stream), answer);
                        let _ = watcher.watch(connection).await;
                    }
                    Door::Tls(acceptor) => {
                        if let Some(stream) = handshake(&acceptor, stream, handshake_timeout).await
                        {
                            let connection =
                                turn_away.serve_connection(TokioIo::new(stream), answer);
                            let _ = watcher.watch(connection).await;
                        }
                    }
                }
                drop(permit);
            });
            continue;
        };
        let slot = Slot::default();
        let service = Marking::new(
            TowerToHyperService::new(warp::service(routes.clone())),
            slot.clone(),
        );
        let http = http.clone();
        let clock = clock.clone();
        let forward = Arc::clone(&forward);
        connections.spawn(async move {
            let served = match door {
                Door::Plain => {
                    let io = wrap_io(stream, slot, clock);
                    watcher.watch(http.serve_connection(io, service)).await
                }
                Door::Tls(acceptor) => {
                    let Some(stream) = handshake(&acceptor, stream, read_timeout).await else {
                        drop(permit);
                        return;
                    };
                    let io = wrap_io(stream, slot, clock);
                    watcher.watch(http.serve_connection(io, service)).await
                }
                Door::Forward => {
                    let place = Arc::new(permit);
                    let answer = hyper::service::service_fn(move |request| {
                        Arc::clone(&forward).answer(request, Arc::clone(&place))
                    });
                    // Not watched: hyper's graceful shutdown cannot wait on
                    // a connection that may upgrade. Its requests are
                    // answered at once and a tunnel it opens is watched;
                    // at shutdown an idle proxy connection is closed.
                    drop(watcher);
                    let served = http
                        .serve_connection(TokioIo::new(stream), answer)
                        .with_upgrades()
                        .await;
                    if let Err(error) = served {
                        tracing::debug!(%error, "proxy connection closed with an error");
                    }
                    return;
                }
            };
            if let Err(error) = served {
                // A client that hangs up, stalls or sends garbage: its
                // problem, not the server's, so not worth more than debug.
                tracing::debug!(%error, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listeners);
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

/// A served connection's socket: connection-level faults carried out
/// underneath, hyper's own bare error answers given JSON bodies on top.
fn wrap_io<S: connection_faults::Socket>(
    stream: S,
    slot: Slot,
    clock: Clock,
) -> TokioIo<parse_errors::JsonParseErrors<FaultyIo<S>>> {
    TokioIo::new(parse_errors::JsonParseErrors::new(FaultyIo::new(
        stream, slot, clock,
    )))
}

/// The TLS handshake of a connection to the HTTPS listener, within
/// `timeout`; `None` (and the connection dropped) when it fails, which is
/// the client's business: it learns why from its own TLS error.
async fn handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    timeout: Duration,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}

/// The answer to a connection past the cap: its request is read (so that
/// closing does not reset the answer away) but not served, except a
/// liveness probe, which is told the server is up and busy.
async fn overloaded(
    request: warp::http::Request<hyper::body::Incoming>,
    max_connections: usize,
    read_timeout: Duration,
) -> Result<warp::reply::Response, std::convert::Infallible> {
    let is_health_probe =
        request.method() == warp::http::Method::GET && request.uri().path() == faces::HEALTH_PATH;
    let _ = tokio::time::timeout(
        read_timeout.min(TURN_AWAY_READ_TIMEOUT),
        drain(request.into_body()),
    )
    .await;
    let response = if is_health_probe {
        faces::health_while_overloaded()
    } else {
        ApiError::Overloaded {
            reason: format!("all {max_connections} connections are in use"),
            retry_after: OVERLOAD_RETRY_AFTER,
        }
        .into_response()
    };
    Ok(response.with_header("connection", "close").into_warp())
}

/// Reads a body to its end, keeping none of it, up to the API's body limit.
async fn drain(mut body: hyper::body::Incoming) {
    use hyper::body::Body;
    let mut seen = 0usize;
    while let Some(Ok(frame)) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
    {
        if let Some(data) = frame.data_ref() {
            seen = seen.saturating_add(data.len());
        }
        if seen > web::BODY_LIMIT {
            break;
        }
    }
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
