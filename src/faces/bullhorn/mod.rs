//! The Bullhorn face: the part of Bullhorn's REST API and OAuth server App
//! Connect's Bullhorn connector calls, statefully on the one store. Its ids
//! are the records' numbers: ClientContacts, Candidates and Leads are
//! contacts (by their type), ClientCorporations are contacts of type
//! `ClientCorporation`, Notes are activities, CorporateUsers are users.
//!
//! Sign-in is Bullhorn's, in three steps: the OAuth server
//! (`/oauth/token`, authorization code and refresh token grants, the client
//! in the URL's query as the connector sends it) hands out an access token;
//! `/rest-services/login?access_token=…` turns it into a session, a
//! `BhRestToken` and the `restUrl` (`…/rest-services/{corpToken}/`, the
//! corporation token being the organisation's public id) every later call
//! goes to; `ping` says when the session expires. Access tokens live
//! `--token-ttl`; a session an hour (or `/login`'s `ttl` minutes). It is served under `/bullhorn` here and
//! on Bullhorn's hosts (`*.bullhornstaffing.com`) whatever the path. It
//! never imports another face.

mod errors;
mod notes;
mod openapi;
mod people;
mod query;
mod routes;
mod session;
mod wire;

use serde_json::{json, Map, Value};

use crate::store::Caller;
use crate::web::crm::{Answering, Credential, CrmConnection, CrmFace, CrmUser, Place};
use crate::web::oauth::{ACCESS_TOKEN, CODE, REFRESH_TOKEN};
use crate::web::{ApiError, ApiRequest, ApiResponse, AppState};

/// The name `serve --crm` takes and activities' `via` records.
pub const NAME: &str = "bullhorn";
/// Where this server serves it.
const MOUNT: &str = "/bullhorn";
/// The REST API's context root, below the mount as on Bullhorn's hosts.
const REST: &str = "/rest-services";
/// The secret kind of a session (`BhRestToken`).
pub const SESSION: &str = "bh_rest_token";

#[derive(Debug, Default)]
pub struct Bullhorn;

impl CrmFace for Bullhorn {
    fn name(&self) -> &'static str {
        NAME
    }

    fn mount(&self) -> &'static str {
        MOUNT
    }

    fn hosts(&self) -> &'static [&'static str] {
        &[
            "auth.bullhornstaffing.com",
            "rest.bullhornstaffing.com",
            "*.bullhornstaffing.com",
        ]
    }

    fn secrets(&self) -> &'static [&'static str] {
        &[CODE, ACCESS_TOKEN, REFRESH_TOKEN, SESSION]
    }

    fn expiring_secrets(&self) -> &'static [&'static str] {
        &[ACCESS_TOKEN, SESSION]
    }

    fn base_url(&self, place: &Place) -> String {
        format!("{}{MOUNT}{REST}", place.http)
    }

    fn connection(&self, place: &Place, user: &CrmUser) -> CrmConnection {
        let caller = &user.caller;
        let root = format!("{}{MOUNT}", place.http);
        let login_url = format!("{root}{REST}");
        let token_url = format!("{root}/oauth/token");
        let rest_url = wire::rest_url(&login_url, &caller.org);
        let mut env = Map::new();
        env.insert("BULLHORN_CLIENT_ID".into(), Value::from(session::CLIENT.id));
        env.insert(
            "BULLHORN_CLIENT_SECRET".into(),
            Value::from(session::CLIENT.secret),
        );
        let mut credentials = Map::new();
        credentials.insert("clientId".into(), Value::from(session::CLIENT.id));
        credentials.insert("clientSecret".into(), Value::from(session::CLIENT.secret));
        credentials.insert("code".into(), Value::from(user.secret(CODE)));
        credentials.insert("accessToken".into(), Value::from(user.secret(ACCESS_TOKEN)));
        credentials.insert(
            "refreshToken".into(),
            Value::from(user.secret(REFRESH_TOKEN)),
        );
        credentials.insert("username".into(), Value::from(caller.user_id.clone()));
        CrmConnection {
            name: NAME,
            base_url: login_url.clone(),
            env,
            user: json!({
                // App Connect's id for a Bullhorn user: its masterUserID.
                "id": format!("{}-bullhorn", caller.user_number),
                "hostname": place.http.split_once("://").map_or(place.http.as_str(), |(_, rest)| rest),
                // Minutes, as the connector computes it from
                // timeZoneOffsetEST.
                "timezoneOffset": wire::utc_offset_minutes(caller.timezone_offset.as_deref()),
                "accessToken": user.secret(ACCESS_TOKEN),
                "refreshToken": user.secret(REFRESH_TOKEN),
                "platformAdditionalInfo": {
                    "id": caller.user_number,
                    "tokenUrl": token_url,
                    "loginUrl": login_url,
                    "restUrl": rest_url,
                    "bhRestToken": user.secret(SESSION),
                },
            }),
            credentials,
            hosts: self.hosts().to_vec(),
            ca_file: None,
        }
    }

    fn credential(&self, request: &ApiRequest) -> Option<Credential> {
        session::credential(request)
    }

    fn answer<'a>(
        &'a self,
        state: &'a AppState,
        request: &'a ApiRequest,
        path: &'a str,
        caller: Option<&'a Caller>,
    ) -> Answering<'a> {
        Box::pin(async move { routes::answer(state, request, path, caller).await })
    }

    fn error_answer(&self, error: ApiError) -> ApiResponse {
        errors::BullhornError::from(error).into_response()
    }

    fn openapi(&self) -> Value {
        openapi::document()
    }
}
