//! Hostile input over raw TCP (issue #5, item 4). Arbitrary methods, paths,
//! headers, query strings and bodies never get a 5xx or a hang, every
//! error answer has the JSON error shape, and the server still answers
//! `/health` afterwards. Slow and idle clients are cut off by the read
//! timeouts, and a stalled client cannot hold up shutdown.
//!
//! Raw sockets rather than an HTTP client, so that a case can carry invalid
//! UTF-8, broken framing and methods no client library would send. Every
//! read has a generous timeout: a hang fails the case instead of blocking
//! the suite. `PROPTEST_CASES` sets the number of cases.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use mockcrm::{Server, ServerConfig};
use percent_encoding::{percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

/// Past this with no answer, the server is taken to hang. Not a speed
/// assertion: it is far above anything a working server needs.
const HANG: Duration = Duration::from_secs(20);

/// Short, so cases that stall (a body that never comes) finish quickly.
const SHORT_READ_TIMEOUT: Duration = Duration::from_millis(300);

const DEV_AUTH: &str = "Bearer mockcrm-dev-key";

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default)
}

/// An in-process server on its own multi-threaded runtime, so it keeps
/// serving while the test thread blocks on a socket.
struct Crm {
    runtime: tokio::runtime::Runtime,
    server: Option<Server>,
    addr: SocketAddr,
}

impl Crm {
    fn start(read_timeout: Duration) -> Crm {
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

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(HANG)).expect("read timeout");
        stream.set_write_timeout(Some(HANG)).expect("write timeout");
        stream
    }

    /// Shuts down gracefully; `Err` if that hangs.
    fn stop(mut self) -> Result<(), String> {
        let Some(server) = self.server.take() else {
            return Ok(());
        };
        self.runtime
            .block_on(async { tokio::time::timeout(HANG, server.shutdown()).await })
            .map_err(|_| format!("shutdown did not finish within {HANG:?}"))
    }
}

#[derive(Debug)]
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug)]
enum Reply {
    Answered(Response),
    /// The server closed the connection without answering.
    Closed,
}

/// Reads one final response (skipping `100 Continue`). `Err` on a hang or
/// on bytes that are not an HTTP/1.1 response.
fn read_response(stream: &mut TcpStream, head_request: bool) -> Result<Reply, String> {
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
fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<bool, String> {
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk) {
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Sends `bytes` (tolerating a server that closes while we write, as it
/// may for a request it cannot parse) and reads the answer.
fn exchange(crm: &Crm, bytes: &[u8], half_close: bool, head: bool) -> Result<Reply, String> {
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
fn check_error_shape(response: &Response) -> Result<(), String> {
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

fn health(crm: &Crm) -> Result<(), String> {
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

// ---------------------------------------------------------------------------
// Well-formed HTTP/1.1 carrying hostile content: mockcrm must answer every
// one itself, so every answer below 200 or above 299 has the JSON shape.

#[derive(Debug, Clone)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    chunks: Option<Vec<usize>>,
}

impl Request {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = format!(
            "{} {} HTTP/1.1\r\nHost: mockcrm\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (name, value) in &self.headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        match &self.chunks {
            None => {
                if !self.body.is_empty() || self.method != "GET" {
                    bytes.extend_from_slice(
                        format!("Content-Length: {}\r\n", self.body.len()).as_bytes(),
                    );
                }
                bytes.extend_from_slice(b"\r\n");
                bytes.extend_from_slice(&self.body);
            }
            Some(cuts) => {
                bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                let mut rest = self.body.as_slice();
                for cut in cuts {
                    if rest.is_empty() {
                        break;
                    }
                    let (chunk, tail) = rest.split_at((*cut).clamp(1, rest.len()));
                    bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    bytes.extend_from_slice(chunk);
                    bytes.extend_from_slice(b"\r\n");
                    rest = tail;
                }
                if !rest.is_empty() {
                    bytes.extend_from_slice(format!("{:x}\r\n", rest.len()).as_bytes());
                    bytes.extend_from_slice(rest);
                    bytes.extend_from_slice(b"\r\n");
                }
                bytes.extend_from_slice(b"0\r\n\r\n");
            }
        }
        bytes
    }
}

const SQL: [&str; 6] = [
    "' OR '1'='1",
    "'; DROP TABLE activities; --",
    "1 UNION SELECT key, user_id FROM api_keys --",
    "\" OR \"\"=\"",
    "%' --",
    "contact-1' --",
];

/// Text a path segment or query value might carry, percent-encoded: SQL
/// injection, invalid UTF-8, NUL, unicode, nothing.
fn encoded_text() -> BoxedStrategy<String> {
    let raw = prop_oneof![
        prop::sample::select(SQL.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..16),
        Just(vec![0xC3, 0x28]),
        Just(vec![0xFF, 0xFE, 0x00]),
        "\\PC{0,12}".prop_map(String::into_bytes),
        Just(b"contact-1".to_vec()),
        Just(b"act_missing".to_vec()),
    ];
    raw.prop_map(|bytes| percent_encode(&bytes, NON_ALPHANUMERIC).to_string())
        .boxed()
}

fn path() -> BoxedStrategy<String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "/health", "/me", "/activity", "/contact", "/activity/", "/contact/",
            "/__admin/faults", "/__admin/requests", "/__admin/checks", "/__admin/reset",
            "/__admin", "/__admin/faults/x", "//activity", "/activity//x", "/%2e%2e/activity",
            "/activity/%00", "/activity/..%2f..%2fme", "/", "/health/", "/HEALTH",
        ])
        .prop_map(str::to_owned),
        2 => encoded_text().prop_map(|id| format!("/activity/{id}")),
        1 => encoded_text().prop_map(|id| format!("/contact/{id}")),
        1 => prop::collection::vec(encoded_text(), 0..5)
            .prop_map(|segments| format!("/{}", segments.join("/"))),
        1 => encoded_text().prop_map(|tail| format!("http://127.0.0.1/activity/{tail}")),
    ]
    .boxed()
}

