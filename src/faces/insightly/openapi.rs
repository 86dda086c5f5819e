//! The Insightly face's part of `GET /openapi.json`: every route of the
//! table (`routes::ROUTES`) under the mount, with Insightly's request and
//! answer shapes and its security scheme, components prefixed
//! `Insightly`. Answers the harness gives in front of the face (rate limit,
//! overload) refer to the native document's components.

use serde_json::{json, Map, Value};

use super::routes::ROUTES;
use super::wire::MAX_ID;
use super::MOUNT;

const SECURITY: &str = "insightlyBasic";

/// The schema of a date as the face writes it (`yyyy-MM-dd HH:mm:ss`).
fn date_out() -> Value {
    json!({"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}$"})
}

/// A date as a request may send it: Insightly's form or ISO 8601.
fn date_in() -> Value {
    json!({
        "type": "string",
        "description": "yyyy-MM-dd HH:mm:ss (UTC), or ISO 8601 such as 2024-01-15T15:30:00.000Z.",
        "pattern": "^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\\d|2[0-8])[ T]([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(\\.\\d{1,9})?(Z|[+-](0\\d|1[0-3]):[0-5]\\d)?$",
        "example": "2024-01-15T15:30:00.000Z"
    })
}

fn nullable(kind: &str) -> Value {
    json!({"type": [kind, "null"]})
}

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/Insightly{name}")})
}

fn response_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/responses/{name}")})
}

fn person(id_field: &str, email: &str, mobile: &str, lead: bool) -> Value {
    let mut properties = json!({
        id_field: {"type": "integer", "minimum": 1},
        "SALUTATION": nullable("string"),
        "FIRST_NAME": nullable("string"),
        "LAST_NAME": nullable("string"),
        "TITLE": nullable("string"),
        email: nullable("string"),
        "PHONE": nullable("string"),
        mobile: nullable("string"),
        "OWNER_USER_ID": {"type": "integer"},
        "DATE_CREATED_UTC": date_out(),
        "DATE_UPDATED_UTC": date_out(),
        "CUSTOMFIELDS": {"type": "array"},
        "TAGS": {"type": "array"},
        "DATES": {"type": "array"},
        "LINKS": {"type": "array", "items": schema_ref("Link")},
    });
    let extra = if lead {
        json!({
            "ORGANISATION_NAME": nullable("string"),
            "LEAD_STATUS_ID": nullable("integer"),
            "CONVERTED": {"type": "boolean"},
        })
    } else {
        json!({
            "ORGANISATION_ID": nullable("integer"),
            "LAST_ACTIVITY_DATE_UTC": nullable("string"),
        })
    };
    if let (Some(properties), Value::Object(extra)) = (properties.as_object_mut(), extra) {
        properties.extend(extra);
    }
    json!({
        "type": "object",
        "required": [id_field, "FIRST_NAME", "LAST_NAME", "PHONE", "DATE_CREATED_UTC"],
        "properties": properties,
    })
}

fn person_input(required: &str, email: &str, mobile: &str) -> Value {
    let text = json!({"type": ["string", "null"]});
    let mut properties = json!({
        "FIRST_NAME": text,
        "LAST_NAME": text,
        "PHONE": text,
        mobile: text,
        email: text,
    });
    // The required name must be there and not blank.
    properties[required] = json!({"type": "string", "pattern": "\\S"});
    json!({
        "type": "object",
        "required": [required],
        "properties": properties,
        "example": {"FIRST_NAME": "Ada", "LAST_NAME": "Lovelace", "PHONE": "+16505550123"},
    })
}

fn link_input() -> Value {
    json!({
        "type": "object",
        "required": ["LINK_OBJECT_NAME", "LINK_OBJECT_ID"],
        "properties": {
            "LINK_OBJECT_NAME": {
                "type": "string",
                "description": "Contact or Lead, in any case (App Connect posts contact and lead).",
                "pattern": "^([Cc][Oo][Nn][Tt][Aa][Cc][Tt]|[Ll][Ee][Aa][Dd])$"
            },
            "LINK_OBJECT_ID": {
                "description": "The contact's or lead's id, as a number or its digits.",
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    {"type": "string", "pattern": "^[1-9][0-9]{0,14}$"}
                ]
            }
        },
        "example": {"LINK_OBJECT_NAME": "contact", "LINK_OBJECT_ID": 1},
    })
}

