//! The Redtail face's part of `GET /openapi.json`: its paths under
//! `/redtail/api/public/v1`, in Redtail's shapes, with its two ways of
//! signing in. Components are named `Redtail…` so they never meet another
//! face's. A test checks the paths here against the route table.

use serde_json::{json, Map, Value};

use super::routes::{Endpoint, ROUTES};
use super::wire::CATEGORIES;
use super::{BASE_PATH, MOUNT};

const TAG: &str = "redtail";

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in &ROUTES {
        let path = format!("{MOUNT}{BASE_PATH}{}", route.path);
        let item = paths
            .entry(path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(
                route.method.as_str().to_ascii_lowercase(),
                operation(route.endpoint),
            );
        }
    }
    json!({
        "paths": paths,
        "components": {
            "securitySchemes": security_schemes(),
            "schemas": schemas(),
        },
    })
}

fn security_schemes() -> Value {
    json!({
        "RedtailLogin": {
            "type": "http",
            "scheme": "basic",
            "description": "Redtail's sign-in: Authorization: Basic base64(\"<api key>:<username>:<password>\"), with the partner API key (REDTAIL_API_KEY), the user's id as username and the password GET /__admin/crms hands out.",
        },
        "RedtailUserKey": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "After sign-in: Authorization: base64(\"<api key>:<user_key>\"), bare as App Connect's connector sends it, or after Userkeyauth.",
        },
    })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn answer(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": schema_ref(schema)}},
    })
}

fn failure(description: &str) -> Value {
    answer(description, "RedtailErrors")
}

fn id_parameter(what: &str) -> Value {
    json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": format!("The {what}'s id (its number, the same in every face)."),
        "schema": {"type": "integer", "minimum": 1},
    })
}

fn body(schema: &str) -> Value {
    json!({
        "required": true,
        "content": {"application/json": {"schema": schema_ref(schema)}},
    })
}