fn query() -> BoxedStrategy<String> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "limit",
            "cursor",
            "contact_id",
            "session_id",
            "phone",
            "empty",
            "method",
            "path",
        ])
        .prop_map(str::to_owned),
        encoded_text(),
    ];
    let value = prop_oneof![
        prop::sample::select(vec![
            "",
            "0",
            "1",
            "-1",
            "200",
            "201",
            "99999999999999999999999",
            "1e3",
            "NaN",
            "true",
            "YmVmb3JlOjE",
            "YmVmb3JlOi05MjIzMzcyMDM2ODU0Nzc1ODA4",
            "%2B14155550199",
            "4155550199",
        ])
        .prop_map(str::to_owned),
        encoded_text(),
    ];
    prop_oneof![
        3 => prop::collection::vec((key, value), 0..4).prop_map(|pairs| {
            if pairs.is_empty() {
                String::new()
            } else {
                let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("?{}", joined.join("&"))
            }
        }),
        1 => prop::sample::select(vec!["?", "??", "?&&", "?==", "?limit", "?limit=1&limit=x", "?;"])
            .prop_map(str::to_owned),
    ]
    .boxed()
}

/// Bytes a header value may legally carry: visible ASCII, space, and
/// obs-text (0x80-0xFF, so not UTF-8).
fn header_value() -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff, Just(b' ')], 0..40)
        .prop_map(|mut bytes| {
            // httparse trims surrounding space; keep what we send what arrives.
            while bytes.first() == Some(&b' ') {
                bytes.remove(0);
            }
            while bytes.last() == Some(&b' ') {
                bytes.pop();
            }
            bytes
        })
        .boxed()
}

/// Which credentials a request carries.
#[derive(Debug, Clone)]
enum Auth {
    /// The right key for the route: the admin key for `/__admin/`, else
    /// the dev key, as Bearer or Basic.
    Right {
        basic: bool,
    },
    Raw(Vec<u8>),
    Missing,
}

fn auth() -> BoxedStrategy<Auth> {
    prop_oneof![
        12 => any::<bool>().prop_map(|basic| Auth::Right { basic }),
        1 => prop::sample::select(vec![
            "Bearer mockcrm-admin", "Bearer mockcrm-dev-key", "Basic !!!!", "Basic /w==",
            "Bearer", "Basic Og==", "Bearer  ' OR 1=1 --",
        ])
        .prop_map(|value| Auth::Raw(value.as_bytes().to_vec())),
        1 => header_value().prop_map(Auth::Raw),
        1 => Just(Auth::Missing),
    ]
    .boxed()
}

