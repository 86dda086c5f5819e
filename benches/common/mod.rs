//! What the load and tenants benchmarks share: their error type, reading
//! a knob from the environment, starting `mockcrm serve` and waiting for
//! its ready line, and the machine's load average to print beside figures.
//! (A folder, not `benches/common.rs`, so cargo does not take it for a
//! benchmark of its own.)

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub type BenchResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// `name` from the environment, parsed; `default` when it is not set.
pub fn env_parse<T: std::str::FromStr>(name: &str, default: T) -> BenchResult<T> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name}={text:?} is not valid").into()),
        Err(_) => Ok(default),
    }
}

/// Starts `bin serve` on a free loopback port and file `db`, and returns
/// once its ready line names the address.
pub fn spawn_serve(
    bin: &Path,
    db: &Path,
    extra_args: &[String],
    rust_log: &str,
) -> BenchResult<(Child, SocketAddr)> {
    let mut child = Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(db)
        .args(extra_args)
        .env("RUST_LOG", rust_log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout from the server")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line
        .trim()
        .strip_prefix("mockcrm listening on http://")
        .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?;
    Ok((child, url.parse()?))
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` gives them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}
