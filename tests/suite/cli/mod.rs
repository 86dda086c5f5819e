//! The `mockcrm` binary as a user and a CI job run it (SPEC §2).

mod ci_jobs;
mod databases;
mod proxy_configs;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_mockcrm");

/// A `mockcrm serve` child process, stopped with SIGTERM on drop.
pub(crate) struct Served {
    child: Child,
    pub(crate) url: String,
}

impl Served {
    pub(crate) fn start(args: &[&str]) -> Served {
        Served::start_with_env(args, &[])
    }

    fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mockcrm serve starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("ready line");
        let url = first_line
            .trim_end()
            .strip_prefix("mockcrm listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(!url.ends_with(":0"), "the real port is printed: {url}");
        Served { child, url }
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = self.child.wait().expect("child exits");
        std::mem::forget(self);
        exit
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mockcrm(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("MOCKCRM_SERVER")
        .env_remove("MOCKCRM_API_KEY")
        .env_remove("MOCKCRM_ORG")
        .env_remove("MOCKCRM_ADMIN_KEY")
        .env_remove("MOCKCRM_HOST_TZ")
        .env_remove("TZ")
        .output()
        .expect("mockcrm runs")
}

fn mockcrm_with_stdin(args: &[&str], input: &str) -> Output {
    mockcrm_in_env(args, input, &[])
}

/// `mockcrm` with `input` on stdin and only these of the variables it reads
/// about zones, servers and tenants set.
pub(crate) fn mockcrm_in_env(args: &[&str], input: &str, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    for name in [
        "MOCKCRM_SERVER",
        "MOCKCRM_API_KEY",
        "MOCKCRM_ORG",
        "MOCKCRM_ADMIN_KEY",
        "MOCKCRM_HOST_TZ",
        "TZ",
    ] {
        command.env_remove(name);
    }
    command.envs(vars.iter().copied());
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mockcrm runs");
    let written = child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(input.as_bytes());
    // A command that refuses its arguments exits without reading stdin.
    if let Err(error) = written {
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe,
            "stdin: {error}"
        );
    }
    child.wait_with_output().expect("mockcrm exits")
}

pub(crate) fn fixture_path(relative: &str) -> String {
    crate::support::fixtures_dir()
        .join(relative)
        .display()
        .to_string()
}

/// One line on stderr, prefixed, and a failing exit code.
pub(crate) fn assert_one_line_failure(output: &Output, mentions: &str) {
    assert!(!output.status.success(), "expected failure");
    assert_eq!(
        output.status.code(),
        Some(2),
        "exit code 2, not a panic or a signal"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("mockcrm: error: "), "{stderr:?}");
    assert!(
        stderr.contains(mentions),
        "{stderr:?} should mention {mentions:?}"
    );
}

fn get_json(url: &str) -> Value {
    get_json_as(url, crate::support::DEV_KEY)
}

/// `GET url` with `key` as the Bearer token; the answer's JSON.
pub(crate) fn get_json_as(url: &str, key: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(key)
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json")
    })
}

#[test]
fn serve_prints_its_url_answers_and_stops_on_sigterm() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    assert_eq!(
        get_json(&format!("{}/health", served.url)),
        serde_json::json!({"status": "ok"})
    );
    let status = served.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

#[test]
fn log_writes_the_same_body_compose_prints() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    for (fixture, format) in [
        (
            "create-call-log/outbound-recording-pending.json",
            "text/plain",
        ),
        ("create-call-log/transferred-with-legs.json", "text/html"),
        ("create-call-log/unicode-names.json", "text/markdown"),
    ] {
        let path = fixture_path(fixture);
        let logged = mockcrm(&["log", "--server", &served.url, "--format", format, &path]);
        assert!(
            logged.status.success(),
            "{}",
            String::from_utf8_lossy(&logged.stdout)
        );
        let output: Value = serde_json::from_slice(&logged.stdout).expect("log prints JSON");
        let log_id = output["logId"].as_str().expect("logId");
        assert_eq!(output["returnMessage"]["messageType"], "success");

        let composed = mockcrm(&["compose", "--format", format, &path]);
        assert!(composed.status.success());
        let stored = get_json(&format!("{}/activity/{log_id}", served.url));
        assert_eq!(
            stored["body"].as_str().map(str::as_bytes),
            Some(composed.stdout.as_slice()),
            "{fixture}: stored body is byte-equal to `mockcrm compose`"
        );
        assert_eq!(stored["body_format"], format);
    }
}

