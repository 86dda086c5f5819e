//! The front: every request reaches one *face*, a way of speaking to the
//! one store over HTTP, and this module picks which. The admin API, the
//! OpenAPI document and the review page are tooling (never journaled,
//! faulted or rate-limited); the CRM faces (each CRM's real API), the
//! served App Connect proxy configs and the native API are what connectors
//! talk to, answered inside the kit's harness (`web::harness`) under the
//! caller's organisation.
//!
//! Each face is a folder that knows its own routes, wire format, errors and
//! sign-in, and stands on `web` (the kit) and `store`: no face imports
//! another, and only this module (with `crms`, the registry of CRM faces)
//! knows them all.

mod admin;
mod crms;
mod document;
mod insightly;
mod native;
mod page;
mod pipedrive;
mod proxy;
mod redtail;
mod routes;

use std::sync::Arc;

pub use crms::{crm_face, CRM_NAMES};
pub use native::health_while_overloaded;
pub use page::PageState;
pub use proxy::{check_native_collisions, ProxyServing};
pub use routes::HEALTH_PATH;

use crate::store::{Caller, CrmSecret};
use crate::web::crm::{host_matches, Credential, CrmFace, Place};
use crate::web::harness::{self, Answered, Arrival};
use crate::web::oauth;
use crate::web::{api_key_from_header, ApiError, ApiRequest, ApiResponse, AppState};
use routes::{Crm, Endpoint, Resolution};

/// The faces a server was started with, and the world they share.
pub struct Front {
    pub app: AppState,
    pub page: PageState,
    pub proxy: ProxyServing,
    /// The CRM faces served (`serve --crm`).
    pub crms: Vec<Arc<dyn CrmFace>>,
    /// Where this server is reached, for the connection info.
    pub place: Place,
    /// `GET /openapi.json` as this server answers it.
    document: bytes::Bytes,
}

impl Front {
    /// The real API hosts of every CRM face served: what the forward proxy
    /// answers for.
    pub fn crm_hosts(&self) -> Vec<String> {
        self.crms
            .iter()
            .flat_map(|face| face.hosts().iter().map(|host| (*host).to_owned()))
            .collect()
    }

    /// Each CRM face served, with the base URL its connector is configured
    /// with here.
    pub fn crm_base_urls(&self) -> Vec<(&'static str, String)> {
        self.crms
            .iter()
            .map(|face| (face.name(), face.base_url(&self.place)))
            .collect()
    }

    pub fn new(
        app: AppState,
        page: PageState,
        proxy: ProxyServing,
        crms: Vec<Arc<dyn CrmFace>>,
        place: Place,
    ) -> Front {
        let document = document::assemble(proxy.document_over(document::DOCUMENT), &crms);
        Front {
            app,
            page,
            proxy,
            crms,
            place,
            document,
        }
    }
}

/// Which face a request is for. Tooling first, so that no CRM path can
/// shadow it; then a CRM face by its real host or its mount; then the
/// served proxy configs' paths; the rest is native.
enum Face<'a> {
    Admin,
    Document,
    Page,
    /// A CRM face, with the path below its mount.
    Crm(&'a Arc<dyn CrmFace>, String),
    /// A connector's traffic for a served proxy config's route, or the
    /// native API (which also answers what no config takes, with its 404).
    Native,
}

