//! The documented route table: every method and path of the native API,
//! the admin API and the OpenAPI document, as data (`web::table`).
//!
//! The native and admin faces route by `resolve`, so a path or method
//! missing here is a 404 or a 405 by construction, and the `Allow` header
//! of a 405 is read off the same rows. `tests/suite/openapi.rs` checks this
//! table against the OpenAPI document both ways; keeping it as data is what
//! makes that check possible without a second, hand-kept list. It is not a
//! face: the faces it lists, and the front, read it.

use warp::http::Method;

pub use crate::web::table::Resolution;
use crate::web::table::{self, Route};
use crate::web::{ApiError, ApiRequest};

/// One operation the server performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Crm(Crm),
    Admin(Admin),
    /// `GET /openapi.json`.
    OpenApi,
}

/// The CRM API (README.md, "HTTP API").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crm {
    Health,
    Me,
    ListUsers,
    CreateContact,
    FindContacts,
    GetContact,
    CreateActivity,
    ListActivities,
    GetActivity,
    UpdateActivity,
    DeleteActivity,
}

/// The `/__admin/` API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Admin {
    Reset,
    ListRequests,
    ClearRequests,
    AddFault,
    ListFaults,
    ClearFaults,
    DeleteFault,
    Checks,
    ListActivities,
    ActivityRevisions,
    CreateTenant,
    ListTenants,
    DeleteTenant,
    Crms,
    ExpireTokens,
}

/// Which credentials a route needs, as the OpenAPI document states them.
/// The dispatchers decide by area (`handle`); the document's test checks
/// this against both.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    None,
    /// A user's API key, as Bearer or Basic.
    ApiKey,
    /// The server's admin key, as Bearer.
    AdminKey,
}

#[cfg(test)]
impl Endpoint {
    pub fn auth(self) -> Auth {
        match self {
            Endpoint::Crm(Crm::Health) | Endpoint::OpenApi => Auth::None,
            Endpoint::Crm(_) => Auth::ApiKey,
            Endpoint::Admin(_) => Auth::AdminKey,
        }
    }
}

const fn crm(method: Method, path: &'static str, operation: Crm) -> Route<Endpoint> {
    Route {
        method,
        path,
        endpoint: Endpoint::Crm(operation),
    }
}

const fn admin(method: Method, path: &'static str, operation: Admin) -> Route<Endpoint> {
    Route {
        method,
        path,
        endpoint: Endpoint::Admin(operation),
    }
}

/// The liveness route, which needs no key and never waits for the store.
pub const HEALTH_PATH: &str = "/health";

/// The path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Every route, grouped by path. Within a path the order is the order of
/// the `Allow` header.
pub static ROUTES: [Route<Endpoint>; 27] = [
    crm(Method::GET, HEALTH_PATH, Crm::Health),
    crm(Method::GET, "/me", Crm::Me),
    crm(Method::GET, "/users", Crm::ListUsers),
    crm(Method::GET, "/contact", Crm::FindContacts),
    crm(Method::POST, "/contact", Crm::CreateContact),
    crm(Method::GET, "/contact/{id}", Crm::GetContact),
    crm(Method::GET, "/activity", Crm::ListActivities),
    crm(Method::POST, "/activity", Crm::CreateActivity),
    crm(Method::GET, "/activity/{id}", Crm::GetActivity),
    crm(Method::PATCH, "/activity/{id}", Crm::UpdateActivity),
    crm(Method::DELETE, "/activity/{id}", Crm::DeleteActivity),
    Route {
        method: Method::GET,
        path: OPENAPI_PATH,
        endpoint: Endpoint::OpenApi,
    },
    admin(Method::POST, "/__admin/reset", Admin::Reset),
    admin(Method::GET, "/__admin/requests", Admin::ListRequests),
    admin(Method::DELETE, "/__admin/requests", Admin::ClearRequests),
    admin(Method::GET, "/__admin/faults", Admin::ListFaults),
    admin(Method::POST, "/__admin/faults", Admin::AddFault),
    admin(Method::DELETE, "/__admin/faults", Admin::ClearFaults),
    admin(Method::DELETE, "/__admin/faults/{id}", Admin::DeleteFault),
    admin(Method::GET, "/__admin/checks", Admin::Checks),
    admin(Method::GET, "/__admin/activities", Admin::ListActivities),
    admin(
        Method::GET,
        "/__admin/activities/{id}/revisions",
        Admin::ActivityRevisions,
    ),
    admin(Method::GET, "/__admin/tenants", Admin::ListTenants),
    admin(Method::POST, "/__admin/tenants", Admin::CreateTenant),
    admin(Method::DELETE, "/__admin/tenants/{id}", Admin::DeleteTenant),
    admin(Method::GET, "/__admin/crms", Admin::Crms),
    admin(Method::POST, "/__admin/tokens/expire", Admin::ExpireTokens),
];