#[test]
fn log_reads_stdin_and_env_and_prefers_the_api_key_flag() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let input = crate::support::read_fixture("create-call-log/missed.json");
    let output = Command::new(BIN)
        .args(["log", "-"])
        .env("MOCKCRM_SERVER", &served.url)
        .env_remove("MOCKCRM_API_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())?;
            child.wait_with_output()
        })
        .expect("runs");
    assert!(output.status.success());

    let path = fixture_path("create-call-log/missed.json");
    let wrong_key = mockcrm(&["log", "--server", &served.url, "--api-key", "wrong", &path]);
    assert_eq!(wrong_key.status.code(), Some(1), "no logId exits 1");
    let output: Value = serde_json::from_slice(&wrong_key.stdout).expect("JSON even on failure");
    assert!(output.get("logId").is_none());
    assert_eq!(output["returnMessage"]["messageType"], "warning");
}

#[test]
fn log_against_nothing_exits_1_with_a_warning() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let path = fixture_path("create-call-log/voicemail.json");
    let server = format!("http://127.0.0.1:{port}");
    let output = mockcrm(&[
        "log",
        "--server",
        &server,
        "--max-attempts",
        "2",
        "--retry-budget",
        "5",
        &path,
    ]);
    assert_eq!(output.status.code(), Some(1));
    let output: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let message = output["returnMessage"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("mockcrm serve"), "{message}");
    assert!(message.contains("gave up after 2 attempts"), "{message}");
}

/// `https://` is spoken (rustls): against a server that answers in plain
/// HTTP the TLS handshake itself fails, and the message says so instead of
/// asking whether a server runs there.
#[test]
fn an_https_server_url_speaks_tls() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let https = served.url.replacen("http://", "https://", 1);
    let path = fixture_path("create-call-log/voicemail.json");
    let output = mockcrm(&["log", "--server", &https, "--max-attempts", "1", &path]);
    assert_eq!(output.status.code(), Some(1));
    let output: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let message = output["returnMessage"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("without TLS"), "{message}");
    assert!(message.contains("use http://"), "{message}");
    assert!(!message.contains("mockcrm serve"), "{message}");
    let checks = mockcrm(&["checks", "--server", &https]);
    assert_one_line_failure(&checks, "without TLS");
}

#[test]
fn compose_writes_only_the_body() {
    let request = r#"{"format": "text/markdown", "callLog": {"direction": "Inbound", "duration": 61, "result": "Accepted"}, "note": "hi"}"#;
    let output = mockcrm_with_stdin(&["compose"], request);
    assert!(output.status.success());
    let body = String::from_utf8(output.stdout).expect("utf-8");
    assert!(body.starts_with("## Agent notes\nhi\n"), "{body:?}");
    let flag_wins = mockcrm_with_stdin(&["compose", "--format", "text/plain", "-"], request);
    assert!(String::from_utf8_lossy(&flag_wins.stdout).starts_with("- Note: hi\n"));
}

#[test]
fn compose_updates_in_the_core_style_unless_asked_for_clean() {
    // App Connect's core replaces a Markdown block up to the next heading and
    // ends it with a newline of its own: a blank line appears.
    let body = "### AI Note\nold\n### Transcript\nt\n";
    let core = "### AI Note\nnew\n\n### Transcript\nt\n";
    let clean = "### AI Note\nnew\n### Transcript\nt\n";
    let request = |style: Option<&str>| {
        let mut request = serde_json::json!({
            "format": "text/markdown", "callLog": {}, "aiNote": "new", "existingBody": body
        });
        if let Some(style) = style {
            request["update_style"] = Value::from(style);
        }
        request.to_string()
    };
    let composed = |args: &[&str], request: &str| {
        let output = mockcrm_with_stdin(args, request);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    };
    assert_eq!(composed(&["compose"], &request(None)), core);
    assert_eq!(composed(&["compose"], &request(Some("core"))), core);
    assert_eq!(
        composed(&["compose", "--update-style", "clean"], &request(None)),
        clean
    );
    assert_eq!(composed(&["compose"], &request(Some("clean"))), clean);
    // The flag wins over the request, as --format does.
    assert_eq!(
        composed(
            &["compose", "--update-style", "core"],
            &request(Some("clean"))
        ),
        core
    );
    let unknown = mockcrm_with_stdin(&["compose"], &request(Some("tidy")));
    assert_one_line_failure(&unknown, "update_style");
    let bad_flag = mockcrm(&["compose", "--update-style", "tidy", "request.json"]);
    assert!(!bad_flag.status.success());
    assert!(String::from_utf8_lossy(&bad_flag.stderr).contains("core"));
}

