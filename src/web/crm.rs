//! What a CRM face is to the rest of the server: the contract every face
//! that emulates a CRM's real API (Redtail, Insightly, …) fulfils, so that
//! the front can route to it, identify its callers and run it inside the
//! harness, the admin API can say how to reach it (`GET /__admin/crms`),
//! and the OpenAPI document can describe it, all without knowing which CRM
//! it is. The faces implement it; only the registry (`faces::crms`) names
//! them.

use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::request::ApiRequest;
use super::response::ApiResponse;
use super::state::AppState;
use crate::store::Caller;

/// A face's answer, boxed so that faces can sit behind one trait object.
pub type Answering<'a> = Pin<Box<dyn Future<Output = ApiResponse> + Send + 'a>>;

/// What a request's credentials are, as a CRM face reads them; the store
/// turns them into the caller (`Front::identify`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user's API key, as the native API takes it.
    ApiKey(String),
    /// A secret the face handed out earlier (a Redtail user key, an access
    /// token), of `kind`, for CRM `crm`.
    Secret {
        crm: &'static str,
        kind: &'static str,
        secret: String,
    },
    /// A sign-in with a user's id and a secret of `kind` (a Redtail
    /// password), before any token exists.
    Login {
        crm: &'static str,
        kind: &'static str,
        username: String,
        secret: String,
    },
}

impl Credential {
    /// What the rate limit counts the request by.
    pub fn rate_key(&self) -> &str {
        match self {
            Credential::ApiKey(key) => key,
            Credential::Secret { secret, .. } => secret,
            Credential::Login { username, .. } => username,
        }
    }
}

/// Where this server can be reached: what connection info is built from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Place {
    /// `http://HOST:PORT`.
    pub http: String,
    /// `https://HOST:PORT` with `--tls`.
    pub tls: Option<String>,
    /// `http://HOST:PORT` of the forward proxy, with `--proxy-addr`.
    pub proxy: Option<String>,
    /// The local CA's certificate, with `--tls`.
    pub ca_file: Option<String>,
}

/// One user of an organisation, as a CRM face hands out its sign-in:
/// who they are, their API key, and the per-user secrets the face asked for
/// (`CrmFace::secrets`), made and kept by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmUser {
    pub caller: Caller,
    pub api_key: String,
    pub secrets: Map<String, Value>,
}

impl CrmUser {
    /// The secret of `kind`, as it was made for this user ("" if none was).
    pub fn secret(&self, kind: &str) -> &str {
        self.secrets
            .get(kind)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// How App Connect (or a test) reaches one CRM face: `GET /__admin/crms`
/// answers a list of these, and `mockcrm crms` prints them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrmConnection {
    pub name: &'static str,
    pub base_url: String,
    /// The environment variables the CRM's App Connect connector reads.
    pub env: Map<String, Value>,
    /// The fields of App Connect's user record the connector reads.
    pub user: Value,
    /// What the user types into App Connect's sign-in for this CRM.
    pub credentials: Map<String, Value>,
    /// The CRM's real API hosts, which this face also answers (through the
    /// forward proxy, or a client that routes them here).
    pub hosts: Vec<&'static str>,
    /// The CA file to trust for HTTPS; `None` for plain HTTP.
    pub ca_file: Option<String>,
}

/// Whether `host` (lower case, no port) is one of `hosts`: a name as
/// written, or `*.domain` standing for any one label before `domain`, as a
/// wildcard certificate name does (`*.pipedrive.com` is
/// `acme.pipedrive.com`, not `pipedrive.com` nor `a.b.pipedrive.com`).
pub fn host_matches(hosts: &[&str], host: &str) -> bool {
    hosts
        .iter()
        .any(|pattern| match pattern.strip_prefix("*.") {
            Some(domain) => host
                .strip_suffix(domain)
                .and_then(|rest| rest.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty() && !label.contains('.')),
            None => *pattern == host,
        })
}

/// The conversation a message log written through CRM face `crm` is
/// stored under (`conversation_log_id`). App Connect's shipped connectors
/// send the CRM no conversation or message id, so it is derived: the face,
/// the linked contact and the subject, which App Connect writes as the
/// contact's name and the day (`SMS conversation with Jane - 24/01/15`).
/// Two logs of one conversation-day then share it, which is what
/// `split_conversation` reports.
pub fn derived_conversation(crm: &str, contact_id: Option<&str>, subject: &str) -> String {
    format!(
        "{crm}:{}:{}",
        contact_id.unwrap_or_default(),
        subject.trim()
    )
}

/// A CRM face's own answer to an error raised by the kit (an overloaded
/// store, an injected fault), with the kit's headers that tell a client
/// what to do (`retry-after`) kept: the body is the CRM's shape, the
/// advice the same as on the native API.
pub fn with_kit_advice(mut response: ApiResponse, error: ApiError) -> ApiResponse {
    let kit = error.into_response();
    response.headers.extend(
        kit.headers
            .into_iter()
            .filter(|(name, _)| *name == "retry-after"),
    );
    response
}

/// Whether an activity type is a message log's (SMS, voicemail, fax).
pub fn is_message_type(activity_type: &str) -> bool {
    matches!(activity_type, "SMS" | "Voicemail" | "Fax")
}

/// A CRM's real API, served over the one store.
pub trait CrmFace: Send + Sync {
    /// Its name, as `serve --crm` takes it and `via` records it.
    fn name(&self) -> &'static str;

