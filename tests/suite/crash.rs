//! Crash safety (issue #5, item 3): the real binary, on a file database,
//! under concurrent `POST /activity` load with idempotency keys, is
//! SIGKILLed at a random moment, restarted on the same file, and killed
//! again, several times. After every restart, every request that got a 2xx
//! is there, field for field as it was answered; every stored activity is
//! whole and is exactly one request's; an idempotency key is stored if and
//! only if its activity is; and every acknowledged key replays its answer.
//! A final `PRAGMA integrity_check` looks at the file itself.
//!
//! `CRASH_SEED` replays a run (the seed is printed when the test fails);
//! `CRASH_ROUNDS` sets how many kills (default 5).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_mockcrm");
const KEY: &str = "mockcrm-dev-key";
const WRITERS: usize = 4;

/// A `mockcrm serve` process on `db`, killed on drop.
struct Served {
    child: Child,
    url: String,
    _stdout: BufReader<ChildStdout>,
}

impl Served {
    fn start(db: &Path, log: &Path) -> Served {
        let stderr = File::create(log).expect("log file");
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0", "--db"])
            .arg(db)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("mockcrm serve starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
        let mut line = String::new();
        // The ready line is printed once the database is open and the port
        // bound: no polling, no sleeping.
        let read = stdout.read_line(&mut line).expect("stdout readable");
        let Some(url) = line.trim_end().strip_prefix("mockcrm listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("no ready line ({read} bytes: {line:?}); stderr:\n{log}");
        };
        let url = url.to_owned();
        Served {
            child,
            url,
            _stdout: stdout,
        }
    }

    fn sigkill(mut self) {
        // std's kill is SIGKILL on Unix: no handler, no flush, no cleanup.
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("child reaped");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One create as sent: its key is also its session id, so a stored
/// activity names the request it came from.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    body: Value,
}

#[derive(Debug, Default)]
struct WriterLog {
    acked: Vec<(Sent, Value)>,
    /// Sent, but the server died before answering: may or may not be stored.
    in_doubt: Vec<Sent>,
    unexpected: Vec<String>,
}

fn request_body(rng: &mut fastrand::Rng, key: &str) -> Value {
    // Sizes up to several pages, so a torn write would show.
    let body_len = rng.usize(0..12_000);
    let body: String = (0..body_len)
        .map(|n| match n % 61 {
            60 => '\n',
            _ => char::from(b'a' + rng.u8(0..26)),
        })
        .collect();
    json!({
        "subject": format!("Call {key} ☎ — ünïcødé"),
        "body": body,
        "body_format": "text/plain",
        "type": "PhoneCommunication",
        "received_at": "2024-01-15T15:30:00.000Z",
        "contact_id": "contact-1",
        "session_id": key,
        "direction": if rng.bool() { "Inbound" } else { "Outbound" },
        "duration": rng.u32(0..100_000),
        "deal": {"id": key, "stage": rng.u8(0..9), "tags": ["a", "b"]},
    })
}

async fn writer(
    url: String,
    prefix: String,
    seed: u64,
    acks: tokio::sync::watch::Sender<usize>,
) -> WriterLog {
    let mut rng = fastrand::Rng::with_seed(seed);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let mut log = WriterLog::default();
    for n in 0.. {
        let key = format!("{prefix}-{n}");
        let sent = Sent {
            body: request_body(&mut rng, &key),
            key,
        };
        let response = http
            .post(format!("{url}/activity"))
            .bearer_auth(KEY)
            .header("idempotency-key", &sent.key)
            .json(&sent.body)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(_) => {
                log.in_doubt.push(sent);
                return log;
            }
        };
        let status = response.status();
        match response.json::<Value>().await {
            Ok(answer) if status.as_u16() == 201 => {
                log.acked.push((sent, answer));
                acks.send_modify(|count| *count += 1);
            }
            Ok(answer) => {
                log.unexpected
                    .push(format!("{status} for {}: {answer}", sent.key));
                return log;
            }
            // The answer was cut off: the write may have committed.
            Err(_) => {
                log.in_doubt.push(sent);
                return log;
            }
        }
    }
    log
}

/// The fields a request set must come back unchanged.
fn assert_matches_request(stored: &Value, sent: &Sent) {
    for (field, value) in sent.body.as_object().expect("object") {
        assert_eq!(&stored[field], value, "{field} of {}", sent.key);
    }
    for field in ["id", "created_at", "updated_at"] {
        assert!(
            stored[field].is_string(),
            "{field} of {}: {stored}",
            sent.key
        );
    }
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(url: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            url: url.to_owned(),
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("the restarted server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json"))
    }

    /// Sends `sent` again; `(status, replayed, body)`.
    async fn replay(&self, sent: &Sent) -> (u16, bool, Value) {
        let response = self
            .http
            .post(format!("{}/activity", self.url))
            .bearer_auth(KEY)
            .header("idempotency-key", &sent.key)
            .json(&sent.body)
            .send()
            .await
            .expect("the restarted server answers");
        let status = response.status().as_u16();
        let replayed = response
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|value| value == "true");
        (status, replayed, response.json().await.expect("json"))
    }

    async fn all_activities(&self) -> Vec<Value> {
        let mut items = Vec::new();
        let mut path = "/activity?limit=200".to_owned();
        loop {
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{page}");
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/activity?limit=200&cursor={cursor}"),
                None => return items,
            }
        }
    }
}

