//! The Clio face's part of `GET /openapi.json`: one operation per row of
//! its route table (under its mount), request and answer schemas in Clio's
//! shape, its security schemes (Bearer access token; the OAuth client's
//! id and secret at the token endpoint). Components are prefixed `clio` so
//! they never collide with another face's. Answers are cut down by
//! `fields`, so their schemas name properties without requiring them.

use serde_json::{json, Map, Value};

use super::routes::{Endpoint, ROUTES};
use super::wire::{COMMUNICATION_FIELDS, CONTACT_FIELDS, TIME_ENTRY_FIELDS, USER_FIELDS};
use super::MOUNT;

const BEARER: &str = "clioBearer";
/// Ids are stored as SQLite integers; the largest a client may send.
const MAX_ID: i64 = i64::MAX;

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn answer(description: &str, name: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema(name)}},
    })
}

fn id_parameter() -> Value {
    json!({
        "name": "id", "in": "path", "required": true,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    })
}

fn query(name: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema})
}

/// `fields` naming only `names` (what the record has; another name is a
/// 400).
fn fields(names: &[&str]) -> Value {
    let one = format!("({})", names.join("|"));
    query(
        "fields",
        json!({"type": "string", "pattern": format!("^{one}(,{one})*$"),
               "description": "The fields to answer, comma-separated. Default: id,etag"}),
    )
}

/// `fields` of a list this store keeps empty: any well-formed selection,
/// nested ones in braces (`matter{id,status}`).
fn any_fields() -> Value {
    query(
        "fields",
        json!({"type": "string", "pattern": "^[A-Za-z0-9_]+(\\{[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*\\})?(,[A-Za-z0-9_]+(\\{[A-Za-z0-9_]+(,[A-Za-z0-9_]+)*\\})?)*$",
               "description": "The fields to answer, comma-separated; a nested selection in braces (matter{id,status})"}),
    )
}

