//! The review page in a real browser: headless Chromium, driven through
//! chromedriver's WebDriver HTTP API with reqwest. A call is logged and
//! updated through the reference connector, then the test asserts what a
//! person sees: the body's text as rendered (not its markup), the revision
//! diff showing the changed duration and recording link, a new request
//! appearing in the live journal without a reload, and that a `<script>`
//! in an HTML body does not run; and message logs (a group SMS and a
//! shared-SMS thread) shown as conversations. A screenshot of each page is kept in
//! `target/review-screenshots/`.
//!
//! Chromium and chromedriver must be installed (Debian: `apt-get install
//! chromium chromium-driver`; `.ci/run` does it): without them this test
//! fails, it does not skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use base64::Engine;
use mockcrm::{create_call_log, update_call_log, CrmClient, LogOptions, UpdateOptions};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{answer, read_fixture, TestCrm};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "chromedriver";

/// chromedriver on a port of its choosing, ended when dropped.
struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Driver {
    fn start() -> Driver {
        let mut child = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot run {CHROMEDRIVER} ({error}): install Chromium and its driver \
                     (apt-get install chromium chromium-driver)"
                )
            });
        let stdout = child.stdout.take().expect("stdout piped");
        // Its ready line names the port it took; reading it is the wait.
        let mut port = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("chromedriver output");
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                port = rest.trim_end_matches('.').trim().parse::<u16>().ok();
                break;
            }
        }
        let port = port.expect("chromedriver said which port it listens on");
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session.
struct Browser<'a> {
    driver: &'a Driver,
    session: String,
    _profile: tempfile::TempDir,
}

impl<'a> Browser<'a> {
    async fn open(driver: &'a Driver) -> Browser<'a> {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: install it (apt-get install chromium chromium-driver)"
        );
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                // The machine has no network: without these Chromium waits
                // on connections it will never get.
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,1400",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let created = call(driver, Method::POST, "/session", Some(capabilities)).await;
        let session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let browser = Browser {
            driver,
            session,
            _profile: profile,
        };
        // Finding an element waits up to this long for it to appear.
        browser
            .command(Method::POST, "/timeouts", json!({"implicit": 15000}))
            .await;
        browser
    }

    async fn command(&self, method: Method, path: &str, body: Value) -> Value {
        let body = (method != Method::GET && method != Method::DELETE).then_some(body);
        let path = format!("/session/{}{path}", self.session);
        call(self.driver, method, &path, body).await
    }

    async fn go(&self, url: &str) {
        self.command(Method::POST, "/url", json!({"url": url}))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        found
            .as_object()
            .and_then(|object| object.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// The text a person sees in the first element `css` selects.
    async fn text(&self, css: &str) -> String {
        let element = self.find(css).await;
        let text = self
            .command(
                Method::GET,
                &format!("/element/{element}/text"),
                Value::Null,
            )
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    async fn script(&self, source: &str) -> Value {
        self.command(
            Method::POST,
            "/execute/sync",
            json!({"script": source, "args": []}),
        )
        .await
    }

    async fn screenshot(&self, name: &str) {
        let png = self.command(Method::GET, "/screenshot", Value::Null).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 png"))
            .expect("png");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), bytes).expect("screenshot written");
    }

    async fn close(self) {
        call(
            self.driver,
            Method::DELETE,
            &format!("/session/{}", self.session),
            None,
        )
        .await;
    }
}

/// `target/review-screenshots/`, beside the target's `tmp/`.
fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|target| target.join("review-screenshots"))
        .expect("the target dir")
}

async fn call(driver: &Driver, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = driver
        .http
        .request(method.clone(), format!("{}{path}", driver.url));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("chromedriver answers");
    let status = response.status();
    let answer: Value = response.json().await.expect("chromedriver answers JSON");
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer["value"].clone()
}

