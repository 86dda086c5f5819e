//! The Pipedrive face: the part of Pipedrive's API v1 and v2 App Connect's
//! Pipedrive connector calls, and Pipedrive's OAuth server, statefully on
//! the one store. Its ids are the records' numbers (persons are contacts,
//! activities are activities, users are users, the company is the
//! organisation).
//!
//! App Connect builds `https://${user.hostname}/…` itself, so this face is
//! served over HTTPS (`needs_tls`): the user record's `hostname` is the
//! TLS listener's `HOST:PORT/pipedrive`. It also answers Pipedrive's real
//! hosts (`api.pipedrive.com`, which the connector calls hard-coded, and
//! `*.pipedrive.com`, `oauth.pipedrive.com`) whatever the path, through the
//! forward proxy.
//!
//! Sign-in is OAuth: `POST /oauth/token` exchanges the code `mockcrm crms`
//! hands out (or a refresh token) for a Bearer access token that expires
//! after `--token-ttl`; an expired, revoked or unknown one is Pipedrive's
//! 401. It never imports another face.

mod activities;
mod errors;
mod oauth;
mod openapi;
mod persons;
mod routes;
mod wire;

use serde_json::{json, Map, Value};

use crate::store::Caller;
use crate::web::crm::{Answering, Credential, CrmConnection, CrmFace, CrmUser, Place};
use crate::web::oauth::{
    bearer, token_problem, with_rate_limit_headers, ACCESS_TOKEN, CODE, REFRESH_TOKEN,
};
use crate::web::{ApiError, ApiRequest, ApiResponse, AppState};
use errors::TokenProblem;

/// The name `serve --crm` takes and activities' `via` records.
pub const NAME: &str = "pipedrive";
/// Where this server serves it.
const MOUNT: &str = "/pipedrive";
/// Where App Connect sends its users back after consent; App Connect's own
/// default, which nothing here ever calls.
const REDIRECT_URI: &str = "https://unified-crm-extension.labs.ringcentral.com/pipedrive-redirect";

#[derive(Debug, Default)]
pub struct Pipedrive;

impl CrmFace for Pipedrive {
    fn name(&self) -> &'static str {
        NAME
    }

    fn mount(&self) -> &'static str {
        MOUNT
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[
            "api.pipedrive.com",
            "oauth.pipedrive.com",
            "*.pipedrive.com",
        ]
    }

    fn needs_tls(&self) -> bool {
        true
    }

    fn secrets(&self) -> &'static [&'static str] {
        &[CODE, ACCESS_TOKEN, REFRESH_TOKEN]
    }

    fn expiring_secrets(&self) -> &'static [&'static str] {
        &[ACCESS_TOKEN]
    }

    fn base_url(&self, place: &Place) -> String {
        format!("{}{MOUNT}", place.tls.as_deref().unwrap_or(&place.http))
    }

    fn connection(&self, place: &Place, user: &CrmUser) -> CrmConnection {
        let base_url = self.base_url(place);
        let mut env = Map::new();
        env.insert("PIPEDRIVE_CLIENT_ID".into(), Value::from(oauth::CLIENT.id));
        env.insert(
            "PIPEDRIVE_CLIENT_SECRET".into(),
            Value::from(oauth::CLIENT.secret),
        );
        // App Connect's token exchange goes straight to this URL (it
        // ignores HTTPS_PROXY), so it is the plain listener's.
        env.insert(
            "PIPEDRIVE_ACCESS_TOKEN_URI".into(),
            Value::from(format!("{}{MOUNT}/oauth/token", place.http)),
        );
        env.insert("PIPEDRIVE_REDIRECT_URI".into(), Value::from(REDIRECT_URI));
        let mut credentials = Map::new();
        credentials.insert("clientId".into(), Value::from(oauth::CLIENT.id));
        credentials.insert("clientSecret".into(), Value::from(oauth::CLIENT.secret));
        credentials.insert("code".into(), Value::from(user.secret(CODE)));
        credentials.insert("accessToken".into(), Value::from(user.secret(ACCESS_TOKEN)));
        credentials.insert(
            "refreshToken".into(),
            Value::from(user.secret(REFRESH_TOKEN)),
        );
        let caller = &user.caller;
        CrmConnection {
            name: NAME,
            base_url: base_url.clone(),
            env,
            user: json!({
                // App Connect's id for a Pipedrive user; the connector
                // sends its number as `owner_id`.
                "id": format!("{}-pipedrive", caller.user_number),
                "hostname": host_of(&base_url),
                "timezoneOffset": caller.timezone_offset,
                "accessToken": user.secret(ACCESS_TOKEN),
                "refreshToken": user.secret(REFRESH_TOKEN),
                "platformAdditionalInfo": {
                    "companyId": caller.organisation_id,
                    "companyName": caller.organisation,
                    "companyDomain": wire::company_domain(&caller.organisation),
                },
            }),
            credentials,
            hosts: self.hosts().to_vec(),
            ca_file: place.ca_file.clone(),
        }
    }

    fn credential(&self, request: &ApiRequest) -> Option<Credential> {
        bearer(request, NAME)
    }

    fn answer<'a>(
        &'a self,
        state: &'a AppState,
        request: &'a ApiRequest,
        path: &'a str,
        caller: Option<&'a Caller>,
    ) -> Answering<'a> {
        Box::pin(async move {
            let problem = match caller {
                Some(_) => TokenProblem::Missing,
                None => token_problem(state, request, NAME).await,
            };
            let response = routes::answer(state, request, path, caller, problem).await;
            with_rate_limit_headers(state, request, caller, NAME, response)
        })
    }

    fn error_answer(&self, error: ApiError) -> ApiResponse {
        errors::PipedriveError::from(error).into_response()
    }

    fn openapi(&self) -> Value {
        openapi::document()
    }
}

/// `HOST:PORT/pipedrive` of a base URL: App Connect's `user.hostname`,
/// which its connector puts after `https://`.
fn host_of(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}
