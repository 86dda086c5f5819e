//! Loading a config: the text read key by key into `ProxyConfig`, each
//! known key checked for its type, every template for closing, every
//! mapping path for being a dot path, with a warning for what App Connect
//! would get silently wrong. The first problem that stops a config is its
//! one error. Pure: it is handed the text.

use crate::interface::LogFormat;

use super::{
    mapping_keys, AuthConfig, ConfigError, ConfigWarning, Meta, OperationConfig, Problem,
    ProxyConfig, RequestDefaults, ResponseMapping, ITEM_KEYS, STRING_MAPPING_KEYS,
};
use crate::proxy::json::Json;
use crate::proxy::path;
use crate::proxy::template::{Template, TemplateValue};
use crate::proxy::Operation;

type Entries = [(String, Json)];

struct Loader<'f> {
    file: &'f str,
    warnings: Vec<ConfigWarning>,
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Loader<'_> {
    fn error(&self, path: impl Into<String>, problem: Problem) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            path: path.into(),
            problem,
        }
    }

    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(ConfigWarning {
            file: self.file.to_owned(),
            path: path.into(),
            message: message.into(),
        });
    }

    fn wrong_type(&self, path: &str, expected: &'static str, found: &Json) -> ConfigError {
        self.error(
            path,
            Problem::WrongType {
                expected,
                found: found.describe(),
            },
        )
    }

    /// A known key: absent or `null` is `None` (App Connect reads both with
    /// `?.` or `||`); anything else must be an object.
    fn object<'j>(
        &self,
        parent: &'j Entries,
        key: &str,
        at: &str,
    ) -> Result<Option<&'j Entries>, ConfigError> {
        match lookup(parent, key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Object(entries)) => Ok(Some(entries.as_slice())),
            Some(other) => Err(self.wrong_type(&join(at, key), "an object", other)),
        }
    }

    fn string(&self, parent: &Entries, key: &str, at: &str) -> Result<Option<String>, ConfigError> {
        match lookup(parent, key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.wrong_type(&join(at, key), "a string", other)),
        }
    }

    fn number(&self, parent: &Entries, key: &str, at: &str) -> Result<Option<f64>, ConfigError> {
        match lookup(parent, key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::Number(n)) => Ok(Some(crate::proxy::js::number_f64(n))),
            Some(other) => Err(self.wrong_type(&join(at, key), "a number", other)),
        }
    }

    fn template(&self, source: &str, at: &str) -> Result<Template, ConfigError> {
        let template = Template::parse(source);
        match template.problem() {
            Some(problem) => Err(self.error(at, Problem::Template(problem))),
            None => Ok(template),
        }
    }

    /// A value of templates (headers, query, body): every string in it must
    /// be a template that closes.
    fn templates(&self, json: &Json, at: &str) -> Result<TemplateValue, ConfigError> {
        let value = TemplateValue::from_json(json);
        for (suffix, template) in value.templates() {
            if let Some(problem) = template.problem() {
                return Err(self.error(format!("{at}{suffix}"), Problem::Template(problem)));
            }
        }
        Ok(value)
    }

    fn headers(&self, parent: &Entries, key: &str, at: &str) -> Result<TemplateValue, ConfigError> {
        let Some(entries) = self.object(parent, key, at)? else {
            return Ok(TemplateValue::empty_object());
        };
        let at = join(at, key);
        for (name, _) in entries {
            if !is_header_name(name) {
                return Err(self.error(join(&at, name), Problem::BadHeaderName(name.clone())));
            }
        }
        self.templates(&Json::Object(entries.to_vec()), &at)
    }

    fn auth(&mut self, parent: &Entries, at: &str) -> Result<Option<AuthConfig>, ConfigError> {
        let Some(entries) = self.object(parent, "auth", at)? else {
            return Ok(None);
        };
        let at = join(at, "auth");
        let auth = AuthConfig {
            auth_type: self.string(entries, "type", &at)?,
            scheme: self.string(entries, "scheme", &at)?,
            header_name: self.string(entries, "headerName", &at)?,
            credential_template: match self.string(entries, "credentialTemplate", &at)? {
                Some(source) => Some(self.template(&source, &join(&at, "credentialTemplate"))?),
                None => None,
            },
            encode: self.string(entries, "encode", &at)?,
        };
        if let Some(name) = auth.header_name.as_deref().filter(|n| !n.is_empty()) {
            if !is_header_name(name) {
                return Err(
                    self.error(join(&at, "headerName"), Problem::BadHeaderName(name.into()))
                );
            }
        }
        if let Some(kind) = auth.auth_type.as_deref() {
            if !["apiKey", "oauth", ""].contains(&kind) {
                self.warn(
                    join(&at, "type"),
                    format!("{kind:?} is neither apiKey nor oauth; App Connect treats it as neither and builds no OAuth header"),
                );
            }
        }
        if let Some(encode) = auth.encode.as_deref() {
            if !["base64", "none"].contains(&encode) {
                self.warn(
                    join(&at, "encode"),
                    format!("{encode:?} is not \"none\", so App Connect encodes the credential as base64"),
                );
            }
        }
        Ok(Some(auth))
    }

    fn mapping(
        &mut self,
        op: Operation,
        parent: &Entries,
        at: &str,
    ) -> Result<Option<ResponseMapping>, ConfigError> {
        let Some(entries) = self.object(parent, "responseMapping", at)? else {
            return Ok(None);
        };
        let at = join(at, "responseMapping");
        let read = mapping_keys(op);
        let mut mapping = ResponseMapping::default();
        for (key, value) in entries {
            let key_at = join(&at, key);
            if key == "type" {
                // App Connect's own sample config labels each mapping
                // "object" or "list"; App Connect reads no such key, and
                // a label is harmless, so it is not worth a warning.
                continue;
            }
            if STRING_MAPPING_KEYS.contains(&key.as_str()) {
                let Json::String(p) = value else {
                    if matches!(value, Json::Null) {
                        continue;
                    }
                    return Err(self.wrong_type(&key_at, "a string", value));
                };
                self.dot_path(p, &key_at)?;
                mapping.paths.push((key.clone(), p.clone()));
            } else if key == "item" {
                let Some(item) = self.object(entries, "item", &at)? else {
                    continue;
                };
                mapping.item = self.path_pairs(item, &key_at, Some(&ITEM_KEYS[..]))?;
            } else if key == "platformAdditionalInfoPaths" {
                let Some(paths) = self.object(entries, key, &at)? else {
                    continue;
                };
                mapping.platform_additional_info_paths = self.path_pairs(paths, &key_at, None)?;
            }
            if !read.contains(&key.as_str()) {
                let message = if read.is_empty() {
                    format!("App Connect reads no answer of {op}, so it ignores this")
                } else {
                    format!(
                        "App Connect does not read this for {op} (it reads {})",
                        read.join(", ")
                    )
                };
                self.warn(key_at, message);
            }
        }
        self.warn_outside_body(op, &mapping, &at);
        Ok(Some(mapping))
    }

    /// `item` and `platformAdditionalInfoPaths`: objects of dot paths.
    fn path_pairs(
        &mut self,
        entries: &Entries,
        at: &str,
        known: Option<&[&str]>,
    ) -> Result<Vec<(String, String)>, ConfigError> {
        let mut pairs = Vec::new();
        for (key, value) in entries {
            let key_at = join(at, key);
            match value {
                Json::Null => continue,
                Json::String(p) => {
                    self.dot_path(p, &key_at)?;
                    pairs.push((key.clone(), p.clone()));
                }
                other if known.is_none_or(|k| k.contains(&key.as_str())) => {
                    return Err(self.wrong_type(&key_at, "a string", other));
                }
                _ => {}
            }
            if let Some(known) = known {
                if !known.contains(&key.as_str()) {
                    self.warn(
                        key_at,
                        format!(
                            "App Connect does not read this (it reads {})",
                            known.join(", ")
                        ),
                    );
                }
            }
        }
        Ok(pairs)
    }

    fn dot_path(&self, p: &str, at: &str) -> Result<(), ConfigError> {
        path::check(p).map_err(|problem| {
            self.error(
                at,
                Problem::NotADotPath {
                    path: p.to_owned(),
                    problem,
                },
            )
        })
    }

    /// Paths are read from `{body: <answer>}`; one that starts elsewhere
    /// never finds anything. getUserInfo's can also read its inputs, and
    /// item paths and getUserList's are read from each list item.
    fn warn_outside_body(&mut self, op: Operation, mapping: &ResponseMapping, at: &str) {
        let roots: &[&str] = match op {
            Operation::GetUserInfo => &["body", "additionalInfo", "apiKey", "hostname", "platform"],
            _ => &["body"],
        };
        let item_relative: &[&str] = match op {
            Operation::GetUserList => &["idPath", "namePath", "emailPath"],
            _ => &[],
        };
        let mut checked: Vec<(String, &str)> = mapping
            .paths
            .iter()
            .filter(|(key, _)| !item_relative.contains(&key.as_str()))
            .map(|(key, p)| (join(at, key), p.as_str()))
            .collect();
        checked.extend(
            mapping
                .platform_additional_info_paths
                .iter()
                .map(|(key, p)| {
                    (
                        join(&join(at, "platformAdditionalInfoPaths"), key),
                        p.as_str(),
                    )
                }),
        );
        for (key_at, p) in checked {
            let root = p.split('.').next().unwrap_or_default();
            if !p.is_empty() && p != "$" && !roots.contains(&root) {
                self.warn(
                    key_at,
                    format!(
                        "{p:?} does not start with {}, so it never finds anything (paths are read from {{body: <the answer>}}, e.g. body.{p})",
                        roots.join(" or ")
                    ),
                );
            }
        }
    }

    fn operation(
        &mut self,
        op: Operation,
        json: &Json,
        at: &str,
    ) -> Result<OperationConfig, ConfigError> {
        let Json::Object(entries) = json else {
            return Err(self.wrong_type(at, "an object", json));
        };
        let method = self.string(entries, "method", at)?;
        let method = method
            .filter(|m| !m.is_empty())
            .map_or_else(|| "GET".to_owned(), |m| m.to_uppercase());
        let url = match self.string(entries, "url", at)? {
            Some(url) => self.template(&url, &join(at, "url"))?,
            None => return Err(self.error(join(at, "url"), Problem::MissingUrl)),
        };
        let headers = self.headers(entries, "headers", at)?;
        let query = match lookup(entries, "query") {
            None | Some(Json::Null) => TemplateValue::empty_object(),
            Some(q @ Json::Object(_)) => self.templates(q, &join(at, "query"))?,
            Some(other) if !other.truthy() => TemplateValue::empty_object(),
            Some(other) => return Err(self.wrong_type(&join(at, "query"), "an object", other)),
        };
        let body = match lookup(entries, "body") {
            Some(body) if body.truthy() => self.templates(body, &join(at, "body"))?,
            _ => TemplateValue::empty_object(),
        };
        let auth = self.auth(entries, at)?;
        let response_mapping = self.mapping(op, entries, at)?;
        for (suffix, template) in
            self.operation_templates(&url, &headers, &query, &body, auth.as_ref())
        {
            for expr in template.expressions() {
                let name = expr.split('.').next().unwrap_or_default();
                if !op.knows_variable(name) {
                    let mut known: Vec<&str> = op.variables().to_vec();
                    known.extend(crate::proxy::COMMON_VARIABLES);
                    self.warn(
                        format!("{at}{suffix}"),
                        format!(
                            "{{{{{expr}}}}}: App Connect gives {op} no variable {name:?}, so it renders as nothing (it gives {})",
                            known.join(", ")
                        ),
                    );
                }
            }
        }
        if op == Operation::CreateCallLog && response_mapping.is_none() {
            self.warn(
                join(at, "responseMapping"),
                "missing, so App Connect never gets a logId and reports every call as not logged (add \"idPath\")",
            );
        }
        if op == Operation::GetUserList
            && response_mapping
                .as_ref()
                .is_none_or(|m| m.path_if_set("listPath").is_none())
        {
            self.warn(
                join(at, "responseMapping.listPath"),
                "missing, so App Connect always gets an empty user list",
            );
        }
        Ok(OperationConfig {
            operation: op,
            method,
            url,
            headers,
            query,
            body,
            auth,
            response_mapping,
        })
    }

    fn operation_templates<'a>(
        &self,
        url: &'a Template,
        headers: &'a TemplateValue,
        query: &'a TemplateValue,
        body: &'a TemplateValue,
        auth: Option<&'a AuthConfig>,
    ) -> Vec<(String, &'a Template)> {
        let mut all = vec![(".url".to_owned(), url)];
        for (name, value) in [("headers", headers), ("query", query), ("body", body)] {
            all.extend(
                value
                    .templates()
                    .into_iter()
                    .map(|(s, t)| (format!(".{name}{s}"), t)),
            );
        }
        if let Some(t) = auth.and_then(|a| a.credential_template.as_ref()) {
            all.push((".auth.credentialTemplate".to_owned(), t));
        }
        all
    }
}

