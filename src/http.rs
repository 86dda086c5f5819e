//! JSON over HTTP the way mockcrm's own clients speak it — the reference
//! connector talking to a CRM and the command line talking to the admin
//! API: one base URL, one request at a time, and an answer read into its
//! status, `Retry-After` and JSON body, with transport failures described
//! so a user can act on them. Requests rendered elsewhere (App Connect's
//! proxy engine) are sent exactly as rendered (`ExactRequest`): any
//! method, an absolute URL, header bytes as they go on the wire, the body
//! text. What an answer means (a CRM error, an admin refusal) is each
//! client's business, not this module's.

use std::time::Duration;

use serde_json::Value;

/// How long connecting may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request got no HTTP answer at all.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum TransportError {
    #[error("{url:?} is not a URL mockcrm can use: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("could not reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// Connected, but the connection ended (closed, reset, cut off)
    /// before the whole answer arrived.
    #[error("the connection to {url} broke off {stage}: {reason}")]
    Interrupted {
        url: String,
        /// `before an answer` or `mid-answer`.
        stage: &'static str,
        reason: String,
    },
}

impl TransportError {
    /// Nothing answered at all (no TLS failure, no bad URL): the likely
    /// cause is that no server runs there.
    pub fn is_refused(&self) -> bool {
        matches!(self, TransportError::Unreachable { reason, .. } if reason == REFUSED)
    }
}

const REFUSED: &str = "connection refused";

/// A request already rendered to the byte: sent as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactRequest {
    /// Upper-case, any token (`PATCH`, `PROPFIND`, …).
    pub method: String,
    /// Absolute `http://` or `https://` URL, query included.
    pub url: String,
    /// Header names and the bytes of their values, as sent.
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Option<String>,
    pub timeout: Duration,
}

/// A client for one base URL, over plain HTTP or HTTPS.
#[derive(Debug, Clone)]
pub struct JsonClient {
    http: reqwest::Client,
    base_url: String,
}

/// An HTTP answer: its status, the `Retry-After` it asked for, and its
/// body as text and, when it is JSON, as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub text: String,
    pub json: Option<Value>,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `error.code` and `error.message` of a mockcrm-shaped error body.
    pub fn error(&self) -> (Option<&str>, Option<&str>) {
        let error = self.json.as_ref().and_then(|body| body.get("error"));
        let field = |name: &str| error.and_then(|e| e.get(name)).and_then(Value::as_str);
        (field("code"), field("message"))
    }

    /// The start of the body, for a message about an answer that is not
    /// what was expected.
    pub fn snippet(&self) -> String {
        const MAX: usize = 200;
        match self.text.char_indices().nth(MAX) {
            Some((cut, _)) => format!("{}…", &self.text[..cut]),
            None if self.text.is_empty() => "(empty body)".into(),
            None => self.text.clone(),
        }
    }
}

