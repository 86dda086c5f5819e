//! Connection-level faults: a `reset`, `empty`, `truncated` or `dribble`
//! fault is carried out here, on the socket, because hyper would otherwise
//! always send a whole answer.
//!
//! The API marks a reply with `web::ConnectionFault` in its extensions.
//! `Marking`, around the connection's service, takes that mark off, arms
//! the connection's `Slot` with it and a fresh random token, and adds the
//! token to the reply's head as an internal header. `FaultyIo`, around the
//! socket, then holds back every byte hyper writes from the moment it is
//! armed until it has the marked answer whole (the token says where its head
//! starts, however hyper splits its writes, and `Content-Length` where it
//! ends), strips the internal header, and sends what the fault says: nothing
//! and a reset, nothing and a close, the head and half the body and a close,
//! or everything in pieces spread over the fault's delay. It knows nothing
//! of routes or faults' rules: those are the API's and the harness's.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use warp::http::{HeaderValue, Request, Response};

use crate::clock::Clock;
use crate::web::ConnectionFault;

/// The internal header that marks where a faulted answer's head is; it
/// never reaches a client.
const MARKER: &str = "mockcrm-connection-fault";

/// Pieces a dribbled answer is sent in.
const DRIBBLE_PIECES: usize = 10;

/// What the service tells the socket about the next faulted answer.
#[derive(Clone, Default)]
pub struct Slot {
    armed: Arc<Mutex<Option<Armed>>>,
}

struct Armed {
    fault: ConnectionFault,
    /// The marker line as it appears in the head: `\r\n<MARKER>: <token>`.
    line: Vec<u8>,
}

impl Slot {
    /// Arms the slot for `fault`; the token to mark the answer with.
    fn arm(&self, fault: ConnectionFault) -> String {
        let token = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let line = format!("\r\n{MARKER}: {token}").into_bytes();
        *lock(&self.armed) = Some(Armed { fault, line });
        token
    }

    fn take(&self) -> Option<Armed> {
        lock(&self.armed).take()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every update is a single assignment or take; a panic cannot leave
    // the slot half-changed.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A hyper service around the API's that arms `slot` for a reply marked
/// with a connection fault.
#[derive(Clone)]
pub struct Marking<S> {
    inner: S,
    slot: Slot,
}

impl<S> Marking<S> {
    pub fn new(inner: S, slot: Slot) -> Marking<S> {
        Marking { inner, slot }
    }
}

type Marked<B, E> = Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send>>;

impl<S, R, B> hyper::service::Service<Request<R>> for Marking<S>
where
    S: hyper::service::Service<Request<R>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Marked<B, S::Error>;

    fn call(&self, request: Request<R>) -> Self::Future {
        let answering = self.inner.call(request);
        let slot = self.slot.clone();
        Box::pin(async move {
            let mut response = answering.await?;
            if let Some(fault) = response.extensions_mut().remove::<ConnectionFault>() {
                let token = slot.arm(fault);
                if let Ok(value) = HeaderValue::from_str(&token) {
                    response.headers_mut().insert(MARKER, value);
                }
            }
            Ok(response)
        })
    }
}

/// The socket operations a fault needs besides reading and writing.
pub trait Socket: AsyncRead + AsyncWrite + Unpin {
    /// Makes closing the socket send a TCP reset.
    fn reset_on_close(&self);
}

impl Socket for TcpStream {
    fn reset_on_close(&self) {
        // Without it the close is an ordinary one, which a client still
        // sees as a connection ended without an answer.
        if let Err(error) = self.set_zero_linger() {
            tracing::debug!(%error, "cannot make the close a reset");
        }
    }
}

impl Socket for tokio_rustls::server::TlsStream<TcpStream> {
    fn reset_on_close(&self) {
        // The reset is the TCP connection's, under the TLS session.
        self.get_ref().0.reset_on_close();
    }
}

impl Socket for tokio_rustls::server::TlsStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
    fn reset_on_close(&self) {
        // A tunnel through the forward proxy has no socket of its own to
        // reset: the fault closes it, which the client sees the same way.
    }
}

/// What happens once the bytes being sent are out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Carry on serving the connection.
    Serve,
    Close,
    Reset,
}

enum Mode {
    Pass,
    /// Holding hyper's bytes until the marked answer is whole.
    Capture {
        armed: Armed,
        held: Vec<u8>,
    },
    /// Sending `out` in pieces of `piece` bytes, `gap` apart.
    Send {
        out: Vec<u8>,
        sent: usize,
        piece: usize,
        /// Where the next gap falls.
        next_gap: usize,
        gap: Duration,
        wait: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
        then: Then,
    },
    /// The fault has closed the connection: every call fails.
    Closed,
}

/// The socket of one connection, carrying out its connection faults.
pub struct FaultyIo<T> {
    inner: T,
    slot: Slot,
    mode: Mode,
    /// What a dribble's gaps are timed by.
    clock: Clock,
}

impl<T: Socket> FaultyIo<T> {
    pub fn new(inner: T, slot: Slot, clock: Clock) -> FaultyIo<T> {
        FaultyIo {
            inner,
            slot,
            mode: Mode::Pass,
            clock,
        }
    }

