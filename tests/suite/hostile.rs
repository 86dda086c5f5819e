//! Hostile content in well-formed requests over raw TCP (issue #5, item 4):
//! arbitrary methods, paths, headers, query strings and bodies never get a
//! 5xx or a hang, every error answer has the JSON error shape, injection
//! strings go in as data only, and the server still answers `/health`
//! afterwards. mockcrm must answer every one of these itself.
//!
//! Broken framing is `hostile_framing`'s, oversized bodies and slow or idle
//! clients `hostile_limits`'s; all three reach the server through
//! `raw_tcp`. `PROPTEST_CASES` sets the number of cases.

use percent_encoding::{percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

use crate::raw_tcp::{
    cases, check_error_shape, exchange, health, valid_activity, Crm, Reply, DEV_AUTH, POST_HEAD,
    SHORT_READ_TIMEOUT,
};

#[derive(Debug, Clone)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    chunks: Option<Vec<usize>>,
}

impl Request {
    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = format!(
            "{} {} HTTP/1.1\r\nHost: mockcrm\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (name, value) in &self.headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        match &self.chunks {
            None => {
                if !self.body.is_empty() || self.method != "GET" {
                    bytes.extend_from_slice(
                        format!("Content-Length: {}\r\n", self.body.len()).as_bytes(),
                    );
                }
                bytes.extend_from_slice(b"\r\n");
                bytes.extend_from_slice(&self.body);
            }
            Some(cuts) => {
                bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                let mut rest = self.body.as_slice();
                for cut in cuts {
                    if rest.is_empty() {
                        break;
                    }
                    let (chunk, tail) = rest.split_at((*cut).clamp(1, rest.len()));
                    bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    bytes.extend_from_slice(chunk);
                    bytes.extend_from_slice(b"\r\n");
                    rest = tail;
                }
                if !rest.is_empty() {
                    bytes.extend_from_slice(format!("{:x}\r\n", rest.len()).as_bytes());
                    bytes.extend_from_slice(rest);
                    bytes.extend_from_slice(b"\r\n");
                }
                bytes.extend_from_slice(b"0\r\n\r\n");
            }
        }
        bytes
    }
}

const SQL: [&str; 6] = [
    "' OR '1'='1",
    "'; DROP TABLE activities; --",
    "1 UNION SELECT key, user_id FROM api_keys --",
    "\" OR \"\"=\"",
    "%' --",
    "contact-1' --",
];

/// Text a path segment or query value might carry, percent-encoded: SQL
/// injection, invalid UTF-8, NUL, unicode, nothing.
fn encoded_text() -> BoxedStrategy<String> {
    let raw = prop_oneof![
        prop::sample::select(SQL.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..16),
        Just(vec![0xC3, 0x28]),
        Just(vec![0xFF, 0xFE, 0x00]),
        "\\PC{0,12}".prop_map(String::into_bytes),
        Just(b"contact-1".to_vec()),
        Just(b"act_missing".to_vec()),
    ];
    raw.prop_map(|bytes| percent_encode(&bytes, NON_ALPHANUMERIC).to_string())
        .boxed()
}

fn path() -> BoxedStrategy<String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "/health", "/me", "/activity", "/contact", "/activity/", "/contact/",
            "/__admin/faults", "/__admin/requests", "/__admin/checks", "/__admin/reset",
            "/__admin", "/__admin/faults/x", "//activity", "/activity//x", "/%2e%2e/activity",
            "/activity/%00", "/activity/..%2f..%2fme", "/", "/health/", "/HEALTH",
        ])
        .prop_map(str::to_owned),
        2 => encoded_text().prop_map(|id| format!("/activity/{id}")),
        1 => encoded_text().prop_map(|id| format!("/contact/{id}")),
        1 => prop::collection::vec(encoded_text(), 0..5)
            .prop_map(|segments| format!("/{}", segments.join("/"))),
        1 => encoded_text().prop_map(|tail| format!("http://127.0.0.1/activity/{tail}")),
    ]
    .boxed()
}

