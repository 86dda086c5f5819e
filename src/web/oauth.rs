//! OAuth 2.0 as the CRMs App Connect signs in to with it run it (RFC 6749):
//! a token endpoint taking the authorization code and refresh token grants
//! for an organisation's user, access tokens that expire after the server's
//! `--token-ttl` (so a connector's refresh path runs inside a test), and
//! refresh tokens that are replaced when used. Codes, tokens and their
//! expiry are kept by the store as the user's CRM secrets; what each CRM's
//! token endpoint looks like on the wire (its path, where it takes the
//! client's credentials, the shape of its errors) is its face's, which
//! calls `exchange` and writes the answer.

use std::time::Duration;

use base64::Engine;

use super::request::ApiRequest;
use super::response::ApiResponse;
use super::state::AppState;
use crate::store::{Caller, CrmSecret, StoreError};

/// The kinds of secret OAuth keeps per user and CRM.
pub const CODE: &str = "code";
pub const ACCESS_TOKEN: &str = "access_token";
pub const REFRESH_TOKEN: &str = "refresh_token";

/// The access token lifetime when `--token-ttl` is not given: an hour, as
/// most CRMs do.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// A CRM's OAuth client, as App Connect is configured with it (the same
/// for every organisation: one App Connect deployment has one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub id: &'static str,
    pub secret: &'static str,
}

/// What a token request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode { code: String },
    RefreshToken { refresh_token: String },
}

/// A successful exchange: whose tokens, and the tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Tokens {
    pub caller: Caller,
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
}

/// Why a token request was refused, as RFC 6749 §5.2 names it.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("the client id or secret is not this CRM's (see mockcrm crms)")]
    InvalidClient,
    #[error("the {0} is unknown, expired or already used; get a new code (mockcrm crms) or sign in again")]
    InvalidGrant(&'static str),
    #[error("grant_type {0:?} is not supported; use authorization_code or refresh_token")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl OAuthError {
    /// The `error` code of RFC 6749's error answer.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::Store(_) => "server_error",
        }
    }
}

/// The parameters of a token request, wherever the client put them: the
/// form body (RFC 6749), or the URL's query (Bullhorn's connector sends its
/// code and client there).
fn parameters(request: &ApiRequest) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
        .into_owned()
        .collect();
    if let Some(body) = &request.body {
        let json = request
            .header("content-type")
            .is_some_and(|value| value.to_ascii_lowercase().contains("json"));
        if json {
            if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) {
                for (key, value) in object {
                    if let Some(text) = value.as_str() {
                        found.push((key, text.to_owned()));
                    }
                }
            }
        } else {
            found.extend(form_urlencoded::parse(body).into_owned());
        }
    }
    found
}

fn parameter<'a>(found: &'a [(String, String)], name: &str) -> Option<&'a str> {
    found
        .iter()
        .rev()
        .find(|(key, value)| key == name && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1), else
