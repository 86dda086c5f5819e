//! Serving a config's answers: each response mapping run backwards, and the
//! meaning of a request run backwards through its templates.
//!
//! `answer` builds the JSON in which every path App Connect reads for an
//! operation holds the value given (the new id at `idPath`, the subject,
//! note and full body at getCallLog's paths, a list at `listPath` whose
//! items resolve `item.*`, the caller at getUserInfo's paths, …), with the
//! record's stored fields merged into the object that holds those paths, so
//! the answer looks like the CRM's. A mapped path for which mockcrm holds
//! no value holds `null`; paths that are the same hold one value, the one
//! listed first here (the id before the name). `build.rs` makes the JSON;
//! `servable.rs` refuses, when a config is loaded to be served, a mapping
//! no answer can satisfy; `meaning.rs` reads what an activity is from the
//! values a request's templates bound.
//!
//! Pure: values in, JSON out.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::config::{ProxyConfig, ResponseMapping};
use super::Operation;
use build::Builder;

mod build;
mod meaning;
mod servable;

pub use meaning::{meaning, Meaning};
pub use servable::check_servable;

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

fn mapping_or_default(config: &ProxyConfig, op: Operation) -> Cow<'_, ResponseMapping> {
    match config
        .operation(op)
        .and_then(|o| o.response_mapping.as_ref())
    {
        Some(m) => Cow::Borrowed(m),
        None => Cow::Owned(ResponseMapping::default()),
    }
}

/// The path App Connect reads for `key`: the mapped one (`true`), else its
/// default.
fn read_path<'m>(map: &'m ResponseMapping, key: &str, fallback: &'m str) -> (&'m str, bool) {
    match map.path_if_set(key) {
        Some(p) => (p, true),
        None => (fallback, false),
    }
}

/// The path App Connect reads for `key` of a list item.
fn item_path<'m>(map: &'m ResponseMapping, key: &str, fallback: &'m str) -> (&'m str, bool) {
    let mapped = map.item_path_or(key, "");
    if mapped.is_empty() {
        (fallback, false)
    } else {
        (mapped, true)
    }
}

/// One item of a list (contacts, users): its fields, then the values at
/// the item paths.
fn item(
    operation: Operation,
    fields: &Map<String, Value>,
    values: &[(&str, (&str, bool), Option<&Value>)],
) -> Result<Value, AnswerError> {
    let mut b = Builder::item(operation, fields);
    for (key, (p, mapped), value) in values {
        // A default path with no value is left as the fields have it.
        if *mapped || value.is_some() {
            b.want(format!("item.{key}"), p, value.cloned(), *mapped);
        }
    }
    b.finish()
}

/// Puts the value of `key` (mapped, or else at App Connect's default path)
/// in the answer; a default with no value is left out.
fn want<'m>(b: &mut Builder<'m>, key: &str, (p, mapped): (&'m str, bool), value: Option<&Value>) {
    if mapped || value.is_some() {
        b.want(key, p, value.cloned(), mapped);
    }
}