#[tokio::test]
async fn a_person_sees_the_call_as_the_crm_shows_it_and_what_the_update_changed() {
    let crm = TestCrm::start().await;
    let base = crm.server.url();
    let client = CrmClient::new(&base).expect("client");

    // A call logged as HTML and updated when the recording is ready.
    let mut input: mockcrm::interface::CreateCallLogInput = serde_json::from_str(&read_fixture(
        "create-call-log/outbound-recording-pending.json",
    ))
    .expect("fixture");
    input.composed_log_details = None;
    let options = LogOptions {
        format: mockcrm::interface::LogFormat::Html,
        ..LogOptions::default()
    };
    let logged = create_call_log(&client, &input, options).await;
    let log_id = logged.log_id.expect("logged");
    let update: mockcrm::interface::CreateCallLogInput =
        serde_json::from_str(&read_fixture("update/outbound-recording-ready.json"))
            .expect("fixture");
    let updated = update_call_log(&client, &log_id, &update, UpdateOptions::default()).await;
    assert!(updated.return_message.is_some());

    // An HTML body that tries to run script three ways.
    let hostile = crm
        .create_activity(json!({
            "subject": "Hostile body",
            "type": "PhoneCommunication",
            "body_format": "text/html",
            "body": "<b>Visible text</b><script>document.title='pwned';window.pwned=1</script>\
                     <img src=x onerror=\"window.pwned=2\"><a href=\"javascript:window.pwned=3\">link</a>",
        }))
        .await;

    let driver = Driver::start();
    let browser = Browser::open(&driver).await;

    browser.go(&format!("{base}/")).await;
    let list = browser.text("table.activities").await;
    assert!(list.contains("Outbound Call to Jane Contact"), "{list}");
    browser.screenshot("activities").await;

    browser
        .go(&format!("{base}/__review/activities/{log_id}"))
        .await;
    let shown = browser.text("#rendered .crm-body").await;
    assert!(
        shown.contains("Duration: 12 minutes, 34 seconds"),
        "rendered text: {shown}"
    );
    assert!(
        shown.contains("Call recording link: open"),
        "the link as a link: {shown}"
    );
    assert!(
        !shown.contains("<li>") && !shown.contains("<b>"),
        "text, not markup: {shown}"
    );
    // The diff is of the raw body, one field per line: the lines that went
    // and the lines that came.
    let rows = |class: &str| {
        format!(
            "return Array.from(document.querySelectorAll('table.diff tr.{class}'))\
             .map(row => row.innerText).join('\\n');"
        )
    };
    let removed = browser.script(&rows("del")).await;
    let added = browser.script(&rows("ins")).await;
    let (removed, added) = (
        removed.as_str().unwrap_or_default(),
        added.as_str().unwrap_or_default(),
    );
    assert!(
        removed.contains("<b>Duration</b>: 2 minutes, 5 seconds"),
        "{removed}"
    );
    assert!(
        added.contains("<b>Duration</b>: 12 minutes, 34 seconds"),
        "{added}"
    );
    assert!(
        removed.contains("<b>Call recording link</b>: (pending...)"),
        "{removed}"
    );
    assert!(
        added.contains("href=\"https://media.example.com/rec/2315419004\""),
        "{added}"
    );
    assert!(
        !removed.contains("Session Id") && !added.contains("Session Id"),
        "unchanged lines are not marked"
    );
    browser.screenshot("activity").await;

    let id = hostile["id"].as_str().expect("id");
    browser
        .go(&format!("{base}/__review/activities/{id}"))
        .await;
    let shown = browser.text("#rendered .crm-body").await;
    assert!(shown.contains("Visible text"), "{shown}");
    browser.find("#rendered .crm-body a").await;
    let ran = browser
        .script("return [typeof window.pwned, document.title];")
        .await;
    assert_eq!(
        ran,
        json!(["undefined", "Hostile body · mockcrm"]),
        "no script of the body ran"
    );
    browser.screenshot("hostile-body").await;

    browser.go(&format!("{base}/__review/requests")).await;
    browser.find("#journal details.request").await;
    // Marks this document: a reload would lose the mark.
    browser
        .script("window.sameDocument = true; return true;")
        .await;
    let (status, _) = answer(crm.dev(Method::GET, "/me")).await;
    assert_eq!(status, 200);
    let (_, journal) =
        answer(crm.as_key("mockcrm-admin", Method::GET, "/__admin/requests?limit=1")).await;
    let newest = journal["items"][0]["id"].as_u64().expect("journaled");
    let arrived = browser
        .text(&format!(
            "#journal details.request[data-id=\"{newest}\"] summary"
        ))
        .await;
    assert!(
        arrived.contains("GET") && arrived.contains("/me") && arrived.contains("200"),
        "{arrived}"
    );
    let same = browser.script("return window.sameDocument === true;").await;
    assert_eq!(same, json!(true), "the request appeared without a reload");
    browser.screenshot("requests").await;

    browser.go(&format!("{base}/__review/faults")).await;
    browser.find("form.add-fault").await;
    browser.screenshot("faults").await;
    browser.go(&format!("{base}/__review/checks")).await;
    browser.find("main h1").await;
    browser.screenshot("checks").await;

    browser.close().await;
    crm.shutdown().await;
}

