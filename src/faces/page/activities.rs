//! The activities pages: the list (newest first, filtered by organisation,
//! contact, session and text) and one activity: its body as its CRM shows
//! it, the raw body, its fields, its revisions and any two of them
//! compared.

use maud::{html, Markup};
use warp::http::StatusCode;

use super::access::Viewer;
use super::answers::html;
use super::layout::{activity_href, page, request_href, Section};
use super::{body, conversation, diff};
use crate::store::{Activity, AdminActivity, AdminActivityFilter, Organisation, Revision};
use crate::web::{encode_cursor, org_param, page_params, ApiError, ApiRequest, AppState};

pub async fn list(
    state: &AppState,
    request: &ApiRequest,
    viewer: &Viewer,
) -> Result<warp::reply::Response, ApiError> {
    let named = org_param(state, request).await?;
    let shown_org = named.as_ref().map(|org| org.organisation.id.clone());
    let organisation_id = named.map(|org| org.key);
    let (limit, before_seq) = page_params(request)?;
    let given = |name: &str| {
        request
            .query_param(name)
            .filter(|value| !value.trim().is_empty())
    };
    let filter = AdminActivityFilter {
        organisation_id,
        contact_id: given("contact_id"),
        session_id: given("session_id"),
        text: given("q"),
        before_seq,
        limit,
    };
    let shown = filter.clone();
    let (organisations, listing) = state
        .store
        .read(move |store| Ok((store.organisations()?, store.admin_activities(&filter)?)))
        .await?;
    let mut organisations = organisations;
    organisations.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let older = listing.next_seq.map(|seq| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("org", shown_org.clone()),
            ("contact_id", shown.contact_id.clone()),
            ("session_id", shown.session_id.clone()),
            ("q", shown.text.clone()),
            ("limit", request.query_param("limit")),
            ("cursor", Some(encode_cursor(seq))),
        ] {
            if let Some(value) = value {
                query.append_pair(name, &value);
            }
        }
        format!("/?{}", query.finish())
    });
    let content = html! {
        h1 { "Activities" }
        (filters(&organisations, &shown, shown_org.as_deref()))
        @if listing.items.is_empty() {
            p.empty {
                @if shown == (AdminActivityFilter { limit: shown.limit, ..AdminActivityFilter::default() }) {
                    "No activities yet. Log a call (for example "
                    code { "mockcrm log fixtures/create-call-log/outbound-recording-pending.json" }
                    ") and it appears here."
                } @else {
                    "No activity matches these filters."
                }
            }
        } @else {
            table.activities {
                thead {
                    tr {
                        th { "Updated" } th { "Subject" } th { "Organisation" } th { "Contact" }
                        th { "Session" } th { "Format" } th { "Duration" } th { "Via" } th { "Revisions" }
                    }
                }
                tbody {
                    @for item in &listing.items { (row(item)) }
                }
            }
        }
        @if let Some(older) = &older {
            p.pager { a rel="next" href=(older) { "Older activities →" } }
        }
    };
    Ok(html(
        StatusCode::OK,
        page("Activities", Section::Activities, viewer, content),
    ))
}

fn filters(
    organisations: &[Organisation],
    shown: &AdminActivityFilter,
    shown_org: Option<&str>,
) -> Markup {
    html! {
        form.filters method="get" action="/" role="search" {
            label {
                "Organisation "
                select name="org" {
                    option value="" { "All" }
                    @for organisation in organisations {
                        option value=(organisation.id)
                            selected[shown_org == Some(organisation.id.as_str())] {
                            (organisation.name)
                        }
                    }
                }
            }
            label { "Contact " input type="text" name="contact_id" placeholder="contact-1" value=[shown.contact_id.as_deref()]; }
            label { "Session " input type="text" name="session_id" placeholder="session id" value=[shown.session_id.as_deref()]; }
            label { "Text " input type="search" name="q" placeholder="in subject or body" value=[shown.text.as_deref()]; }
            button type="submit" { "Filter" }
            a href="/" { "Clear" }
        }
    }
}

fn row(item: &AdminActivity) -> Markup {
    let activity = &item.activity;
    html! {
        tr {
            td.time { (short_time(&activity.updated_at)) }
            td {
                a href=(activity_href(&activity.id)) { (activity.subject) }
                @if let Some(mark) = conversation::mark(activity) {
                    " " span.badge.message-log { (mark) }
                }
            }
            td { (item.organisation.name) }
            td { (activity.contact_id.as_deref().unwrap_or("")) }
            td.mono { (activity.session_id.as_deref().unwrap_or("")) }
            td { (format_name(&activity.body_format)) }
            td { (duration(activity)) }
            td { (face(activity)) }
            td.num { (item.revisions) }
        }
    }
}