fn query() -> BoxedStrategy<String> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "limit",
            "cursor",
            "contact_id",
            "session_id",
            "phone",
            "empty",
            "method",
            "path",
        ])
        .prop_map(str::to_owned),
        encoded_text(),
    ];
    let value = prop_oneof![
        prop::sample::select(vec![
            "",
            "0",
            "1",
            "-1",
            "200",
            "201",
            "99999999999999999999999",
            "1e3",
            "NaN",
            "true",
            "YmVmb3JlOjE",
            "YmVmb3JlOi05MjIzMzcyMDM2ODU0Nzc1ODA4",
            "%2B14155550199",
            "4155550199",
        ])
        .prop_map(str::to_owned),
        encoded_text(),
    ];
    prop_oneof![
        3 => prop::collection::vec((key, value), 0..4).prop_map(|pairs| {
            if pairs.is_empty() {
                String::new()
            } else {
                let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("?{}", joined.join("&"))
            }
        }),
        1 => prop::sample::select(vec!["?", "??", "?&&", "?==", "?limit", "?limit=1&limit=x", "?;"])
            .prop_map(str::to_owned),
    ]
    .boxed()
}

/// Bytes a header value may legally carry: visible ASCII, space, and
/// obs-text (0x80-0xFF, so not UTF-8).
fn header_value() -> BoxedStrategy<Vec<u8>> {
    prop::collection::vec(prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff, Just(b' ')], 0..40)
        .prop_map(|mut bytes| {
            // httparse trims surrounding space; keep what we send what arrives.
            while bytes.first() == Some(&b' ') {
                bytes.remove(0);
            }
            while bytes.last() == Some(&b' ') {
                bytes.pop();
            }
            bytes
        })
        .boxed()
}

/// Which credentials a request carries.
#[derive(Debug, Clone)]
enum Auth {
    /// The right key for the route: the admin key for `/__admin/`, else
    /// the dev key, as Bearer or Basic.
    Right {
        basic: bool,
    },
    Raw(Vec<u8>),
    Missing,
}

fn auth() -> BoxedStrategy<Auth> {
    prop_oneof![
        12 => any::<bool>().prop_map(|basic| Auth::Right { basic }),
        1 => prop::sample::select(vec![
            "Bearer mockcrm-admin", "Bearer mockcrm-dev-key", "Basic !!!!", "Basic /w==",
            "Bearer", "Basic Og==", "Bearer  ' OR 1=1 --",
        ])
        .prop_map(|value| Auth::Raw(value.as_bytes().to_vec())),
        1 => header_value().prop_map(Auth::Raw),
        1 => Just(Auth::Missing),
    ]
    .boxed()
}

