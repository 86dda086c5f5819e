//! Load benchmark for the mock CRM (issue #5): `cargo bench --bench load`.
//!
//! For each database size it fills a file database over HTTP, as connectors
//! do (each activity `POST /activity` under an idempotency key, as the
//! reference connector writes them), restarts the release `mockcrm serve` on
//! it, times the ready
//! line, and drives `GET /health`, `POST /activity`, `GET /activity/{id}` and
//! `GET /activity?session_id=` over loopback with keep-alive connections for a
//! fixed time each. It prints requests/s, p50/p99/max latency and the server's
//! peak RSS per endpoint, the composer's bodies/s on one core, the two ratios
//! (create ÷ health, create at the largest size ÷ create at the smallest),
//! and one PASS/FAIL line per target.
//!
//! Knobs (environment):
//! - `MOCKCRM_BENCH_QUICK=1`: sizes 10k and 100k, 3 s per endpoint.
//! - `MOCKCRM_BENCH_SIZES=10000,1000000`: stored activities per run.
//! - `MOCKCRM_BENCH_SECS=10`: seconds per endpoint (after a 1 s warm-up).
//! - `MOCKCRM_BENCH_CONNECTIONS=16`: concurrent keep-alive connections.
//! - `MOCKCRM_BENCH_CLIENT_THREADS=1`: threads the load generator runs on.
//! - `MOCKCRM_BENCH_ENDPOINTS=health,create,get,list`: a subset, for profiling.
//! - `MOCKCRM_BENCH_DIR`: where the databases go (default: the system temp dir).
//! - `MOCKCRM_BENCH_SERVER_ARGS`: extra `serve` flags, split on spaces.
//! - `MOCKCRM_BENCH_SERVER_BIN`: another `mockcrm` binary to serve with, for
//!   comparing two builds on the same machine at the same time.
//! - `MOCKCRM_BENCH_PEER_BIN`: the json-server to compare with (default:
//!   `benches/peers/node_modules/.bin/json-server`, which
//!   `benches/peers/install.sh` installs); the peer stage is skipped with a
//!   note when it is missing, and `MOCKCRM_BENCH_PEER_BIN=` (empty) skips it.
//!
//! The peer stage runs json-server, the JSON-file mock that connector
//! developers use today, on the same machine with the same load generator
//! and the same create bodies, starting empty and at the smallest size, and
//! prints mockcrm's create rate over json-server's.
//!
//! The load generator shares the machine with the server, so every figure is
//! "server plus client on the same cores"; the ratios cancel most of that.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;

use common::{env_parse, load_average, spawn_serve, BenchResult};
use mockcrm::interface::{ComposeRequest, LogFormat};
use mockcrm::{ComposeOptions, UpdateStyle};

/// `Basic base64("mockcrm-dev-key:")`, as App Connect sends it.
const AUTH: &str = "Basic bW9ja2NybS1kZXYta2V5Og==";
/// Connections the fill creates activities over.
const FILL_CONNECTIONS: usize = 16;
const WARM_UP: Duration = Duration::from_secs(1);

// The targets of issue #5.
const TARGET_CREATE_OVER_HEALTH: f64 = 0.35;
const TARGET_LARGE_OVER_SMALL: f64 = 0.90;
const TARGET_P99_CREATE_MS: f64 = 5.0;
const TARGET_RSS_MIB: f64 = 64.0;
const TARGET_READY_MS: f64 = 200.0;

struct Config {
    quick: bool,
    sizes: Vec<usize>,
    duration: Duration,
    connections: usize,
    client_threads: usize,
    endpoints: Vec<Endpoint>,
    dir: PathBuf,
    server_args: Vec<String>,
    server_bin: PathBuf,
    peer_bin: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Health,
    Create,
    Get,
    List,
    /// json-server's create (`POST /activities`), for the peer stage.
    PeerCreate,
}

impl Endpoint {
    const ALL: [Endpoint; 4] = [
        Endpoint::Health,
        Endpoint::Create,
        Endpoint::Get,
        Endpoint::List,
    ];

