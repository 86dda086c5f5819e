//! Properties of serving proxy configs, over generated configs and inputs,
//! through real HTTP: whatever a valid config makes App Connect's engine
//! render, the served config reads back (the stored activity has the body,
//! subject, session, time and contact the request carried, and getCallLog
//! answers them where the mapping looks), an update is read back the same
//! way, and every valid input gets a logId.
//!
//! Configs vary in base path (an empty `baseUrl` among them), auth (Bearer, Basic, a header of their own,
//! OAuth, a two-part credential), log format, method, where the log id
//! travels (path, query, body), which fields the body carries under which
//! names, nesting and arrays, mixed templates, and the answer paths.
//! `PROPTEST_CASES` sets the number of cases (64 by default).

use std::sync::atomic::{AtomicU64, Ordering};

use mockcrm::{basic_header_for_key, load_proxy_config, ProxyConnector};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::proxy_lifecycle::serving;
use crate::support::DEV_KEY;

static CASE: AtomicU64 = AtomicU64::new(0);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A name a CRM might give a field or a path part.
fn ident() -> BoxedStrategy<String> {
    "[a-z][a-zA-Z_]{0,8}".boxed()
}

/// Field names, all different; never `kind` (a literal field of the
/// generated bodies) nor `note` (a field of the native view the test reads).
fn names(n: usize) -> BoxedStrategy<Vec<String>> {
    proptest::collection::hash_set(
        ident().prop_filter("reserved", |n| n != "kind" && n != "note"),
        n,
    )
    .prop_map(|set| set.into_iter().collect())
    .boxed()
}

fn auth() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(
            json!({"type": "apiKey", "scheme": "Bearer", "credentialTemplate": "{{apiKey}}", "encode": "none"})
        ),
        Just(
            json!({"type": "apiKey", "scheme": "Basic", "credentialTemplate": "{{apiKey}}:", "encode": "base64"})
        ),
        Just(
            json!({"type": "apiKey", "headerName": "X-Api-Key", "credentialTemplate": "{{apiKey}}", "encode": "none"})
        ),
        Just(json!({"type": "oauth", "scheme": "Bearer"})),
        Just(
            json!({"type": "apiKey", "scheme": "Token", "credentialTemplate": "{{apiKey}}:{{user.platformAdditionalInfo.userKey}}"})
        ),
    ]
    .boxed()
}

/// Where a whole expression sits in a body: at `key`, or one level down
/// under `parent`, or inside a one-item list (`links: [{key: …}]`). Parents
/// start with `_`, which no field name does.
#[derive(Debug, Clone)]
enum Place {
    Top,
    Nested(String),
    Listed(String),
}

fn place() -> BoxedStrategy<Place> {
    prop_oneof![
        3 => Just(Place::Top),
        1 => ident().prop_map(|p| Place::Nested(format!("_{p}"))),
        1 => ident().prop_map(|p| Place::Listed(format!("_{p}s"))),
    ]
    .boxed()
}

fn put(body: &mut Map<String, Value>, place: &Place, key: &str, template: Value) {
    match place {
        Place::Top => {
            body.insert(key.to_owned(), template);
        }
        Place::Nested(parent) => {
            let slot = body.entry(parent.clone()).or_insert_with(|| json!({}));
            if let Value::Object(map) = slot {
                map.insert(key.to_owned(), template);
            }
        }
        Place::Listed(parent) => {
            let slot = body.entry(parent.clone()).or_insert_with(|| json!([{}]));
            if let Some(Value::Object(map)) = slot.get_mut(0) {
                map.insert(key.to_owned(), template);
            }
        }
    }
}

/// How the update names its log.
#[derive(Debug, Clone, Copy)]
enum IdIn {
    Path,
    Query,
    Body,
}

#[derive(Debug, Clone)]
struct Shape {
    /// The base path; `None` for an empty `baseUrl`, served at the root.
    base: Option<String>,
    collection: String,
    auth: Value,
    format: &'static str,
    /// Field names: subject, body, start, session, contact, note, and the
    /// update's id field.
    keys: Vec<String>,
    places: Vec<Place>,
    /// The subject as a mixed template ("Call: {{subject}}").
    mixed_subject: bool,
    sends_note: bool,
    sends_session: bool,
    sends_start: bool,
    id_in: IdIn,
    update_method: &'static str,
    /// Answer paths: create's id, getCallLog's subject, note, full body.
    id_path: Vec<String>,
    read_parent: Option<String>,
    read_leaves: Vec<String>,
}

