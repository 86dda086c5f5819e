//! The Bullhorn face's part of `GET /openapi.json`: one operation per row
//! of its route table (under its mount), request and answer schemas in
//! Bullhorn's shape, its security schemes (the `BhRestToken` session
//! header; the OAuth access token in `/login`'s query). Components are
//! prefixed `bullhorn` so they never collide with another face's.

use serde_json::{json, Map, Value};

use super::routes::{Endpoint, ROUTES};
use super::MOUNT;

const SESSION: &str = "bullhornSession";
const ACCESS_TOKEN: &str = "bullhornAccessToken";

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn answer(description: &str, name: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema(name)}},
    })
}

fn path(name: &str, schema: Value) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": schema})
}

fn query(name: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema})
}

fn text() -> Value {
    json!({"type": "string", "minLength": 1})
}

/// `(summary, parameters, body schema, answer schema)` of one route.
fn operation(endpoint: Endpoint) -> (&'static str, Vec<Value>, Option<&'static str>, &'static str) {
    let corp = path("corpToken", text());
    let entity = |names: &[&str]| path("entity", json!({"type": "string", "enum": names}));
    let names = super::wire::all_fields().join("|");
    let fields = query(
        "fields",
        false,
        json!({"type": "string", "pattern": format!("^([*]|({names})(,({names}))*)$")}),
    );
    let people = ["ClientContact", "Candidate", "Lead", "ClientCorporation"];
    match endpoint {
        Endpoint::Token => (
            "Exchange an authorization code or refresh token for tokens (parameters in the query, as App Connect sends them, or a form body)",
            vec![
                query("grant_type", true, json!({"type": "string", "enum": ["authorization_code", "refresh_token"]})),
                query("code", false, json!({"type": "string"})),
                query("refresh_token", false, json!({"type": "string"})),
                query("client_id", true, text()),
                query("client_secret", true, text()),
                query("redirect_uri", false, json!({"type": "string"})),
            ],
            None,
            "bullhornTokens",
        ),
        Endpoint::Login => (
            "Start a session: a BhRestToken and the corporation's restUrl",
            vec![
                query("version", false, json!({"type": "string"})),
                query("access_token", true, text()),
                query(
                    "ttl",
                    false,
                    json!({"type": "string", "pattern": "^([1-9][0-9]{0,2}|1[0-9]{3}|2[0-7][0-9]{2}|28[0-7][0-9]|2880)$"}),
                ),
            ],
            None,
            "bullhornLogin",
        ),
        Endpoint::Ping => ("When the session expires", vec![corp], None, "bullhornPing"),
        Endpoint::Settings => (
            "Settings (commentActionList)",
            vec![corp, path("settings", json!({"type": "string", "enum": ["commentActionList"]}))],
            None,
            "bullhornSettings",
        ),
        Endpoint::Meta => (
            "An entity's fields, with a status's options",
            vec![corp, entity(&["ClientContact", "Candidate", "Lead", "ClientCorporation", "Note", "CorporateUser"]), fields],
            None,
            "bullhornMeta",
        ),
        Endpoint::Search => (
            "Search people with a Lucene query (phone and name clauses, AND/OR/NOT)",
            vec![
                corp,
                entity(&people),
                fields,
                query("query", false, json!({"type": "string", "minLength": 1})),
                query("start", false, json!({"type": "string", "pattern": "^[0-9]{1,9}$"})),
                query("count", false, json!({"type": "string", "pattern": "^[0-9]{1,9}$"})),
            ],
            Some("bullhornSearchRequest"),
            "bullhornSearch",
        ),
        Endpoint::Create => (
            "Create a Note (a call or message log) or a person",
            vec![corp, entity(&["Note", "ClientContact", "Candidate", "Lead", "ClientCorporation"])],
            Some("bullhornEntityInput"),
            "bullhornChanged",
        ),
        Endpoint::Get => (
            "One Note or person, with the fields asked for",
            vec![
                corp,
                entity(&["Note", "ClientContact", "Candidate", "Lead", "ClientCorporation"]),
                path("id", json!({"type": "string", "pattern": "^[0-9]{1,18}$"})),
                fields,
            ],
            None,
            "bullhornEntity",
        ),
        Endpoint::Update => (
            "Change a Note: only the fields sent",
            vec![
                corp,
                entity(&["Note"]),
                path("id", json!({"type": "string", "pattern": "^[0-9]{1,18}$"})),
            ],
            Some("bullhornNoteInput"),
            "bullhornChanged",
        ),
        Endpoint::Query => (
            "The corporation's users, or Notes (by externalID and personReference.id), matching a where (field=value AND …), newest first",
            vec![
                corp,
                entity(&["CorporateUser", "Note"]),
                fields,
                query("where", true, text()),
                query("start", false, json!({"type": "string", "pattern": "^[0-9]{1,9}$"})),
                query("count", false, json!({"type": "string", "pattern": "^[0-9]{1,9}$"})),
            ],
            None,
            "bullhornQuery",
        ),
    }
}