/// One operation: what it is, what it takes, what it answers.
fn operation(endpoint: Endpoint) -> Value {
    let (id, summary, success, schema, params, request, refuses) = match endpoint {
        Endpoint::Authentication => ("redtailAuthentication", "Sign in: the user and the user key later calls send.", "200", "RedtailAuthentication", vec![], None, false),
        Endpoint::SearchContacts => ("redtailSearchContacts", "Contacts by phone number (national digits match a stored number with its country code) or by a part of the name.", "200", "RedtailContactList", vec![
            json!({"name": "phone_number", "in": "query", "required": false, "description": "Digits of the phone number, e.g. 4155550199.", "schema": {"type": "string", "pattern": "[0-9]"}}),
            json!({"name": "name", "in": "query", "required": false, "description": "A part of the contact's name, any case.", "schema": {"type": "string"}}),
        ], None, true),
        Endpoint::CreateContact => ("redtailCreateContact", "Create an individual contact.", "201", "RedtailContactEnvelope", vec![], Some("RedtailNewContact"), true),
        Endpoint::GetContact => ("redtailGetContact", "One contact.", "200", "RedtailContactEnvelope", vec![id_parameter("contact")], None, false),
        Endpoint::ContactActivities => ("redtailContactActivities", "The activities linked to a contact, newest first, 100 a page: how a connector finds the activity a create whose answer was lost wrote, before it creates another.", "200", "RedtailActivityList", vec![
            id_parameter("contact"),
            json!({"name": "page", "in": "query", "required": false, "description": "The page, from 1 (default 1).", "schema": {"type": "integer", "minimum": 1, "maximum": 10_000}}),
        ], None, true),
        Endpoint::Categories => ("redtailCategories", "The note and activity categories.", "200", "RedtailCategoryList", vec![], None, false),
        Endpoint::DatabaseUsers => ("redtailDatabaseUsers", "The users of the caller's database (organisation).", "200", "RedtailDatabaseUserList", vec![], None, false),
        Endpoint::CreateActivity => ("redtailCreateActivity", "Create an activity: a call log, or a message log (no category_id, or a subject opening with SMS conversation with, Voicemail left by or Fax document sent from).", "201", "RedtailActivityEnvelope", vec![include_header()], Some("RedtailNewActivity"), true),
        Endpoint::GetActivity => ("redtailGetActivity", "One activity; with include: linked_contacts, its contact too.", "200", "RedtailActivityEnvelope", vec![id_parameter("activity"), include_header()], None, false),
        Endpoint::PutActivity => ("redtailPutActivity", "Update an activity: the fields sent change, the others stay.", "200", "RedtailActivityEnvelope", vec![id_parameter("activity"), include_header()], Some("RedtailActivityUpdate"), true),
        Endpoint::PatchActivity => ("redtailPatchActivity", "Update an activity, as PUT does.", "200", "RedtailActivityEnvelope", vec![id_parameter("activity"), include_header()], Some("RedtailActivityUpdate"), true),
        Endpoint::CreateNote => ("redtailCreateNote", "Add a note to an activity.", "201", "RedtailNoteEnvelope", vec![id_parameter("activity")], Some("RedtailNewNote"), true),
        Endpoint::ListNotes => ("redtailListNotes", "The notes of an activity.", "200", "RedtailNoteList", vec![id_parameter("activity")], None, false),
    };
    let mut responses = Map::new();
    responses.insert(success.into(), answer("Done.", schema));
    if request.is_some() {
        responses.insert("400".into(), failure("The body is not a JSON object."));
        responses.insert("413".into(), failure("The body is larger than 1 MiB."));
        responses.insert(
            "415".into(),
            failure("The Content-Type is not application/json."),
        );
    }
    responses.insert(
        "401".into(),
        failure("No credentials, unknown ones, or another partner's API key."),
    );
    responses.insert(
        "404".into(),
        failure("No such record in the caller's database."),
    );
    if refuses {
        responses.insert(
            "422".into(),
            failure("A field is missing or not what Redtail takes; the message names it."),
        );
    }
    responses.insert(
        "429".into(),
        json!({"$ref": "#/components/responses/RateLimited"}),
    );
    responses.insert("503".into(), json!({
        "description": "The server is at a limit; nothing was done. Retry after Retry-After seconds.",
        "content": {"application/json": {"schema": {"anyOf": [schema_ref("RedtailErrors"), schema_ref("Error")]}}},
        "headers": {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}},
    }));
    let mut out = json!({
        "operationId": id,
        "tags": [TAG],
        "summary": summary,
        "security": [{"RedtailUserKey": []}, {"RedtailLogin": []}],
        "responses": responses,
    });
    if !params.is_empty() {
        out["parameters"] = Value::Array(params);
    }
    if let Some(request) = request {
        out["requestBody"] = body(request);
    }
    out
}

fn include_header() -> Value {
    json!({
        "name": "include",
        "in": "header",
        "required": false,
        "description": "linked_contacts: answer the activity's contact as linked_contacts.",
        "schema": {"type": "string"},
    })
}

/// The categories a write may name: the active ones.
fn active_categories() -> Vec<i64> {
    CATEGORIES
        .iter()
        .filter(|(_, _, deleted)| !deleted)
        .map(|(id, _, _)| *id)
        .collect()
}