impl JsonClient {
    /// A client for `base_url`, which must be an `http://` or `https://` URL.
    pub fn new(base_url: &str) -> Result<JsonClient, TransportError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let invalid = |reason: String| TransportError::InvalidUrl {
            url: base_url.clone(),
            reason,
        };
        match reqwest::Url::parse(&base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            Ok(_) | Err(_) => {
                return Err(invalid(
                    "give an http:// or https:// URL, for example http://127.0.0.1:8787".into(),
                ))
            }
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|error| invalid(error.to_string()))?;
        Ok(JsonClient { http, base_url })
    }

    /// A client with no base URL, for `send_exact`, whose requests each
    /// carry their own.
    pub fn without_base() -> Result<JsonClient, TransportError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|error| TransportError::InvalidUrl {
                url: String::new(),
                reason: error.to_string(),
            })?;
        Ok(JsonClient {
            http,
            base_url: String::new(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends a request exactly as `request` says, to its own URL (the base
    /// URL is not used).
    pub async fn send_exact(&self, request: &ExactRequest) -> Result<Answer, TransportError> {
        let invalid = |reason: String| TransportError::InvalidUrl {
            url: request.url.clone(),
            reason,
        };
        let url = reqwest::Url::parse(&request.url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.has_host())
            .ok_or_else(|| invalid("give an absolute http:// or https:// URL".into()))?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| invalid(format!("{:?} is not an HTTP method", request.method)))?;
        let mut builder = self.http.request(method, url).timeout(request.timeout);
        for (name, value) in &request.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("{name:?} is not a header name")))?;
            let value = reqwest::header::HeaderValue::from_bytes(value)
                .map_err(|_| invalid(format!("the {name} header cannot be sent as it is")))?;
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        self.send_to(&request.url, builder).await
    }

    /// A request to `path` (which starts with `/`) under the base URL.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
    }

    /// A request to an absolute URL built from the base (query pairs, path
    /// segments that need escaping).
    pub fn request_url(
        &self,
        method: reqwest::Method,
        url: reqwest::Url,
    ) -> reqwest::RequestBuilder {
        self.http.request(method, url)
    }

    /// The base URL with `path` appended, parsed, for building a query.
    pub fn url(&self, path: &str) -> Result<reqwest::Url, TransportError> {
        reqwest::Url::parse(&format!("{}{path}", self.base_url)).map_err(|error| {
            TransportError::InvalidUrl {
                url: self.base_url.clone(),
                reason: error.to_string(),
            }
        })
    }

    /// Sends `request` and reads the whole answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, TransportError> {
        self.send_to(&self.base_url, request).await
    }

    /// Sends `request`; failures name `url`.
    async fn send_to(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, TransportError> {
        let unreachable = |error: reqwest::Error| {
            if error.is_connect() || error.is_timeout() || error.is_builder() {
                TransportError::Unreachable {
                    url: url.to_owned(),
                    reason: describe(&error, url.starts_with("https://")),
                }
            } else {
                // Connected and sent, but no answer came back: reset or
                // closed by the server (or something between).
                interrupted(url, "before an answer", &error)
            }
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        let text = response.text().await.map_err(|error| {
            if error.is_timeout() {
                unreachable(error)
            } else {
                interrupted(url, "mid-answer", &error)
            }
        })?;
        let json = serde_json::from_str(&text).ok();
        Ok(Answer {
            status,
            retry_after,
            text,
            json,
        })
    }
}

fn interrupted(url: &str, stage: &'static str, error: &reqwest::Error) -> TransportError {
    TransportError::Interrupted {
        url: url.to_owned(),
        stage,
        reason: innermost(error),
    }
}

/// The innermost cause of `error`: the one that says what happened
/// ("Connection reset by peer", "end of file before message length
/// reached"), without the layers that only repeat the URL.
fn innermost(error: &reqwest::Error) -> String {
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

/// A transport failure in words: a timeout and a refused connection by
/// name, anything else (a TLS or certificate failure, a name that does not
/// resolve) with the innermost cause, which is the one that says what to fix.
fn describe(error: &reqwest::Error, tls: bool) -> String {
    if error.is_timeout() {
        return "the request timed out".into();
    }
    let cause = innermost(error);
    if error.is_connect() && cause.to_ascii_lowercase().contains("connection refused") {
        return REFUSED.into();
    }
    let described = if cause == error.to_string() {
        cause.clone()
    } else {
        format!("{error}: {cause}")
    };
    // What rustls says when the other side answers TLS with plain HTTP.
    if tls && cause.contains("InvalidContentType") {
        format!(
            "{described}; the server answered without TLS: if it speaks plain HTTP, use http://"
        )
    } else {
        described
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_are_accepted() {
        for good in [
            "http://127.0.0.1:8787",
            "https://crm.example.com/api/",
            "http://localhost",
        ] {
            assert!(JsonClient::new(good).is_ok(), "{good}");
        }
        for bad in [
            "127.0.0.1:8787",
            "ftp://example.com",
            "http://",
            "not a url",
            "",
        ] {
            let error = JsonClient::new(bad).expect_err(bad);
            assert!(
                matches!(error, TransportError::InvalidUrl { .. }),
                "{bad}: {error}"
            );
        }
        let trimmed = JsonClient::new("http://127.0.0.1:1/").expect("valid");
        assert_eq!(trimmed.base_url(), "http://127.0.0.1:1");
    }
}