    /// The path prefix it is served under on this server (`/redtail`).
    fn mount(&self) -> &'static str;

    /// The CRM's real API host names, answered by this face whatever the
    /// path (through the forward proxy, or a client routing them here).
    fn hosts(&self) -> &'static [&'static str];

    /// Whether its connector reaches it only over HTTPS (it builds
    /// `https://${user.hostname}` itself): `serve` then turns `--tls` on.
    fn needs_tls(&self) -> bool {
        false
    }

    /// The kinds of per-user secret its sign-in needs made ahead
    /// (`password` for Redtail), handed out by `GET /__admin/crms`.
    fn secrets(&self) -> &'static [&'static str] {
        &[]
    }

    /// The kinds of secret that expire and that `POST
    /// /__admin/tokens/expire` expires: an OAuth face's access tokens (and
    /// Bullhorn's sessions). Once expired, a request carrying one is
    /// answered as its CRM answers a token past its time.
    fn expiring_secrets(&self) -> &'static [&'static str] {
        &[]
    }

    /// The base URL its connector is configured with, on a server at
    /// `place`.
    fn base_url(&self, place: &Place) -> String;

    /// How to reach it, for `user`, on a server at `place`.
    fn connection(&self, place: &Place, user: &CrmUser) -> CrmConnection;

    /// The credentials `request` carries, read as the CRM reads them.
    fn credential(&self, request: &ApiRequest) -> Option<Credential>;

    /// Answers `request`, whose path below the mount (or whole path, for a
    /// real host) is `path`, from `caller` (`None` when the credentials
    /// named nobody). Errors are answered in the CRM's own shape.
    fn answer<'a>(
        &'a self,
        state: &'a AppState,
        request: &'a ApiRequest,
        path: &'a str,
        caller: Option<&'a Caller>,
    ) -> Answering<'a>;

    /// `error`, raised outside the face (an injected fault, the rate limit,
    /// an overloaded store), answered in the CRM's own error shape with the
    /// error's status and `Retry-After`: a connector reads a fault on a
    /// CRM face as that CRM would send it.
    fn error_answer(&self, error: ApiError) -> ApiResponse {
        error.into_response()
    }

    /// Its part of the OpenAPI 3.1 document: `{"paths": {…}}` under its
    /// mount, and `"components"` its paths refer to (names prefixed with
    /// the face's, so that faces never collide).
    fn openapi(&self) -> Value;
}

#[cfg(test)]
mod tests {
    use super::host_matches;

    #[test]
    fn a_wildcard_host_stands_for_one_label() {
        let hosts = ["api.pipedrive.com", "*.pipedrive.com"];
        assert!(host_matches(&hosts, "api.pipedrive.com"));
        assert!(host_matches(&hosts, "acme.pipedrive.com"));
        assert!(!host_matches(&hosts, "pipedrive.com"));
        assert!(!host_matches(&hosts, "a.b.pipedrive.com"));
        assert!(!host_matches(&hosts, "evilpipedrive.com"));
        assert!(!host_matches(&["api.insightly.com"], "x.api.insightly.com"));
    }
}
