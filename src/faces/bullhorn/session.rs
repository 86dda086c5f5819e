//! Signing in to Bullhorn: the OAuth server's token endpoint (the kit's
//! `web::oauth`, with Bullhorn's answer), `/rest-services/login` turning an
//! access token into a session (`BhRestToken`, `restUrl`), and `ping`
//! telling when the session expires. Which credential a request carries is
//! read here too: the access token in `/login`'s query, else the
//! `BhRestToken` header or query parameter.

use serde_json::json;

use super::errors::{Answer, BullhornError};
use super::{wire, NAME, REST, SESSION};
use crate::store::{Caller, CrmSecret};
use crate::web::crm::Credential;
use crate::web::oauth::{self, Client, ACCESS_TOKEN};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// The client App Connect's deployment is configured with
/// (`BULLHORN_CLIENT_ID`, `BULLHORN_CLIENT_SECRET`).
pub const CLIENT: Client = Client {
    id: "mockcrm-bullhorn-client",
    secret: "mockcrm-bullhorn-client-secret",
};

/// The path, below the mount or on Bullhorn's hosts, that takes an access
/// token instead of a session.
const LOGIN: &str = "/rest-services/login";

/// The credential `request` carries, as Bullhorn reads it.
pub fn credential(request: &ApiRequest) -> Option<Credential> {
    let path = request.path.trim_end_matches('/');
    if path.ends_with("/oauth/token") {
        return None;
    }
    if path.ends_with(LOGIN) {
        return request
            .query_param("access_token")
            .filter(|token| !token.is_empty())
            .map(|secret| Credential::Secret {
                crm: NAME,
                kind: ACCESS_TOKEN,
                secret,
            });
    }
    // Bullhorn takes the session as a header or a query parameter (the
    // connector's sign-in sends it in the query).
    request
        .header("bhresttoken")
        .map(str::to_owned)
        .or_else(|| request.query_param("BhRestToken"))
        .filter(|token| !token.is_empty())
        .map(|secret| Credential::Secret {
            crm: NAME,
            kind: SESSION,
            secret,
        })
}

/// `POST /oauth/token`: the code or refresh token, and the client, in the
/// query (as App Connect's connector sends them) or a form body.
pub async fn token(state: &AppState, request: &ApiRequest) -> Answer {
    let tokens = oauth::exchange(state, NAME, CLIENT, request).await?;
    Ok(ApiResponse::ok(json!({
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
    })))
}

/// `POST|GET /rest-services/login?version=2.0&access_token=…`: a new
/// session for the access token's user, and where to send its calls.
/// `below_mount` is the request's path below the face's mount.
pub async fn login(
    state: &AppState,
    request: &ApiRequest,
    below_mount: &str,
    caller: Option<&Caller>,
) -> Answer {
    let caller = caller.ok_or(BullhornError::BadAccessToken)?;
    let minutes = session_minutes(request.query_param("ttl").as_deref())?;
    let session = oauth::new_token("bh");
    let expires_at = chrono::Utc::now() + session_life(minutes, state.token_ttl);
    let expires_text = expires_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let org = caller.organisation_id;
    let user_id = caller.user_id.clone();
    let secret = session.clone();
    state
        .store
        .run(move |store| {
            store.issue_crm_secret(
                org,
                &user_id,
                &CrmSecret {
                    crm: NAME,
                    kind: SESSION,
                },
                &secret,
                Some(&expires_text),
            )
        })
        .await?;
    let login_url = format!("{}{REST}", origin(request, below_mount));
    Ok(ApiResponse::ok(json!({
        "BhRestToken": session,
        "restUrl": wire::rest_url(&login_url, &caller.org),
    })))
}