    fn name(self) -> &'static str {
        match self {
            Endpoint::Health => "health",
            Endpoint::Create => "create",
            Endpoint::Get => "get",
            Endpoint::List => "list",
            Endpoint::PeerCreate => "peer-create",
        }
    }

    fn route(self) -> &'static str {
        match self {
            Endpoint::Health => "GET /health",
            Endpoint::Create => "POST /activity",
            Endpoint::Get => "GET /activity/{id}",
            Endpoint::List => "GET /activity?session_id=",
            Endpoint::PeerCreate => "json-server POST /activities",
        }
    }

    fn expected(self) -> StatusCode {
        match self {
            Endpoint::Create | Endpoint::PeerCreate => StatusCode::CREATED,
            _ => StatusCode::OK,
        }
    }
}

impl Config {
    fn from_env() -> BenchResult<Config> {
        let quick = std::env::var("MOCKCRM_BENCH_QUICK").is_ok_and(|v| v != "0" && !v.is_empty());
        let sizes = match std::env::var("MOCKCRM_BENCH_SIZES") {
            Ok(text) => text
                .split(',')
                .map(|size| size.trim().replace('_', "").parse::<usize>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    format!("MOCKCRM_BENCH_SIZES={text:?}: give sizes like 10000,1000000")
                })?,
            Err(_) if quick => vec![10_000, 100_000],
            Err(_) => vec![10_000, 1_000_000],
        };
        if sizes.is_empty() || sizes.contains(&0) {
            return Err("MOCKCRM_BENCH_SIZES needs at least one size above 0".into());
        }
        let secs: f64 = env_parse("MOCKCRM_BENCH_SECS", if quick { 3.0 } else { 10.0 })?;
        let endpoints = match std::env::var("MOCKCRM_BENCH_ENDPOINTS") {
            Ok(text) => text
                .split(',')
                .map(|name| {
                    Endpoint::ALL
                        .into_iter()
                        .find(|e| e.name() == name.trim())
                        .ok_or_else(|| {
                            format!("unknown endpoint {name:?}: health, create, get, list")
                        })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Err(_) => Endpoint::ALL.to_vec(),
        };
        Ok(Config {
            quick,
            sizes,
            duration: Duration::from_secs_f64(secs.max(0.1)),
            connections: env_parse("MOCKCRM_BENCH_CONNECTIONS", 16usize)?.max(1),
            client_threads: env_parse("MOCKCRM_BENCH_CLIENT_THREADS", 1usize)?.max(1),
            endpoints,
            dir: std::env::var_os("MOCKCRM_BENCH_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir),
            server_bin: std::env::var_os("MOCKCRM_BENCH_SERVER_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mockcrm"))),
            server_args: std::env::var("MOCKCRM_BENCH_SERVER_ARGS")
                .map(|args| args.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            peer_bin: match std::env::var_os("MOCKCRM_BENCH_PEER_BIN") {
                Some(path) if path.is_empty() => None,
                Some(path) => Some(PathBuf::from(path)),
                None => Some(
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("benches/peers/node_modules/.bin/json-server"),
                ),
            },
        })
    }
}

fn main() {
    if let Err(error) = run() {
        eprintln!("bench: error: {error}");
        std::process::exit(1);
    }
}

fn run() -> BenchResult<()> {
    let config = Config::from_env()?;
    println!(
        "mockcrm load benchmark: {} connections, {} client thread(s), {:.1} s per endpoint, sizes {:?}{}",
        config.connections,
        config.client_threads,
        config.duration.as_secs_f64(),
        config.sizes,
        if config.quick { " (quick)" } else { "" }
    );
    println!("load before: {}", load_average());
    let compose_rate = composer_bodies_per_second(if config.quick { 0.5 } else { 2.0 })?;
    println!(
        "composer: {compose_rate:.0} bodies/s on one core (fixtures/create-call-log, 3 formats)"
    );
    println!("composer: {}", composer_on_hostile_bodies()?);

    println!("\n{}", table_header());
    let mut runs = Vec::new();
    for &size in &config.sizes {
        runs.push(bench_size(&config, size)?);
    }
    let peers = bench_peer(&config)?;
    report(&config, &runs, &peers, compose_rate);
    println!("load after: {}", load_average());
    Ok(())
}

struct Phase {
    endpoint: Endpoint,
    requests: u64,
    errors: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    peak_rss_mib: f64,
    /// Server CPU time (user + system) per request.
    cpu_us_per_request: f64,
    /// Bytes the server sent to storage (WAL and database) per request.
    written_kib_per_request: f64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

struct SizeRun {
    size: usize,
    fill_seconds: f64,
    ready_ms: f64,
    startup_rss_mib: f64,
    phases: Vec<Phase>,
}

impl SizeRun {
    fn phase(&self, endpoint: Endpoint) -> Option<&Phase> {
        self.phases.iter().find(|p| p.endpoint == endpoint)
    }

