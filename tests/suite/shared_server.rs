//! Two CI jobs on one `mockcrm serve` (issue #14), through the binary as
//! README.md's CI snippet runs it: each job `eval`s `mockcrm tenant new`,
//! injects faults and logs calls at the same time as the other, and its
//! `mockcrm checks` (and `--junit` report, read back with an XML parser),
//! `requests` and `faults` see its own world only. And a server on a
//! non-loopback address refuses the default admin key.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use crate::cli::{assert_one_line_failure, fixture_path, mockcrm_in_env, Served, BIN};
use serde_json::{json, Value};

/// One job's environment, as `eval "$(mockcrm tenant new)"` leaves it.
struct Job {
    vars: BTreeMap<String, String>,
}

impl Job {
    fn new(server: &str, name: &str) -> Job {
        let created = mockcrm_in_env(
            &["tenant", "new", "--name", name],
            "",
            &[("MOCKCRM_SERVER", server)],
        );
        assert!(created.status.success(), "{}", stderr(&created));
        let mut vars = BTreeMap::from([("MOCKCRM_SERVER".to_owned(), server.to_owned())]);
        for line in String::from_utf8_lossy(&created.stdout).lines() {
            let (name, value) = line
                .strip_prefix("export ")
                .and_then(|rest| rest.split_once('='))
                .unwrap_or_else(|| panic!("not an export line: {line:?}"));
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or_else(|| panic!("not one quoted word: {value:?}"));
            vars.insert(name.to_owned(), value.to_owned());
        }
        assert!(vars["MOCKCRM_ORG"].starts_with("org_"), "{vars:?}");
        assert!(vars.contains_key("MOCKCRM_API_KEY"), "{vars:?}");
        Job { vars }
    }

    fn org(&self) -> &str {
        &self.vars["MOCKCRM_ORG"]
    }

    fn run(&self, args: &[&str]) -> Output {
        let vars: Vec<(&str, &str)> = self
            .vars
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        mockcrm_in_env(args, "", &vars)
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).expect("JSON")
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// What one job does: a connection-level fault of its own on its creates,
/// then calls logged through the reference connector (which retries past
/// the fault), and, for the careless job, a second key-less write of a
/// session already logged.
fn run_suite(job: &Job, careless: bool) {
    let added = job.json(&[
        "fault",
        "--method",
        "POST",
        "--path",
        "/activity",
        "--kind",
        "reset",
        "--times",
        "2",
    ]);
    assert_eq!(added["org"], job.org(), "scoped by MOCKCRM_ORG");
    for fixture in ["inbound-answered.json", "missed.json", "voicemail.json"] {
        let logged = job.run(&["log", &fixture_path(&format!("create-call-log/{fixture}"))]);
        assert!(
            logged.status.success(),
            "{fixture}: {}",
            String::from_utf8_lossy(&logged.stdout)
        );
    }
    if careless {
        let server = &job.vars["MOCKCRM_SERVER"];
        let key = &job.vars["MOCKCRM_API_KEY"];
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let status = rt.block_on(async {
            reqwest::Client::new()
                .post(format!("{server}/activity"))
                .bearer_auth(key)
                .json(&json!({"subject": "again", "type": "PhoneCommunication",
                              "body": "again", "session_id": "4503991102"}))
                .send()
                .await
                .expect("sent")
                .status()
        });
        assert_eq!(status.as_u16(), 201);
    }
}

#[test]
fn two_ci_jobs_share_a_server_and_each_sees_only_its_own_world() {
    let served = Served::start(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    let careful = Job::new(&served.url, "careful");
    // A name with markup in it: the JUnit report must still parse.
    let careless = Job::new(&served.url, "careless <job> & \"co\"");
    std::thread::scope(|jobs| {
        jobs.spawn(|| run_suite(&careful, false));
        jobs.spawn(|| run_suite(&careless, true));
    });

    let dir = tempfile::tempdir().expect("tempdir");
    for (job, violations) in [(&careful, 0), (&careless, 1)] {
        let report = dir.path().join(format!("{}.xml", job.org()));
        let report_path = report.display().to_string();
        let checked = job.run(&["checks", "--junit", &report_path]);
        assert_eq!(checked.status.code(), Some(i32::from(violations > 0)));
        let lines = String::from_utf8_lossy(&checked.stdout).into_owned();
        assert_eq!(lines.lines().count(), violations, "{lines}");
        assert!(lines
            .lines()
            .all(|line| line.ends_with(&format!("org={}", job.org()))));

        let xml = std::fs::read_to_string(&report).expect("report written");
        let document = roxmltree::Document::parse(&xml).expect("well-formed XML");
        let suite = document
            .descendants()
            .find(|node| node.has_tag_name("testsuite"))
            .expect("a testsuite");
        assert_eq!(suite.attribute("tests"), Some("5"), "one per check");
        assert_eq!(
            suite.attribute("failures"),
            Some(violations.to_string().as_str())
        );
        let cases: Vec<(&str, Option<String>)> = suite
            .children()
            .filter(|node| node.has_tag_name("testcase"))
            .map(|case| {
                let failure = case
                    .children()
                    .find(|node| node.has_tag_name("failure"))
                    .map(|failure| failure.text().unwrap_or_default().to_owned());
                (case.attribute("name").unwrap_or_default(), failure)
            })
            .collect();
        let names: Vec<&str> = cases.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "duplicate_session",
                "empty_body",
                "duplicate_message",
                "split_conversation",
                "unknown_fields"
            ]
        );
        assert!(cases[1..].iter().all(|(_, failure)| failure.is_none()));
        match &cases[0].1 {
            None => assert_eq!(violations, 0),
            Some(text) => {
                assert!(
                    text.contains("organisation=careless <job> & \"co\" session_id=4503991102"),
                    "unescaped back as written: {text}"
                );
                assert!(text.ends_with(&format!("org={}", job.org())), "{text}");
            }
        }

        // The journal: its own requests only, the reset ones among them.
        let journal = job.json(&["requests", "--json", "--limit", "1000"]);
        let items = journal["items"].as_array().expect("items");
        assert!(
            items.iter().all(|entry| entry["org"] == job.org()),
            "{journal}"
        );
        let resets = items.iter().filter(|entry| entry["status"] == 0).count();
        assert_eq!(resets, 2, "both reset attempts were retried");
        let faults = job.json(&["faults", "--json"]);
        let faults = faults["items"].as_array().expect("items");
        assert_eq!(faults.len(), 1);
        assert_eq!(
            (&faults[0]["org"], &faults[0]["fired"]),
            (&json!(job.org()), &json!(2))
        );
    }