fn headers() -> BoxedStrategy<Vec<(String, Vec<u8>)>> {
    let content_type = prop_oneof![
        6 => Just(b"application/json".to_vec()),
        1 => Just(b"application/json; charset=utf-8".to_vec()),
        1 => Just(b"application/merge-patch+json".to_vec()),
        1 => Just(b"text/plain".to_vec()),
        1 => Just(b"multipart/form-data; boundary=x".to_vec()),
        1 => header_value(),
    ]
    .prop_map(|value| ("Content-Type".to_owned(), value));
    let idempotency_key = prop_oneof![
        6 => "[a-z0-9-]{1,3}".prop_map(String::into_bytes),
        1 => Just(vec![b'k'; 300]),
        1 => header_value(),
    ]
    .prop_map(|value| ("Idempotency-Key".to_owned(), value));
    let other = prop_oneof![
        Just(("Expect".to_owned(), b"100-continue".to_vec())),
        Just(("Content-Encoding".to_owned(), b"gzip".to_vec())),
        Just(("Accept".to_owned(), b"text/html".to_vec())),
        Just(("Connection".to_owned(), b"keep-alive, Upgrade".to_vec())),
        Just(("Connection".to_owned(), b"close".to_vec())),
        Just(("Upgrade".to_owned(), b"websocket".to_vec())),
        ("X-[A-Za-z]{1,10}", header_value()),
    ];
    (
        prop::option::weighted(0.8, content_type),
        prop::option::weighted(0.4, idempotency_key),
        prop::collection::vec(other, 0..3),
    )
        .prop_map(|(content_type, key, others)| {
            let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
            headers.extend(content_type);
            headers.extend(key);
            headers.extend(others);
            headers
        })
        .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        prop::sample::select(SQL.to_vec()).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

fn valid_activity() -> Value {
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

/// Bodies each route accepts, as starting points to break.
fn templates() -> Vec<Value> {
    vec![
        valid_activity(),
        json!({"body": "patched", "duration": null, "deal": {"id": 1}}),
        json!({"name": "Mallory", "phone_number": "+1 (415) 555-0100", "email": "m@x.example"}),
        json!({"path": "/nowhere", "status": 503, "times": 1}),
    ]
}

const FIELDS: [&str; 18] = [
    "subject",
    "body",
    "type",
    "received_at",
    "contact_id",
    "session_id",
    "direction",
    "duration",
    "body_format",
    "id",
    "created_at",
    "name",
    "phone_number",
    "email",
    "path",
    "status",
    "delay_ms",
    "probability",
];

fn nested(depth: usize, open: &str, close: &str) -> Vec<u8> {
    let mut text = open.repeat(depth);
    text.push_str(&close.repeat(depth));
    text.into_bytes()
}

fn body() -> BoxedStrategy<Vec<u8>> {
    let template = prop::sample::select(templates());
    let field = prop::sample::select(FIELDS.to_vec());
    prop_oneof![
        2 => Just(Vec::new()),
        4 => template.clone().prop_map(|value| value.to_string().into_bytes()),
        8 => (template.clone(), field.clone(), json_value()).prop_map(|(mut value, field, replacement)| {
            value[field] = replacement;
            value.to_string().into_bytes()
        }),
        2 => (template.clone(), field).prop_map(|(mut value, field)| {
            if let Some(object) = value.as_object_mut() {
                object.remove(field);
            }
            value.to_string().into_bytes()
        }),
        2 => json_value().prop_map(|value| value.to_string().into_bytes()),
        1 => (1usize..20_000).prop_map(|depth| nested(depth, "[", "]")),
        1 => (1usize..20_000).prop_map(|depth| {
            let mut text = r#"{"subject":"s","type":"t","x":"#.to_owned();
            text.push_str(&"{\"a\":".repeat(depth));
            text.push('1');
            text.push_str(&"}".repeat(depth + 1));
            text.into_bytes()
        }),
        1 => prop::sample::select(vec![
            "1e999999", "-1e999999", "18446744073709551616", "-9223372036854775809",
            "123456789012345678901234567890.5e-99999", "0.0000000000000000000000000001",
        ])
        .prop_map(|number| format!(r#"{{"subject":"s","type":"t","duration":{number},"n":{number}}}"#).into_bytes()),
        1 => Just(b"{\"subject\":\"\xff\xfe\",\"type\":\"t\"}".to_vec()),
        1 => Just(b"{\"subject\":\"\\ud800\",\"type\":\"t\"}".to_vec()),
        1 => Just(b"{\"subject\":\"s\",\"subject\":\"t\",\"type\":\"t\"}".to_vec()),
        1 => Just(b"\xef\xbb\xbf{\"subject\":\"s\",\"type\":\"t\"}".to_vec()),
        2 => prop::collection::vec(any::<u8>(), 0..300),
        2 => (template, any::<prop::sample::Index>()).prop_map(|(value, cut)| {
            let text = value.to_string().into_bytes();
            let at = cut.index(text.len().max(1)).min(text.len());
            text[..at].to_vec()
        }),
        1 => (0usize..3).prop_map(|extra| {
            // Right at, and just over, the 1 MiB limit.
            let mut activity = valid_activity();
            activity["body"] = Value::from("");
            let overhead = activity.to_string().len();
            activity["body"] = Value::from("x".repeat(1024 * 1024 - overhead - 1 + extra));
            activity.to_string().into_bytes()
        }),
    ]
    .boxed()
}

fn method() -> BoxedStrategy<String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "TRACE",
        ])
        .prop_map(str::to_owned),
        1 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
    ]
    .boxed()
}

