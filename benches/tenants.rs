//! Many CI jobs on one server (issue #14): `cargo bench --bench tenants`.
//!
//! Two stages against the release `mockcrm serve` on a file database:
//!
//! 1. **Tenants.** 50 tenants at once, each with faults of its own (`?org=`)
//!    of every kind (503 after commit, 502, 429 with `Retry-After`, reset,
//!    empty, truncated, dribble), each running create → update → get cycles
//!    through the reference connector, which retries. Then, with the faults
//!    gone, per tenant: no violation in its checks (so no session logged
//!    twice), its activities are exactly its logIds (no duplicate, nothing
//!    of another's), every logId reads back, other tenants' logIds are 404
//!    to it, and its journal holds its own requests only.
//! 2. **Flood.** 2,000 connections opened at once, each creating as fast as
//!    it is answered (honouring `Retry-After` when pushed back), for a fixed
//!    time, against the default limits. A connection opened before the flood
//!    asks `/health` every 50 ms throughout. Afterwards the server is
//!    stopped and its database read directly: every create answered 2xx
//!    must be there. Reports the server's peak RSS (`VmHWM`).
//!
//! Knobs (environment): `MOCKCRM_BENCH_TENANTS` (50), `_CYCLES` (20 per
//! tenant), `_FLOOD_CONNECTIONS` (2000), `_FLOOD_SECS` (10), `_DIR` (the
//! temp dir), `_SERVER_BIN` (another build), `_SERVER_ARGS` (extra flags
//! for both servers). It prints one table per stage and a PASS/FAIL line
//! per check, and exits non-zero when a check fails.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use common::{env_parse, load_average, spawn_serve, BenchResult};
use mockcrm::interface::{CallDuration, CreateCallLogInput, MessageType};
use mockcrm::{
    create_call_log, get_call_log, update_call_log, CrmClient, LogOptions, UpdateOptions,
};

const ADMIN_KEY: &str = "mockcrm-admin";
/// `Basic base64("mockcrm-dev-key:")`, as App Connect sends it.
const DEV_AUTH: &str = "Basic bW9ja2NybS1kZXYta2V5Og==";

struct Config {
    tenants: usize,
    cycles: usize,
    flood_connections: usize,
    flood: Duration,
    dir: PathBuf,
    server_bin: PathBuf,
    server_args: Vec<String>,
}