fn event_fields() -> Map<String, Value> {
    let fields = json!({
        "TITLE": {"type": "string", "pattern": "\\S"},
        "DETAILS": {"type": ["string", "null"]},
        "START_DATE_UTC": date_in(),
        "END_DATE_UTC": date_in(),
        "LOCATION": {"type": ["string", "null"]},
        "ALL_DAY": {"type": ["boolean", "null"]},
        "PUBLICLY_VISIBLE": {"type": ["boolean", "null"]},
        "REMINDER_SENT": {"type": ["boolean", "null"]},
        "REMINDER_DATE_UTC": {"oneOf": [date_in(), {"type": "null"}]},
        "OWNER_USER_ID": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_ID},
    });
    match fields {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

fn schemas() -> Value {
    let mut create = event_fields();
    create.insert(
        "LINKS".into(),
        json!({"type": "array", "items": link_input()}),
    );
    let mut update = event_fields();
    update.insert(
        "EVENT_ID".into(),
        json!({
            "description": "The event's id, as a number or its digits (App Connect sends a string).",
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                {"type": "string", "pattern": "^[1-9][0-9]{0,14}$"}
            ]
        }),
    );
    json!({
        "InsightlyError": {
            "type": "object",
            "required": ["Message"],
            "properties": {"Message": {"type": "string", "minLength": 1}},
            "example": {"Message": "No Event with EVENT_ID 7 was found."}
        },
        "InsightlyUser": {
            "type": "object",
            "required": ["USER_ID", "FIRST_NAME", "LAST_NAME", "TIMEZONE_ID"],
            "properties": {
                "USER_ID": {"type": "integer", "minimum": 1},
                "CONTACT_ID": {"type": "null"},
                "FIRST_NAME": {"type": "string"},
                "LAST_NAME": nullable("string"),
                "TIMEZONE_ID": {"type": "string"},
                "EMAIL_ADDRESS": nullable("string"),
                "ADMINISTRATOR": {"type": "boolean"},
                "ACCOUNT_OWNER": {"type": "boolean"},
                "ACTIVE": {"type": "boolean"},
            }
        },
        "InsightlyContact": person("CONTACT_ID", "EMAIL_ADDRESS", "PHONE_MOBILE", false),
        "InsightlyLead": person("LEAD_ID", "EMAIL", "MOBILE", true),
        "InsightlyContactInput": person_input("FIRST_NAME", "EMAIL_ADDRESS", "PHONE_MOBILE"),
        "InsightlyLeadInput": person_input("LAST_NAME", "EMAIL", "MOBILE"),
        "InsightlyLink": {
            "type": "object",
            "required": ["LINK_ID", "OBJECT_NAME", "OBJECT_ID", "LINK_OBJECT_NAME", "LINK_OBJECT_ID"],
            "properties": {
                "LINK_ID": {"type": "integer"},
                "OBJECT_NAME": {"const": "Event"},
                "OBJECT_ID": {"type": "integer"},
                "LINK_OBJECT_NAME": {"enum": ["Contact", "Lead"]},
                "LINK_OBJECT_ID": {"type": "integer"},
            }
        },
        "InsightlyLinkInput": link_input(),
        "InsightlyEvent": {
            "type": "object",
            "required": ["EVENT_ID", "TITLE", "START_DATE_UTC", "END_DATE_UTC", "DETAILS", "LINKS"],
            "properties": {
                "EVENT_ID": {"type": "integer", "minimum": 1},
                "TITLE": {"type": "string"},
                "DETAILS": {"type": "string"},
                "START_DATE_UTC": {"type": "string"},
                "END_DATE_UTC": {"type": "string"},
                "DATE_CREATED_UTC": date_out(),
                "DATE_UPDATED_UTC": date_out(),
                "OWNER_USER_ID": {"type": "integer"},
                "LINKS": {"type": "array", "maxItems": 1, "items": schema_ref("Link")},
            }
        },
        "InsightlyEventInput": {
            "type": "object",
            "required": ["TITLE", "START_DATE_UTC", "END_DATE_UTC"],
            "properties": create,
            "example": {
                "TITLE": "Inbound Call from Jane Contact",
                "DETAILS": "- Summary: a call\n",
                "START_DATE_UTC": "2024-01-15T15:30:00.000Z",
                "END_DATE_UTC": "2024-01-15T15:32:05.000Z"
            }
        },
        "InsightlyEventUpdate": {
            "type": "object",
            "required": ["EVENT_ID"],
            "properties": update,
            "example": {"EVENT_ID": "1", "DETAILS": "- Note: call back\n"}
        },
    })
}