fn operation_id(method: &str, path: &str) -> String {
    let words: String = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    format!("bullhorn{}{words}", method.to_ascii_lowercase())
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in &ROUTES {
        let (summary, parameters, body, success) = operation(route.endpoint);
        let mut responses = Map::new();
        responses.insert("200".into(), answer("Done", success));
        let mut op = json!({
            "operationId": operation_id(route.method.as_str(), route.path),
            "tags": ["Bullhorn"],
            "summary": summary,
            "parameters": parameters,
        });
        match route.endpoint {
            Endpoint::Token => {
                op["security"] = json!([]);
                responses.insert(
                    "400".into(),
                    answer("A bad grant or request", "bullhornOAuthError"),
                );
                responses.insert(
                    "401".into(),
                    answer("Not App Connect's client", "bullhornOAuthError"),
                );
            }
            Endpoint::Login => {
                op["security"] = json!([{ACCESS_TOKEN: []}]);
                responses.insert("400".into(), answer("A ttl out of bounds", "bullhornError"));
                responses.insert(
                    "401".into(),
                    answer(
                        "No access token, or one unknown or expired",
                        "bullhornError",
                    ),
                );
            }
            _ => {
                op["security"] = json!([{SESSION: []}]);
                responses.insert(
                    "400".into(),
                    answer("A bad query, field or entity", "bullhornError"),
                );
                responses.insert(
                    "401".into(),
                    answer(
                        "No session, one unknown or expired, or another corporation's",
                        "bullhornError",
                    ),
                );
                if route.path.contains("{id}") {
                    responses.insert(
                        "404".into(),
                        answer("No such record in the corporation", "bullhornError"),
                    );
                }
            }
        }
        if let Some(body) = body {
            op["requestBody"] = json!({"required": route.endpoint != Endpoint::Search,
                "content": {"application/json": {"schema": schema(body)}}});
        }
        op["responses"] = Value::Object(responses);
        let item = paths
            .entry(format!("{MOUNT}{}", route.path))
            .or_insert_with(|| json!({}));
        item[route.method.as_str().to_ascii_lowercase()] = op;
    }
    json!({
        "paths": paths,
        "components": {
            "securitySchemes": {
                SESSION: {"type": "apiKey", "in": "header", "name": "BhRestToken",
                          "description": "A session from /bullhorn/rest-services/login (also taken as the BhRestToken query parameter), or the ready one mockcrm crms gives"},
                ACCESS_TOKEN: {"type": "apiKey", "in": "query", "name": "access_token",
                               "description": "An access token from POST /bullhorn/oauth/token, or the ready one mockcrm crms gives"},
            },
            "schemas": schemas(),
        },
    })
}

