//! The request App Connect's proxy engine sends for one operation call.
//!
//! `render` is engine.ts's `performRequest` up to the point where it hands
//! axios the request: the context (`inputs` plus `user`, `authHeader`,
//! `apiKey`, `secretKey`), the url through `joinUrl`, `buildHeaders` with
//! the auth header, the query and body through `renderDeep`, and the
//! timeout; and then what axios (`axios`) makes of it: the query string,
//! the headers as sent, the body text and its content type.
//!
//! Pure: it sends nothing. The HTTP client lives elsewhere.

use std::time::Duration;

use base64::Engine;
use serde_json::{Map, Value};

use super::config::{AuthConfig, ProxyConfig};
use super::context::OperationCall;
use super::template::{Rendered, TemplateValue};
use super::{js, Operation};

/// App Connect's default when `requestDefaults.timeoutSeconds` is missing
/// or 0.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;

#[derive(Debug, Clone, PartialEq)]
pub struct RenderedRequest {
    pub operation: Operation,
    /// Upper-case.
    pub method: String,
    /// `joinUrl(baseUrl, url)`, before axios appends the query.
    pub url: String,
    /// The headers axios hands Node.js: its `Accept` default unless the
    /// config set one, the defaults, the operation's, auth, and the body's
    /// content type; one entry per name whatever its case (the first
    /// spelling, the last value); `undefined`, `null` and `false` left out;
    /// control characters removed and spaces trimmed.
    pub headers: Vec<(String, String)>,
    /// The query parameters, decoded, in the order axios writes them.
    pub query: Vec<(String, String)>,
    /// `renderDeep(op.body || {})`.
    pub body: Rendered,
    /// The body axios sends: JSON for objects and arrays (also on a GET),
    /// text as it is, nothing for `undefined`.
    pub body_text: Option<String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the config has no {0} operation")]
    NotConfigured(Operation),
    #[error("user.id must be a string: App Connect splits it at \"-\"")]
    UserIdNotText,
    #[error("the url renders to {0}, not text")]
    UrlNotText(String),
    #[error("the url renders to nothing and there is no requestDefaults.baseUrl")]
    NoUrl,
    #[error("auth.credentialTemplate renders to {0}; App Connect can only base64-encode text (set \"encode\": \"none\" or fix the template)")]
    CredentialNotText(String),
    #[error("the body renders to {0}; axios sends only objects, arrays and text (or anything under a JSON content type)")]
    BodyNotSendable(String),
    #[error(
        "a multipart/form-data body needs a FormData object, which a proxy config cannot make"
    )]
    MultipartBody,
    #[error("{0:?} is not an http:// or https:// URL")]
    NotAnHttpUrl(String),
}

/// The context engine.ts renders templates against.
pub fn context(config: &ProxyConfig, call: &OperationCall) -> Result<Value, RenderError> {
    let mut context = call.inputs.clone();
    let user = call.user.as_ref();
    let user_field = |key: &str| match user {
        Some(Value::Object(map)) => map.get(key),
        _ => None,
    };
    // `user?.accessToken ?? inputs?.apiKey ?? ''`
    let access_token = user_field("accessToken")
        .filter(|v| !v.is_null())
        .or_else(|| call.inputs.get("apiKey").filter(|v| !v.is_null()))
        .cloned()
        .unwrap_or_else(|| Value::from(""));
    let mut user_context = Map::new();
    user_context.insert("accessToken".into(), access_token.clone());
    if js::truthy(user) {
        let id = match user_field("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(Value::from(id.split('-').next().unwrap_or_default())),
            Some(_) => return Err(RenderError::UserIdNotText),
        };
        if let Some(id) = id {
            user_context.insert("id".into(), id);
        }
        for key in [
            "hostname",
            "timezoneName",
            "timezoneOffset",
            "platform",
            "platformAdditionalInfo",
            "refreshToken",
            "tokenExpiry",
        ] {
            if let Some(value) = user_field(key) {
                user_context.insert(key.into(), value.clone());
            }
        }
    }
    context.insert("user".into(), Value::Object(user_context));
    // Object.assign sets these even when undefined, hiding inputs of the
    // same name.
    match &call.auth_header {
        Some(header) => context.insert("authHeader".into(), Value::from(header.as_str())),
        None => context.remove("authHeader"),
    };
    context.insert("apiKey".into(), access_token);
    match &config.secret_key {
        Some(secret) => context.insert("secretKey".into(), Value::from(secret.as_str())),
        None => context.remove("secretKey"),
    };
    Ok(Value::Object(context))
}

/// engine.ts's `joinUrl`.
pub fn join_url(base: Option<&str>, path: Option<&str>) -> Option<String> {
    let Some(base) = base.filter(|b| !b.is_empty()) else {
        return path.map(str::to_owned);
    };
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Some(base.to_owned());
    };
    if path.starts_with("http://") || path.starts_with("https://") {
        return Some(path.to_owned());
    }
    let base = base.strip_suffix('/').unwrap_or(base);
    let path = path.strip_prefix('/').unwrap_or(path);
    Some(format!("{base}/{path}"))
}

/// `baseUrl` with its scheme, host and port replaced by `server`'s, keeping
/// its path (`--server`).
pub fn with_server(base_url: &str, server: &str) -> Result<String, RenderError> {
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(RenderError::NotAnHttpUrl(server.to_owned()));
    }
    let server = server.trim_end_matches('/');
    let rest = match base_url.split_once("://") {
        Some((_, after)) => after.find(['/', '?', '#']).map_or("", |i| &after[i..]),
        None => base_url,
    };
    Ok(format!("{server}{rest}"))
}

