//! The Node.js bridge as a process, and the Rust end of its protocol
//! (`PROTOCOL.md`): writes the embedded `bridge.js` into a private
//! temporary directory, runs it under the user's Node command in the user's
//! directory, accepts its connection on a Unix socket, and turns calls into
//! JSON lines and answers back into values, with a deadline on each.
//!
//! It carries calls and answers; it must not judge them (the properties
//! do) nor know what App Connect core passes (`core.rs` does). The
//! connector's stdout and stderr are drained for as long as the child
//! lives, since Node blocks on a full pipe, and shown as its logs.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

/// The harness script, shipped inside the binary.
const BRIDGE_JS: &str = include_str!("bridge.js");

/// The protocol version this end speaks.
const PROTOCOL: u64 = 1;

/// How many of the connector's last output lines are kept to explain a
/// bridge that died.
const TAIL_LINES: usize = 20;

/// How long a closed bridge gets to exit on its own before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Why the connector could not be started; each is one line for the user.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StartError {
    /// The bridge loaded the module and refused it (`load_error`).
    #[error("{0}")]
    Refused(String),
    #[error("cannot run `{command}`: {reason}; install Node.js 18 or later, or pass --node with the command that runs it")]
    NoNode { command: String, reason: String },
    #[error("the connector did not finish loading within {seconds} s (a top-level await that never settles?); raise --call-timeout if it is only slow")]
    NotReady { seconds: f64 },
    #[error("the Node.js bridge exited ({status}) before it was ready{detail}")]
    Exited { status: String, detail: String },
    #[error("cannot set up the Node.js bridge: {0}")]
    Setup(String),
}

/// Which of the child's pipes a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Where the connector's output goes: every line, as it arrives, from
/// whichever thread drained it, with the tag its bridge's launcher had
/// then (the case a job was playing, when several play at once).
pub type LogSink = Arc<dyn Fn(Stream, Option<u32>, &str) + Send + Sync>;

/// How to start the bridge.
#[derive(Clone)]
pub struct Launch {
    /// The Node command, split on spaces (`node`, `npx tsx`).
    pub node: Vec<String>,
    /// The connector module as the user gave it; the bridge resolves it
    /// against `cwd`.
    pub connector: String,
    pub cwd: PathBuf,
    /// `MOCKCRM_SERVER` for the connector.
    pub server_url: String,
    /// How long loading may take.
    pub start_timeout: Duration,
    pub logs: LogSink,
    /// More environment for the connector's process (`contract --crm`:
    /// its CRM's variables, `DATABASE_URL`, `MOCKCRM_CORE_PLATFORM`).
    pub env: Vec<(String, String)>,
}

/// What the bridge said about the module it loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ready {
    /// `commonjs` or `module`.
    pub module: String,
    pub path: String,
    pub functions: Vec<String>,
    pub node: String,
    /// The platform the connector was registered as in App Connect core's
    /// connector registry; `None` when core is not installed beside it.
    pub core: Option<String>,
}

impl Ready {
    pub fn exports(&self, function: &str) -> bool {
        self.functions.iter().any(|name| name == function)
    }
}

/// What a thrown value or a rejection said about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thrown {
    /// `threw`, `rejected`, `unserializable`, `no_function`, `bad_request`.
    pub kind: String,
    pub name: String,
    pub message: String,
    pub stack: Option<String>,
    /// `error.response.status`, for App Connect core's choice of message.
    pub status: Option<u16>,
}

impl Thrown {
    fn from_json(kind: &str, error: &Value) -> Thrown {
        let text = |field: &str| error.get(field).and_then(Value::as_str).map(str::to_owned);
        Thrown {
            kind: kind.to_owned(),
            name: text("name").unwrap_or_else(|| "Error".into()),
            message: text("message").unwrap_or_default(),
            stack: text("stack"),
            status: error
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|status| u16::try_from(status).ok()),
        }
    }

    /// `Error: message`, as Node prints a thrown error's first line.
    pub fn headline(&self) -> String {
        format!("{}: {}", self.name, self.message)
    }
}

/// How a call settled.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// Returned (or resolved) this value; `None` is `undefined`.
    Returned {
        value: Option<Value>,
        is_async: bool,
    },
    Threw(Thrown),
}

/// Why a call has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unanswered {
    /// Nothing came back within the deadline; the bridge must be replaced.
    TimedOut,
    /// The bridge's process ended (`process.exit`, a crash) or closed the
    /// socket; says how.
    Died(String),
}

/// An `uncaughtException` or `unhandledRejection` from the connector's
/// background work.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncaught {
    pub kind: String,
    pub error: Thrown,
}

enum Incoming {
    Line(Value),
    Garbled(String),
    Closed,
}

