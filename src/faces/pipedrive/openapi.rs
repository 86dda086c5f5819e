//! The Pipedrive face's part of `GET /openapi.json`: one operation per row
//! of its route table (under its mount), request and answer schemas in
//! Pipedrive's shape, its security schemes (Bearer access token; HTTP
//! Basic client credentials at the OAuth server). Components are prefixed
//! `pipedrive` so they never collide with another face's.

use serde_json::{json, Map, Value};

use super::routes::{Endpoint, ROUTES};
use super::MOUNT;

const BEARER: &str = "pipedriveBearer";
const CLIENT: &str = "pipedriveClient";

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn answer(description: &str, name: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema(name)}},
    })
}

fn error(description: &str) -> Value {
    answer(description, "pipedriveError")
}

/// The largest id a JSON client can hold exactly (2^53 - 1).
const MAX_ID: i64 = 9_007_199_254_740_991;

fn id_schema() -> Value {
    json!({"type": "integer", "minimum": 1, "maximum": MAX_ID})
}

fn id_parameter() -> Value {
    json!({"name": "id", "in": "path", "required": true, "schema": id_schema()})
}

fn query(name: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema})
}

fn json_body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema(name)}}})
}

fn form_body(name: &str) -> Value {
    json!({"required": true, "content": {
        "application/x-www-form-urlencoded": {"schema": schema(name)}
    }})
}

/// The operation for one route: `(summary, parameters, body, success
/// status, success schema)`.
fn operation(
    endpoint: Endpoint,
) -> (
    &'static str,
    Vec<Value>,
    Option<Value>,
    &'static str,
    &'static str,
) {
    match endpoint {
        Endpoint::Token => (
            "Exchange an authorization code or refresh token for tokens",
            vec![],
            Some(form_body("pipedriveTokenRequest")),
            "200",
            "pipedriveTokens",
        ),
        Endpoint::Revoke => (
            "Revoke an access or refresh token",
            vec![],
            Some(form_body("pipedriveRevokeRequest")),
            "200",
            "pipedriveRevoked",
        ),
        Endpoint::Me => (
            "The signed-in user",
            vec![],
            None,
            "200",
            "pipedriveUserAnswer",
        ),
        Endpoint::Users => ("The company's users", vec![], None, "200", "pipedriveUsers"),
        Endpoint::ActivityTypes => (
            "The company's activity types (call, sms, …)",
            vec![],
            None,
            "200",
            "pipedriveActivityTypes",
        ),
        Endpoint::SearchPersons => (
            "Search persons by phone or name",
            vec![
                query("term", true, json!({"type": "string", "minLength": 2})),
                query(
                    "fields",
                    false,
                    json!({"type": "string", "enum": ["phone", "name", "name,phone", "phone,name"]}),
                ),
                query("exact_match", false, json!({"type": "boolean"})),
            ],
            None,
            "200",
            "pipedriveSearch",
        ),
        Endpoint::GetPerson => (
            "One person",
            vec![id_parameter()],
            None,
            "200",
            "pipedrivePersonAnswer",
        ),
        Endpoint::CreatePerson => (
            "Create a person",
            vec![],
            Some(json_body("pipedrivePersonInput")),
            "201",
            "pipedrivePersonV1Answer",
        ),
        Endpoint::Deals => (
            "A person's deals (this store keeps none)",
            vec![
                query("person_id", false, id_schema()),
                query(
                    "status",
                    false,
                    json!({"type": "string", "enum": ["open", "won", "lost", "deleted", "all_not_deleted"]}),
                ),
            ],
            None,
            "200",
            "pipedriveEmptyList",
        ),
        Endpoint::Leads => (
            "A person's leads (this store keeps none)",
            vec![query("person_id", false, id_schema())],
            None,
            "200",
            "pipedriveEmptyList",
        ),
        Endpoint::CreateActivity => (
            "Create an activity (a call or message log)",
            vec![],
            Some(json_body("pipedriveActivityInput")),
            "200",
            "pipedriveActivityAnswer",
        ),
        Endpoint::ListActivities => (
            "Activities newest first, a person's with person_id",
            vec![
                query("person_id", false, id_schema()),
                query(
                    "limit",
                    false,
                    json!({"type": "integer", "minimum": 1, "maximum": 500}),
                ),
                query(
                    "cursor",
                    false,
                    json!({"type": "string", "pattern": "^seq:[1-9][0-9]{0,17}$"}),
                ),
            ],
            None,
            "200",
            "pipedriveActivityList",
        ),
        Endpoint::GetActivity => (
            "One activity, with its person under related_objects",
            vec![id_parameter()],
            None,
            "200",
            "pipedriveActivityAnswer",
        ),
        Endpoint::UpdateActivity => (
            "Change an activity's fields",
            vec![id_parameter()],
            Some(json_body("pipedriveActivityPatch")),
            "200",
            "pipedriveActivityAnswer",
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
    format!("pipedrive{}{words}", method.to_ascii_lowercase())
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in &ROUTES {
        let (summary, parameters, body, status, success) = operation(route.endpoint);
        let mut responses = Map::new();
        responses.insert(status.into(), answer("Done", success));
        let mut op = json!({
            "operationId": operation_id(route.method.as_str(), route.path),
            "tags": ["Pipedrive"],
            "summary": summary,
            "parameters": parameters,
        });
        if route.endpoint.needs_token() {
            op["security"] = json!([{BEARER: []}]);
            responses.insert("400".into(), error("A field is missing or malformed"));
            responses.insert(
                "401".into(),
                error("No access token, or one unknown, revoked or expired"),
            );
            if route.path.contains("{id}")
                || matches!(
                    route.endpoint,
                    Endpoint::Deals
                        | Endpoint::Leads
                        | Endpoint::CreateActivity
                        | Endpoint::ListActivities
                )
            {
                responses.insert("404".into(), error("No such record in the company"));
            }
        } else {
            op["security"] = json!([{CLIENT: []}]);
            responses.insert(
                "400".into(),
                answer("A bad grant or request", "pipedriveOAuthError"),
            );
            responses.insert(
                "401".into(),
                answer("Not App Connect's client", "pipedriveOAuthError"),
            );
        }
        if let Some(body) = body {
            op["requestBody"] = body;
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
                BEARER: {"type": "http", "scheme": "bearer",
                         "description": "An access token from POST /pipedrive/oauth/token, or the ready one mockcrm crms gives"},
                CLIENT: {"type": "http", "scheme": "basic",
                         "description": "App Connect's OAuth client (PIPEDRIVE_CLIENT_ID:PIPEDRIVE_CLIENT_SECRET from mockcrm crms)"},
            },
            "schemas": schemas(),
        },
    })
}