fn lookup<'j>(entries: &'j Entries, key: &str) -> Option<&'j Json> {
    entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Reads a config. `file` names it in every message.
pub fn load(file: &str, text: &str) -> Result<(ProxyConfig, Vec<ConfigWarning>), ConfigError> {
    let mut loader = Loader {
        file,
        warnings: Vec::new(),
    };
    let source =
        Json::parse(text).map_err(|e| loader.error("", Problem::NotJson(e.to_string())))?;
    let Json::Object(top) = &source else {
        return Err(loader.wrong_type("", "an object at the top level", &source));
    };

    let meta = match loader.object(top, "meta", "")? {
        Some(entries) => Meta {
            name: lookup(entries, "name").and_then(|v| match v {
                Json::String(s) => Some(s.clone()),
                _ => None,
            }),
            display_name: lookup(entries, "displayName").and_then(|v| match v {
                Json::String(s) => Some(s.clone()),
                _ => None,
            }),
            log_format: loader.string(entries, "logFormat", "meta")?,
        },
        None => Meta::default(),
    };
    match meta.log_format.as_deref() {
        Some(f) if f.parse::<LogFormat>().is_ok() => {}
        other => {
            let said = other.map_or_else(
                || "missing".to_owned(),
                |f| format!("{f:?} is not text/plain, text/html or text/markdown"),
            );
            loader.warn(
                "meta.logFormat",
                format!("{said}, so App Connect composes no body and composedLogDetails is empty"),
            );
        }
    }
    let secret_key = loader.string(top, "secretKey", "")?;
    let auth = loader.auth(top, "")?;
    if auth.is_none() {
        loader.warn(
            "auth",
            "missing; App Connect reads auth.type for every call and fails without it (add {\"type\": \"apiKey\"})",
        );
    }

    let request_defaults = match loader.object(top, "requestDefaults", "")? {
        Some(entries) => {
            let at = "requestDefaults";
            let base_url = loader.string(entries, "baseUrl", at)?;
            if let Some(url) = base_url.as_deref().filter(|u| !u.is_empty()) {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(
                        loader.error("requestDefaults.baseUrl", Problem::NotAnHttpUrl(url.into()))
                    );
                }
                if url.contains("{{") {
                    loader.warn(
                        "requestDefaults.baseUrl",
                        "App Connect fills no templates in baseUrl and sends \"{{…}}\" as written; put the template in each operation's url instead",
                    );
                }
            }
            let timeout_seconds = loader.number(entries, "timeoutSeconds", at)?;
            if let Some(t) = timeout_seconds.filter(|t| *t < 0.0) {
                return Err(loader.error(
                    "requestDefaults.timeoutSeconds",
                    Problem::NegativeTimeout(t),
                ));
            }
            RequestDefaults {
                empty_base_url: base_url.as_deref() == Some(""),
                base_url: base_url.filter(|u| !u.is_empty()),
                timeout_seconds,
                default_headers: loader.headers(entries, "defaultHeaders", at)?,
            }
        }
        None => RequestDefaults {
            base_url: None,
            empty_base_url: false,
            timeout_seconds: None,
            default_headers: TemplateValue::empty_object(),
        },
    };

    let mut operations = Vec::new();
    if let Some(entries) = loader.object(top, "operations", "")? {
        for (name, json) in entries {
            let at = join("operations", name);
            match Operation::from_name(name) {
                Some(op) => operations.push(loader.operation(op, json, &at)?),
                None => loader.warn(
                    at,
                    "not an App Connect interface, so App Connect never calls it; not served",
                ),
            }
        }
    }
    if operations.is_empty() {
        loader.warn(
            "operations",
            "no operations, so there is nothing to call or serve",
        );
    }

    let config = ProxyConfig {
        file: file.to_owned(),
        meta,
        secret_key,
        auth,
        request_defaults,
        operations,
        source,
    };
    Ok((config, loader.warnings))
}

/// Configs served together must each claim their own base path. A config
/// without `requestDefaults.baseUrl` (every url absolute) claims none; an
/// empty one claims the root.
pub fn check_base_paths(configs: &[&ProxyConfig]) -> Result<(), ConfigError> {
    let claims = |c: &&&ProxyConfig| c.claims_base_path();
    for (n, config) in configs.iter().enumerate().filter(|(_, c)| claims(c)) {
        let base = config.base_path();
        if let Some(other) = configs[..n]
            .iter()
            .filter(claims)
            .find(|c| c.base_path() == base)
        {
            return Err(ConfigError {
                file: config.file.clone(),
                path: "requestDefaults.baseUrl".into(),
                problem: Problem::BasePathTaken {
                    base: if base.is_empty() { "/".into() } else { base },
                    other: other.file.clone(),
                },
            });
        }
    }
    Ok(())
}