/// `client_id`/`client_secret` parameters.
fn client_of(request: &ApiRequest, found: &[(String, String)]) -> Option<(String, String)> {
    let basic = request.header("authorization").and_then(|value| {
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (id, secret) = text.split_once(':')?;
        let decode = |part: &str| {
            percent_encoding::percent_decode_str(&part.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        Some((decode(id), decode(secret)))
    });
    basic.or_else(|| {
        Some((
            parameter(found, "client_id")?.to_owned(),
            parameter(found, "client_secret")?.to_owned(),
        ))
    })
}

/// Reads a token request and, when it is good, issues its tokens: the
/// authorization code (single use) or refresh token (replaced) names the
/// user; the new access token lives `state.token_ttl`.
pub async fn exchange(
    state: &AppState,
    crm: &'static str,
    client: Client,
    request: &ApiRequest,
) -> Result<Tokens, OAuthError> {
    let found = parameters(request);
    let (id, secret) = client_of(request, &found).ok_or(OAuthError::InvalidClient)?;
    if id != client.id || secret != client.secret {
        return Err(OAuthError::InvalidClient);
    }
    let grant = match parameter(&found, "grant_type") {
        Some("authorization_code") => Grant::AuthorizationCode {
            code: parameter(&found, "code")
                .ok_or_else(|| OAuthError::InvalidRequest("code is missing".into()))?
                .to_owned(),
        },
        Some("refresh_token") => Grant::RefreshToken {
            refresh_token: parameter(&found, "refresh_token")
                .ok_or_else(|| OAuthError::InvalidRequest("refresh_token is missing".into()))?
                .to_owned(),
        },
        Some(other) => return Err(OAuthError::UnsupportedGrantType(other.to_owned())),
        None => return Err(OAuthError::InvalidRequest("grant_type is missing".into())),
    };
    let ttl = state.token_ttl;
    let issued = state
        .store
        .run(move |store| {
            let (kind, given, what) = match &grant {
                Grant::AuthorizationCode { code } => (CODE, code.as_str(), "authorization code"),
                Grant::RefreshToken { refresh_token } => {
                    (REFRESH_TOKEN, refresh_token.as_str(), "refresh token")
                }
            };
            let which = CrmSecret { crm, kind };
            let Some((caller, expires)) = store.caller_for_secret(&which, given)? else {
                return Ok(Err(OAuthError::InvalidGrant(what)));
            };
            if expires.as_deref().is_some_and(has_passed) {
                return Ok(Err(OAuthError::InvalidGrant(what)));
            }
            // A code is used once; a refresh token is replaced by the new one.
            store.revoke_crm_secret(&which, given)?;
            let access_token = new_token("at");
            let refresh_token = new_token("rt");
            let expires_at = (chrono::Utc::now()
                + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1)))
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            store.issue_crm_secret(
                caller.organisation_id,
                &caller.user_id,
                &CrmSecret {
                    crm,
                    kind: ACCESS_TOKEN,
                },
                &access_token,
                Some(&expires_at),
            )?;
            store.issue_crm_secret(
                caller.organisation_id,
                &caller.user_id,
                &CrmSecret {
                    crm,
                    kind: REFRESH_TOKEN,
                },
                &refresh_token,
                None,
            )?;
            Ok(Ok(Tokens {
                caller,
                access_token,
                refresh_token,
                expires_in: ttl.as_secs().max(1),
            }))
        })
        .await?;
    issued
}

/// Whether an expiry time (RFC 3339, as the store keeps it) is past; one
/// that cannot be read counts as past, so a broken row grants nothing.
pub fn has_passed(expires_at: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(expires_at)
        .map_or(true, |expires| expires <= chrono::Utc::now())
}

/// A token no one can guess: 122 bits from the system's randomness.
pub fn new_token(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// `Authorization: Bearer <token>`, as an access token of `crm`.
pub fn bearer(request: &ApiRequest, crm: &'static str) -> Option<super::crm::Credential> {
    let (scheme, token) = request.header("authorization")?.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| super::crm::Credential::Secret {
            crm,
            kind: ACCESS_TOKEN,
            secret: token.trim().to_owned(),
        })
}

/// Why a request to an OAuth CRM face was refused its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No `Authorization: Bearer …` at all.
    Missing,
    /// A token this server never issued, or one revoked.
    Invalid,
    /// An access token past its `expires_in`: refresh it.
    Expired,
}

/// Why `request` to CRM face `crm` has no caller: no bearer token, or one
/// unknown or expired (the front drops expired ones; each CRM's 401 tells
/// them apart, as its connector's refresh path needs).
pub async fn token_problem(
    state: &AppState,
    request: &ApiRequest,
    crm: &'static str,
) -> TokenProblem {
    let Some(super::crm::Credential::Secret { secret, .. }) = bearer(request, crm) else {
        return TokenProblem::Missing;
    };
    let found = state
        .store
        .read(move |store| {
            store.caller_for_secret(
                &CrmSecret {
                    crm,
                    kind: ACCESS_TOKEN,
                },
                &secret,
            )
        })
        .await;
    match found {
        Ok(Some((_, Some(expires)))) if has_passed(&expires) => TokenProblem::Expired,
        _ => TokenProblem::Invalid,
    }
}

/// The `x-ratelimit-*` headers OAuth CRMs answer with (and their connectors
/// read), from the server's own rate limit for the caller's bearer token
/// (`serve --rate-limit`; none without one).
pub fn with_rate_limit_headers(
    state: &AppState,
    request: &ApiRequest,
    caller: Option<&Caller>,
    crm: &'static str,
    response: ApiResponse,
) -> ApiResponse {
    let (Some(limiter), Some(_), Some(credential)) =
        (&state.harness.rate_limiter, caller, bearer(request, crm))
    else {
        return response;
    };
    let (remaining, reset) = limiter.remaining(credential.rate_key());
    response
        .with_header("x-ratelimit-limit", limiter.per_second().to_string())
        .with_header("x-ratelimit-remaining", remaining.to_string())
        .with_header("x-ratelimit-reset", reset.to_string())
}
