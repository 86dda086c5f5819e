//! The `mockcrm` binary as a user and a CI job run it (SPEC §2).

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
#[derive(Clone, Copy, PartialEq)]
enum RunAs {
    Me,
    Nobody,
    /// Root, and `nobody` cannot run it here: permissions cannot be tested.
    RootOnly,
}

impl RunAs {
    fn detect(dir: &Path) -> RunAs {
        use std::os::unix::fs::MetadataExt;
        // std has no geteuid: a new file is owned by the effective user.
        let probe = dir.join(".whoami");
        std::fs::write(&probe, b"").expect("write probe");
        let root = std::fs::metadata(&probe).expect("probe metadata").uid() == 0;
        std::fs::remove_file(&probe).expect("remove probe");
        if !root {
            return RunAs::Me;
        }
        let missing = dir.join("missing-probe").join("crm.db");
        let probe = RunAs::Nobody.run(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            &missing.display().to_string(),
        ]);
        match probe {
            Some(output) if String::from_utf8_lossy(&output.stderr).contains("does not exist") => {
                RunAs::Nobody
            }
            _ => RunAs::RootOnly,
        }
    }

    /// `None` when the binary cannot even be started.
    fn run(self, args: &[&str]) -> Option<Output> {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(BIN);
        command.args(args);
        if self == RunAs::Nobody {
            command.uid(65534).gid(65534);
        }
        command.output().ok()
    }
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A database mockcrm made, closed again.
fn make_database(path: &Path) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let server = mockcrm::Server::start(mockcrm::ServerConfig {
            location: mockcrm::Location::File(path.to_owned()),
            ..mockcrm::ServerConfig::ephemeral()
        })
        .await
        .expect("database created");
        server.shutdown().await;
    });
}

/// A read-only database file, and a read-only directory with and without
/// the database in it.
fn read_only_cases(dir: &Path, writable: &Path, serve: &dyn Fn(&Path) -> Output) {
    let read_only = writable.join("read-only.db");
    make_database(&read_only);
    chmod(&read_only, 0o444);
    assert_one_line_failure(
        &serve(&read_only),
        "read-only.db is read-only; make it writable",
    );

    let read_only_dir = dir.join("ro");
    std::fs::create_dir(&read_only_dir).expect("mkdir");
    make_database(&read_only_dir.join("existing.db"));
    chmod(&read_only_dir.join("existing.db"), 0o666);
    chmod(&read_only_dir, 0o555);
    for name in ["new.db", "existing.db"] {
        let output = serve(&read_only_dir.join(name));
        assert_one_line_failure(&output, "is read-only, and mockcrm keeps");
    }
    chmod(&read_only_dir, 0o755);
}

#[test]
fn serve_refuses_unusable_databases_with_one_line_saying_what_to_do() {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path();
    chmod(dir, 0o755);
    let run_as = RunAs::detect(dir);
    let serve = |db: &Path| {
        let db = db.display().to_string();
        run_as
            .run(&["serve", "--addr", "127.0.0.1:0", "--db", &db])
            .expect("mockcrm runs")
    };
    let writable = dir.join("rw");
    std::fs::create_dir(&writable).expect("mkdir");
    chmod(&writable, 0o777);

    let not_sqlite = writable.join("notes.db");
    std::fs::write(
        &not_sqlite,
        "not the tables you are looking for".repeat(200),
    )
    .expect("write");
    assert_one_line_failure(&serve(&not_sqlite), "is not a mockcrm database");

    // Someone else's SQLite database: refused, and left exactly as it was.
    let foreign = writable.join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .and_then(|conn| {
            conn.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")
        })
        .expect("foreign database");
    let before = std::fs::read(&foreign).expect("read");
    assert_one_line_failure(&serve(&foreign), "is a SQLite database but not mockcrm's");
    assert_eq!(std::fs::read(&foreign).expect("read"), before, "untouched");

    let damaged = writable.join("damaged.db");
    make_database(&damaged);
    let mut bytes = std::fs::read(&damaged).expect("read");
    bytes[100..2100].fill(0xA5);
    std::fs::write(&damaged, bytes).expect("write");
    assert_one_line_failure(&serve(&damaged), "is damaged");

    if run_as == RunAs::RootOnly {
        eprintln!("read-only cases skipped: running as root, and nobody cannot run {BIN} here");
    } else {
        read_only_cases(dir, &writable, &serve);
    }

    assert_one_line_failure(
        &serve(&dir.join("missing").join("crm.db")),
        "does not exist; create it",
    );
    assert_one_line_failure(&serve(&writable), "is a directory");
    assert_one_line_failure(&serve(Path::new("")), "--db: is empty");

    let held = writable.join("held.db");
    let held_name = held.display().to_string();
    let _served = Served::start(&["--addr", "127.0.0.1:0", "--db", &held_name]);
    assert_one_line_failure(&serve(&held), "is in use by another mockcrm");
}

