//! The frame every review page shares: the document head (the page's own
//! stylesheet and script, nothing from elsewhere), the navigation, and the
//! log-out form when the viewer logged in with the key.

use maud::{html, Markup, DOCTYPE};

use super::access::Viewer;
use super::assets;

/// The sections of the page, as the navigation names them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Activities,
    Requests,
    Faults,
    Checks,
    Login,
}

pub fn page(title: &str, section: Section, viewer: &Viewer, content: Markup) -> Markup {
    let link = |target: Section, href: &str, label: &str| {
        html! {
            a href=(href) aria-current=[(target == section).then_some("page")] { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · mockcrm" }
                // No icon: a browser would otherwise ask for /favicon.ico,
                // which is a CRM path, and journal it.
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets::CSS_URL);
                script src=(assets::JS_URL) defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "mockcrm" }
                    @if section != Section::Login {
                        nav {
                            (link(Section::Activities, "/", "Activities"))
                            (link(Section::Requests, "/__review/requests", "Requests"))
                            (link(Section::Faults, "/__review/faults", "Faults"))
                            (link(Section::Checks, "/__review/checks", "Checks"))
                        }
                    }
                    @if viewer.by_cookie {
                        form.logout method="post" action="/__review/logout" {
                            input type="hidden" name="token" value=(viewer.token);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main { (content) }
            }
        }
    }
}

/// What a path segment may hold as it is; the rest is percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An activity's page.
pub fn activity_href(id: &str) -> String {
    format!(
        "/__review/activities/{}",
        percent_encoding::utf8_percent_encode(id, SEGMENT)
    )
}

/// A journal entry's page.
pub fn request_href(id: u64) -> String {
    format!("/__review/requests/{id}")
}