fn schemas() -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let id = json!({"type": "integer", "minimum": 1});
    let text = json!({"type": "string"});
    let contact = json!({
        "type": "object",
        "required": ["id", "type", "first_name", "middle_name", "last_name", "full_name", "created_at", "updated_at"],
        "properties": {
            "id": id,
            "type": {"const": "Crm::Contact::Individual"},
            "first_name": text, "middle_name": text, "last_name": text, "full_name": text,
            "job_title": text,
            "phones": {"type": "array", "items": {"type": "object", "properties": {
                "id": id, "phone_type": {"type": "integer"}, "number": text,
                "country_code": {"type": ["integer", "null"]}, "is_primary": {"type": "boolean"}}}},
            "emails": {"type": "array", "items": {"type": "object", "properties": {
                "id": id, "address": text, "is_primary": {"type": "boolean"}}}},
            "created_at": time, "updated_at": time,
        },
    });
    let activity_fields = json!({
        "subject": {"type": "string", "pattern": "\\S"},
        "description": text,
        "start_date": time,
        "end_date": time,
        "activity_code_id": {"type": "integer"},
        "priority": {"type": "integer"},
        "category_id": {"type": "integer", "enum": active_categories(), "description": "An active category of GET /lists/categories."},
        "repeats": text,
        "completed": {"type": "boolean"},
        "all_day": {"type": "boolean"},
        "attendees": {"type": "array"},
        "linked_contacts": {"type": "array", "items": {"type": "object", "required": ["contact_id"],
            "properties": {"contact_id": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "description": "A contact of the caller's database (a numeric string too, as App Connect keeps ids)."}}}},
    });
    let mut new_activity = json!({"type": "object", "required": ["subject", "start_date"], "properties": activity_fields.clone()});
    new_activity["example"] = json!({
        "subject": "Inbound Call from Dana Client",
        "description": "<li><b>Summary</b>: Inbound Call from Dana Client</li>",
        "start_date": "2026-07-14T03:00:00.000Z",
        "end_date": "2026-07-14T03:01:05.000Z",
        "activity_code_id": 3,
        "category_id": 2,
        "repeats": "never",
        "linked_contacts": [{"contact_id": 1}],
    });
    let activity = json!({
        "type": "object",
        "required": ["id", "subject", "description", "start_date", "end_date", "completed", "created_at", "updated_at"],
        "properties": {
            "id": id, "subject": text, "description": text, "start_date": time, "end_date": time,
            "activity_code_id": {"type": ["integer", "null"]}, "category_id": {"type": ["integer", "null"]},
            "repeats": text, "completed": {"type": "boolean"}, "all_day": {"type": "boolean"},
            "attendees": {"type": "array"}, "created_at": time, "updated_at": time,
            "linked_contacts": {"type": "array", "items": {"type": "object",
                "required": ["contact_id", "first_name", "last_name"],
                "properties": {"contact_id": id, "first_name": text, "middle_name": text, "last_name": text, "full_name": text}}},
        },
    });
    let note = json!({
        "type": "object",
        "required": ["id", "body", "category_id", "note_type", "created_at"],
        "properties": {
            "id": id, "body": text, "category_id": {"type": "integer"}, "note_type": {"type": "integer"},
            "added_by": {"type": "integer"}, "pinned": {"type": "boolean"}, "draft": {"type": "boolean"},
            "deleted": {"type": "boolean"}, "created_at": time, "updated_at": time,
        },
    });
    json!({
        "RedtailErrors": {
            "description": "Redtail's error body: what went wrong, as a list of messages.",
            "type": "object", "required": ["errors"],
            "properties": {"errors": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
            "example": {"errors": ["Activity 7 not found"]},
        },
        "RedtailAuthentication": {
            "type": "object", "required": ["authenticated_user"],
            "properties": {"authenticated_user": {"type": "object", "required": ["id", "user_key"], "properties": {
                "id": id, "user_key": {"type": "string", "minLength": 1}, "database_id": {"type": "integer"},
                "first_name": text, "last_name": text, "name": text, "email": {"type": ["string", "null"]}}}},
        },
        "RedtailContact": contact,
        "RedtailContactEnvelope": {"type": "object", "required": ["contact"], "properties": {"contact": schema_ref("RedtailContact")}},
        "RedtailContactList": {
            "type": "object", "required": ["contacts", "meta"],
            "properties": {
                "contacts": {"type": "array", "items": schema_ref("RedtailContact")},
                "meta": {"type": "object", "properties": {"total_records": {"type": "integer"}, "total_pages": {"type": "integer"}}},
            },
        },
        "RedtailNewContact": {
            "type": "object",
            "description": "An individual; the first phone and email are kept.",
            "required": ["last_name"],
            "properties": {
                "type": {"const": "Crm::Contact::Individual"},
                "first_name": text, "middle_name": text, "last_name": {"type": "string", "pattern": "\\S"},
                "phones": {"type": "array", "items": {"type": "object", "required": ["number"], "properties": {
                    "number": {"type": "string", "pattern": "[0-9]"}, "country_code": {"type": "integer"}, "phone_type": {"type": "integer"}}}},
                "emails": {"type": "array", "items": {"type": "object", "required": ["address"], "properties": {"address": {"type": "string", "pattern": "\\S"}}}},
            },
            "example": {"type": "Crm::Contact::Individual", "first_name": "Taylor", "last_name": "Morgan",
                "phones": [{"phone_type": 6, "number": "4155557031", "country_code": 1}]},
        },
        "RedtailCategoryList": {
            "type": "object", "required": ["categories"],
            "properties": {"categories": {"type": "array", "items": {"type": "object", "required": ["id", "name", "deleted"],
                "properties": {"id": id, "name": text, "deleted": {"type": "boolean"}}}}},
        },
        "RedtailDatabaseUserList": {
            "type": "object", "required": ["database_users"],
            "properties": {"database_users": {"type": "array", "items": {"type": "object", "required": ["id", "first_name", "last_name"],
                "properties": {"id": id, "first_name": text, "last_name": text, "email": {"type": ["string", "null"]}}}}},
        },
        "RedtailNewActivity": new_activity,
        "RedtailActivityUpdate": {"type": "object", "properties": activity_fields},
        "RedtailActivity": activity,
        "RedtailActivityEnvelope": {"type": "object", "required": ["activity"], "properties": {"activity": schema_ref("RedtailActivity")}},
        "RedtailActivityList": {
            "type": "object", "required": ["activities", "meta"],
            "properties": {
                "activities": {"type": "array", "items": schema_ref("RedtailActivity")},
                "meta": {"type": "object", "required": ["total_records", "total_pages"], "properties": {"total_records": {"type": "integer", "minimum": 0}, "total_pages": {"type": "integer", "minimum": 0}}},
            },
        },
        "RedtailNewNote": {
            "type": "object", "required": ["body"],
            "properties": {"body": {"type": "string", "pattern": "\\S"}, "category_id": {"type": "integer", "enum": active_categories()}, "note_type": {"type": "integer"}},
            "example": {"category_id": 2, "note_type": 1, "body": "Wants a call back on Friday."},
        },
        "RedtailNote": note,
        "RedtailNoteEnvelope": {"type": "object", "required": ["note"], "properties": {"note": schema_ref("RedtailNote")}},
        "RedtailNoteList": {"type": "object", "required": ["notes"], "properties": {"notes": {"type": "array", "items": schema_ref("RedtailNote")}}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_described_once_with_its_security() {
        let doc = document();
        let paths = doc["paths"].as_object().expect("paths");
        let mut operations = 0;
        for route in &ROUTES {
            let path = format!("{MOUNT}{BASE_PATH}{}", route.path);
            let op = &paths[&path][route.method.as_str().to_ascii_lowercase()];
            assert!(op["operationId"].is_string(), "{} {path}", route.method);
            assert_eq!(op["security"][0]["RedtailUserKey"], json!([]));
            operations += 1;
        }
        let described: usize = paths
            .values()
            .map(|item| item.as_object().map_or(0, Map::len))
            .sum();
        assert_eq!(described, operations, "no operation without a route");
        for name in doc["components"]["schemas"]
            .as_object()
            .expect("schemas")
            .keys()
        {
            assert!(name.starts_with("Redtail"), "{name}");
        }
    }
}
