//! Who may see the review page, and which of its POSTs to trust.
//!
//! - On a loopback address the page is open: whoever can connect is on this
//!   machine. Another site in the same browser must still not reach it
//!   through a name that resolves here (DNS rebinding), so the `Host` must
//!   be one this machine's browser would send.
//! - On any other address it needs the admin key: the login form puts it in
//!   an HttpOnly, SameSite=Strict cookie; a script can send it as Bearer.
//! - Every POST (add or remove a fault, log in or out) must come from the
//!   page itself: `Sec-Fetch-Site` and `Origin`, when the browser sends
//!   them, must say so, and the form must carry the server's token, which
//!   another site cannot read.

use std::net::SocketAddr;

use sha2::{Digest, Sha256};

use crate::web::{ApiError, ApiRequest};

/// The cookie the login form sets.
pub const COOKIE: &str = "mockcrm_review";

pub struct Access {
    /// Listening on a loopback address: no key needed.
    open: bool,
    /// `Host` values a browser on this machine sends, when `open`.
    hosts: Vec<String>,
    admin_key: String,
    /// What every form of the page carries back (`token`).
    token: String,
}

/// What one request may do and see.
pub struct Viewer {
    pub allowed: bool,
    /// Logged in through the login form (so the page offers to log out).
    pub by_cookie: bool,
    pub token: String,
}

impl Access {
    pub fn new(addr: SocketAddr, admin_key: &str) -> Access {
        let port = addr.port();
        let mut names = vec![addr.ip().to_string()];
        if addr.is_ipv6() {
            names[0] = format!("[{}]", addr.ip());
        }
        names.push("localhost".into());
        let mut hosts: Vec<String> = names.iter().map(|name| format!("{name}:{port}")).collect();
        if port == 80 {
            hosts.extend(names);
        }
        Access {
            open: addr.ip().is_loopback(),
            hosts,
            admin_key: admin_key.to_owned(),
            token: new_token(admin_key),
        }
    }

    /// On loopback, refuses a request whose `Host` names some other site.
    pub fn check_host(&self, request: &ApiRequest) -> Result<(), ApiError> {
        let Some(host) = request.header("host") else {
            return Ok(());
        };
        if !self.open || self.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(host)) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "the review page answers at http://{}/ only, not at host {host:?}",
            self.hosts.first().map_or("127.0.0.1", String::as_str)
        )))
    }

    pub fn viewer(&self, request: &ApiRequest) -> Viewer {
        let by_cookie = cookie(request, COOKIE).is_some_and(|key| self.is_admin_key(&key));
        let by_bearer = request
            .header("authorization")
            .and_then(|value| value.trim().strip_prefix("Bearer "))
            .is_some_and(|key| self.is_admin_key(key.trim()));
        Viewer {
            allowed: self.open || by_cookie || by_bearer,
            by_cookie,
            token: self.token.clone(),
        }
    }

    pub fn is_admin_key(&self, given: &str) -> bool {
        // Compared as digests, all bytes every time: how long a wrong key
        // takes to refuse says nothing about how much of it was right.
        let (given, wanted) = (Sha256::digest(given), Sha256::digest(&self.admin_key));
        given
            .iter()
            .zip(wanted.iter())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
    }

    /// A POST must come from the page: same origin, with the token.
    pub fn check_post(&self, request: &ApiRequest) -> Result<(), ApiError> {
        if let Some(site) = request.header("sec-fetch-site") {
            if !site.eq_ignore_ascii_case("same-origin") {
                return Err(ApiError::Forbidden(format!(
                    "the review page takes POSTs from its own pages only (Sec-Fetch-Site: {site})"
                )));
            }
        }
        if let Some(origin) = request.header("origin") {
            let expected = request.header("host").map(|host| format!("http://{host}"));
            if expected.as_deref() != Some(origin) {
                return Err(ApiError::Forbidden(format!(
                    "the review page takes POSTs from its own pages only (Origin: {origin})"
                )));
            }
        }
        let fields = super::answers::form_fields(request)?;
        match super::answers::field(&fields, "token") {
            Some(token) if token == self.token => Ok(()),
            _ => Err(ApiError::Forbidden(
                "the form's token is missing or stale; reload the review page and try again".into(),
            )),
        }
    }

    /// The cookie that keeps `key` for the page.
    pub fn login_cookie(key: &str) -> String {
        let value = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC);
        format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict")
    }

    pub fn logout_cookie() -> String {
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
    }
}

