//! The connector's HTTP client for the mock CRM's REST API. It speaks the
//! API's JSON and turns every failure into a `CrmError` a user can act on.

use std::time::Duration;

use serde_json::Value;

/// Why a call to the CRM did not give the expected answer.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CrmError {
    #[error("could not reach the CRM at {url}: {reason}; is `mockcrm serve` running there?")]
    Unreachable { url: String, reason: String },
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
    },
    #[error("the CRM answered {status} with a body that is not what the API promises: {detail}")]
    BadResponse { status: u16, detail: String },
    #[error("CRM URL {0:?} is not valid: {1}")]
    InvalidUrl(String, String),
}

/// A client for one CRM base URL.
#[derive(Debug, Clone)]
pub struct CrmClient {
    http: reqwest::Client,
    base_url: String,
}

impl CrmClient {
    pub fn new(base_url: &str) -> Result<CrmClient, CrmError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(CrmError::InvalidUrl(
                base_url,
                "it must start with http:// (for example http://127.0.0.1:8787)".into(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| CrmError::InvalidUrl(base_url.clone(), error.to_string()))?;
        Ok(CrmClient { http, base_url })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /activity`; the created activity.
    pub async fn create_activity(
        &self,
        auth_header: Option<&str>,
        activity: &Value,
    ) -> Result<Value, CrmError> {
        let request = self.http.post(self.url("/activity")).json(activity);
        self.send(request, auth_header).await
    }

    /// `GET /activity/{id}`.
    pub async fn activity(&self, auth_header: Option<&str>, id: &str) -> Result<Value, CrmError> {
        let request = self.http.get(self.url(&activity_path(id)));
        self.send(request, auth_header).await
    }

    /// `PATCH /activity/{id}` with the fields to change.
    pub async fn update_activity(
        &self,
        auth_header: Option<&str>,
        id: &str,
        changes: &Value,
    ) -> Result<Value, CrmError> {
        let request = self.http.patch(self.url(&activity_path(id))).json(changes);
        self.send(request, auth_header).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        auth_header: Option<&str>,
    ) -> Result<Value, CrmError> {
        let request = match auth_header {
            Some(header) => request.header("authorization", header),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|error| CrmError::Unreachable {
                url: self.base_url.clone(),
                reason: describe_transport_error(&error),
            })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|error| CrmError::Unreachable {
                url: self.base_url.clone(),
                reason: describe_transport_error(&error),
            })?;
        let body: Option<Value> = serde_json::from_str(&text).ok();
        if (200..300).contains(&status) {
            return body.ok_or_else(|| CrmError::BadResponse {
                status,
                detail: format!("not JSON: {}", snippet(&text)),
            });
        }
        if status == 401 {
            return Err(CrmError::Unauthorized);
        }
        let error = body.as_ref().and_then(|body| body.get("error"));
        let code = error
            .and_then(|error| error.get("code"))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        let message = error
            .and_then(|error| error.get("message"))
            .and_then(Value::as_str)
            .map_or_else(|| snippet(&text), str::to_owned);
        if status >= 500 || status == 429 {
            Err(CrmError::ServerError {
                status,
                code,
                message,
            })
        } else {
            Err(CrmError::Rejected {
                status,
                code,
                message,
            })
        }
    }
}

fn activity_path(id: &str) -> String {
    let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC);
    format!("/activity/{encoded}")
}

fn describe_transport_error(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the request timed out".into()
    } else if error.is_connect() {
        "connection refused".into()
    } else {
        error.to_string()
    }
}

fn snippet(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "(empty body)".into(),
        None => text.to_owned(),
    }
}
