//! Two revisions of an activity compared: which fields changed (before and
//! after), and the body as a line diff, each changed line's changed words
//! highlighted. Bodies are compared as written (the raw text), since that
//! is where a connector's or App Connect's quirks are; an HTML body, which
//! App Connect writes as one long line, is first broken into lines after
//! each tag that ends a line on screen (`<br>`, `</li>`, `</div>`, …), so
//! that each of its fields is a line of its own.

use std::borrow::Cow;

use maud::{html, Markup};
use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};

use crate::store::Activity;
use crate::web::ActivityJson;

/// Lines of unchanged context kept around each change.
const CONTEXT: usize = 3;

/// The activity's fields as the API shows them, by name.
pub fn fields(activity: &Activity) -> Map<String, Value> {
    match serde_json::to_value(ActivityJson(activity)) {
        Ok(Value::Object(map)) => map,
        // An activity always serialises to an object.
        _ => Map::new(),
    }
}

/// The fields whose value differs, body included, `updated_at` left out
/// (it moves with every write).
pub fn changed_fields(from: &Activity, to: &Activity) -> Vec<String> {
    let (before, after) = (fields(from), fields(to));
    let mut names: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|name| name.as_str() != "updated_at")
        .filter(|name| before.get(*name) != after.get(*name))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The comparison of revision `from` with revision `to`.
pub fn render(from: &Activity, to: &Activity) -> Markup {
    let (before, after) = (fields(from), fields(to));
    let changed: Vec<String> = changed_fields(from, to)
        .into_iter()
        .filter(|name| name != "body")
        .collect();
    html! {
        @if changed.is_empty() {
            p.quiet { "No field besides the body changed." }
        } @else {
            table.fields-diff {
                thead { tr { th { "Field" } th { "Before" } th { "After" } } }
                tbody {
                    @for name in &changed {
                        tr {
                            th scope="row" { (name) }
                            td.del { (show(before.get(name))) }
                            td.ins { (show(after.get(name))) }
                        }
                    }
                }
            }
        }
        (body_diff(&lines(&from.body, &from.body_format), &lines(&to.body, &to.body_format)))
    }
}

/// Tags after which a browser starts a new line.
const LINE_ENDS: [&str; 12] = [
    "<br>", "<br/>", "<br />", "</li>", "</div>", "</p>", "</tr>", "</ul>", "</ol>", "</h1>",
    "</h2>", "</h3>",
];

/// `body` with a line break after each tag that ends a line, when it is
/// HTML and has none there already; other formats as they are.
fn lines<'a>(body: &'a str, format: &str) -> Cow<'a, str> {
    if format != "text/html" {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len() + body.len() / 16);
    let mut rest = body;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let tag = LINE_ENDS
            .iter()
            .find(|tag| rest.len() >= tag.len() && rest[..tag.len()].eq_ignore_ascii_case(tag));
        match tag {
            Some(tag) => {
                out.push_str(&rest[..tag.len()]);
                rest = &rest[tag.len()..];
                if !rest.starts_with('\n') {
                    out.push('\n');
                }
            }
            None => {
                out.push('<');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A field's value as a person reads it.
fn show(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".into(),
        Some(Value::Null) => "(none)".into(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

/// The body as a line diff, in hunks with a little context.
pub fn body_diff(old: &str, new: &str) -> Markup {
    let diff = TextDiff::from_lines(old, new);
    let groups = diff.grouped_ops(CONTEXT);
    html! {
        @if groups.is_empty() {
            p.quiet { "The body did not change." }
        } @else {
            table.diff aria-label="Body, line by line" {
                @for (index, group) in groups.iter().enumerate() {
                    @if index > 0 {
                        tr.hunk { td colspan="4" { "⋯" } }
                    }
                    @for op in group {
                        @for change in diff.iter_inline_changes(op) {
                            @let (class, sign) = match change.tag() {
                                ChangeTag::Delete => ("del", "−"),
                                ChangeTag::Insert => ("ins", "+"),
                                ChangeTag::Equal => ("eq", " "),
                            };
                            tr class=(class) {
                                td.num { @if let Some(n) = change.old_index() { (n + 1) } }
                                td.num { @if let Some(n) = change.new_index() { (n + 1) } }
                                td.sign { (sign) }
                                td.line {
                                    @for (emphasised, text) in change.iter_strings_lossy() {
                                        @let text = text.trim_end_matches(['\n', '\r']);
                                        @if emphasised && !text.is_empty() {
                                            mark { (text) }
                                        } @else {
                                            (text)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_lines_are_marked_and_unchanged_far_lines_left_out() {
        let old = "- Note: hi\n- Duration: 5 seconds\na\nb\nc\nd\ne\n- Call recording link: (pending...)\n";
        let new = "- Note: hi\n- Duration: 2 minutes\na\nb\nc\nd\ne\n- Call recording link: https://r.example/1\n";
        let html = body_diff(old, new).into_string();
        assert!(html.contains("<tr class=\"del\">"), "{html}");
        assert!(
            html.contains("<mark>2 minutes</mark>") || html.contains("<mark>2</mark>"),
            "{html}"
        );
        assert!(html.contains("https://r.example/1"), "{html}");
        assert!(html.contains("(pending...)"), "{html}");
        assert!(body_diff("same\n", "same\n")
            .into_string()
            .contains("did not change"));
    }

    #[test]
    fn html_is_compared_a_field_per_line() {
        let body = "<b>Agent notes</b><BR>hi<br>\n<li><b>Duration</b>: 5</li><li>x</li>";
        assert_eq!(
            lines(body, "text/html"),
            "<b>Agent notes</b><BR>\nhi<br>\n<li><b>Duration</b>: 5</li>\n<li>x</li>\n"
        );
        assert_eq!(lines("a<br>b", "text/plain"), "a<br>b");
    }
}