    fn peak_rss_mib(&self) -> f64 {
        self.phases
            .iter()
            .map(|p| p.peak_rss_mib)
            .fold(self.startup_rss_mib, f64::max)
    }
}

/// What the fill left behind for the GET phases to ask for.
struct Stored {
    ids: Vec<String>,
    sessions: usize,
}

fn bench_size(config: &Config, size: usize) -> BenchResult<SizeRun> {
    let dir = tempfile::Builder::new()
        .prefix("mockcrm-bench-")
        .tempdir_in(&config.dir)?;
    let db = dir.path().join("bench.db");
    print!("\n[{size} activities] filling {} ... ", db.display());
    let started = Instant::now();
    let stored = fill(&config.server_bin, &db, size)?;
    let fill_seconds = started.elapsed().as_secs_f64();
    println!("{fill_seconds:.1} s ({} MiB on disk)", file_mib(&db));

    let server = ServerProcess::start(&config.server_bin, &db, &config.server_args)?;
    println!(
        "[{size} activities] server pid {} on {}: ready line after {:.1} ms",
        server.pid(),
        server.addr,
        server.ready_ms
    );
    let startup_rss_mib = server.peak_rss_mib().unwrap_or(0.0);
    let stored = Arc::new(stored);
    let mut phases = Vec::new();
    for &endpoint in &config.endpoints {
        let load = Load {
            addr: server.addr,
            endpoint,
            stored: Arc::clone(&stored),
            run_tag: format!("{size}"),
        };
        let phase = measure(&server, &load, config)?;
        println!("{}", progress_line(size, &phase));
        phases.push(phase);
    }
    let ready_ms = server.ready_ms;
    server.stop()?;
    Ok(SizeRun {
        size,
        fill_seconds,
        ready_ms,
        startup_rss_mib,
        phases,
    })
}

/// json-server's create rate, from empty and at the smallest size; none when
/// json-server is not installed.
fn bench_peer(config: &Config) -> BenchResult<Vec<SizeRun>> {
    let Some(bin) = &config.peer_bin else {
        return Ok(Vec::new());
    };
    if !bin.exists() {
        println!(
            "\npeer: no json-server at {}; run benches/peers/install.sh to compare with it",
            bin.display()
        );
        return Ok(Vec::new());
    }
    let mut runs = Vec::new();
    for size in [0, config.sizes[0]] {
        let dir = tempfile::Builder::new()
            .prefix("mockcrm-bench-peer-")
            .tempdir_in(&config.dir)?;
        let db = dir.path().join("db.json");
        print!(
            "\n[json-server, {size} activities] filling {} ... ",
            db.display()
        );
        let started = Instant::now();
        let stored = fill_json(&db, size)?;
        let fill_seconds = started.elapsed().as_secs_f64();
        println!("{fill_seconds:.1} s ({} MiB on disk)", file_mib(&db));
        let server = ServerProcess::start_json_server(bin, &db)?;
        println!(
            "[json-server, {size} activities] pid {} on {}: answering after {:.0} ms",
            server.pid(),
            server.addr,
            server.ready_ms
        );
        let load = Load {
            addr: server.addr,
            endpoint: Endpoint::PeerCreate,
            stored: Arc::new(stored),
            run_tag: format!("peer-{size}"),
        };
        let phase = measure(&server, &load, config)?;
        println!("{}", progress_line(size, &phase));
        runs.push(SizeRun {
            size,
            fill_seconds,
            ready_ms: server.ready_ms,
            startup_rss_mib: 0.0,
            phases: vec![phase],
        });
        server.stop()?;
    }
    Ok(runs)
}

/// A json-server database (`db.json`) holding `size` activities.
fn fill_json(db: &Path, size: usize) -> BenchResult<Stored> {
    let mut rng = fastrand::Rng::with_seed(7);
    let activities: Vec<serde_json::Value> = (0..size)
        .map(|n| {
            let mut activity = create_body(&new_activity(&mut rng, session_id("fill", n as u64)));
            activity["id"] = json!(n + 1);
            activity
        })
        .collect();
    std::fs::write(
        db,
        serde_json::to_vec(&json!({ "activities": activities }))?,
    )?;
    Ok(Stored {
        ids: Vec::new(),
        sessions: size,
    })
}

fn file_mib(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len() >> 20).unwrap_or(0)
}

/// One endpoint under load for `config.duration`, after a warm-up, with the
/// server's CPU, disk writes and peak memory over that time.
fn measure(server: &ServerProcess, load: &Load, config: &Config) -> BenchResult<Phase> {
    // Warm-up fills caches and connection buffers; its peak is not the
    // endpoint's, so the peak is reset after it.
    drive(load, config, WARM_UP)?;
    server.reset_peak_rss();
    let before = server.usage();
    let mut phase = drive(load, config, config.duration)?;
    let after = server.usage();
    phase.peak_rss_mib = server.peak_rss_mib().unwrap_or(0.0);
    let requests = phase.requests.max(1) as f64;
    phase.cpu_us_per_request = (after.cpu_seconds - before.cpu_seconds) * 1e6 / requests;
    phase.written_kib_per_request =
        after.written_bytes.saturating_sub(before.written_bytes) as f64 / 1024.0 / requests;
    Ok(phase)
}

/// A phase as it finishes: its row of the results table (whose header
/// `run` prints first), and the load average, which says how quiet the
/// machine was.
fn progress_line(size: usize, phase: &Phase) -> String {
    format!("{}  load {}", table_row(size, phase), load_average())
}

/// A call-log body of 1–4 KiB the way a connector sends it: composed
/// details plus an AI note and a transcript of varying length.
fn realistic_body(rng: &mut fastrand::Rng, session: &str) -> String {
    const WORDS: [&str; 24] = [
        "customer",
        "renewal",
        "invoice",
        "asked",
        "about",
        "the",
        "pricing",
        "tier",
        "and",
        "confirmed",
        "delivery",
        "next",
        "week",
        "follow",
        "up",
        "with",
        "a",
        "quote",
        "for",
        "twelve",
        "seats",
        "escalate",
        "billing",
        "thanks",
    ];
    let target = rng.usize(900..3_800);
    let mut body = format!(
        "- Note: Discussed renewal terms\n- Session Id: {session}\n- Summary: Outbound Call to Jane Contact [+14155550199]\n\
         - Date/Time: 2024-01-15 10:30:00 AM\n- Duration: 2 minutes, 5 seconds\n- Result: Call connected\n\
         - Call recording link: https://app.ringcentral.com/recordings/{session}\n\n- AI Note:\n"
    );
    let mut sentence = 0;
    while body.len() < target {
        if sentence % 6 == 0 {
            body.push_str(if sentence % 12 == 0 {
                "\nAgent: "
            } else {
                "\nCustomer: "
            });
        }
        for _ in 0..rng.usize(6..14) {
            body.push_str(WORDS[rng.usize(..WORDS.len())]);
            body.push(' ');
        }
        body.push_str(". ");
        sentence += 1;
    }
    body.push_str("\n--- END\n");
    body
}

fn session_id(tag: &str, n: u64) -> String {
    format!("bench-{tag}-{n}")
}

/// An activity as the reference connector would create it.
struct NewActivity {
    subject: String,
    body: String,
    body_format: String,
    activity_type: String,
    received_at: Option<String>,
    contact_id: Option<String>,
    session_id: Option<String>,
    direction: Option<String>,
    duration: Option<serde_json::Value>,
    telephony_session_id: String,
}

fn new_activity(rng: &mut fastrand::Rng, session: String) -> NewActivity {
    NewActivity {
        subject: "Outbound Call to Jane Contact [+14155550199]".into(),
        body: realistic_body(rng, &session),
        body_format: "text/plain".into(),
        activity_type: "PhoneCommunication".into(),
        received_at: Some("2024-01-15T15:30:00Z".into()),
        contact_id: Some(format!("contact-{}", rng.usize(1..=4))),
        session_id: Some(session),
        direction: Some("Outbound".into()),
        duration: Some(json!(125)),
        telephony_session_id: format!("s-{}", rng.u64(..)),
    }
}

/// Fills `db` the way connectors do: the server runs on it, and
/// `FILL_CONNECTIONS` connections create `size` activities, each under its
/// own idempotency key (so the database holds the keys too). The server is
/// stopped afterwards, so the measured run starts it afresh on the file.
fn fill(bin: &Path, db: &Path, size: usize) -> BenchResult<Stored> {
    let server = ServerProcess::start(bin, db, &[])?;
    let addr = server.addr;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let ids = runtime.block_on(async move {
        let mut tasks = Vec::new();
        for connection in 0..FILL_CONNECTIONS {
            // Sessions `fill-0 .. fill-(size-1)`, dealt out round robin.
            let sessions: Vec<u64> = (connection as u64..size as u64)
                .step_by(FILL_CONNECTIONS)
                .collect();
            tasks.push(tokio::spawn(fill_connection(addr, sessions)));
        }
        let mut ids = Vec::with_capacity(size);
        for task in tasks {
            ids.extend(task.await.map_err(|e| format!("fill task failed: {e}"))??);
        }
        BenchResult::Ok(ids)
    })?;
    server.stop()?;
    Ok(Stored {
        ids,
        sessions: size,
    })
}

/// Creates one activity per session over one keep-alive connection; the
/// new ids, in order.
async fn fill_connection(addr: SocketAddr, sessions: Vec<u64>) -> BenchResult<Vec<String>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let host = addr.to_string();
    let mut ids = Vec::with_capacity(sessions.len());
    for n in sessions {
        let session = session_id("fill", n);
        let mut rng = fastrand::Rng::with_seed(n);
        let body = create_body(&new_activity(&mut rng, session.clone()));
        let request = Request::builder()
            .method(Method::POST)
            .uri("/activity")
            .header("host", &host)
            .header("authorization", AUTH)
            .header("content-type", "application/json")
            .header("idempotency-key", format!("call-{session}"))
            .body(Full::new(Bytes::from(serde_json::to_vec(&body)?)))?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let answer = response.into_body().collect().await?.to_bytes();
        if status != StatusCode::CREATED {
            return Err(format!("fill: {status}: {}", String::from_utf8_lossy(&answer)).into());
        }
        let created: serde_json::Value = serde_json::from_slice(&answer)?;
        let id = created["id"]
            .as_str()
            .ok_or("fill: the created activity has no id")?;
        ids.push(id.to_owned());
    }
    Ok(ids)
}

