//! The route table: every method and path the server answers, as data.
//!
//! The dispatchers route by `resolve`, so a path or method missing here is a
//! 404 or a 405 by construction, and the `Allow` header of a 405 is read off
//! the same rows. `tests/suite/openapi.rs` checks this table against the OpenAPI
//! document both ways; keeping it as data is what makes that check possible
//! without a second, hand-kept list.

use warp::http::Method;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    /// An OpenAPI path template: `{name}` stands for one non-empty segment.
    pub path: &'static str,
    pub endpoint: Endpoint,
}

const fn crm(method: Method, path: &'static str, operation: Crm) -> Route {
    Route {
        method,
        path,
        endpoint: Endpoint::Crm(operation),
    }
}

const fn admin(method: Method, path: &'static str, operation: Admin) -> Route {
    Route {
        method,
        path,
        endpoint: Endpoint::Admin(operation),
    }
}

/// Every route, grouped by path. Within a path the order is the order of
/// the `Allow` header.
pub static ROUTES: [Route; 25] = [
    crm(Method::GET, super::HEALTH_PATH, Crm::Health),
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
];

/// The path of the OpenAPI document.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Which part of the server a path belongs to. It decides what wraps the
/// answer (auth order, harness, journal), so it is known even for a path no
/// route matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The CRM API: rate-limited, faulted and journaled.
    Crm,
    /// `/__admin/`: tooling that must never show up in what a test inspects.
    Admin,
    /// The OpenAPI document: tooling too, for the same reason.
    Document,
    /// The review page (`/` and `/__review/…`), HTML for people: tooling
    /// as well, never journaled; it has its own routes (`page/mod.rs`).
    Page,
}

pub fn area(path: &str) -> Area {
    if path == "/__admin" || path.starts_with("/__admin/") {
        Area::Admin
    } else if path == OPENAPI_PATH {
        Area::Document
    } else if crate::page::is_page_path(path) {
        Area::Page
    } else {
        Area::Crm
    }
}

/// What the table says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// `params` are the `{…}` segments, percent-decoded, in order.
    Found {
        endpoint: Endpoint,
        params: Vec<String>,
    },
    /// The path exists but not with this method; `allowed` is the `Allow`
    /// header's value.
    WrongMethod {
        allowed: String,
    },
    NotFound,
}

/// A path's segments, percent-decoded (invalid UTF-8 replaced), as every
/// route table matches them: `/contact/a%20b` is `["contact", "a b"]`.
pub(crate) fn decoded_segments(path: &str) -> Vec<String> {
    path.trim_start_matches('/')
        .split('/')
        .map(|segment| {
            percent_encoding::percent_decode_str(segment)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

pub fn resolve(method: &Method, path: &str) -> Resolution {
    // Admin paths have always tolerated a trailing slash (`/__admin/faults/`),
    // which scripts tend to add; the CRM API answers those with 404.
    let path = match area(path) {
        Area::Admin => path.trim_end_matches('/'),
        Area::Crm | Area::Document | Area::Page => path,
    };
    let segments = decoded_segments(path);
    let mut allowed: Vec<&str> = Vec::new();
    for candidate in &ROUTES {
        let Some(params) = match_template(candidate.path, &segments) else {
            continue;
        };
        if candidate.method == *method {
            return Resolution::Found {
                endpoint: candidate.endpoint,
                params,
            };
        }
        allowed.push(candidate.method.as_str());
    }
    if allowed.is_empty() {
        Resolution::NotFound
    } else {
        Resolution::WrongMethod {
            allowed: allowed.join(", "),
        }
    }
}

/// The route a mistyped request most likely meant, as `METHOD /template`,
/// from the same area as `path`: the nearest path by edit distance (a
/// template's parameters count as matching the request's segments there),
/// a route with the request's method winning a tie. `None` when nothing is
/// near enough to be a plausible typo.
pub fn closest(method: &Method, path: &str) -> Option<String> {
    let wanted = area(path);
    let path = path.trim_end_matches('/');
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    ROUTES
        .iter()
        .filter(|route| area(route.path) == wanted)
        .map(|route| {
            let parts: Vec<&str> = route.path.trim_start_matches('/').split('/').collect();
            // `/activity/{id}` is spelt with the request's own segment, so
            // only the literal parts count towards the distance.
            let spelt: Vec<&str> = parts
                .iter()
                .enumerate()
                .map(|(i, part)| match segments.get(i) {
                    Some(segment) if part.starts_with('{') => *segment,
                    _ => *part,
                })
                .collect();
            let distance = strsim::levenshtein(path, &format!("/{}", spelt.join("/")));
            let other_method = usize::from(route.method != *method);
            (distance, other_method, route)
        })
        .filter(|(distance, _, route)| *distance > 0 && *distance <= (route.path.len() / 3).max(2))
        .min_by_key(|(distance, other_method, _)| (*distance, *other_method))
        .map(|(_, _, route)| format!("{} {}", route.method, route.path))
}

/// The template's parameters when `segments` fit it.
/// Walks the template without collecting it: every request tries up to
/// every row, so a miss must not allocate.
fn match_template(template: &str, segments: &[String]) -> Option<Vec<String>> {
    let mut parts = template.trim_start_matches('/').split('/');
    let mut params = Vec::new();
    for segment in segments {
        let part = parts.next()?;
        if part.starts_with('{') && part.ends_with('}') {
            if segment.is_empty() {
                return None;
            }
            params.push(segment.clone());
        } else if part != segment {
            return None;
        }
    }
    parts.next().is_none().then_some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_in_the_area_its_endpoint_belongs_to() {
        for route in &ROUTES {
            let expected = match route.endpoint {
                Endpoint::Crm(_) => Area::Crm,
                Endpoint::Admin(_) => Area::Admin,
                Endpoint::OpenApi => Area::Document,
            };
            assert_eq!(area(route.path), expected, "{}", route.path);
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