#[test]
fn every_command_has_help() {
    for command in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["compose", "--help"],
        vec!["log", "--help"],
        vec!["faults", "--help"],
        vec!["requests", "--help"],
        vec!["checks", "--help"],
        vec!["tenant", "--help"],
        vec!["tenant", "new", "--help"],
        vec!["tenant", "list", "--help"],
        vec!["tenant", "delete", "--help"],
    ] {
        let output = mockcrm(&command);
        assert!(output.status.success(), "{command:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"));
    }
}

#[test]
fn a_ci_job_injects_faults_logs_and_checks() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let server = served.url.as_str();
    let added = mockcrm(&[
        "fault",
        "--server",
        server,
        "--path",
        "/activity",
        "--status",
        "503",
        "--times",
        "2",
        "--after-commit",
    ]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let fault: Value = serde_json::from_slice(&added.stdout).expect("fault JSON");
    assert_eq!(fault["times"], 2);

    let path = fixture_path("create-call-log/inbound-answered.json");
    let logged = mockcrm(&["log", "--server", server, &path]);
    assert!(
        logged.status.success(),
        "{}",
        String::from_utf8_lossy(&logged.stdout)
    );

    let table = mockcrm(&["requests", "--server", server]);
    assert!(table.status.success());
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    let posts = table
        .lines()
        .filter(|line| line.contains("POST") && line.contains("/activity"))
        .count();
    assert_eq!(posts, 3, "two faulted attempts and one replay:\n{table}");

    let json = mockcrm(&["requests", "--server", server, "--json", "--limit", "1"]);
    let entries: Value = serde_json::from_slice(&json.stdout).expect("journal JSON");
    assert_eq!(entries["items"].as_array().map(Vec::len), Some(1));

    let clean = mockcrm(&["checks", "--server", server]);
    assert_eq!(clean.status.code(), Some(0));
    assert!(clean.stdout.is_empty());

    // A second, key-less write for the same session is what checks catch.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{server}/activity"))
            .bearer_auth(crate::support::DEV_KEY)
            .json(&serde_json::json!({"subject": "again", "type": "PhoneCommunication", "body": "again", "session_id": "4503991101"}))
            .send()
            .await
            .expect("sent")
    });
    let dirty = mockcrm(&["checks", "--server", server]);
    assert_eq!(dirty.status.code(), Some(1));
    let lines = String::from_utf8_lossy(&dirty.stdout).into_owned();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(
        lines.starts_with("duplicate_session organisation=Acme session_id=4503991101"),
        "{lines}"
    );

    let reset = mockcrm(&["reset", "--server", server]);
    assert!(reset.status.success());
    assert_eq!(
        mockcrm(&["checks", "--server", server]).status.code(),
        Some(0)
    );

    assert_one_line_failure(
        &mockcrm(&["checks", "--server", server, "--admin-key", "nope"]),
        "admin key",
    );
    assert_one_line_failure(
        &mockcrm(&[
            "fault",
            "--server",
            server,
            "--path",
            "/activity",
            "--status",
            "200",
        ]),
        "--status",
    );
}