struct Usage {
    cpu_seconds: f64,
    written_bytes: u64,
}

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    ready_ms: f64,
}

impl ServerProcess {
    fn start(bin: &Path, db: &Path, extra_args: &[String]) -> BenchResult<ServerProcess> {
        let started = Instant::now();
        let (child, addr) = spawn_serve(bin, db, extra_args, "warn")?;
        let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(ServerProcess {
            child,
            addr,
            ready_ms,
        })
    }

    /// json-server on a free loopback port, once it accepts connections.
    /// It prints no ready line of its own, so the bench polls for one.
    fn start_json_server(bin: &Path, db: &Path) -> BenchResult<ServerProcess> {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let started = Instant::now();
        let child = Command::new(bin)
            .arg("--port")
            .arg(addr.port().to_string())
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--quiet")
            .arg(db)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut server = ServerProcess {
            child,
            addr,
            ready_ms: 0.0,
        };
        let deadline = started + Duration::from_secs(120);
        while std::net::TcpStream::connect(addr).is_err() {
            if server.child.try_wait()?.is_some() {
                return Err(format!("{} exited before it answered", bin.display()).into());
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not answer within 120 s", bin.display()).into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        server.ready_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmHWM`: the most resident memory the process has had since start
    /// or since the last `reset_peak_rss`.
    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// CPU time so far (`/proc/<pid>/stat` utime + stime, in USER_HZ
    /// ticks of 1/100 s) and bytes sent to storage (`/proc/<pid>/io`
    /// write_bytes: file writes, not socket sends).
    fn usage(&self) -> Usage {
        let cpu_seconds = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .ok()
            .and_then(|stat| {
                // Fields after the command name, which may hold spaces.
                let rest = stat.rsplit_once(')')?.1;
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let utime: f64 = fields.get(11)?.parse().ok()?;
                let stime: f64 = fields.get(12)?.parse().ok()?;
                Some((utime + stime) / 100.0)
            })
            .unwrap_or(0.0);
        let written_bytes = std::fs::read_to_string(format!("/proc/{}/io", self.pid()))
            .ok()
            .and_then(|io| {
                io.lines()
                    .find_map(|line| line.strip_prefix("write_bytes:"))
                    .and_then(|value| value.trim().parse().ok())
            })
            .unwrap_or(0);
        Usage {
            cpu_seconds,
            written_bytes,
        }
    }

    fn reset_peak_rss(&self) {
        // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    /// SIGTERM, so the server drains and closes the database as a user's would.
    fn stop(mut self) -> BenchResult<()> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                self.child.wait()?;
                return Err("the server did not stop within 30 s of SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Only reached with the server still running on an error path.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

struct Load {
    addr: SocketAddr,
    endpoint: Endpoint,
    stored: Arc<Stored>,
    /// Keeps session ids and idempotency keys unique across sizes and phases.
    run_tag: String,
}

/// One connection's tally.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

/// Runs `config.connections` keep-alive connections against one endpoint
/// for `duration` and gathers every request's latency.
fn drive(load: &Load, config: &Config, duration: Duration) -> BenchResult<Phase> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.client_threads)
        .enable_all()
        .build()?;
    let started = Instant::now();
    let deadline = started + duration;
    let tallies = runtime.block_on(async {
        let mut tasks = Vec::new();
        for connection in 0..config.connections {
            let addr = load.addr;
            let endpoint = load.endpoint;
            let stored = Arc::clone(&load.stored);
            let tag = format!("{}-{}-{connection}", load.run_tag, fastrand::u64(..));
            tasks.push(tokio::spawn(async move {
                connection_loop(addr, endpoint, stored, tag, connection as u64, deadline).await
            }));
        }
        let mut tallies = Vec::new();
        for task in tasks {
            tallies.push(task.await.map_err(|e| format!("load task failed: {e}"))??);
        }
        BenchResult::Ok(tallies)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let errors = tallies.iter().map(|t| t.errors).sum();
    let mut latencies: Vec<u32> = tallies.into_iter().flat_map(|t| t.latencies_us).collect();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[index]) / 1000.0
    };
    Ok(Phase {
        endpoint: load.endpoint,
        requests: latencies.len() as u64,
        errors,
        seconds,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        max_ms: percentile(1.0),
        peak_rss_mib: 0.0,
        cpu_us_per_request: 0.0,
        written_kib_per_request: 0.0,
    })
}

async fn connection_loop(
    addr: SocketAddr,
    endpoint: Endpoint,
    stored: Arc<Stored>,
    tag: String,
    seed: u64,
    deadline: Instant,
) -> BenchResult<Tally> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let host = addr.to_string();
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut tally = Tally {
        latencies_us: Vec::with_capacity(1 << 16),
        errors: 0,
    };
    let mut n = 0u64;
    while Instant::now() < deadline {
        let request = build_request(endpoint, &stored, &tag, n, &mut rng, &host)?;
        n += 1;
        sender.ready().await?;
        let sent = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        let micros = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        tally.latencies_us.push(micros);
        if status != endpoint.expected() {
            tally.errors += 1;
        }
    }
    Ok(tally)
}

/// The `POST /activity` body the reference connector would send for `new`.
fn create_body(new: &NewActivity) -> serde_json::Value {
    json!({
        "subject": new.subject,
        "body": new.body,
        "body_format": new.body_format,
        "type": new.activity_type,
        "received_at": new.received_at,
        "contact_id": new.contact_id,
        "session_id": new.session_id,
        "direction": new.direction,
        "duration": new.duration,
        "telephony_session_id": new.telephony_session_id,
    })
}

fn build_request(
    endpoint: Endpoint,
    stored: &Stored,
    tag: &str,
    n: u64,
    rng: &mut fastrand::Rng,
    host: &str,
) -> BenchResult<Request<Full<Bytes>>> {
    let builder = Request::builder().header("host", host);
    let request = match endpoint {
        Endpoint::Health => builder
            .method(Method::GET)
            .uri("/health")
            .body(Full::new(Bytes::new()))?,
        Endpoint::Create | Endpoint::PeerCreate => {
            let session = session_id(tag, n);
            let body = create_body(&new_activity(rng, session.clone()));
            let uri = match endpoint {
                Endpoint::PeerCreate => "/activities",
                _ => "/activity",
            };
            // json-server ignores the key and the auth; they are sent all
            // the same, so both servers read the same request.
            builder
                .method(Method::POST)
                .uri(uri)
                .header("authorization", AUTH)
                .header("content-type", "application/json")
                .header("idempotency-key", format!("call-{session}"))
                .body(Full::new(Bytes::from(serde_json::to_vec(&body)?)))?
        }
        Endpoint::Get => {
            let id = &stored.ids[rng.usize(..stored.ids.len())];
            builder
                .method(Method::GET)
                .uri(format!("/activity/{id}"))
                .header("authorization", AUTH)
                .body(Full::new(Bytes::new()))?
        }
        Endpoint::List => {
            let session = session_id("fill", rng.u64(..stored.sessions as u64));
            builder
                .method(Method::GET)
                .uri(format!("/activity?session_id={session}"))
                .header("authorization", AUTH)
                .body(Full::new(Bytes::new()))?
        }
    };
    Ok(request)
}

/// Bodies the composer writes per second on this thread, cycling through
/// every fixture in every format.
fn composer_bodies_per_second(seconds: f64) -> BenchResult<f64> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/create-call-log");
    let mut requests = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path)?;
        let request: ComposeRequest = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a compose request: {e}", path.display()))?;
        requests.push(request);
    }
    if requests.is_empty() {
        return Err(format!("no fixtures in {}", dir.display()).into());
    }
    let started = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut bodies = 0u64;
    let mut bytes = 0usize;
    let mut failures = 0u64;
    while started.elapsed() < budget {
        for request in &requests {
            for format in LogFormat::ALL {
                match mockcrm::compose(std::hint::black_box(request), &ComposeOptions::new(format))
                {
                    Ok(body) => bytes += body.len(),
                    Err(_) => failures += 1,
                }
                bodies += 1;
            }
        }
    }
    std::hint::black_box(bytes);
    if failures > 0 {
        println!("composer: {failures} of {bodies} compositions failed (counted all the same)");
    }
    Ok(bodies as f64 / started.elapsed().as_secs_f64())
}

