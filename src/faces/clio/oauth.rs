//! Clio's OAuth server: `POST /oauth/token` (authorization code and refresh
//! token grants, the client's id and secret as form parameters as App
//! Connect sends them, or HTTP Basic) and `POST /oauth/deauthorize` (what
//! App Connect's sign-out calls), on the kit's shared OAuth (`web::oauth`).
//! Errors are RFC 6749's `{"error", "error_description"}`, 400 (401 for a
//! bad client), as Clio's OAuth server answers them.

use serde_json::json;
use warp::http::StatusCode;

use crate::store::CrmSecret;
use crate::web::oauth::{self, Client, OAuthError};
use crate::web::{ApiRequest, ApiResponse, AppState};

/// The client App Connect's deployment is configured with
/// (`CLIO_CLIENT_ID`, `CLIO_CLIENT_SECRET` and the regions' variants).
pub const CLIENT: Client = Client {
    id: "mockcrm-clio-client",
    secret: "mockcrm-clio-client-secret",
};

/// `POST /oauth/token`.
pub async fn token(state: &AppState, request: &ApiRequest) -> ApiResponse {
    match oauth::exchange(state, super::NAME, CLIENT, request).await {
        Ok(tokens) => ApiResponse::ok(json!({
            "token_type": "bearer",
            "access_token": tokens.access_token,
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token,
        })),
        Err(error) => refusal(&error),
    }
}

/// `POST /oauth/deauthorize` (form `token=…`, or the Bearer token itself):
/// the token, access or refresh, and from then on it is refused. An unknown
/// token is no error (RFC 7009), but a request naming none is.
pub async fn deauthorize(state: &AppState, request: &ApiRequest) -> ApiResponse {
    let body = request.body.as_deref().unwrap_or_default();
    let token = form_urlencoded::parse(body)
        .chain(form_urlencoded::parse(request.query.as_bytes()))
        .find(|(key, value)| key == "token" && !value.is_empty())
        .map(|(_, value)| value.into_owned())
        .or_else(|| match oauth::bearer(request, super::NAME) {
            Some(crate::web::crm::Credential::Secret { secret, .. }) => Some(secret),
            _ => None,
        });
    let Some(token) = token else {
        return refusal(&OAuthError::InvalidRequest(
            "token is missing: send token=<access or refresh token>".into(),
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
        Ok(_) => ApiResponse::ok(json!({})),
        Err(error) => refusal(&OAuthError::Store(error)),
    }
}

/// An OAuth error as Clio's OAuth server answers it.
fn refusal(error: &OAuthError) -> ApiResponse {
    let status = match error {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        OAuthError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiResponse::json(
        status,
        json!({"error": error.code(), "error_description": error.to_string()}),
    )
}
