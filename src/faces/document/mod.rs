//! The OpenAPI 3.1 document and its route, `GET /openapi.json`: the native
//! and admin API (`openapi.json` beside this file), with the routes of the
//! served proxy configs and the part each served CRM face describes merged
//! in at start (by the front, which knows the faces). It is served with no auth,
//! and is not journaled: it describes the server rather than being part of
//! the CRM.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};
use warp::http::StatusCode;

use super::routes::{self, Endpoint};
use crate::web::crm::CrmFace;
use crate::web::ApiRequest;
use crate::web::ApiResponse;

/// The document, as it is served. The tests below check that it describes
/// exactly the route table; `tests/suite/openapi.rs` checks it against a
/// live server.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// `base` (the native document, with any served proxy configs' routes)
/// with each CRM face's paths and components merged in.
pub fn assemble(base: Bytes, faces: &[Arc<dyn CrmFace>]) -> Bytes {
    if faces.is_empty() {
        return base;
    }
    let Ok(Value::Object(mut document)) = serde_json::from_slice::<Value>(&base) else {
        // The unit tests below parse it; a build where it does not parse
        // never ships.
        return base;
    };
    for face in faces {
        let Value::Object(part) = face.openapi() else {
            continue;
        };
        for (section, value) in part {
            let Value::Object(entries) = value else {
                continue;
            };
            merge(&mut document, &section, entries);
        }
    }
    Bytes::from(Value::Object(document).to_string())
}

/// Adds `entries` to `document[section]` (`paths`) or, for `components`,
/// to each of its kinds (`schemas`, `securitySchemes`, …).
fn merge(document: &mut Map<String, Value>, section: &str, entries: Map<String, Value>) {
    let target = document
        .entry(section.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(target) = target else {
        return;
    };
    if section == "components" {
        for (kind, named) in entries {
            let Value::Object(named) = named else {
                continue;
            };
            if let Value::Object(kind) = target
                .entry(kind)
                .or_insert_with(|| Value::Object(Map::new()))
            {
                kind.extend(named);
            }
        }
    } else {
        target.extend(entries);
    }
}

pub fn answer(request: &ApiRequest, document: &Bytes) -> warp::reply::Response {
    let found = routes::resolved(
        request,
        routes::resolve(&request.method, &request.path),
        |endpoint| (endpoint == Endpoint::OpenApi).then_some(()),
    );
    let response = match found {
        Ok(_) => ApiResponse {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Some(document.clone()),
        },
        Err(error) => error.into_response(),
    };
    response.into_warp()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::{json, Value};

    use super::super::routes::{Auth, ROUTES};
    use super::DOCUMENT;

    const HTTP_METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// Follows `$ref`s (only local ones are used) until a value has none.
    fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        let mut value = value;
        while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("non-local $ref {reference}"));
            value = doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("$ref {reference} points nowhere"));
        }
        value
    }

    fn expected_security(auth: Auth) -> Value {
        match auth {
            Auth::None => json!([]),
            Auth::ApiKey => json!([{"apiKeyBearer": []}, {"apiKeyBasic": []}]),
            Auth::AdminKey => json!([{"adminBearer": []}]),
        }
    }

    #[test]
    fn the_document_lists_exactly_the_route_table() {
        let doc: Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: BTreeMap<(String, String), &Value> = BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (key, operation) in item.as_object().expect("path item") {
                if HTTP_METHODS.contains(&key.as_str()) {
                    documented.insert((key.to_uppercase(), path.clone()), operation);
                }
            }
        }
        let routed: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|route| (route.method.to_string(), route.path.to_owned()))
            .collect();
        let documented_keys: BTreeSet<(String, String)> = documented.keys().cloned().collect();
        assert_eq!(
            documented_keys.difference(&routed).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "documented but not routed"
        );
        assert_eq!(
            routed.difference(&documented_keys).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "routed but not documented"
        );

        let mut operation_ids = BTreeSet::new();
        for route in &ROUTES {
            let operation = documented[&(route.method.to_string(), route.path.to_owned())];
            let label = format!("{} {}", route.method, route.path);
            assert_eq!(
                operation["security"],
                expected_security(route.endpoint.auth()),
                "{label}: security"
            );
            let id = operation["operationId"].as_str().expect("operationId");
            assert!(operation_ids.insert(id.to_owned()), "{id} used twice");
            let parameters = operation["parameters"].as_array().cloned();
            for segment in route.path.split('/') {
                let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                    continue;
                };
                let declared = parameters.iter().flatten().any(|p| {
                    let p = resolve(&doc, p);
                    p["name"] == name && p["in"] == "path" && p["required"] == true
                });
                assert!(declared, "{label}: path parameter {name} not declared");
            }
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|status| status.starts_with('2')),
                "{label}: no success response"
            );
            for (status, response) in responses {
                let response = resolve(&doc, response);
                if !status.starts_with('2') {
                    let schema = &response["content"]["application/json"]["schema"];
                    let error = resolve(&doc, &schema["allOf"][0]);
                    assert_eq!(
                        error, &doc["components"]["schemas"]["Error"],
                        "{label} {status}: every error has the error shape"
                    );
                }
            }
        }
    }
}