/// A method and target: mostly routes mockcrm serves, so that the hostile
/// parts reach the handlers, and otherwise anything.
fn endpoint(activity_id: String) -> BoxedStrategy<(String, String)> {
    let id = prop_oneof![2 => Just(activity_id), 1 => encoded_text()];
    let with = |method: &'static str, path: &'static str| {
        query().prop_map(move |query| (method.to_owned(), format!("{path}{query}")))
    };
    prop_oneof![
        6 => with("POST", "/activity"),
        3 => with("GET", "/activity"),
        6 => (prop::sample::select(vec!["GET", "PATCH", "DELETE"]), id)
            .prop_map(|(method, id)| (method.to_owned(), format!("/activity/{id}"))),
        2 => with("POST", "/contact"),
        2 => with("GET", "/contact"),
        1 => encoded_text().prop_map(|id| ("GET".to_owned(), format!("/contact/{id}"))),
        1 => with("GET", "/me"),
        1 => with("GET", "/health"),
        1 => with("POST", "/__admin/faults"),
        1 => with("GET", "/__admin/requests"),
        1 => with("GET", "/__admin/checks"),
        1 => with("POST", "/__admin/reset"),
        1 => encoded_text().prop_map(|id| ("DELETE".to_owned(), format!("/__admin/faults/{id}"))),
        6 => (method(), path(), query())
            .prop_map(|(method, path, query)| (method, format!("{path}{query}"))),
        // `*` (as in `OPTIONS *`) is a target only on its own.
        1 => method().prop_map(|method| (method, "*".to_owned())),
    ]
    .boxed()
}

fn request(activity_id: String) -> BoxedStrategy<Request> {
    (
        endpoint(activity_id),
        auth(),
        headers(),
        body(),
        prop::option::weighted(0.2, prop::collection::vec(1usize..5000, 1..8)),
    )
        .prop_map(|((method, target), auth, mut headers, body, chunks)| {
            let admin = target.starts_with("/__admin");
            match auth {
                Auth::Right { basic } => {
                    let value = match (admin, basic) {
                        (true, _) => "Bearer mockcrm-admin",
                        (false, true) => "Basic bW9ja2NybS1kZXYta2V5Og==",
                        (false, false) => DEV_AUTH,
                    };
                    headers.insert(0, ("Authorization".to_owned(), value.as_bytes().to_vec()));
                }
                Auth::Raw(value) => headers.insert(0, ("Authorization".to_owned(), value)),
                Auth::Missing => {}
            }
            Request {
                method,
                target,
                headers,
                body,
                chunks,
            }
        })
        .boxed()
}

