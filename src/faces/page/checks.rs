//! Checks on the page: every contract violation the stored data shows,
//! each linked to the activities behind it.

use maud::html;
use warp::http::StatusCode;

use super::access::Viewer;
use super::answers::html;
use super::layout::{activity_href, page, Section};
use crate::store::Violation;
use crate::web::{ApiError, AppState};

pub async fn list(state: &AppState, viewer: &Viewer) -> Result<warp::reply::Response, ApiError> {
    let violations = state.store.read(|store| store.violations(None)).await?;
    let content = html! {
        h1 { "Checks" }
        @if violations.is_empty() {
            p.ok { "No violations: every call session has one activity, and no activity has an empty body." }
        } @else {
            p { (violations.len()) @if violations.len() == 1 { " violation" } @else { " violations" } }
            ul.violations {
                @for violation in &violations {
                    li {
                        @match violation {
                            Violation::DuplicateSession { organisation, session_id, activity_ids, .. } => {
                                strong { "Duplicate session" }
                                " — " (organisation) ": call session " code { (session_id) }
                                " became " (activity_ids.len()) " activities: "
                                @for (index, id) in activity_ids.iter().enumerate() {
                                    @if index > 0 { ", " }
                                    a href=(activity_href(id)) { (id) }
                                }
                            }
                            Violation::EmptyBody { organisation, activity_id, session_id, .. } => {
                                strong { "Empty body" }
                                " — " (organisation) ": "
                                a href=(activity_href(activity_id)) { (activity_id) }
                                @if let Some(session_id) = session_id { " (session " code { (session_id) } ")" }
                                " was written with nothing in its body"
                            }
                            Violation::DuplicateMessage { organisation, message_id, activity_ids, .. } => {
                                strong { "Duplicate message" }
                                " — " (organisation) ": message " code { (message_id) }
                                " was logged " (activity_ids.len()) " times: "
                                @for (index, id) in activity_ids.iter().enumerate() {
                                    @if index > 0 { ", " }
                                    a href=(activity_href(id)) { (id) }
                                }
                            }
                            Violation::SplitConversation { organisation, conversation_log_id, activity_ids, .. } => {
                                strong { "Split conversation" }
                                " — " (organisation) ": conversation " code { (conversation_log_id) }
                                " became " (activity_ids.len()) " message logs: "
                                @for (index, id) in activity_ids.iter().enumerate() {
                                    @if index > 0 { ", " }
                                    a href=(activity_href(id)) { (id) }
                                }
                            }
                            Violation::UnknownFields { organisation, activity_id, fields, .. } => {
                                strong { "Unknown fields" }
                                " — " (organisation) ": a write to "
                                a href=(activity_href(activity_id)) { (activity_id) }
                                " carried only fields the API does not know ("
                                @for (index, field) in fields.iter().enumerate() {
                                    @if index > 0 { ", " }
                                    code { (field) }
                                }
                                "), so it changed nothing you can see"
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(html(
        StatusCode::OK,
        page("Checks", Section::Checks, viewer, content),
    ))
}