/// One update on top of a ~1 MiB existing body made of nothing but section
/// markers that never close, per format and update style: the shape that
/// once made the parser quadratic (a minute for 32k unclosed `<li>`).
fn composer_on_hostile_bodies() -> BenchResult<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/create-call-log/inbound-answered.json");
    let mut request: ComposeRequest = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut timings = Vec::new();
    for (format, unit) in [
        (LogFormat::Html, "<li><b>Summary</b>: x"),
        (LogFormat::Html, "<div><b>AI Note</b><br>x"),
        (LogFormat::Plain, "- Summary: a\n- AI Note:\nx\n"),
        (LogFormat::Markdown, "### AI Note\n**Summary**: x\n"),
    ] {
        request.existing_body = Some(unit.repeat((1 << 20) / unit.len()));
        for style in UpdateStyle::ALL {
            let options = ComposeOptions::new(format).with_update_style(style);
            let started = Instant::now();
            mockcrm::compose(std::hint::black_box(&request), &options)
                .map_err(|e| format!("composing on a hostile body: {e}"))?;
            let took = started.elapsed().as_secs_f64() * 1e3;
            timings.push(format!("{format} {unit:?}… {style} {took:.0} ms"));
        }
    }
    Ok(format!(
        "one update on 1 MiB of unclosed markers: {}",
        timings.join(", ")
    ))
}

