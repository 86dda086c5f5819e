//! Where each operation's answer holds what: every path App Connect reads
//! (the config's, or App Connect's default for a key it leaves unset), in
//! the order that decides a shared path (the id first), each with the
//! value that goes there. `answer` fills a layout with values; the OpenAPI
//! description turns the same layout into a schema.
//!
//! Pure: a config in, a layout out.

use crate::proxy::config::{ProxyConfig, ResponseMapping, NO_MAPPING};
use crate::proxy::Operation;

use super::build::under_body;

/// What goes at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'c> {
    /// The record's id (a log's).
    LogId,
    Subject,
    Note,
    FullBody,
    /// The contacts found, one item each (`Layout::items`).
    Contacts,
    /// The organisation's users, one item each (`Layout::items`).
    Users,
    ContactId,
    ContactName,
    ContactPhone,
    ContactType,
    ContactTitle,
    ContactCompany,
    ContactCreatedDate,
    ContactMostRecentActivityDate,
    ContactAdditionalInfo,
    UserId,
    UserName,
    UserEmail,
    UserTimezoneName,
    /// The user's stored field of this name (`platformAdditionalInfoPaths`).
    UserField(&'c str),
    LicenseValid,
    LicenseStatus,
    LicenseDescription,
    /// mockcrm holds no value for it (a sign-in message, a key to use
    /// instead of the user's).
    Nothing,
}

/// Which stored fields sit beside the mapped paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beside {
    /// The record's (a log's fields as the requests sent them).
    Record,
    /// The contact created.
    Contact,
    /// The caller.
    User,
    Nothing,
}

/// One path and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot<'c> {
    /// How messages name it: `idPath`, `item.namePath`,
    /// `platformAdditionalInfoPaths.userKey`.
    pub key: String,
    pub path: &'c str,
    pub source: Source<'c>,
    /// Set in the config, rather than App Connect's default.
    pub mapped: bool,
    /// Gives way to other paths inside it (`platformAdditionalInfoPaths`).
    pub yields: bool,
}

/// An operation's answer, laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout<'c> {
    pub beside: Beside,
    /// Paths into `{body: <answer>}`.
    pub slots: Vec<Slot<'c>>,
    /// Paths into each item of the list at the `Contacts` or `Users` slot.
    pub items: Vec<Slot<'c>>,
}

fn mapping(config: &ProxyConfig, op: Operation) -> &ResponseMapping {
    config
        .operation(op)
        .and_then(|o| o.response_mapping.as_ref())
        .unwrap_or(&NO_MAPPING)
}

struct Slots<'c> {
    map: &'c ResponseMapping,
    slots: Vec<Slot<'c>>,
}

impl<'c> Slots<'c> {
    /// `key`'s mapped path, else `fallback` (App Connect's `map.key || …`).
    fn read(&mut self, key: &str, fallback: &'c str, source: Source<'c>) {
        let (path, mapped) = match self.map.path_if_set(key) {
            Some(p) => (p, true),
            None => (fallback, false),
        };
        self.push(key, path, source, mapped);
    }

    /// `key` only when mapped (App Connect's `map.key ? … : …`) and read
    /// from the answer.
    fn read_if_set(&mut self, key: &str, source: Source<'c>) {
        if let Some(p) = self.map.path_if_set(key).filter(|p| in_body(p)) {
            self.push(key, p, source, true);
        }
    }

    /// An item's `key`, else `fallback`.
    fn item(&mut self, key: &str, fallback: &'c str, source: Source<'c>) {
        let mapped = self.map.item_path_or(key, "");
        let (path, mapped) = if mapped.is_empty() {
            (fallback, false)
        } else {
            (mapped, true)
        };
        self.push(&format!("item.{key}"), path, source, mapped);
    }

    fn push(&mut self, key: &str, path: &'c str, source: Source<'c>, mapped: bool) {
        self.slots.push(Slot {
            key: key.to_owned(),
            path,
            source,
            mapped,
            yields: false,
        });
    }
}

