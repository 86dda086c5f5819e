//! The Clio routes this face serves, as data (`web::table`), and the
//! dispatch from a route to its handler. A route missing here is Clio's 404
//! with the served routes in `x-mockcrm-hint`; the OpenAPI part is checked
//! against the same rows.

use warp::http::Method;

use super::errors::{Answer, ClioError, TokenProblem};
use super::{communication_list, communications, contacts, oauth};
use crate::store::Caller;
use crate::web::table::{self, Resolution, Route};
use crate::web::{ApiRequest, ApiResponse, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Deauthorize,
    WhoAmI,
    Users,
    SearchContacts,
    CreateContact,
    GetContact,
    Matters,
    Relationships,
    CreateCommunication,
    ListCommunications,
    GetCommunication,
    UpdateCommunication,
    TimeEntries,
    CreateTimeEntry,
    UpdateTimeEntry,
}

const fn route(method: Method, path: &'static str, endpoint: Endpoint) -> Route<Endpoint> {
    Route {
        method,
        path,
        endpoint,
    }
}

/// Every route. Clio takes its paths with and without `.json`; App
/// Connect's connector lists time entries without it and calls the rest
/// with it, which is what is served.
pub const ROUTES: [Route<Endpoint>; 17] = [
    route(Method::POST, "/oauth/token", Endpoint::Token),
    route(Method::POST, "/oauth/deauthorize", Endpoint::Deauthorize),
    route(Method::GET, "/api/v4/users/who_am_i.json", Endpoint::WhoAmI),
    route(Method::GET, "/api/v4/users.json", Endpoint::Users),
    route(
        Method::GET,
        "/api/v4/contacts.json",
        Endpoint::SearchContacts,
    ),
    route(
        Method::POST,
        "/api/v4/contacts.json",
        Endpoint::CreateContact,
    ),
    route(
        Method::GET,
        "/api/v4/contacts/{id}.json",
        Endpoint::GetContact,
    ),
    route(Method::GET, "/api/v4/matters.json", Endpoint::Matters),
    route(
        Method::GET,
        "/api/v4/relationships.json",
        Endpoint::Relationships,
    ),
    route(
        Method::POST,
        "/api/v4/communications.json",
        Endpoint::CreateCommunication,
    ),
    route(
        Method::GET,
        "/api/v4/communications.json",
        Endpoint::ListCommunications,
    ),
    route(
        Method::GET,
        "/api/v4/communications/{id}.json",
        Endpoint::GetCommunication,
    ),
    route(
        Method::PATCH,
        "/api/v4/communications/{id}.json",
        Endpoint::UpdateCommunication,
    ),
    route(
        Method::GET,
        "/api/v4/activities.json",
        Endpoint::TimeEntries,
    ),
    route(
        Method::POST,
        "/api/v4/activities.json",
        Endpoint::CreateTimeEntry,
    ),
    route(Method::GET, "/api/v4/activities", Endpoint::TimeEntries),
    route(
        Method::PATCH,
        "/api/v4/activities/{id}.json",
        Endpoint::UpdateTimeEntry,
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
        Resolution::NotFound => ClioError::UnknownRoute {
            method: request.method.to_string(),
            path: path.to_owned(),
            served: served(),
        }
        .into_response(),
        Resolution::WrongMethod { allowed } => ClioError::WrongMethod {
            method: request.method.to_string(),
            allowed,
        }
        .into_response(),
        Resolution::Found { endpoint, params } => {
            let id = params.first().map(String::as_str).unwrap_or_default();
            match (endpoint, caller) {
                (Endpoint::Token, _) => oauth::token(state, request).await,
                (Endpoint::Deauthorize, _) => oauth::deauthorize(state, request).await,
                (_, None) => ClioError::Unauthorized(token_problem).into_response(),
                (endpoint, Some(caller)) => run(state, request, endpoint, id, caller)
                    .await
                    .unwrap_or_else(ClioError::into_response),
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
        Endpoint::WhoAmI => contacts::who_am_i(caller, request),
        Endpoint::Users => contacts::users(state, caller, request).await,
        Endpoint::SearchContacts => contacts::search(state, caller, request).await,
        Endpoint::CreateContact => contacts::create(state, caller, request).await,
        Endpoint::GetContact => contacts::get(state, caller, request, id).await,
        Endpoint::Matters => contacts::matters(state, caller, request).await,
        Endpoint::Relationships => contacts::relationships(state, caller, request).await,
        Endpoint::CreateCommunication => communications::create(state, caller, request).await,
        Endpoint::ListCommunications => communication_list::list(state, caller, request).await,
        Endpoint::GetCommunication => communications::get(state, caller, request, id).await,
        Endpoint::UpdateCommunication => communications::update(state, caller, request, id).await,
        Endpoint::TimeEntries => communications::time_entries(state, caller, request).await,
        Endpoint::CreateTimeEntry => {
            communications::create_time_entry(state, caller, request).await
        }
        Endpoint::UpdateTimeEntry => {
            communications::update_time_entry(state, caller, request, id).await
        }
        // Answered before a caller is needed.
        Endpoint::Token | Endpoint::Deauthorize => Err(ClioError::NotFound("Not found".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_take_their_ids() {
        assert_eq!(
            table::resolve(&ROUTES, &Method::GET, "/api/v4/communications/12.json"),
            Resolution::Found {
                endpoint: Endpoint::GetCommunication,
                params: vec!["12".into()],
            }
        );
        assert!(matches!(
            table::resolve(&ROUTES, &Method::GET, "/api/v4/users/who_am_i.json"),
            Resolution::Found {
                endpoint: Endpoint::WhoAmI,
                ..
            }
        ));
        assert!(matches!(
            table::resolve(&ROUTES, &Method::DELETE, "/api/v4/communications/1.json"),
            Resolution::WrongMethod { .. }
        ));
        assert_eq!(
            table::resolve(&ROUTES, &Method::GET, "/api/v4/communications/1"),
            Resolution::NotFound
        );
    }
}
