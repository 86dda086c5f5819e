//! An activity's body as its CRM would show it: HTML sanitised and
//! rendered, Markdown rendered (and sanitised too, since Markdown may hold
//! raw HTML), plain text as written. Sanitising keeps what a CRM's rich
//! text keeps (text formatting, lists, tables, links, images) and drops
//! scripts, event handlers, styles, forms and frames: a connector's body
//! never runs anything in the reviewer's browser.

use maud::{html, Markup, PreEscaped};
use pulldown_cmark::{Event, Options, Parser};

/// The body rendered for `format` (`text/html`, `text/markdown`, else plain).
pub fn render(body: &str, format: &str) -> Markup {
    match format {
        "text/html" => html! { div.crm-body.html { (PreEscaped(sanitise(body))) } },
        "text/markdown" => html! { div.crm-body.markdown { (PreEscaped(markdown(body))) } },
        _ => html! { pre.crm-body.plain { (body) } },
    }
}

/// HTML that keeps formatting and links and loses everything that acts.
pub fn sanitise(html: &str) -> String {
    ammonia::Builder::default()
        .add_tag_attributes("a", &["target"])
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

/// Markdown as CommonMark renders it, with GitHub's tables and
/// strikethrough, and each line break kept: App Connect writes one field
/// per line (`**Duration**: 2 minutes`), and the CRMs that take Markdown
/// show those as lines, not run together into one paragraph.
pub fn markdown(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    sanitise(&html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_are_dropped_and_formatting_kept() {
        let clean = sanitise(
            "<b>Agent notes</b><br><script>alert(1)</script><img src=x onerror=alert(2)>\
             <li><b>Duration</b>: 2 minutes</li><a target=\"_blank\" href=\"https://r.example/1\">open</a>\
             <iframe src=\"https://evil.example\"></iframe><p style=\"color:red\" onclick=\"x()\">p</p>",
        );
        for gone in [
            "<script", "alert(1)", "onerror", "<iframe", "onclick", "style=",
        ] {
            assert!(!clean.contains(gone), "{gone} in {clean}");
        }
        for kept in [
            "<b>Agent notes</b>",
            "<li><b>Duration</b>: 2 minutes</li>",
            "href=\"https://r.example/1\"",
            "target=\"_blank\"",
            "noopener",
        ] {
            assert!(clean.contains(kept), "{kept} not in {clean}");
        }
    }

    #[test]
    fn markdown_keeps_its_lines_and_loses_raw_scripts() {
        let html = markdown("## Agent notes\nhi\n\n## Call details\n**Duration**: 2 minutes\n**Result**: Missed\n<script>alert(1)</script>");
        assert!(html.contains("<h2>Call details</h2>"), "{html}");
        assert!(
            html.contains("<strong>Duration</strong>: 2 minutes<br>"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn plain_text_is_escaped_as_written() {
        let markup = render(
            "- Note: <b>not bold</b>\n- Duration: 5 seconds",
            "text/plain",
        )
        .into_string();
        assert!(
            markup.contains("&lt;b&gt;not bold&lt;/b&gt;\n- Duration"),
            "{markup}"
        );
    }
}
