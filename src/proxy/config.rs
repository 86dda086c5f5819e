//! Reading and checking an App Connect proxy-connector config.
//!
//! The types follow App Connect's own (`ProxyConfig`, `ProxyAuthConfig`,
//! `ProxyRequestDefaults`, `ProxyOperationConfig`, `ProxyResponseMapping`):
//! a known key must have its type, every other key is kept as written and
//! ignored, as App Connect ignores it. A config either loads, with warnings
//! for what App Connect would silently get wrong, or fails with one error
//! that names the file and the JSON path. This file holds the model and
//! its errors; `loader.rs` reads the text into it. Pure: it is handed the
//! text.

use std::fmt;

use crate::interface::LogFormat;

use super::json::Json;
use super::path::PathProblem;
use super::template::{Template, TemplateProblem, TemplateValue};
use super::Operation;

/// A config that loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    /// How messages name the config (its file name).
    pub file: String,
    pub meta: Meta,
    pub secret_key: Option<String>,
    pub auth: Option<AuthConfig>,
    pub request_defaults: RequestDefaults,
    /// The operations App Connect can call, in the order written.
    pub operations: Vec<OperationConfig>,
    /// The whole document, unknown keys included.
    pub source: Json,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub log_format: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthConfig {
    pub auth_type: Option<String>,
    pub scheme: Option<String>,
    pub header_name: Option<String>,
    pub credential_template: Option<Template>,
    pub encode: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestDefaults {
    /// Used as written: App Connect fills no templates in it. `None` when
    /// missing or empty (App Connect's `joinUrl` treats both alike).
    pub base_url: Option<String>,
    /// `baseUrl` was given as `""`, as App Connect's own sample ships it (a
    /// placeholder): mockcrm serves the operations at the server's root.
    pub empty_base_url: bool,
    pub timeout_seconds: Option<f64>,
    /// Always an object.
    pub default_headers: TemplateValue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OperationConfig {
    pub operation: Operation,
    /// Upper-case; `GET` when the config gives none.
    pub method: String,
    pub url: Template,
    /// Always an object.
    pub headers: TemplateValue,
    /// Always an object (`{}` when missing).
    pub query: TemplateValue,
    /// `{}` when missing or falsy, as `op.body || {}`.
    pub body: TemplateValue,
    pub auth: Option<AuthConfig>,
    pub response_mapping: Option<ResponseMapping>,
}

/// Dot paths into an answer (`{body: <response JSON>}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseMapping {
    paths: Vec<(String, String)>,
    item: Vec<(String, String)>,
    platform_additional_info_paths: Vec<(String, String)>,
}

/// The mapping of an operation that has none: App Connect's defaults apply.
pub static NO_MAPPING: ResponseMapping = ResponseMapping {
    paths: Vec::new(),
    item: Vec::new(),
    platform_additional_info_paths: Vec::new(),
};

/// The mapping keys App Connect reads, by operation.
pub(crate) fn mapping_keys(op: Operation) -> &'static [&'static str] {
    match op {
        Operation::GetUserInfo => &[
            "idPath",
            "namePath",
            "timezoneNamePath",
            "overridingApiKeyPath",
            "messagePath",
            "platformAdditionalInfoPaths",
        ],
        Operation::FindContact | Operation::FindContactWithName => &["listPath", "item"],
        Operation::CreateContact => &["idPath", "namePath", "typePath"],
        Operation::CreateCallLog | Operation::CreateMessageLog => &["idPath"],
        Operation::GetCallLog => &["subjectPath", "notePath", "fullBodyPath"],
        Operation::GetUserList => &["listPath", "idPath", "namePath", "emailPath"],
        Operation::GetLicenseStatus => &[
            "isLicenseValidPath",
            "licenseStatusPath",
            "licenseStatusDescriptionPath",
        ],
        Operation::UpdateCallLog
        | Operation::UpsertCallDisposition
        | Operation::UpdateMessageLog
        | Operation::UnAuthorize => &[],
    }
}

/// The `item` keys of a contact list mapping.
const ITEM_KEYS: [&str; 9] = [
    "idPath",
    "namePath",
    "phonePath",
    "typePath",
    "titlePath",
    "companyPath",
    "createdDatePath",
    "mostRecentActivityDatePath",
    "additionalInfoPath",
];

