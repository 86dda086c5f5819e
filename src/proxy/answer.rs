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

use serde_json::{Map, Value};

use super::config::ProxyConfig;
use super::Operation;
use build::Builder;
use layout::{layout, Beside, Slot, Source};

mod build;
pub mod layout;
mod meaning;
pub mod schema;
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

/// The value `source` names, for one answer.
fn value_of(source: Source<'_>, values: &AnswerValues) -> Option<Value> {
    let contact = values.contact.as_ref();
    let user = values.user.as_ref();
    let license = values.license.as_ref();
    match source {
        Source::LogId => values.id.clone(),
        Source::Subject => values.subject.clone(),
        Source::Note => values.note.clone(),
        Source::FullBody => values.full_body.clone(),
        Source::ContactId => contact.map(|c| c.id.clone()),
        Source::UserId => user.map(|u| u.id.clone()),
        Source::LicenseValid => license.map(|l| l.valid.clone()),
        Source::LicenseStatus => license.and_then(|l| l.status.clone()),
        Source::LicenseDescription => license.and_then(|l| l.description.clone()),
        other => contact
            .and_then(|c| contact_value(other, c))
            .or_else(|| user.and_then(|u| user_value(other, u))),
    }
}

/// A contact's value for `source`.
fn contact_value(source: Source<'_>, c: &ContactView) -> Option<Value> {
    match source {
        Source::ContactId => Some(c.id.clone()),
        Source::ContactName => c.name.clone(),
        Source::ContactPhone => c.phone.clone(),
        Source::ContactType => c.contact_type.clone(),
        Source::ContactTitle => c.title.clone(),
        Source::ContactCompany => c.company.clone(),
        Source::ContactCreatedDate => c.created_date.clone(),
        Source::ContactMostRecentActivityDate => c.most_recent_activity_date.clone(),
        Source::ContactAdditionalInfo => c.additional_info.clone(),
        _ => None,
    }
}

/// A user's value for `source`.
fn user_value(source: Source<'_>, u: &UserView) -> Option<Value> {
    match source {
        Source::UserId => Some(u.id.clone()),
        Source::UserName => u.name.clone(),
        Source::UserEmail => u.email.clone(),
        Source::UserTimezoneName => u.timezone_name.clone(),
        Source::UserField(key) => u.fields.get(key).cloned(),
        _ => None,
    }
}

/// Puts each slot's value in `b`: a default path with no value is left
/// out, a mapped one holds `null`.
fn fill<'c>(b: &mut Builder<'c>, slots: &[Slot<'c>], value: impl Fn(Source<'c>) -> Option<Value>) {
    for slot in slots {
        let v = value(slot.source);
        if slot.yields {
            b.want_yielding(slot.key.clone(), slot.path, v);
        } else if slot.mapped || v.is_some() {
            b.want(slot.key.clone(), slot.path, v, slot.mapped);
        }
    }
}

/// One item of a list (contacts, users): its stored fields, then the
/// values at the item paths.
fn item<'c>(
    op: Operation,
    slots: &[Slot<'c>],
    fields: &Map<String, Value>,
    value: impl Fn(Source<'c>) -> Option<Value>,
) -> Result<Value, AnswerError> {
    let mut b = Builder::item(op, fields);
    fill(&mut b, slots, value);
    b.finish()
}

/// The answer to `op` in `config`'s CRM: every path App Connect reads
/// holds its value in `values` (`null` where a mapped path has none).
pub fn answer(
    config: &ProxyConfig,
    op: Operation,
    values: &AnswerValues,
) -> Result<Value, AnswerError> {
    let layout = layout(config, op);
    let mut b = Builder::answer(op);
    match layout.beside {
        Beside::Record => b.place(&values.record),
        Beside::Contact => {
            if let Some(contact) = &values.contact {
                b.place(&contact.fields);
            }
        }
        Beside::User => {
            if let Some(user) = &values.user {
                b.place(&user.fields);
            }
        }
        Beside::Nothing => {}
    }
    // The list at `listPath`: each item its stored fields and item paths.
    let list = if layout.slots.iter().any(|s| s.source == Source::Contacts) {
        let items = values
            .contacts
            .iter()
            .map(|c| item(op, &layout.items, &c.fields, |s| contact_value(s, c)));
        Some(Value::Array(items.collect::<Result<_, _>>()?))
    } else if layout.slots.iter().any(|s| s.source == Source::Users) {
        let items = values
            .users
            .iter()
            .map(|u| item(op, &layout.items, &u.fields, |s| user_value(s, u)));
        Some(Value::Array(items.collect::<Result<_, _>>()?))
    } else {
        None
    };
    fill(&mut b, &layout.slots, |source| match source {
        Source::Contacts | Source::Users => list.clone(),
        other => value_of(other, values),
    });
    b.finish()
}

#[cfg(test)]
mod tests;
