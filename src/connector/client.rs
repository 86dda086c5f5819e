//! The connector's client for the mock CRM's REST API: which requests a
//! log, a read and an update are, which of them may be retried (`retry`),
//! and what each answer means, as a `CrmError` a user can act on. Sending
//! and reading is `crate::http`'s.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::retry::RetryPolicy;
use crate::http::{Answer, JsonClient, TransportError};

/// The longest one attempt may take, whatever budget is left.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call to the CRM did not give the expected answer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CrmError {
    #[error("could not reach the CRM at {url}: {reason}{}", refused_hint(.reason))]
    Unreachable { url: String, reason: String },
    /// The CRM took the request, but its connection broke off (closed,
    /// reset or cut short) before the whole answer came: the request may
    /// or may not have been done.
    #[error(
        "the connection to the CRM at {url} broke off {stage}: {reason}; please try again later"
    )]
    Interrupted {
        url: String,
        stage: String,
        reason: String,
    },
    #[error("the CRM rejected the credentials (401); please reconnect your CRM account")]
    Unauthorized,
    #[error("the CRM refused the request ({status} {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the CRM failed ({status} {code}): {message}; please try again later")]
    ServerError {
        status: u16,
        code: String,
        message: String,
        /// Seconds the CRM asked us to wait (`Retry-After`).
        retry_after: Option<u64>,
    },
    #[error("the CRM answered {status} with a body that is not what the API promises: {detail}")]
    BadResponse { status: u16, detail: String },
    #[error("CRM URL {0:?} is not valid: {1}")]
    InvalidUrl(String, String),
    #[error("{last} (gave up after {attempts} attempts in {seconds:.1} s)")]
    GaveUp {
        attempts: u32,
        seconds: f64,
        last: Box<CrmError>,
    },
}

/// A refused connection most likely means no server runs there.
fn refused_hint(reason: &str) -> &'static str {
    if reason == "connection refused" {
        "; is `mockcrm serve` running there?"
    } else {
        ""
    }
}

impl CrmError {
    /// Worth another attempt: the CRM was busy, overloaded, out of reach,
    /// or its connection broke off (a retry is safe where the request is:
    /// reads, updates, and creates under an idempotency key).
    pub fn is_transient(&self) -> bool {
        match self {
            CrmError::Unreachable { .. } | CrmError::Interrupted { .. } => true,
            CrmError::ServerError { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            CrmError::ServerError {
                retry_after: Some(seconds),
                ..
            } => Some(Duration::from_secs(*seconds)),
            _ => None,
        }
    }

    /// The error code the CRM answered, if it answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            CrmError::Rejected { code, .. } | CrmError::ServerError { code, .. } => Some(code),
            CrmError::GaveUp { last, .. } => last.code(),
            _ => None,
        }
    }
}

/// A client for one CRM base URL.
#[derive(Debug, Clone)]
pub struct CrmClient {
    http: JsonClient,
    policy: RetryPolicy,
}

impl CrmClient {
    /// A client for `base_url` (`http://` or `https://`).
    pub fn new(base_url: &str) -> Result<CrmClient, CrmError> {
        let http = JsonClient::new(base_url).map_err(CrmError::from)?;
        Ok(CrmClient {
            http,
            policy: RetryPolicy::default(),
        })
    }

    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> CrmClient {
        self.policy = policy;
        self
    }

    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// `POST /activity`; the created activity. With an idempotency key,
    /// retries are safe: the CRM answers a repeat with the first result.
    pub async fn create_activity(
        &self,
        auth_header: Option<&str>,
        idempotency_key: Option<&str>,
        activity: &Value,
    ) -> Result<Value, CrmError> {
        let policy = if idempotency_key.is_some() {
            self.policy.clone()
        } else {
            // Without a key a retried create could write twice.
            RetryPolicy::none()
        };
        self.send_with_retries(&policy, auth_header, || {
            let request = self.http.request(Method::POST, "/activity").json(activity);
            match idempotency_key {
                Some(key) => request.header("idempotency-key", key),
                None => request,
            }
        })
        .await
    }

    /// `GET /activity/{id}`.
    pub async fn activity(&self, auth_header: Option<&str>, id: &str) -> Result<Value, CrmError> {
        let path = activity_path(id);
        self.send_with_retries(&self.policy, auth_header, || {
            self.http.request(Method::GET, &path)
        })
        .await
    }

    /// `GET /activity?conversation_log_id=`: the message logs of one
    /// conversation and day, newest first (the first page: a conversation
    /// written by a well-behaved connector has one).
    pub async fn conversation_logs(
        &self,
        auth_header: Option<&str>,
        conversation_log_id: &str,
    ) -> Result<Vec<Value>, CrmError> {
        let mut url = self.http.url("/activity").map_err(CrmError::from)?;
        url.query_pairs_mut()
            .append_pair("conversation_log_id", conversation_log_id)
            .append_pair("limit", "200");
        let page = self
            .send_with_retries(&self.policy, auth_header, || {
                self.http.request_url(Method::GET, url.clone())
            })
            .await?;
        match page.get("items").and_then(Value::as_array) {
            Some(items) => Ok(items.clone()),
            None => Err(CrmError::BadResponse {
                status: 200,
                detail: "the activity listing has no items".into(),
            }),
        }
    }