/// What the database must hold: every acknowledged answer, by key.
#[derive(Default)]
struct Ledger {
    acked: BTreeMap<String, (Sent, Value)>,
    /// Requests a kill interrupted that turned out committed / not.
    in_doubt_committed: usize,
    in_doubt_lost: usize,
}

impl Ledger {
    /// Checks the restarted server against everything acknowledged so far,
    /// and settles the requests left in doubt by the last kill.
    async fn verify(&mut self, client: &Client, in_doubt: Vec<Sent>) {
        for (key, (sent, answered)) in &self.acked {
            let id = answered["id"].as_str().expect("id");
            let (status, stored) = client.get(&format!("/activity/{id}")).await;
            assert_eq!(status, 200, "acknowledged {key} is gone: {stored}");
            assert_eq!(&stored, answered, "acknowledged {key} changed");
            assert_matches_request(&stored, sent);
        }
        // In doubt: either the activity and its key are both stored (the
        // replay finds the one activity) or neither is (the repeat creates
        // it now). An activity without its key, or a key without its
        // activity, fails one of the two.
        for sent in in_doubt {
            let (_, listed) = client
                .get(&format!("/activity?session_id={}", sent.key))
                .await;
            let existing = listed["items"].as_array().cloned().unwrap_or_default();
            assert!(existing.len() <= 1, "{} stored twice", sent.key);
            let (status, replayed, answer) = client.replay(&sent).await;
            assert_eq!(status, 201, "{answer}");
            match existing.first() {
                Some(stored) => {
                    assert!(
                        replayed,
                        "{}'s activity is stored but its key is not",
                        sent.key
                    );
                    assert_eq!(&answer, stored, "{}'s stored answer", sent.key);
                    self.in_doubt_committed += 1;
                }
                None => {
                    assert!(
                        !replayed,
                        "{}'s key is stored but its activity is not",
                        sent.key
                    );
                    self.in_doubt_lost += 1;
                }
            }
            assert_matches_request(&answer, &sent);
            self.acked.insert(sent.key.clone(), (sent, answer));
        }
        // Nothing else is stored, nothing twice, nothing half-written.
        let stored = client.all_activities().await;
        let mut seen = BTreeSet::new();
        for activity in &stored {
            let key = activity["session_id"].as_str().expect("session_id");
            assert!(seen.insert(key.to_owned()), "{key} stored twice");
            let (sent, answered) = self.acked.get(key).unwrap_or_else(|| {
                panic!("{key} is stored but was never acknowledged or in doubt")
            });
            assert_eq!(activity, answered);
            assert_matches_request(activity, sent);
        }
        assert_eq!(
            seen.len(),
            self.acked.len(),
            "every acknowledged activity is listed"
        );
        for (sent, answered) in self.acked.values() {
            let (status, replayed, answer) = client.replay(sent).await;
            assert_eq!((status, replayed), (201, true), "{} replays", sent.key);
            assert_eq!(&answer, answered, "{} replays its first answer", sent.key);
        }
    }
}

fn integrity_check(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open for the check");
    let result: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check runs");
    assert_eq!(result, "ok");
}

#[test]
fn acknowledged_writes_survive_sigkill_and_nothing_is_half_written() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let rounds: usize = std::env::var("CRASH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(5);
    // Shown only if the test fails.
    println!("CRASH_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let db: PathBuf = dir.path().join("crm.db");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut ledger = Ledger::default();
    let mut in_doubt = Vec::new();
    let mut killed_with_in_flight = 0;

    for round in 0..=rounds {
        let served = Served::start(&db, &dir.path().join(format!("serve-{round}.log")));
        let client = Client::new(&served.url);
        runtime.block_on(ledger.verify(&client, std::mem::take(&mut in_doubt)));
        if round == rounds {
            break;
        }
        let (acks, mut acked_so_far) = tokio::sync::watch::channel(0usize);
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                runtime.spawn(writer(
                    served.url.clone(),
                    format!("r{round}-w{w}"),
                    rng.u64(..),
                    acks.clone(),
                ))
            })
            .collect();
        drop(acks);
        // A random moment: after a random number of acknowledgements, with
        // the other writers' requests at whatever stage they have reached.
        let target = rng.usize(5..60);
        runtime
            .block_on(acked_so_far.wait_for(|count| *count >= target))
            .expect("writers keep writing until the kill");
        served.sigkill();
        for handle in writers {
            let log = runtime.block_on(handle).expect("writer task");
            assert_eq!(log.unexpected, Vec::<String>::new());
            killed_with_in_flight += log.in_doubt.len();
            for (sent, answered) in log.acked {
                assert_matches_request(&answered, &sent);
                ledger.acked.insert(sent.key.clone(), (sent, answered));
            }
            in_doubt.extend(log.in_doubt);
        }
    }
    println!(
        "{rounds} kills; {} activities acknowledged or settled; of {killed_with_in_flight} requests in flight at a kill, {} had committed and {} had not",
        ledger.acked.len(),
        ledger.in_doubt_committed,
        ledger.in_doubt_lost
    );
    assert!(killed_with_in_flight > 0, "some kills landed mid-request");
    integrity_check(&db);
}
