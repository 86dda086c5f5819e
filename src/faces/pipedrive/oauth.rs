//! Pipedrive's OAuth server (`oauth.pipedrive.com`): `POST /oauth/token`
//! (authorization code and refresh token grants, client credentials by
//! HTTP Basic as App Connect sends them) and `POST /oauth/revoke`, on the
//! kit's shared OAuth (`web::oauth`). Errors are Pipedrive's OAuth ones:
//! `{"success": false, "message", "error", "error_description"}`, 400 (401
//! for a bad client).

use serde_json::{json, Value};
use warp::http::StatusCode;

use super::wire::company_domain;
use crate::store::CrmSecret;
use crate::web::oauth::{self, Client, OAuthError};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// The client App Connect's deployment is configured with
/// (`PIPEDRIVE_CLIENT_ID`, `PIPEDRIVE_CLIENT_SECRET`).
pub const CLIENT: Client = Client {
    id: "mockcrm-pipedrive-client",
    secret: "mockcrm-pipedrive-client-secret",
};

/// What a Pipedrive token grants (what App Connect's app asks for).
const SCOPE: &str = "base,deals:full,activities:full,contacts:full,users:read,leads:read";

/// `POST /oauth/token`.
pub async fn token(state: &AppState, request: &ApiRequest) -> ApiResponse {
    match oauth::exchange(state, super::NAME, CLIENT, request).await {
        Ok(tokens) => ApiResponse::ok(json!({
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token,
            "scope": SCOPE,
            "api_domain": format!(
                "https://{}.pipedrive.com",
                company_domain(&tokens.caller.organisation)
            ),
        })),
        Err(error) => refusal(&error),
    }
}

/// `POST /oauth/revoke` (form `token=…[&token_type_hint=…]`, the client by
/// Basic): the token, access or refresh, is unusable from now on. As RFC
/// 7009 says, an unknown token is no error.
pub async fn revoke(state: &AppState, request: &ApiRequest) -> ApiResponse {
    if !client_is_ours(request) {
        return refusal(&OAuthError::InvalidClient);
    }
    let body = request.body.as_deref().unwrap_or_default();
    let token = form_urlencoded::parse(body)
        .chain(form_urlencoded::parse(request.query.as_bytes()))
        .find(|(key, value)| key == "token" && !value.is_empty())
        .map(|(_, value)| value.into_owned());
    let Some(token) = token else {
        return refusal(&OAuthError::InvalidRequest(
            "Missing parameter: token".into(),
        ));
    };
    let revoked = state
        .store
        .run(move |store| {
            let mut any = false;
            for kind in [oauth::ACCESS_TOKEN, oauth::REFRESH_TOKEN] {
                let which = CrmSecret {
                    crm: super::NAME,
                    kind,
                };
                any |= store.revoke_crm_secret(&which, &token)?;
            }
            Ok(any)
        })
        .await;
    match revoked {
        Ok(_) => ApiResponse::ok(json!({"success": true})),
        Err(error) => refusal(&OAuthError::Store(error)),
    }
}

/// Whether the request's Basic credentials are App Connect's client.
fn client_is_ours(request: &ApiRequest) -> bool {
    use base64::Engine;
    let Some((scheme, encoded)) = request
        .header("authorization")
        .and_then(|value| value.trim().split_once(' '))
    else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .is_some_and(|text| text == format!("{}:{}", CLIENT.id, CLIENT.secret))
}

/// An OAuth error as Pipedrive's OAuth server answers it.
fn refusal(error: &OAuthError) -> ApiResponse {
    let status = match error {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match error {
        OAuthError::InvalidClient => "Invalid client: client is invalid".to_owned(),
        OAuthError::InvalidGrant(what) => format!("Invalid grant: {what} is invalid"),
        OAuthError::UnsupportedGrantType(_) => {
            "Unsupported grant type: grant_type is invalid".into()
        }
        OAuthError::InvalidRequest(text) => format!("Invalid request: {text}"),
        OAuthError::Store(_) => "Temporarily unavailable".into(),
    };
    ApiResponse::json(
        status,
        json!({
            "success": false,
            "message": message,
            "error": error.code(),
            "error_description": error.to_string(),
            "data": Value::Null,
        }),
    )
}
