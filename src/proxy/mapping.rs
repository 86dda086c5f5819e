//! Reading a CRM's answer the way App Connect's proxy connector does: every
//! response mapping of engine.ts and index.ts (`mapCreateCallLogResponse`
//! with `String(logId)`, `mapGetCallLogResponse`, `mapFindContactResponse`
//! with its defaults, createContact's, createMessageLog's, getUserInfo's,
//! getUserList's and getLicenseStatus's), and the results App Connect's
//! connector functions return around them.
//!
//! Paths are read from `{body: <response JSON>}`. A response that is not
//! JSON is passed as a JSON string, as axios hands it over. Pure.

use std::borrow::Cow;

use serde_json::{json, Map, Value};

use super::config::{ProxyConfig, ResponseMapping};
use super::{js, path, Operation};

/// A mapping App Connect's JavaScript would throw on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("{operation}: {path} in the answer is {found}, not a list")]
    NotAList {
        operation: Operation,
        path: String,
        found: String,
    },
}

fn mapping(config: &ProxyConfig, op: Operation) -> Option<&ResponseMapping> {
    config
        .operation(op)
        .and_then(|o| o.response_mapping.as_ref())
}

fn answer_context(response: &Value) -> Value {
    json!({ "body": response })
}

fn read(context: &Value, at: &str) -> Option<Value> {
    path::get(context, at).map(Cow::into_owned)
}

