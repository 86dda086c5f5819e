//! The JSON Schema of an operation's 2xx answer, as its layout makes it:
//! every path App Connect reads is there (an object with that key, a list
//! or an object with that index on the way) and holds the kind of value
//! mockcrm puts there; stored fields sit beside them unconstrained. The
//! same rules as `build.rs` decide shared paths and the paths a
//! `platformAdditionalInfoPaths` entry holds.
//!
//! The kinds are those the server's views carry (ids, names and bodies are
//! strings; a contact's type, a user's email and timezone name may be
//! null; what mockcrm holds no value for is null); `tests/suite`'s OpenAPI
//! tests check live answers against these schemas.
//!
//! Pure: a config in, JSON out.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::build::{parts, settle, under_body, Want};
use super::layout::{layout, Slot, Source};
use crate::proxy::config::ProxyConfig;
use crate::proxy::{js, Operation};

/// What a source's value is, and whether it can be missing (`None`).
fn kind(source: Source<'_>) -> (Value, bool) {
    let text = json!({"type": "string"});
    let id = json!({"type": "string", "minLength": 1});
    let text_or_null = json!({"type": ["string", "null"]});
    match source {
        Source::LogId | Source::ContactId | Source::UserId => (id, false),
        Source::Subject
        | Source::Note
        | Source::FullBody
        | Source::ContactName
        | Source::ContactPhone
        | Source::ContactCreatedDate
        | Source::UserName
        | Source::LicenseStatus
        | Source::LicenseDescription => (text, false),
        Source::ContactType | Source::UserEmail | Source::UserTimezoneName => (text_or_null, true),
        Source::LicenseValid => (json!({"type": "boolean"}), false),
        Source::ContactTitle
        | Source::ContactCompany
        | Source::ContactMostRecentActivityDate
        | Source::ContactAdditionalInfo
        | Source::Nothing => (json!({"type": "null"}), true),
        // A stored field of the user's, or the object paths inside make.
        Source::UserField(_) => (json!({}), true),
        Source::Contacts | Source::Users => (json!({"type": "array"}), false),
    }
}

/// A node of the answer: a value's schema, or the paths inside it.
#[derive(Default)]
struct Node {
    schema: Option<Value>,
    /// Each part with its node, and whether an answer always holds it.
    children: BTreeMap<String, (Node, bool)>,
}

impl Node {
    fn insert(&mut self, parts: &[&str], schema: Value, always: bool) {
        match parts.split_first() {
            None => self.schema = Some(schema),
            Some((first, rest)) => {
                let (child, child_always) = self
                    .children
                    .entry((*first).to_owned())
                    .or_insert_with(|| (Node::default(), false));
                *child_always |= always;
                child.insert(rest, schema, always);
            }
        }
    }

    fn to_schema(&self) -> Value {
        if self.children.is_empty() {
            return self.schema.clone().unwrap_or_else(|| json!({}));
        }
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut items: Vec<(usize, bool)> = Vec::new();
        for (part, (child, always)) in &self.children {
            let schema = child.to_schema();
            if *always {
                required.push(Value::from(part.as_str()));
            }
            if let Some(index) = js::array_index(part) {
                items.push((index, *always));
            }
            properties.insert(part.clone(), schema);
        }
        let mut schema = Map::new();
        if items.is_empty() {
            schema.insert("type".into(), Value::from("object"));
        } else {
            // An index makes a list, unless stored fields already made an
            // object there; then the index is one of its keys. A list is
            // only held to its length: schemathesis reads `prefixItems` in
            // answers as a draft-4 tuple and rejects the schema.
            schema.insert("type".into(), json!(["object", "array"]));
            if let Some(min) = items.iter().filter(|(_, a)| *a).map(|(i, _)| i + 1).max() {
                schema.insert("minItems".into(), Value::from(min));
            }
        }
        if !required.is_empty() {
            schema.insert("required".into(), Value::Array(required));
        }
        schema.insert("properties".into(), Value::Object(properties));
        Value::Object(schema)
    }
}