fn shape() -> BoxedStrategy<Shape> {
    (
        (
            proptest::option::weighted(0.8, ident()),
            ident(),
            auth(),
            prop_oneof![Just("text/plain"), Just("text/html"), Just("text/markdown")],
            names(7),
            proptest::collection::vec(place(), 5),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(IdIn::Path), Just(IdIn::Query), Just(IdIn::Body)],
            prop_oneof![Just("PUT"), Just("PATCH")],
        ),
        (
            proptest::collection::vec(ident(), 1..3),
            proptest::option::of(ident()),
            names(3),
        ),
    )
        .prop_map(
            |(
                (base, collection, auth, format, keys, places),
                (mixed_subject, sends_note, sends_session, sends_start, id_in, update_method),
                (id_path, read_parent, read_leaves),
            )| Shape {
                base,
                collection,
                auth,
                format,
                keys,
                places,
                mixed_subject,
                sends_note,
                sends_session,
                sends_start,
                id_in,
                update_method,
                id_path,
                read_parent,
                read_leaves,
            },
        )
        .boxed()
}

impl Shape {
    fn config(&self) -> Value {
        let k = &self.keys;
        let mut create = Map::new();
        let subject = if self.mixed_subject {
            json!("Call: {{subject}}")
        } else {
            json!("{{subject}}")
        };
        put(&mut create, &self.places[0], &k[0], subject.clone());
        put(
            &mut create,
            &self.places[1],
            &k[1],
            json!("{{composedLogDetails}}"),
        );
        if self.sends_start {
            put(&mut create, &self.places[2], &k[2], json!("{{startTime}}"));
        }
        if self.sends_session {
            put(
                &mut create,
                &self.places[3],
                &k[3],
                json!("{{callLog.sessionId}}"),
            );
        }
        put(
            &mut create,
            &self.places[4],
            &k[4],
            json!("{{contactInfo.id}}"),
        );
        if self.sends_note {
            create.insert(k[5].clone(), json!("{{note}}"));
        }
        create.insert("kind".into(), json!("call"));
        let mut update = Map::new();
        update.insert(k[0].clone(), subject);
        update.insert(k[1].clone(), json!("{{composedLogDetails}}"));
        if self.sends_note {
            update.insert(k[5].clone(), json!("{{note}}"));
        }
        let collection = format!("/{}s", self.collection);
        let item = format!("{collection}/{{{{thirdPartyLogId}}}}");
        let (update_url, update_query) = match self.id_in {
            IdIn::Path => (item.clone(), json!({})),
            IdIn::Query => (collection.clone(), json!({"id": "{{thirdPartyLogId}}"})),
            IdIn::Body => {
                update.insert(k[6].clone(), json!("{{thirdPartyLogId}}"));
                (collection.clone(), json!({}))
            }
        };
        let read = |leaf: &str| match &self.read_parent {
            Some(parent) => format!("body.{parent}.{leaf}"),
            None => format!("body.{leaf}"),
        };
        json!({
            "meta": {"name": "generated", "logFormat": self.format},
            "auth": self.auth,
            "requestDefaults": {"baseUrl": match &self.base {
                Some(base) => format!("https://crm.example/{base}/v2"),
                None => String::new(),
            }},
            "operations": {
                "createCallLog": {
                    "method": "POST", "url": collection, "body": create,
                    "responseMapping": {"idPath": format!("body.{}.id", self.id_path.join("."))},
                },
                "getCallLog": {
                    "method": "GET", "url": item,
                    "responseMapping": {
                        "subjectPath": read(&self.read_leaves[0]),
                        "notePath": read(&self.read_leaves[1]),
                        "fullBodyPath": read(&self.read_leaves[2]),
                    },
                },
                "updateCallLog": {
                    "method": self.update_method, "url": update_url, "query": update_query, "body": update,
                },
            },
        })
    }
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "\\PC{0,40}",
        "[a-zA-Z0-9 ,.'&-]{1,30}",
        Just("Call: {{subject}} }} {{ - Duration: 5\n$&".to_owned()),
        Just("李小龙 Zoë ✅ \u{1F4DE}\nsecond line".to_owned()),
    ]
    .boxed()
}

#[derive(Debug, Clone)]
struct Input {
    subject: Option<String>,
    direction: &'static str,
    name: String,
    contact: Value,
    body: String,
    note: Option<String>,
    start: Option<i64>,
    duration: Value,
    new_body: String,
    new_subject: String,
}