/// The answer to `op` in `config`'s CRM: every path App Connect reads
/// holds its value in `values` (`null` where a mapped path has none).
pub fn answer(
    config: &ProxyConfig,
    op: Operation,
    values: &AnswerValues,
) -> Result<Value, AnswerError> {
    let map = mapping_or_default(config, op);
    let mut b = Builder::answer(op);
    match op {
        Operation::CreateCallLog | Operation::CreateMessageLog => {
            b.place(&values.record);
            want(
                &mut b,
                "idPath",
                read_path(&map, "idPath", "body.id"),
                values.id.as_ref(),
            );
        }
        Operation::GetCallLog => {
            b.place(&values.record);
            // With the note and the full body at one path (App Connect's
            // defaults), the full body wins: App Connect recomposes updates
            // on top of it.
            want(
                &mut b,
                "fullBodyPath",
                read_path(&map, "fullBodyPath", "body.note"),
                values.full_body.as_ref(),
            );
            want(
                &mut b,
                "subjectPath",
                read_path(&map, "subjectPath", "body.subject"),
                values.subject.as_ref(),
            );
            want(
                &mut b,
                "notePath",
                read_path(&map, "notePath", "body.note"),
                values.note.as_ref(),
            );
        }
        Operation::FindContact | Operation::FindContactWithName => {
            let items = values
                .contacts
                .iter()
                .map(|c| {
                    item(
                        op,
                        &c.fields,
                        &[
                            ("idPath", item_path(&map, "idPath", "id"), Some(&c.id)),
                            (
                                "namePath",
                                item_path(&map, "namePath", "name"),
                                c.name.as_ref(),
                            ),
                            (
                                "phonePath",
                                item_path(&map, "phonePath", "phone"),
                                c.phone.as_ref(),
                            ),
                            (
                                "typePath",
                                item_path(&map, "typePath", "type"),
                                c.contact_type.as_ref(),
                            ),
                            (
                                "titlePath",
                                item_path(&map, "titlePath", "title"),
                                c.title.as_ref(),
                            ),
                            (
                                "companyPath",
                                item_path(&map, "companyPath", "company"),
                                c.company.as_ref(),
                            ),
                            (
                                "createdDatePath",
                                item_path(&map, "createdDatePath", "createdDate"),
                                c.created_date.as_ref(),
                            ),
                            (
                                "mostRecentActivityDatePath",
                                item_path(
                                    &map,
                                    "mostRecentActivityDatePath",
                                    "mostRecentActivityDate",
                                ),
                                c.most_recent_activity_date.as_ref(),
                            ),
                            (
                                "additionalInfoPath",
                                item_path(&map, "additionalInfoPath", "additionalInfo"),
                                c.additional_info.as_ref(),
                            ),
                        ],
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (list_path, mapped) = read_path(&map, "listPath", "body");
            b.want("listPath", list_path, Some(Value::Array(items)), mapped);
        }
        Operation::CreateContact => {
            if let Some(contact) = &values.contact {
                b.place(&contact.fields);
                want(
                    &mut b,
                    "idPath",
                    read_path(&map, "idPath", "body.id"),
                    Some(&contact.id),
                );
                want(
                    &mut b,
                    "namePath",
                    read_path(&map, "namePath", "body.name"),
                    contact.name.as_ref(),
                );
                want(
                    &mut b,
                    "typePath",
                    read_path(&map, "typePath", "body.type"),
                    contact.contact_type.as_ref(),
                );
            }
        }
        Operation::GetUserInfo => {
            if let Some(user) = &values.user {
                b.place(&user.fields);
                // Paths into App Connect's own arguments (apiKey, hostname,
                // …) are not the answer's to hold.
                let mut wanted = |key: &str, value: Option<&Value>| {
                    if let Some(p) = map.path_if_set(key).filter(|p| in_answer(op, p)) {
                        b.want(key, p, value.cloned(), true);
                    }
                };
                wanted("idPath", Some(&user.id));
                wanted("namePath", user.name.as_ref());
                wanted("timezoneNamePath", user.timezone_name.as_ref());
                wanted("overridingApiKeyPath", None);
                wanted("messagePath", None);
                for (key, p) in map.platform_additional_info_paths() {
                    if in_answer(op, p) {
                        b.want_yielding(
                            format!("platformAdditionalInfoPaths.{key}"),
                            p,
                            user.fields.get(key).cloned(),
                        );
                    }
                }
            }
        }
        Operation::GetUserList => {
            let items = values
                .users
                .iter()
                .map(|u| {
                    item(
                        op,
                        &u.fields,
                        &[
                            ("idPath", read_path(&map, "idPath", "id"), Some(&u.id)),
                            (
                                "namePath",
                                read_path(&map, "namePath", "name"),
                                u.name.as_ref(),
                            ),
                            (
                                "emailPath",
                                read_path(&map, "emailPath", "email"),
                                u.email.as_ref(),
                            ),
                        ],
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (list_path, mapped) = read_path(&map, "listPath", "body");
            b.want("listPath", list_path, Some(Value::Array(items)), mapped);
        }
        Operation::GetLicenseStatus => {
            if let Some(license) = &values.license {
                want(
                    &mut b,
                    "isLicenseValidPath",
                    read_path(&map, "isLicenseValidPath", "body.isLicenseValid"),
                    Some(&license.valid),
                );
                want(
                    &mut b,
                    "licenseStatusPath",
                    read_path(&map, "licenseStatusPath", "body.licenseStatus"),
                    license.status.as_ref(),
                );
                want(
                    &mut b,
                    "licenseStatusDescriptionPath",
                    read_path(
                        &map,
                        "licenseStatusDescriptionPath",
                        "body.licenseStatusDescription",
                    ),
                    license.description.as_ref(),
                );
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
                .filter(|p| build::under_body(p).is_some_and(|parts| !parts.is_empty()))
                .unwrap_or("body.id");
            let mut shaped = Builder::answer(op);
            shaped.place(&values.record);
            if let Some(id) = &values.id {
                shaped.want("idPath", id_path, Some(id.clone()), false);
            }
            return shaped.finish();
        }
        Operation::UnAuthorize => {
            b.place(&values.record);
            want(&mut b, "id", ("body.id", false), values.id.as_ref());
        }
    }
    b.finish()
}

/// Whether App Connect reads `p` of `op` from the answer (getUserInfo's
/// paths may also read its own arguments).
fn in_answer(op: Operation, p: &str) -> bool {
    op != Operation::GetUserInfo || build::under_body(p).is_some()
}

#[cfg(test)]
mod tests;