impl Config {
    fn from_env() -> BenchResult<Config> {
        Ok(Config {
            tenants: env_parse("MOCKCRM_BENCH_TENANTS", 50usize)?.max(2),
            cycles: env_parse("MOCKCRM_BENCH_CYCLES", 20usize)?.max(1),
            flood_connections: env_parse("MOCKCRM_BENCH_FLOOD_CONNECTIONS", 2000usize)?.max(1),
            flood: Duration::from_secs_f64(
                env_parse("MOCKCRM_BENCH_FLOOD_SECS", 10.0f64)?.max(1.0),
            ),
            dir: std::env::var_os("MOCKCRM_BENCH_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir),
            server_bin: std::env::var_os("MOCKCRM_BENCH_SERVER_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mockcrm"))),
            server_args: std::env::var("MOCKCRM_BENCH_SERVER_ARGS")
                .map(|args| args.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    }
}

fn main() {
    match run() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(error) => {
            eprintln!("tenants bench: error: {error}");
            std::process::exit(2);
        }
    }
}

/// One PASS/FAIL line per check; whether all passed.
struct Verdicts(Vec<(String, bool)>);

impl Verdicts {
    fn check(&mut self, what: impl Into<String>, passed: bool) {
        self.0.push((what.into(), passed));
    }
}

fn run() -> BenchResult<bool> {
    let config = Config::from_env()?;
    let dir = tempfile::Builder::new()
        .prefix("mockcrm-tenants-bench")
        .tempdir_in(&config.dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!("load average before: {}", load_average());
    let mut verdicts = Verdicts(Vec::new());
    runtime.block_on(tenants_stage(
        &config,
        &dir.path().join("tenants.db"),
        &mut verdicts,
    ))?;
    runtime.block_on(flood_stage(
        &config,
        &dir.path().join("flood.db"),
        &mut verdicts,
    ))?;
    println!();
    for (what, passed) in &verdicts.0 {
        println!("{} {what}", if *passed { "PASS" } else { "FAIL" });
    }
    Ok(verdicts.0.iter().all(|(_, passed)| *passed))
}

// ---------------------------------------------------------------------------
// The server.

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn start(config: &Config, db: &Path) -> BenchResult<ServerProcess> {
        let (child, addr) = spawn_serve(&config.server_bin, db, &config.server_args, "error")?;
        Ok(ServerProcess { child, addr })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn status_field(&self, field: &str) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// The most resident memory since start or the last `reset_peak`, MiB.
    fn peak_rss_mib(&self) -> Option<f64> {
        self.status_field("VmHWM:")
    }

    fn rss_mib(&self) -> Option<f64> {
        self.status_field("VmRSS:")
    }

    fn reset_peak(&self) {
        // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// SIGTERM, so the server drains and closes the database.
    fn stop(mut self) -> BenchResult<()> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.child.kill()?;
                return Err("the server did not stop within 120 s of SIGTERM".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Stage 1: tenants with faults.

/// Every kind of fault, each for this tenant only, each firing now and
/// then: about one request in five meets one.
fn fault_specs() -> Vec<Value> {
    vec![
        json!({"method": "POST", "path": "/activity", "status": 503, "after_commit": true, "probability": 0.04}),
        json!({"path": "/activity*", "status": 502, "probability": 0.03}),
        json!({"path": "/activity*", "status": 429, "retry_after": 1, "probability": 0.01}),
        json!({"path": "/activity*", "kind": "reset", "after_commit": true, "probability": 0.03}),
        json!({"path": "/activity*", "kind": "empty", "probability": 0.03}),
        json!({"path": "/activity*", "kind": "truncated", "probability": 0.03}),
        json!({"path": "/activity*", "kind": "dribble", "delay_ms": 50, "probability": 0.03}),
    ]
}

struct Admin {
    http: reqwest::Client,
    url: String,
}

impl Admin {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> BenchResult<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}/__admin{path}", self.url))
            .bearer_auth(ADMIN_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}").into());
        }
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }
}

struct Tenant {
    id: String,
    key: String,
}

/// What one tenant's cycles came to.
#[derive(Default)]
struct Cycles {
    log_ids: Vec<String>,
    /// Calls the connector gave up on (a warning, no logId): allowed by the
    /// contract, counted to show how hard the faults pushed.
    gave_up: usize,
    updates_failed: usize,
    gets_failed: usize,
}

fn fixture() -> BenchResult<CreateCallLogInput> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/create-call-log/ai-note-and-transcript.json");
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

async fn tenant_cycles(
    url: String,
    tenant: Arc<Tenant>,
    index: usize,
    cycles: usize,
) -> BenchResult<Cycles> {
    let client = CrmClient::new(&url)?;
    let base = fixture()?;
    let auth = format!("Bearer {}", tenant.key);
    let mut done = Cycles::default();
    for cycle in 0..cycles {
        let mut input = base.clone();
        input.auth_header = Some(auth.clone());
        input.content.call_log.session_id = Some(format!("t{index}-c{cycle}"));
        input.composed_log_details = None;
        let created = create_call_log(&client, &input, LogOptions::default()).await;
        let Some(log_id) = created.log_id else {
            done.gave_up += 1;
            continue;
        };
        input.content.call_log.duration = Some(CallDuration::Seconds(300 + cycle as u64));
        input.content.note = Some(format!("follow up {cycle}"));
        let updated = update_call_log(&client, &log_id, &input, UpdateOptions::default()).await;
        if updated.return_message.map(|m| m.message_type) != Some(MessageType::Success) {
            done.updates_failed += 1;
        }
        let read = get_call_log(&client, &log_id, Some(&auth), input.content.user.as_ref()).await;
        if read.call_log_info.is_none() {
            done.gets_failed += 1;
        }
        done.log_ids.push(log_id);
    }
    Ok(done)
}

/// Every activity id a tenant's key can list.
async fn listed_ids(http: &reqwest::Client, url: &str, key: &str) -> BenchResult<Vec<String>> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_url = format!("{url}/activity?limit=200");
        if let Some(cursor) = &cursor {
            page_url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = http
            .get(page_url)
            .bearer_auth(key)
            .send()
            .await?
            .json()
            .await?;
        for item in page["items"].as_array().ok_or("no items")? {
            ids.push(item["id"].as_str().ok_or("no id")?.to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(ids),
        }
    }
}

async fn tenants_stage(config: &Config, db: &Path, verdicts: &mut Verdicts) -> BenchResult<()> {
    let server = ServerProcess::start(config, db)?;
    let url = server.url();
    let admin = Admin {
        http: reqwest::Client::new(),
        url: url.clone(),
    };
    let mut tenants = Vec::new();
    for n in 0..config.tenants {
        let created = admin
            .call(
                reqwest::Method::POST,
                "/tenants",
                Some(json!({"name": format!("ci-job-{n}")})),
            )
            .await?;
        let tenant = Tenant {
            id: created["id"].as_str().ok_or("no id")?.to_owned(),
            key: created["api_key"].as_str().ok_or("no key")?.to_owned(),
        };
        for spec in fault_specs() {
            admin
                .call(
                    reqwest::Method::POST,
                    &format!("/faults?org={}", tenant.id),
                    Some(spec),
                )
                .await?;
        }
        tenants.push(Arc::new(tenant));
    }
    let started = Instant::now();
    let runs: Vec<_> = tenants
        .iter()
        .enumerate()
        .map(|(index, tenant)| {
            tokio::spawn(tenant_cycles(
                url.clone(),
                Arc::clone(tenant),
                index,
                config.cycles,
            ))
        })
        .collect();
    let mut results = Vec::new();
    for run in runs {
        results.push(run.await??);
    }
    let elapsed = started.elapsed();

    // How hard the faults pushed, per kind, then off for the checks.
    let mut fired: BTreeMap<String, u64> = BTreeMap::new();
    let faults = admin.call(reqwest::Method::GET, "/faults", None).await?;
    for fault in faults["items"].as_array().ok_or("no faults")? {
        let kind = match fault["kind"].as_str() {
            Some("status") => format!("status {}", fault["status"]),
            Some(kind) => kind.to_owned(),
            None => "?".into(),
        };
        *fired.entry(kind).or_default() += fault["fired"].as_u64().unwrap_or(0);
    }
    admin.call(reqwest::Method::DELETE, "/faults", None).await?;

    let http = reqwest::Client::new();
    let mut violations = 0;
    let mut leaks = 0;
    let mut duplicates_or_strays = 0;
    let mut unreadable = 0;
    let mut foreign_journal = 0;
    let all_ids: Vec<(usize, &String)> = results
        .iter()
        .enumerate()
        .flat_map(|(owner, result)| result.log_ids.iter().map(move |id| (owner, id)))
        .collect();
    for (index, (tenant, result)) in tenants.iter().zip(&results).enumerate() {
        let checks = admin
            .call(
                reqwest::Method::GET,
                &format!("/checks?org={}", tenant.id),
                None,
            )
            .await?;
        violations += checks["violations"].as_array().map_or(0, Vec::len);
        let listed: HashSet<String> = listed_ids(&http, &url, &tenant.key)
            .await?
            .into_iter()
            .collect();
        let mine: HashSet<String> = result.log_ids.iter().cloned().collect();
        duplicates_or_strays += listed.symmetric_difference(&mine).count();
        for id in &result.log_ids {
            let status = http
                .get(format!("{url}/activity/{id}"))
                .bearer_auth(&tenant.key)
                .send()
                .await?
                .status();
            if status != reqwest::StatusCode::OK {
                unreadable += 1;
            }
        }
        // Other tenants' logIds, a sample spread over all of them.
        for (owner, id) in all_ids
            .iter()
            .filter(|(owner, _)| *owner != index)
            .step_by(all_ids.len() / 20 + 1)
        {
            let status = http
                .get(format!("{url}/activity/{id}"))
                .bearer_auth(&tenant.key)
                .send()
                .await?
                .status();
            if status != reqwest::StatusCode::NOT_FOUND {
                leaks += 1;
                eprintln!("tenant {index} reads tenant {owner}'s {id}: {status}");
            }
        }
        let journal = admin
            .call(
                reqwest::Method::GET,
                &format!("/requests?org={}&limit=100000", tenant.id),
                None,
            )
            .await?;
        foreign_journal += journal["items"].as_array().map_or(0, |items| {
            items
                .iter()
                .filter(|entry| entry["org"] != tenant.id.as_str())
                .count()
        });
    }
    let logged: usize = results.iter().map(|r| r.log_ids.len()).sum();
    let gave_up: usize = results.iter().map(|r| r.gave_up).sum();
    let updates_failed: usize = results.iter().map(|r| r.updates_failed).sum();
    let gets_failed: usize = results.iter().map(|r| r.gets_failed).sum();
    let calls = config.tenants * config.cycles;
    println!();
    println!(
        "## {} tenants at once, {} create → update → get cycles each, faults of every kind",
        config.tenants, config.cycles
    );
    println!();
    println!("| calls | logged | gave up | updates failed | gets failed | seconds | cycles/s | peak RSS |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {calls} | {logged} | {gave_up} | {updates_failed} | {gets_failed} | {:.1} | {:.0} | {:.1} MiB |",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64(),
        server.peak_rss_mib().unwrap_or(f64::NAN)
    );
    println!();
    println!(
        "faults fired: {}",
        fired
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "violations {violations}, activities not the tenant's logIds {duplicates_or_strays}, logIds unreadable {unreadable}, \
         cross-tenant reads {leaks}, foreign journal entries {foreign_journal}"
    );
    verdicts.check(
        "tenants: no duplicate session in any tenant's checks",
        violations == 0,
    );
    verdicts.check(
        "tenants: each tenant's activities are exactly its logIds (no duplicates, nothing of another's)",
        duplicates_or_strays == 0,
    );
    verdicts.check("tenants: every logId reads back", unreadable == 0);
    verdicts.check("tenants: no tenant reads another's logId", leaks == 0);
    verdicts.check(
        "tenants: each journal holds its own tenant's requests only",
        foreign_journal == 0,
    );
    verdicts.check(
        "tenants: faults of every kind fired",
        fired.len() == fault_specs().len() && fired.values().all(|n| *n > 0),
    );
    server.stop()?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Stage 2: the flood.

#[derive(Default)]
struct FloodTally {
    created: AtomicU64,
    /// 503 with the store's queue full.
    queue_full: AtomicU64,
    /// 503 past the connection cap.
    turned_away: AtomicU64,
    /// Connections that could not be made or broke.
    broken: AtomicU64,
    other: AtomicU64,
}

async fn send(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    request: Request<Full<Bytes>>,
) -> BenchResult<(u16, Option<u64>, Bytes)> {
    sender.ready().await?;
    let response = sender.send_request(request).await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, retry_after, body))
}

async fn connect(addr: SocketAddr) -> BenchResult<http1::SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

fn create_request(addr: SocketAddr, session: &str) -> BenchResult<Request<Full<Bytes>>> {
    let body = json!({
        "subject": "Inbound Call from Jane Contact", "type": "PhoneCommunication",
        "body": "- Summary: flood\n- Duration: 1 minute\n".repeat(20),
        "session_id": session, "direction": "Inbound", "duration": 60,
    });
    Ok(Request::builder()
        .method(Method::POST)
        .uri("/activity")
        .header("host", addr.to_string())
        .header("authorization", DEV_AUTH)
        .header("content-type", "application/json")
        .header("idempotency-key", format!("flood-{session}"))
        .body(Full::new(Bytes::from(serde_json::to_vec(&body)?)))?)
}

async fn flood_connection(
    addr: SocketAddr,
    n: usize,
    stop: Arc<AtomicBool>,
    tally: Arc<FloodTally>,
    created: Arc<Mutex<Vec<String>>>,
) {
    let mut sender = None;
    let mut sequence = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let connection = match sender.as_mut() {
            Some(connection) => connection,
            None => match connect(addr).await {
                Ok(connection) => sender.insert(connection),
                Err(_) => {
                    tally.broken.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        sequence += 1;
        let Ok(request) = create_request(addr, &format!("flood-{n}-{sequence}")) else {
            return;
        };
        match send(connection, request).await {
            Ok((201, _, body)) => {
                tally.created.fetch_add(1, Ordering::Relaxed);
                if let Ok(activity) = serde_json::from_slice::<Value>(&body) {
                    if let Some(id) = activity["id"].as_str() {
                        created
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(id.to_owned());
                    }
                }
            }
            Ok((503, retry_after, body)) => {
                let text = String::from_utf8_lossy(&body);
                if text.contains("connections are in use") {
                    tally.turned_away.fetch_add(1, Ordering::Relaxed);
                    sender = None;
                } else {
                    tally.queue_full.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_secs(retry_after.unwrap_or(1))).await;
            }
            Ok(_) => {
                tally.other.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                tally.broken.fetch_add(1, Ordering::Relaxed);
                sender = None;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Asks `/health` every 50 ms on one connection made before the flood.
async fn health_watch(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
) -> BenchResult<(u64, u64, Duration)> {
    let mut sender = connect(addr).await?;
    let (mut answered, mut failed, mut slowest) = (0u64, 0u64, Duration::ZERO);
    while !stop.load(Ordering::Relaxed) {
        let request = Request::builder()
            .uri("/health")
            .header("host", addr.to_string())
            .body(Full::new(Bytes::new()))?;
        let asked = Instant::now();
        match tokio::time::timeout(Duration::from_secs(5), send(&mut sender, request)).await {
            Ok(Ok((200, _, _))) => answered += 1,
            _ => {
                failed += 1;
                sender = connect(addr).await?;
            }
        }
        slowest = slowest.max(asked.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((answered, failed, slowest))
}

async fn flood_stage(config: &Config, db: &Path, verdicts: &mut Verdicts) -> BenchResult<()> {
    let server = ServerProcess::start(config, db)?;
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let health = tokio::spawn(health_watch(addr, Arc::clone(&stop)));
    let idle_rss = server.rss_mib().unwrap_or(f64::NAN);
    server.reset_peak();
    let tally = Arc::new(FloodTally::default());
    let created = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let clients: Vec<_> = (0..config.flood_connections)
        .map(|n| {
            tokio::spawn(flood_connection(
                addr,
                n,
                Arc::clone(&stop),
                Arc::clone(&tally),
                Arc::clone(&created),
            ))
        })
        .collect();
    let mut samples = Vec::new();
    while started.elapsed() < config.flood {
        tokio::time::sleep(Duration::from_millis(250)).await;
        samples.push(server.rss_mib().unwrap_or(f64::NAN));
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.await;
    }
    let elapsed = started.elapsed();
    let peak = server.peak_rss_mib().unwrap_or(f64::NAN);
    let (health_ok, health_failed, health_slowest) = health.await??;
    server.stop()?;

    // Every acknowledged create, in the database as the server left it.
    let connection =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement = connection.prepare("SELECT id FROM activities")?;
    let stored: HashSet<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let created = created.lock().unwrap_or_else(|p| p.into_inner());
    let missing = created.iter().filter(|id| !stored.contains(*id)).count();
    let counts: HashMap<&str, u64> = HashMap::from([
        ("created", tally.created.load(Ordering::Relaxed)),
        ("queue_full", tally.queue_full.load(Ordering::Relaxed)),
        ("turned_away", tally.turned_away.load(Ordering::Relaxed)),
        ("broken", tally.broken.load(Ordering::Relaxed)),
        ("other", tally.other.load(Ordering::Relaxed)),
    ]);
    println!();
    println!(
        "## Flood: {} connections creating for {:.0} s (default --max-connections and --store-queue)",
        config.flood_connections,
        elapsed.as_secs_f64()
    );
    println!();
    println!("| 2xx | creates/s | 503 queue full | 503 connections full | broken connections | RSS idle | RSS max sampled | peak RSS (VmHWM) | /health ok / failed | slowest /health |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {:.0} | {} | {} | {} | {idle_rss:.1} MiB | {:.1} MiB | {peak:.1} MiB | {health_ok} / {health_failed} | {:.0} ms |",
        counts["created"],
        counts["created"] as f64 / elapsed.as_secs_f64(),
        counts["queue_full"],
        counts["turned_away"],
        counts["broken"],
        samples.iter().copied().fold(f64::NAN, f64::max),
        health_slowest.as_secs_f64() * 1000.0,
    );
    println!();
    println!(
        "stored activities {}, acknowledged creates missing {missing}, other answers {}",
        stored.len(),
        counts["other"]
    );
    verdicts.check(
        format!(
            "flood: every 2xx create is in the database ({} of {})",
            created.len() - missing,
            created.len()
        ),
        missing == 0 && !created.is_empty(),
    );
    verdicts.check(
        format!(
            "flood: /health answered throughout ({health_ok} answered, {health_failed} failed)"
        ),
        health_failed == 0 && health_ok > 0,
    );
    verdicts.check(
        format!("flood: peak RSS stays under 256 MiB ({peak:.1} MiB)"),
        peak < 256.0,
    );
    verdicts.check(
        "flood: the server pushed back (503 with Retry-After) instead of queueing without limit",
        counts["queue_full"] + counts["turned_away"] > 0
            || config.flood_connections <= mockcrm::DEFAULT_MAX_CONNECTIONS,
    );
    Ok(())
}
