//! The review page (served at `/` and under `/__review/`): what connectors
//! wrote, shown to a person in a browser. Activities with their bodies
//! rendered as a CRM shows them, their revisions compared line by line,
//! the request journal updating live, faults, and checks.
//!
//! Server-rendered HTML (maud) with one small script for the live journal;
//! the stylesheet and the script are compiled into the binary and served
//! from here, so nothing is fetched from the network. Every byte a
//! connector wrote reaches the page either escaped (maud) or sanitised
//! (`body.rs`, ammonia), and every answer carries a Content-Security-Policy
//! that runs no inline script, so a body's `<script>` never runs in the
//! reviewer's browser. Who may look, and which POSTs are trusted, is
//! `access.rs`. Handlers parse, call the store or the harness, and answer;
//! nothing here writes an activity, and these requests are not journaled.

mod access;
mod activities;
mod answers;
mod assets;
mod body;
mod checks;
mod conversation;
mod diff;
mod faults;
mod layout;
mod login;
mod requests;

use std::net::SocketAddr;

pub use access::Access;

use crate::web::{ApiError, ApiRequest, AppState};

/// Where the page's own routes live (besides `/`): a prefix no CRM route
/// and no App Connect proxy config is expected to take.
pub const PREFIX: &str = "/__review";

/// What the page keeps for a running server.
pub struct PageState {
    pub access: Access,
}

impl PageState {
    /// For a server listening on `addr` (the bound address, real port)
    /// with admin key `admin_key`.
    pub fn new(addr: SocketAddr, admin_key: &str) -> PageState {
        PageState {
            access: Access::new(addr, admin_key),
        }
    }
}

/// Whether `path` is one of the page's.
pub fn is_page_path(path: &str) -> bool {
    path == "/" || path == PREFIX || path.starts_with("/__review/")
}

/// One page route, resolved.
#[derive(Debug, PartialEq)]
enum Route {
    Activities,
    Activity(String),
    Requests,
    RequestFeed,
    Request(String),
    Faults,
    AddFault,
    RemoveFault(String),
    Checks,
    LoginForm,
    Login,
    Logout,
    Asset(String),
}

impl Route {
    /// Reachable without being logged in: the login form and what it is
    /// styled with.
    fn is_public(&self) -> bool {
        matches!(self, Route::LoginForm | Route::Login | Route::Asset(_))
    }
}

/// The route for a method and path, or the 404 or 405 (with `Allow`) it
/// earns.
fn resolve(method: &str, path: &str) -> Result<Route, ApiError> {
    let not_found = || {
        ApiError::NotFound(format!(
            "no review page at {path}; the review page starts at /"
        ))
    };
    let segments: Vec<String> = if path == "/" {
        Vec::new()
    } else {
        crate::web::table::decoded_segments(path.strip_prefix(PREFIX).unwrap_or(path))
    };
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    let found: Option<(&str, Route)> = match (method, parts.as_slice()) {
        (_, []) if path == "/" => Some(("GET", Route::Activities)),
        ("GET", ["activities", id]) if !id.is_empty() => {
            Some(("GET", Route::Activity((*id).to_owned())))
        }
        (_, ["requests"]) => Some(("GET", Route::Requests)),
        (_, ["requests", "feed"]) => Some(("GET", Route::RequestFeed)),
        (_, ["requests", id]) if !id.is_empty() => Some(("GET", Route::Request((*id).to_owned()))),
        ("POST", ["faults"]) => Some(("POST", Route::AddFault)),
        (_, ["faults"]) => Some(("GET, POST", Route::Faults)),
        (_, ["faults", id, "remove"]) if !id.is_empty() => {
            Some(("POST", Route::RemoveFault((*id).to_owned())))
        }
        (_, ["checks"]) => Some(("GET", Route::Checks)),
        ("POST", ["login"]) => Some(("POST", Route::Login)),
        (_, ["login"]) => Some(("GET, POST", Route::LoginForm)),
        (_, ["logout"]) => Some(("POST", Route::Logout)),
        (_, ["assets", name]) if !name.is_empty() => {
            Some(("GET", Route::Asset((*name).to_owned())))
        }
        (_, ["activities", id]) if !id.is_empty() => Some(("GET", Route::Activity(String::new()))),
        _ => None,
    };
    let (allowed, route) = found.ok_or_else(not_found)?;
    if allowed.split(", ").any(|allowed| allowed == method) {
        Ok(route)
    } else {
        Err(ApiError::MethodNotAllowed {
            method: method.to_owned(),
            path: path.to_owned(),
            allowed: allowed.to_owned(),
        })
    }
}

/// Answers one request for the page.
pub async fn handle(
    state: &AppState,
    page: &PageState,
    request: &ApiRequest,
) -> warp::reply::Response {
    match answer(state, &page.access, request).await {
        Ok(response) => response,
        Err(error) => error.into_response().into_warp(),
    }
}

async fn answer(
    state: &AppState,
    access: &Access,
    request: &ApiRequest,
) -> Result<warp::reply::Response, ApiError> {
    access.check_host(request)?;
    let route = resolve(request.method.as_str(), &request.path)?;
    let viewer = access.viewer(request);
    if !route.is_public() && !viewer.allowed {
        return Ok(login::required(request));
    }
    if request.method == warp::http::Method::POST {
        access.check_post(request)?;
    }
    match route {
        Route::Activities => activities::list(state, request, &viewer).await,
        Route::Activity(id) => activities::one(state, request, &viewer, id).await,
        Route::Requests => requests::list(state, &viewer),
        Route::RequestFeed => requests::feed(state, request),
        Route::Request(id) => requests::one(state, &viewer, &id),
        Route::Faults => faults::list(state, &viewer),
        Route::AddFault => faults::add(state, request, &viewer),
        Route::RemoveFault(id) => faults::remove(state, &id),
        Route::Checks => checks::list(state, &viewer).await,
        Route::LoginForm => Ok(login::form(request, &viewer, None)),
        Route::Login => Ok(login::login(access, request, &viewer)),
        Route::Logout => Ok(login::logout()),
        Route::Asset(name) => assets::serve(&name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_resolve_and_wrong_methods_name_the_right_ones() {
        assert_eq!(resolve("GET", "/"), Ok(Route::Activities));
        assert_eq!(
            resolve("GET", "/__review/activities/act%5F1"),
            Ok(Route::Activity("act_1".into()))
        );
        assert_eq!(
            resolve("POST", "/__review/faults/flt_1/remove"),
            Ok(Route::RemoveFault("flt_1".into()))
        );
        assert_eq!(resolve("POST", "/__review/faults"), Ok(Route::AddFault));
        assert!(matches!(
            resolve("DELETE", "/"),
            Err(ApiError::MethodNotAllowed { allowed, .. }) if allowed == "GET"
        ));
        assert!(matches!(
            resolve("PUT", "/__review/faults"),
            Err(ApiError::MethodNotAllowed { allowed, .. }) if allowed == "GET, POST"
        ));
        for path in [
            "/__review",
            "/__review/",
            "/__review/nope",
            "/__review/activities/",
        ] {
            assert!(
                matches!(resolve("GET", path), Err(ApiError::NotFound(_))),
                "{path}"
            );
        }
    }
}