    /// `GET /me`: the CRM user the key belongs to.
    pub async fn me(&self, auth_header: Option<&str>) -> Result<Value, CrmError> {
        self.send_with_retries(&self.policy, auth_header, || {
            self.http.request(Method::GET, "/me")
        })
        .await
    }

    /// `PATCH /activity/{id}` with the fields to change; setting the same
    /// values twice is harmless, so it is retried like a read.
    pub async fn update_activity(
        &self,
        auth_header: Option<&str>,
        id: &str,
        changes: &Value,
    ) -> Result<Value, CrmError> {
        let path = activity_path(id);
        self.send_with_retries(&self.policy, auth_header, || {
            self.http.request(Method::PATCH, &path).json(changes)
        })
        .await
    }

    /// Sends the request `build` makes, again after a backoff while the
    /// failure is transient and the policy's attempts and time allow.
    async fn send_with_retries(
        &self,
        policy: &RetryPolicy,
        auth_header: Option<&str>,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Value, CrmError> {
        let started = policy.clock.now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let spent = policy.clock.now().saturating_duration_since(started);
            let remaining = policy.max_total.saturating_sub(spent);
            let timeout = remaining.min(ATTEMPT_TIMEOUT).max(Duration::from_millis(1));
            let error = match self.send(build().timeout(timeout), auth_header).await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let give_up = |error: CrmError, spent: Duration| {
                if attempts == 1 {
                    error
                } else {
                    CrmError::GaveUp {
                        attempts,
                        seconds: spent.as_secs_f64(),
                        last: Box::new(error),
                    }
                }
            };
            let spent = policy.clock.now().saturating_duration_since(started);
            if !error.is_transient() || attempts >= policy.max_attempts {
                return Err(give_up(error, spent));
            }
            let wait = policy.backoff(attempts, error.retry_after());
            if spent + wait >= policy.max_total {
                return Err(give_up(error, spent));
            }
            tracing::debug!(attempts, ?wait, %error, "retrying the CRM");
            policy.clock.wait(wait).await;
        }
    }

    /// One attempt.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        auth_header: Option<&str>,
    ) -> Result<Value, CrmError> {
        let request = match auth_header {
            Some(header) => request.header("authorization", header),
            None => request,
        };
        let answer = self.http.send(request).await?;
        answer_to_result(answer)
    }
}

/// What a CRM answer means: the JSON of a 2xx, or the error it is.
fn answer_to_result(answer: Answer) -> Result<Value, CrmError> {
    let status = answer.status;
    if answer.is_success() {
        let snippet = answer.snippet();
        return answer.json.ok_or_else(|| CrmError::BadResponse {
            status,
            detail: format!("not JSON: {snippet}"),
        });
    }
    if status == 401 {
        return Err(CrmError::Unauthorized);
    }
    let (code, message) = answer.error();
    let code = code.unwrap_or("unknown").to_owned();
    let message = message.map_or_else(|| answer.snippet(), str::to_owned);
    if status >= 500 || status == 429 {
        Err(CrmError::ServerError {
            status,
            code,
            message,
            retry_after: answer.retry_after,
        })
    } else {
        Err(CrmError::Rejected {
            status,
            code,
            message,
        })
    }
}

impl From<TransportError> for CrmError {
    fn from(error: TransportError) -> CrmError {
        match error {
            TransportError::InvalidUrl { url, reason } => CrmError::InvalidUrl(url, reason),
            TransportError::Unreachable { url, reason } => CrmError::Unreachable { url, reason },
            TransportError::Interrupted { url, stage, reason } => CrmError::Interrupted {
                url,
                stage: stage.to_owned(),
                reason,
            },
        }
    }
}

/// RFC 3986's unreserved characters stay as they are, so an id reads the
/// same in the request journal as in the JSON. Everything else is escaped,
/// `.` too: an id of `..` must not become a dot-segment the URL parser
/// resolves away.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

fn activity_path(id: &str) -> String {
    let encoded = percent_encoding::utf8_percent_encode(id, PATH_SEGMENT);
    format!("/activity/{encoded}")
}

#[cfg(test)]
mod tests {
    use super::activity_path;

    #[test]
    fn ids_keep_their_unreserved_characters_and_nothing_else() {
        assert_eq!(
            activity_path("act_01a2-b~c"),
            "/activity/act_01a2-b~c",
            "journal paths read like the ids"
        );
        assert_eq!(activity_path(".."), "/activity/%2E%2E");
        assert_eq!(activity_path("a/b?c#d"), "/activity/a%2Fb%3Fc%23d");
        assert_eq!(activity_path("李"), "/activity/%E6%9D%8E");
    }
}