fn input() -> BoxedStrategy<Input> {
    (
        proptest::option::of(text()),
        prop_oneof![Just("Inbound"), Just("Outbound")],
        text(),
        prop_oneof![
            Just(json!("contact-1")),
            Just(json!("contact-3")),
            Just(json!(42)),
            Just(json!("not-a-contact"))
        ],
        text(),
        proptest::option::of(text()),
        proptest::option::of(946_684_800_000i64..2_051_222_400_000i64),
        prop_oneof![Just(json!(125)), Just(json!("pending")), Just(json!(0))],
        text(),
        "[a-zA-Z0-9 ]{1,20}",
    )
        .prop_map(
            |(
                subject,
                direction,
                name,
                contact,
                body,
                note,
                start,
                duration,
                new_body,
                new_subject,
            )| {
                Input {
                    subject,
                    direction,
                    name,
                    contact,
                    body,
                    note,
                    start,
                    duration,
                    new_body,
                    new_subject,
                }
            },
        )
        .boxed()
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn iso(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .expect("in range")
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn round_trip(shape: &Shape, input: &Input) -> Result<(), TestCaseError> {
    let config_json = shape.config();
    let config = load_proxy_config("generated.json", &config_json.to_string())
        .map_err(|e| TestCaseError::fail(format!("generated config does not load: {e}")))?
        .config;
    let session = format!("prop-{}", CASE.fetch_add(1, Ordering::Relaxed));
    let user = json!({"id": "crm-user-1", "accessToken": DEV_KEY, "platformAdditionalInfo": {"userKey": "uk"}});
    let auth = basic_header_for_key(DEV_KEY);
    let mut call_log =
        json!({"sessionId": session, "direction": input.direction, "duration": input.duration});
    if let Some(subject) = &input.subject {
        call_log["customSubject"] = json!(subject);
    }
    if let Some(start) = input.start {
        call_log["startTime"] = json!(start);
    }
    let mut create = object(json!({
        "user": user, "authHeader": auth, "callLog": call_log,
        "contactInfo": {"id": input.contact, "name": input.name},
        "composedLogDetails": input.body,
    }));
    if let Some(note) = &input.note {
        create.insert("note".into(), json!(note));
    }
    let subject = input.subject.clone().unwrap_or_else(|| {
        let to_from = if input.direction == "Outbound" {
            "to"
        } else {
            "from"
        };
        format!("{} Call {to_from} {}", input.direction, input.name)
    });

    runtime().block_on(async {
        let crm = serving(vec![config.clone()]).await;
        let engine = ProxyConnector::pointed_at(&config, &crm.server.url())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let created = engine.create_call_log(&create).await;
        let Some(log_id) = created.log_id.clone() else {
            return Err(TestCaseError::fail(format!(
                "no logId for a valid input: {:?}\nconfig: {config_json}",
                created.return_message
            )));
        };
        let (status, stored) =
            crate::support::answer(crm.dev(Method::GET, &format!("/activity/{log_id}"))).await;
        prop_assert_eq!(status, 200);
        prop_assert_eq!(
            &stored["body"],
            &json!(input.body),
            "body; config {}",
            config_json
        );
        prop_assert_eq!(&stored["subject"], &json!(subject));
        prop_assert_eq!(&stored["body_format"], &json!(shape.format));
        let expected_session = if shape.sends_session {
            json!(session)
        } else {
            Value::Null
        };
        prop_assert_eq!(&stored["session_id"], &expected_session);
        let expected_contact = match &input.contact {
            Value::String(id) if id.starts_with("contact-") => json!(id),
            _ => Value::Null,
        };
        prop_assert_eq!(&stored["contact_id"], &expected_contact);
        if let (true, Some(start)) = (shape.sends_start, input.start) {
            prop_assert_eq!(&stored["received_at"], &json!(iso(start)));
        }
        if shape.sends_note {
            prop_assert_eq!(
                &stored["note"],
                &input.note.as_ref().map_or(Value::Null, |n| json!(n))
            );
        }

        let get = object(json!({"user": user, "authHeader": auth, "callLogId": log_id}));
        let read = engine.get_call_log(&get).await;
        let info = read.call_log_info.ok_or_else(|| {
            TestCaseError::fail(format!("getCallLog failed: {:?}", read.return_message))
        })?;
        prop_assert_eq!(&info.full_body, &input.body);
        prop_assert_eq!(&info.subject, &subject);
        if let (true, Some(note)) = (shape.sends_note, &input.note) {
            prop_assert_eq!(&info.note, note);
        }

        let update = object(json!({
            "user": user, "authHeader": auth, "existingCallLog": {"thirdPartyLogId": log_id},
            "subject": input.new_subject, "composedLogDetails": input.new_body, "note": "edited",
            "startTime": input.start, "duration": 60,
        }));
        let updated = engine.update_call_log(&update).await;
        prop_assert_eq!(
            updated.return_message.map(|m| m.message),
            Some("Call log updated.".to_owned())
        );
        let read = engine.get_call_log(&get).await;
        let info = read.call_log_info.ok_or_else(|| {
            TestCaseError::fail(format!(
                "getCallLog after update failed: {:?}",
                read.return_message
            ))
        })?;
        prop_assert_eq!(&info.full_body, &input.new_body);
        prop_assert_eq!(&info.subject, &input.new_subject);
        if shape.sends_note {
            prop_assert_eq!(&info.note, "edited");
        }
        crm.shutdown().await;
        Ok(())
    })
}

/// `PROPTEST_CASES` when set, else 64.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn what_a_config_renders_the_served_config_reads_back(shape in shape(), input in input()) {
        round_trip(&shape, &input)?;
    }
}
