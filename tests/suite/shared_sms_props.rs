//! Properties of the shared-SMS composer over generated conversations:
//! messages in and out, notes, assignments and records core leaves out,
//! times as epoch milliseconds or ISO strings (with `Z` or an offset),
//! names missing, repeated or the customer's own, every offset form.
//!
//! In the `clean` style, for every conversation and format:
//! - `Started` is the earliest time the conversation carries and `Ended` the
//!   latest (the last message's or entry's), and the duration is the time
//!   between them as days and the hours left over;
//! - entries are newest first, whatever the form of their times;
//! - every participant is listed once, the customer first and only there;
//! - no `undefined` or `null` stands for a missing name;
//! - HTML holds no tag but the layout's, and Markdown renders each text as
//!   written;
//!
//! and neither style panics on anything: any field replaced by any JSON
//! value, hostile strings as times, odd offsets. What is not a conversation
//! is an error of one line.
//!
//! Cases default to 500 per property; `PROPTEST_CASES` overrides.

use chrono::{DateTime, Duration, NaiveDateTime, SecondsFormat, Utc};
use mockcrm::interface::LogFormat;
use mockcrm::{compose_shared_sms, SharedSmsOptions, SharedSmsRequest, SharedSmsStyle};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Value};

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    Config {
        cases,
        ..Config::default()
    }
}

const CUSTOMER: &str = "Casey Customer";

#[derive(Debug, Clone)]
enum Kind {
    Inbound,
    Outbound(Option<String>),
    Note(Option<String>),
    Assignment(Option<String>),
    /// A `ThreadResolvedHint`: not listed, but its initiator took part.
    Resolved(Option<String>),
}

#[derive(Debug, Clone)]
struct GenEntity {
    kind: Kind,
    millis: i64,
    iso: bool,
    text: String,
}

#[derive(Debug, Clone)]
struct GenConversation {
    format: LogFormat,
    /// Minutes east of UTC, and whether given as "+hh:mm" (else a number).
    offset: i32,
    offset_text: bool,
    creation: Option<(i64, bool)>,
    entities: Vec<GenEntity>,
    messages: Vec<(i64, bool)>,
}

const START: i64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z

fn agent() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => prop::sample::select(vec!["Ann Agent", "Bo <Lead>", "Zoë & Co", "Sam O'Connor", "*Star* _x_", CUSTOMER])
            .prop_map(|s| Some(s.to_owned())),
        1 => Just(None),
    ]
}

fn entity() -> impl Strategy<Value = GenEntity> {
    let kind = prop_oneof![
        Just(Kind::Inbound),
        agent().prop_map(Kind::Outbound),
        agent().prop_map(Kind::Note),
        agent().prop_map(Kind::Assignment),
        agent().prop_map(Kind::Resolved),
    ];
    let text = prop_oneof![
        "[a-zA-Z0-9 ,.!?]{0,30}",
        "[a-z]{1,8}\n[a-z]{1,8}",
        Just("<b>x</b> & 'y' \"z\"".to_owned()),
        Just("# not a heading\n- not a list\n1. nor this".to_owned()),
        Just("*bold* _it_ `code` [link](u) \\ $& ~~s~~".to_owned()),
        Just("line\n\nafter a blank\n".to_owned()),
    ];
    (kind, 0i64..20 * 86_400_000, any::<bool>(), text).prop_map(|(kind, millis, iso, text)| {
        GenEntity {
            kind,
            millis: START + millis,
            iso,
            text,
        }
    })
}

fn conversation() -> impl Strategy<Value = GenConversation> {
    let format = prop::sample::select(LogFormat::ALL.to_vec());
    let offset = (-14i32 * 4..=14 * 4).prop_map(|quarters| quarters * 15);
    let time = (0i64..20 * 86_400_000, any::<bool>()).prop_map(|(t, iso)| (START + t, iso));
    (
        format,
        offset,
        any::<bool>(),
        prop::option::of(time.clone()),
        prop::collection::vec(entity(), 0..12),
        prop::collection::vec(time, 0..5),
    )
        .prop_map(
            |(format, offset, offset_text, creation, entities, messages)| GenConversation {
                format,
                offset,
                offset_text,
                creation,
                entities,
                messages,
            },
        )
}