/// The `id` of the stored log whose body holds `text`.
async fn log_holding(crm: &TestCrm, text: &str) -> String {
    let (status, page) = answer(crm.dev(Method::GET, "/activity?limit=200")).await;
    assert_eq!(status, 200, "{page}");
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|item| item["body"].as_str().is_some_and(|b| b.contains(text)))
        .and_then(|item| item["id"].as_str())
        .unwrap_or_else(|| panic!("no log holds {text:?}"))
        .to_owned()
}

#[tokio::test]
async fn a_person_sees_a_group_sms_and_a_shared_sms_thread_as_conversations() {
    // Core's recorded message calls, logged through the reference connector.
    let records: Value =
        serde_json::from_str(&read_fixture("messages/message-records.json")).expect("fixture");
    let crm = crate::message_logs::message_crm().await;
    crate::message_logs::play(&crm, &crate::message_logs::core_calls(&records)).await;
    let base = crm.server.url();
    let group = log_holding(&crm, "kickoff call moved").await;
    let shared = log_holding(&crm, "Receiving call queue: Support Queue").await;

    let driver = Driver::start();
    let browser = Browser::open(&driver).await;
    let entries = "return Array.from(document.querySelectorAll('#conversation li.entry'))\
                   .map(entry => entry.className + ' | ' + entry.innerText.replace(/\\s+/g, ' ').trim());";

    browser.go(&format!("{base}/")).await;
    let list = browser.text("table.activities").await;
    assert!(list.contains("SMS · 2 messages"), "{list}");
    assert!(list.contains("SMS · 4 messages"), "{list}");

    browser
        .go(&format!("{base}/__review/activities/{group}"))
        .await;
    browser.find("#conversation ol.conversation").await;
    let shown = browser.script(entries).await;
    let shown: Vec<&str> = shown
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown[0].starts_with("entry message | ")
            && shown[0].contains("Test User")
            && shown[0].contains("kickoff call moved to Friday 10am ET."),
        "{shown:?}"
    );
    assert!(shown[1].contains("Works for me."), "{shown:?}");
    // The raw body is still there, folded.
    let raw = browser.text("#raw summary").await;
    assert!(raw.starts_with("Raw body"), "{raw}");
    browser.screenshot("group-sms").await;

    browser
        .go(&format!("{base}/__review/activities/{shared}"))
        .await;
    browser.find("#conversation ol.conversation").await;
    let shown = browser.script(entries).await;
    let shown: Vec<&str> = shown
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(shown.len(), 6, "{shown:?}");
    assert!(shown[0].contains("RMA #A-77 created"), "{shown:?}");
    assert!(
        shown[2].starts_with("entry note | ")
            && shown[2].contains("NOTE")
            && shown[2].contains("Known firmware issue <FW 2.1>; RMA if it persists"),
        "the note marked, its text as written: {shown:?}"
    );
    assert!(
        shown[4].starts_with("entry assignment | ")
            && shown[4].contains("Conversation assigned to Test Agent"),
        "{shown:?}"
    );
    assert!(shown[5].contains("My router keeps rebooting"), "{shown:?}");
    browser.screenshot("shared-sms").await;

    browser.close().await;
    crm.shutdown().await;
}