/// `x || fallback` on a possibly undefined value.
fn or(value: Option<Value>, fallback: Option<Value>) -> Option<Value> {
    if js::truthy(value.as_ref()) {
        value
    } else {
        fallback
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

/// `logId ? String(logId) : undefined`.
fn log_id(value: Option<Value>) -> Option<String> {
    js::truthy(value.as_ref())
        .then(|| value.as_ref().map(js::to_string))
        .flatten()
}

/// `mapCreateCallLogResponse`: no mapping, no logId.
pub fn create_call_log_id(config: &ProxyConfig, response: &Value) -> Option<String> {
    let map = mapping(config, Operation::CreateCallLog)?;
    log_id(read(
        &answer_context(response),
        map.path_or("idPath", "body.id"),
    ))
}

/// createMessageLog's logId: with no mapping, `body.id`.
pub fn create_message_log_id(config: &ProxyConfig, response: &Value) -> Option<String> {
    let at = mapping(config, Operation::CreateMessageLog)
        .map_or("body.id", |m| m.path_or("idPath", "body.id"));
    log_id(read(&answer_context(response), at))
}

/// `mapGetCallLogResponse`'s `callLogInfo`; each of the first three may be
/// undefined (`None`).
#[derive(Debug, Clone, PartialEq)]
pub struct CallLogInfo {
    pub subject: Option<Value>,
    pub note: Option<Value>,
    pub full_body: Option<Value>,
    pub full_log_response: Value,
}

impl CallLogInfo {
    /// As App Connect returns it (undefined members left out).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "subject", self.subject.clone());
        put(&mut map, "note", self.note.clone());
        put(&mut map, "fullBody", self.full_body.clone());
        map.insert("fullLogResponse".into(), self.full_log_response.clone());
        Value::Object(map)
    }
}

/// `mapGetCallLogResponse`: `body.subject`, and `body.note` for both the note
/// and the full body, unless mapped.
pub fn get_call_log(config: &ProxyConfig, response: &Value) -> CallLogInfo {
    let empty = ResponseMapping::default();
    let map = mapping(config, Operation::GetCallLog).unwrap_or(&empty);
    let context = answer_context(response);
    CallLogInfo {
        subject: read(&context, map.path_or("subjectPath", "body.subject")),
        note: read(&context, map.path_or("notePath", "body.note")),
        full_body: read(&context, map.path_or("fullBodyPath", "body.note")),
        full_log_response: response.clone(),
    }
}

/// `mapFindContactResponse` for findContact or findContactWithName: each
/// contact as App Connect builds it, with its defaults (`name` `''`, `type`
/// `Contact`, `additionalInfo` `null`, …).
pub fn find_contacts(
    config: &ProxyConfig,
    op: Operation,
    response: &Value,
) -> Result<Vec<Value>, MappingError> {
    let Some(map) = mapping(config, op) else {
        return Ok(Vec::new());
    };
    let list_path = map.path_or("listPath", "body");
    let Some(list) = or(read(&answer_context(response), list_path), None) else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = list else {
        return Err(MappingError::NotAList {
            operation: op,
            path: list_path.to_owned(),
            found: js::describe(&list),
        });
    };
    let item = |it: &Value, key: &str, fallback: &str| read(it, map.item_path_or(key, fallback));
    Ok(items
        .iter()
        .map(|it| {
            let mut contact = Map::new();
            put(&mut contact, "id", item(it, "idPath", "id"));
            put(
                &mut contact,
                "name",
                or(item(it, "namePath", "name"), Some(Value::from(""))),
            );
            put(
                &mut contact,
                "phone",
                or(item(it, "phonePath", "phone"), None),
            );
            put(
                &mut contact,
                "type",
                or(item(it, "typePath", "type"), Some(Value::from("Contact"))),
            );
            put(
                &mut contact,
                "title",
                or(item(it, "titlePath", "title"), Some(Value::from(""))),
            );
            put(
                &mut contact,
                "company",
                or(item(it, "companyPath", "company"), Some(Value::from(""))),
            );
            put(
                &mut contact,
                "createdDate",
                or(item(it, "createdDatePath", "createdDate"), None),
            );
            put(
                &mut contact,
                "mostRecentActivityDate",
                or(
                    item(it, "mostRecentActivityDatePath", "mostRecentActivityDate"),
                    None,
                ),
            );
            put(
                &mut contact,
                "additionalInfo",
                or(
                    item(it, "additionalInfoPath", "additionalInfo"),
                    Some(Value::Null),
                ),
            );
            Value::Object(contact)
        })
        .collect())
}

/// createContact's `contactInfo`: `null` unless `idPath` is mapped.
pub fn created_contact(config: &ProxyConfig, response: &Value) -> Value {
    let empty = ResponseMapping::default();
    let map = mapping(config, Operation::CreateContact).unwrap_or(&empty);
    let Some(id_path) = map.path_if_set("idPath") else {
        return Value::Null;
    };
    let context = answer_context(response);
    let mut contact = Map::new();
    put(&mut contact, "id", read(&context, id_path));
    put(
        &mut contact,
        "name",
        read(&context, map.path_or("namePath", "body.name")),
    );
    put(
        &mut contact,
        "type",
        or(
            read(&context, map.path_or("typePath", "body.type")),
            Some(Value::from("Contact")),
        ),
    );
    Value::Object(contact)
}

/// getUserInfo's result (`{successful, platformUserInfo, returnMessage}`).
/// `args` are the function's arguments (`additionalInfo`, `apiKey`,
/// `hostname`, `platform`), which its paths may read as well as `body`.
pub fn user_info(config: &ProxyConfig, response: &Value, args: &Map<String, Value>) -> Value {
    let empty = ResponseMapping::default();
    let map = mapping(config, Operation::GetUserInfo).unwrap_or(&empty);
    let mut context = Map::new();
    context.insert("body".into(), response.clone());
    for key in ["additionalInfo", "apiKey", "hostname", "platform"] {
        put(&mut context, key, args.get(key).cloned());
    }
    let context = Value::Object(context);
    let platform = args.get("platform");
    let mapped = |key: &str| map.path_if_set(key).and_then(|p| read(&context, p));
    let raw_id = mapped("idPath");
    let id = format!(
        "{}-{}",
        js::to_string_or_undefined(raw_id.as_ref()),
        js::to_string_or_undefined(platform)
    );
    let name = match map.path_if_set("namePath") {
        Some(p) => read(&context, p),
        None => raw_id.clone(),
    };
    let connected = Value::from(format!(
        "Connected to {}.",
        js::to_string_or_undefined(platform)
    ));
    let message = match map.path_if_set("messagePath") {
        Some(p) => or(read(&context, p), Some(connected)),
        None => Some(connected),
    };
    // `Object.assign({}, additionalInfo || {})`, less a truthy password.
    let mut additional = match args.get("additionalInfo") {
        Some(Value::Object(info)) => info.clone(),
        _ => Map::new(),
    };
    if js::truthy(additional.get("password")) {
        additional.remove("password");
    }
    // Object.keys counts a key set to undefined; JSON then leaves it out.
    let mut keys = additional.len();
    for (key, expr) in map.platform_additional_info_paths() {
        if !additional.contains_key(key) {
            keys += 1;
        }
        match read(&context, expr) {
            Some(value) => additional.insert(key.clone(), value),
            None => additional.remove(key),
        };
    }
    let mut info = Map::new();
    info.insert("id".into(), Value::from(id));
    put(&mut info, "name", name);
    if let Some(tz) = mapped("timezoneNamePath").filter(|v| js::truthy(Some(v))) {
        info.insert("timezoneName".into(), tz);
    }
    if let Some(key) = mapped("overridingApiKeyPath").filter(|v| js::truthy(Some(v))) {
        info.insert("overridingApiKey".into(), key);
    }
    if keys > 0 {
        info.insert("platformAdditionalInfo".into(), Value::Object(additional));
    }
    let mut return_message = Map::new();
    return_message.insert("messageType".into(), Value::from("success"));
    put(&mut return_message, "message", message);
    return_message.insert("ttl".into(), Value::from(1000));
    json!({
        "successful": true,
        "platformUserInfo": Value::Object(info),
        "returnMessage": Value::Object(return_message),
    })
}

/// getUserList's users: none without `listPath`.
pub fn user_list(config: &ProxyConfig, response: &Value) -> Result<Vec<Value>, MappingError> {
    let empty = ResponseMapping::default();
    let map = mapping(config, Operation::GetUserList).unwrap_or(&empty);
    let Some(list_path) = map.path_if_set("listPath") else {
        return Ok(Vec::new());
    };
    let list = match or(read(&answer_context(response), list_path), None) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(MappingError::NotAList {
                operation: Operation::GetUserList,
                path: list_path.to_owned(),
                found: js::describe(&other),
            })
        }
    };
    Ok(list
        .iter()
        .map(|item| {
            let mut user = Map::new();
            put(&mut user, "id", read(item, map.path_or("idPath", "id")));
            put(
                &mut user,
                "name",
                read(item, map.path_or("namePath", "name")),
            );
            put(
                &mut user,
                "email",
                read(item, map.path_or("emailPath", "email")),
            );
            Value::Object(user)
        })
        .collect())
}

