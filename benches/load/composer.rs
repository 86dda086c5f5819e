//! The composer's own figures: bodies per second on one core, and an update
//! on hostile bodies (the shape that used to make the parser quadratic).

use super::*;

/// Bodies the composer writes per second on this thread, cycling through
/// every fixture in every format.
pub(crate) fn composer_bodies_per_second(seconds: f64) -> BenchResult<f64> {
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
pub(crate) fn composer_on_hostile_bodies() -> BenchResult<String> {
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
