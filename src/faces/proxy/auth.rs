//! Reading the API key out of a request to a served proxy config: the
//! credentials are checked as the config's `auth` builds them (App
//! Connect's `getAuthHeaderFromAuthConfig` run backwards).
//!
//! With a `credentialTemplate`, the header is `<scheme> <token>` (or the
//! token alone), the token base64 of the rendered template unless `encode`
//! is `none`; the template bound to the decoded text gives `apiKey` (or
//! `user.accessToken`, which is where App Connect keeps an API key). With
//! none, App Connect sends its own `authHeader`: `Basic base64("<key>:")`
//! for API keys, `Bearer <token>` (or `<scheme> <token>`) for OAuth.
//! Pure: headers in, a key out; the store says whose key it is.

use base64::Engine;
use warp::http::HeaderMap;

use crate::proxy::config::{AuthConfig, OperationConfig, ProxyConfig};
use crate::proxy::template::Bindings;
use crate::web::api_key_from_header;

/// The auth an operation is sent with: its own, else the config's.
pub fn auth_for<'c>(config: &'c ProxyConfig, op: &'c OperationConfig) -> Option<&'c AuthConfig> {
    op.auth.as_ref().or(config.auth.as_ref())
}

/// The header the credentials travel in.
pub fn header_name(auth: Option<&AuthConfig>) -> &str {
    auth.and_then(|a| a.header_name.as_deref())
        .filter(|name| !name.is_empty())
        .unwrap_or("Authorization")
}

/// A header's value as text. Node.js sends header values as Latin-1, one
/// byte per character, so bytes that are not UTF-8 are read that way.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    let value = headers.get(name)?;
    Some(match value.to_str() {
        Ok(text) => text.to_owned(),
        Err(_) => value.as_bytes().iter().map(|&b| char::from(b)).collect(),
    })
}

/// The API key the request's credentials carry, read as `auth` builds
/// them; `None` when they are missing or not in that shape.
pub fn api_key(
    config: &ProxyConfig,
    auth: Option<&AuthConfig>,
    headers: &HeaderMap,
) -> Option<String> {
    let value = header_text(headers, header_name(auth))?;
    let value = value.trim();
    let scheme = auth
        .and_then(|a| a.scheme.as_deref())
        .filter(|s| !s.is_empty());
    let template = auth
        .and_then(|a| a.credential_template.as_ref())
        .filter(|t| !t.source().is_empty());
    let Some(template) = template else {
        if let Some(key) = api_key_from_header(value) {
            return Some(key);
        }
        return strip_scheme(value, scheme?)
            .filter(|key| !key.is_empty())
            .map(str::to_owned);
    };
    let token = match scheme {
        Some(scheme) => strip_scheme(value, scheme)?,
        None => value,
    };
    let encoded = auth.and_then(|a| a.encode.as_deref()) != Some("none");
    let credentials = if encoded {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .ok()?;
        String::from_utf8(bytes).ok()?
    } else {
        token.to_owned()
    };
    let mut bindings = Bindings::default();
    if template.bind_text(&credentials, &mut bindings).conflicts > 0 {
        return None;
    }
    if let (Some(sent), Some(secret)) = (
        bindings
            .get("secretKey")
            .and_then(|v| v.as_str().map(str::to_owned)),
        config.secret_key.as_deref(),
    ) {
        if sent != secret {
            return None;
        }
    }
    let key = ["apiKey", "user.accessToken"].iter().find_map(|expr| {
        bindings
            .get(expr)
            .and_then(|v| v.as_str().map(str::to_owned))
    });
    let key = match key {
        Some(key) => key,
        // A template that names no key at all: the whole credential is one.
        None if template.expressions().iter().all(|e| *e == "secretKey") => credentials,
        None => return None,
    };
    (!key.is_empty()).then_some(key)
}

/// The token after `<scheme> `, the scheme in any case.
fn strip_scheme<'v>(value: &'v str, scheme: &str) -> Option<&'v str> {
    let (given, rest) = value.split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then_some(rest.trim_start())
}

