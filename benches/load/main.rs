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

#[path = "../common/mod.rs"]
mod common;
mod composer;
mod load_gen;
mod process;
mod report;

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
/// A create through a CRM face costs at most 10% more CPU than a native one.
const TARGET_FACE_OVER_NATIVE: f64 = 1.10;
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
    /// The same call logged through a CRM face (Insightly's
    /// `POST /insightly/v3.1/events`, as App Connect's connector sends it).
    FaceCreate,
    Get,
    List,
    /// json-server's create (`POST /activities`), for the peer stage.
    PeerCreate,
}

impl Endpoint {
    const ALL: [Endpoint; 5] = [
        Endpoint::Health,
        Endpoint::Create,
        Endpoint::FaceCreate,
        Endpoint::Get,
        Endpoint::List,
    ];

    fn name(self) -> &'static str {
        match self {
            Endpoint::Health => "health",
            Endpoint::Create => "create",
            Endpoint::FaceCreate => "face-create",
            Endpoint::Get => "get",
            Endpoint::List => "list",
            Endpoint::PeerCreate => "peer-create",
        }
    }

    fn route(self) -> &'static str {
        match self {
            Endpoint::Health => "GET /health",
            Endpoint::Create => "POST /activity",
            Endpoint::FaceCreate => "POST /insightly/v3.1/events",
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
            endpoints: endpoints.clone(),
            dir: std::env::var_os("MOCKCRM_BENCH_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir),
            server_bin: std::env::var_os("MOCKCRM_BENCH_SERVER_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mockcrm"))),
            server_args: {
                let mut args: Vec<String> = std::env::var("MOCKCRM_BENCH_SERVER_ARGS")
                    .map(|args| args.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default();
                // The face create needs its face served.
                if endpoints.contains(&Endpoint::FaceCreate) {
                    args.extend(["--crm".to_owned(), "insightly".to_owned()]);
                }
                args
            },
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

use composer::*;
use load_gen::*;
use process::*;
use report::*;