fn responses() -> Value {
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": schema_ref("Error")}}
        })
    };
    let mut not_found = error("No such record, or a path this face does not serve.");
    not_found["headers"] = json!({
        "x-mockcrm-hint": {
            "description": "On a path the face does not serve: the routes it serves.",
            "schema": {"type": "string"}
        }
    });
    let mut unauthorized = error("No or an unknown API key.");
    unauthorized["headers"] = json!({
        "www-authenticate": {"required": true, "schema": {"type": "string"}}
    });
    let retrying = |description: &str| {
        let mut response = error(description);
        response["headers"] = json!({
            "retry-after": {"schema": {"type": "integer", "minimum": 1}}
        });
        response
    };
    json!({
        "InsightlyRateLimited": retrying("Over the rate limit for this API key (serve --rate-limit)."),
        "InsightlyUnavailable": retrying("mockcrm is overloaded; nothing was done."),
        "InsightlyBadRequest": error("A field missing or malformed, or a body that is not a JSON object."),
        "InsightlyUnauthorized": unauthorized,
        "InsightlyNotFound": not_found,
        "InsightlyPayloadTooLarge": error("The body is over 1 MiB."),
        "InsightlyUnsupportedMediaType": error("The body is not sent as application/json."),
        "InsightlyConflict": error("The event would be linked to a second contact or lead: mockcrm keeps one per event."),
    })
}

fn id_parameter(what: &str) -> Value {
    json!({
        "name": "id", "in": "path", "required": true,
        "description": format!("The {what}'s id."),
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    })
}

fn search_parameters(fields: &[&str]) -> Value {
    json!([
        {"name": "field_name", "in": "query", "description": "The field to match (with field_value).",
         "schema": {"enum": fields}},
        {"name": "field_value", "in": "query", "description": "The value the field must equal (phones: on their digits; names: in any case).",
         "schema": {"type": "string"}},
        {"name": "brief", "in": "query", "description": "true leaves out LINKS, CUSTOMFIELDS, TAGS and DATES.",
         "schema": {"type": "boolean"}},
        {"name": "skip", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000}},
        {"name": "top", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 500}},
    ])
}

/// One operation: its id, summary, parameters, request body schema,
/// answer schema and the error statuses it can give.
struct Operation {
    id: &'static str,
    summary: &'static str,
    parameters: Value,
    body: Option<&'static str>,
    answer: Value,
    errors: &'static [&'static str],
}

fn operation(op: Operation) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "OK", "content": {"application/json": {"schema": op.answer}}}),
    );
    for status in op.errors {
        let name = match *status {
            "400" => "InsightlyBadRequest",
            "401" => "InsightlyUnauthorized",
            "404" => "InsightlyNotFound",
            "413" => "InsightlyPayloadTooLarge",
            "415" => "InsightlyUnsupportedMediaType",
            "409" => "InsightlyConflict",
            _ => continue,
        };
        responses.insert((*status).into(), response_ref(name));
    }
    // The harness in front of every face, answered in Insightly's shape.
    responses.insert("429".into(), response_ref("InsightlyRateLimited"));
    responses.insert("503".into(), response_ref("InsightlyUnavailable"));
    let mut operation = json!({
        "operationId": op.id,
        "tags": ["insightly"],
        "summary": op.summary,
        "security": [{SECURITY: []}],
        "parameters": op.parameters,
        "responses": responses,
    });
    if let Some(body) = op.body {
        operation["requestBody"] = json!({
            "required": true,
            "content": {"application/json": {"schema": schema_ref(body)}}
        });
    }
    operation
}

