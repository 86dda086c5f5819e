//! The Clio face: the part of Clio Manage's API v4 (`/api/v4/*.json`) App
//! Connect's Clio connector calls, and Clio's OAuth server, statefully on
//! the one store. Its ids are the records' numbers: contacts are contacts,
//! communications are activities, a communication's time entry is that
//! activity's duration (and has the communication's number), users are
//! users. Matters and relationships are answered, empty: the store keeps
//! none.
//!
//! App Connect builds `https://${user.hostname}/…` itself, so this face is
//! served over HTTPS (`needs_tls`): the user record's `hostname` is the TLS
//! listener's `HOST:PORT/clio`. It also answers Clio's real hosts
//! (`app.clio.com` and the au./eu./ca. regions) whatever the path, through
//! the forward proxy.
//!
//! Sign-in is OAuth: `POST /oauth/token` exchanges the code `mockcrm crms`
//! hands out (or a refresh token) for a Bearer access token that expires
//! after `--token-ttl`. App Connect's token URL for Clio is hard-coded and
//! its OAuth client ignores proxies, so `GET /__admin/crms` also hands out
//! a ready access and refresh token. It never imports another face.

mod communication_list;
mod communications;
mod contacts;
mod errors;
mod oauth;
mod openapi;
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
pub const NAME: &str = "clio";
/// Where this server serves it.
const MOUNT: &str = "/clio";

#[derive(Debug, Default)]
pub struct Clio;

impl CrmFace for Clio {
    fn name(&self) -> &'static str {
        NAME
    }

    fn mount(&self) -> &'static str {
        MOUNT
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[
            "app.clio.com",
            "au.app.clio.com",
            "eu.app.clio.com",
            "ca.app.clio.com",
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
        // One client for every region: the connector picks the variables
        // by the hostname's `au.`/`eu.`/`ca.` prefix.
        for region in ["", "AU_", "EU_", "CA_"] {
            env.insert(
                format!("CLIO_{region}CLIENT_ID"),
                Value::from(oauth::CLIENT.id),
            );
            env.insert(
                format!("CLIO_{region}CLIENT_SECRET"),
                Value::from(oauth::CLIENT.secret),
            );
        }
        let token_url = format!("{}{MOUNT}/oauth/token", place.http);
        let mut credentials = Map::new();
        credentials.insert("clientId".into(), Value::from(oauth::CLIENT.id));
        credentials.insert("clientSecret".into(), Value::from(oauth::CLIENT.secret));
        credentials.insert("code".into(), Value::from(user.secret(CODE)));
        credentials.insert("tokenUrl".into(), Value::from(token_url));
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
                // App Connect's id for a Clio user; the connector sends the
                // part before `-` as the User participant's id.
                "id": format!("{}-clio", caller.user_number),
                "hostname": host_of(&base_url),
                // The connector reads it as `Number(…)`: hours.
                "timezoneOffset": wire::offset_value(caller.timezone_offset.as_deref()),
                "timezoneName": wire::timezone_name(caller.timezone_offset.as_deref()),
                "accessToken": user.secret(ACCESS_TOKEN),
                "refreshToken": user.secret(REFRESH_TOKEN),
                "platformAdditionalInfo": {},
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
        errors::ClioError::from(error).into_response()
    }

    fn openapi(&self) -> Value {
        openapi::document()
    }
}

/// `HOST:PORT/clio` of a base URL: App Connect's `user.hostname`, which its
/// connector puts after `https://`.
fn host_of(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}
