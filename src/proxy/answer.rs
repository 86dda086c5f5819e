//! Serving a config's answers: each response mapping run backwards, and the
//! meaning of a request run backwards through its templates.
//!
//! `answer` builds the JSON in which every path App Connect reads for an
//! operation resolves to the value given (the new id at `idPath`, the
//! subject, note and full body at getCallLog's paths, a list at `listPath`
//! whose items resolve `item.*`, the caller at getUserInfo's paths, …), with
//! the record's stored fields merged into the object that holds those paths,
//! so the answer looks like the CRM's. `meaning` reads what an activity is
//! from the values a request's templates bound.
//!
//! Pure: values in, JSON out.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::config::{ProxyConfig, ResponseMapping};
use super::template::Bindings;
use super::{js, path, Operation};

/// A contact to answer with (findContact, findContactWithName,
/// createContact).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactView {
    pub id: Value,
    pub name: Option<Value>,
    pub phone: Option<Value>,
    pub contact_type: Option<Value>,
    pub title: Option<Value>,
    pub company: Option<Value>,
    pub created_date: Option<Value>,
    pub most_recent_activity_date: Option<Value>,
    pub additional_info: Option<Value>,
    /// The contact's stored fields.
    pub fields: Map<String, Value>,
}

/// A user to answer with (getUserInfo, getUserList).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserView {
    pub id: Value,
    pub name: Option<Value>,
    pub email: Option<Value>,
    pub timezone_name: Option<Value>,
    /// The user's stored fields; `platformAdditionalInfoPaths` are answered
    /// from the field of the same name.
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LicenseView {
    pub valid: Value,
    pub status: Option<Value>,
    pub description: Option<Value>,
}

/// What an answer exposes; each operation reads the parts it needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerValues {
    /// The record's id (a new log's, an updated one's).
    pub id: Option<Value>,
    /// The record's stored fields, as the requests sent them.
    pub record: Map<String, Value>,
    pub subject: Option<Value>,
    pub note: Option<Value>,
    pub full_body: Option<Value>,
    /// The contacts found.
    pub contacts: Vec<ContactView>,
    /// The contact created.
    pub contact: Option<ContactView>,
    /// The caller.
    pub user: Option<UserView>,
    pub users: Vec<UserView>,
    pub license: Option<LicenseView>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error(
        "{operation}: responseMapping.{key} is {path:?}; an answer can only hold paths under body"
    )]
    OutsideBody {
        operation: Operation,
        key: String,
        path: String,
    },
    #[error("{operation}: {reason}")]
    Unsatisfiable {
        operation: Operation,
        reason: String,
    },
}

/// Builds `{body: …}` so that each mapped path reads its value.
struct Builder {
    operation: Operation,
    root: Value,
    /// Paths set, with their values, to check at the end.
    set: Vec<(String, Value)>,
}

fn under_body(p: &str) -> Option<Vec<&str>> {
    match p {
        "body" => Some(Vec::new()),
        _ => p
            .strip_prefix("body.")
            .map(|rest| rest.split('.').collect()),
    }
}

/// The object at `parts` (inside `root`), made if missing or not an object.
fn object_at<'v>(root: &'v mut Value, parts: &[&str]) -> Option<&'v mut Map<String, Value>> {
    let mut current = root;
    for part in parts {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        current = current
            .as_object_mut()?
            .entry(part.to_string())
            .or_insert(Value::Null);
    }
    if !current.is_object() {
        *current = Value::Object(Map::new());
    }
    current.as_object_mut()
}

/// Where to put a record's fields so that they sit beside the mapped paths:
/// in the object that holds most of them (`data` for `body.data.id` and
/// `body.data.subject`), unless the fields already spell some of that path
/// out (a stored `{"activity": {…}}` read back at `body.activity.subject`
/// goes at `body`).
fn placement<'p>(record: &Map<String, Value>, mapped: &[Vec<&'p str>]) -> Vec<&'p str> {
    let parents: Vec<&[&str]> = mapped
        .iter()
        .map(|p| &p[..p.len().saturating_sub(1)])
        .collect();
    let Some(holder) = parents
        .iter()
        .max_by_key(|parent| (parents.iter().filter(|p| p == parent).count(), parent.len()))
        .map(|parent| parent.to_vec())
    else {
        return Vec::new();
    };
    let record = Value::Object(record.clone());
    let score = |k: usize| {
        mapped
            .iter()
            .filter(|p| p.len() > k && p[..k] == holder[..k])
            .filter(|p| path::get(&record, &p[k..].join(".")).is_some())
            .count()
    };
    let best = (0..=holder.len())
        .max_by_key(|&k| (score(k), k))
        .unwrap_or(holder.len());
    holder[..best].to_vec()
}