    /// Takes `buf` into the held bytes; once the marked answer is whole,
    /// starts sending what its fault says.
    fn capture(&mut self, buf: &[u8]) {
        let Mode::Capture { armed, held } = &mut self.mode else {
            return;
        };
        held.extend_from_slice(buf);
        let Some(whole) = whole_answer(held, &armed.line) else {
            return;
        };
        let fault = armed.fault;
        let held = std::mem::take(held);
        let WholeAnswer {
            start,
            marker,
            head_end,
            end,
        } = whole;
        // Bytes hyper wrote before the faulted answer, as they were.
        let mut out = held[..start].to_vec();
        let line = marker.1 - marker.0;
        let mut answer = Vec::with_capacity(end - start - line);
        answer.extend_from_slice(&held[start..marker.0]);
        answer.extend_from_slice(&held[marker.1..end]);
        let head_len = head_end - start - line;
        let (then, piece, gap) = match fault {
            ConnectionFault::Reset => (Then::Reset, usize::MAX, Duration::ZERO),
            ConnectionFault::Empty => (Then::Close, usize::MAX, Duration::ZERO),
            ConnectionFault::Truncated => {
                let body = answer.len() - head_len;
                let keep = if body == 0 {
                    head_len / 2
                } else {
                    head_len + body / 2
                };
                out.extend_from_slice(&answer[..keep]);
                (Then::Close, usize::MAX, Duration::ZERO)
            }
            ConnectionFault::Dribble(over) => {
                out.extend_from_slice(&answer);
                // Anything hyper wrote after it goes out after it.
                out.extend_from_slice(&held[end..]);
                let piece = answer.len().div_ceil(DRIBBLE_PIECES).max(1);
                let gap = over / DRIBBLE_PIECES as u32;
                (Then::Serve, piece, gap)
            }
        };
        self.mode = Mode::Send {
            next_gap: start.saturating_add(piece),
            out,
            sent: 0,
            piece,
            gap,
            wait: None,
            then,
        };
    }

    /// Sends what is left to send; `Ready(Ok)` once the connection may
    /// carry on, `Ready(Err)` once the fault has closed it.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let Mode::Send {
                out,
                sent,
                piece,
                next_gap,
                gap,
                wait,
                then,
            } = &mut self.mode
            else {
                return match self.mode {
                    Mode::Closed => Poll::Ready(Err(closed())),
                    _ => Poll::Ready(Ok(())),
                };
            };
            if let Some(pending) = wait {
                ready!(pending.as_mut().poll(cx));
                *wait = None;
            }
            if *sent == out.len() {
                let then = *then;
                match then {
                    Then::Serve => {
                        self.mode = Mode::Pass;
                        return Poll::Ready(Ok(()));
                    }
                    Then::Close | Then::Reset => {
                        if then == Then::Reset {
                            self.inner.reset_on_close();
                        }
                        self.mode = Mode::Closed;
                        return Poll::Ready(Err(closed()));
                    }
                }
            }
            let until = out.len().min(*next_gap).max(*sent + 1);
            let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &out[*sent..until]))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *sent += written;
            if *sent >= *next_gap && *sent < out.len() {
                *next_gap = next_gap.saturating_add(*piece);
                if !gap.is_zero() {
                    let clock = self.clock.clone();
                    let gap = *gap;
                    *wait = Some(Box::pin(async move { clock.wait(gap).await }));
                }
            }
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection closed by an injected fault",
    )
}