fn time_json(millis: i64, iso: bool) -> Value {
    if iso {
        let instant = DateTime::from_timestamp_millis(millis).expect("in range");
        Value::from(instant.to_rfc3339_opts(SecondsFormat::Millis, true))
    } else {
        Value::from(millis)
    }
}

fn named(name: &Option<String>) -> Value {
    name.as_ref()
        .map_or(json!({}), |name| json!({ "name": name }))
}

impl GenConversation {
    fn to_json(&self) -> Value {
        let entities: Vec<Value> = self
            .entities
            .iter()
            .map(|e| {
                let mut entity = match &e.kind {
                    Kind::Inbound => json!({"recordType": "AliveMessage", "direction": "Inbound",
                        "from": {"phoneNumber": "+15550100", "name": CUSTOMER}}),
                    Kind::Outbound(who) => {
                        json!({"recordType": "AliveMessage", "direction": "Outbound",
                        "author": named(who)})
                    }
                    Kind::Note(who) => json!({"recordType": "AliveNote", "author": named(who)}),
                    Kind::Assignment(who) => {
                        json!({"recordType": "ThreadAssignedHint", "assignee": named(who)})
                    }
                    Kind::Resolved(who) => {
                        json!({"recordType": "ThreadResolvedHint", "initiator": named(who)})
                    }
                };
                entity["creationTime"] = time_json(e.millis, e.iso);
                entity["text"] = Value::from(e.text.clone());
                entity
            })
            .collect();
        let messages: Vec<Value> = self
            .messages
            .iter()
            .map(|&(millis, iso)| json!({"lastModifiedTime": time_json(millis, iso)}))
            .collect();
        let mut conversation = json!({
            "conversationId": "42", "type": "SMS", "messages": messages, "entities": entities,
            "owner": {"name": "Support Queue", "extensionType": "Department"},
        });
        if let Some((millis, iso)) = self.creation {
            conversation["creationTime"] = time_json(millis, iso);
        }
        // A number under 16 is hours, so a quarter hour goes as text.
        let offset = if self.offset_text || self.offset.abs() < 16 {
            let sign = if self.offset < 0 { '-' } else { '+' };
            let minutes = self.offset.abs();
            Value::from(format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60))
        } else if self.offset % 60 == 0 {
            Value::from(self.offset / 60)
        } else {
            Value::from(self.offset)
        };
        json!({
            "logFormat": self.format.mime(), "conversation": conversation,
            "contactName": CUSTOMER, "timezoneOffset": offset,
        })
    }

    fn request(&self) -> SharedSmsRequest {
        serde_json::from_value(self.to_json()).expect("a generated request parses")
    }

    /// Every time the conversation carries (for clean's Started and Ended).
    fn times(&self) -> Vec<i64> {
        let listed = self
            .entities
            .iter()
            .filter(|e| !matches!(e.kind, Kind::Resolved(_)))
            .map(|e| e.millis);
        let messages = self.messages.iter().map(|&(millis, _)| millis);
        listed
            .chain(messages)
            .chain(self.creation.map(|(millis, _)| millis))
            .collect()
    }

    /// The wall clock at the user's offset. Offsets that are whole hours
    /// under 16 are sent as hours, the rest as minutes: both mean this.
    fn shown(&self, millis: i64, pattern: &str) -> String {
        let instant = DateTime::from_timestamp_millis(millis).expect("in range");
        (instant.naive_utc() + Duration::minutes(i64::from(self.offset)))
            .format(pattern)
            .to_string()
    }
}

fn clean(request: &SharedSmsRequest) -> (String, String) {
    let options = SharedSmsOptions::default().with_style(SharedSmsStyle::Clean);
    let log =
        compose_shared_sms(request, &options).expect("clean composes a generated conversation");
    (log.subject, log.body)
}

/// The text a Markdown body renders to, whitespace runs as one space.
fn rendered_markdown(body: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    let mut text = String::new();
    for event in Parser::new(body) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
    }
    squeeze(&text)
}

fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn clean_started_ended_and_duration_span_the_conversation(conversation in conversation()) {
        let times = conversation.times();
        prop_assume!(!times.is_empty());
        let mut plain = conversation.clone();
        plain.format = LogFormat::Plain;
        let (_, body) = clean(&plain.request());
        let (first, last) = (times.iter().min().copied().unwrap_or_default(), times.iter().max().copied().unwrap_or_default());
        let started = format!("Started: {} at {}", plain.shown(first, "%A, %B %d, %Y"), plain.shown(first, "%I:%M %p"));
        let ended = format!("Ended: {} at {}", plain.shown(last, "%A, %B %d, %Y"), plain.shown(last, "%I:%M %p"));
        let hours = (last - first) / 3_600_000;
        let duration = format!("Duration: {} d {} h", hours / 24, hours % 24);
        let lines: Vec<&str> = body.lines().collect();
        prop_assert_eq!(lines.get(1).copied(), Some(started.as_str()));
        prop_assert_eq!(lines.get(2).copied(), Some(ended.as_str()));
        prop_assert_eq!(lines.get(3).copied(), Some(duration.as_str()));
    }

    #[test]
    fn clean_entries_are_newest_first_whatever_the_form_of_their_times(conversation in conversation()) {
        let mut plain = conversation.clone();
        plain.format = LogFormat::Plain;
        prop_assume!(!plain.times().is_empty());
        let (_, body) = clean(&plain.request());
        let mut listed: Vec<&GenEntity> = plain.entities.iter()
            .filter(|e| !matches!(e.kind, Kind::Resolved(_) | Kind::Assignment(_)))
            .collect();
        listed.sort_by_key(|e| std::cmp::Reverse(e.millis));
        let expected: Vec<String> = listed.iter().map(|e| plain.shown(e.millis, "%Y-%m-%d %I:%M %p")).collect();
        let shown: Vec<String> = body.lines()
            .filter_map(|line| line.split_once(" said on ").or_else(|| line.split_once(" left a note on ")))
            .map(|(_, time)| time.trim_end_matches(':').to_owned())
            .collect();
        prop_assert_eq!(&shown, &expected);
        let parsed: Vec<NaiveDateTime> = shown.iter()
            .map(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%d %I:%M %p").expect("a time"))
            .collect();
        prop_assert!(parsed.windows(2).all(|pair| pair[0] >= pair[1]));
    }

    #[test]
    fn clean_lists_every_participant_once_and_names_nobody_undefined(conversation in conversation()) {
        prop_assume!(!conversation.times().is_empty());
        let mut plain = conversation.clone();
        plain.format = LogFormat::Plain;
        let (_, body) = clean(&plain.request());
        let participants: Vec<&str> = body.lines()
            .skip_while(|line| *line != "Participants")
            .skip(1)
            .take_while(|line| !line.is_empty())
            .collect();
        prop_assert_eq!(participants.first().copied(), Some("* Casey Customer (customer)"));
        let mut seen = std::collections::HashSet::new();
        for line in &participants {
            prop_assert!(seen.insert(*line), "listed twice: {}", line);
        }
        prop_assert!(!participants.contains(&"* Casey Customer"), "the customer again as an agent");
        for word in ["undefined", "null"] {
            prop_assert!(!body.contains(word), "{} in {}", word, body);
        }
    }

    #[test]
    fn clean_html_holds_only_its_own_tags_and_markdown_renders_texts_as_written(conversation in conversation()) {
        prop_assume!(!conversation.times().is_empty());
        let mut html = conversation.clone();
        html.format = LogFormat::Html;
        let (_, body) = clean(&html.request());
        let mut rest = body.clone();
        for tag in ["<div>", "</div>", "<b>", "</b>", "<br>", "<ul>", "</ul>", "<li>", "</li>",
                    "<hr>", "<p>", "</p>", "<i>", "</i>"] {
            rest = rest.replace(tag, "");
        }
        prop_assert!(!rest.contains('<') && !rest.contains('>'), "a stray tag in {}", body);

        let mut markdown = conversation.clone();
        markdown.format = LogFormat::Markdown;
        let (_, body) = clean(&markdown.request());
        let rendered = rendered_markdown(&body);
        for entity in &markdown.entities {
            if matches!(entity.kind, Kind::Inbound | Kind::Outbound(_) | Kind::Note(_)) {
                prop_assert!(rendered.contains(&squeeze(&entity.text)),
                    "{:?} not rendered as written in {:?}", entity.text, rendered);
            }
        }
        prop_assert!(rendered.contains("Casey Customer (customer)"));
    }

    #[test]
    fn neither_style_panics_when_any_field_is_any_json(
        conversation in conversation(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), json_value()), 1..4),
    ) {
        let mut value = conversation.to_json();
        for (index, replacement) in mutations {
            let paths = paths(&value);
            let path = index.get(&paths).clone();
            if let Some(slot) = value.pointer_mut(&path) {
                *slot = replacement;
            }
        }
        compose_every_way(&value)?;
    }

    #[test]
    fn neither_style_panics_on_hostile_times_or_offsets(
        conversation in conversation(),
        time in hostile_time(),
        offset in hostile_offset(),
    ) {
        let mut value = conversation.to_json();
        value["conversation"]["creationTime"] = time.clone();
        if let Some(first) = value["conversation"]["entities"].get_mut(0) {
            first["creationTime"] = time.clone();
        }
        value["conversation"]["messages"] = json!([{"lastModifiedTime": time}]);
        value["timezoneOffset"] = offset;
        compose_every_way(&value)?;
    }
}