fn schemas() -> Value {
    // Epoch milliseconds, as a number or its digits, or ISO 8601 text.
    // Every field a Note body carries may also be null, which the face reads
    // as not sent (as App Connect's connector sends some of them).
    let date_added = json!({"anyOf": [
        {"type": "null"},
        {"type": "integer"},
        {"type": "string", "pattern": "^-?[0-9]{1,15}$"},
        {"type": "string", "format": "date-time"},
    ]});
    let reference = json!({"type": ["object", "null"], "required": ["id"], "properties": {
        "id": {"type": ["integer", "string"]},
        "personSubtype": {"type": "string"},
        "_subtype": {"type": "string"},
    }});
    let association = json!({"type": "object", "required": ["total", "data"], "properties": {
        "total": {"type": "integer", "minimum": 0},
        "data": {"type": "array", "items": {"type": "object"}},
    }});
    json!({
        "bullhornError": {
            "type": "object",
            "required": ["errorMessage", "errorMessageKey", "errorCode"],
            "properties": {
                "errorMessage": {"type": "string"},
                "errorMessageKey": {"type": "string"},
                "errorCode": {"type": "integer"},
                "entityName": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {
                    "propertyName": {"type": "string"},
                    "severity": {"type": "string"},
                    "type": {"type": "string"},
                }}},
            },
        },
        "bullhornOAuthError": {
            "type": "object",
            "required": ["error", "error_description"],
            "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
        },
        "bullhornTokens": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "refresh_token"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer", "minimum": 1},
                "refresh_token": {"type": "string"},
            },
        },
        "bullhornLogin": {
            "type": "object",
            "required": ["BhRestToken", "restUrl"],
            "properties": {
                "BhRestToken": {"type": "string"},
                "restUrl": {"type": "string", "pattern": "/$"},
            },
        },
        "bullhornPing": {
            "type": "object",
            "required": ["sessionExpires"],
            "properties": {"sessionExpires": {"type": "integer"}},
        },
        "bullhornSettings": {
            "type": "object",
            "properties": {"commentActionList": {"type": "array", "items": {"type": "string"}}},
        },
        "bullhornMeta": {
            "type": "object",
            "required": ["entity", "fields"],
            "properties": {
                "entity": {"type": "string"},
                "entityMetaUrl": {"type": "string"},
                "label": {"type": "string"},
                "fields": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "type", "dataType"],
                    "properties": {
                        "name": {"type": "string"},
                        "type": {"type": "string"},
                        "dataType": {"type": "string"},
                        "label": {"type": "string"},
                        "options": {"type": "array", "items": {
                            "type": "object", "required": ["value", "label"],
                            "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
                        }},
                    },
                }},
            },
        },
        "bullhornSearchRequest": {
            "type": "object",
            "properties": {"query": {"type": "string", "minLength": 1}},
        },
        "bullhornSearch": {
            "type": "object",
            "required": ["total", "start", "count", "data"],
            "properties": {
                "total": {"type": "integer", "minimum": 0},
                "start": {"type": "integer", "minimum": 0},
                "count": {"type": "integer", "minimum": 0},
                "data": {"type": "array", "items": schema("bullhornPerson")},
            },
        },
        "bullhornPerson": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "firstName": {"type": "string"},
                "lastName": {"type": "string"},
                "email": {"type": "string"},
                "phone": {"type": "string"},
                "status": {"type": "string"},
                "dateAdded": {"type": "integer"},
                "dateLastModified": {"type": "integer"},
                "_score": {"type": "number"},
            },
        },
        "bullhornNoteInput": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": false,
            "properties": {
                "comments": {"type": ["string", "null"]},
                "action": {"type": ["string", "null"]},
                "dateAdded": date_added.clone(),
                "minutesSpent": {"type": ["number", "null"], "minimum": 0},
                "externalID": {"type": ["string", "number", "null"]},
                "personReference": reference,
                "commentingPerson": {"type": "object"},
            },
        },
        "bullhornEntityInput": {
            "description": "A Note (comments and personReference required) or a person (name or firstName/lastName required; a ClientContact also needs clientCorporation)",
            "type": "object",
            "properties": {
                "comments": {"type": ["string", "null"]},
                "action": {"type": ["string", "null"]},
                "dateAdded": date_added.clone(),
                "minutesSpent": {"type": ["number", "null"], "minimum": 0},
                "externalID": {"type": ["string", "number", "null"]},
                "personReference": reference,
                "name": {"type": ["string", "null"]},
                "firstName": {"type": ["string", "null"]},
                "lastName": {"type": ["string", "null"]},
                "phone": {"type": ["string", "null"]},
                "email": {"type": ["string", "null"]},
                "status": {"type": ["string", "null"]},
                "clientCorporation": {"type": ["object", "null"], "properties": {"id": {"type": ["integer", "string"]}}},
            },
        },
        "bullhornChanged": {
            "type": "object",
            "required": ["changedEntityType", "changedEntityId", "changeType", "data"],
            "properties": {
                "changedEntityType": {"type": "string"},
                "changedEntityId": {"type": "integer"},
                "changeType": {"type": "string", "enum": ["INSERT", "UPDATE"]},
                "data": {"type": "object"},
            },
        },
        "bullhornEntity": {
            "type": "object",
            "required": ["data"],
            "properties": {"data": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "id": {"type": "integer"},
                    "comments": {"type": "string"},
                    "action": {"type": ["string", "null"]},
                    "dateAdded": {"type": "integer"},
                    "minutesSpent": {"type": ["number", "null"]},
                    "externalID": {"type": ["string", "null"]},
                    "clientContacts": association,
                    "candidates": association,
                    "leads": association,
                },
            }},
        },
        "bullhornQuery": {
            "type": "object",
            "required": ["start", "count", "data"],
            "properties": {
                "start": {"type": "integer"},
                "count": {"type": "integer"},
                "data": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "masterUserID": {"type": "integer"},
                    "timeZoneOffsetEST": {"type": "integer"},
                    "username": {"type": "string"},
                }}},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_once_under_the_mount() {
        let document = document();
        let paths = document["paths"].as_object().expect("paths");
        let mut ids = std::collections::BTreeSet::new();
        for route in &ROUTES {
            let item = &paths[&format!("{MOUNT}{}", route.path)];
            let op = &item[route.method.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{} {}", route.method, route.path);
            assert!(ids.insert(op["operationId"].as_str().expect("id").to_owned()));
        }
        let documented: usize = paths
            .values()
            .map(|item| item.as_object().map_or(0, Map::len))
            .sum();
        assert_eq!(documented, ROUTES.len());
    }
}