#[test]
fn a_ci_job_lists_and_removes_faults_and_filters_and_clears_the_journal() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let server = served.url.as_str();
    let add = |args: &[&str]| -> String {
        let mut all = vec!["fault", "--server", server];
        all.extend_from_slice(args);
        let added = mockcrm(&all);
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
        let fault: Value = serde_json::from_slice(&added.stdout).expect("fault JSON");
        fault["id"].as_str().expect("fault id").to_owned()
    };
    let failing = add(&["--path", "/me", "--status", "500", "--times", "5"]);
    let slow = add(&["--method", "GET", "--path", "/contact*", "--delay-ms", "1"]);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let status = rt.block_on(async {
        let client = reqwest::Client::new();
        for path in ["/health", "/activity"] {
            client
                .get(format!("{server}{path}"))
                .bearer_auth(crate::support::DEV_KEY)
                .send()
                .await
                .expect("sent");
        }
        client
            .get(format!("{server}/me"))
            .bearer_auth(crate::support::DEV_KEY)
            .send()
            .await
            .expect("sent")
            .status()
    });
    assert_eq!(status.as_u16(), 500, "the fault fired");

    let table = mockcrm(&["faults", "--server", server]);
    assert!(table.status.success());
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    let row = |id: &str| -> Vec<String> {
        table
            .lines()
            .find(|line| line.starts_with(id))
            .unwrap_or_else(|| panic!("no row for {id}:\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        row(&failing).last().map(String::as_str),
        Some("1"),
        "fired once:\n{table}"
    );
    assert_eq!(row(&slow)[1..3], ["GET", "/contact*"], "{table}");
    assert_eq!(row(&slow).last().map(String::as_str), Some("0"), "{table}");

    let listed = |server: &str| -> Vec<String> {
        let json = mockcrm(&["faults", "--server", server, "--json"]);
        let faults: Value = serde_json::from_slice(&json.stdout).expect("faults JSON");
        faults["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|fault| fault["id"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(listed(server), [failing.clone(), slow.clone()]);
    assert!(
        mockcrm(&["faults", "--server", server, "--delete", &failing])
            .status
            .success()
    );
    assert_eq!(listed(server), [slow]);
    assert_one_line_failure(
        &mockcrm(&["faults", "--server", server, "--delete", &failing]),
        "no fault with id",
    );
    assert!(mockcrm(&["faults", "--server", server, "--clear"])
        .status
        .success());
    assert!(listed(server).is_empty());

    let filtered = mockcrm(&[
        "requests", "--server", server, "--json", "--method", "GET", "--path", "/me",
    ]);
    let filtered: Value = serde_json::from_slice(&filtered.stdout).expect("journal JSON");
    let items = filtered["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{filtered}");
    assert_eq!(items[0]["status"], 500);
    assert!(mockcrm(&["requests", "--server", server, "--clear"])
        .status
        .success());
    let emptied = mockcrm(&["requests", "--server", server, "--json"]);
    let emptied: Value = serde_json::from_slice(&emptied.stdout).expect("journal JSON");
    assert_eq!(emptied["items"], serde_json::json!([]));
}

#[test]
fn log_then_update_then_the_activity_shows_the_new_body() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let server = served.url.as_str();
    let created = fixture_path("create-call-log/outbound-recording-pending.json");
    let logged = mockcrm(&[
        "log",
        "--server",
        server,
        "--format",
        "text/markdown",
        &created,
    ]);
    assert!(logged.status.success());
    let log_id = serde_json::from_slice::<Value>(&logged.stdout).expect("json")["logId"]
        .as_str()
        .expect("logId")
        .to_owned();
    let before = get_json(&format!("{server}/activity/{log_id}"));
    assert!(before["body"]
        .as_str()
        .is_some_and(|b| b.contains("(pending...)")));

    let final_values = fixture_path("update/outbound-recording-ready.json");
    let updated = mockcrm(&[
        "update",
        "--server",
        server,
        "--log-id",
        &log_id,
        &final_values,
    ]);
    assert!(
        updated.status.success(),
        "{}",
        String::from_utf8_lossy(&updated.stdout)
    );
    let output: Value = serde_json::from_slice(&updated.stdout).expect("json");
    assert_eq!(output["returnMessage"]["messageType"], "success");
    assert!(output["updatedNote"]
        .as_str()
        .is_some_and(|n| n.ends_with("Update: quote sent.")));

    let after = get_json(&format!("{server}/activity/{log_id}"));
    let body = after["body"].as_str().expect("body");
    assert!(
        body.contains("https://media.example.com/rec/2315419004"),
        "{body}"
    );
    assert!(!body.contains("(pending...)"), "{body}");
    assert!(body.contains("12 minutes, 34 seconds"), "{body}");
    assert_eq!(after["duration"], 754);
    assert!(after["updated_at"].as_str() > before["updated_at"].as_str());

    let read = mockcrm(&["get", "--server", server, "--log-id", &log_id]);
    assert!(read.status.success());
    let info: Value = serde_json::from_slice(&read.stdout).expect("json");
    assert_eq!(info["callLogInfo"]["fullBody"], body);
    assert!(info["callLogInfo"]["note"]
        .as_str()
        .is_some_and(|n| n.ends_with("Update: quote sent.")));

    // The update wrote what `compose` (core, the default) writes on top of
    // the stored body.
    let mut request: Value =
        serde_json::from_str(&std::fs::read_to_string(&final_values).expect("fixture"))
            .expect("fixture JSON");
    request["existingBody"] = before["body"].clone();
    let composed = mockcrm_with_stdin(
        &["compose", "--format", "text/markdown"],
        &request.to_string(),
    );
    assert_eq!(String::from_utf8_lossy(&composed.stdout), body);

    // In the clean style a repeated update changes nothing.
    let clean_update = || {
        let output = mockcrm(&[
            "update",
            "--server",
            server,
            "--update-style",
            "clean",
            "--log-id",
            &log_id,
            &final_values,
        ]);
        assert!(output.status.success());
        get_json(&format!("{server}/activity/{log_id}"))["body"].clone()
    };
    let once = clean_update();
    assert_eq!(clean_update(), once);

    let missing = mockcrm(&[
        "update",
        "--server",
        server,
        "--log-id",
        "act_nope",
        &final_values,
    ]);
    assert_eq!(missing.status.code(), Some(1));
}

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

#[test]
fn serve_names_the_base_url_of_every_proxy_config_at_start() {
    let minimal = fixture_path("proxy-configs/minimal.json");
    let redtail = fixture_path("proxy-configs/redtail-like.json");
    let (served, mut stderr) = serve_reading_stderr(
        &[
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--proxy-config",
            &minimal,
        ],
        &[(
            "MOCKCRM_PROXY_CONFIG",
            "ignored-when-the-flag-is-given.json",
        )],
    );
    let line = startup_line(&mut stderr, "minimal.json");
    assert!(
        line.contains(&format!("baseUrl {}/v1 serves getUserInfo, findContact, createCallLog, getCallLog, updateCallLog", served.url)),
        "{line}"
    );
    drop(served);
    // The environment takes a comma-separated list.
    let (served, mut stderr) = serve_reading_stderr(
        &["--addr", "127.0.0.1:0", "--db", ":memory:"],
        &[("MOCKCRM_PROXY_CONFIG", &format!("{minimal},{redtail}"))],
    );
    startup_line(&mut stderr, "minimal.json");
    let line = startup_line(&mut stderr, "redtail-like.json");
    assert!(
        line.contains(&format!("baseUrl {}/api/public/v1 serves", served.url)),
        "{line}"
    );
    let search = format!(
        "{}/api/public/v1/contacts/search?phone_number=4155550199",
        served.url
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let status = rt.block_on(async {
        reqwest::Client::new()
            .get(&search)
            .header("authorization", "Userkeyauth bW9ja2NybS1kZXYta2V5Og==")
            .send()
            .await
            .expect("sent")
            .status()
    });
    assert_eq!(status, 200, "the env's second config is served");
    served.terminate();
}

#[test]
fn a_proxy_config_mockcrm_cannot_serve_stops_serve_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.display().to_string()
    };
    let minimal = fixture_path("proxy-configs/minimal.json");
    let cases = [
        (
            write("broken.json", "{\"operations\": "),
            "broken.json: not JSON",
        ),
        (
            write(
                "no-url.json",
                r#"{"operations": {"createCallLog": {"method": "POST"}}}"#,
            ),
            "no-url.json: operations.createCallLog.url: missing",
        ),
        (
            write(
                "open.json",
                r#"{"operations": {"getCallLog": {"url": "/a/{{thirdPartyLogId"}}}"#,
            ),
            "open.json: operations.getCallLog.url: template \"/a/{{thirdPartyLogId\" never closes",
        ),
        (
            write(
                "jsonpath.json",
                r#"{"operations": {"createCallLog": {"url": "/a", "responseMapping": {"idPath": "$.body.id"}}}}"#,
            ),
            "jsonpath.json: operations.createCallLog.responseMapping.idPath",
        ),
        (
            write(
                "same-base.json",
                &std::fs::read_to_string(&minimal).expect("fixture"),
            ),
            "same-base.json: requestDefaults.baseUrl: base path /v1 is already claimed by",
        ),
        (
            dir.path().join("missing.json").display().to_string(),
            "missing.json",
        ),
    ];
    for (path, mentions) in cases {
        let output = mockcrm(&[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--proxy-config",
            &minimal,
            "--proxy-config",
            &path,
        ]);
        assert_one_line_failure(&output, mentions);
        assert!(
            output.stdout.is_empty(),
            "nothing listened: {:?}",
            output.stdout
        );
    }
}

/// The README's worked example: serve a config, point the engine at the
/// printed base URL, log, update and read a call, then look at the journal
/// and the checks.
#[test]
fn log_update_and_get_speak_a_served_proxy_config() {
    let config = fixture_path("proxy-configs/redtail-like.json");
    let served = Served::start(&[
        "--addr",
        "127.0.0.1:0",
        "--db",
        ":memory:",
        "--proxy-config",
        &config,
    ]);
    let server = served.url.as_str();
    let created = fixture_path("create-call-log/outbound-recording-pending.json");
    let logged = mockcrm(&[
        "log",
        "--server",
        server,
        "--proxy-config",
        &config,
        &created,
    ]);
    assert_eq!(
        logged.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&logged.stdout)
    );
    let output: Value = serde_json::from_slice(&logged.stdout).expect("json");
    assert_eq!(output["returnMessage"]["message"], "Call logged");
    let log_id = output["logId"].as_str().expect("logId").to_owned();
    let stored = get_json(&format!("{server}/activity/{log_id}"));
    assert_eq!(
        stored["body_format"], "text/html",
        "composed in meta.logFormat"
    );
    assert!(stored["body"]
        .as_str()
        .is_some_and(|b| b.starts_with("<b>Agent notes</b>")));

    let ready = fixture_path("update/outbound-recording-ready.json");
    let updated = mockcrm(&[
        "update",
        "--server",
        server,
        "--proxy-config",
        &config,
        "--log-id",
        &log_id,
        &ready,
    ]);
    assert_eq!(
        updated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&updated.stdout)
    );
    let read = mockcrm(&[
        "get",
        "--server",
        server,
        "--proxy-config",
        &config,
        "--log-id",
        &log_id,
    ]);
    assert_eq!(read.status.code(), Some(0));
    let info: Value = serde_json::from_slice(&read.stdout).expect("json");
    assert!(
        info["callLogInfo"]["note"]
            .as_str()
            .is_some_and(|n| n.ends_with("Update: quote sent.")),
        "{info}"
    );
    assert_eq!(
        info["callLogInfo"]["fullBody"],
        get_json(&format!("{server}/activity/{log_id}"))["body"]
    );

    let journal = mockcrm(&["requests", "--server", server]);
    let table = String::from_utf8_lossy(&journal.stdout);
    assert!(
        table.contains("POST    /api/public/v1/activities"),
        "{table}"
    );
    assert!(
        table.contains(&format!("PUT     /api/public/v1/activities/{log_id}")),
        "{table}"
    );
    let checks = mockcrm(&["checks", "--server", server]);
    assert_eq!(
        checks.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&checks.stdout)
    );

    // Bad use is one line; a CRM that is not there is a warning and exit 1.
    let with_format = mockcrm(&[
        "log",
        "--server",
        server,
        "--proxy-config",
        &config,
        "--format",
        "text/plain",
        &created,
    ]);
    assert_one_line_failure(&with_format, "--format");
    let bad = mockcrm(&[
        "log",
        "--proxy-config",
        "/nonexistent/config.json",
        &created,
    ]);
    assert_one_line_failure(&bad, "/nonexistent/config.json");
    drop(served);
    let nothing = mockcrm(&[
        "log",
        "--server",
        "http://127.0.0.1:9",
        "--proxy-config",
        &config,
        &created,
    ]);
    assert_eq!(nothing.status.code(), Some(1));
    let output: Value = serde_json::from_slice(&nothing.stdout).expect("json");
    assert_eq!(output["returnMessage"]["messageType"], "warning");
    assert!(output.get("logId").is_none(), "{output}");
}

#[test]
fn an_operation_mockcrm_cannot_serve_is_a_warning_and_the_rest_are_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("partly.json");
    std::fs::write(
        &path,
        r#"{"meta": {"logFormat": "text/plain"}, "auth": {"type": "apiKey"}, "operations": {
            "getCallLog": {"url": "https://{{user.hostname}}/api/logs/{{thirdPartyLogId}}"},
            "createCallLog": {"method": "POST", "url": "/logs", "responseMapping": {"idPath": "body.id"}}}}"#,
    )
    .expect("written");
    let path = path.display().to_string();
    let (served, mut stderr) = serve_reading_stderr(
        &[
            "--addr",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--proxy-config",
            &path,
        ],
        &[],
    );
    let warning = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("stderr") > 0,
            "no warning"
        );
        if line.contains("WARN") && line.contains("operations.createCallLog") {
            break line;
        }
    };
    assert!(warning.contains("not served"), "{warning}");
    let line = startup_line(&mut stderr, "partly.json");
    assert!(
        line.contains("(getCallLog)") && !line.contains("createCallLog"),
        "{line}"
    );
    served.terminate();
}
