//! The Bullhorn routes this face serves, as data (`web::table`), and the
//! dispatch from a route to its handler. Every REST route sits below a
//! corporation's `restUrl` and needs a session of that corporation; the
//! OAuth server's token endpoint and `/login` do not. A route missing here
//! is Bullhorn's 404 with the served routes in `x-mockcrm-hint`; the
//! OpenAPI part is built from the same rows.

use warp::http::Method;

use super::errors::{Answer, BullhornError};
use super::{notes, people, session};
use crate::store::Caller;
use crate::web::table::{self, Resolution, Route};
use crate::web::{ApiRequest, ApiResponse, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    Login,
    Ping,
    Settings,
    Meta,
    Search,
    Create,
    Get,
    Update,
    Query,
}

const fn route(method: Method, path: &'static str, endpoint: Endpoint) -> Route<Endpoint> {
    Route {
        method,
        path,
        endpoint,
    }
}

/// Every route, below the mount (or at the root of Bullhorn's hosts).
pub const ROUTES: [Route<Endpoint>; 12] = [
    route(Method::POST, "/oauth/token", Endpoint::Token),
    route(Method::POST, "/rest-services/login", Endpoint::Login),
    route(Method::GET, "/rest-services/login", Endpoint::Login),
    route(
        Method::GET,
        "/rest-services/{corpToken}/ping",
        Endpoint::Ping,
    ),
    route(
        Method::GET,
        "/rest-services/{corpToken}/settings/{settings}",
        Endpoint::Settings,
    ),
    route(
        Method::GET,
        "/rest-services/{corpToken}/meta/{entity}",
        Endpoint::Meta,
    ),
    route(
        Method::POST,
        "/rest-services/{corpToken}/search/{entity}",
        Endpoint::Search,
    ),
    route(
        Method::GET,
        "/rest-services/{corpToken}/search/{entity}",
        Endpoint::Search,
    ),
    route(
        Method::PUT,
        "/rest-services/{corpToken}/entity/{entity}",
        Endpoint::Create,
    ),
    route(
        Method::GET,
        "/rest-services/{corpToken}/entity/{entity}/{id}",
        Endpoint::Get,
    ),
    route(
        Method::POST,
        "/rest-services/{corpToken}/entity/{entity}/{id}",
        Endpoint::Update,
    ),
    route(
        Method::GET,
        "/rest-services/{corpToken}/query/{entity}",
        Endpoint::Query,
    ),
];

/// The served routes, for `x-mockcrm-hint`.
fn served() -> String {
    table::listing(&ROUTES, "")
}

/// Answers `request` (path below the mount), from `caller`.
pub async fn answer(
    state: &AppState,
    request: &ApiRequest,
    path: &str,
    caller: Option<&Caller>,
) -> ApiResponse {
    let answered = match table::resolve(&ROUTES, &request.method, path) {
        Resolution::NotFound => Err(BullhornError::UnknownRoute {
            method: request.method.to_string(),
            path: path.to_owned(),
            served: served(),
        }),
        Resolution::WrongMethod { allowed } => Err(BullhornError::WrongMethod {
            method: request.method.to_string(),
            allowed,
        }),
        Resolution::Found { endpoint, params } => match endpoint {
            Endpoint::Token => session::token(state, request).await,
            Endpoint::Login => session::login(state, request, path, caller).await,
            endpoint => match caller {
                // A session is a corporation's: another's restUrl is refused.
                Some(caller) if params.first().map(String::as_str) == Some(&*caller.org) => {
                    run(state, request, endpoint, &params[1..], caller).await
                }
                _ => Err(BullhornError::BadSession),
            },
        },
    };
    answered.unwrap_or_else(BullhornError::into_response)
}

async fn run(
    state: &AppState,
    request: &ApiRequest,
    endpoint: Endpoint,
    params: &[String],
    caller: &Caller,
) -> Answer {
    let entity = params.first().map(String::as_str).unwrap_or_default();
    let id = params.get(1).map(String::as_str).unwrap_or_default();
    match endpoint {
        Endpoint::Ping => session::ping(state, request).await,
        Endpoint::Settings => people::settings(entity),
        Endpoint::Meta => people::meta(request, &session::rest_url_of(request), entity),
        Endpoint::Search => people::search(state, caller, request, entity).await,
        Endpoint::Create if entity == "Note" => notes::create(state, caller, request).await,
        Endpoint::Create => people::create(state, caller, request, entity).await,
        Endpoint::Get if entity == "Note" => notes::get(state, caller, request, id).await,
        Endpoint::Get => people::get(state, caller, request, entity, id).await,
        Endpoint::Update if entity == "Note" => notes::update(state, caller, request, id).await,
        Endpoint::Update => Err(BullhornError::BadRequest(format!(
            "This face updates Notes only, not {entity}: mockcrm keeps a contact's name, phone \
             and email as created"
        ))),
        Endpoint::Query if entity == "Note" => notes::query(state, caller, request).await,
        Endpoint::Query => people::query_users(state, caller, request, entity).await,
        // Answered before a session is needed.
        Endpoint::Token | Endpoint::Login => Err(BullhornError::BadSession),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_is_not_taken_for_a_corporation() {
        assert!(matches!(
            table::resolve(&ROUTES, &Method::POST, "/rest-services/login"),
            Resolution::Found {
                endpoint: Endpoint::Login,
                ..
            }
        ));
        assert_eq!(
            table::resolve(&ROUTES, &Method::GET, "/rest-services/org_1/entity/Note/5"),
            Resolution::Found {
                endpoint: Endpoint::Get,
                params: vec!["org_1".into(), "Note".into(), "5".into()],
            }
        );
        assert!(matches!(
            table::resolve(
                &ROUTES,
                &Method::DELETE,
                "/rest-services/org_1/entity/Note/5"
            ),
            Resolution::WrongMethod { .. }
        ));
    }
}
