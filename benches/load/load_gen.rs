//! The load generator: keep-alive connections against one endpoint for a
//! fixed time, each request built as a connector would send it.

use super::*;

pub(crate) struct Load {
    pub(crate) addr: SocketAddr,
    pub(crate) endpoint: Endpoint,
    pub(crate) stored: Arc<Stored>,
    /// Keeps session ids and idempotency keys unique across sizes and phases.
    pub(crate) run_tag: String,
}

/// One connection's tally.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) latencies_us: Vec<u32>,
    pub(crate) errors: u64,
}

/// Runs `config.connections` keep-alive connections against one endpoint
/// for `duration` and gathers every request's latency.
pub(crate) fn drive(load: &Load, config: &Config, duration: Duration) -> BenchResult<Phase> {
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

pub(crate) async fn connection_loop(
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
pub(crate) fn create_body(new: &NewActivity) -> serde_json::Value {
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

pub(crate) fn build_request(
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
        Endpoint::FaceCreate => {
            // The call the native create logs, as an Insightly event: no
            // idempotency key (Insightly has none), the contact linked by
            // a second request in App Connect's connector, not timed here.
            let new = new_activity(rng, session_id(tag, n));
            let start = new.received_at.clone().unwrap_or_default();
            let body = json!({
                "TITLE": new.subject,
                "DETAILS": new.body,
                "START_DATE_UTC": start,
                "END_DATE_UTC": start,
                "ALL_DAY": false,
            });
            builder
                .method(Method::POST)
                .uri("/insightly/v3.1/events")
                .header("authorization", AUTH)
                .header("content-type", "application/json")
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
