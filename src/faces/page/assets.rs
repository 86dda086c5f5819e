//! The page's stylesheet and script, compiled into the binary
//! (`assets/`) and served from here: the page loads nothing from the
//! network and needs no build step.

use warp::http::{HeaderValue, StatusCode};

use crate::web::ApiError;

pub const CSS_URL: &str = "/__review/assets/review.css";
pub const JS_URL: &str = "/__review/assets/review.js";

const CSS: &str = include_str!("assets/review.css");
const JS: &str = include_str!("assets/review.js");

pub fn serve(name: &str) -> Result<warp::reply::Response, ApiError> {
    let (body, content_type) = match name {
        "review.css" => (CSS, "text/css; charset=utf-8"),
        "review.js" => (JS, "text/javascript; charset=utf-8"),
        other => {
            return Err(ApiError::NotFound(format!(
                "no review page asset {other:?}"
            )))
        }
    };
    let mut response = warp::reply::Response::new(body.into());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    super::answers::secure(headers);
    headers.insert("content-type", HeaderValue::from_static(content_type));
    // Small, and they change with the binary: ask again each time.
    headers.insert("cache-control", HeaderValue::from_static("no-cache"));
    Ok(response)
}