/// Undoes what a case may have done through the admin API that would
/// change later cases: an injected fault (which answers 5xx on purpose),
/// or an emptied database.
fn undo_admin_changes(crm: &Crm, request: &Request) -> Result<(), String> {
    let path = request.target.split('?').next().unwrap_or_default();
    let undo = match path {
        "/__admin/faults" => "DELETE /__admin/faults",
        "/__admin/reset" => "POST /__admin/reset",
        _ => return Ok(()),
    };
    let bytes = format!(
        "{undo} HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer mockcrm-admin\r\nContent-Length: 0\r\n\r\n"
    );
    match exchange(crm, bytes.as_bytes(), false, false)? {
        Reply::Answered(response) if response.status == 204 => Ok(()),
        other => Err(format!("{undo} failed: {other:?}")),
    }
}

fn check_well_formed(crm: &Crm, request: &Request) -> Result<(), String> {
    let head = request.method == "HEAD";
    let response = match exchange(crm, &request.to_bytes(), false, head)? {
        Reply::Answered(response) => response,
        Reply::Closed => return Err("the server closed the connection without answering".into()),
    };
    if response.status >= 500 {
        return Err(format!(
            "{} for a client error: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    let success = (200..300).contains(&response.status);
    if !success && !head {
        check_error_shape(&response)?;
    }
    // The review page at `/` answers HTML (review_page.rs checks it).
    let page = request.target == "/" || request.target.starts_with("/?");
    if success && !head && !response.body.is_empty() && !page {
        serde_json::from_slice::<Value>(&response.body)
            .map_err(|_| format!("{} with a body that is not JSON", response.status))?;
    }
    Ok(())
}

/// Creates an activity for cases to read, change and delete.
fn create_activity(crm: &Crm) -> String {
    let body = valid_activity().to_string();
    let bytes = format!("{POST_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
    match exchange(crm, bytes.as_bytes(), false, false) {
        Ok(Reply::Answered(response)) if response.status == 201 => {
            let created: Value = serde_json::from_slice(&response.body).expect("json");
            created["id"].as_str().expect("id").to_owned()
        }
        other => panic!("cannot create an activity: {other:?}"),
    }
}

#[test]
fn well_formed_requests_with_hostile_content_get_json_answers_below_500() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let activity_id = create_activity(&crm);
    let config = ProptestConfig::with_cases(cases(256));
    proptest!(config, |(request in request(activity_id.clone()))| {
        let outcome = check_well_formed(&crm, &request);
        undo_admin_changes(&crm, &request).map_err(TestCaseError::fail)?;
        outcome.map_err(|why| {
            let shown: String = String::from_utf8_lossy(&request.to_bytes()).chars().take(2000).collect();
            TestCaseError::fail(format!("{why}\nrequest: {shown:?}"))
        })?;
        health(&crm).map_err(TestCaseError::fail)?;
    });
    // Injection strings went in as data only: the seed is intact.
    let request =
        format!("GET /contact/contact-1 HTTP/1.1\r\nHost: m\r\nAuthorization: {DEV_AUTH}\r\n\r\n");
    match exchange(&crm, request.as_bytes(), false, false) {
        Ok(Reply::Answered(response)) => assert_eq!(response.status, 200, "{response:?}"),
        other => panic!("seed contact unreadable: {other:?}"),
    }
    crm.stop().expect("clean shutdown");
}

// ---------------------------------------------------------------------------
// Broken framing: hyper refuses a request it cannot parse with 400, 414 or
// 431 before mockcrm sees it (rewritten to the JSON shape on the way out),
// or the connection closes. Never a 5xx, never a hang, always the JSON
// error shape.

#[derive(Debug, Clone)]
struct Broken {
    bytes: Vec<u8>,
    half_close: bool,
}

fn broken(bytes: impl Into<Vec<u8>>, half_close: bool) -> Broken {
    Broken {
        bytes: bytes.into(),
        half_close,
    }
}

const POST_HEAD: &str = "POST /activity HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer mockcrm-dev-key\r\nContent-Type: application/json\r\n";

fn broken_request() -> BoxedStrategy<Broken> {
    let activity = valid_activity().to_string();
    let truncated = {
        let activity = activity.clone();
        (any::<prop::sample::Index>(), any::<bool>()).prop_map(move |(cut, half_close)| {
            // Content-Length promises more than is sent.
            let at = cut.index(activity.len());
            let mut bytes =
                format!("{POST_HEAD}Content-Length: {}\r\n\r\n", activity.len()).into_bytes();
            bytes.extend_from_slice(&activity.as_bytes()[..at]);
            broken(bytes, half_close)
        })
    };
    let chunked_truncated = {
        let activity = activity.clone();
        any::<bool>().prop_map(move |half_close| {
            let mut bytes = format!(
                "{POST_HEAD}Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                activity.len()
            )
            .into_bytes();
            bytes.extend_from_slice(&activity.as_bytes()[..activity.len() / 2]);
            broken(bytes, half_close)
        })
    };
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 1..300).prop_map(|mut bytes| {
            bytes.extend_from_slice(b"\r\n\r\n");
            broken(bytes, false)
        }),
        2 => (prop::collection::vec(0x80u8..=0xff, 1..10), any::<bool>()).prop_map(|(raw, half)| {
            let mut bytes = b"GET /activity/".to_vec();
            bytes.extend_from_slice(&raw);
            bytes.extend_from_slice(b" HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer mockcrm-dev-key\r\n\r\n");
            broken(bytes, half)
        }),
        1 => (prop::collection::vec(prop_oneof![0u8..0x20, Just(0x7f), Just(b'('), Just(b'@')], 1..4), any::<bool>())
            .prop_map(|(raw, half)| {
                let mut bytes = b"G".to_vec();
                bytes.extend_from_slice(&raw);
                bytes.extend_from_slice(b"T /health HTTP/1.1\r\nHost: m\r\n\r\n");
                broken(bytes, half)
            }),
        1 => prop::sample::select(vec![
            "GET /health HTTP/9.9\r\nHost: m\r\n\r\n",
            "GET /health\r\n\r\n",
            "GET /health HTTP/1.1\r\nHost m\r\n\r\n",
            "GET /health HTTP/1.1\r\nBad Name: x\r\n\r\n",
            "GET /health HTTP/1.1\r\nX: a\0b\r\n\r\n",
            "GET /health HTTP/1.1\r\nX: a\rb\r\n\r\n",
            "GET /health HTTP/1.1\r\n folded: header\r\n\r\n",
            "GET /health HTTP/1.1\nHost: m\n\n",
            "GET  /health  HTTP/1.1\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            "GET /health HTTP/1.0\r\n\r\n",
            "\r\n\r\n\r\nGET /health HTTP/1.1\r\nHost: m\r\n\r\n",
        ])
        .prop_map(|text| broken(text, false)),
        2 => prop::sample::select(vec![
            "Content-Length: 5\r\nContent-Length: 6\r\n\r\n{\"a\":1}",
            "Content-Length: -1\r\n\r\n{}",
            "Content-Length: abc\r\n\r\n{}",
            "Content-Length: 99999999999999999999999999\r\n\r\n{}",
            "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: gzip\r\n\r\n{}",
            "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
            "Transfer-Encoding: chunked, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        ])
        .prop_map(|tail| broken(format!("{POST_HEAD}{tail}"), false)),
        2 => truncated,
        1 => chunked_truncated,
        1 => (0usize..400).prop_map(|cut| {
            // Headers that never end.
            let text = format!("{POST_HEAD}Content-Length: 2\r\n\r\n{{}}");
            let at = cut.min(text.len() - 5);
            broken(text[..at].to_owned(), true)
        }),
        1 => (150usize..400).prop_map(|count| {
            let mut text = "GET /health HTTP/1.1\r\nHost: m\r\n".to_owned();
            for n in 0..count {
                text.push_str(&format!("X-{n}: {n}\r\n"));
            }
            text.push_str("\r\n");
            broken(text, false)
        }),
        1 => (100_000usize..600_000).prop_map(|size| {
            broken(format!("GET /health HTTP/1.1\r\nHost: m\r\nX-Big: {}\r\n\r\n", "x".repeat(size)), false)
        }),
        1 => (70_000usize..200_000).prop_map(|size| {
            broken(format!("GET /activity/{} HTTP/1.1\r\nHost: m\r\n\r\n", "a".repeat(size)), false)
        }),
    ]
    .boxed()
}

fn check_broken(crm: &Crm, request: &Broken) -> Result<(), String> {
    let response = match exchange(crm, &request.bytes, request.half_close, false)? {
        Reply::Answered(response) => response,
        Reply::Closed => return Ok(()),
    };
    if response.status >= 500 {
        return Err(format!(
            "{} for a client error: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    if !(200..300).contains(&response.status) {
        check_error_shape(&response)?;
    }
    Ok(())
}

#[test]
fn broken_framing_never_gets_a_5xx_or_a_hang() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let config = ProptestConfig::with_cases(cases(128));
    proptest!(config, |(request in broken_request())| {
        check_broken(&crm, &request).map_err(|why| {
            let shown: String = String::from_utf8_lossy(&request.bytes).chars().take(300).collect();
            TestCaseError::fail(format!("{why}\nrequest: {shown:?}"))
        })?;
        health(&crm).map_err(TestCaseError::fail)?;
    });
    crm.stop().expect("clean shutdown");
}

// ---------------------------------------------------------------------------
// Oversized bodies.

const TEN_MB: usize = 10 * 1024 * 1024;

/// Sends a 10 MB body from another thread while this one reads the answer,
/// so neither side can block the other.
fn send_big(crm: &Crm, head: String, chunked: bool) -> Response {
    let mut stream = crm.connect();
    let mut writer = stream.try_clone().expect("clone");
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        writer.write_all(head.as_bytes())?;
        let piece = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < TEN_MB {
            if chunked {
                writer.write_all(format!("{:x}\r\n", piece.len()).as_bytes())?;
            }
            writer.write_all(&piece)?;
            if chunked {
                writer.write_all(b"\r\n")?;
            }
            sent += piece.len();
        }
        if chunked {
            writer.write_all(b"0\r\n\r\n")?;
        }
        Ok(())
    });
    let reply = read_response(&mut stream, false).expect("an answer, not a hang");
    // The server reads the whole upload before it answers, so the sender
    // has finished (successfully) by now.
    sender
        .join()
        .expect("sender thread")
        .expect("the whole body was accepted for reading");
    match reply {
        Reply::Answered(response) => response,
        Reply::Closed => panic!("closed without a 413"),
    }
}

#[test]
fn a_10_mb_body_gets_413_with_the_json_shape() {
    let crm = Crm::start(Duration::from_secs(30));
    for chunked in [false, true] {
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_owned()
        } else {
            format!("Content-Length: {TEN_MB}")
        };
        let head = format!("{POST_HEAD}{framing}\r\n\r\n");
        let response = send_big(&crm, head, chunked);
        assert_eq!(response.status, 413, "chunked: {chunked}");
        check_error_shape(&response).expect("JSON error");
        let body: Value = serde_json::from_slice(&response.body).expect("json");
        assert_eq!(body["error"]["code"], "payload_too_large");
    }
    health(&crm).expect("still serving");
    crm.stop().expect("clean shutdown");
}

#[test]
fn an_oversized_body_awaiting_100_continue_gets_413_before_it_is_sent() {
    let crm = Crm::start(Duration::from_secs(30));
    let head = format!("{POST_HEAD}Expect: 100-continue\r\nContent-Length: {TEN_MB}\r\n\r\n");
    let mut stream = crm.connect();
    stream.write_all(head.as_bytes()).expect("write");
    let mut received = Vec::new();
    while find(&received, b"\r\n\r\n").is_none() {
        assert!(
            fill(&mut stream, &mut received).expect("no hang"),
            "closed early"
        );
    }
    assert!(
        received.starts_with(b"HTTP/1.1 413 "),
        "413 straight away, no 100 Continue: {:?}",
        String::from_utf8_lossy(&received)
    );
    crm.stop().expect("clean shutdown");
}

#[test]
fn a_declared_oversized_body_that_never_comes_gets_413_not_a_hang() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let head = format!("{POST_HEAD}Content-Length: {TEN_MB}\r\n\r\n");
    let reply = exchange(&crm, head.as_bytes(), false, false).expect("no hang");
    let Reply::Answered(response) = reply else {
        panic!("closed without an answer");
    };
    assert_eq!(response.status, 413);
    check_error_shape(&response).expect("JSON error");
    crm.stop().expect("clean shutdown");
}

