//! The server under test, as a child process: start, ready line, CPU and
//! bytes written (from /proc), peak RSS, and a clean stop.

use super::*;

pub(crate) struct Usage {
    pub(crate) cpu_seconds: f64,
    pub(crate) written_bytes: u64,
}

pub(crate) struct ServerProcess {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) ready_ms: f64,
}

impl ServerProcess {
    pub(crate) fn start(
        bin: &Path,
        db: &Path,
        extra_args: &[String],
    ) -> BenchResult<ServerProcess> {
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
    pub(crate) fn start_json_server(bin: &Path, db: &Path) -> BenchResult<ServerProcess> {
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

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `VmHWM`: the most resident memory the process has had since start
    /// or since the last `reset_peak_rss`.
    pub(crate) fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// CPU time so far (`/proc/<pid>/stat` utime + stime, in USER_HZ
    /// ticks of 1/100 s) and bytes sent to storage (`/proc/<pid>/io`
    /// write_bytes: file writes, not socket sends).
    pub(crate) fn usage(&self) -> Usage {
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

    pub(crate) fn reset_peak_rss(&self) {
        // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }

    /// SIGTERM, so the server drains and closes the database as a user's would.
    pub(crate) fn stop(mut self) -> BenchResult<()> {
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
