//! App Connect core's OAuth tokens for a connector of an OAuth CRM
//! (`contract --crm`): signing in as `onOAuthCallback` does (the
//! connector's `getOauthInfo`, the authorization code grant at its
//! `accessTokenUri`, `getUserInfo` with the new Bearer token, then
//! `saveUserInfo`'s fields with `accessToken`, `refreshToken` and
//! `tokenExpiry`), and, before every call, `checkAndRefreshAccessToken`
//! (`lib/oauth.ts`): a token that expires within two minutes is refreshed
//! with the refresh token grant and the new tokens are saved in the user
//! row, or, when the CRM refuses the refresh, the user's session is over
//! and core answers an error instead of calling the connector. Tokens
//! expire when a fault says so (`expire`, before the fault's call): the
//! CRM's through the admin API, and the row's `tokenExpiry` when core is
//! to know, so whether a token is expired never depends on how fast the
//! machine is.
//!
//! It owns core's token requests and the token fields of the user row; it
//! must not judge the connector's answers beyond sign-in, nor send the CRM
//! anything but token requests. A connector's own
//! `checkAndRefreshAccessToken` (which core calls instead, Bullhorn's) is
//! not called: its `oauthApp` argument is a client-oauth2 object the
//! bridge does not build.

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{CallNote, Core, Stop};
use crate::contract::bridge::Settled;
use crate::contract::faults::TokenExpiry;
use crate::contract::properties::{Property, Verdicts};

/// Core refreshes a token due within this long (`expiryBuffer`).
const EXPIRY_BUFFER: chrono::TimeDelta = chrono::TimeDelta::minutes(2);
/// How long core's token request may take.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);

/// The OAuth client core builds from the connector's `getOauthInfo`
/// (`getOAuthApp`).
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    /// Where the token requests go (see `token_endpoint`).
    pub token_url: String,
}

/// The tokens a token endpoint answered, as client-oauth2 reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub access_token: String,
    /// `None`: the answer named none, and the old one stays.
    pub refresh_token: Option<String>,
    /// `tokenExpiry` as core saves it (`expires`, ISO 8601 text), when the
    /// answer said `expires_in`.
    pub expiry: Option<String>,
}

/// Why core could not get tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenError {
    /// `invalid_grant`: the code or refresh token is spent; core drops the
    /// user's session ("User session expired. Please connect again.").
    InvalidGrant(String),
    /// Anything else (unreachable, another error): core's call throws.
    Failed(String),
}