fn headers() -> BoxedStrategy<Vec<(String, Vec<u8>)>> {
    let content_type = prop_oneof![
        6 => Just(b"application/json".to_vec()),
        1 => Just(b"application/json; charset=utf-8".to_vec()),
        1 => Just(b"application/merge-patch+json".to_vec()),
        1 => Just(b"text/plain".to_vec()),
        1 => Just(b"multipart/form-data; boundary=x".to_vec()),
        1 => header_value(),
    ]
    .prop_map(|value| ("Content-Type".to_owned(), value));
    let idempotency_key = prop_oneof![
        6 => "[a-z0-9-]{1,3}".prop_map(String::into_bytes),
        1 => Just(vec![b'k'; 300]),
        1 => header_value(),
    ]
    .prop_map(|value| ("Idempotency-Key".to_owned(), value));
    let other = prop_oneof![
        Just(("Expect".to_owned(), b"100-continue".to_vec())),
        Just(("Content-Encoding".to_owned(), b"gzip".to_vec())),
        Just(("Accept".to_owned(), b"text/html".to_vec())),
        Just(("Connection".to_owned(), b"keep-alive, Upgrade".to_vec())),
        Just(("Connection".to_owned(), b"close".to_vec())),
        Just(("Upgrade".to_owned(), b"websocket".to_vec())),
        ("X-[A-Za-z]{1,10}", header_value()),
    ];
    (
        prop::option::weighted(0.8, content_type),
        prop::option::weighted(0.4, idempotency_key),
        prop::collection::vec(other, 0..3),
    )
        .prop_map(|(content_type, key, others)| {
            let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
            headers.extend(content_type);
            headers.extend(key);
            headers.extend(others);
            headers
        })
        .boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        prop::sample::select(SQL.to_vec()).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Bodies each route accepts, as starting points to break.
fn templates() -> Vec<Value> {
    vec![
        valid_activity(),
        json!({"body": "patched", "duration": null, "deal": {"id": 1}}),
        json!({"name": "Mallory", "phone_number": "+1 (415) 555-0100", "email": "m@x.example"}),
        json!({"path": "/nowhere", "status": 503, "times": 1}),
    ]
}

const FIELDS: [&str; 18] = [
    "subject",
    "body",
    "type",
    "received_at",
    "contact_id",
    "session_id",
    "direction",
    "duration",
    "body_format",
    "id",
    "created_at",
    "name",
    "phone_number",
    "email",
    "path",
    "status",
    "delay_ms",
    "probability",
];

fn nested(depth: usize, open: &str, close: &str) -> Vec<u8> {
    let mut text = open.repeat(depth);
    text.push_str(&close.repeat(depth));
    text.into_bytes()
}

fn body() -> BoxedStrategy<Vec<u8>> {
    let template = prop::sample::select(templates());
    let field = prop::sample::select(FIELDS.to_vec());
    prop_oneof![
        2 => Just(Vec::new()),
        4 => template.clone().prop_map(|value| value.to_string().into_bytes()),
        8 => (template.clone(), field.clone(), json_value()).prop_map(|(mut value, field, replacement)| {
            value[field] = replacement;
            value.to_string().into_bytes()
        }),
        2 => (template.clone(), field).prop_map(|(mut value, field)| {
            if let Some(object) = value.as_object_mut() {
                object.remove(field);
            }
            value.to_string().into_bytes()
        }),
        2 => json_value().prop_map(|value| value.to_string().into_bytes()),
        1 => (1usize..20_000).prop_map(|depth| nested(depth, "[", "]")),
        1 => (1usize..20_000).prop_map(|depth| {
            let mut text = r#"{"subject":"s","type":"t","x":"#.to_owned();
            text.push_str(&"{\"a\":".repeat(depth));
            text.push('1');
            text.push_str(&"}".repeat(depth + 1));
            text.into_bytes()
        }),
        1 => prop::sample::select(vec![
            "1e999999", "-1e999999", "18446744073709551616", "-9223372036854775809",
            "123456789012345678901234567890.5e-99999", "0.0000000000000000000000000001",
        ])
        .prop_map(|number| format!(r#"{{"subject":"s","type":"t","duration":{number},"n":{number}}}"#).into_bytes()),
        1 => Just(b"{\"subject\":\"\xff\xfe\",\"type\":\"t\"}".to_vec()),
        1 => Just(b"{\"subject\":\"\\ud800\",\"type\":\"t\"}".to_vec()),
        1 => Just(b"{\"subject\":\"s\",\"subject\":\"t\",\"type\":\"t\"}".to_vec()),
        1 => Just(b"\xef\xbb\xbf{\"subject\":\"s\",\"type\":\"t\"}".to_vec()),
        2 => prop::collection::vec(any::<u8>(), 0..300),
        2 => (template, any::<prop::sample::Index>()).prop_map(|(value, cut)| {
            let text = value.to_string().into_bytes();
            let at = cut.index(text.len().max(1)).min(text.len());
            text[..at].to_vec()
        }),
        1 => (0usize..3).prop_map(|extra| {
            // Right at, and just over, the 1 MiB limit.
            let mut activity = valid_activity();
            activity["body"] = Value::from("");
            let overhead = activity.to_string().len();
            activity["body"] = Value::from("x".repeat(1024 * 1024 - overhead - 1 + extra));
            activity.to_string().into_bytes()
        }),
    ]
    .boxed()
}

fn method() -> BoxedStrategy<String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "TRACE",
        ])
        .prop_map(str::to_owned),
        1 => "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
    ]
    .boxed()
}

/// A method and target: mostly routes mockcrm serves, so that the hostile
/// parts reach the handlers, and otherwise anything.
fn endpoint(activity_id: String) -> BoxedStrategy<(String, String)> {
    let id = prop_oneof![2 => Just(activity_id), 1 => encoded_text()];
    let with = |method: &'static str, path: &'static str| {
        query().prop_map(move |query| (method.to_owned(), format!("{path}{query}")))
    };
    prop_oneof![
        6 => with("POST", "/activity"),
        3 => with("GET", "/activity"),
        6 => (prop::sample::select(vec!["GET", "PATCH", "DELETE"]), id)
            .prop_map(|(method, id)| (method.to_owned(), format!("/activity/{id}"))),
        2 => with("POST", "/contact"),
        2 => with("GET", "/contact"),
        1 => encoded_text().prop_map(|id| ("GET".to_owned(), format!("/contact/{id}"))),
        1 => with("GET", "/me"),
        1 => with("GET", "/health"),
        1 => with("POST", "/__admin/faults"),
        1 => with("GET", "/__admin/requests"),
        1 => with("GET", "/__admin/checks"),
        1 => with("POST", "/__admin/reset"),
        1 => encoded_text().prop_map(|id| ("DELETE".to_owned(), format!("/__admin/faults/{id}"))),
        6 => (method(), path(), query())
            .prop_map(|(method, path, query)| (method, format!("{path}{query}"))),
        // `*` (as in `OPTIONS *`) is a target only on its own.
        1 => method().prop_map(|method| (method, "*".to_owned())),
    ]
    .boxed()
}