#[test]
fn compose_shows_dates_of_users_without_an_offset_in_the_host_zone() {
    let request = r#"{"callLog": {"startTime": "2024-07-04T12:00:00Z"}}"#;
    let with_offset = r#"{"user": {"timezoneOffset": "+05:30"}, "callLog": {"startTime": "2024-07-04T12:00:00Z"}}"#;
    let date = |args: &[&str], request: &str, vars: &[(&str, &str)]| {
        let output = mockcrm_in_env(args, request, vars);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    };
    assert_eq!(
        date(&["compose"], request, &[]),
        "- Date/Time: 2024-07-04 12:00:00 PM\n"
    );
    let chicago = [("TZ", "America/Chicago")];
    assert_eq!(
        date(&["compose"], request, &chicago),
        "- Date/Time: 2024-07-04 07:00:00 AM\n"
    );
    let tokyo = [("TZ", "America/Chicago"), ("MOCKCRM_HOST_TZ", "Asia/Tokyo")];
    assert_eq!(
        date(&["compose"], request, &tokyo),
        "- Date/Time: 2024-07-04 09:00:00 PM\n"
    );
    assert_eq!(
        date(&["compose", "--host-tz", "Europe/Paris"], request, &tokyo),
        "- Date/Time: 2024-07-04 02:00:00 PM\n"
    );
    // The user's own offset wins over the host's zone.
    assert_eq!(
        date(&["compose"], with_offset, &chicago),
        "- Date/Time: 2024-07-04 05:30:00 PM\n"
    );

    let unknown = mockcrm_in_env(&["compose", "--host-tz", "Mars/Olympus"], request, &[]);
    assert_one_line_failure(&unknown, "Mars/Olympus");
    let posix = mockcrm_in_env(&["compose"], request, &[("TZ", "EST5EDT,M3.2.0,M11.1.0")]);
    assert_one_line_failure(&posix, "--host-tz");
    let input = r#"{"contactInfo": {}, "callLog": {"startTime": "2024-07-04T12:00:00Z"}}"#;
    let unknown_log = mockcrm_in_env(&["log", "--host-tz", "Mars/Olympus", "-"], input, &[]);
    assert_one_line_failure(&unknown_log, "Mars/Olympus");
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // `mockcrm get | head`: the reader closes the pipe before the output is
    // written. The command must still exit 0 and never panic.
    let path = fixture_path("create-call-log/transferred-with-legs.json");
    let mut child = Command::new(BIN)
        .args(["compose", &path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mockcrm compose starts");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("compose exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{:?}: {stderr}", output.status);
}

#[test]
fn bad_input_is_one_line_and_non_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"callLog\": ").expect("write");
    let broken = broken.display().to_string();
    assert_one_line_failure(&mockcrm(&["compose", &broken]), "broken.json");
    assert_one_line_failure(&mockcrm(&["log", &broken]), "broken.json");
    assert_one_line_failure(
        &mockcrm(&["compose", "/no/such/file.json"]),
        "/no/such/file.json",
    );
    let wrong_type = mockcrm_with_stdin(&["compose"], r#"{"callLog": {"duration": -5}}"#);
    assert_one_line_failure(&wrong_type, "callLog.duration");
    let bad_start = mockcrm_with_stdin(&["compose"], r#"{"callLog": {"startTime": "soon"}}"#);
    assert_one_line_failure(&bad_start, "startTime");
    let bad_format = mockcrm(&["compose", "--format", "text/rtf", &broken]);
    assert!(!bad_format.status.success());
    assert!(String::from_utf8_lossy(&bad_format.stderr).contains("text/rtf"));
}

#[test]
fn serve_refuses_bad_databases_seeds_and_addresses_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_sqlite = dir.path().join("notes.db");
    std::fs::write(
        &not_sqlite,
        "these are not the tables you are looking for".repeat(100),
    )
    .expect("write");
    let output = mockcrm(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        &not_sqlite.display().to_string(),
    ]);
    assert_one_line_failure(&output, "not a mockcrm database");

    let bad_seed = dir.path().join("seed.json");
    std::fs::write(
        &bad_seed,
        r#"{"organisations": [{"name": "A", "users": [{"id": "u"}]}]}"#,
    )
    .expect("write");
    let output = mockcrm(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--seed",
        &bad_seed.display().to_string(),
    ]);
    assert_one_line_failure(&output, "seed.json");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = mockcrm(&["serve", "--addr", &addr, "--db", ":memory:"]);
    assert_one_line_failure(&output, "--addr");
}