/// Where core's token request for `uri` goes. A connector names its CRM's
/// real token URL (Clio's is hard-coded, `https://app.clio.com/oauth/token`),
/// which App Connect's OAuth client reaches without mockcrm's forward proxy:
/// a URL on one of the face's real hosts goes to the face's own token
/// endpoint (`credentials.tokenUrl`, else the same path on the face's base
/// URL's origin and mount).
pub fn token_endpoint(uri: &str, connection: &Value) -> String {
    let Ok(url) = reqwest::Url::parse(uri) else {
        return uri.to_owned();
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let hosts: Vec<&str> = connection
        .get("hosts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !crate::web::crm::host_matches(&hosts, &host) {
        return uri.to_owned();
    }
    if let Some(own) = connection
        .pointer("/credentials/tokenUrl")
        .and_then(Value::as_str)
    {
        return own.to_owned();
    }
    match connection.get("base_url").and_then(Value::as_str) {
        Some(base) => format!("{}{}", base.trim_end_matches('/'), url.path()),
        None => uri.to_owned(),
    }
}

/// Whether core refreshes a user's token now: it has both tokens and a
/// `tokenExpiry` moment.js reads as before two minutes from `now` (one it
/// cannot read, `null` included, never is).
pub fn due(user: &Value, now: chrono::DateTime<chrono::Utc>) -> bool {
    let has = |field: &str| crate::js::truthy(user.get(field));
    if !has("accessToken") || !has("refreshToken") {
        return false;
    }
    let expiry = match user.get("tokenExpiry") {
        Some(Value::String(text)) => chrono::DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .map(|time| time.with_timezone(&chrono::Utc)),
        Some(Value::Number(millis)) => millis
            .as_f64()
            .and_then(|ms| chrono::DateTime::from_timestamp_millis(ms as i64)),
        _ => None,
    };
    expiry.is_some_and(|expiry| expiry < now + EXPIRY_BUFFER)
}

/// A token endpoint's answer read as client-oauth2 reads it.
pub fn read_tokens(
    status: u16,
    body: Option<&Value>,
    text: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Issued, TokenError> {
    let error = body
        .and_then(|body| body.get("error"))
        .and_then(Value::as_str);
    if !(200..300).contains(&status) || error.is_some() {
        let detail = format!(
            "the token endpoint answered {status}: {}",
            text.chars().take(200).collect::<String>()
        );
        return Err(match error {
            Some(code) if code.eq_ignore_ascii_case("invalid_grant") => {
                TokenError::InvalidGrant(detail)
            }
            _ => TokenError::Failed(detail),
        });
    }
    let field = |name: &str| {
        body.and_then(|body| body.get(name))
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
    };
    let access_token = field("access_token").ok_or_else(|| {
        TokenError::Failed(format!(
            "the token endpoint answered {status} without an access_token"
        ))
    })?;
    let expiry = body
        .and_then(|body| body.get("expires_in"))
        .and_then(|seconds| {
            seconds
                .as_f64()
                .or_else(|| seconds.as_str().and_then(|t| t.parse().ok()))
        })
        .map(|seconds| {
            (now + chrono::TimeDelta::milliseconds((seconds * 1000.0) as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        });
    Ok(Issued {
        access_token,
        refresh_token: field("refresh_token"),
        expiry,
    })
}

/// One token request: the form parameters, the client by HTTP Basic, as
/// client-oauth2 sends it.
fn request_tokens(
    core: &Core<'_>,
    app: &OAuthApp,
    form: &[(&str, &str)],
) -> Result<Issued, TokenError> {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", app.client_id, app.client_secret),
    );
    let request = crate::http::ExactRequest {
        method: "POST".into(),
        url: app.token_url.clone(),
        headers: vec![
            ("accept".into(), b"application/json".to_vec()),
            (
                "content-type".into(),
                b"application/x-www-form-urlencoded".to_vec(),
            ),
            (
                "authorization".into(),
                format!("Basic {basic}").into_bytes(),
            ),
        ],
        body: Some(body),
        timeout: TOKEN_TIMEOUT,
    };
    let client = crate::http::JsonClient::without_base()
        .map_err(|error| TokenError::Failed(error.to_string()))?;
    let answer = core
        .rt
        .block_on(client.send_exact(&request))
        .map_err(|error| {
            TokenError::Failed(format!("could not reach {}: {error}", app.token_url))
        })?;
    read_tokens(
        answer.status,
        answer.json.as_ref(),
        &answer.text,
        chrono::Utc::now(),
    )
}

/// The connector's `getOauthInfo`, as core calls it for the user (with
/// `tokenUrl` and `hostname` from the row). `Ok(None)`: it threw or
/// answered no client, and core fails the call.
fn oauth_app(
    core: &mut Core<'_>,
    verdicts: &mut Verdicts,
    calls: &mut Vec<CallNote>,
) -> Result<Option<OAuthApp>, Stop> {
    let Some(session) = &core.crm else {
        return Ok(None);
    };
    let argument = json!({
        "tokenUrl": session.user.pointer("/platformAdditionalInfo/tokenUrl").cloned().unwrap_or(Value::Null),
        "hostname": session.user.get("hostname").cloned().unwrap_or(Value::Null),
    });
    let connection = session.connection.clone();
    let Settled::Returned {
        value: Some(info), ..
    } = core.call("getOauthInfo", vec![argument], verdicts, calls)?
    else {
        return Ok(None);
    };
    let text = |name: &str| {
        info.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let uri = text("accessTokenUri");
    if uri.is_empty() {
        return Ok(None);
    }
    Ok(Some(OAuthApp {
        client_id: text("clientId"),
        client_secret: text("clientSecret"),
        redirect_uri: text("redirectUri"),
        token_url: token_endpoint(&uri, &connection),
    }))
}

/// Keeps new tokens in the user row, as core does before `user.save()`.
fn save_tokens(user: &mut Value, issued: &Issued) {
    let Some(row) = user.as_object_mut() else {
        return;
    };
    row.insert(
        "accessToken".into(),
        Value::from(issued.access_token.clone()),
    );
    if let Some(refresh) = &issued.refresh_token {
        row.insert("refreshToken".into(), Value::from(refresh.clone()));
    }
    row.insert(
        "tokenExpiry".into(),
        issued.expiry.clone().map_or(Value::Null, Value::from),
    );
}

/// A fault's token expiry, just before its call: the case's tenant's
/// access tokens (and Bullhorn sessions) expire at the CRM, and, when
/// core is to know, the user row's `tokenExpiry` is put in the past, so
/// the `checkAndRefreshAccessToken` before the call refreshes.
pub(in crate::contract) fn expire(
    core: &mut Core<'_>,
    tenant: &crate::contract::tenant::CaseTenant<'_>,
    expiry: TokenExpiry,
) -> Result<(), Stop> {
    tenant.expire_tokens()?;
    if expiry == TokenExpiry::CoreKnows {
        if let Some(row) = core
            .crm
            .as_mut()
            .and_then(|session| session.user.as_object_mut())
        {
            let past = (chrono::Utc::now() - chrono::TimeDelta::minutes(1))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            row.insert("tokenExpiry".into(), Value::from(past));
        }
    }
    Ok(())
}

/// Core's `checkAndRefreshAccessToken` before a call, for an OAuth CRM.
/// `Ok(Err(()))`: the refresh failed, and core answers an error instead
/// of calling the connector.
pub(in crate::contract) fn check_and_refresh(
    core: &mut Core<'_>,
    verdicts: &mut Verdicts,
    calls: &mut Vec<CallNote>,
) -> Result<Result<(), ()>, Stop> {
    let needed = core
        .crm
        .as_ref()
        .is_some_and(|session| due(&session.user, chrono::Utc::now()));
    if !needed || !core.exports("getOauthInfo") {
        return Ok(Ok(()));
    }
    let Some(app) = oauth_app(core, verdicts, calls)? else {
        return Ok(Err(()));
    };
    let refresh_token = core
        .crm
        .as_ref()
        .map(|session| crate::js::to_string_or_undefined(session.user.get("refreshToken")))
        .unwrap_or_default();
    let issued = request_tokens(
        core,
        &app,
        &[
            ("refresh_token", refresh_token.as_str()),
            ("grant_type", "refresh_token"),
        ],
    );
    match (issued, core.crm.as_mut()) {
        (Ok(issued), Some(session)) => {
            save_tokens(&mut session.user, &issued);
            Ok(Ok(()))
        }
        (Ok(_), None) => Ok(Ok(())),
        (Err(_), _) => Ok(Err(())),
    }
}

/// Signs the user in to an OAuth CRM as core's `onOAuthCallback` does,
/// with the code `GET /__admin/crms` handed out. `Ok(false)`: sign-in
/// failed (a verdict says why) and the case ends. A connector without
/// `getOauthInfo` keeps the ready token the face handed out, which never
/// expires.
pub(in crate::contract) fn sign_in(
    core: &mut Core<'_>,
    connection: &Value,
    verdicts: &mut Verdicts,
    calls: &mut Vec<CallNote>,
) -> Result<bool, Stop> {
    let credential = |name: &str| {
        connection
            .pointer(&format!("/credentials/{name}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    if !core.exports("getOauthInfo") || !core.exports("getUserInfo") {
        let token = credential("accessToken");
        if let Some(row) = core.crm.as_mut().and_then(|s| s.user.as_object_mut()) {
            row.insert("accessToken".into(), Value::from(token));
        }
        return Ok(true);
    }
    let Some(app) = oauth_app(core, verdicts, calls)? else {
        verdicts.broke(
            Property::NothingThrows,
            "sign-in failed: getOauthInfo gave no accessTokenUri, so App Connect core has nowhere to exchange the user's code".to_owned(),
        );
        return Ok(false);
    };
    let code = credential("code");
    let issued = match request_tokens(
        core,
        &app,
        &[
            ("code", code.as_str()),
            ("grant_type", "authorization_code"),
            ("redirect_uri", app.redirect_uri.as_str()),
        ],
    ) {
        Ok(issued) => issued,
        Err(TokenError::InvalidGrant(why) | TokenError::Failed(why)) => {
            verdicts.broke(
                Property::NothingThrows,
                format!(
                    "sign-in failed: the code exchange at getOauthInfo's accessTokenUri ({}) failed: {why}",
                    app.token_url
                ),
            );
            return Ok(false);
        }
    };
    let Some(session) = core.crm.as_ref() else {
        return Ok(false);
    };
    let user = &session.user;
    let info = user.get("platformAdditionalInfo");
    let mut argument = Map::new();
    argument.insert(
        "authHeader".into(),
        Value::from(format!("Bearer {}", issued.access_token)),
    );
    argument.insert("tokenUrl".into(), Value::from(app.token_url.clone()));
    argument.insert(
        "apiUrl".into(),
        info.and_then(|info| info.get("loginUrl"))
            .cloned()
            .unwrap_or(Value::Null),
    );
    argument.insert(
        "hostname".into(),
        user.get("hostname").cloned().unwrap_or(Value::Null),
    );
    argument.insert(
        "platform".into(),
        Value::from(core.account.platform.clone()),
    );
    argument.insert("username".into(), Value::from(credential("username")));
    argument.insert("query".into(), json!({}));
    let Some(info) = core.signed_in_user_info(
        argument,
        "the Bearer token of the user's code",
        verdicts,
        calls,
    )?
    else {
        return Ok(false);
    };
    if let Some(session) = core.crm.as_mut() {
        crate::contract::session::saved_user_info(&mut session.user, &info, None);
        save_tokens(&mut session.user, &issued);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&chrono::Utc)
    }

    #[test]
    fn a_token_is_due_within_two_minutes_of_its_expiry_and_never_without_one() {
        let now = at("2026-01-01T12:00:00Z");
        let user =
            |expiry: Value| json!({"accessToken": "a", "refreshToken": "r", "tokenExpiry": expiry});
        assert!(due(&user(json!("2026-01-01T12:01:59.000Z")), now));
        assert!(due(&user(json!("2026-01-01T11:00:00Z")), now));
        assert!(!due(&user(json!("2026-01-01T12:02:01Z")), now));
        // moment(null) and a text it cannot read are invalid: no refresh.
        assert!(!due(&user(Value::Null), now));
        assert!(!due(&user(json!("soon")), now));
        // Epoch milliseconds, as a Date saved by a connector may come back.
        assert!(due(&user(json!(now.timestamp_millis() + 60_000)), now));
        // No refresh token: nothing to refresh with.
        assert!(!due(
            &json!({"accessToken": "a", "refreshToken": null, "tokenExpiry": "2020-01-01T00:00:00Z"}),
            now
        ));
    }

    #[test]
    fn a_token_answer_gives_the_tokens_and_their_expiry_and_an_invalid_grant_is_told_apart() {
        let now = at("2026-01-01T12:00:00Z");
        let issued = read_tokens(
            200,
            Some(&json!({"access_token": "at", "refresh_token": "rt", "expires_in": 2})),
            "",
            now,
        )
        .expect("tokens");
        assert_eq!(issued.access_token, "at");
        assert_eq!(issued.refresh_token.as_deref(), Some("rt"));
        assert_eq!(issued.expiry.as_deref(), Some("2026-01-01T12:00:02.000Z"));
        let kept = read_tokens(200, Some(&json!({"access_token": "at"})), "", now).expect("ok");
        assert_eq!((kept.refresh_token, kept.expiry), (None, None));
        assert!(matches!(
            read_tokens(400, Some(&json!({"error": "invalid_grant"})), "{}", now),
            Err(TokenError::InvalidGrant(_))
        ));
        assert!(matches!(
            read_tokens(503, None, "down", now),
            Err(TokenError::Failed(_))
        ));
        assert!(matches!(
            read_tokens(200, Some(&json!({})), "{}", now),
            Err(TokenError::Failed(_))
        ));
    }

    #[test]
    fn a_token_url_on_the_crms_real_host_goes_to_the_face() {
        let clio = json!({
            "base_url": "https://127.0.0.1:9443/clio",
            "hosts": ["app.clio.com", "*.app.clio.com"],
            "credentials": {"tokenUrl": "http://127.0.0.1:9/clio/oauth/token"},
        });
        assert_eq!(
            token_endpoint("https://app.clio.com/oauth/token", &clio),
            "http://127.0.0.1:9/clio/oauth/token"
        );
        assert_eq!(
            token_endpoint("http://127.0.0.1:9/x/oauth/token", &clio),
            "http://127.0.0.1:9/x/oauth/token"
        );
        let pipedrive = json!({"base_url": "https://127.0.0.1:9443/pipedrive", "hosts": ["oauth.pipedrive.com"]});
        assert_eq!(
            token_endpoint("https://oauth.pipedrive.com/oauth/token", &pipedrive),
            "https://127.0.0.1:9443/pipedrive/oauth/token"
        );
    }
}