/// The config pointed at `server` (`requestDefaults.baseUrl` moved there).
pub fn point_at(config: &ProxyConfig, server: &str) -> Result<ProxyConfig, RenderError> {
    let mut moved = config.clone();
    let base = match config.request_defaults.base_url.as_deref() {
        Some(base) => with_server(base, server)?,
        None => with_server("", server)?,
    };
    moved.request_defaults.base_url = Some(base);
    Ok(moved)
}

/// `getAuthHeaderFromAuthConfig`: the header name and value to set, if any.
pub fn auth_header(
    auth: Option<&AuthConfig>,
    context: &Value,
    auth_header: Option<&str>,
) -> Result<Option<(String, Rendered)>, RenderError> {
    let name = auth
        .and_then(|a| a.header_name.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or("Authorization")
        .to_owned();
    let scheme = auth
        .and_then(|a| a.scheme.as_deref())
        .filter(|s| !s.is_empty());
    if let Some(template) = auth
        .and_then(|a| a.credential_template.as_ref())
        .filter(|t| !t.source().is_empty())
    {
        let credentials = template.render(context);
        let encode = auth.and_then(|a| a.encode.as_deref()) != Some("none");
        let token = if encode {
            match &credentials {
                Some(Value::String(text)) => Some(Value::from(
                    base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
                )),
                other => {
                    return Err(RenderError::CredentialNotText(
                        other
                            .as_ref()
                            .map_or_else(|| "undefined".into(), js::to_string),
                    ))
                }
            }
        } else {
            credentials
        };
        let value = match scheme {
            Some(scheme) => Rendered::Value(Value::from(format!(
                "{scheme} {}",
                js::to_string_or_undefined(token.as_ref())
            ))),
            None => token.map_or(Rendered::Undefined, Rendered::Value),
        };
        return Ok(Some((name, value)));
    }
    if let Some(header) = auth_header.filter(|h| !h.is_empty()) {
        return Ok(Some((name, Rendered::Value(Value::from(header)))));
    }
    if auth.and_then(|a| a.auth_type.as_deref()) == Some("oauth") {
        let token = super::path::get(context, "user.accessToken");
        let value = format!(
            "{} {}",
            scheme.unwrap_or("Bearer"),
            js::to_string_or_undefined(token.as_deref())
        );
        return Ok(Some((name, Rendered::Value(Value::from(value)))));
    }
    Ok(None)
}

fn rendered_entries(value: &TemplateValue, context: &Value) -> Vec<(String, Rendered)> {
    match value.render(context) {
        Rendered::Object(entries) => entries,
        _ => Vec::new(),
    }
}

/// Sets `key` in a plain JavaScript object: in place if present.
fn assign(entries: &mut Vec<(String, Rendered)>, key: String, value: Rendered) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => entries.push((key, value)),
    }
}

/// `performRequest` up to axios: the request for `call`.
pub fn render(config: &ProxyConfig, call: &OperationCall) -> Result<RenderedRequest, RenderError> {
    let op = config
        .operation(call.operation)
        .ok_or(RenderError::NotConfigured(call.operation))?;
    let context = context(config, call)?;

    let rendered_url = op.url.render(&context);
    let path = match &rendered_url {
        Some(Value::String(text)) => Some(text.as_str()),
        other if !js::truthy(other.as_ref()) => None,
        Some(other) => return Err(RenderError::UrlNotText(js::to_string(other))),
        None => None,
    };
    let url =
        join_url(config.request_defaults.base_url.as_deref(), path).ok_or(RenderError::NoUrl)?;

    let mut headers = rendered_entries(&config.request_defaults.default_headers, &context);
    for (key, value) in rendered_entries(&op.headers, &context) {
        assign(&mut headers, key, value);
    }
    let auth = op.auth.as_ref().or(config.auth.as_ref());
    if let Some((key, value)) = auth_header(auth, &context, call.auth_header.as_deref())? {
        assign(&mut headers, key, value);
    }
    // axios's mergeConfig first merges these whatever the case (the first
    // spelling, the last value), then sets them over its own defaults.
    let mut merged: Vec<(String, Rendered)> = Vec::new();
    for (name, value) in headers {
        match merged
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => merged.push((name, value)),
        }
    }
    let mut sent = axios::Headers::new();
    for (name, value) in &merged {
        sent.set(name, value);
    }

    let query = axios::form_pairs(&axios::to_json(&op.query.render(&context)));
    let body = op.body.render(&context);
    let body_text = axios::body_text(&op.method, &body, &mut sent)?;
    let seconds = config
        .request_defaults
        .timeout_seconds
        .filter(|t| *t > 0.0 && t.is_finite())
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    Ok(RenderedRequest {
        operation: call.operation,
        method: op.method.clone(),
        url,
        headers: sent.sent(),
        query,
        body,
        body_text,
        timeout: Duration::from_secs_f64(seconds),
    })
}

impl RenderedRequest {
    #[cfg(test)]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The url with the query, as axios's `buildURL` writes it.
    pub fn full_url(&self) -> String {
        axios::build_url(&self.url, &self.query)
    }

    /// The header bytes Node.js sends: what Latin-1 cannot hold removed, one
    /// byte per character (axios's http adapter does this).
    pub fn wire_headers(&self) -> Vec<(String, Vec<u8>)> {
        self.headers
            .iter()
            .map(|(name, value)| (name.clone(), axios::latin1_bytes(value)))
            .collect()
    }
}

mod axios;

#[cfg(test)]
mod tests;
