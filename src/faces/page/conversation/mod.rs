//! A message log shown as a conversation: one row per entry (time,
//! speaker, text), attachments as links, a shared-SMS thread's notes and
//! assignments marked. `parse.rs` reads the body; this draws it. Every
//! string comes from a connector, so all of it goes through maud's
//! escaping, and only `http(s)` links become hrefs: anything else is shown
//! as text. Never writes anything and never fails: a body it cannot read
//! is left to the page's usual rendering.

mod parse;

use maud::{html, Markup};

use crate::store::Activity;
pub use parse::{parse, Conversation};
use parse::{EntryKind, Layout, Link};

/// Whether `activity` is a message log: it belongs to a conversation or
/// records an SMS, a fax or a voicemail.
pub fn is_message_log(activity: &Activity) -> bool {
    activity.conversation_log_id.is_some()
        || matches!(activity.activity_type.as_str(), "SMS" | "Fax" | "Voicemail")
}

/// The activity's body read as a conversation, when it is a message log
/// and its body can be read.
pub fn of(activity: &Activity) -> Option<Conversation> {
    if !is_message_log(activity) {
        return None;
    }
    parse(&activity.body, &activity.body_format, &activity.subject)
}

/// The list page's mark: the log's type and how many messages it holds.
pub fn mark(activity: &Activity) -> Option<String> {
    if !is_message_log(activity) {
        return None;
    }
    let kind = match activity.activity_type.as_str() {
        "" => "Message log",
        other => other,
    };
    let counted = of(activity)
        .filter(|conversation| conversation.messages() > 0)
        .map(|conversation| conversation.messages())
        .unwrap_or(activity.message_ids.len());
    Some(match counted {
        0 => kind.to_owned(),
        1 => format!("{kind} · 1 message"),
        n => format!("{kind} · {n} messages"),
    })
}

/// The conversation as rows; `received_at` stands in for an entry's
/// missing time where the log records one file (voicemail, fax).
pub fn render(conversation: &Conversation, received_at: &str) -> Markup {
    let layout = match conversation.layout {
        Layout::Conversation => "SMS conversation",
        Layout::SharedSms => "Shared SMS thread",
        Layout::Voicemail => "Voicemail",
        Layout::Fax => "Fax",
    };
    let file_time = super::activities::short_time(received_at);
    html! {
        p.meta {
            span.badge { (layout) } " "
            (conversation.messages()) @if conversation.messages() == 1 { " message" } @else { " messages" }
            " · " (conversation.entries.len()) @if conversation.entries.len() == 1 { " entry" } @else { " entries" }
        }
        ol.conversation {
            @for entry in &conversation.entries {
                @let kind = match entry.kind {
                    EntryKind::Message => "message",
                    EntryKind::Note => "note",
                    EntryKind::Assignment => "assignment",
                    EntryKind::File => "file",
                };
                li class={ "entry " (kind) } {
                    span.time {
                        @match (&entry.time, entry.kind) {
                            (Some(time), _) => (time),
                            (None, EntryKind::File) => (file_time),
                            (None, _) => "",
                        }
                    }
                    @match entry.kind {
                        EntryKind::Assignment => {
                            span.tag { "Assignment" } " "
                            span.text { "Conversation assigned to " b.speaker { (entry.speaker) } }
                        }
                        _ => {
                            @if entry.kind == EntryKind::Note { span.tag { "Note" } " " }
                            b.speaker { (entry.speaker) }
                            @if !entry.text.is_empty() { div.text { (entry.text) } }
                        }
                    }
                    @if !entry.links.is_empty() {
                        ul.links {
                            @for link in &entry.links { li { (attachment(link)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A link when it is `http(s)`, else its text: a connector's
/// `javascript:` or `data:` never becomes something to click.
fn attachment(link: &Link) -> Markup {
    html! {
        (link.title) ": "
        @if safe_href(&link.href) {
            a href=(link.href) rel="noopener noreferrer" target="_blank" { (link.href) }
        } @else {
            span.unsafe-link { (link.href) }
        }
    }
}

fn safe_href(href: &str) -> bool {
    let lower = href.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !href.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_become_hrefs_and_all_text_is_escaped() {
        let conversation = Conversation {
            layout: Layout::Conversation,
            entries: vec![parse::Entry {
                kind: EntryKind::Message,
                time: Some("09:00 AM".into()),
                speaker: "<script>alert(1)</script>".into(),
                text: "<img src=x onerror=alert(2)>".into(),
                links: vec![
                    Link {
                        title: "Image".into(),
                        href: "https://m.example/a?x=1&y=\"2\"".into(),
                    },
                    Link {
                        title: "Video".into(),
                        href: "javascript:alert(3)".into(),
                    },
                    Link {
                        title: "Video".into(),
                        href: "https://m.example/a b".into(),
                    },
                ],
            }],
        };
        let html = render(&conversation, "2025-06-03T14:05:09Z").into_string();
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("href=\"https://m.example/a?x=1&amp;y=&quot;2&quot;\""),
            "{html}"
        );
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(!html.contains("href=\"https://m.example/a b\""), "{html}");
        assert!(
            html.contains("<span class=\"unsafe-link\">javascript:alert(3)</span>"),
            "{html}"
        );
    }
}