#[test]
fn serve_keeps_data_in_its_file_and_loads_a_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("crm.db").display().to_string();
    let seed = fixture_path("two-organisations.json");
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", &db, "--seed", &seed]);
    let second = mockcrm(&["serve", "--addr", "127.0.0.1:0", "--db", &db]);
    assert_one_line_failure(&second, "in use by another mockcrm");
    let path = fixture_path("create-call-log/inbound-answered.json");
    let logged = mockcrm(&["log", "--server", &served.url, &path]);
    assert!(logged.status.success());
    let log_id = serde_json::from_slice::<Value>(&logged.stdout).expect("json")["logId"]
        .as_str()
        .expect("logId")
        .to_owned();
    assert!(served.terminate().success());
    assert!(Path::new(&db).exists());

    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", &db]);
    let stored = get_json(&format!("{}/activity/{log_id}", served.url));
    assert_eq!(stored["id"], log_id.as_str());
}

#[test]
fn serve_takes_every_setting_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("from-env.db").display().to_string();
    let seed = fixture_path("two-organisations.json");
    let served = Served::start_with_env(
        &[],
        &[
            ("MOCKCRM_ADDR", "127.0.0.1:0"),
            ("MOCKCRM_DB", &db),
            ("MOCKCRM_SEED", &seed),
            ("MOCKCRM_ADMIN_KEY", "env-admin-key"),
            ("MOCKCRM_JOURNAL_SIZE", "2"),
        ],
    );
    // Only the seed file knows Globex's key.
    let me = get_json_as(&format!("{}/me", served.url), "globex-key");
    for _ in 0..3 {
        get_json(&format!("{}/health", served.url));
    }
    let journal = get_json_as(&format!("{}/__admin/requests", served.url), "env-admin-key");
    assert_eq!(me["id"], "globex-user-1", "{me}");
    let items = journal["items"].as_array().expect("journal items");
    assert_eq!(
        items.len(),
        2,
        "MOCKCRM_JOURNAL_SIZE bounds the journal: {journal}"
    );
    assert!(served.terminate().success());
    assert!(Path::new(&db).exists(), "MOCKCRM_DB names the file");
}

/// Who runs `mockcrm` in the database tests. Root ignores file
/// permissions (and CI containers often run as root), so as root it runs
/// as `nobody`, if `nobody` can reach the binary and the test directory.
/// `mockcrm serve` with stderr kept: the child, its URL, and its stderr.
pub(crate) fn serve_reading_stderr(
    args: &[&str],
    env: &[(&str, &str)],
) -> (Served, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env_remove("MOCKCRM_PROXY_CONFIG")
        .env("RUST_LOG", "mockcrm=info")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mockcrm serve starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let stderr = BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut first_line = String::new();
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("ready line");
    let url = first_line
        .trim_end()
        .strip_prefix("mockcrm listening on ")
        .unwrap_or_else(|| panic!("the ready line comes first on stdout: {first_line:?}"))
        .to_owned();
    (Served { child, url }, stderr)
}

/// The start-up line for `file` on stderr (lines before it are skipped).
pub(crate) fn startup_line(
    stderr: &mut BufReader<std::process::ChildStderr>,
    file: &str,
) -> String {
    loop {
        let mut line = String::new();
        let read = stderr.read_line(&mut line).expect("stderr readable");
        assert!(read > 0, "stderr ended before a line about {file}");
        if line.contains("proxy config") && line.contains(file) && line.contains("baseUrl") {
            return line;
        }
    }
}