/// Every string-valued key of App Connect's `ProxyResponseMapping`.
const STRING_MAPPING_KEYS: [&str; 14] = [
    "listPath",
    "idPath",
    "namePath",
    "emailPath",
    "typePath",
    "subjectPath",
    "notePath",
    "fullBodyPath",
    "timezoneNamePath",
    "overridingApiKeyPath",
    "messagePath",
    "isLicenseValidPath",
    "licenseStatusPath",
    "licenseStatusDescriptionPath",
];

impl ResponseMapping {
    /// The path as configured (possibly empty).
    pub fn path(&self, key: &str) -> Option<&str> {
        find(&self.paths, key)
    }

    /// `map.key || fallback`: an empty path falls back too.
    pub fn path_or<'a>(&'a self, key: &str, fallback: &'a str) -> &'a str {
        self.path(key).filter(|p| !p.is_empty()).unwrap_or(fallback)
    }

    /// `map.key` when truthy (App Connect's `map.key ? … : …`).
    pub fn path_if_set(&self, key: &str) -> Option<&str> {
        self.path(key).filter(|p| !p.is_empty())
    }

    /// `itemMap.key || fallback`.
    pub fn item_path_or<'a>(&'a self, key: &str, fallback: &'a str) -> &'a str {
        find(&self.item, key)
            .filter(|p| !p.is_empty())
            .unwrap_or(fallback)
    }

    /// The `item` paths, in the order written.
    pub fn item_paths(&self) -> &[(String, String)] {
        &self.item
    }

    /// `platformAdditionalInfoPaths`, in the order written.
    pub fn platform_additional_info_paths(&self) -> &[(String, String)] {
        &self.platform_additional_info_paths
    }
}

fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl ProxyConfig {
    pub fn operation(&self, op: Operation) -> Option<&OperationConfig> {
        self.operations.iter().find(|o| o.operation == op)
    }

    /// `meta.logFormat` when it is one of the formats App Connect composes.
    pub fn log_format(&self) -> Option<LogFormat> {
        self.meta.log_format.as_deref()?.parse().ok()
    }

    /// Whether the config claims a base path on the server: it has a
    /// `baseUrl`, or an empty one, which is served at the root.
    pub fn claims_base_path(&self) -> bool {
        self.request_defaults.base_url.is_some() || self.request_defaults.empty_base_url
    }

    /// The path of `requestDefaults.baseUrl`, without a trailing slash
    /// (`/v1`; empty for a bare origin, an empty base URL or none).
    pub fn base_path(&self) -> String {
        self.request_defaults
            .base_url
            .as_deref()
            .map(|url| url_path(url).trim_end_matches('/').to_owned())
            .unwrap_or_default()
    }
}

/// The path of an absolute `http(s)://host/path?query` URL (or of the text
/// itself when it has no scheme), without query or fragment.
pub fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path_start = if url.contains("://") {
        after_scheme
            .find(['/', '?', '#'])
            .unwrap_or(after_scheme.len())
    } else {
        0
    };
    let rest = &after_scheme[path_start..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// The one error that stops a config from loading: one line, naming the
/// file and the JSON path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {}{problem}", at(path))]
pub struct ConfigError {
    pub file: String,
    /// The JSON path, e.g. `operations.createCallLog.url`; empty for the
    /// document as a whole.
    pub path: String,
    pub problem: Problem,
}

/// `path: `, or nothing for the document as a whole.
fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("not JSON: {0}")]
    NotJson(String),
    #[error("expected {expected}, found {found}")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("{0}")]
    Template(TemplateProblem),
    #[error("missing: every operation needs a url")]
    MissingUrl,
    #[error("{path:?} is not a dot path: {problem}")]
    NotADotPath { path: String, problem: PathProblem },
    #[error("{0:?} is not an http:// or https:// URL")]
    NotAnHttpUrl(String),
    #[error("{0:?} is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)")]
    BadHeaderName(String),
    #[error("must be 0 or more seconds, not {0}")]
    NegativeTimeout(f64),
    #[error("base path {base} is already claimed by {other}")]
    BasePathTaken { base: String, other: String },
    #[error("{0}")]
    Unanswerable(String),
    #[error("{route} would take mockcrm's own {native}: an empty requestDefaults.baseUrl serves the operations at the server's root, so give baseUrl a path of its own (e.g. http://127.0.0.1:8787/crm)")]
    NativeRouteTaken { route: String, native: String },
}

/// Something App Connect would do silently wrong with this config, or an
/// operation mockcrm cannot serve. The config still loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub file: String,
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}{}", self.file, at(&self.path), self.message)
    }
}

mod loader;

pub use loader::{check_base_paths, load};

#[cfg(test)]
mod tests;