/// Whether `path` is the admin API's: tooling that must never show up in
/// what a test inspects.
pub fn is_admin_path(path: &str) -> bool {
    path == "/__admin" || path.starts_with("/__admin/")
}

pub fn resolve(method: &Method, path: &str) -> Resolution<Endpoint> {
    // Admin paths have always tolerated a trailing slash (`/__admin/faults/`),
    // which scripts tend to add; the CRM API answers those with 404.
    let path = if is_admin_path(path) {
        path.trim_end_matches('/')
    } else {
        path
    };
    table::resolve(&ROUTES, method, path)
}

/// The route a mistyped request most likely meant, as `METHOD /template`,
/// from the same part of the table as `path` (admin or not).
pub fn closest(method: &Method, path: &str) -> Option<String> {
    let admin = is_admin_path(path);
    table::closest(
        ROUTES
            .iter()
            .filter(|route| is_admin_path(route.path) == admin),
        method,
        path,
    )
}

/// The endpoint a resolved request reaches in one part of the table
/// (`pick` keeps that part's endpoints), or the 405 or 404 it earns instead.
pub fn resolved<T>(
    request: &ApiRequest,
    resolution: Resolution<Endpoint>,
    pick: impl FnOnce(Endpoint) -> Option<T>,
) -> Result<(T, Vec<String>), ApiError> {
    let not_found = || no_route(request);
    match resolution {
        Resolution::Found { endpoint, params } => {
            pick(endpoint).map(|t| (t, params)).ok_or_else(not_found)
        }
        Resolution::WrongMethod { allowed } => Err(ApiError::MethodNotAllowed {
            method: request.method.to_string(),
            path: request.path.clone(),
            allowed,
        }),
        Resolution::NotFound => Err(not_found()),
    }
}

/// The 404 for a path no route has: the route it probably meant, and
/// where every route is listed.
pub fn no_route(request: &ApiRequest) -> ApiError {
    let guess = closest(&request.method, &request.path)
        .map(|route| format!(" (did you mean {route}?)"))
        .unwrap_or_default();
    ApiError::NotFound(format!(
        "no route {} {}{guess}; every route is listed at GET /openapi.json",
        request.method, request.path
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_admin_route_is_under_the_admin_prefix_and_no_other() {
        for route in &ROUTES {
            let admin = matches!(route.endpoint, Endpoint::Admin(_));
            assert_eq!(is_admin_path(route.path), admin, "{}", route.path);
        }
    }

    #[test]
    fn methods_and_paths_are_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    a.method != b.method || a.path != b.path,
                    "{} {} twice",
                    a.method,
                    a.path
                );
                assert_ne!(a.endpoint, b.endpoint, "{} and {}", a.path, b.path);
            }
        }
    }

    #[test]
    fn a_near_miss_names_the_route_it_was_probably_meant_for() {
        let closest = |method: Method, path: &str| closest(&method, path);
        assert_eq!(
            closest(Method::GET, "/activty"),
            Some("GET /activity".into())
        );
        assert_eq!(
            closest(Method::PATCH, "/activities/act_1"),
            Some("PATCH /activity/{id}".into())
        );
        assert_eq!(
            closest(Method::POST, "/contacts"),
            Some("POST /contact".into())
        );
        assert_eq!(
            closest(Method::GET, "/__admin/fault"),
            Some("GET /__admin/faults".into())
        );
        // Nothing like any route, and always a route of the same area.
        assert_eq!(closest(Method::GET, "/completely/elsewhere/entirely"), None);
        assert_eq!(
            closest(Method::GET, "/__admin/activity"),
            Some("GET /__admin/activities".into())
        );
    }

    #[test]
    fn templates_match_one_decoded_segment_per_parameter() {
        assert_eq!(
            resolve(&Method::PATCH, "/activity/act%5F1"),
            Resolution::Found {
                endpoint: Endpoint::Crm(Crm::UpdateActivity),
                params: vec!["act_1".into()],
            }
        );
        assert_eq!(
            resolve(&Method::PUT, "/activity/x"),
            Resolution::WrongMethod {
                allowed: "GET, PATCH, DELETE".into()
            }
        );
        for path in [
            "/activity/",
            "/activity/a/b",
            "/",
            "/__admin",
            "/__admin/nope",
        ] {
            assert_eq!(resolve(&Method::GET, path), Resolution::NotFound, "{path}");
        }
        assert_eq!(
            resolve(&Method::GET, "/__admin/faults/"),
            Resolution::Found {
                endpoint: Endpoint::Admin(Admin::ListFaults),
                params: vec![],
            }
        );
    }
}