/// Where the marked answer lies in the held bytes, once it is all there.
struct WholeAnswer {
    /// Its first byte (the status line).
    start: usize,
    /// The marker line's span, to cut out.
    marker: (usize, usize),
    /// Just past the blank line that ends its head.
    head_end: usize,
    /// Just past its body.
    end: usize,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn whole_answer(held: &[u8], line: &[u8]) -> Option<WholeAnswer> {
    let marker_at = find(held, line)?;
    // The marker's own line ends at the next CRLF.
    let marker_end = marker_at + line.len();
    // The head starts at its status line: the last one before the marker
    // (header values mockcrm writes never hold one).
    let start = held[..marker_at]
        .windows(9)
        .rposition(|window| window == b"HTTP/1.1 ")?;
    let head_end = marker_end + find(&held[marker_end..], b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&held[start..head_end]).ok()?;
    let length = head
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let end = head_end.checked_add(length)?;
    (held.len() >= end).then_some(WholeAnswer {
        start,
        marker: (marker_at, marker_end),
        head_end,
        end,
    })
}

impl<T: Socket> AsyncRead for FaultyIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if matches!(this.mode, Mode::Closed) {
            return Poll::Ready(Err(closed()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T> FaultyIo<T> {
    /// Called before each write: a passing connection starts holding
    /// hyper's bytes when a fault was armed for this answer. `false` when
    /// the write goes straight to the socket.
    fn capture_if_armed(&mut self) -> bool {
        if matches!(self.mode, Mode::Pass) {
            match self.slot.take() {
                Some(armed) => {
                    self.mode = Mode::Capture {
                        armed,
                        held: Vec::new(),
                    }
                }
                None => return false,
            }
        }
        true
    }
}

impl<T: Socket> AsyncWrite for FaultyIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.capture_if_armed() {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        match &mut this.mode {
            Mode::Capture { .. } => {
                this.capture(buf);
                Poll::Ready(Ok(buf.len()))
            }
            Mode::Send { out, .. } => {
                // Written while an earlier answer is still going out: it
                // follows that answer.
                out.extend_from_slice(buf);
                Poll::Ready(Ok(buf.len()))
            }
            Mode::Closed => Poll::Ready(Err(closed())),
            Mode::Pass => Pin::new(&mut this.inner).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.capture_if_armed() {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        }
        // Held or queued, every buffer is taken whole.
        let all: Vec<u8> = bufs.iter().flat_map(|buf| buf.iter().copied()).collect();
        Pin::new(this).poll_write(cx, &all)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match &this.mode {
            Mode::Send { .. } | Mode::Closed => {
                ready!(this.poll_send(cx))?;
                Pin::new(&mut this.inner).poll_flush(cx)
            }
            // Held bytes wait for the rest of their answer; a socket has
            // no buffer of its own to flush.
            Mode::Capture { .. } | Mode::Pass => Pin::new(&mut this.inner).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match &this.mode {
            Mode::Send { .. } => {
                ready!(this.poll_send(cx))?;
                Pin::new(&mut this.inner).poll_shutdown(cx)
            }
            // Dropping the socket closes it the way the fault chose.
            Mode::Closed => Poll::Ready(Ok(())),
            Mode::Capture { .. } | Mode::Pass => Pin::new(&mut this.inner).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// An in-memory socket that records what was written and whether the
    /// close was made a reset.
    #[derive(Default)]
    struct Recorder {
        written: Vec<u8>,
        reset: std::sync::atomic::AtomicBool,
    }

    impl AsyncRead for Recorder {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().written.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    impl Socket for Recorder {
        fn reset_on_close(&self) {
            self.reset.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    const BODY: &str = r#"{"id":"act_1","subject":"Call"}"#;

    fn answer(marker: Option<&str>) -> Vec<u8> {
        let marker = marker.map_or(String::new(), |token| format!("{MARKER}: {token}\r\n"));
        format!(
            "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n{marker}content-length: {}\r\n\r\n{BODY}",
            BODY.len()
        )
        .into_bytes()
    }

    /// Writes `before` (an earlier answer), then the marked answer split at
    /// `split`, and flushes; what reached the socket and how it ended.
    async fn run(fault: ConnectionFault, split: usize) -> (String, io::Result<()>, bool) {
        let slot = Slot::default();
        let mut io = FaultyIo::new(Recorder::default(), slot.clone(), Clock::manual().0);
        let before = answer(None);
        let token = slot.arm(fault);
        let marked = answer(Some(&token));
        io.write_all(&before[..20]).await.expect("write");
        let mut rest = before[20..].to_vec();
        rest.extend_from_slice(&marked[..split]);
        io.write_all(&rest).await.expect("write");
        io.write_all(&marked[split..]).await.expect("write");
        let ended = io.flush().await;
        let reset = io.inner.reset.load(std::sync::atomic::Ordering::Relaxed);
        let written = String::from_utf8(io.inner.written).expect("utf-8");
        (written, ended, reset)
    }

    #[tokio::test]
    async fn each_fault_sends_what_it_says_however_the_writes_are_split() {
        let plain = String::from_utf8(answer(None)).expect("utf-8");
        for split in [0, 5, 60, answer(Some("x")).len() - 3] {
            let (written, ended, reset) = run(ConnectionFault::Reset, split).await;
            assert_eq!((written.as_str(), reset), (plain.as_str(), true));
            assert!(ended.is_err());

            let (written, ended, reset) = run(ConnectionFault::Empty, split).await;
            assert_eq!((written.as_str(), reset), (plain.as_str(), false));
            assert!(ended.is_err());

            let (written, ended, _) = run(ConnectionFault::Truncated, split).await;
            let cut = &written[plain.len()..];
            assert!(cut.starts_with("HTTP/1.1 201 Created\r\n"), "{cut}");
            assert!(!cut.contains(MARKER), "{cut}");
            let (_, body) = cut.split_once("\r\n\r\n").expect("the whole head");
            assert_eq!(body, &BODY[..BODY.len() / 2]);
            assert!(ended.is_err());

            let (written, ended, _) =
                run(ConnectionFault::Dribble(Duration::from_millis(100)), split).await;
            assert_eq!(written, format!("{plain}{plain}"), "whole, marker stripped");
            assert!(ended.is_ok(), "the connection carries on");
        }
    }

    #[tokio::test]
    async fn unmarked_answers_pass_untouched() {
        let mut io = FaultyIo::new(Recorder::default(), Slot::default(), Clock::Real);
        io.write_all(&answer(None)).await.expect("write");
        io.flush().await.expect("flush");
        assert_eq!(io.inner.written, answer(None));
    }
}