/// A running bridge with a loaded connector.
pub struct Bridge {
    child: Child,
    stream: UnixStream,
    incoming: Receiver<Incoming>,
    next_id: u64,
    pub ready: Ready,
    /// The user record as the connector last persisted it (`save()`,
    /// `update()`), from the answer that carried it.
    saved_user: Option<Value>,
    uncaught: Vec<Uncaught>,
    tail: Arc<Mutex<VecDeque<String>>>,
    dead: Option<String>,
    /// Kept so the directory and the socket in it outlive the child.
    _dir: Arc<tempfile::TempDir>,
}

/// Starts bridges: owns the temporary directory the script and sockets live
/// in, so a restarted bridge reuses it, and so do the other jobs' launchers
/// (`for_job`), each bridge with a socket of its own.
pub struct Launcher {
    launch: Launch,
    dir: Arc<tempfile::TempDir>,
    script: PathBuf,
    /// Bridges started by this launcher and its jobs' (names the sockets).
    started: Arc<AtomicU32>,
    /// What this launcher's bridges tag their output with; 0 for nothing.
    tag: Arc<AtomicU32>,
}

impl Launcher {
    pub fn new(launch: Launch) -> Result<Launcher, StartError> {
        if launch.node.is_empty() {
            return Err(StartError::NoNode {
                command: String::new(),
                reason: "the command is empty".into(),
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("mockcrm-contract-")
            .tempdir()
            .map_err(|error| StartError::Setup(format!("a temporary directory: {error}")))?;
        // `.cjs` keeps the script CommonJS under a `"type": "module"` package.
        let script = dir.path().join("mockcrm-bridge.cjs");
        std::fs::write(&script, BRIDGE_JS)
            .map_err(|error| StartError::Setup(format!("writing {}: {error}", script.display())))?;
        Ok(Launcher {
            launch,
            dir: Arc::new(dir),
            script,
            started: Arc::new(AtomicU32::new(0)),
            tag: Arc::new(AtomicU32::new(0)),
        })
    }

    /// A launcher for another job: the same script and directory, its
    /// own tag.
    pub fn for_job(&self) -> Launcher {
        Launcher {
            launch: self.launch.clone(),
            dir: Arc::clone(&self.dir),
            script: self.script.clone(),
            started: Arc::clone(&self.started),
            tag: Arc::new(AtomicU32::new(0)),
        }
    }

    /// Tags what this launcher's bridges print from now on (`None`: no tag).
    pub fn tag_logs(&self, tag: Option<u32>) {
        self.tag.store(tag.unwrap_or(0), Ordering::Relaxed);
    }

    /// A fresh bridge with the connector loaded, or why not.
    pub fn start(&self) -> Result<Bridge, StartError> {
        let number = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let socket = self.dir.path().join(format!("bridge-{number}.sock"));
        let listener = UnixListener::bind(&socket).map_err(|error| {
            StartError::Setup(format!("a Unix socket at {}: {error}", socket.display()))
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|error| StartError::Setup(format!("the socket: {error}")))?;
        let launch = &self.launch;
        let mut child = Command::new(&launch.node[0])
            .args(&launch.node[1..])
            .arg(&self.script)
            .arg(&launch.connector)
            .current_dir(&launch.cwd)
            .env("MOCKCRM_BRIDGE_SOCKET", &socket)
            .env("MOCKCRM_SERVER", &launch.server_url)
            .envs(launch.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| StartError::NoNode {
                command: launch.node.join(" "),
                reason: if error.kind() == std::io::ErrorKind::NotFound {
                    "not found".into()
                } else {
                    error.to_string()
                },
            })?;
        let tail = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stdout) = child.stdout.take() {
            drain(
                stdout,
                Stream::Stdout,
                Arc::clone(&launch.logs),
                Arc::clone(&self.tag),
                Arc::clone(&tail),
            );
        }
        if let Some(stderr) = child.stderr.take() {
            drain(
                stderr,
                Stream::Stderr,
                Arc::clone(&launch.logs),
                Arc::clone(&self.tag),
                Arc::clone(&tail),
            );
        }
        let deadline = Instant::now() + launch.start_timeout;
        let seconds = launch.start_timeout.as_secs_f64();
        let stream = match accept(&listener, &mut child, deadline, &tail) {
            Ok(stream) => stream,
            Err(error) => {
                stop(&mut child);
                return Err(error.unwrap_or(StartError::NotReady { seconds }));
            }
        };
        drop(listener);
        let _ = std::fs::remove_file(&socket);
        let incoming = read_lines(&stream).map_err(|error| {
            stop(&mut child);
            StartError::Setup(format!("reading the socket: {error}"))
        })?;
        let mut bridge = Bridge {
            child,
            stream,
            incoming,
            next_id: 0,
            ready: Ready {
                module: String::new(),
                path: String::new(),
                functions: Vec::new(),
                node: String::new(),
                core: None,
            },
            saved_user: None,
            uncaught: Vec::new(),
            tail,
            dead: None,
            _dir: Arc::clone(&self.dir),
        };
        bridge.ready = bridge.await_ready(deadline, seconds)?;
        Ok(bridge)
    }
}

/// Waits for the child to connect. `Err(None)` is the deadline passing.
fn accept(
    listener: &UnixListener,
    child: &mut Child,
    deadline: Instant,
    tail: &Mutex<VecDeque<String>>,
) -> Result<UnixStream, Option<StartError>> {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream
                    .set_nonblocking(false)
                    .map_err(|error| Some(StartError::Setup(format!("the socket: {error}"))))?;
                return Ok(stream);
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(Some(StartError::Setup(format!("the socket: {error}")))),
        }
        if let Ok(Some(status)) = child.try_wait() {
            // The pipes may still hold the reason: give the drains a moment.
            std::thread::sleep(Duration::from_millis(100));
            return Err(Some(StartError::Exited {
                status: describe_status(status),
                detail: last_words(tail),
            }));
        }
        if Instant::now() >= deadline {
            return Err(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A thread that reads JSON lines off the socket until it closes.
fn read_lines(stream: &UnixStream) -> std::io::Result<Receiver<Incoming>> {
    let reader = stream.try_clone()?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    let _ = sender.send(Incoming::Closed);
                    return;
                }
                Ok(_) => {
                    let text = line.trim_end();
                    if text.is_empty() {
                        continue;
                    }
                    let message = match serde_json::from_str::<Value>(text) {
                        Ok(value) => Incoming::Line(value),
                        Err(_) => Incoming::Garbled(text.chars().take(200).collect()),
                    };
                    if sender.send(message).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(receiver)
}

/// A thread that reads one of the child's pipes to its end, handing each
/// line to the log sink and keeping the last few.
fn drain(
    pipe: impl std::io::Read + Send + 'static,
    stream: Stream,
    logs: LogSink,
    tag: Arc<AtomicU32>,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end_matches(['\n', '\r']);
                    let tagged = Some(tag.load(Ordering::Relaxed)).filter(|tag| *tag != 0);
                    logs(stream, tagged, text);
                    let mut kept = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    if kept.len() == TAIL_LINES {
                        kept.pop_front();
                    }
                    kept.push_back(text.to_owned());
                }
            }
        }
    });
}