/// The schema of what a list of `slots` (item paths) makes of each item.
fn tree(slots: &[Slot<'_>], item_schema: &dyn Fn() -> Value, relative: bool) -> Value {
    let wants: Vec<Want<'_, Source<'_>>> = slots
        .iter()
        .map(|slot| Want {
            key: slot.key.clone(),
            path: slot.path,
            value: Some(slot.source).filter(|s| *s != Source::Nothing),
            mapped: slot.mapped,
            yields: slot.yields,
        })
        .collect();
    let mut root = Node::default();
    for want in settle(&wants) {
        let (schema, optional) = match want.value {
            Some(Source::Contacts | Source::Users) => {
                (json!({"type": "array", "items": item_schema()}), false)
            }
            Some(source) => {
                let (schema, optional) = kind(source);
                (schema, optional)
            }
            // Nothing of its own: null, or the object the paths inside it
            // make.
            None => (json!({"type": "null"}), true),
        };
        // A mapped path is always there (null when there is no value); a
        // default only when there is a value.
        let always = want.mapped || !optional;
        let schema = if want.mapped || !optional {
            schema
        } else {
            json!({})
        };
        let path_parts = if relative {
            parts(want.path)
        } else {
            under_body(want.path).unwrap_or_default()
        };
        root.insert(&path_parts, schema, always);
    }
    root.to_schema()
}

/// The schema of `op`'s 2xx answer in `config`'s CRM.
pub fn answer_schema(config: &ProxyConfig, op: Operation) -> Value {
    let layout = layout(config, op);
    let item = || {
        let schema = tree(&layout.items, &|| json!({}), true);
        if layout.items.is_empty() {
            json!({"type": "object"})
        } else {
            schema
        }
    };
    let mut schema = tree(&layout.slots, &item, false);
    if let Value::Object(map) = &mut schema {
        if map.is_empty() {
            map.insert("type".into(), Value::from("object"));
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::answer::{answer, AnswerValues, ContactView, UserView};
    use crate::proxy::fixtures;

    fn validates(schema: &Value, instance: &Value) -> bool {
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        const URL: &str = "urn:mockcrm:answer";
        compiler
            .add_resource(URL, schema.clone())
            .expect("a resource");
        let mut schemas = boon::Schemas::new();
        let index = compiler.compile(URL, &mut schemas).expect("compiles");
        schemas.validate(instance, index).is_ok()
    }

    #[test]
    fn every_fixture_answer_fits_its_schema() {
        let contact = ContactView {
            id: json!("con_1"),
            name: Some(json!("Jane")),
            phone: Some(json!("+1")),
            created_date: Some(json!("2024-01-01T00:00:00Z")),
            fields: serde_json::from_value(json!({"id": "con_1", "type": null}))
                .unwrap_or_default(),
            ..ContactView::default()
        };
        let user = UserView {
            id: json!("crm-user-1"),
            name: Some(json!("Test User")),
            fields: serde_json::from_value(json!({"id": "crm-user-1", "email": null}))
                .unwrap_or_default(),
            ..UserView::default()
        };
        let values = AnswerValues {
            id: Some(json!("act_1")),
            subject: Some(json!("S")),
            note: Some(json!("N")),
            full_body: Some(json!("B")),
            contacts: vec![contact.clone()],
            contact: Some(contact),
            user: Some(user.clone()),
            users: vec![user],
            ..AnswerValues::default()
        };
        for fixture in fixtures::ALL {
            let config = fixtures::config(fixture);
            for op in config.operations.iter().map(|o| o.operation) {
                let schema = answer_schema(&config, op);
                let built = answer(&config, op, &values).expect("answers");
                assert!(
                    validates(&schema, &built),
                    "{} {op}: {built} against {schema}",
                    fixture.0
                );
            }
        }
        let redtail = fixtures::config(fixtures::REDTAIL);
        assert_eq!(
            answer_schema(&redtail, Operation::CreateCallLog),
            json!({"type": "object", "required": ["activity"], "properties": {"activity": {
                "type": "object", "required": ["id"], "properties": {"id": {"type": "string", "minLength": 1}}}}})
        );
    }
}