fn id_query(name: &str) -> Value {
    query(
        name,
        json!({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
    )
}

fn json_body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema(name)}}})
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
            Some(json!({"required": true, "content": {
                "application/x-www-form-urlencoded": {"schema": schema("clioTokenRequest")}
            }})),
            "200",
            "clioTokens",
        ),
        Endpoint::Deauthorize => (
            "Revoke an access or refresh token (sign out)",
            vec![],
            Some(json!({"required": true, "content": {
                "application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["token"],
                    "properties": {"token": {"type": "string", "minLength": 1}}
                }}
            }})),
            "200",
            "clioEmpty",
        ),
        Endpoint::WhoAmI => ("The signed-in user", vec![fields(&USER_FIELDS)], None, "200", "clioUserAnswer"),
        Endpoint::Users => ("The firm's users", vec![fields(&USER_FIELDS)], None, "200", "clioUserList"),
        Endpoint::SearchContacts => (
            "Search contacts by phone (a raw + is kept) or name; without a query, list them a page at a time",
            vec![
                query("query", json!({"type": "string"})),
                fields(&CONTACT_FIELDS),
                query("limit", json!({"type": "integer", "minimum": 1, "maximum": 200})),
                id_query("page_token"),
            ],
            None,
            "200",
            "clioContactList",
        ),
        Endpoint::CreateContact => (
            "Create a contact",
            vec![fields(&CONTACT_FIELDS)],
            Some(json_body("clioContactInput")),
            "201",
            "clioContactAnswer",
        ),
        Endpoint::GetContact => (
            "One contact",
            vec![id_parameter(), fields(&CONTACT_FIELDS)],
            None,
            "200",
            "clioContactAnswer",
        ),
        Endpoint::Matters => (
            "A client's matters (this store keeps none)",
            vec![id_query("client_id"), any_fields()],
            None,
            "200",
            "clioEmptyList",
        ),
        Endpoint::Relationships => (
            "A contact's relationships to matters (this store keeps none)",
            vec![id_query("contact_id"), any_fields()],
            None,
            "200",
            "clioEmptyList",
        ),
        Endpoint::CreateCommunication => (
            "Create a communication (a call or message log)",
            vec![fields(&COMMUNICATION_FIELDS)],
            Some(json_body("clioCommunicationInput")),
            "201",
            "clioCommunicationAnswer",
        ),
        Endpoint::ListCommunications => (
            "Communications newest first: a contact's, or those with one external property",
            vec![
                id_query("contact_id"),
                query("external_property_name", json!({"type": "string"})),
                query("external_property_value", json!({"type": "string"})),
                fields(&COMMUNICATION_FIELDS),
                query("limit", json!({"type": "integer", "minimum": 1, "maximum": 200})),
                id_query("page_token"),
            ],
            None,
            "200",
            "clioCommunicationList",
        ),
        Endpoint::GetCommunication => (
            "One communication, with its senders and receivers",
            vec![id_parameter(), fields(&COMMUNICATION_FIELDS)],
            None,
            "200",
            "clioCommunicationAnswer",
        ),
        Endpoint::UpdateCommunication => (
            "Change a communication's fields",
            vec![id_parameter(), fields(&COMMUNICATION_FIELDS)],
            Some(json_body("clioCommunicationPatch")),
            "200",
            "clioCommunicationAnswer",
        ),
        Endpoint::TimeEntries => (
            "Time entries (of one communication)",
            vec![id_query("communication_id"), fields(&TIME_ENTRY_FIELDS)],
            None,
            "200",
            "clioTimeEntryList",
        ),
        Endpoint::CreateTimeEntry => (
            "Create a communication's time entry",
            vec![fields(&TIME_ENTRY_FIELDS)],
            Some(json_body("clioTimeEntryInput")),
            "201",
            "clioTimeEntryAnswer",
        ),
        Endpoint::UpdateTimeEntry => (
            "Change a time entry (its id is its communication's)",
            vec![id_parameter(), fields(&TIME_ENTRY_FIELDS)],
            Some(json_body("clioTimeEntryPatch")),
            "200",
            "clioTimeEntryAnswer",
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
    format!("clio{}{words}", method.to_ascii_lowercase())
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in &ROUTES {
        let (summary, parameters, body, status, success) = operation(route.endpoint);
        let mut responses = Map::new();
        responses.insert(status.into(), answer("Done", success));
        let mut op = json!({
            "operationId": operation_id(route.method.as_str(), route.path),
            "tags": ["Clio"],
            "summary": summary,
            "parameters": parameters,
        });
        match route.endpoint {
            Endpoint::Token | Endpoint::Deauthorize => {
                op["security"] = json!([]);
                responses.insert(
                    "400".into(),
                    answer("A bad grant or request", "clioOAuthError"),
                );
                responses.insert(
                    "401".into(),
                    answer("Not App Connect's client", "clioOAuthError"),
                );
            }
            _ => {
                op["security"] = json!([{BEARER: []}]);
                responses.insert(
                    "400".into(),
                    answer(
                        "A request that cannot be read (fields, ids, JSON)",
                        "clioError",
                    ),
                );
                responses.insert(
                    "401".into(),
                    answer(
                        "No access token, or one unknown, revoked or expired",
                        "clioError",
                    ),
                );
                responses.insert(
                    "404".into(),
                    answer("No such record in the firm", "clioError"),
                );
                if body.is_some() {
                    responses.insert(
                        "422".into(),
                        answer("A record that does not validate", "clioError"),
                    );
                }
                if matches!(route.endpoint, Endpoint::CreateTimeEntry) {
                    responses.insert(
                        "409".into(),
                        answer(
                            "The communication has its time entry already (mockcrm keeps one per communication: PATCH it)",
                            "clioError",
                        ),
                    );
                }
            }
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
                         "description": "An access token from POST /clio/oauth/token, or the ready one mockcrm crms gives"},
            },
            "schemas": with_null_as_unsent(schemas()),
        },
    })
}

fn one(data: &str) -> Value {
    json!({"type": "object", "required": ["data"], "properties": {"data": schema(data)}})
}

fn many(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data", "meta"],
        "properties": {
            "data": {"type": "array", "items": item},
            "meta": {"type": "object", "required": ["paging", "records"], "properties": {
                "paging": {"type": "object", "properties": {"next": {"type": "string"}}},
                "records": {"type": "integer", "minimum": 0},
            }},
        },
    })
}

/// The request schemas (`…Input`, `…Patch`) with every optional field
/// nullable: the face reads a null as a field not sent, as Clio's own API
/// does, so a null is valid input and the document says so.
fn with_null_as_unsent(mut schemas: Value) -> Value {
    if let Some(map) = schemas.as_object_mut() {
        for (name, schema) in map.iter_mut() {
            if name.ends_with("Input") || name.ends_with("Patch") {
                nullable_optionals(schema);
            }
        }
    }
    schemas
}

