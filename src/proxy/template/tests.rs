//! Templates against node's results for engine.ts, binding by hand-made
//! cases, and the round trip (render, then bind) as a property.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn context() -> Value {
    json!({
        "a": 1, "s": "x", "n": null, "o": {"k": [1, 2]}, "arr": [1, null, "b"],
        "big": 1e21, "f": 0.1 + 0.2, "neg0": -0.0, "t": true, " ": "space"
    })
}

/// Each expected value is what node prints for engine.ts's
/// renderTemplateString over the same context (JSON.stringify of the
/// result; `None` where it returns undefined).
#[test]
fn rendering_matches_app_connect() {
    let ctx = context();
    let cases: &[(&str, Option<Value>)] = &[
        ("{{a}}", Some(json!(1))),
        ("{{ a }}", Some(json!(1))),
        ("{{o}}", Some(json!({"k": [1, 2]}))),
        ("{{missing}}", None),
        ("{{n}}", Some(Value::Null)),
        ("x{{a}}", Some(json!("x1"))),
        ("{{n}}-{{missing}}", Some(json!("-"))),
        ("o={{o}}", Some(json!("o=[object Object]"))),
        ("{{arr}}!", Some(json!("1,,b!"))),
        ("{{big}} {{f}}", Some(json!("1e+21 0.30000000000000004"))),
        ("{{t}}{{a}}", Some(json!("true1"))),
        // A blank expression: whole, it reads the key " "; mixed, it is
        // trimmed to "" and reads the whole context.
        ("{{   }}", Some(json!("space"))),
        ("a{{  }}b", Some(json!("a[object Object]b"))),
        ("{{a}}}", Some(json!("1}"))),
        ("{{{a}}", None),
        ("{{{a}}}", Some(json!("}"))),
        ("{{a} b}}", Some(json!("{{a} b}}"))),
        ("{{x", Some(json!("{{x"))),
        ("{{o.k.1}}", Some(json!(2))),
        ("{{a}} {{s}}", Some(json!("1 x"))),
        ("\u{a0}{{a}}\u{a0}", Some(json!("\u{a0}1\u{a0}"))),
        ("{{\u{a0}a\u{a0}}}", Some(json!(1))),
        // U+0085 is not whitespace to JavaScript, so it is part of the name.
        ("{{\u{85}a}}", None),
        ("{{neg0}}|{{neg0}}", Some(json!("0|0"))),
        ("{{s.length}}{{arr.length}}", Some(json!("13"))),
        ("{{a}}{{s}}", Some(json!("1x"))),
        ("pre {{ o.k }} post", Some(json!("pre 1,2 post"))),
    ];
    for (source, expected) in cases {
        assert_eq!(
            Template::parse(source).render(&ctx),
            *expected,
            "renderTemplateString({source:?})"
        );
    }
    assert_eq!(Template::parse("{{$}}").render(&ctx), Some(ctx.clone()));
}

#[test]
fn whole_and_mixed_are_told_apart() {
    assert_eq!(Template::parse("{{ a.b }}").whole_expression(), Some("a.b"));
    assert_eq!(Template::parse("{{   }}").whole_expression(), Some(" "));
    assert_eq!(Template::parse("x{{a}}").whole_expression(), None);
    assert_eq!(Template::parse("{{a}}{{b}}").whole_expression(), None);
    assert_eq!(
        Template::parse("/activities/{{ thirdPartyLogId }}?x=1")
            .pieces()
            .into_owned(),
        vec![
            Piece::Literal("/activities/".into()),
            Piece::Expr("thirdPartyLogId".into()),
            Piece::Literal("?x=1".into()),
        ]
    );
    assert_eq!(Template::parse("a{{b}}cd").literal_len(), 3);
    assert_eq!(
        Template::parse("{{a}}-{{b.c}}").expressions(),
        vec!["a", "b.c"]
    );
}