fn last_words(tail: &Mutex<VecDeque<String>>) -> String {
    let kept = tail.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let lines: Vec<&str> = kept
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty())
        .collect();
    match lines.last() {
        // The bridge's own complaint, or the last thing Node printed.
        Some(_) => {
            let pick = lines
                .iter()
                .rev()
                .find(|line| line.starts_with("mockcrm bridge:"))
                .or(lines.last())
                .copied()
                .unwrap_or_default();
            format!("; it said: {pick}")
        }
        None => String::new(),
    }
}

fn describe_status(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("status {code}"),
        None => "killed by a signal".into(),
    }
}

/// Ends a child that is being given up on: killed, then reaped.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl Bridge {
    fn await_ready(&mut self, deadline: Instant, seconds: f64) -> Result<Ready, StartError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(left) {
                Ok(Incoming::Line(message)) => message,
                Ok(Incoming::Garbled(text)) => {
                    return Err(StartError::Setup(format!(
                        "the bridge sent something that is not JSON: {text}"
                    )))
                }
                Ok(Incoming::Closed) | Err(RecvTimeoutError::Disconnected) => {
                    let status = self.wait_briefly();
                    return Err(StartError::Exited {
                        status,
                        detail: last_words(&self.tail),
                    });
                }
                Err(RecvTimeoutError::Timeout) => return Err(StartError::NotReady { seconds }),
            };
            match message.get("type").and_then(Value::as_str) {
                Some("ready") => {
                    let protocol = message.get("protocol").and_then(Value::as_u64);
                    if protocol != Some(PROTOCOL) {
                        return Err(StartError::Setup(format!(
                            "the bridge speaks protocol {protocol:?}, this mockcrm speaks {PROTOCOL}"
                        )));
                    }
                    let text = |field: &str| {
                        message
                            .get(field)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let functions = message
                        .get("functions")
                        .and_then(Value::as_array)
                        .map(|names| {
                            names
                                .iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default();
                    return Ok(Ready {
                        module: text("module"),
                        path: text("path"),
                        functions,
                        node: text("node"),
                        core: message
                            .pointer("/core/platform")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    });
                }
                Some("load_error") => {
                    let text = message
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("the connector could not be loaded");
                    return Err(StartError::Refused(text.to_owned()));
                }
                Some("uncaught") => self.note_uncaught(&message),
                _ => {}
            }
        }
    }

    fn note_uncaught(&mut self, message: &Value) {
        let kind = message
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("uncaughtException");
        let error = Thrown::from_json(kind, message.get("error").unwrap_or(&Value::Null));
        self.uncaught.push(Uncaught {
            kind: kind.to_owned(),
            error,
        });
    }

    /// The background errors reported since the last time this was asked.
    pub fn take_uncaught(&mut self) -> Vec<Uncaught> {
        self.collect_pending();
        std::mem::take(&mut self.uncaught)
    }

    /// Takes whatever already arrived without waiting: uncaught reports,
    /// and late answers to calls given up on (dropped).
    fn collect_pending(&mut self) {
        while let Ok(incoming) = self.incoming.try_recv() {
            match incoming {
                Incoming::Line(message)
                    if message.get("type").and_then(Value::as_str) == Some("uncaught") =>
                {
                    self.note_uncaught(&message)
                }
                Incoming::Closed => self.mark_dead(),
                _ => {}
            }
        }
    }

    /// Whether the bridge can take calls.
    pub fn is_alive(&mut self) -> bool {
        self.collect_pending();
        self.dead.is_none()
    }

    fn mark_dead(&mut self) {
        if self.dead.is_none() {
            let status = self.wait_briefly();
            self.dead = Some(format!(
                "the connector's Node.js process ended ({status}){}",
                last_words(&self.tail)
            ));
        }
    }

    fn wait_briefly(&mut self) -> String {
        let until = Instant::now() + EXIT_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return describe_status(status),
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
                _ => return "still running".into(),
            }
        }
    }

    /// The user record the connector persisted during the last calls, if
    /// it did.
    pub fn take_saved_user(&mut self) -> Option<Value> {
        self.saved_user.take()
    }

    /// Calls `function` with `args` and waits up to `timeout` for it to
    /// settle. `extras` are more fields of the request (`user`, `env`).
    pub fn call(
        &mut self,
        function: &str,
        args: Vec<Value>,
        extras: Option<&serde_json::Map<String, Value>>,
        timeout: Duration,
    ) -> Result<Settled, Unanswered> {
        self.collect_pending();
        if let Some(dead) = &self.dead {
            return Err(Unanswered::Died(dead.clone()));
        }
        self.next_id += 1;
        let id = self.next_id;
        let mut request = json!({"id": id, "fn": function, "args": args});
        if let (Some(extras), Some(fields)) = (extras, request.as_object_mut()) {
            for (key, value) in extras {
                fields.insert(key.clone(), value.clone());
            }
        }
        let mut line = request.to_string();
        line.push('\n');
        if self.stream.write_all(line.as_bytes()).is_err() {
            self.mark_dead();
            return Err(Unanswered::Died(self.dead.clone().unwrap_or_default()));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(left) {
                Ok(Incoming::Line(message)) => message,
                Ok(Incoming::Garbled(_)) => continue,
                Ok(Incoming::Closed) | Err(RecvTimeoutError::Disconnected) => {
                    self.mark_dead();
                    return Err(Unanswered::Died(self.dead.clone().unwrap_or_default()));
                }
                Err(RecvTimeoutError::Timeout) => return Err(Unanswered::TimedOut),
            };
            match message.get("type").and_then(Value::as_str) {
                Some("uncaught") => self.note_uncaught(&message),
                Some("result") if message.get("id").and_then(Value::as_u64) == Some(id) => {
                    if let Some(user) = message.get("user").filter(|user| user.is_object()) {
                        self.saved_user = Some(user.clone());
                    }
                    return Ok(settled(&message));
                }
                // A late answer to a call given up on.
                _ => {}
            }
        }
    }

    /// Ends the bridge: closing the socket makes it exit; one that does not
    /// (a connector stuck in a synchronous loop) is killed.
    fn shutdown(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        let until = Instant::now() + EXIT_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    stop(&mut self.child);
                    return;
                }
            }
        }
    }

    /// Kills the bridge at once (a call that never settled may still hold
    /// state, so it is not reused).
    pub fn kill(mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        stop(&mut self.child);
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.shutdown();
        }
    }
}

fn settled(message: &Value) -> Settled {
    let is_async = message
        .get("async")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if message.get("ok").and_then(Value::as_bool) == Some(true) {
        let value = if message.get("undefined").and_then(Value::as_bool) == Some(true) {
            None
        } else {
            Some(message.get("value").cloned().unwrap_or(Value::Null))
        };
        return Settled::Returned { value, is_async };
    }
    let error = message.get("error").unwrap_or(&Value::Null);
    let kind = error.get("kind").and_then(Value::as_str).unwrap_or("threw");
    Settled::Threw(Thrown::from_json(kind, error))
}

/// `--node` split into a program and its arguments.
pub fn split_command(command: &str) -> Vec<String> {
    command.split_whitespace().map(str::to_owned).collect()
}
