//! The Redtail face: Redtail CRM's public API v1 (`/api/public/v1`), the
//! part App Connect's Redtail connector calls, statefully on the one store.
//! Served under `/redtail` on this server (and on Redtail's real hosts
//! through the forward proxy). Its ids are the records' numbers.
//!
//! Sign-in is Redtail's: `GET /authentication` with
//! `Basic base64(<api key>:<username>:<password>)` answers the user's
//! `user_key`, and every later call sends
//! `Authorization: base64(<api key>:<user_key>)` (App Connect's connector
//! sends no scheme; Redtail's own docs write `Userkeyauth`). The API key
//! is the partner's, the same for every user (`PARTNER_KEY`); the username
//! is the user's id, the password a secret `GET /__admin/crms` hands out.

mod activities;
mod errors;
mod openapi;
mod routes;
mod wire;

use serde_json::{json, Map, Value};

use crate::store::Caller;
use crate::web::crm::{Answering, Credential, CrmConnection, CrmFace, CrmUser, Place};
use crate::web::{ApiError, ApiRequest, ApiResponse, AppState};

/// The name `serve --crm` takes and activities' `via` records.
pub const NAME: &str = "redtail";
/// Where this server serves it.
pub(crate) const MOUNT: &str = "/redtail";
/// The path of Redtail's API on its hosts, kept below the mount too.
pub(crate) const BASE_PATH: &str = "/api/public/v1";
/// The partner API key App Connect's server is configured with
/// (`REDTAIL_API_KEY`): Redtail gives one per integration, not per user.
pub const PARTNER_KEY: &str = "mockcrm-redtail-partner-key";
/// Secrets per user: the password typed into App Connect's sign-in, and the
/// user key `GET /authentication` answers (made ahead, so a connector
/// handed the user record straight away has it too).
const PASSWORD: &str = "password";
const USER_KEY: &str = "user_key";

#[derive(Debug, Default)]
pub struct Redtail;

impl CrmFace for Redtail {
    fn name(&self) -> &'static str {
        NAME
    }

    fn mount(&self) -> &'static str {
        MOUNT
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[
            "crm.redtailtechnology.com",
            "review.crm.redtailtechnology.com",
            "smf.crm3.redtailtechnology.com",
            "api2.redtailtechnology.com",
        ]
    }

    fn secrets(&self) -> &'static [&'static str] {
        &[PASSWORD, USER_KEY]
    }

    fn base_url(&self, place: &Place) -> String {
        format!("{}{MOUNT}{BASE_PATH}", place.http)
    }

    fn connection(&self, place: &Place, user: &CrmUser) -> CrmConnection {
        let base_url = self.base_url(place);
        let mut env = Map::new();
        env.insert("REDTAIL_API_SERVER".into(), Value::from(base_url.clone()));
        env.insert("REDTAIL_API_KEY".into(), Value::from(PARTNER_KEY));
        let username = user.caller.user_id.clone();
        let mut credentials = Map::new();
        credentials.insert("username".into(), Value::from(username.clone()));
        credentials.insert("password".into(), Value::from(user.secret(PASSWORD)));
        CrmConnection {
            name: NAME,
            base_url,
            env,
            user: json!({
                "hostname": host_of(&place.http),
                // App Connect keeps the user key its sign-in got as the
                // user's access token (`overridingApiKey`).
                "accessToken": user.secret(USER_KEY),
                "platformAdditionalInfo": {
                    "username": username,
                    "userResponse": wire::authenticated_user(&user.caller, user.secret(USER_KEY)),
                },
            }),
            credentials,
            hosts: self.hosts().to_vec(),
            ca_file: None,
        }
    }

    fn credential(&self, request: &ApiRequest) -> Option<Credential> {
        let (login, text) = read_authorization(request.header("authorization")?)?;
        let mut parts = text.splitn(3, ':');
        let _partner_key = parts.next()?;
        match (login, parts.next(), parts.next()) {
            (true, Some(username), Some(password)) => Some(Credential::Login {
                crm: NAME,
                kind: PASSWORD,
                username: username.to_owned(),
                secret: password.to_owned(),
            }),
            (false, Some(user_key), None) => Some(Credential::Secret {
                crm: NAME,
                kind: USER_KEY,
                secret: user_key.to_owned(),
            }),
            _ => None,
        }
    }

    fn answer<'a>(
        &'a self,
        state: &'a AppState,
        request: &'a ApiRequest,
        path: &'a str,
        caller: Option<&'a Caller>,
    ) -> Answering<'a> {
        Box::pin(routes::answer(state, request, path, caller))
    }

    fn error_answer(&self, error: ApiError) -> ApiResponse {
        errors::RedtailError::from(error).into_response()
    }

    fn openapi(&self) -> Value {
        openapi::document()
    }
}

/// The API key a request was signed with (the part before the first
/// `:`), whichever way it signs in.
fn partner_key(request: &ApiRequest) -> Option<String> {
    let (_, text) = read_authorization(request.header("authorization")?)?;
    text.split_once(':').map(|(key, _)| key.to_owned())
}

/// An `Authorization` header as Redtail reads it: `Basic` and base64 of
/// `key:username:password` signs in (`true`); base64 of `key:user_key`,
/// bare or after `Userkeyauth`, is a signed-in call (`false`).
fn read_authorization(header: &str) -> Option<(bool, String)> {
    use base64::Engine;
    let header = header.trim();
    let (login, encoded) = match header.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("basic") => (true, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("userkeyauth") => (false, rest),
        Some(_) => return None,
        None => (false, header),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    String::from_utf8(bytes).ok().map(|text| (login, text))
}

/// `HOST:PORT` of a base URL, as App Connect's user record keeps it.
fn host_of(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}
