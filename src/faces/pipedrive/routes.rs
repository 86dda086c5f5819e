//! The Pipedrive routes this face serves, as data (`web::table`), and the
//! dispatch from a route to its handler. A route missing here is
//! Pipedrive's 404 with the served routes in `x-mockcrm-hint`; the OpenAPI
//! part is checked against the same rows.

use warp::http::Method;

use super::errors::{Answer, PipedriveError, TokenProblem};
use super::{activities, oauth, persons, wire};
use crate::store::Caller;
use crate::web::table::{self, Resolution, Route};
use crate::web::{ApiRequest, ApiResponse, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Revoke,
    Me,
    Users,
    ActivityTypes,
    SearchPersons,
    GetPerson,
    CreatePerson,
    Deals,
    Leads,
    CreateActivity,
    ListActivities,
    GetActivity,
    UpdateActivity,
}

impl Endpoint {
    /// Whether the route takes a Bearer access token (the OAuth server's
    /// take the client's Basic credentials instead).
    pub fn needs_token(self) -> bool {
        !matches!(self, Endpoint::Token | Endpoint::Revoke)
    }
}

const fn route(method: Method, path: &'static str, endpoint: Endpoint) -> Route<Endpoint> {
    Route {
        method,
        path,
        endpoint,
    }
}

/// Every route, with the `/v1` and `/api/v1` spellings Pipedrive takes
/// for the same API v1 route; the search before `persons/{id}`, which
/// would take it.
pub const ROUTES: [Route<Endpoint>; 19] = [
    route(Method::POST, "/oauth/token", Endpoint::Token),
    route(Method::POST, "/oauth/revoke", Endpoint::Revoke),
    route(Method::GET, "/v1/users/me", Endpoint::Me),
    route(Method::GET, "/api/v1/users/me", Endpoint::Me),
    route(Method::GET, "/v1/users", Endpoint::Users),
    route(Method::GET, "/api/v1/users", Endpoint::Users),
    route(Method::GET, "/v1/activityTypes", Endpoint::ActivityTypes),
    route(
        Method::GET,
        "/api/v1/activityTypes",
        Endpoint::ActivityTypes,
    ),
    route(
        Method::GET,
        "/api/v2/persons/search",
        Endpoint::SearchPersons,
    ),
    route(Method::GET, "/api/v2/persons/{id}", Endpoint::GetPerson),
    route(Method::POST, "/v1/persons", Endpoint::CreatePerson),
    route(Method::POST, "/api/v1/persons", Endpoint::CreatePerson),
    route(Method::GET, "/api/v2/deals", Endpoint::Deals),
    route(Method::GET, "/v1/leads", Endpoint::Leads),
    route(Method::GET, "/api/v1/leads", Endpoint::Leads),
    route(Method::POST, "/api/v2/activities", Endpoint::CreateActivity),
    route(Method::GET, "/api/v2/activities", Endpoint::ListActivities),
    route(
        Method::GET,
        "/api/v2/activities/{id}",
        Endpoint::GetActivity,
    ),
    route(
        Method::PATCH,
        "/api/v2/activities/{id}",
        Endpoint::UpdateActivity,
    ),
];

/// The served routes, for `x-mockcrm-hint`.
fn served() -> String {
    table::listing(&ROUTES, "")
}

/// Answers `request` (path below the mount), from `caller`; `token_problem`
/// says why there is no caller when a token was sent.
pub async fn answer(
    state: &AppState,
    request: &ApiRequest,
    path: &str,
    caller: Option<&Caller>,
    token_problem: TokenProblem,
) -> ApiResponse {
    match table::resolve(&ROUTES, &request.method, path) {
        Resolution::NotFound => PipedriveError::UnknownRoute {
            method: request.method.to_string(),
            path: path.to_owned(),
            served: served(),
        }
        .into_response(),
        Resolution::WrongMethod { allowed } => PipedriveError::WrongMethod {
            method: request.method.to_string(),
            allowed,
        }
        .into_response(),
        Resolution::Found { endpoint, params } => {
            let id = params.first().map(String::as_str).unwrap_or_default();
            match (endpoint, caller) {
                (Endpoint::Token, _) => oauth::token(state, request).await,
                (Endpoint::Revoke, _) => oauth::revoke(state, request).await,
                (_, None) => PipedriveError::Unauthorized(token_problem).into_response(),
                (endpoint, Some(caller)) => run(state, request, endpoint, id, caller)
                    .await
                    .unwrap_or_else(PipedriveError::into_response),
            }
        }
    }
}

async fn run(
    state: &AppState,
    request: &ApiRequest,
    endpoint: Endpoint,
    id: &str,
    caller: &Caller,
) -> Answer {
    match endpoint {
        Endpoint::Me => Ok(ApiResponse::ok(wire::envelope(wire::user(caller)))),
        Endpoint::Users => persons::users(state, caller).await,
        Endpoint::ActivityTypes => Ok(ApiResponse::ok(wire::activity_types())),
        Endpoint::SearchPersons => persons::search(state, caller, request).await,
        Endpoint::GetPerson => persons::get(state, caller, id).await,
        Endpoint::CreatePerson => persons::create(state, caller, request).await,
        Endpoint::Deals => persons::deals(state, caller, request).await,
        Endpoint::Leads => persons::leads(state, caller, request).await,
        Endpoint::CreateActivity => activities::create(state, caller, request).await,
        Endpoint::ListActivities => activities::list(state, caller, request).await,
        Endpoint::GetActivity => activities::get(state, caller, id).await,
        Endpoint::UpdateActivity => activities::update(state, caller, request, id).await,
        // Answered before a caller is needed.
        Endpoint::Token | Endpoint::Revoke => Err(PipedriveError::NotFound("Not found".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_is_not_taken_for_a_person_id() {
        assert_eq!(
            table::resolve(&ROUTES, &Method::GET, "/api/v2/persons/search"),
            Resolution::Found {
                endpoint: Endpoint::SearchPersons,
                params: vec![],
            }
        );
        assert!(matches!(
            table::resolve(&ROUTES, &Method::GET, "/v1/users/me"),
            Resolution::Found {
                endpoint: Endpoint::Me,
                ..
            }
        ));
        assert!(matches!(
            table::resolve(&ROUTES, &Method::DELETE, "/api/v2/activities/1"),
            Resolution::WrongMethod { .. }
        ));
    }
}