fn success(data: Value) -> Value {
    json!({
        "type": "object",
        "required": ["success", "data"],
        "properties": {"success": {"const": true}, "data": data},
    })
}

fn schemas() -> Value {
    let nullable_text = json!({"type": ["string", "null"]});
    let nullable_id = json!({"type": ["integer", "null"]});
    let contact_points = json!({"type": "array", "items": {
        "type": "object", "required": ["value"],
        "properties": {"value": {"type": "string"}, "primary": {"type": "boolean"}, "label": {"type": "string"}},
    }});
    let phone_input = json!({"oneOf": [
        {"type": "null"},
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
        {"type": "array", "items": {"type": "object", "properties": {
            "value": {"type": ["string", "null"]}, "primary": {"type": ["boolean", "null"]}, "label": {"type": ["string", "null"]}}}},
    ]});
    json!({
        "pipedriveError": {
            "type": "object",
            "required": ["success", "error"],
            "properties": {
                "success": {"const": false},
                "error": {"type": "string"},
                "error_info": {"type": "string"},
                "errorCode": {"type": "integer"},
            },
        },
        "pipedriveOAuthError": {
            "type": "object",
            "required": ["success", "message", "error"],
            "properties": {
                "success": {"const": false},
                "message": {"type": "string"},
                "error": {"type": "string"},
                "error_description": {"type": "string"},
            },
        },
        "pipedriveTokenRequest": {"oneOf": [
            {
                "type": "object",
                "required": ["grant_type", "code"],
                "properties": {
                    "grant_type": {"const": "authorization_code"},
                    "code": {"type": "string", "minLength": 1},
                    "redirect_uri": {"type": "string"},
                },
            },
            {
                "type": "object",
                "required": ["grant_type", "refresh_token"],
                "properties": {
                    "grant_type": {"const": "refresh_token"},
                    "refresh_token": {"type": "string", "minLength": 1},
                },
            },
        ]},
        "pipedriveRevokeRequest": {
            "type": "object",
            "required": ["token"],
            "properties": {"token": {"type": "string", "minLength": 1}, "token_type_hint": {"type": "string"}},
        },
        "pipedriveTokens": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "refresh_token", "scope", "api_domain"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"const": "Bearer"},
                "expires_in": {"type": "integer", "minimum": 1},
                "refresh_token": {"type": "string"},
                "scope": {"type": "string"},
                "api_domain": {"type": "string"},
            },
        },
        "pipedriveRevoked": {"type": "object", "properties": {"success": {"const": true}}},
        "pipedriveUser": {
            "type": "object",
            "required": ["id", "name", "timezone_name", "timezone_offset", "company_id", "company_name", "company_domain"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "email": nullable_text,
                "timezone_name": {"type": "string"},
                "timezone_offset": {"type": "string"},
                "company_id": {"type": "integer"},
                "company_name": {"type": "string"},
                "company_domain": {"type": "string"},
            },
        },
        "pipedriveUserAnswer": success(schema("pipedriveUser")),
        "pipedriveUsers": success(json!({"type": "array", "items": schema("pipedriveUser")})),
        "pipedriveActivityTypes": success(json!({"type": "array", "items": {
            "type": "object",
            "required": ["id", "name", "key_string", "active_flag"],
            "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "key_string": {"type": "string"}, "active_flag": {"type": "boolean"},
            },
        }})),
        "pipedriveSearch": success(json!({
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": {
                "type": "object",
                "required": ["result_score", "item"],
                "properties": {
                    "result_score": {"type": "number"},
                    "item": {
                        "type": "object",
                        "required": ["id", "type", "name", "phones"],
                        "properties": {
                            "id": {"type": "integer"},
                            "type": {"const": "person"},
                            "name": {"type": "string"},
                            "phones": {"type": "array", "items": {"type": "string"}},
                            "emails": {"type": "array", "items": {"type": "string"}},
                            "add_time": {"type": "string"},
                            "update_time": {"type": "string"},
                        },
                    },
                },
            }}},
        })),
        "pipedrivePerson": {
            "type": "object",
            "required": ["id", "name", "phones", "emails", "org_id"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "org_id": nullable_id,
                "owner_id": {"type": "integer"},
                "phones": contact_points,
                "emails": contact_points,
                "add_time": {"type": "string"},
                "update_time": {"type": "string"},
            },
        },
        "pipedrivePersonAnswer": success(schema("pipedrivePerson")),
        "pipedrivePersonInput": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "pattern": "\\S"},
                "phone": phone_input,
                "email": phone_input,
            },
        },
        "pipedrivePersonV1Answer": success(json!({
            "type": "object",
            "required": ["id", "name", "phone", "email"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "phone": contact_points,
                "email": contact_points,
                "add_time": {"type": "string"},
            },
        })),
        "pipedriveEmptyList": success(json!({"type": "array", "maxItems": 0})),
        "pipedriveActivityInput": {
            "type": "object",
            "properties": {
                "subject": {"type": ["string", "null"]},
                "note": {"type": ["string", "null"]},
                "type": {"enum": ["call", "meeting", "task", "deadline", "email", "lunch", "sms", null]},
                "owner_id": {"type": ["integer", "null"], "maximum": MAX_ID, "minimum": 0},
                "deal_id": {"type": ["integer", "string", "null"], "pattern": "^[0-9]{0,15}$", "maximum": MAX_ID, "minimum": 0},
                "lead_id": {"type": ["string", "null"]},
                "org_id": {"type": ["integer", "null"], "maximum": MAX_ID, "minimum": 0},
                "done": {"enum": [true, false, 0, 1]},
                "due_date": {"type": ["string", "null"], "format": "date", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"},
                "due_time": {"type": ["string", "null"], "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"},
                "duration": {"type": ["string", "null"], "pattern": "^[0-9]{1,4}:[0-5][0-9]$"},
                // null is read as no participants, as for the other
                // nullable fields.
                "participants": {"type": ["array", "null"], "items": {
                    "type": "object",
                    "required": ["person_id"],
                    "properties": {"person_id": id_schema(), "primary": {"type": "boolean"}},
                }},
            },
        },
        "pipedriveActivityPatch": {
            "allOf": [schema("pipedriveActivityInput")],
            "minProperties": 1,
        },
        "pipedriveActivityList": {
            "type": "object",
            "required": ["success", "data", "additional_data"],
            "properties": {
                "success": {"const": true},
                "data": {"type": "array", "items": schema("pipedriveActivity")},
                "additional_data": {"type": "object", "required": ["next_cursor"], "properties": {
                    "next_cursor": {"type": ["string", "null"]},
                }},
            },
        },
        "pipedriveActivity": {
            "type": "object",
            "required": ["id", "subject", "type", "owner_id", "note", "done", "due_date", "due_time", "duration", "person_id", "participants", "deal_id", "lead_id", "org_id"],
            "properties": {
                "id": {"type": "integer"},
                "subject": {"type": "string"},
                "type": {"type": "string"},
                "owner_id": {},
                "note": {"type": "string"},
                "done": {"type": "boolean"},
                "due_date": nullable_text,
                "due_time": nullable_text,
                "duration": nullable_text,
                "person_id": nullable_id,
                "participants": {"type": "array"},
                "deal_id": {},
                "lead_id": {},
                "org_id": {},
                "add_time": {"type": "string"},
                "update_time": {"type": "string"},
            },
        },
        "pipedriveActivityAnswer": {
            "type": "object",
            "required": ["success", "data"],
            "properties": {
                "success": {"const": true},
                "data": schema("pipedriveActivity"),
                "related_objects": {"type": "object", "properties": {
                    "person": {"type": "object", "additionalProperties": {
                        "type": "object", "required": ["id", "name"],
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                    }},
                }},
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
