//! Logging in to the review page when the server listens on more than
//! loopback: a form that takes the admin key and keeps it in an HttpOnly,
//! SameSite=Strict cookie, and logging out again.

use maud::html;
use warp::http::{HeaderValue, StatusCode};

use super::access::{Access, Viewer};
use super::answers::{field, form_fields, html, see_other};
use super::layout::{page, Section};
use crate::web::ApiRequest;

/// A page that needs the key, asked for without it: a browser goes to the
/// form (and comes back after), anything else is told what to send.
pub fn required(request: &ApiRequest) -> warp::reply::Response {
    if request.method == warp::http::Method::GET {
        let mut next = request.path.clone();
        if !request.query.is_empty() {
            next = format!("{next}?{}", request.query);
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &next)
            .finish();
        return see_other(&format!("/__review/login?{query}"));
    }
    crate::web::ApiError::AdminUnauthorized
        .into_response()
        .into_warp()
}

pub fn form(request: &ApiRequest, viewer: &Viewer, problem: Option<&str>) -> warp::reply::Response {
    let next = safe_next(request.query_param("next").as_deref());
    let status = if problem.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    let content = html! {
        h1 { "Log in" }
        p { "This server listens on more than this machine, so the review page needs its admin key (" code { "--admin-key" } ")." }
        @if let Some(problem) = problem {
            p.error role="alert" { (problem) }
        }
        form.login method="post" action="/__review/login" {
            input type="hidden" name="token" value=(viewer.token);
            input type="hidden" name="next" value=(next);
            label { "Admin key " input type="password" name="key" required autofocus autocomplete="current-password"; }
            button type="submit" { "Log in" }
        }
    };
    html(status, page("Log in", Section::Login, viewer, content))
}

pub fn login(access: &Access, request: &ApiRequest, viewer: &Viewer) -> warp::reply::Response {
    let fields = form_fields(request).unwrap_or_default();
    let key = field(&fields, "key").unwrap_or_default();
    let next = safe_next(field(&fields, "next"));
    if !access.is_admin_key(key) {
        let mut retry = request.clone();
        retry.query = form_urlencoded::Serializer::new(String::new())
            .append_pair("next", &next)
            .finish();
        return form(&retry, viewer, Some("That is not this server's admin key."));
    }
    let mut response = see_other(&next);
    if let Ok(cookie) = HeaderValue::from_str(&Access::login_cookie(key)) {
        response.headers_mut().insert("set-cookie", cookie);
    }
    response
}

pub fn logout() -> warp::reply::Response {
    let mut response = see_other("/__review/login");
    if let Ok(cookie) = HeaderValue::from_str(&Access::logout_cookie()) {
        response.headers_mut().insert("set-cookie", cookie);
    }
    response
}

/// Where to go after logging in: a path on this server, never elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}