/// How long a new session lives: its `ttl` in minutes (or an hour), but
/// never longer than the server's `--token-ttl`, so that a test that
/// shortens access tokens to make a connector's refresh path run also
/// sees its session expire and its re-login (`/login` with a fresh access
/// token) run. With the default `--token-ttl` (an hour) this is Bullhorn's
/// own rule; a session still outlives the access token it was made from
/// by the time between the two.
fn session_life(minutes: i64, token_ttl: std::time::Duration) -> chrono::Duration {
    let asked = chrono::Duration::minutes(minutes);
    chrono::Duration::from_std(token_ttl).map_or(asked, |ttl| asked.min(ttl))
}

/// The `ttl` a `/login` asks for: minutes, 1 to 2880, else an hour.
fn session_minutes(ttl: Option<&str>) -> Result<i64, BullhornError> {
    let Some(ttl) = ttl else {
        return Ok(DEFAULT_SESSION_MINUTES);
    };
    ttl.parse::<i64>()
        .ok()
        .filter(|minutes| (1..=2880).contains(minutes))
        .ok_or_else(|| {
            BullhornError::BadRequest(format!(
                "ttl must be a whole number of minutes from 1 to 2880, not {ttl:?}"
            ))
        })
}

/// A session's life without `ttl`.
const DEFAULT_SESSION_MINUTES: i64 = 60;

/// `GET …/ping`: when the session expires, in epoch milliseconds. A session
/// made ahead by `GET /__admin/crms` never does; it is said to last an hour
/// more.
pub async fn ping(state: &AppState, request: &ApiRequest) -> Answer {
    let Some(Credential::Secret { secret, .. }) = credential(request) else {
        return Err(BullhornError::BadSession);
    };
    let found = state
        .store
        .read(move |store| {
            store.caller_for_secret(
                &CrmSecret {
                    crm: NAME,
                    kind: SESSION,
                },
                &secret,
            )
        })
        .await?;
    let (_, expires) = found.ok_or(BullhornError::BadSession)?;
    let expires = expires
        .and_then(|text| chrono::DateTime::parse_from_rfc3339(&text).ok())
        .map(|time| time.timestamp_millis())
        .unwrap_or_else(|| {
            (chrono::Utc::now() + chrono::Duration::minutes(DEFAULT_SESSION_MINUTES))
                .timestamp_millis()
        });
    Ok(ApiResponse::ok(json!({ "sessionExpires": expires })))
}

/// `scheme://host[/mount]` of the request: what a URL this server hands
/// out starts with. Bullhorn's own hosts speak HTTPS; this server's plain
/// listener is HTTP.
fn origin(request: &ApiRequest, below_mount: &str) -> String {
    let host = request.header("host").unwrap_or("localhost");
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let scheme = if name.to_ascii_lowercase().ends_with(".bullhornstaffing.com") {
        "https"
    } else {
        "http"
    };
    let mount = request
        .path
        .strip_suffix(below_mount)
        .unwrap_or_default()
        .trim_end_matches('/');
    format!("{scheme}://{host}{mount}")
}

/// The `restUrl` a request under one was sent to
/// (`scheme://host[/mount]/rest-services/{corpToken}/`).
pub fn rest_url_of(request: &ApiRequest) -> String {
    let path = request.path.as_str();
    let Some(at) = path.find(REST) else {
        return origin(request, path);
    };
    let after = &path[at + REST.len()..];
    let corp = after
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let below = &path[at..];
    wire::rest_url(&format!("{}{REST}", origin(request, below)), corp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_an_hour_or_its_ttl() {
        assert_eq!(session_minutes(None).expect("default"), 60);
        assert_eq!(session_minutes(Some("5")).expect("5"), 5);
        for bad in ["0", "2881", "-1", "soon"] {
            assert!(session_minutes(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_session_never_outlives_the_token_ttl() {
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(session_life(60, hour), chrono::Duration::minutes(60));
        assert_eq!(session_life(5, hour), chrono::Duration::minutes(5));
        assert_eq!(
            session_life(60, std::time::Duration::from_secs(2)),
            chrono::Duration::seconds(2)
        );
        assert_eq!(
            session_life(2880, std::time::Duration::from_secs(7200)),
            chrono::Duration::hours(2)
        );
    }
}
