//! Serving App Connect proxy-connector configs: mockcrm answers as the CRM
//! each config talks to, on the same store as the native API.
//!
//! A request is routed by the configs' route table first (`proxy::route`);
//! what no operation takes goes to the native API, and what neither knows
//! under a config's base path is a 404 (or 405) naming that config's
//! routes. The dispatch sits behind the same harness as the native API
//! (`faces::Front::handle`), so the journal, faults, rate limit and idempotency keys
//! apply to these routes unchanged. Handlers (`handlers.rs`) read the
//! request through the matched templates, call the store and answer through
//! the inverse response mappings; no SQL here.

mod auth;
mod handlers;
mod openapi;

#[cfg(test)]
pub use openapi::NOT_LISTED;

use bytes::Bytes;
use serde_json::Value;

use super::routes;
use crate::proxy::config::Problem;
use crate::proxy::route::{self, Found, RouteTable};
use crate::proxy::{ConfigError, ProxyConfig};
use crate::web::{ApiError, ApiRequest, ApiResponse, AppState};

/// The configs a server serves, and their routes.
#[derive(Debug, Default)]
pub struct ProxyServing {
    configs: Vec<ProxyConfig>,
    /// For each config, why its mappings cannot be answered, if they cannot:
    /// `proxy::load_all` refuses such a config, so only one handed to the
    /// server unchecked has one, and its requests are refused before
    /// anything is written rather than answered 2xx without what the
    /// mapping reads.
    unanswerable: Vec<Option<ConfigError>>,
    /// Every config's routes, to find a request's operation.
    table: RouteTable,
    /// Each config's routes on their own, for a 404 that names them.
    tables: Vec<RouteTable>,
}

impl ProxyServing {
    pub fn new(configs: Vec<ProxyConfig>) -> ProxyServing {
        let refs: Vec<&ProxyConfig> = configs.iter().collect();
        let table = RouteTable::new(&refs);
        let tables = configs.iter().map(|c| RouteTable::new(&[c])).collect();
        let unanswerable = configs
            .iter()
            .map(|c| crate::proxy::answer::check_servable(c).err())
            .collect();
        ProxyServing {
            configs,
            unanswerable,
            table,
            tables,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.configs.is_empty()
    }

    /// The OpenAPI document `native` with the served configs' routes in
    /// it (a served route replacing a native one of the same method and
    /// path, as it does in routing); `native` as it is when none is served.
    pub fn document_over(&self, native: &'static str) -> Bytes {
        if self.configs.is_empty() {
            Bytes::from_static(native.as_bytes())
        } else {
            openapi::document(native, &self.configs)
        }
    }

    /// The config whose base path holds `path` (the longest such), if any.
    fn claimant(&self, path: &str) -> Option<usize> {
        self.configs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.claims_base_path())
            .filter(|(_, c)| {
                let base = c.base_path();
                base.is_empty()
                    || path == base
                    || path
                        .strip_prefix(base.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|(_, c)| c.base_path().len())
            .map(|(n, _)| n)
    }

    /// The API key in the request's credentials as any served config's auth
    /// builds them, for the rate limiter (a key is a key whatever the route).
    pub fn api_key(&self, request: &ApiRequest) -> Option<String> {
        self.configs.iter().find_map(|config| {
            let mut auths = vec![config.auth.as_ref()];
            auths.extend(
                config
                    .operations
                    .iter()
                    .filter_map(|op| op.auth.as_ref())
                    .map(Some),
            );
            auths
                .into_iter()
                .find_map(|auth| auth::api_key(config, auth, &request.headers))
        })
    }
}

/// Paths the server answers before any CRM route is looked at, for any
/// method: the admin API, the review page and the OpenAPI document.
const TOOLING_PATHS: [&str; 6] = [
    "/__admin",
    "/__admin/*",
    "/",
    "/__review",
    "/__review/*",
    routes::OPENAPI_PATH,
];

/// Refuses, before the server starts, a config served at the root (its
/// `baseUrl` is empty) with a route that mockcrm's own routes would also
/// take: a native route of the same method, or a path the admin API, the
/// review page or the OpenAPI document answers. A config whose `baseUrl`
/// names the root on purpose (`fixtures/app-connect/mockcrm.proxy.json`)
/// may stand in for native routes, and is not checked.
pub fn check_native_collisions(configs: &[ProxyConfig]) -> Result<(), ConfigError> {
    for config in configs.iter().filter(|c| c.request_defaults.empty_base_url) {
        for served in route::Plan::new(config).routes {
            let native = TOOLING_PATHS
                .iter()
                .find(|path| served.overlaps(path))
                .map(|path| path.replace('*', "…"))
                .or_else(|| {
                    routes::ROUTES
                        .iter()
                        .find(|native| {
                            native.method.as_str() == served.method && served.overlaps(native.path)
                        })
                        .map(|native| format!("{} {}", native.method, native.path))
                });
            if let Some(native) = native {
                return Err(ConfigError {
                    file: config.file.clone(),
                    path: format!("operations.{}.url", served.operation),
                    problem: Problem::NativeRouteTaken {
                        route: format!("{} {} ({})", served.method, served.path, served.operation),
                        native,
                    },
                });
            }
        }
    }
    Ok(())
}

/// The body as the route table reads it: JSON, a form, or text.
fn body_value(request: &ApiRequest) -> Option<Value> {
    let bytes: &Bytes = request.body.as_ref()?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return Some(value);
    }
    let form = request.header("content-type").is_some_and(|t| {
        t.to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if form {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(bytes).into_owned().collect();
        return Some(route::query_object(&pairs));
    }
    Some(Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// Answers `request` if a served config takes it: an operation's answer,
/// or, for a path under a config's base path that the native API does not
/// know either, the 404 or 405 naming that config's routes. `None` leaves
/// the request to the native API.
pub async fn answer(
    state: &AppState,
    serving: &ProxyServing,
    request: &ApiRequest,
    native_knows_path: bool,
) -> Option<Result<ApiResponse, ApiError>> {
    if serving.is_empty() {
        return None;
    }
    let query: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
        .into_owned()
        .collect();
    let body = body_value(request);
    let incoming = route::Request {
        method: request.method.as_str(),
        path: &request.path,
        query: &query,
        body: body.as_ref(),
    };
    match serving.table.find(&incoming) {
        Found::Operation(matched) => {
            let config = &serving.configs[matched.config];
            if let Some(Some(error)) = serving.unanswerable.get(matched.config) {
                return Some(Err(ApiError::Internal(format!(
                    "{error}; load proxy configs with mockcrm::load_proxy_configs, which refuses such a config before serving it"
                ))));
            }
            Some(handlers::serve(state, config, request, &matched, body.as_ref()).await)
        }
        _ if native_knows_path => None,
        found => {
            let claimant = serving.claimant(&request.path)?;
            let config = &serving.configs[claimant];
            let routes = serving.tables[claimant].describe().join("; ");
            Some(Err(match found {
                Found::WrongMethod { allowed } => ApiError::MethodNotAllowed {
                    method: request.method.to_string(),
                    path: request.path.clone(),
                    allowed: allowed.join(", "),
                },
                _ => ApiError::NotFound(format!(
                    "no operation of {} takes {} {}; it serves {routes}",
                    config.file, request.method, request.path
                )),
            }))
        }
    }
}
