//! Shared test harness: an in-process mock CRM on an ephemeral port with its
//! own in-memory store, an HTTP client, and insta settings that put every
//! snapshot in the top-level `snapshots/` folder.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mockcrm::Seed;
use mockcrm::{Server, ServerConfig};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

pub const DEV_KEY: &str = "mockcrm-dev-key";

/// The largest body the API takes (README: bodies over 1 MiB get 413).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub struct TestCrm {
    pub server: Server,
    pub http: reqwest::Client,
}

impl TestCrm {
    pub async fn start() -> TestCrm {
        TestCrm::with_seed(Seed::default_seed()).await
    }

    pub async fn with_seed(seed: Seed) -> TestCrm {
        TestCrm::with_config(ServerConfig {
            seed,
            ..ServerConfig::ephemeral()
        })
        .await
    }

    pub async fn with_config(config: ServerConfig) -> TestCrm {
        let server = Server::start(config).await.expect("test server starts");
        TestCrm {
            server,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// A request with no credentials.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// A request as `key`'s user, with Bearer auth.
    pub fn as_key(&self, key: &str, method: Method, path: &str) -> RequestBuilder {
        self.anonymous(method, path).bearer_auth(key)
    }

    /// A request as the default seed's user.
    pub fn dev(&self, method: Method, path: &str) -> RequestBuilder {
        self.as_key(DEV_KEY, method, path)
    }

    pub async fn create_activity(&self, body: Value) -> Value {
        let response = self
            .dev(Method::POST, "/activity")
            .json(&body)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 201, "create failed");
        response.json().await.expect("json body")
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// A runtime for a property test that drives a server from a synchronous
/// proptest body: two workers, like the machine.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Status and JSON body of a response (Null for an empty body).
pub async fn answer(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
    };
    (status, body)
}

/// Asserts the SPEC §3 error shape and returns the code.
pub fn error_code(body: &Value) -> &str {
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no error object in {body}"));
    let message = error["message"].as_str().expect("message is a string");
    assert!(!message.is_empty(), "empty error message in {body}");
    error["code"].as_str().expect("code is a string")
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

pub fn read_fixture(relative: &str) -> String {
    let path = fixtures_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// insta settings: snapshots live in the top-level `snapshots/` folder.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"));
    settings.set_prepend_module_to_snapshot(true);
    settings.set_omit_expression(true);
    settings
}

/// Replaces what changes from run to run (ids, times) before a snapshot.
/// `path` is dot-separated keys from the root, where `key[]` stands for
/// every element of the array at `key`: `items[].response_body.id`. Only
/// values that are there are replaced, so an absent field stays absent.
pub fn redact(value: &mut Value, path: &str, replacement: &str) {
    fn walk(value: &mut Value, segments: &[&str], replacement: &str) {
        let Some((first, rest)) = segments.split_first() else {
            *value = Value::from(replacement);
            return;
        };
        let (key, every) = match first.strip_suffix("[]") {
            Some(key) => (key, true),
            None => (*first, false),
        };
        let Some(field) = value.get_mut(key) else {
            return;
        };
        match (every, field) {
            (true, Value::Array(items)) => {
                for item in items {
                    walk(item, rest, replacement);
                }
            }
            (true, _) => {}
            (false, field) => walk(field, rest, replacement),
        }
    }
    let segments: Vec<&str> = path.split('.').collect();
    walk(value, &segments, replacement);
}

// ---------------------------------------------------------------------------
// A raw HTTP/1.1 client over TCP, for what an HTTP library hides: a reset,
// a close without an answer, a body cut short, an answer in pieces.

/// Past this with nothing more, the server is taken to hang. Not a speed
/// assertion: it is far above anything a working server needs.
pub const HANG: Duration = Duration::from_secs(20);

/// How a raw client saw the connection end.
#[derive(Debug, PartialEq)]
pub enum End {
    /// The peer closed (FIN).
    Closed,
    /// The peer reset the connection (RST).
    Reset,
    /// The peer sent a whole answer and kept the connection.
    Open,
}

/// What a raw client received for one request.
#[derive(Debug)]
pub struct Seen {
    pub bytes: Vec<u8>,
    /// How many reads it took.
    pub reads: usize,
    pub end: End,
}

impl Seen {
    pub fn head_and_body(&self) -> (String, Vec<u8>) {
        let at = self
            .bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or_else(|| panic!("no whole head in {:?}", self.text()));
        let head = String::from_utf8(self.bytes[..at].to_vec()).expect("head is text");
        (head, self.bytes[at + 4..].to_vec())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn content_length(&self) -> usize {
        let (head, _) = self.head_and_body();
        head.lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .expect("a content-length")
    }
}

/// Sends `request` and reads until the server closes, resets, or has sent
/// a whole answer (head and `Content-Length` bytes of body).
pub fn exchange(stream: &mut TcpStream, request: &[u8]) -> Seen {
    stream.write_all(request).expect("request sent");
    let mut seen = Seen {
        bytes: Vec::new(),
        reads: 0,
        end: End::Open,
    };
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(at) = seen.bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            if seen.bytes.len() >= at + 4 + seen.content_length() {
                return seen;
            }
        }
        match stream.read(&mut chunk) {
            Ok(0) => {
                seen.end = End::Closed;
                return seen;
            }
            Ok(read) => {
                seen.reads += 1;
                seen.bytes.extend_from_slice(&chunk[..read]);
            }
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {
                seen.end = End::Reset;
                return seen;
            }
            // A child another test spawned may signal this thread mid-read.
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => panic!("no answer within {HANG:?} ({error}): the server hangs"),
        }
    }
}

pub fn connect(crm: &TestCrm) -> TcpStream {
    let stream = TcpStream::connect(crm.server.addr()).expect("connect");
    stream.set_read_timeout(Some(HANG)).expect("read timeout");
    stream
}