// ---------------------------------------------------------------------------
// Slow and idle clients.

/// Blocks until the server closes `stream`; `Err` if it never does.
fn wait_for_close(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut received = Vec::new();
    while fill(stream, &mut received)? {}
    Ok(received)
}

#[test]
fn half_a_request_line_is_cut_off() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    stream.write_all(b"GET /hea").expect("write");
    let received = wait_for_close(&mut stream).expect("the server closes the connection");
    assert!(received.is_empty(), "nothing to answer to: {received:?}");
    health(&crm).expect("still serving");
    crm.stop().expect("clean shutdown");
}

#[test]
fn a_silent_connection_is_cut_off() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    wait_for_close(&mut stream).expect("the server closes the connection");
    crm.stop().expect("clean shutdown");
}

#[test]
fn an_idle_kept_alive_connection_is_cut_off() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: m\r\n\r\n")
        .expect("write");
    match read_response(&mut stream, false).expect("answer") {
        Reply::Answered(response) => assert_eq!(response.status, 200),
        Reply::Closed => panic!("closed before answering"),
    }
    wait_for_close(&mut stream).expect("the idle connection is closed");
    crm.stop().expect("clean shutdown");
}

#[test]
fn a_stalled_body_gets_408_and_the_connection_closes() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let mut stream = crm.connect();
    stream
        .write_all(format!("{POST_HEAD}Content-Length: 100\r\n\r\n{{\"subject\":").as_bytes())
        .expect("write");
    let response = match read_response(&mut stream, false).expect("answer") {
        Reply::Answered(response) => response,
        Reply::Closed => panic!("closed without a 408"),
    };
    assert_eq!(response.status, 408);
    check_error_shape(&response).expect("JSON error");
    let body: Value = serde_json::from_slice(&response.body).expect("json");
    assert_eq!(body["error"]["code"], "request_timeout");
    assert_eq!(response.header("connection"), Some("close"));
    wait_for_close(&mut stream).expect("then the connection is closed");
    crm.stop().expect("clean shutdown");
}