/// Composes `value` in both styles and every format: an answer or an error
/// of one line, never a panic.
fn compose_every_way(value: &Value) -> Result<(), TestCaseError> {
    let request: SharedSmsRequest = match serde_json::from_value(value.clone()) {
        Ok(request) => request,
        Err(error) => {
            prop_assert!(!error.to_string().contains('\n'));
            return Ok(());
        }
    };
    let now = DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .expect("a valid time")
        .with_timezone(&Utc);
    for style in SharedSmsStyle::ALL {
        for format in LogFormat::ALL {
            let mut request = request.clone();
            request.log_format = Some(format);
            let options = SharedSmsOptions::default().with_style(style).with_now(now);
            if let Err(error) = compose_shared_sms(&request, &options) {
                let message = error.to_string();
                prop_assert!(
                    !message.is_empty() && !message.contains('\n'),
                    "{:?}",
                    message
                );
            }
        }
    }
    Ok(())
}

/// Every JSON pointer in `value`, the root included.
fn paths(value: &Value) -> Vec<String> {
    let mut out = vec![String::new()];
    match value {
        Value::Object(fields) => {
            for (key, inner) in fields {
                let key = key.replace('~', "~0").replace('/', "~1");
                out.extend(paths(inner).into_iter().map(|p| format!("/{key}{p}")));
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                out.extend(paths(inner).into_iter().map(|p| format!("/{index}{p}")));
            }
        }
        _ => {}
    }
    out
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |n| n.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        hostile_time(),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map("[a-zA-Z]{1,12}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn hostile_time() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!("2025-02-30T10:00:00Z")),
        Just(json!("2025-10-05T24:00:00Z")),
        Just(json!("+275760-09-13T00:00:00Z")),
        Just(json!("-271821-04-20T00:00:00Z")),
        Just(json!("+262142-12-31T23:59:59Z")),
        Just(json!("/Date(-8640000000000001)/")),
        Just(json!("2025-W41-3")),
        Just(json!(8.64e15)),
        Just(json!(-8.64e15)),
        Just(json!(1e300)),
        Just(json!(-0.5)),
        "[0-9+\\-:TZ. ,W/Date()]{0,30}".prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
    ]
}

fn hostile_offset() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("")),
        Just(json!("-300")),
        Just(json!("+99:99")),
        Just(json!("Z")),
        Just(json!(1e300)),
        Just(json!(-1e300)),
        Just(json!(15.999)),
        Just(json!(1.1)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |n| n.is_finite())
            .prop_map(Value::from),
        "[+\\-0-9:Z]{0,8}".prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}
