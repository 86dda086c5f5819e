//! Crash safety (issue #5, item 3; revisions, issue #18): the real binary,
//! on a file database, under concurrent load of `POST /activity` with
//! idempotency keys and `PATCH`es of the activities so created, is SIGKILLed
//! at a random moment, restarted on the same file, and killed again, several
//! times. After every restart, every request that got a 2xx is there, field
//! for field as it was answered; every stored activity is whole and is
//! exactly one request's; an idempotency key is stored if and only if its
//! activity is; every acknowledged key replays its first answer; and every
//! write of every activity reads back from
//! `GET /__admin/activities/{id}/revisions` as it was answered, numbered in
//! order, with the journal id of its request (as the journal showed it just
//! before the kill; a write the journal had not shown by then must still
//! name a request, and no two writes of one server run the same one). A
//! final `PRAGMA integrity_check` looks at the file itself.
//!
//! `CRASH_SEED` replays a run (the seed is printed when the test fails);
//! `CRASH_ROUNDS` sets how many kills (default 5).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_mockcrm");
const KEY: &str = "mockcrm-dev-key";
const ADMIN: &str = "mockcrm-admin";
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
            // A journal big enough to hold every write of a run, so each
            // revision can be matched to its request.
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--journal-mib",
                "256",
                "--db",
            ])
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

/// A write that got a 2xx, in the order its writer sent them.
#[derive(Debug)]
enum Acked {
    Created(Sent, Value),
    Patched {
        key: String,
        patch: Value,
        answer: Value,
    },
}

/// A write the server died before answering: it may or may not be stored.
#[derive(Debug)]
enum Doubt {
    Create(Sent),
    Patch {
        key: String,
        id: String,
        patch: Value,
    },
}

#[derive(Debug, Default)]
struct WriterLog {
    acked: Vec<Acked>,
    in_doubt: Vec<Doubt>,
    unexpected: Vec<String>,
}

/// A random text of up to `max` characters in lines, several pages at the
/// top, so that a torn write would show.
fn text(rng: &mut fastrand::Rng, max: usize) -> String {
    (0..rng.usize(0..max))
        .map(|n| match n % 61 {
            60 => '\n',
            _ => char::from(b'a' + rng.u8(0..26)),
        })
        .collect()
}