#[test]
fn shutdown_is_not_held_up_by_stalled_clients() {
    // Long enough that the stalled body's 408, due one read timeout after
    // it started, comes well inside shutdown's wait of two.
    let crm = Crm::start(Duration::from_secs(1));
    let mut half_head = crm.connect();
    half_head
        .write_all(b"POST /activity HTTP/1.1\r\nHo")
        .expect("write");
    // `100 Continue` comes when the handler starts reading the body: from
    // then on the request is in flight, and shutdown would wait for it.
    let mut half_body = crm.connect();
    half_body
        .write_all(
            format!("{POST_HEAD}Expect: 100-continue\r\nContent-Length: 100\r\n\r\n").as_bytes(),
        )
        .expect("write");
    let mut received = Vec::new();
    while find(&received, b"\r\n\r\n").is_none() {
        assert!(
            fill(&mut half_body, &mut received).expect("no hang"),
            "closed early"
        );
    }
    assert!(received.starts_with(b"HTTP/1.1 100 "), "{received:?}");
    half_body.write_all(b"{").expect("write");
    crm.stop()
        .expect("shutdown finishes despite the stalled clients");
    wait_for_close(&mut half_head).expect("closed");
    let rest = wait_for_close(&mut half_body).expect("closed");
    assert!(
        rest.starts_with(b"HTTP/1.1 408 "),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
}

#[test]
fn shutdown_is_not_held_up_by_a_client_that_never_reads() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    // An answer far bigger than the socket buffers: writing it blocks for
    // as long as the client does not read.
    let mut activity = valid_activity();
    activity["body"] = Value::from("x".repeat(1_000_000));
    let body = activity.to_string();
    for _ in 0..16 {
        let bytes = format!("{POST_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
        match exchange(&crm, bytes.as_bytes(), false, false) {
            Ok(Reply::Answered(response)) => assert_eq!(response.status, 201),
            other => panic!("create failed: {other:?}"),
        }
    }
    let mut reader = crm.connect();
    reader
        .write_all(
            format!(
                "GET /activity?limit=16 HTTP/1.1\r\nHost: m\r\nAuthorization: {DEV_AUTH}\r\n\r\n"
            )
            .as_bytes(),
        )
        .expect("write");
    let mut first = [0u8; 1];
    reader
        .read_exact(&mut first)
        .expect("the answer has started");
    crm.stop()
        .expect("shutdown finishes although the answer is still being written");
    drop(reader);
}