/// The value of cookie `name`, percent-decoded.
fn cookie(request: &ApiRequest, name: &str) -> Option<String> {
    request
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
}

/// A token no other site can guess: random for this run of the server.
fn new_token(admin_key: &str) -> String {
    let mut random = [0u8; 32];
    if getrandom::fill(&mut random).is_err() {
        // No system randomness (never seen on a supported system): fall
        // back to the clock and the process, still unknown to another site.
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        random.copy_from_slice(&Sha256::digest(seed));
    }
    let mut hasher = Sha256::new();
    hasher.update(random);
    hasher.update(admin_key.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use warp::http::{HeaderMap, HeaderValue, Method};

    fn request(method: Method, headers: &[(&'static str, &str)], body: &str) -> ApiRequest {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_str(value).expect("header"));
        }
        ApiRequest {
            method,
            path: "/".into(),
            query: String::new(),
            headers: map,
            body: Some(bytes::Bytes::from(body.to_owned())),
            journal_id: None,
        }
    }

    #[test]
    fn loopback_is_open_to_this_machine_only() {
        let access = Access::new(SocketAddr::from(([127, 0, 0, 1], 8787)), "k");
        for host in ["127.0.0.1:8787", "LOCALHOST:8787"] {
            let ok = request(Method::GET, &[("host", host)], "");
            assert!(access.check_host(&ok).is_ok(), "{host}");
            assert!(access.viewer(&ok).allowed);
        }
        let rebound = request(Method::GET, &[("host", "evil.example:8787")], "");
        assert!(access.check_host(&rebound).is_err());
    }

    #[test]
    fn elsewhere_the_key_is_needed_by_cookie_or_bearer() {
        let access = Access::new(SocketAddr::from(([192, 0, 2, 7], 8787)), "s3cret; key");
        let anonymous = request(Method::GET, &[("host", "anything")], "");
        assert!(access.check_host(&anonymous).is_ok());
        assert!(!access.viewer(&anonymous).allowed);
        let cookie = Access::login_cookie("s3cret; key");
        let value = cookie.split(';').next().expect("pair");
        let with_cookie = request(Method::GET, &[("cookie", &format!("a=b; {value}"))], "");
        let viewer = access.viewer(&with_cookie);
        assert!(viewer.allowed && viewer.by_cookie);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let wrong = request(Method::GET, &[("cookie", "mockcrm_review=s3cret")], "");
        assert!(!access.viewer(&wrong).allowed);
        let bearer = request(Method::GET, &[("authorization", "Bearer s3cret; key")], "");
        assert!(access.viewer(&bearer).allowed);
    }

    #[test]
    fn posts_need_the_same_origin_and_the_token() {
        let access = Access::new(SocketAddr::from(([127, 0, 0, 1], 8787)), "k");
        let form = "application/x-www-form-urlencoded";
        let token = format!("token={}", access.token);
        let host = ("host", "127.0.0.1:8787");
        let ok = request(
            Method::POST,
            &[
                host,
                ("origin", "http://127.0.0.1:8787"),
                ("sec-fetch-site", "same-origin"),
                ("content-type", form),
            ],
            &token,
        );
        assert!(access.check_post(&ok).is_ok());
        for (headers, body) in [
            (
                vec![
                    host,
                    ("sec-fetch-site", "cross-site"),
                    ("content-type", form),
                ],
                token.as_str(),
            ),
            (
                vec![
                    host,
                    ("origin", "http://evil.example"),
                    ("content-type", form),
                ],
                token.as_str(),
            ),
            (vec![host, ("content-type", form)], "token=guess"),
            (vec![host, ("content-type", form)], ""),
        ] {
            let refused = request(Method::POST, &headers, body);
            assert!(
                matches!(access.check_post(&refused), Err(ApiError::Forbidden(_))),
                "{headers:?} {body}"
            );
        }
    }
}