/// getLicenseStatus's result.
pub fn license_status(config: &ProxyConfig, response: &Value) -> Value {
    let empty = ResponseMapping::default();
    let map = mapping(config, Operation::GetLicenseStatus).unwrap_or(&empty);
    let context = answer_context(response);
    let mut out = Map::new();
    put(
        &mut out,
        "isLicenseValid",
        read(
            &context,
            map.path_or("isLicenseValidPath", "body.isLicenseValid"),
        ),
    );
    put(
        &mut out,
        "licenseStatus",
        read(
            &context,
            map.path_or("licenseStatusPath", "body.licenseStatus"),
        ),
    );
    put(
        &mut out,
        "licenseStatusDescription",
        read(
            &context,
            map.path_or(
                "licenseStatusDescriptionPath",
                "body.licenseStatusDescription",
            ),
        ),
    );
    Value::Object(out)
}

fn return_message(message: &str, ttl: u64) -> Value {
    json!({"message": message, "messageType": "success", "ttl": ttl})
}

/// What index.ts's connector function returns once the request succeeded,
/// for the operations whose answer App Connect reads or ignores the same
/// way every time. getUserInfo needs its arguments: see `user_info`.
pub fn result(
    config: &ProxyConfig,
    op: Operation,
    response: &Value,
    args: &Map<String, Value>,
) -> Result<Value, MappingError> {
    Ok(match op {
        Operation::GetUserInfo => user_info(config, response, args),
        Operation::CreateCallLog => {
            let mut out = Map::new();
            put(
                &mut out,
                "logId",
                create_call_log_id(config, response).map(Value::from),
            );
            out.insert("returnMessage".into(), return_message("Call logged", 2000));
            Value::Object(out)
        }
        Operation::GetCallLog => json!({
            "callLogInfo": get_call_log(config, response).to_value(),
            "returnMessage": return_message("Call log fetched.", 3000),
        }),
        Operation::UpdateCallLog => json!({
            "updatedNote": null,
            "returnMessage": return_message("Call log updated.", 3000),
        }),
        Operation::FindContact | Operation::FindContactWithName => {
            let contacts = find_contacts(config, op, response)?;
            let message = format!("Found {} contacts", contacts.len());
            json!({
                "successful": true,
                "matchedContactInfo": contacts,
                "returnMessage": return_message(&message, 3000),
            })
        }
        Operation::CreateContact => json!({
            "contactInfo": created_contact(config, response),
            "returnMessage": return_message("Contact created", 2000),
        }),
        Operation::CreateMessageLog => {
            let mut out = Map::new();
            put(
                &mut out,
                "logId",
                create_message_log_id(config, response).map(Value::from),
            );
            out.insert(
                "returnMessage".into(),
                return_message("Message logged", 1000),
            );
            Value::Object(out)
        }
        Operation::UpdateMessageLog => {
            json!({"returnMessage": return_message("Message log updated", 3000)})
        }
        Operation::UpsertCallDisposition => {
            let existing = args
                .get("existingCallLog")
                .and_then(|e| e.get("thirdPartyLogId"))
                .cloned();
            let mut out = Map::new();
            put(&mut out, "logId", existing);
            out.insert(
                "returnMessage".into(),
                return_message("Disposition updated", 2000),
            );
            Value::Object(out)
        }
        Operation::GetUserList => Value::Array(user_list(config, response)?),
        Operation::GetLicenseStatus => license_status(config, response),
        Operation::UnAuthorize => json!({
            "successful": true,
            "returnMessage": {"messageType": "success", "message": "Logged out", "ttl": 1000},
        }),
    })
}

#[cfg(test)]
mod tests;
