//! The Insightly face's routes: the table of what it serves (the part of
//! Insightly's v3.1 API App Connect's connector calls), matched without
//! regard to case as Insightly's own routes are (`/Contacts` and
//! `/contacts` alike: the connector builds `/${LINK_OBJECT_NAME}s/{id}`
//! from a link's name), and the dispatch to the handlers. A path the
//! table lacks is Insightly's 404 with the served routes in
//! `x-mockcrm-hint`; no route answers before the caller is known.

use warp::http::Method;

use super::errors::{Answer, InsightlyError};
use super::wire::Kind;
use super::{contacts, events, users, VERSION};
use crate::store::Caller;
use crate::web::table::{self, Resolution, Route};
use crate::web::{ApiRequest, AppState};

/// What a row of the table stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Me,
    Users,
    Search(Kind),
    GetPerson(Kind),
    CreatePerson(Kind),
    CreateEvent,
    SearchEvents,
    UpdateEvent,
    GetEvent,
    EventLinks,
    LinkEvent,
}

const fn row(method: Method, path: &'static str, endpoint: Op) -> Route<Op> {
    Route {
        method,
        path,
        endpoint,
    }
}

/// Every route served, below the mount; paths in lower case (requests are
/// matched in lower case), `{id}` an integer.
pub const ROUTES: [Route<Op>; 14] = [
    row(Method::GET, "/v3.1/users/me", Op::Me),
    row(Method::GET, "/v3.1/users", Op::Users),
    row(
        Method::GET,
        "/v3.1/contacts/search",
        Op::Search(Kind::Contact),
    ),
    row(
        Method::POST,
        "/v3.1/contacts",
        Op::CreatePerson(Kind::Contact),
    ),
    row(
        Method::GET,
        "/v3.1/contacts/{id}",
        Op::GetPerson(Kind::Contact),
    ),
    row(Method::GET, "/v3.1/leads/search", Op::Search(Kind::Lead)),
    row(Method::POST, "/v3.1/leads", Op::CreatePerson(Kind::Lead)),
    row(Method::GET, "/v3.1/leads/{id}", Op::GetPerson(Kind::Lead)),
    row(Method::POST, "/v3.1/events", Op::CreateEvent),
    row(Method::PUT, "/v3.1/events", Op::UpdateEvent),
    row(Method::GET, "/v3.1/events/search", Op::SearchEvents),
    row(Method::GET, "/v3.1/events/{id}", Op::GetEvent),
    row(Method::GET, "/v3.1/events/{id}/links", Op::EventLinks),
    row(Method::POST, "/v3.1/events/{id}/links", Op::LinkEvent),
];

/// Answers a request whose path below the mount is `path`.
pub async fn answer(
    state: &AppState,
    request: &ApiRequest,
    path: &str,
    caller: Option<&Caller>,
) -> Answer {
    // Ids are digits, so lower-casing the whole path changes only names.
    let lowered = path.to_ascii_lowercase();
    let lowered = match lowered.strip_suffix('/') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => lowered.as_str(),
    };
    let (op, params) = match table::resolve(&ROUTES, &request.method, lowered) {
        Resolution::Found { endpoint, params } => (endpoint, params),
        Resolution::WrongMethod { allowed } => {
            return Err(InsightlyError::WrongMethod {
                method: request.method.to_string(),
                allowed,
            })
        }
        Resolution::NotFound => {
            return Err(InsightlyError::NoRoute {
                path: path.to_owned(),
                hint: hint(&request.method, lowered),
            })
        }
    };
    let caller = caller.ok_or(InsightlyError::Unauthorized)?;
    let id = params.first().map(String::as_str).unwrap_or_default();
    match op {
        Op::Me => users::me(caller),
        Op::Users => users::list(state, caller).await,
        Op::Search(kind) => contacts::search(state, caller, request, kind).await,
        Op::GetPerson(kind) => contacts::get(state, caller, kind, id).await,
        Op::CreatePerson(kind) => contacts::create(state, caller, request, kind).await,
        Op::CreateEvent => events::create(state, caller, request).await,
        Op::UpdateEvent => events::update(state, caller, request).await,
        Op::SearchEvents => events::search(state, caller, request).await,
        Op::GetEvent => events::get(state, caller, id).await,
        Op::EventLinks => events::links(state, caller, id).await,
        Op::LinkEvent => events::link(state, caller, request, id).await,
    }
}

/// What the hint header says: the nearest served route, when the path
/// looks like a typo of one, and every route served.
fn hint(method: &Method, path: &str) -> String {
    let served = table::listing(&ROUTES, "");
    let version = format!("/{VERSION}/");
    let nearest = match table::closest(ROUTES.iter(), method, path) {
        Some(nearest) => format!("did you mean {nearest}? "),
        None if !path.starts_with(&version) => {
            format!("Insightly's paths start with {version}; ")
        }
        None => String::new(),
    };
    format!("{nearest}mockcrm's Insightly face serves (below /insightly on mockcrm's own address): {served}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_in_any_case_and_search_is_not_an_id() {
        let found = |method: Method, path: &str| match table::resolve(&ROUTES, &method, path) {
            Resolution::Found { endpoint, .. } => Some(endpoint),
            _ => None,
        };
        assert_eq!(
            found(Method::GET, "/v3.1/contacts/search"),
            Some(Op::Search(Kind::Contact))
        );
        assert_eq!(
            found(Method::GET, "/v3.1/leads/42"),
            Some(Op::GetPerson(Kind::Lead))
        );
        assert_eq!(found(Method::PUT, "/v3.1/events"), Some(Op::UpdateEvent));
        assert_eq!(
            found(Method::GET, "/v3.1/events/search"),
            Some(Op::SearchEvents)
        );
        assert_eq!(found(Method::GET, "/v3.1/events/7"), Some(Op::GetEvent));
        assert_eq!(found(Method::DELETE, "/v3.1/events"), None);
    }

    #[test]
    fn the_hint_names_every_route_and_a_near_miss() {
        let text = hint(&Method::GET, "/v3.1/contact/search");
        assert!(
            text.starts_with("did you mean GET /v3.1/contacts/search?"),
            "{text}"
        );
        for route in &ROUTES {
            assert!(text.contains(route.path), "{text} lacks {}", route.path);
        }
        let text = hint(&Method::GET, "/users/me");
        assert!(text.contains("start with /v3.1/"), "{text}");
    }
}