impl Front {
    fn pick(&self, request: &ApiRequest) -> Face<'_> {
        let path = request.path.as_str();
        if routes::is_admin_path(path) {
            return Face::Admin;
        }
        if let Some(host) = request_host(request) {
            // A CRM's real host (through the forward proxy, or a client
            // routing it here) is that CRM's whatever the path.
            if let Some(face) = self
                .crms
                .iter()
                .find(|face| host_matches(face.hosts(), &host))
            {
                return Face::Crm(face, path.to_owned());
            }
        }
        if path == routes::OPENAPI_PATH {
            Face::Document
        } else if page::is_page_path(path) {
            Face::Page
        } else if let Some((face, rest)) = self.crms.iter().find_map(|face| {
            let rest = path.strip_prefix(face.mount())?;
            (rest.is_empty() || rest.starts_with('/')).then_some((face, rest))
        }) {
            Face::Crm(face, rest.to_owned())
        } else {
            Face::Native
        }
    }

    /// Answers one request through the face it is for.
    pub async fn handle(&self, mut request: ApiRequest) -> warp::reply::Response {
        let state = &self.app;
        match self.pick(&request) {
            Face::Admin => {
                return admin::dispatch(state, &self.crms, &self.place, &request)
                    .await
                    .into_warp()
            }
            Face::Document => {
                return document::answer(&request, &self.document);
            }
            Face::Page => return page::handle(state, &self.page, &request).await,
            Face::Crm(face, path) => {
                let face = Arc::clone(face);
                return self.handle_crm(face, request, path).await;
            }
            Face::Native => {}
        }
        let arrival = Arrival::reserve(state, &mut request);
        let resolution = routes::resolve(&request.method, &request.path);
        let rate_key = self.request_api_key(&request);
        let needs_key = !matches!(
            resolution,
            Resolution::Found {
                endpoint: Endpoint::Crm(Crm::Health),
                ..
            }
        );
        let credential = rate_key
            .clone()
            .filter(|_| needs_key)
            .map(Credential::ApiKey);
        let (answered, org) = match self.identify(credential.as_ref()).await {
            Ok(caller) => {
                let org = caller.as_ref().map(|caller| Arc::clone(&caller.org));
                let answered = harness::answer(
                    state,
                    &request,
                    caller.as_ref(),
                    rate_key.as_deref(),
                    ApiError::into_response,
                    || self.dispatch(&request, resolution.clone(), caller.as_ref()),
                )
                .await;
                (answered, org)
            }
            Err(error) => (Answered::plain(error.into_response()), None),
        };
        harness::record(state, &request, arrival, answered, org)
    }

    /// A CRM face's request: its credentials read as that CRM reads them,
    /// the face's answer inside the same harness as the native API.
    async fn handle_crm(
        &self,
        face: Arc<dyn CrmFace>,
        mut request: ApiRequest,
        path: String,
    ) -> warp::reply::Response {
        let state = &self.app;
        let arrival = Arrival::reserve(state, &mut request);
        let credential = face.credential(&request);
        let rate_key = credential.as_ref().map(|c| c.rate_key().to_owned());
        let (answered, org) = match self.identify(credential.as_ref()).await {
            Ok(caller) => {
                let org = caller.as_ref().map(|caller| Arc::clone(&caller.org));
                let answered = harness::answer(
                    state,
                    &request,
                    caller.as_ref(),
                    rate_key.as_deref(),
                    |error| face.error_answer(error),
                    || face.answer(state, &request, &path, caller.as_ref()),
                )
                .await;
                (answered, org)
            }
            Err(error) => (Answered::plain(face.error_answer(error)), None),
        };
        harness::record(state, &request, arrival, answered, org)
    }

    /// The caller behind a request's credentials, looked up before anything
    /// else so that the rate limit, the faults and the journal know its
    /// organisation. `None` without credentials or with unknown ones (the
    /// face answers 401 where they are needed), so `/health` never waits
    /// for the store. An expired secret (an OAuth access token past its
    /// time) names nobody, so the face answers its CRM's 401.
    async fn identify(&self, credential: Option<&Credential>) -> Result<Option<Caller>, ApiError> {
        let store = &self.app.store;
        let Some(credential) = credential else {
            return Ok(None);
        };
        Ok(match credential.clone() {
            Credential::ApiKey(key) => store.caller_for_key(key).await?,
            // An expired token names nobody: its face answers the CRM's 401.
            Credential::Secret { crm, kind, secret } => store
                .read(move |store| store.caller_for_secret(&CrmSecret { crm, kind }, &secret))
                .await?
                .filter(|(_, expires)| !expires.as_deref().is_some_and(oauth::has_passed))
                .map(|(caller, _)| caller),
            Credential::Login {
                crm,
                kind,
                username,
                secret,
            } => store
                .read(move |store| store.caller_for_secret(&CrmSecret { crm, kind }, &secret))
                .await?
                .map(|(caller, _)| caller)
                .filter(|caller| caller.user_id == username),
        })
    }

    /// The API key a request carries, read as the native API reads it
    /// (`Authorization: Bearer|Basic`) or, failing that, as a served proxy
    /// config's auth builds it (`Userkeyauth …`, `X-Api-Key: …`): what the
    /// harness counts a caller by.
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

/// The host a request names (its `Host` header, without a port), lower case.
fn request_host(request: &ApiRequest) -> Option<String> {
    let host = request.header("host")?;
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::{document, proxy};

    #[test]
    fn the_native_document_says_what_served_configs_replace() {
        // The proxy face rewrites this sentence when it adds its routes.
        assert!(document::DOCUMENT.contains(proxy::NOT_LISTED));
    }
}