fn request_body(rng: &mut fastrand::Rng, key: &str) -> Value {
    json!({
        "subject": format!("Call {key} ☎ — ünïcødé"),
        "body": text(rng, 12_000),
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

/// An update of an activity: a new body and an extra field changed, so
/// each revision differs from the one before.
fn patch_body(rng: &mut fastrand::Rng, key: &str, n: u64) -> Value {
    json!({
        "body": text(rng, 8_000),
        "duration": rng.u32(0..100_000),
        "deal": {"id": key, "stage": n, "tags": ["patched"]},
    })
}

/// Sends `request`; `None` when the server died before a whole answer
/// came back, so the write may or may not have committed.
async fn send(request: reqwest::RequestBuilder) -> Option<(u16, Value)> {
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    response
        .json::<Value>()
        .await
        .ok()
        .map(|body| (status, body))
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
    // (key, id) of this writer's acknowledged creates, for its PATCHes.
    let mut own: Vec<(String, String)> = Vec::new();
    for n in 0.. {
        // A third of the writes update one of the writer's activities.
        if !own.is_empty() && rng.u8(0..3) == 0 {
            let (key, id) = own[rng.usize(..own.len())].clone();
            let patch = patch_body(&mut rng, &key, n);
            let request = http
                .patch(format!("{url}/activity/{id}"))
                .bearer_auth(KEY)
                .json(&patch);
            match send(request).await {
                Some((200, answer)) => log.acked.push(Acked::Patched { key, patch, answer }),
                Some((status, answer)) => {
                    log.unexpected
                        .push(format!("{status} for PATCH {key}: {answer}"));
                    return log;
                }
                None => {
                    log.in_doubt.push(Doubt::Patch { key, id, patch });
                    return log;
                }
            }
        } else {
            let key = format!("{prefix}-{n}");
            let sent = Sent {
                body: request_body(&mut rng, &key),
                key,
            };
            let request = http
                .post(format!("{url}/activity"))
                .bearer_auth(KEY)
                .header("idempotency-key", &sent.key)
                .json(&sent.body);
            match send(request).await {
                Some((201, answer)) => {
                    let id = answer["id"].as_str().unwrap_or_default().to_owned();
                    own.push((sent.key.clone(), id));
                    log.acked.push(Acked::Created(sent, answer));
                }
                Some((status, answer)) => {
                    log.unexpected
                        .push(format!("{status} for {}: {answer}", sent.key));
                    return log;
                }
                None => {
                    log.in_doubt.push(Doubt::Create(sent));
                    return log;
                }
            }
        }
        acks.send_modify(|count| *count += 1);
    }
    log
}

/// The fields the requests set (`expected`: the create's, with every
/// acknowledged PATCH applied) must come back unchanged.
fn assert_matches_request(stored: &Value, key: &str, expected: &Value) {
    for (field, value) in expected.as_object().expect("object") {
        assert_eq!(&stored[field], value, "{field} of {key}");
    }
    for field in ["id", "created_at", "updated_at"] {
        assert!(stored[field].is_string(), "{field} of {key}: {stored}");
    }
}

/// `patch`'s fields set on `expected`, as the server applies them.
fn apply(expected: &mut Value, patch: &Value) {
    for (field, value) in patch.as_object().expect("object") {
        expected[field] = value.clone();
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

    async fn get_as(&self, key: &str, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .expect("the restarted server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("json"))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(KEY, path).await
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

    /// The journal id of each write the journal holds, by the activity id
    /// and `updated_at` its answer carried. A replay answers like the
    /// create it replays, but comes after it: the lowest id is the write.
    async fn journaled_writes(&self) -> HashMap<(String, String), u64> {
        let (status, journal) = self.get_as(ADMIN, "/__admin/requests?limit=100000").await;
        assert_eq!(status, 200, "{journal}");
        let mut writes = HashMap::new();
        for entry in journal["items"].as_array().expect("items") {
            let answer = &entry["response_body"];
            let (Some(journal_id), Some(id), Some(at)) = (
                entry["id"].as_u64(),
                answer["id"].as_str(),
                answer["updated_at"].as_str(),
            ) else {
                continue;
            };
            let wrote = matches!(
                (entry["method"].as_str(), entry["status"].as_u64()),
                (Some("POST"), Some(201)) | (Some("PATCH"), Some(200))
            );
            if wrote {
                writes
                    .entry((id.to_owned(), at.to_owned()))
                    .and_modify(|lowest: &mut u64| *lowest = (*lowest).min(journal_id))
                    .or_insert(journal_id);
            }
        }
        writes
    }
}

/// One acknowledged write of an activity: its answer, the server run
/// (round) that made it, and its request's journal id once known.
#[derive(Debug)]
struct Write {
    answer: Value,
    round: usize,
    journal_id: Option<u64>,
}

/// Everything acknowledged about one activity.
#[derive(Debug)]
struct Entry {
    sent: Sent,
    /// The create's fields with every acknowledged PATCH applied.
    expected: Value,
    /// Every acknowledged write, oldest first: its revisions.
    writes: Vec<Write>,
}

impl Entry {
    fn id(&self) -> &str {
        self.writes[0].answer["id"].as_str().expect("id")
    }

    fn now(&self) -> &Value {
        &self.writes[self.writes.len() - 1].answer
    }
}

/// What the database must hold: every acknowledged write, by key.
#[derive(Default)]
struct Ledger {
    entries: BTreeMap<String, Entry>,
    /// Per server run, the journal's writes just before it was killed.
    journals: Vec<HashMap<(String, String), u64>>,
    /// Writes a kill interrupted that turned out committed / not.
    in_doubt_committed: usize,
    in_doubt_lost: usize,
}

impl Ledger {
    /// Adds a writer's acknowledged writes, made in server run `round`.
    fn record(&mut self, round: usize, acked: Vec<Acked>) {
        for acked in acked {
            match acked {
                Acked::Created(sent, answer) => {
                    assert_matches_request(&answer, &sent.key, &sent.body);
                    let entry = Entry {
                        expected: sent.body.clone(),
                        writes: vec![Write {
                            answer,
                            round,
                            journal_id: None,
                        }],
                        sent,
                    };
                    self.entries.insert(entry.sent.key.clone(), entry);
                }
                Acked::Patched { key, patch, answer } => {
                    let entry = self
                        .entries
                        .get_mut(&key)
                        .expect("patched after its create");
                    apply(&mut entry.expected, &patch);
                    assert_matches_request(&answer, &key, &entry.expected);
                    entry.writes.push(Write {
                        answer,
                        round,
                        journal_id: None,
                    });
                }
            }
        }
    }

    /// Names each write's request from the journal of the run that made it.
    fn resolve_journal_ids(&mut self) {
        for entry in self.entries.values_mut() {
            for write in &mut entry.writes {
                if write.journal_id.is_some() {
                    continue;
                }
                let Some(journal) = self.journals.get(write.round) else {
                    continue;
                };
                let at = write.answer["updated_at"].as_str().expect("updated_at");
                let id = write.answer["id"].as_str().expect("id");
                write.journal_id = journal.get(&(id.to_owned(), at.to_owned())).copied();
            }
        }
    }

    /// Checks the restarted server (run `round`) against everything
    /// acknowledged so far, and settles the writes left in doubt by the
    /// last kill.
    async fn verify(&mut self, client: &Client, round: usize, in_doubt: Vec<Doubt>) {
        for doubt in in_doubt {
            match doubt {
                Doubt::Create(sent) => self.settle_create(client, round, sent).await,
                Doubt::Patch { key, id, patch } => {
                    let entry = self
                        .entries
                        .get_mut(&key)
                        .expect("patched after its create");
                    let (status, stored) = client.get(&format!("/activity/{id}")).await;
                    assert_eq!(status, 200, "{key}: {stored}");
                    if &stored == entry.now() {
                        self.in_doubt_lost += 1;
                        continue;
                    }
                    apply(&mut entry.expected, &patch);
                    assert_matches_request(&stored, &key, &entry.expected);
                    entry.writes.push(Write {
                        answer: stored,
                        round: round - 1,
                        journal_id: None,
                    });
                    self.in_doubt_committed += 1;
                }
            }
        }
        for (key, entry) in &self.entries {
            let (status, stored) = client.get(&format!("/activity/{}", entry.id())).await;
            assert_eq!(status, 200, "acknowledged {key} is gone: {stored}");
            assert_eq!(&stored, entry.now(), "acknowledged {key} changed (or an update in doubt left it neither before nor after)");
            assert_matches_request(&stored, key, &entry.expected);
        }
        self.resolve_journal_ids();
        // Nothing else is stored, nothing twice, nothing half-written.
        let stored = client.all_activities().await;
        let mut seen = BTreeSet::new();
        for activity in &stored {
            let key = activity["session_id"].as_str().expect("session_id");
            assert!(seen.insert(key.to_owned()), "{key} stored twice");
            let entry = self.entries.get(key).unwrap_or_else(|| {
                panic!("{key} is stored but was never acknowledged or in doubt")
            });
            assert_eq!(activity, entry.now());
        }
        assert_eq!(
            seen.len(),
            self.entries.len(),
            "every acknowledged activity is listed"
        );
        self.verify_revisions(client).await;
        for entry in self.entries.values() {
            let (status, replayed, answer) = client.replay(&entry.sent).await;
            assert_eq!(
                (status, replayed),
                (201, true),
                "{} replays",
                entry.sent.key
            );
            assert_eq!(
                answer, entry.writes[0].answer,
                "{} replays its first answer, however often it changed since",
                entry.sent.key
            );
        }
    }

    /// A create the last kill interrupted: either the activity and its key
    /// are both stored (the replay finds the one activity) or neither is
    /// (the repeat creates it now). An activity without its key, or a key
    /// without its activity, fails one of the two.
    async fn settle_create(&mut self, client: &Client, round: usize, sent: Sent) {
        let (_, listed) = client
            .get(&format!("/activity?session_id={}", sent.key))
            .await;
        let existing = listed["items"].as_array().cloned().unwrap_or_default();
        assert!(existing.len() <= 1, "{} stored twice", sent.key);
        let (status, replayed, answer) = client.replay(&sent).await;
        assert_eq!(status, 201, "{answer}");
        let made_in = match existing.first() {
            Some(stored) => {
                assert!(
                    replayed,
                    "{}'s activity is stored but its key is not",
                    sent.key
                );
                assert_eq!(&answer, stored, "{}'s stored answer", sent.key);
                self.in_doubt_committed += 1;
                round - 1
            }
            None => {
                assert!(
                    !replayed,
                    "{}'s key is stored but its activity is not",
                    sent.key
                );
                self.in_doubt_lost += 1;
                round
            }
        };
        assert_matches_request(&answer, &sent.key, &sent.body);
        let entry = Entry {
            expected: sent.body.clone(),
            writes: vec![Write {
                answer,
                round: made_in,
                journal_id: None,
            }],
            sent,
        };
        self.entries.insert(entry.sent.key.clone(), entry);
    }

    /// Every write of every activity is a revision, as it was answered,
    /// numbered in order, naming its request.
    async fn verify_revisions(&self, client: &Client) {
        let mut requests_per_run = BTreeSet::new();
        for (key, entry) in &self.entries {
            let (status, revisions) = client
                .get_as(
                    ADMIN,
                    &format!("/__admin/activities/{}/revisions", entry.id()),
                )
                .await;
            assert_eq!(status, 200, "{key}: {revisions}");
            let items = revisions["items"].as_array().expect("items");
            assert_eq!(items.len(), entry.writes.len(), "{key}'s revisions");
            for (index, (item, write)) in items.iter().zip(&entry.writes).enumerate() {
                assert_eq!(item["number"], index + 1, "{key}");
                assert_eq!(
                    item["activity"],
                    write.answer,
                    "{key}'s revision {} is its write as answered",
                    index + 1
                );
                assert_eq!(item["at"], write.answer["updated_at"], "{key}");
                let request_id = item["request_id"].as_u64().unwrap_or_else(|| {
                    panic!("{key}'s revision {} names no request: {item}", index + 1)
                });
                if let Some(journal_id) = write.journal_id {
                    assert_eq!(
                        request_id,
                        journal_id,
                        "{key}'s revision {} names its request",
                        index + 1
                    );
                }
                assert!(
                    requests_per_run.insert((write.round, request_id)),
                    "{key}'s revision {} names request {request_id} of run {}, \
                     which another write names too",
                    index + 1,
                    write.round
                );
            }
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
        runtime.block_on(ledger.verify(&client, round, std::mem::take(&mut in_doubt)));
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
        // The journal is read just before, while they go on writing.
        let target = rng.usize(5..60);
        runtime
            .block_on(acked_so_far.wait_for(|count| *count >= target))
            .expect("writers keep writing until the kill");
        let journal = runtime.block_on(client.journaled_writes());
        served.sigkill();
        ledger.journals.push(journal);
        for handle in writers {
            let log = runtime.block_on(handle).expect("writer task");
            assert_eq!(log.unexpected, Vec::<String>::new());
            killed_with_in_flight += log.in_doubt.len();
            ledger.record(round, log.acked);
            in_doubt.extend(log.in_doubt);
        }
    }
    let writes: usize = ledger.entries.values().map(|e| e.writes.len()).sum();
    let named = ledger
        .entries
        .values()
        .flat_map(|e| &e.writes)
        .filter(|w| w.journal_id.is_some())
        .count();
    println!(
        "{rounds} kills; {} activities and {writes} writes acknowledged or settled ({named} matched to their journal entry); of {killed_with_in_flight} requests in flight at a kill, {} had committed and {} had not",
        ledger.entries.len(),
        ledger.in_doubt_committed,
        ledger.in_doubt_lost
    );
    assert!(killed_with_in_flight > 0, "some kills landed mid-request");
    assert!(
        writes > ledger.entries.len(),
        "some activities were written more than once"
    );
    assert!(named > 0, "some writes were matched to their journal entry");
    integrity_check(&db);
}