/// What a 401 says: how the config's auth builds the header it wants.
pub fn expected(auth: Option<&AuthConfig>) -> String {
    let name = header_name(auth);
    let scheme = auth
        .and_then(|a| a.scheme.as_deref())
        .filter(|s| !s.is_empty());
    match auth
        .and_then(|a| a.credential_template.as_ref())
        .filter(|t| !t.source().is_empty())
    {
        Some(template) => {
            let encode = auth.and_then(|a| a.encode.as_deref()) != Some("none");
            let token = if encode {
                format!("base64(\"{}\")", template.source())
            } else {
                template.source().to_owned()
            };
            match scheme {
                Some(scheme) => format!("`{name}: {scheme} {token}`"),
                None => format!("`{name}: {token}`"),
            }
        }
        None => format!(
            "`{name}: Basic base64(\"<api key>:\")` or `{name}: {} <api key>`",
            scheme.unwrap_or("Bearer")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::HeaderValue;

    fn config(auth: &str) -> ProxyConfig {
        let text = format!(
            r#"{{"meta": {{"logFormat": "text/plain"}}, "auth": {auth}, "secretKey": "s3",
                "requestDefaults": {{"baseUrl": "https://crm.example/v1"}},
                "operations": {{"getUserInfo": {{"url": "/me"}}}}}}"#
        );
        crate::proxy::load("test.json", &text)
            .expect("test config loads")
            .config
    }

    fn key(auth: &str, header: &str, value: &[u8]) -> Option<String> {
        let config = config(auth);
        let mut headers = HeaderMap::new();
        headers.insert(
            warp::http::HeaderName::from_bytes(header.as_bytes()).expect("name"),
            HeaderValue::from_bytes(value).expect("value"),
        );
        api_key(&config, config.auth.as_ref(), &headers)
    }

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    #[test]
    fn templates_are_read_backwards() {
        let redtail = r#"{"type": "apiKey", "scheme": "Userkeyauth", "credentialTemplate": "{{apiKey}}:{{user.platformAdditionalInfo.userKey}}"}"#;
        let header = format!("Userkeyauth {}", b64("k-1:uk-9"));
        assert_eq!(
            key(redtail, "Authorization", header.as_bytes()).as_deref(),
            Some("k-1")
        );
        // Without the user key App Connect renders "k-1:".
        let header = format!("Userkeyauth {}", b64("k-1:"));
        assert_eq!(
            key(redtail, "Authorization", header.as_bytes()).as_deref(),
            Some("k-1")
        );
        assert_eq!(key(redtail, "Authorization", b"Bearer k-1"), None);
        let raw = r#"{"type": "apiKey", "headerName": "X-Api-Key", "credentialTemplate": "{{apiKey}}", "encode": "none"}"#;
        assert_eq!(key(raw, "x-api-key", b"k-2").as_deref(), Some("k-2"));
        assert_eq!(key(raw, "authorization", b"k-2"), None);
        let bearer = r#"{"type": "apiKey", "scheme": "Bearer", "credentialTemplate": "{{apiKey}}", "encode": "none"}"#;
        assert_eq!(
            key(bearer, "Authorization", b"bearer k-3").as_deref(),
            Some("k-3")
        );
        let secret = r#"{"type": "apiKey", "scheme": "Basic", "credentialTemplate": "{{apiKey}}:{{secretKey}}"}"#;
        let good = format!("Basic {}", b64("k-4:s3"));
        let bad = format!("Basic {}", b64("k-4:nope"));
        assert_eq!(
            key(secret, "Authorization", good.as_bytes()).as_deref(),
            Some("k-4")
        );
        assert_eq!(key(secret, "Authorization", bad.as_bytes()), None);
    }

    #[test]
    fn without_a_template_app_connects_own_headers_are_read() {
        let oauth = r#"{"type": "oauth", "scheme": "Token"}"#;
        assert_eq!(
            key(oauth, "Authorization", b"Token t-1").as_deref(),
            Some("t-1")
        );
        assert_eq!(
            key(oauth, "Authorization", b"Bearer t-1").as_deref(),
            Some("t-1")
        );
        let basic = format!("Basic {}", b64("k-5:"));
        assert_eq!(
            key(r#"{"type": "apiKey"}"#, "Authorization", basic.as_bytes()).as_deref(),
            Some("k-5")
        );
        assert_eq!(
            key(r#"{"type": "apiKey"}"#, "Authorization", b"Token"),
            None
        );
    }

    #[test]
    fn latin1_header_bytes_are_read_as_node_sends_them() {
        let raw = r#"{"type": "apiKey", "credentialTemplate": "{{apiKey}}", "encode": "none"}"#;
        assert_eq!(
            key(raw, "Authorization", b"k\xe9y").as_deref(),
            Some("k\u{e9}y")
        );
    }
}