fn nullable_optionals(schema: &mut Value) {
    let required: Vec<Value> = schema
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, property) in properties.iter_mut() {
            if !required.contains(&Value::from(name.as_str())) {
                allow_null(property);
            }
            nullable_optionals(property);
        }
    }
    if let Some(items) = schema.get_mut("items") {
        nullable_optionals(items);
    }
}

fn allow_null(property: &mut Value) {
    let Some(object) = property.as_object_mut() else {
        return;
    };
    if let Some(kinds) = object.get_mut("type") {
        match kinds {
            Value::String(kind) if kind != "null" => *kinds = json!([kind.clone(), "null"]),
            Value::Array(list) if !list.contains(&Value::from("null")) => list.push("null".into()),
            _ => {}
        }
    } else if let Some(Value::Array(values)) = object.get_mut("enum") {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
}

fn schemas() -> Value {
    let mut all = people_schemas();
    if let (Value::Object(all_map), Value::Object(more)) = (&mut all, log_schemas()) {
        all_map.extend(more);
    }
    all
}

/// Errors, OAuth, users and contacts.
fn people_schemas() -> Value {
    let text = json!({"type": "string"});
    let nullable_text = json!({"type": ["string", "null"]});
    let id = json!({"type": "integer"});
    json!({
        "clioError": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["type", "message"], "properties": {
                "type": text, "message": text,
            }}},
        },
        "clioOAuthError": {
            "type": "object", "required": ["error"],
            "properties": {"error": text, "error_description": text},
        },
        "clioTokenRequest": {"oneOf": [
            {"type": "object", "required": ["grant_type", "code", "client_id", "client_secret"], "properties": {
                "grant_type": {"const": "authorization_code"}, "code": {"type": "string", "minLength": 1},
                "client_id": text, "client_secret": text, "redirect_uri": text,
            }},
            {"type": "object", "required": ["grant_type", "refresh_token", "client_id", "client_secret"], "properties": {
                "grant_type": {"const": "refresh_token"}, "refresh_token": {"type": "string", "minLength": 1},
                "client_id": text, "client_secret": text,
            }},
        ]},
        "clioTokens": {
            "type": "object", "required": ["access_token", "token_type", "expires_in", "refresh_token"],
            "properties": {
                "access_token": text, "token_type": {"const": "bearer"},
                "expires_in": {"type": "integer", "minimum": 1}, "refresh_token": text,
            },
        },
        "clioEmpty": {"type": "object"},
        "clioUser": {"type": "object", "properties": {
            "id": id, "etag": text, "name": text, "first_name": text, "last_name": text,
            "email": nullable_text, "enabled": {"type": "boolean"}, "time_zone": text,
        }},
        "clioUserAnswer": one("clioUser"),
        "clioUserList": many(schema("clioUser")),
        "clioContact": {"type": "object", "properties": {
            "id": id, "etag": text, "name": text, "first_name": nullable_text, "last_name": nullable_text,
            "type": {"enum": ["Person", "Company"]}, "created_at": text, "updated_at": text,
            "primary_phone_number": nullable_text, "primary_email_address": nullable_text,
            "phone_numbers": {"type": "array"}, "email_addresses": {"type": "array"},
        }},
        "clioContactAnswer": one("clioContact"),
        "clioContactList": many(schema("clioContact")),
        "clioEmptyList": many(json!({"type": "object"})),
        "clioContactInput": {"type": "object", "required": ["data"], "properties": {"data": {
            "type": "object",
            "anyOf": [
                {"required": ["name"], "properties": {"name": {"type": "string", "pattern": "\\S"}}},
                {"required": ["first_name"], "properties": {"first_name": {"type": "string", "pattern": "\\S"}}},
                {"required": ["last_name"], "properties": {"last_name": {"type": "string", "pattern": "\\S"}}},
            ],
            "properties": {
                "name": text, "first_name": text, "last_name": text,
                // null, as for every optional field here, is read as not sent.
                "type": {"enum": ["Person", "Company", null]},
                "phone_numbers": {"type": "array", "items": {"type": "object", "required": ["number"], "properties": {
                    // The label (Work, Home) is not kept, so any value is taken.
                    "name": {"description": "the number's label; not kept"}, "number": text, "default_number": {"type": "boolean"},
                }}},
                "email_addresses": {"type": "array", "items": {"type": "object", "required": ["address"], "properties": {
                    "name": {"description": "the address's label; not kept"}, "address": text, "primary": {"type": "boolean"},
                }}},
            },
        }}},
    })
}

