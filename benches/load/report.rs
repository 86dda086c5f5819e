//! The results table, the ratios and one PASS/FAIL line per target.

use super::*;

pub(crate) fn table_header() -> String {
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
pub(crate) fn table_row(size: usize, phase: &Phase) -> String {
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

pub(crate) fn report(config: &Config, runs: &[SizeRun], peers: &[SizeRun], compose_rate: f64) {
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
    for run in runs {
        let cpu = |endpoint| run.phase(endpoint).map(|phase| phase.cpu_us_per_request);
        if let (Some(native), Some(face)) = (cpu(Endpoint::Create), cpu(Endpoint::FaceCreate)) {
            let ratio = face / native;
            println!(
                "CPU per create through a face ÷ native at {}: {ratio:.2} ({face:.0} ÷ {native:.0} µs)",
                run.size
            );
            verdicts.push((
                ratio <= TARGET_FACE_OVER_NATIVE,
                format!(
                    "face create ≤ {:.0}% more CPU than native at {}: {:+.0}%",
                    (TARGET_FACE_OVER_NATIVE - 1.0) * 100.0,
                    run.size,
                    (ratio - 1.0) * 100.0
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