#[test]
fn templates_that_never_close_are_found() {
    let problem = |s: &str| Template::parse(s).problem().map(|p| p.to_string());
    assert_eq!(problem("{{x"), Some("template \"{{x\" never closes".into()));
    assert_eq!(
        problem("Call {{contactInfo.name"),
        Some("template \"Call {{contactInfo.name\" never closes".into())
    );
    assert_eq!(
        problem("a {{}} b"),
        Some("template \"a {{}} b\" has a \"{{\" that starts no expression (write {{name.path}}, with no \"}\" inside)".into())
    );
    assert_eq!(
        problem("{{a} {{b}}"),
        Some("template \"{{a} {{b}}\" has a \"{{\" that starts no expression (write {{name.path}}, with no \"}\" inside)".into())
    );
    for fine in ["{{a}}", "x {{a}} y", "{x}", "}}", "{{{a}}", "{ {a}}", ""] {
        assert_eq!(problem(fine), None, "{fine:?}");
    }
}

#[test]
fn render_deep_keeps_order_and_drops_undefined_like_json_stringify() {
    let config = Json::parse(r#"{"z": "{{s}}", "a": "{{missing}}", "list": ["{{missing}}", "{{a}}", 3, null], "2": true}"#)
        .expect("valid JSON");
    let rendered = TemplateValue::from_json(&config).render(&context());
    assert_eq!(
        rendered.to_json_text().as_deref(),
        Some(r#"{"2":true,"z":"x","list":[null,1,3,null]}"#)
    );
    assert_eq!(
        rendered.to_value(),
        Some(json!({"2": true, "z": "x", "list": [null, 1, 3, null]}))
    );
    assert_eq!(Template::parse("{{missing}}").render(&context()), None);
    assert!(TemplateValue::Text(Template::parse("{{missing}}"))
        .render(&context())
        .to_json_text()
        .is_none());
}

#[test]
fn binding_reads_objects_by_key_arrays_by_position_and_text_by_literals() {
    let template = TemplateValue::from_json(
        &Json::parse(
            r#"{"subject": "{{subject}}", "kind": "call", "count": 2,
                "title": "Call with {{contactInfo.name}} at {{startTime}}",
                "links": [{"type": "Contact", "id": "{{contactInfo.id}}"}, "{{callLog.sessionId}}"],
                "missing": "{{note}}"}"#,
        )
        .expect("valid JSON"),
    );
    let received = json!({
        "subject": "Outbound Call to Jane", "kind": "call", "count": 2,
        "title": "Call with Jane Doe at 2024-01-15T15:30:00.000Z",
        "links": [{"type": "Contact", "id": 42}, "s-1"], "extra": true
    });
    let mut bound = Bindings::default();
    let fit = template.bind(&received, &mut bound);
    assert_eq!(fit.conflicts, 0);
    assert_eq!(
        bound.get("subject").as_deref(),
        Some(&json!("Outbound Call to Jane"))
    );
    assert_eq!(
        bound.get("contactInfo.name").as_deref(),
        Some(&json!("Jane Doe"))
    );
    assert_eq!(
        bound.get("startTime").as_deref(),
        Some(&json!("2024-01-15T15:30:00.000Z"))
    );
    assert_eq!(
        bound.get("contactInfo.id").as_deref(),
        Some(&json!(42)),
        "raw, not text"
    );
    assert_eq!(
        bound.get("callLog.sessionId").as_deref(),
        Some(&json!("s-1"))
    );
    assert_eq!(bound.get("note"), None, "a missing key binds nothing");
    // Literal text matched: keys, "call", "2", "Call with ", " at ", "type", "Contact", "id".
    let keys = "subjectkindcounttitlelinks".len() + "typeid".len();
    assert_eq!(
        fit.literal,
        keys + "call".len() + 1 + "Call with  at ".len() + "Contact".len()
    );
    assert_eq!(
        bound.to_context(),
        json!({"subject": "Outbound Call to Jane", "startTime": "2024-01-15T15:30:00.000Z",
               "contactInfo": {"name": "Jane Doe", "id": 42}, "callLog": {"sessionId": "s-1"}})
    );
}

#[test]
fn text_that_does_not_fit_binds_nothing_and_conflicts() {
    let template = Template::parse("SMS {{message.id}} with {{contactInfo.name}}");
    let mut bound = Bindings::default();
    assert_eq!(
        template.bind(&json!("Outbound Call to Jane"), &mut bound),
        Fit::conflict()
    );
    assert!(bound.is_empty());
    assert_eq!(
        template.bind(&json!(5), &mut bound),
        Fit::conflict(),
        "a number is no text"
    );
    let fit = template.bind(&json!("SMS 77 with Jane with Bob"), &mut bound);
    assert_eq!(
        fit,
        Fit {
            literal: 10,
            conflicts: 0
        }
    );
    assert_eq!(bound.get("message.id").as_deref(), Some(&json!("77")));
    // The first " with " is taken: the rest belongs to the last expression.
    assert_eq!(
        bound.get("contactInfo.name").as_deref(),
        Some(&json!("Jane with Bob"))
    );

    let mut literal_only = Bindings::default();
    assert_eq!(
        Template::parse("call").bind_text("call", &mut literal_only),
        Fit {
            literal: 4,
            conflicts: 0
        }
    );
    assert_eq!(
        Template::parse("call").bind_text("calls", &mut literal_only),
        Fit::conflict()
    );
    assert_eq!(
        Template::parse("ab{{x}}b").bind_text("ab", &mut literal_only),
        Fit::conflict()
    );
    assert!(literal_only.is_empty());
}

#[test]
fn adjacent_expressions_cannot_be_split() {
    let mut bound = Bindings::default();
    let fit = Template::parse("{{a}}{{b}}-{{c}}").bind_text("12-3", &mut bound);
    assert_eq!(
        fit,
        Fit {
            literal: 1,
            conflicts: 0
        }
    );
    assert_eq!(bound.get("a"), None);
    assert_eq!(bound.get("b"), None);
    assert_eq!(bound.get("c").as_deref(), Some(&json!("3")));
}

#[test]
fn literals_must_agree() {
    let template = TemplateValue::from_json(
        &Json::parse(r#"{"type": "sms", "done": 1, "ok": true}"#).expect("JSON"),
    );
    let mut bound = Bindings::default();
    let fit = template.bind(
        &json!({"type": "call", "done": 1.0, "ok": "true"}),
        &mut bound,
    );
    assert_eq!(fit.conflicts, 1, "\"call\" is not \"sms\"");
    assert_eq!(fit.literal, "typedoneok".len() + 1 + 4);
    let fit = template.bind(&json!(["not", "an object"]), &mut bound);
    assert_eq!(fit, Fit::conflict());
}

#[test]
fn the_same_expression_twice_keeps_the_raw_value() {
    let mut bound = Bindings::default();
    Template::parse("/activities/{{id}}").bind_text("/activities/12", &mut bound);
    Template::parse("{{id}}").bind(&json!(12), &mut bound);
    assert_eq!(bound.get("id").as_deref(), Some(&json!(12)));
    assert!(bound.disagreements().is_empty());
    Template::parse("{{id}}").bind(&json!(13), &mut bound);
    assert_eq!(bound.disagreements(), ["id".to_string()]);
    assert_eq!(
        bound.get("id").as_deref(),
        Some(&json!(12)),
        "the first value stays"
    );
}

#[test]
fn a_bound_object_answers_for_its_fields() {
    let mut bound = Bindings::default();
    bound.insert("contactInfo", json!({"id": "c-1", "name": "Jane"}), true);
    assert_eq!(bound.get("contactInfo.id").as_deref(), Some(&json!("c-1")));
    assert_eq!(bound.get("contactInfo.phone"), None);
}

// ---- round trip: whatever a template renders, binding reads back ----

/// Literals come from characters values never hold, so each mixed template
/// splits one way only.
const LITERAL_CHARS: &str = "/:_ |";

fn literal() -> BoxedStrategy<String> {
    proptest::collection::vec(
        proptest::sample::select(LITERAL_CHARS.chars().collect::<Vec<_>>()),
        1..4,
    )
    .prop_map(|chars| chars.into_iter().collect())
    .boxed()
}

fn text_value() -> BoxedStrategy<Value> {
    prop_oneof![
        "[a-z0-9]{0,8}".prop_map(Value::from),
        (0u32..100_000).prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
    .boxed()
}

fn any_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![text_value(), "[ -~]{0,12}".prop_map(Value::from),];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A template tree over variables v0..vN; `Some(n)` in a leaf is variable n,
/// mixed leaves list their variables with literals between.
#[derive(Debug, Clone)]
enum Shape {
    Whole(usize),
    Mixed {
        lead: Option<String>,
        parts: Vec<(usize, String)>,
        last: usize,
    },
    Literal(Value),
    Array(Vec<Shape>),
    Object(Vec<(String, Shape)>),
}

fn shape(vars: usize) -> BoxedStrategy<Shape> {
    let leaf = prop_oneof![
        (0..vars).prop_map(Shape::Whole),
        (
            proptest::option::of(literal()),
            proptest::collection::vec((0..vars, literal()), 0..3),
            0..vars
        )
            // With no literal at all, "{{t0}}" would be a whole expression.
            .prop_map(|(lead, parts, last)| {
                let lead = if lead.is_none() && parts.is_empty() {
                    Some(":".to_owned())
                } else {
                    lead
                };
                Shape::Mixed { lead, parts, last }
            }),
        prop_oneof![
            Just(json!(1)),
            Just(json!("lit")),
            Just(Value::Null),
            Just(json!(false))
        ]
        .prop_map(Shape::Literal),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Shape::Array),
            proptest::collection::btree_map("[a-z]{1,5}", inner, 0..4)
                .prop_map(|m| Shape::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Whole expressions read w0..w3 (any JSON, or undefined); mixed text reads
/// t0..t3 (values whose printed form holds no literal character).
fn to_json(shape: &Shape) -> Json {
    match shape {
        Shape::Whole(n) => Json::String(format!("{{{{ w{n} }}}}")),
        Shape::Mixed { lead, parts, last } => {
            let mut text = lead.clone().unwrap_or_default();
            for (n, sep) in parts {
                text.push_str(&format!("{{{{t{n}}}}}{sep}"));
            }
            text.push_str(&format!("{{{{t{last}}}}}"));
            Json::String(text)
        }
        Shape::Literal(v) => serde_json::from_value(v.clone()).unwrap_or(Json::Null),
        Shape::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Shape::Object(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}

proptest! {
    // A failure prints its smallest input; no regression file is written
    // into the source tree.
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn binding_the_rendered_output_recovers_every_expression(
        shape in shape(4),
        whole_values in proptest::collection::vec(proptest::option::of(any_value()), 4),
        text_values in proptest::collection::vec(proptest::option::of(text_value()), 4),
    ) {
        let mut context = serde_json::Map::new();
        for (n, v) in whole_values.iter().enumerate() {
            if let Some(v) = v { context.insert(format!("w{n}"), v.clone()); }
        }
        for (n, v) in text_values.iter().enumerate() {
            if let Some(v) = v { context.insert(format!("t{n}"), v.clone()); }
        }
        let context = Value::Object(context);
        let template = TemplateValue::from_json(&to_json(&shape));
        let Some(sent) = template.render(&context).to_value() else {
            // The whole template was one undefined expression: nothing sent.
            return Ok(());
        };
        // What went over the wire is JSON text.
        let wire = serde_json::to_string(&sent).expect("serialises");
        let received: Value = serde_json::from_str(&wire).expect("parses");
        let mut bound = Bindings::default();
        let fit = template.bind(&received, &mut bound);
        prop_assert_eq!(fit.conflicts, 0, "rendered output always fits its template");
        prop_assert!(bound.disagreements().is_empty());
        for (expr, got) in bound.iter() {
            let expected = path::get(&context, expr).map(Cow::into_owned);
            if expr.starts_with('w') {
                // The raw value; an undefined one in a list went as null.
                prop_assert_eq!(
                    Some(got.clone()).filter(|v| !v.is_null()),
                    expected.filter(|v| !v.is_null()),
                    "{}", expr
                );
            } else {
                // Text binds what the value printed as.
                let printed = match expected {
                    None | Some(Value::Null) => String::new(),
                    Some(v) => js::to_string(&v),
                };
                prop_assert_eq!(got, &Value::String(printed), "{}", expr);
            }
        }
        // Every expression whose place reached the wire was bound: all text,
        // and every whole expression with a value.
        for expr in template.expressions() {
            let defined = path::get(&context, expr).is_some_and(|v| !v.is_null());
            if expr.starts_with('t') || defined {
                prop_assert!(bound.get(expr).is_some(), "{} reached the wire but was not bound", expr);
            }
        }
    }
}