fn table_header() -> String {
    format!(
        "{:>10}  {:<26} {:>10} {:>9} {:>9} {:>9} {:>10} {:>11} {:>11} {:>7}",
        "activities",
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "peak RSS",
        "CPU µs/req",
        "KiB disk/req",
        "errors"
    )
}

/// One row of the results table.
fn table_row(size: usize, phase: &Phase) -> String {
    format!(
        "{:>10}  {:<26} {:>10.0} {:>9.2} {:>9.2} {:>9.2} {:>6.1} MiB {:>11.0} {:>11.1} {:>7}",
        size,
        phase.endpoint.route(),
        phase.rate(),
        phase.p50_ms,
        phase.p99_ms,
        phase.max_ms,
        phase.peak_rss_mib,
        phase.cpu_us_per_request,
        phase.written_kib_per_request,
        phase.errors
    )
}

fn report(config: &Config, runs: &[SizeRun], peers: &[SizeRun], compose_rate: f64) {
    println!("\n== results ({} connections) ==", config.connections);
    println!("{}", table_header());
    for run in runs {
        for phase in &run.phases {
            println!("{}", table_row(run.size, phase));
        }
        println!(
            "{:>10}  ready line {:.1} ms, peak RSS {:.1} MiB, fill {:.1} s",
            run.size,
            run.ready_ms,
            run.peak_rss_mib(),
            run.fill_seconds
        );
    }
    for peer in peers {
        for phase in &peer.phases {
            println!("{}", table_row(peer.size, phase));
        }
    }
    println!("composer: {compose_rate:.0} bodies/s per core");
    // mockcrm's create against json-server's, each at the sizes both ran.
    for peer in peers {
        let Some(peer_rate) = peer.phase(Endpoint::PeerCreate).map(Phase::rate) else {
            continue;
        };
        for run in runs {
            if let Some(create) = run.phase(Endpoint::Create) {
                println!(
                    "ratio mockcrm create at {} ÷ json-server create at {}: {:.0}x",
                    run.size,
                    peer.size,
                    create.rate() / peer_rate.max(f64::MIN_POSITIVE)
                );
            }
        }
    }

    let (Some(small), Some(large)) = (runs.first(), runs.last()) else {
        return;
    };
    let rate = |run: &SizeRun, endpoint| run.phase(endpoint).map(Phase::rate);
    let mut verdicts = Vec::new();
    for run in runs {
        if let (Some(create), Some(health)) =
            (rate(run, Endpoint::Create), rate(run, Endpoint::Health))
        {
            let ratio = create / health;
            println!("ratio create ÷ health at {}: {ratio:.2}", run.size);
            verdicts.push((
                ratio >= TARGET_CREATE_OVER_HEALTH,
                format!(
                    "create ≥ {:.0}% of health at {}: {:.0}%",
                    TARGET_CREATE_OVER_HEALTH * 100.0,
                    run.size,
                    ratio * 100.0
                ),
            ));
        }
    }
    if let (Some(create_small), Some(create_large)) =
        (rate(small, Endpoint::Create), rate(large, Endpoint::Create))
    {
        let ratio = create_large / create_small;
        println!(
            "ratio create at {} ÷ create at {}: {ratio:.2}",
            large.size, small.size
        );
        if let (Some(cpu_small), Some(cpu_large)) =
            (small.phase(Endpoint::Create), large.phase(Endpoint::Create))
        {
            // Less swayed by other load than req/s: what the larger database
            // itself costs per create.
            println!(
                "server CPU per create at {} ÷ at {}: {:.2}",
                large.size,
                small.size,
                cpu_large.cpu_us_per_request / cpu_small.cpu_us_per_request.max(f64::MIN_POSITIVE)
            );
        }
        verdicts.push((
            ratio >= TARGET_LARGE_OVER_SMALL,
            format!(
                "create drops ≤ {:.0}% from {} to {}: {:+.1}%",
                (1.0 - TARGET_LARGE_OVER_SMALL) * 100.0,
                small.size,
                large.size,
                (ratio - 1.0) * 100.0
            ),
        ));
    }
    for run in runs {
        if let Some(create) = run.phase(Endpoint::Create) {
            verdicts.push((
                create.p99_ms < TARGET_P99_CREATE_MS,
                format!(
                    "p99 create < {TARGET_P99_CREATE_MS} ms at {} connections, {}: {:.2} ms",
                    config.connections, run.size, create.p99_ms
                ),
            ));
        }
    }
    verdicts.push((
        large.peak_rss_mib() < TARGET_RSS_MIB,
        format!(
            "peak RSS < {TARGET_RSS_MIB} MiB at {}: {:.1} MiB",
            large.size,
            large.peak_rss_mib()
        ),
    ));
    verdicts.push((
        large.ready_ms < TARGET_READY_MS,
        format!(
            "ready line < {TARGET_READY_MS} ms at {}: {:.1} ms",
            large.size, large.ready_ms
        ),
    ));
    if large.size < 1_000_000 {
        println!(
            "note: the largest size is {}, not 1M; the 1M targets are not judged by this run",
            large.size
        );
    }
    for (pass, text) in verdicts {
        println!("{} {text}", if pass { "PASS" } else { "FAIL" });
    }
}