pub fn document() -> Value {
    const READ: &[&str] = &["401", "404"];
    const WRITE: &[&str] = &["400", "401", "404", "413", "415"];
    let contact_fields = [
        "PHONE",
        "PHONE_MOBILE",
        "FIRST_NAME",
        "LAST_NAME",
        "EMAIL_ADDRESS",
    ];
    let lead_fields = ["PHONE", "MOBILE", "FIRST_NAME", "LAST_NAME", "EMAIL"];
    let list = |item: &str| json!({"type": "array", "items": schema_ref(item)});
    let operations = [
        Operation {
            id: "insightlyGetMe",
            summary: "The signed-in user.",
            parameters: json!([]),
            body: None,
            answer: schema_ref("User"),
            errors: &["401"],
        },
        Operation {
            id: "insightlyGetUsers",
            summary: "The organisation's users.",
            parameters: json!([]),
            body: None,
            answer: list("User"),
            errors: &["401"],
        },
        Operation {
            id: "insightlySearchContacts",
            summary: "Contacts by one field.",
            parameters: search_parameters(&contact_fields),
            body: None,
            answer: list("Contact"),
            errors: &["400", "401"],
        },
        Operation {
            id: "insightlyAddContact",
            summary: "Add a contact.",
            parameters: json!([]),
            body: Some("ContactInput"),
            answer: schema_ref("Contact"),
            errors: WRITE,
        },
        Operation {
            id: "insightlyGetContact",
            summary: "One contact.",
            parameters: json!([id_parameter("contact")]),
            body: None,
            answer: schema_ref("Contact"),
            errors: READ,
        },
        Operation {
            id: "insightlySearchLeads",
            summary: "Leads by one field.",
            parameters: search_parameters(&lead_fields),
            body: None,
            answer: list("Lead"),
            errors: &["400", "401"],
        },
        Operation {
            id: "insightlyAddLead",
            summary: "Add a lead.",
            parameters: json!([]),
            body: Some("LeadInput"),
            answer: schema_ref("Lead"),
            errors: WRITE,
        },
        Operation {
            id: "insightlyGetLead",
            summary: "One lead.",
            parameters: json!([id_parameter("lead")]),
            body: None,
            answer: schema_ref("Lead"),
            errors: READ,
        },
        Operation {
            id: "insightlyAddEvent",
            summary: "Log an event (a call or a message log).",
            parameters: json!([]),
            body: Some("EventInput"),
            answer: schema_ref("Event"),
            errors: &["400", "401", "404", "409", "413", "415"],
        },
        Operation {
            id: "insightlyUpdateEvent",
            summary: "Change an event: the fields sent, the rest kept.",
            parameters: json!([]),
            body: Some("EventUpdate"),
            answer: schema_ref("Event"),
            errors: WRITE,
        },
        Operation {
            id: "insightlySearchEvents",
            summary: "Events by TITLE or LOCATION, oldest first: how a connector finds the event a create whose answer was lost wrote, before it creates another.",
            parameters: json!([
                {"name": "field_name", "in": "query", "required": true, "description": "The field to match (with field_value), in any case.",
                 "schema": {"enum": ["TITLE", "LOCATION", "title", "location"]}},
                {"name": "field_value", "in": "query", "description": "The value the field must equal: whole, trimmed, in any ASCII case.",
                 "schema": {"type": "string"}},
                {"name": "skip", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000}},
                {"name": "top", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 500}},
            ]),
            body: None,
            answer: list("Event"),
            errors: &["400", "401"],
        },
        Operation {
            id: "insightlyGetEvent",
            summary: "One event, with its link.",
            parameters: json!([id_parameter("event")]),
            body: None,
            answer: schema_ref("Event"),
            errors: READ,
        },
        Operation {
            id: "insightlyGetEventLinks",
            summary: "An event's links.",
            parameters: json!([id_parameter("event")]),
            body: None,
            answer: list("Link"),
            errors: READ,
        },
        Operation {
            id: "insightlyAddEventLink",
            summary: "Link an event to a contact or a lead.",
            parameters: json!([id_parameter("event")]),
            body: Some("LinkInput"),
            answer: schema_ref("Link"),
            errors: &["400", "401", "404", "409", "413", "415"],
        },
    ];
    let mut paths = Map::new();
    for (route, op) in ROUTES.iter().zip(operations) {
        let path = format!("{MOUNT}{}", route.path);
        let entry = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(entry) = entry {
            entry.insert(route.method.as_str().to_ascii_lowercase(), operation(op));
        }
    }
    json!({
        "paths": paths,
        "components": {
            "securitySchemes": {
                SECURITY: {
                    "type": "http",
                    "scheme": "basic",
                    "description": "Insightly's: Basic base64(<API key>:), the key of one of the organisation's users."
                }
            },
            "schemas": schemas(),
            "responses": responses(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_once_with_its_own_operation() {
        let document = document();
        for route in &ROUTES {
            let path = format!("{MOUNT}{}", route.path);
            let operation = &document["paths"][&path][route.method.as_str().to_ascii_lowercase()];
            assert!(operation["operationId"].is_string(), "{path}");
        }
        let mut ids: Vec<String> = document["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(_, item)| item.as_object().into_iter().flatten())
            .filter_map(|(_, op)| op["operationId"].as_str().map(str::to_owned))
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count);
        assert_eq!(count, ROUTES.len());
        // The rows and the operations are zipped: check they line up.
        assert_eq!(
            document["paths"]["/insightly/v3.1/events"]["put"]["operationId"],
            "insightlyUpdateEvent"
        );
        assert_eq!(
            document["paths"]["/insightly/v3.1/leads/search"]["get"]["operationId"],
            "insightlySearchLeads"
        );
        assert_eq!(
            document["paths"]["/insightly/v3.1/events/search"]["get"]["operationId"],
            "insightlySearchEvents"
        );
        assert_eq!(
            document["paths"]["/insightly/v3.1/events/{id}"]["get"]["operationId"],
            "insightlyGetEvent"
        );
    }
}
