//! The Insightly face: Insightly's REST API v3.1, the part App Connect's
//! Insightly connector calls, statefully on the one store. Served under
//! `/insightly` on this server (and on Insightly's real hosts through the
//! forward proxy); App Connect's user types `http://HOST:PORT/insightly` as
//! the API URL, and its connector adds `/${INSIGHTLY_API_VERSION}` (the
//! prefix must hold no `/v`: the connector cuts the URL there). Its ids are
//! the records' numbers.
//!
//! Sign-in is Insightly's: `Basic base64(<api key>:)`, with an API key of
//! one of the organisation's users.
//!
//! Its routes (`routes`), wire format (`wire`), errors (`errors`, always
//! Insightly's `{"Message"}`) and handlers (`users`, `contacts`, `events`)
//! live beside this file; it stands on the kit and the store and never
//! imports another face.

mod contacts;
mod errors;
mod events;
mod openapi;
mod routes;
mod users;
mod wire;

use serde_json::{json, Map, Value};

use crate::store::Caller;
use crate::web::crm::{Answering, Credential, CrmConnection, CrmFace, CrmUser, Place};
use crate::web::{api_key_from_header, ApiError, ApiRequest, ApiResponse, AppState};

/// The name `serve --crm` takes and activities' `via` records.
pub const NAME: &str = "insightly";
/// Where this server serves it.
const MOUNT: &str = "/insightly";
/// The API version App Connect's connector is configured with
/// (`INSIGHTLY_API_VERSION`), the first segment below the mount.
pub const VERSION: &str = "v3.1";

#[derive(Debug, Default)]
pub struct Insightly;

impl CrmFace for Insightly {
    fn name(&self) -> &'static str {
        NAME
    }

    fn mount(&self) -> &'static str {
        MOUNT
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[
            "api.insightly.com",
            "api.na1.insightly.com",
            "api.eu1.insightly.com",
            "api.au1.insightly.com",
        ]
    }

    fn base_url(&self, place: &Place) -> String {
        format!("{}{MOUNT}/{VERSION}", place.http)
    }

    fn connection(&self, place: &Place, user: &CrmUser) -> CrmConnection {
        let api_url = format!("{}{MOUNT}", place.http);
        let mut env = Map::new();
        env.insert("INSIGHTLY_API_VERSION".into(), Value::from(VERSION));
        let mut credentials = Map::new();
        credentials.insert("apiKey".into(), Value::from(user.api_key.clone()));
        credentials.insert("apiUrl".into(), Value::from(api_url.clone()));
        CrmConnection {
            name: NAME,
            base_url: format!("{api_url}/{VERSION}"),
            env,
            user: json!({
                "hostname": place.http.split_once("://").map_or(place.http.as_str(), |(_, rest)| rest),
                // App Connect keeps the API key typed at sign-in as the
                // user's access token, and builds `Basic base64(<key>:)`.
                "accessToken": user.api_key,
                "platformAdditionalInfo": {"apiUrl": api_url},
            }),
            credentials,
            hosts: self.hosts().to_vec(),
            ca_file: None,
        }
    }

    fn credential(&self, request: &ApiRequest) -> Option<Credential> {
        request
            .header("authorization")
            .and_then(api_key_from_header)
            .map(Credential::ApiKey)
    }

    fn answer<'a>(
        &'a self,
        state: &'a AppState,
        request: &'a ApiRequest,
        path: &'a str,
        caller: Option<&'a Caller>,
    ) -> Answering<'a> {
        Box::pin(async move {
            routes::answer(state, request, path, caller)
                .await
                .unwrap_or_else(errors::InsightlyError::into_response)
        })
    }

    fn error_answer(&self, error: ApiError) -> ApiResponse {
        errors::InsightlyError::from(error).into_response()
    }

    fn openapi(&self) -> Value {
        openapi::document()
    }
}
