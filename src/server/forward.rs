//! The forward proxy for hard-coded hosts (`serve --proxy-addr`): some
//! connectors call a CRM's real host whatever they are told
//! (`https://api.pipedrive.com`), so a process pointed at mockcrm with
//! `HTTPS_PROXY=http://ADDR` sends them here. A `CONNECT host:443` to a
//! host a served CRM owns is accepted, and the tunnel is served with TLS
//! from the local CA like an HTTPS connection (its requests carry the real
//! host, which the front routes to that CRM's face); a plain request in
//! absolute form to such a host is served as it is. Any other host is
//! refused with 502 and a body saying mockcrm works offline. **Nothing is
//! ever forwarded to the network.** Each CONNECT is written to the journal,
//! so the requests page shows what a connector tried to reach.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper::upgrade::OnUpgrade;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use warp::http::{Method, Request, StatusCode};

use crate::harness::{Harness, JournalEntry};
use crate::web::ApiResponse;

/// A tunnel to serve: its upgrade, and the place under the connection cap
/// its proxy connection held, kept while the tunnel lives.
pub(super) type Tunnel = (OnUpgrade, Arc<OwnedSemaphorePermit>);

/// The forward proxy: the hosts it answers for, and what it answers with.
pub(super) struct Forward<S> {
    /// The real API hosts of the CRMs served, lower case.
    hosts: Vec<String>,
    harness: Arc<Harness>,
    tunnels: mpsc::UnboundedSender<Tunnel>,
    /// The server's own routes, for plain requests to a served host.
    routes: S,
}

impl<S> Forward<S>
where
    S: Service<Request<Incoming>, Response = warp::reply::Response, Error = Infallible>,
{
    pub(super) fn new(
        hosts: Vec<String>,
        harness: Arc<Harness>,
        tunnels: mpsc::UnboundedSender<Tunnel>,
        routes: S,
    ) -> Forward<S> {
        Forward {
            hosts: hosts.iter().map(|host| host.to_ascii_lowercase()).collect(),
            harness,
            tunnels,
            routes,
        }
    }

    /// Answers one request on a proxy connection, which holds `place`
    /// under the connection cap.
    pub(super) async fn answer(
        self: Arc<Self>,
        mut request: Request<Incoming>,
        place: Arc<OwnedSemaphorePermit>,
    ) -> Result<warp::reply::Response, Infallible> {
        let started = Instant::now();
        let host = target_host(&request);
        let served = host.as_deref().is_some_and(|host| self.serves(host));
        if request.method() == Method::CONNECT {
            let target = request
                .uri()
                .authority()
                .map_or_else(String::new, |authority| authority.to_string());
            let answer = if served {
                let upgrade = hyper::upgrade::on(&mut request);
                if self.tunnels.send((upgrade, place)).is_err() {
                    // The server is stopping: no tunnel will be served.
                    return Ok(self.refusal(StatusCode::SERVICE_UNAVAILABLE, &target));
                }
                let mut answer = warp::reply::Response::new(Default::default());
                *answer.status_mut() = StatusCode::OK;
                answer
            } else {
                self.refusal(StatusCode::BAD_GATEWAY, host.as_deref().unwrap_or(&target))
            };
            self.record("CONNECT", &target, &answer, started);
            return Ok(answer);
        }
        if served {
            return self.routes.call(request).await;
        }
        let shown = host.unwrap_or_else(|| "(no host)".to_owned());
        let answer = self.refusal(StatusCode::BAD_GATEWAY, &shown);
        let target = request.uri().to_string();
        self.record(request.method().as_str(), &target, &answer, started);
        Ok(answer)
    }

    fn serves(&self, host: &str) -> bool {
        let hosts: Vec<&str> = self.hosts.iter().map(String::as_str).collect();
        crate::web::crm::host_matches(&hosts, host)
    }

    /// The answer for a host mockcrm does not emulate: it is never asked
    /// of the network.
    fn refusal(&self, status: StatusCode, host: &str) -> warp::reply::Response {
        let served = if self.hosts.is_empty() {
            "no CRM's (serve --crm NAME to be one)".to_owned()
        } else {
            self.hosts.join(", ")
        };
        let code = if status == StatusCode::BAD_GATEWAY {
            "not_emulated"
        } else {
            "service_unavailable"
        };
        ApiResponse::json(
            status,
            serde_json::json!({"error": {
                "code": code,
                "message": format!(
                    "mockcrm works offline and does not emulate {host}: nothing is sent to the network. \
                     Through this proxy it answers only the hosts of the CRMs it serves: {served}"
                ),
            }}),
        )
        .into_warp()
    }

    /// A proxy request, in the journal like the others (the requests page
    /// shows it), under no organisation: it carries no credentials.
    fn record(&self, method: &str, target: &str, answer: &warp::reply::Response, started: Instant) {
        let journal = &self.harness.journal;
        let Some(id) = journal.reserve() else {
            return;
        };
        journal.record(JournalEntry {
            id,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            method: method.to_owned(),
            path: target.to_owned(),
            query: String::new(),
            status: answer.status().as_u16(),
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            request_body: Bytes::new(),
            response_body: Bytes::new(),
            fault_id: None,
            org: None,
        });
    }
}

/// The host a proxied request is for, lower case, without a port: a
/// CONNECT's authority, an absolute URI's host, else the `Host` header.
fn target_host(request: &Request<Incoming>) -> Option<String> {
    let from_uri = request.uri().host().map(str::to_owned);
    let from_header = || {
        let host = request.headers().get("host")?.to_str().ok()?;
        let host = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        Some(host.to_owned())
    };
    from_uri
        .or_else(from_header)
        .map(|host| host.trim_matches(['[', ']']).to_ascii_lowercase())
        .filter(|host| !host.is_empty())
}