pub async fn one(
    state: &AppState,
    request: &ApiRequest,
    viewer: &Viewer,
    id: String,
) -> Result<warp::reply::Response, ApiError> {
    let org = org_param(state, request).await?.map(|org| org.key);
    let lookup = id.clone();
    let found = state
        .store
        .read(move |store| {
            Ok((
                store.admin_activity(org, &lookup)?,
                store.revisions(org, &lookup)?,
            ))
        })
        .await?;
    let (Some(item), Some((_, revisions))) = found else {
        return Err(ApiError::NotFound(format!("no activity with id {id:?}")));
    };
    let pick = |name: &str| -> Result<Option<usize>, ApiError> {
        let Some(text) = request.query_param(name).filter(|text| !text.is_empty()) else {
            return Ok(None);
        };
        text.parse::<usize>()
            .ok()
            .filter(|n| (1..=revisions.len()).contains(n))
            .map(Some)
            .ok_or_else(|| {
                ApiError::field(
                    name,
                    format!(
                        "must be a revision number from 1 to {}, got {text:?}",
                        revisions.len()
                    ),
                )
            })
    };
    let to = pick("to")?.unwrap_or(revisions.len());
    let from = pick("from")?.unwrap_or(to.saturating_sub(1).max(1));
    let activity = &item.activity;
    let content = html! {
        p.crumbs { a href="/" { "Activities" } " / " (item.organisation.name) }
        h1 { (activity.subject) }
        p.meta {
            span.badge { (format_name(&activity.body_format)) }
            " " span.mono { (activity.id) }
            " · created " (short_time(&activity.created_at))
            " · updated " (short_time(&activity.updated_at))
            " · " (revisions.len()) @if revisions.len() == 1 { " revision" } @else { " revisions" }
            @if let Some(created) = revisions.first() {
                " · written through " span.face { (face(&created.state)) }
            }
        }
        @if let Some(thread) = conversation::of(activity) {
            section #conversation {
                h2 { "Conversation" }
                (conversation::render(&thread, &activity.received_at))
            }
        }
        section #rendered {
            h2 { "As the CRM shows it" }
            (body::render(&activity.body, &activity.body_format))
        }
        section #raw {
            details {
                summary { "Raw body (" (activity.body.len()) " bytes)" }
                pre.raw { (activity.body) }
            }
        }
        section #revisions {
            h2 { "Revisions" }
            (revision_table(&revisions))
            @if revisions.len() > 1 {
                (compare(&revisions, from, to))
            }
        }
        section #fields {
            h2 { "Fields" }
            (fields(activity))
        }
    };
    Ok(html(
        StatusCode::OK,
        page(&activity.subject, Section::Activities, viewer, content),
    ))
}

fn fields(activity: &Activity) -> Markup {
    html! {
        table.fields {
            tbody {
                @for (name, value) in diff::fields(activity) {
                    @if name != "body" {
                        tr {
                            th scope="row" { (name) }
                            td.mono {
                                @match &value {
                                    serde_json::Value::String(text) => (text),
                                    serde_json::Value::Null => span.quiet { "(none)" },
                                    other => (other.to_string()),
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The face a write came through (`redtail`, `native`, `proxy:<config>`),
/// or a dash for writes made before mockcrm kept it.
fn face(activity: &Activity) -> &str {
    activity.via.as_deref().unwrap_or("—")
}

fn revision_table(revisions: &[Revision]) -> Markup {
    html! {
        table.revisions {
            thead { tr { th { "#" } th { "Written" } th { "Through" } th { "Request" } th { "What changed" } th {} } }
            tbody {
                @for (index, revision) in revisions.iter().enumerate() {
                    tr {
                        td.num { (revision.number) }
                        td.time { (short_time(&revision.state.updated_at)) }
                        td { (face(&revision.state)) }
                        td {
                            @if let Some(request) = revision.request_id {
                                a href=(request_href(request)) { "#" (request) }
                            } @else {
                                span.quiet { "—" }
                            }
                        }
                        td {
                            @if index == 0 {
                                "created"
                            } @else {
                                (diff::changed_fields(&revisions[index - 1].state, &revision.state).join(", "))
                            }
                        }
                        td {
                            @if index > 0 {
                                a href={ "?from=" (index) "&to=" (index + 1) "#compare" } { "compare with #" (index) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn compare(revisions: &[Revision], from: usize, to: usize) -> Markup {
    let choose = |name: &str, chosen: usize| {
        html! {
            select name=(name) {
                @for revision in revisions {
                    option value=(revision.number) selected[revision.number as usize == chosen] {
                        "#" (revision.number) " · " (short_time(&revision.state.updated_at))
                    }
                }
            }
        }
    };
    html! {
        div #compare {
            form.compare method="get" action="#compare" {
                "Compare " (choose("from", from)) " with " (choose("to", to)) " "
                button type="submit" { "Compare" }
            }
            h3 { "Revision #" (from) " → #" (to) }
            (diff::render(&revisions[from - 1].state, &revisions[to - 1].state))
        }
    }
}

/// An RFC 3339 time to the second, as people read it.
pub fn short_time(time: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(time) {
        Ok(parsed) => parsed
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        Err(_) => time.to_owned(),
    }
}

fn format_name(format: &str) -> &str {
    match format {
        "text/html" => "HTML",
        "text/markdown" => "Markdown",
        "text/plain" => "Plain text",
        other => other,
    }
}

fn duration(activity: &Activity) -> String {
    match &activity.duration {
        Some(serde_json::Value::Number(seconds)) => seconds
            .as_u64()
            .map(|seconds| {
                crate::compose::format_duration(&crate::interface::CallDuration::Seconds(seconds))
            })
            .unwrap_or_else(|| seconds.to_string()),
        Some(serde_json::Value::String(word)) => word.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