fn request(activity_id: String) -> BoxedStrategy<Request> {
    (
        endpoint(activity_id),
        auth(),
        headers(),
        body(),
        prop::option::weighted(0.2, prop::collection::vec(1usize..5000, 1..8)),
    )
        .prop_map(|((method, target), auth, mut headers, body, chunks)| {
            let admin = target.starts_with("/__admin");
            match auth {
                Auth::Right { basic } => {
                    let value = match (admin, basic) {
                        (true, _) => "Bearer mockcrm-admin",
                        (false, true) => "Basic bW9ja2NybS1kZXYta2V5Og==",
                        (false, false) => DEV_AUTH,
                    };
                    headers.insert(0, ("Authorization".to_owned(), value.as_bytes().to_vec()));
                }
                Auth::Raw(value) => headers.insert(0, ("Authorization".to_owned(), value)),
                Auth::Missing => {}
            }
            Request {
                method,
                target,
                headers,
                body,
                chunks,
            }
        })
        .boxed()
}

/// Undoes what a case may have done through the admin API that would
/// change later cases: an injected fault (which answers 5xx on purpose),
/// or an emptied database.
fn undo_admin_changes(crm: &Crm, request: &Request) -> Result<(), String> {
    let path = request.target.split('?').next().unwrap_or_default();
    let undo = match path {
        "/__admin/faults" => "DELETE /__admin/faults",
        "/__admin/reset" => "POST /__admin/reset",
        _ => return Ok(()),
    };
    let bytes = format!(
        "{undo} HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer mockcrm-admin\r\nContent-Length: 0\r\n\r\n"
    );
    match exchange(crm, bytes.as_bytes(), false, false)? {
        Reply::Answered(response) if response.status == 204 => Ok(()),
        other => Err(format!("{undo} failed: {other:?}")),
    }
}

fn check_well_formed(crm: &Crm, request: &Request) -> Result<(), String> {
    let head = request.method == "HEAD";
    let response = match exchange(crm, &request.to_bytes(), false, head)? {
        Reply::Answered(response) => response,
        Reply::Closed => return Err("the server closed the connection without answering".into()),
    };
    if response.status >= 500 {
        return Err(format!(
            "{} for a client error: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    }
    let success = (200..300).contains(&response.status);
    if !success && !head {
        check_error_shape(&response)?;
    }
    // The review page at `/` answers HTML (review_page.rs checks it).
    let page = request.target == "/" || request.target.starts_with("/?");
    if success && !head && !response.body.is_empty() && !page {
        serde_json::from_slice::<Value>(&response.body)
            .map_err(|_| format!("{} with a body that is not JSON", response.status))?;
    }
    Ok(())
}

/// Creates an activity for cases to read, change and delete.
fn create_activity(crm: &Crm) -> String {
    let body = valid_activity().to_string();
    let bytes = format!("{POST_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
    match exchange(crm, bytes.as_bytes(), false, false) {
        Ok(Reply::Answered(response)) if response.status == 201 => {
            let created: Value = serde_json::from_slice(&response.body).expect("json");
            created["id"].as_str().expect("id").to_owned()
        }
        other => panic!("cannot create an activity: {other:?}"),
    }
}

#[test]
fn well_formed_requests_with_hostile_content_get_json_answers_below_500() {
    let crm = Crm::start(SHORT_READ_TIMEOUT);
    let activity_id = create_activity(&crm);
    let config = ProptestConfig::with_cases(cases(256));
    proptest!(config, |(request in request(activity_id.clone()))| {
        let outcome = check_well_formed(&crm, &request);
        undo_admin_changes(&crm, &request).map_err(TestCaseError::fail)?;
        outcome.map_err(|why| {
            let shown: String = String::from_utf8_lossy(&request.to_bytes()).chars().take(2000).collect();
            TestCaseError::fail(format!("{why}\nrequest: {shown:?}"))
        })?;
        health(&crm).map_err(TestCaseError::fail)?;
    });
    // Injection strings went in as data only: the seed is intact.
    let request =
        format!("GET /contact/contact-1 HTTP/1.1\r\nHost: m\r\nAuthorization: {DEV_AUTH}\r\n\r\n");
    match exchange(&crm, request.as_bytes(), false, false) {
        Ok(Reply::Answered(response)) => assert_eq!(response.status, 200, "{response:?}"),
        other => panic!("seed contact unreadable: {other:?}"),
    }
    crm.stop().expect("clean shutdown");
}
