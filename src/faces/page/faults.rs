//! Faults on the page: the registered ones with how often each fired, a
//! form to add one, and a button to remove each. The form's fields are the
//! admin API's (`POST /__admin/faults`) and are checked by the same rules.

use maud::{html, Markup};
use warp::http::StatusCode;

use super::access::Viewer;
use super::answers::{field, form_fields, html, see_other};
use super::layout::{page, Section};
use crate::harness::{Fault, FaultKind, FaultSpec};
use crate::web::{ApiError, ApiRequest, AppState};

pub fn list(state: &AppState, viewer: &Viewer) -> Result<warp::reply::Response, ApiError> {
    Ok(html(StatusCode::OK, view(state, viewer, &[], None)))
}

pub fn add(
    state: &AppState,
    request: &ApiRequest,
    viewer: &Viewer,
) -> Result<warp::reply::Response, ApiError> {
    let fields = form_fields(request)?;
    match spec(&fields) {
        Ok(spec) => {
            state.harness.faults.add(spec);
            Ok(see_other("/__review/faults"))
        }
        Err(problem) => Ok(html(
            StatusCode::BAD_REQUEST,
            view(state, viewer, &fields, Some(&problem)),
        )),
    }
}

pub fn remove(state: &AppState, id: &str) -> Result<warp::reply::Response, ApiError> {
    if state.harness.faults.remove(id, None) {
        Ok(see_other("/__review/faults"))
    } else {
        Err(ApiError::NotFound(format!("no fault with id {id:?}")))
    }
}

/// The form's fields as a fault, or what is wrong with them.
fn spec(fields: &[(String, String)]) -> Result<FaultSpec, String> {
    let text = |name: &str| field(fields, name).map(str::trim).filter(|v| !v.is_empty());
    fn number<T: std::str::FromStr>(value: Option<&str>, name: &str) -> Result<Option<T>, String> {
        value
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| format!("{name}: {v:?} is not a number"))
            })
            .transpose()
    }
    let spec = FaultSpec {
        method: text("method").map(str::to_ascii_uppercase),
        path: text("path").unwrap_or_default().to_owned(),
        status: number(text("status"), "status")?,
        retry_after: number(text("retry_after"), "retry_after")?,
        delay_ms: number(text("delay_ms"), "delay_ms")?.unwrap_or(0),
        times: number(text("times"), "times")?,
        probability: number(text("probability"), "probability")?.unwrap_or(1.0),
        after_commit: text("after_commit").is_some(),
        kind: match text("kind") {
            None => FaultKind::Status,
            Some(kind) => serde_json::from_value(serde_json::Value::from(kind)).map_err(|_| {
                format!("kind: {kind:?} is not status, reset, empty, truncated or dribble")
            })?,
        },
        org: None,
    };
    spec.validate()
        .map_err(|(field, message)| format!("{field}: {message}"))?;
    Ok(spec)
}

/// What a fault does, in a few words.
pub fn describe(fault: &Fault) -> String {
    let spec = &fault.spec;
    let mut parts = Vec::new();
    if spec.kind != FaultKind::Status {
        parts.push(format!("{} the connection", spec.kind));
    }
    if let Some(org) = &spec.org {
        parts.push(format!("for {org} only"));
    }
    if let Some(status) = spec.status {
        parts.push(format!("answers {status}"));
    }
    if spec.after_commit {
        parts.push("after commit".into());
    }
    if let Some(retry_after) = spec.retry_after {
        parts.push(format!("Retry-After {retry_after} s"));
    }
    if spec.delay_ms > 0 {
        parts.push(format!("delays {} ms", spec.delay_ms));
    }
    parts.join(", ")
}

fn view(
    state: &AppState,
    viewer: &Viewer,
    fields: &[(String, String)],
    problem: Option<&str>,
) -> Markup {
    let faults = state.harness.faults.list(None);
    let value = |name: &str| field(fields, name).unwrap_or_default().to_owned();
    let content = html! {
        h1 { "Faults" }
        p.quiet { "A fault makes matching CRM requests fail or slow down on purpose. A path ending in * is a prefix." }
        @if faults.is_empty() {
            p.empty { "No faults registered." }
        } @else {
            table.faults {
                thead { tr { th { "Id" } th { "Method" } th { "Path" } th { "Does" } th { "Times" } th { "Probability" } th { "Fired" } th {} } }
                tbody {
                    @for fault in &faults {
                        tr {
                            td.mono { (fault.id) }
                            td { (fault.spec.method.as_deref().unwrap_or("any")) }
                            td.mono { (fault.spec.path) }
                            td { (describe(fault)) }
                            td.num { @if let Some(times) = fault.spec.times { (times) } @else { "∞" } }
                            td.num { (fault.spec.probability) }
                            td.num { (fault.fired) }
                            td {
                                form method="post" action={ "/__review/faults/" (fault.id) "/remove" } {
                                    input type="hidden" name="token" value=(viewer.token);
                                    button.danger type="submit" { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Add a fault" }
        @if let Some(problem) = problem {
            p.error role="alert" { (problem) }
        }
        form.add-fault method="post" action="/__review/faults" {
            input type="hidden" name="token" value=(viewer.token);
            label { "Method " select name="method" {
                @for method in ["", "GET", "POST", "PATCH", "PUT", "DELETE"] {
                    option value=(method) selected[value("method").eq_ignore_ascii_case(method)] {
                        @if method.is_empty() { "any" } @else { (method) }
                    }
                }
            } }
            label { "Path " input type="text" name="path" required placeholder="/activity" value=(value("path")); }
            label { "Status " input type="number" name="status" min="400" max="599" placeholder="503" value=(value("status")); }
            label { "Retry-After (s) " input type="number" name="retry_after" min="0" value=(value("retry_after")); }
            label { "Delay (ms) " input type="number" name="delay_ms" min="0" max="60000" value=(value("delay_ms")); }
            label { "Times " input type="number" name="times" min="1" placeholder="until removed" value=(value("times")); }
            label { "Probability " input type="number" name="probability" min="0" max="1" step="any" placeholder="1" value=(value("probability")); }
            label.check { input type="checkbox" name="after_commit" value="on" checked[field(fields, "after_commit").is_some()]; " After commit (the write happens, the answer is lost)" }
            button type="submit" { "Add fault" }
        }
    };
    page("Faults", Section::Faults, viewer, content)
}
