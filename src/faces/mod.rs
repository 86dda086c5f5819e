//! The front: every request reaches one *face*, a way of speaking to the
//! one store over HTTP, and this module picks which. The admin API, the
//! OpenAPI document and the review page are tooling (never journaled,
//! faulted or rate-limited); the served App Connect proxy configs and the
//! native API are what connectors talk to, answered inside the kit's
//! harness (`web::harness`) under the caller's organisation.
//!
//! Each face is a folder that knows its own routes, wire format, errors and
//! sign-in, and stands on `web` (the kit) and `store`: no face imports
//! another, and only this module knows them all.

mod admin;
mod document;
mod native;
mod page;
mod proxy;
mod routes;

use std::sync::Arc;

pub use native::health_while_overloaded;
pub use page::PageState;
pub use proxy::ProxyServing;
pub use routes::HEALTH_PATH;

use crate::store::Caller;
use crate::web::harness::{self, Answered, Arrival};
use crate::web::{api_key_from_header, ApiError, ApiRequest, ApiResponse, AppState};
use routes::{Crm, Endpoint, Resolution};

/// The faces a server was started with, and the world they share.
pub struct Front {
    pub app: AppState,
    pub page: PageState,
    pub proxy: ProxyServing,
}

/// Which face a request is for. Tooling first, so that no CRM path can
/// shadow it; then the served proxy configs' paths; the rest is native.
enum Face {
    Admin,
    Document,
    Page,
    /// A connector's traffic: a served proxy config's route, or the
    /// native API (which also answers what no config takes, with its 404).
    Crm,
}

impl Face {
    fn pick(path: &str) -> Face {
        if routes::is_admin_path(path) {
            Face::Admin
        } else if path == routes::OPENAPI_PATH {
            Face::Document
        } else if page::is_page_path(path) {
            Face::Page
        } else {
            Face::Crm
        }
    }
}

impl Front {
    /// Answers one request through the face it is for.
    pub async fn handle(&self, mut request: ApiRequest) -> warp::reply::Response {
        let state = &self.app;
        match Face::pick(&request.path) {
            Face::Admin => return admin::dispatch(state, &request).await.into_warp(),
            Face::Document => return document::answer(&request),
            Face::Page => return page::handle(state, &self.page, &request).await,
            Face::Crm => {}
        }
        let arrival = Arrival::reserve(state, &mut request);
        let resolution = routes::resolve(&request.method, &request.path);
        let rate_key = self.request_api_key(&request);
        let (answered, org) = match self.identify(&resolution, rate_key.as_deref()).await {
            Ok(caller) => {
                let org = caller.as_ref().map(|caller| Arc::clone(&caller.org));
                let answered = harness::answer(
                    state,
                    &request,
                    caller.as_ref(),
                    rate_key.as_deref(),
                    || self.dispatch(&request, resolution.clone(), caller.as_ref()),
                )
                .await;
                (answered, org)
            }
            Err(error) => (Answered::plain(error.into_response()), None),
        };
        harness::record(state, &request, arrival, answered, org)
    }

    /// The caller behind the request's credentials, looked up before
    /// anything else so that the rate limit, the faults and the journal
    /// know its organisation. `None` without credentials or with unknown
    /// ones (the face answers 401 where they are needed), and for routes
    /// that need none, so `/health` never waits for the store.
    async fn identify(
        &self,
        resolution: &Resolution<Endpoint>,
        key: Option<&str>,
    ) -> Result<Option<Caller>, ApiError> {
        if matches!(
            resolution,
            Resolution::Found {
                endpoint: Endpoint::Crm(Crm::Health),
                ..
            }
        ) {
            return Ok(None);
        }
        let Some(key) = key else {
            return Ok(None);
        };
        Ok(self.app.store.caller_for_key(key.to_owned()).await?)
    }

    /// The API key a request carries, read as the native API reads it
    /// (`Authorization: Bearer|Basic`) or, failing that, as a served proxy
    /// config's auth builds it (`Userkeyauth …`, `X-Api-Key: …`): what the
    /// harness counts a caller by, whichever face the request is for.
    fn request_api_key(&self, request: &ApiRequest) -> Option<String> {
        request
            .header("authorization")
            .and_then(api_key_from_header)
            .or_else(|| self.proxy.api_key(request))
    }

    /// A connector's request: a served proxy config's route when one takes
    /// it, else the native API; every error becomes its JSON answer.
    async fn dispatch(
        &self,
        request: &ApiRequest,
        resolution: Resolution<Endpoint>,
        caller: Option<&Caller>,
    ) -> ApiResponse {
        let native_knows_path = !matches!(resolution, Resolution::NotFound);
        let answered = match proxy::answer(&self.app, &self.proxy, request, native_knows_path).await
        {
            Some(answered) => answered,
            None => native::answer(&self.app, request, resolution, caller).await,
        };
        answered.unwrap_or_else(ApiError::into_response)
    }
}
