//! A server under test reached over raw TCP, for the hostile-input tests
//! (`hostile`, `hostile_framing`, `hostile_limits`): an in-process server
//! on its own runtime, one exchange of bytes on a fresh connection, the
//! answer read off the socket by hand, and the checks every one of them
//! makes (the JSON error shape, `/health` still answering). It asserts
//! nothing on its own.
//!
//! Raw sockets rather than an HTTP client, so that a case can carry invalid
//! UTF-8, broken framing and methods no client library would send. Every
//! read has a generous timeout: a hang fails the case instead of blocking
//! the suite.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use mockcrm::{Server, ServerConfig};
use serde_json::{json, Value};

/// Past this with no answer, the server is taken to hang. Not a speed
/// assertion: it is far above anything a working server needs.
pub const HANG: Duration = Duration::from_secs(20);

/// Short, so cases that stall (a body that never comes) finish quickly.
pub const SHORT_READ_TIMEOUT: Duration = Duration::from_millis(300);

pub const DEV_AUTH: &str = "Bearer mockcrm-dev-key";

pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// An in-process server on its own multi-threaded runtime, so it keeps
/// serving while the test thread blocks on a socket.
pub struct Crm {
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
    addr: SocketAddr,
}

impl Crm {
    pub fn start(read_timeout: Duration) -> Crm {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let config = ServerConfig {
            read_timeout,
            ..ServerConfig::ephemeral()
        };
        let server = runtime
            .block_on(Server::start(config))
            .expect("server starts");
        let addr = server.addr();
        Crm {
            runtime,
            server: Some(server),
            addr,
        }
    }

    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(HANG)).expect("read timeout");
        stream.set_write_timeout(Some(HANG)).expect("write timeout");
        stream
    }

    /// Shuts down gracefully; `Err` if that hangs.
    pub fn stop(mut self) -> Result<(), String> {
        let Some(server) = self.server.take() else {
            return Ok(());
        };
        self.runtime
            .block_on(async { tokio::time::timeout(HANG, server.shutdown()).await })
            .map_err(|_| format!("shutdown did not finish within {HANG:?}"))
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug)]
pub enum Reply {
    Answered(Response),
    /// The server closed the connection without answering.
    Closed,
}

/// Reads one final response (skipping `100 Continue`). `Err` on a hang or
/// on bytes that are not an HTTP/1.1 response.
pub fn read_response(stream: &mut TcpStream, head_request: bool) -> Result<Reply, String> {
    let mut buffer = Vec::new();
    loop {
        let head_end = loop {
            if let Some(at) = find(&buffer, b"\r\n\r\n") {
                break at;
            }
            if !fill(stream, &mut buffer)? {
                if buffer.is_empty() {
                    return Ok(Reply::Closed);
                }
                return Err(format!(
                    "connection closed mid-head: {:?}",
                    String::from_utf8_lossy(&buffer)
                ));
            }
        };
        let head = String::from_utf8(buffer[..head_end].to_vec())
            .map_err(|_| "response head is not UTF-8".to_owned())?;
        buffer.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| format!("bad status line {status_line:?}"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        if (100..200).contains(&status) {
            continue;
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        if head_request || status == 204 || status == 304 {
            return Ok(Reply::Answered(response));
        }
        if response.header("transfer-encoding").is_some() {
            return Err("mockcrm answered chunked; it always knows its length".into());
        }
        match response.header("content-length") {
            Some(length) => {
                let length: usize = length
                    .parse()
                    .map_err(|_| format!("bad content-length {length:?}"))?;
                while buffer.len() < length {
                    if !fill(stream, &mut buffer)? {
                        return Err("connection closed mid-body".into());
                    }
                }
                buffer.truncate(length);
            }
            None => while fill(stream, &mut buffer)? {},
        }
        response.body = buffer;
        return Ok(Reply::Answered(response));
    }
}

/// Reads more into `buffer`; `false` at end of stream (or a reset).
pub fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<bool, String> {
    let mut chunk = [0u8; 16 * 1024];
    // Other tests in this process spawn children, and a SIGCHLD may land
    // on this thread mid-read: an interrupted read is tried again.
    let read = loop {
        match stream.read(&mut chunk) {
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    match read {
        Ok(0) => Ok(false),
        Ok(read) => {
            buffer.extend_from_slice(&chunk[..read]);
            Ok(true)
        }
        Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Err(format!("no answer within {HANG:?}: the server hangs"))
        }
        Err(error) if error.kind() == ErrorKind::ConnectionReset => Ok(false),
        Err(error) => Err(format!("read failed: {error}")),
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Sends `bytes` (tolerating a server that closes while we write, as it
/// may for a request it cannot parse) and reads the answer.
pub fn exchange(crm: &Crm, bytes: &[u8], half_close: bool, head: bool) -> Result<Reply, String> {
    let mut stream = crm.connect();
    match stream.write_all(bytes) {
        Ok(()) => {}
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ) => {}
        Err(error) => return Err(format!("write failed: {error}")),
    }
    if half_close {
        let _ = stream.shutdown(Shutdown::Write);
    }
    read_response(&mut stream, head)
}

/// The SPEC §3 error body: `{"error": {"code", "message"}}`, both non-empty.
pub fn check_error_shape(response: &Response) -> Result<(), String> {
    let body: Value = serde_json::from_slice(&response.body).map_err(|_| {
        format!(
            "{} with a body that is not JSON: {:?}",
            response.status,
            String::from_utf8_lossy(&response.body)
        )
    })?;
    let code = body["error"]["code"].as_str().unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    if code.is_empty() || message.is_empty() {
        return Err(format!(
            "{} without the error shape: {body}",
            response.status
        ));
    }
    let content_type = response.header("content-type").unwrap_or_default();
    if !content_type.starts_with("application/json") {
        return Err(format!("error answered as {content_type:?}"));
    }
    Ok(())
}

pub fn health(crm: &Crm) -> Result<(), String> {
    let request = b"GET /health HTTP/1.1\r\nHost: mockcrm\r\n\r\n";
    match exchange(crm, request, false, false)? {
        Reply::Answered(response) if response.status == 200 => {
            let body: Value = serde_json::from_slice(&response.body)
                .map_err(|_| "health body is not JSON".to_owned())?;
            if body == json!({"status": "ok"}) {
                Ok(())
            } else {
                Err(format!("health answered {body}"))
            }
        }
        other => Err(format!("health check failed: {other:?}")),
    }
}

/// The head of an authorised `POST /activity` with a JSON body, up to its
/// framing headers.
pub const POST_HEAD: &str = "POST /activity HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer mockcrm-dev-key\r\nContent-Type: application/json\r\n";

/// An activity `POST /activity` accepts.
pub fn valid_activity() -> Value {
    json!({
        "subject": "Inbound Call from Jane Contact",
        "body": "- Duration: 5 seconds\n",
        "type": "PhoneCommunication",
        "received_at": "2024-01-15T15:30:00Z",
        "contact_id": "contact-1",
        "session_id": "hostile",
        "direction": "Inbound",
        "duration": 5,
    })
}