/// getUserInfo's paths into App Connect's own arguments (apiKey, hostname,
/// …) are not the answer's to hold.
fn in_body(p: &str) -> bool {
    under_body(p).is_some()
}

/// The layout of `op`'s answer in `config`'s CRM.
pub fn layout(config: &ProxyConfig, op: Operation) -> Layout<'_> {
    let map = mapping(config, op);
    let mut top = Slots {
        map,
        slots: Vec::new(),
    };
    let mut items = Slots {
        map,
        slots: Vec::new(),
    };
    let beside = match op {
        Operation::CreateCallLog | Operation::CreateMessageLog => {
            top.read("idPath", "body.id", Source::LogId);
            Beside::Record
        }
        Operation::GetCallLog => {
            // With the note and the full body at one path (App Connect's
            // defaults), the full body wins: App Connect recomposes updates
            // on top of it.
            top.read("fullBodyPath", "body.note", Source::FullBody);
            top.read("subjectPath", "body.subject", Source::Subject);
            top.read("notePath", "body.note", Source::Note);
            Beside::Record
        }
        Operation::FindContact | Operation::FindContactWithName => {
            top.read("listPath", "body", Source::Contacts);
            items.item("idPath", "id", Source::ContactId);
            items.item("namePath", "name", Source::ContactName);
            items.item("phonePath", "phone", Source::ContactPhone);
            items.item("typePath", "type", Source::ContactType);
            items.item("titlePath", "title", Source::ContactTitle);
            items.item("companyPath", "company", Source::ContactCompany);
            items.item("createdDatePath", "createdDate", Source::ContactCreatedDate);
            items.item(
                "mostRecentActivityDatePath",
                "mostRecentActivityDate",
                Source::ContactMostRecentActivityDate,
            );
            items.item(
                "additionalInfoPath",
                "additionalInfo",
                Source::ContactAdditionalInfo,
            );
            Beside::Nothing
        }
        Operation::CreateContact => {
            top.read("idPath", "body.id", Source::ContactId);
            top.read("namePath", "body.name", Source::ContactName);
            top.read("typePath", "body.type", Source::ContactType);
            Beside::Contact
        }
        Operation::GetUserInfo => {
            top.read_if_set("idPath", Source::UserId);
            top.read_if_set("namePath", Source::UserName);
            top.read_if_set("timezoneNamePath", Source::UserTimezoneName);
            top.read_if_set("overridingApiKeyPath", Source::Nothing);
            top.read_if_set("messagePath", Source::Nothing);
            for (key, p) in map.platform_additional_info_paths() {
                if in_body(p) {
                    top.slots.push(Slot {
                        key: format!("platformAdditionalInfoPaths.{key}"),
                        path: p,
                        source: Source::UserField(key),
                        mapped: true,
                        yields: true,
                    });
                }
            }
            Beside::User
        }
        Operation::GetUserList => {
            top.read("listPath", "body", Source::Users);
            items.read("idPath", "id", Source::UserId);
            items.read("namePath", "name", Source::UserName);
            items.read("emailPath", "email", Source::UserEmail);
            Beside::Nothing
        }
        Operation::GetLicenseStatus => {
            top.read(
                "isLicenseValidPath",
                "body.isLicenseValid",
                Source::LicenseValid,
            );
            top.read(
                "licenseStatusPath",
                "body.licenseStatus",
                Source::LicenseStatus,
            );
            top.read(
                "licenseStatusDescriptionPath",
                "body.licenseStatusDescription",
                Source::LicenseDescription,
            );
            Beside::Nothing
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
            let id_path = Some(mapping(config, create).path_or("idPath", "body.id"))
                .filter(|p| under_body(p).is_some_and(|parts| !parts.is_empty()))
                .unwrap_or("body.id");
            top.push("idPath", id_path, Source::LogId, false);
            Beside::Record
        }
        // App Connect reads nothing of it, and mockcrm keeps nothing to
        // change: the answer is `{}`.
        Operation::UnAuthorize => Beside::Nothing,
    };
    Layout {
        beside,
        slots: top.slots,
        items: items.slots,
    }
}
