//! How every page answers: HTML with the page's security headers (a CSP
//! that runs no inline script), redirects after a POST, and the fields of
//! a form POST.

use warp::http::{HeaderValue, StatusCode};

use crate::web::{ApiError, ApiRequest};

/// An HTML answer with the page's security headers: no script but the
/// page's own, nothing loaded from elsewhere, never framed, never cached.
pub fn html(status: StatusCode, markup: maud::Markup) -> warp::reply::Response {
    let mut response = warp::reply::Response::new(markup.into_string().into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(headers);
    response
}

/// Headers every page answer carries.
pub fn secure(headers: &mut warp::http::HeaderMap) {
    headers.insert("content-security-policy", HeaderValue::from_static(CSP));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
}

/// Scripts and styles only from mockcrm itself (so an inline `<script>` or
/// `onerror=` that got past sanitising would still not run), images only
/// from here or inline, forms only to here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

/// A 303 to `location` (after a POST, so a reload does not post again).
pub fn see_other(location: &str) -> warp::reply::Response {
    let mut response = warp::reply::Response::new(Default::default());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert("location", value);
    }
    secure(response.headers_mut());
    response
}

/// The fields of a form POST (`application/x-www-form-urlencoded`).
pub fn form_fields(request: &ApiRequest) -> Result<Vec<(String, String)>, ApiError> {
    let body = request.body.as_ref().ok_or(ApiError::PayloadTooLarge {
        limit: crate::web::BODY_LIMIT,
    })?;
    if let Some(content_type) = request.header("content-type") {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(ApiError::UnsupportedMediaType(content_type.to_owned()));
        }
    }
    Ok(form_urlencoded::parse(body)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect())
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}