/// Communications and time entries.
fn log_schemas() -> Value {
    let text = json!({"type": "string"});
    let nullable_text = json!({"type": ["string", "null"]});
    let id = json!({"type": "integer"});
    let reference = json!({"oneOf": [
        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"},
    ]});
    let participants = json!({"type": "array", "items": {
        "type": "object", "required": ["id", "type"],
        "properties": {"id": reference, "type": {"enum": ["Contact", "Person", "Company", "User"]}},
    }});
    let time = json!({"type": "string", "format": "date-time"});
    let external_properties = json!({"type": "array", "items": {
        "type": "object", "required": ["name", "value"],
        "properties": {"name": {"type": "string", "pattern": "\\S"}, "value": text},
    }});
    json!({
        "clioParticipant": {"type": "object", "properties": {
            "id": id, "type": {"enum": ["Person", "Company", "User"]}, "name": text,
        }},
        "clioCommunication": {"type": "object", "properties": {
            "id": id, "etag": text, "subject": text, "body": text, "type": {"const": "PhoneCommunication"},
            "date": text, "received_at": text, "created_at": text, "updated_at": text,
            "senders": {"type": "array", "items": schema("clioParticipant")},
            "receivers": {"type": "array", "items": schema("clioParticipant")},
            "matter": {"type": ["object", "null"]},
            "time_entries_count": {"type": "integer"},
            "external_properties": external_properties,
        }},
        "clioCommunicationAnswer": one("clioCommunication"),
        "clioCommunicationList": many(schema("clioCommunication")),
        "clioCommunicationInput": {"type": "object", "required": ["data"], "properties": {"data": {
            "type": "object", "required": ["subject", "type"],
            "properties": {
                "subject": {"type": "string", "pattern": "\\S"}, "body": text,
                "type": {"enum": ["PhoneCommunication", "EmailCommunication"]},
                "received_at": time, "date": time,
                "senders": participants, "receivers": participants,
                "notification_event_subscribers": {"type": "array"},
                "matter": {"type": ["object", "null"], "properties": {"id": {"type": "null"}}},
                "external_properties": external_properties,
            },
        }}},
        "clioCommunicationPatch": {"type": "object", "required": ["data"], "properties": {"data": {
            "type": "object", "minProperties": 1,
            "properties": {
                "subject": {"type": ["string", "null"]}, "body": text,
                "type": {"enum": ["PhoneCommunication", "EmailCommunication"]},
                "received_at": time, "date": time,
                "senders": participants, "receivers": participants,
                "matter": {"type": ["object", "null"], "properties": {"id": {"type": "null"}}},
                "external_properties": external_properties,
            },
        }}},
        "clioTimeEntry": {"type": "object", "properties": {
            "id": id, "etag": text, "type": {"const": "TimeEntry"}, "date": nullable_text,
            "quantity": {"type": "number"}, "note": nullable_text, "non_billable": {"type": ["boolean", "null"]},
            "communication": {"type": "object", "properties": {"id": id}},
        }},
        "clioTimeEntryAnswer": one("clioTimeEntry"),
        "clioTimeEntryList": many(schema("clioTimeEntry")),
        "clioTimeEntryInput": {"type": "object", "required": ["data"], "properties": {"data": {
            "type": "object", "required": ["type", "communication"],
            "properties": {
                "type": {"const": "TimeEntry"},
                "communication": {"type": "object", "required": ["id"], "properties": {"id": reference}},
                "quantity": {"type": ["number", "null"], "minimum": 0}, "date": time, "note": text,
                "non_billable": {"type": "boolean"},
                "matter": {"type": ["object", "null"], "properties": {"id": {"type": "null"}}},
            },
        }}},
        "clioTimeEntryPatch": {"type": "object", "required": ["data"], "properties": {"data": {
            "type": "object",
            "properties": {
                "quantity": {"type": ["number", "null"], "minimum": 0}, "date": time, "note": text,
                "non_billable": {"type": "boolean"},
            },
        }}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_an_operation_under_the_mount() {
        let document = document();
        for route in &ROUTES {
            let path = format!("{MOUNT}{}", route.path);
            let method = route.method.as_str().to_ascii_lowercase();
            assert!(
                document["paths"][&path][&method].is_object(),
                "{method} {path}"
            );
        }
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("schemas");
        assert!(schemas.keys().all(|name| name.starts_with("clio")));
    }
}