    // The jobs clean up after themselves; the server's own organisation stays.
    let listed = careful.json(&["tenant", "list", "--json"]);
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(3),
        "{listed}"
    );
    let table = careful.run(&["tenant", "list"]);
    assert_eq!(String::from_utf8_lossy(&table.stdout).lines().count(), 4);
    for job in [&careful, &careless] {
        let deleted = job.run(&["tenant", "delete"]);
        assert!(deleted.status.success(), "{}", stderr(&deleted));
        assert_one_line_failure(&job.run(&["checks"]), "no organisation with id");
    }
    let listed = careful.json(&["tenant", "list", "--json"]);
    assert_eq!(listed["items"][0]["name"], "Acme");
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    served.terminate();
}

/// `serve` on `addr`, stopped once its first line (or its exit) is read;
/// its stdout first line, stderr and exit status.
fn serve_until_ready(args: &[&str]) -> (String, String, std::process::ExitStatus) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .env_remove("MOCKCRM_ADMIN_KEY")
        .env_remove("MOCKCRM_ADDR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mockcrm serve starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("read");
    if !first.is_empty() {
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
    }
    let output = child.wait_with_output().expect("exits");
    (first, stderr(&output), output.status)
}

#[test]
fn beyond_loopback_the_default_admin_key_is_refused_and_published_keys_are_warned_of() {
    let (first, refused, status) = serve_until_ready(&["--addr", "0.0.0.0:0", "--db", ":memory:"]);
    assert_eq!((first.as_str(), status.code()), ("", Some(2)));
    assert_eq!(refused.trim_end().lines().count(), 1, "{refused}");
    assert!(
        refused.starts_with("mockcrm: error: refusing to listen on 0.0.0.0:0"),
        "{refused}"
    );
    assert!(
        refused.contains("--admin-key or MOCKCRM_ADMIN_KEY"),
        "{refused}"
    );

    let (first, warned, status) = serve_until_ready(&[
        "--addr",
        "0.0.0.0:0",
        "--db",
        ":memory:",
        "--admin-key",
        "a-secret-of-our-own",
    ]);
    assert!(
        first.starts_with("mockcrm listening on http://0.0.0.0:"),
        "{first}"
    );
    assert!(status.success(), "{warned}");
    let warning = warned
        .lines()
        .find(|line| line.contains("WARN"))
        .unwrap_or_else(|| panic!("no warning in {warned}"));
    assert!(warning.contains("mockcrm-dev-key"), "{warning}");
    assert!(warning.contains("mockcrm tenant new"), "{warning}");

    // On loopback, the default key is fine and nothing is warned of.
    let (first, quiet, status) = serve_until_ready(&["--addr", "127.0.0.1:0", "--db", ":memory:"]);
    assert!(
        first.starts_with("mockcrm listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(status.success());
    assert!(!quiet.contains("WARN"), "{quiet}");
}