impl Builder {
    fn new(operation: Operation) -> Builder {
        Builder {
            operation,
            root: Value::Object(Map::new()),
            set: Vec::new(),
        }
    }

    /// Merges `record` beside the paths about to be set.
    fn place(&mut self, record: &Map<String, Value>, mapped: &[&str]) {
        if record.is_empty() {
            return;
        }
        let relative: Vec<Vec<&str>> = mapped.iter().filter_map(|p| under_body(p)).collect();
        let mut parts = vec!["body"];
        parts.extend(placement(record, &relative));
        if let Some(target) = object_at(&mut self.root, &parts) {
            for (key, value) in record {
                target.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }

    /// Puts `value` at the mapped path `p` (`key` names it in errors).
    fn put(&mut self, key: &str, p: &str, value: Value) -> Result<(), AnswerError> {
        if under_body(p).is_none() {
            return Err(AnswerError::OutsideBody {
                operation: self.operation,
                key: key.to_owned(),
                path: p.to_owned(),
            });
        }
        path::set(&mut self.root, p, value.clone()).map_err(|e| AnswerError::Unsatisfiable {
            operation: self.operation,
            reason: e.to_string(),
        })?;
        self.set.push((p.to_owned(), value));
        Ok(())
    }

    /// The answer, once every path set still reads its value.
    fn finish(self) -> Result<Value, AnswerError> {
        for (p, value) in &self.set {
            if path::get(&self.root, p).as_deref() != Some(value) {
                return Err(AnswerError::Unsatisfiable {
                    operation: self.operation,
                    reason: format!("the mapping puts two values at {p} or inside each other"),
                });
            }
        }
        Ok(match self.root {
            Value::Object(mut map) => map.remove("body").unwrap_or(Value::Object(Map::new())),
            other => other,
        })
    }
}

fn mapping_or_default(config: &ProxyConfig, op: Operation) -> Cow<'_, ResponseMapping> {
    match config
        .operation(op)
        .and_then(|o| o.response_mapping.as_ref())
    {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(ResponseMapping::default()),
    }
}

/// One item of a list (contacts, users): its fields, then the mapped values
/// at the item paths.
fn item(
    operation: Operation,
    fields: &Map<String, Value>,
    values: &[(&str, Option<&Value>)],
) -> Result<Value, AnswerError> {
    let mut item = Value::Object(fields.clone());
    for (p, value) in values {
        if let Some(value) = value {
            path::set(&mut item, p, (*value).clone()).map_err(|e| AnswerError::Unsatisfiable {
                operation,
                reason: e.to_string(),
            })?;
        }
    }
    Ok(item)
}

/// The answer to `op` in `config`'s CRM: every path App Connect reads
/// resolves to its value in `values`.
pub fn answer(
    config: &ProxyConfig,
    op: Operation,
    values: &AnswerValues,
) -> Result<Value, AnswerError> {
    let map = mapping_or_default(config, op);
    let mut b = Builder::new(op);
    match op {
        Operation::CreateCallLog | Operation::CreateMessageLog => {
            let id_path = map.path_or("idPath", "body.id");
            b.place(&values.record, &[id_path]);
            if let Some(id) = &values.id {
                b.put("idPath", id_path, id.clone())?;
            }
        }
        Operation::GetCallLog => {
            let subject = map.path_or("subjectPath", "body.subject");
            let note = map.path_or("notePath", "body.note");
            let full = map.path_or("fullBodyPath", "body.note");
            b.place(&values.record, &[subject, note, full]);
            if let Some(v) = &values.subject {
                b.put("subjectPath", subject, v.clone())?;
            }
            // With both at one path (App Connect's defaults), the full body
            // wins: App Connect recomposes updates on top of it.
            if note != full {
                if let Some(v) = &values.note {
                    b.put("notePath", note, v.clone())?;
                }
            }
            if let Some(v) = &values.full_body {
                b.put("fullBodyPath", full, v.clone())?;
            }
        }
        Operation::FindContact | Operation::FindContactWithName => {
            let list_path = map.path_or("listPath", "body");
            let items = values
                .contacts
                .iter()
                .map(|c| {
                    item(
                        op,
                        &c.fields,
                        &[
                            (map.item_path_or("idPath", "id"), Some(&c.id)),
                            (map.item_path_or("namePath", "name"), c.name.as_ref()),
                            (map.item_path_or("phonePath", "phone"), c.phone.as_ref()),
                            (
                                map.item_path_or("typePath", "type"),
                                c.contact_type.as_ref(),
                            ),
                            (map.item_path_or("titlePath", "title"), c.title.as_ref()),
                            (
                                map.item_path_or("companyPath", "company"),
                                c.company.as_ref(),
                            ),
                            (
                                map.item_path_or("createdDatePath", "createdDate"),
                                c.created_date.as_ref(),
                            ),
                            (
                                map.item_path_or(
                                    "mostRecentActivityDatePath",
                                    "mostRecentActivityDate",
                                ),
                                c.most_recent_activity_date.as_ref(),
                            ),
                            (
                                map.item_path_or("additionalInfoPath", "additionalInfo"),
                                c.additional_info.as_ref(),
                            ),
                        ],
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            b.put("listPath", list_path, Value::Array(items))?;
        }
        Operation::CreateContact => {
            let id_path = map.path_or("idPath", "body.id");
            let name_path = map.path_or("namePath", "body.name");
            let type_path = map.path_or("typePath", "body.type");
            if let Some(contact) = &values.contact {
                b.place(&contact.fields, &[id_path, name_path, type_path]);
                b.put("idPath", id_path, contact.id.clone())?;
                if let Some(name) = &contact.name {
                    b.put("namePath", name_path, name.clone())?;
                }
                if let Some(kind) = &contact.contact_type {
                    b.put("typePath", type_path, kind.clone())?;
                }
            }
        }
        Operation::GetUserInfo => {
            if let Some(user) = &values.user {
                let mut wanted: Vec<(&str, &str, Value)> = Vec::new();
                if let Some(p) = map.path_if_set("idPath") {
                    wanted.push(("idPath", p, user.id.clone()));
                }
                if let (Some(p), Some(v)) = (map.path_if_set("namePath"), &user.name) {
                    wanted.push(("namePath", p, v.clone()));
                }
                if let (Some(p), Some(v)) =
                    (map.path_if_set("timezoneNamePath"), &user.timezone_name)
                {
                    wanted.push(("timezoneNamePath", p, v.clone()));
                }
                for (key, p) in map.platform_additional_info_paths() {
                    if let Some(v) = user.fields.get(key) {
                        wanted.push(("platformAdditionalInfoPaths", p.as_str(), v.clone()));
                    }
                }
                // Paths into the request (apiKey, hostname, …) are App
                // Connect's own; only those under body are answered.
                wanted.retain(|(_, p, _)| under_body(p).is_some());
                let paths: Vec<&str> = wanted.iter().map(|(_, p, _)| *p).collect();
                b.place(&user.fields, &paths);
                for (key, p, v) in wanted {
                    b.put(key, p, v)?;
                }
            }
        }
        Operation::GetUserList => {
            let list_path = map.path_or("listPath", "body");
            let items = values
                .users
                .iter()
                .map(|u| {
                    item(
                        op,
                        &u.fields,
                        &[
                            (map.path_or("idPath", "id"), Some(&u.id)),
                            (map.path_or("namePath", "name"), u.name.as_ref()),
                            (map.path_or("emailPath", "email"), u.email.as_ref()),
                        ],
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            b.put("listPath", list_path, Value::Array(items))?;
        }
        Operation::GetLicenseStatus => {
            if let Some(license) = &values.license {
                b.put(
                    "isLicenseValidPath",
                    map.path_or("isLicenseValidPath", "body.isLicenseValid"),
                    license.valid.clone(),
                )?;
                if let Some(v) = &license.status {
                    b.put(
                        "licenseStatusPath",
                        map.path_or("licenseStatusPath", "body.licenseStatus"),
                        v.clone(),
                    )?;
                }
                if let Some(v) = &license.description {
                    b.put(
                        "licenseStatusDescriptionPath",
                        map.path_or(
                            "licenseStatusDescriptionPath",
                            "body.licenseStatusDescription",
                        ),
                        v.clone(),
                    )?;
                }
            }
        }
        Operation::UpdateCallLog
        | Operation::UpdateMessageLog
        | Operation::UpsertCallDisposition => {
            // App Connect reads nothing of these answers; shaped as the
            // create's (`{activity: {…}}`, `{data: {…}}`), as a CRM answers
            // with the record it changed.
            let create = if op == Operation::UpdateMessageLog {
                Operation::CreateMessageLog
            } else {
                Operation::CreateCallLog
            };
            let created = mapping_or_default(config, create);
            let id_path = Some(created.path_or("idPath", "body.id"))
                .filter(|p| under_body(p).is_some_and(|parts| !parts.is_empty()))
                .unwrap_or("body.id");
            b.place(&values.record, &[id_path]);
            if let Some(id) = &values.id {
                b.put("idPath", id_path, id.clone())?;
            }
        }
        Operation::UnAuthorize => {
            b.place(&values.record, &[]);
            if let Some(id) = &values.id {
                b.put("id", "body.id", id.clone())?;
            }
        }
    }
    b.finish()
}

/// What a request says about the activity it writes or names, from the
/// values its templates bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meaning {
    /// `composedLogDetails` (for a message log, `message.subject` if no
    /// composed body was sent).
    pub body: Option<String>,
    pub subject: Option<String>,
    /// `contactInfo.id`, else getCallLog's `contactId`.
    pub contact_id: Option<Value>,
    /// `startTime`, else `callLog.startTime`, else a message's `creationTime`.
    pub start_time: Option<Value>,
    pub session_id: Option<Value>,
    /// `callLog.duration`, else `duration`.
    pub duration: Option<Value>,
    /// `callLog.direction`, else `message.direction`.
    pub direction: Option<String>,
    pub note: Option<String>,
    /// `message.id`: present for a message log.
    pub message_id: Option<Value>,
    /// `thirdPartyLogId`, else `existingCallLog.thirdPartyLogId` or
    /// `existingMessageLog.thirdPartyLogId`.
    pub log_id: Option<Value>,
}

impl Meaning {
    /// A message log (by its operation, or because it carries `message.id`).
    pub fn is_message(&self, op: Operation) -> bool {
        op.is_message_log() || self.message_id.is_some()
    }
}

fn first(bindings: &Bindings, paths: &[&str]) -> Option<Value> {
    paths.iter().find_map(|p| {
        bindings
            .get(p)
            .filter(|v| !v.is_null())
            .map(Cow::into_owned)
    })
}

fn text(value: Option<Value>) -> Option<String> {
    value.map(|v| match v {
        Value::String(s) => s,
        other => js::to_string(&other),
    })
}

/// The activity's meaning from a request's bound values.
pub fn meaning(op: Operation, bindings: &Bindings) -> Meaning {
    let body = first(bindings, &["composedLogDetails"]).or_else(|| {
        op.is_message_log()
            .then(|| first(bindings, &["message.subject"]))
            .flatten()
    });
    Meaning {
        body: text(body),
        subject: text(first(bindings, &["subject", "callLog.customSubject"])),
        contact_id: first(bindings, &["contactInfo.id", "contactId"]),
        start_time: first(
            bindings,
            &[
                "startTime",
                "callLog.startTime",
                "creationTime",
                "message.creationTime",
            ],
        ),
        session_id: first(bindings, &["callLog.sessionId"]),
        duration: first(bindings, &["callLog.duration", "duration"]),
        direction: text(first(bindings, &["callLog.direction", "message.direction"])),
        note: text(first(bindings, &["note"])),
        message_id: first(bindings, &["message.id"]),
        log_id: first(
            bindings,
            &[
                "thirdPartyLogId",
                "existingCallLog.thirdPartyLogId",
                "existingMessageLog.thirdPartyLogId",
            ],
        ),
    }
}

#[cfg(test)]
mod tests;
