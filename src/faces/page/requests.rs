//! The request journal on the page: newest first, each request with its
//! bodies and the fault that fired, if any. The list follows the journal
//! live: the page's script asks the feed for what was recorded since it
//! last asked (by the journal's recording order, so a slow request that
//! finishes late is not missed) and puts it on top, without a reload.
//! Polling rather than a held-open stream, so the page never holds a
//! connection that a server shutdown would wait for.

use std::collections::HashMap;

use maud::{html, Markup};
use warp::http::{HeaderValue, StatusCode};

use super::access::Viewer;
use super::activities::short_time;
use super::answers::html;
use super::layout::{page, request_href, Section};
use crate::harness::{Fault, JournalEntry};
use crate::web::{ApiError, ApiRequest, AppState};

/// Most entries one page or one poll shows.
const SHOWN: usize = 200;

pub fn list(state: &AppState, viewer: &Viewer) -> Result<warp::reply::Response, ApiError> {
    let journal = &state.harness.journal;
    // The newest entries and the position they reach, read together, so
    // the live feed goes on from exactly where this list ends.
    let (entries, after) = journal.recorded_after(0, SHOWN);
    let faults = fault_labels(&state.harness.faults.list(None));
    let content = html! {
        h1 { "Requests" }
        p.live-line {
            span #live-status .live { "Live" }
            " New requests appear at the top as the server answers them. Admin and review-page requests are not journaled."
        }
        div #journal data-after=(after) data-feed="/__review/requests/feed" {
            @if entries.is_empty() {
                p #journal-empty .empty { "No requests yet. Point a connector at this server, or run " code { "mockcrm log" } "." }
            }
            @for entry in &entries { (render(entry, &faults, false)) }
        }
    };
    Ok(html(
        StatusCode::OK,
        page("Requests", Section::Requests, viewer, content),
    ))
}

/// What was recorded after `?after=` (a position the page was given), as
/// HTML to put on top of the list; `X-Journal-After` says where to ask
/// from next.
pub fn feed(state: &AppState, request: &ApiRequest) -> Result<warp::reply::Response, ApiError> {
    let after = match request.query_param("after") {
        None => 0,
        Some(text) => text.parse::<u64>().map_err(|_| {
            ApiError::field(
                "after",
                format!("must be a whole number >= 0, got {text:?}"),
            )
        })?,
    };
    let (entries, next) = state.harness.journal.recorded_after(after, SHOWN);
    let faults = fault_labels(&state.harness.faults.list(None));
    let fragment = html! { @for entry in &entries { (render(entry, &faults, false)) } };
    let mut response = html(StatusCode::OK, fragment);
    if let Ok(value) = HeaderValue::from_str(&next.to_string()) {
        response.headers_mut().insert("x-journal-after", value);
    }
    Ok(response)
}

pub fn one(state: &AppState, viewer: &Viewer, id: &str) -> Result<warp::reply::Response, ApiError> {
    let entry = id
        .parse::<u64>()
        .ok()
        .and_then(|id| state.harness.journal.get(id))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no request #{id} in the journal (it keeps only the most recent ones)"
            ))
        })?;
    let faults = fault_labels(&state.harness.faults.list(None));
    let content = html! {
        p.crumbs { a href="/__review/requests" { "Requests" } }
        h1 { "Request #" (entry.id) }
        (render(&entry, &faults, true))
    };
    Ok(html(
        StatusCode::OK,
        page(
            &format!("Request #{}", entry.id),
            Section::Requests,
            viewer,
            content,
        ),
    ))
}

/// Each registered fault's id and what it does, in a few words.
fn fault_labels(faults: &[Fault]) -> HashMap<String, String> {
    faults
        .iter()
        .map(|fault| (fault.id.clone(), super::faults::describe(fault)))
        .collect()
}

fn render(entry: &JournalEntry, faults: &HashMap<String, String>, open: bool) -> Markup {
    let view = entry.view();
    let status_class = format!("status s{}xx", entry.status / 100);
    html! {
        details.request #{"req-" (entry.id)} data-id=(entry.id) open[open] {
            summary {
                span.num { "#" (entry.id) }
                span.time { (short_time(&entry.at)) }
                span.method { (entry.method) }
                span.path { (entry.path) @if !entry.query.is_empty() { "?" (entry.query) } }
                span class=(status_class) { (entry.status) }
                span.ms { (format!("{:.1} ms", entry.duration_ms)) }
                @if let Some(fault) = &entry.fault_id {
                    span.fault {
                        "fault " (fault)
                        @if let Some(label) = faults.get(fault) { ": " (label) }
                    }
                }
            }
            div.bodies {
                div {
                    h4 { "Request body" }
                    pre { (pretty(&view.request_body)) }
                }
                div {
                    h4 { "Response body" }
                    pre { (pretty(&view.response_body)) }
                }
            }
            p.permalink { a href=(request_href(entry.id)) { "Link to this request" } }
        }
    }
}

fn pretty(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "(none)".into(),
        serde_json::Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}
