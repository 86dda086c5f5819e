//! `core` updates: the bytes App Connect core 1.7.42 writes when it updates
//! a log, `composeCallLog` with an `existingBody` as `updateCallLog` calls
//! it, quirks included, because that is what a connector's CRM holds.
//!
//! Core goes through the sections in body order and, for each one the
//! request carries, looks for it in the body with a regular expression: if
//! it matches, the first match is replaced (with `String.prototype.replace`,
//! so `$&`, `$1`, … in a value are replacement patterns); if not, the
//! section is appended (the note prepended). `core_regex/` reproduces each
//! pattern; this file says which pattern and replacement each section uses
//! in each format. What follows from that, on purpose here:
//!
//! - blank lines: a Markdown block is replaced up to the next `\n### `, and
//!   its replacement ends in a newline, so a blank line appears before the
//!   next block; an item's pattern swallows the blank lines after it;
//! - doubled sections: a value a pattern cannot match (an HTML block whose
//!   text holds a line terminator other than `\n`, a plain-text duration or
//!   result holding `-`, …) leaves the old section and appends a new one;
//!   the plain-text ACE bulleted summary replaces only its first line and
//!   keeps the rest with its `--- END`, so each update adds a copy;
//! - lost text: the plain-text note runs to the next line that looks like a
//!   label, and a section's pattern matches the first place its label
//!   appears, even inside a note or a transcript;
//! - a second identical update can change the body again (a Markdown ACE
//!   recording link gains a blank line each time);
//! - the RingCentral user name is replaced only while it is `(pending...)`;
//! - the contact number is never written: `updateCallLog` passes no contact.
//!
//! Pure, like the rest of `compose`.

use super::core_regex::{self, Found, Text};
use super::sections::{self, Carried, Kind, Shape};
use crate::interface::LogFormat;

/// `existing` updated with each carried value, as core updates it.
pub fn update(existing: &str, carried: &[Carried], format: LogFormat) -> String {
    let mut body = existing.to_owned();
    for Carried { kind, value } in carried {
        // updateCallLog calls the composer with `contactInfo: null`.
        if *kind == Kind::ContactNumber {
            continue;
        }
        body = upsert(&body, *kind, value, format);
    }
    body
}

/// One `upsert*` function of core's composer.
fn upsert(body: &str, kind: Kind, value: &str, format: LogFormat) -> String {
    let text = Text::new(body);
    let Some(found) = locate(&text, kind, format) else {
        return add(body, kind, value, format);
    };
    if kind == Kind::RingCentralUserName {
        // Core keeps the name it wrote unless that was a placeholder.
        let old = found.group.clone().map_or("", |group| &body[group]);
        if core_regex::trim(old) != "(pending...)" {
            return body.to_owned();
        }
    }
    core_regex::replace(body, &found, &replacement(kind, value, format))
}

/// Where core's pattern for `kind` matches `text` in `format`.
fn locate(text: &Text<'_>, kind: Kind, format: LogFormat) -> Option<Found> {
    let label = kind.labels(format)[0];
    match (format, kind.shape()) {
        (LogFormat::Html, Shape::Note) => {
            core_regex::between(text, "<b>Agent notes</b>", "Call details</b>", true)
        }
        (LogFormat::Markdown, Shape::Note) => {
            core_regex::between(text, "## Agent notes\n", "\n## Call details", false)
        }
        (LogFormat::Plain, Shape::Note) => core_regex::plain_note(text),

        (LogFormat::Html, Shape::Item) => match kind {
            Kind::CallRecording | Kind::VoicemailRecording | Kind::AceLink => {
                core_regex::html_link_item(text, label)
            }
            _ => core_regex::html_item(text, label),
        },
        (LogFormat::Markdown, Shape::Item) => match kind {
            Kind::AceLink => core_regex::spaced_item(text, &format!("**{label}**:")),
            Kind::RingCentralUserName => {
                core_regex::line_item(text, &format!("**{label}**: "), true, true)
            }
            Kind::RingCentralNumber => {
                core_regex::line_item(text, &format!("**{label}**: "), true, false)
            }
            _ => core_regex::line_item(text, &format!("**{label}**: "), false, false),
        },
        (LogFormat::Plain, Shape::Item) => match kind {
            Kind::DateTime => core_regex::dated_line(text, &format!("- {label}:")),
            Kind::Duration | Kind::Result | Kind::ContactNumber => {
                core_regex::dashless_item(text, &format!("- {label}: "))
            }
            Kind::CallScore | Kind::AceLink => {
                core_regex::spaced_item(text, &format!("- {label}:"))
            }
            Kind::RingCentralUserName => {
                core_regex::line_item(text, &format!("- {label}: "), false, true)
            }
            _ => core_regex::line_item(text, &format!("- {label}: "), false, false),
        },

        (LogFormat::Html, Shape::Block | Shape::Journey) => {
            core_regex::html_block(text, &format!("<div><b>{label}</b><br>"))
        }
        (LogFormat::Markdown, Shape::Block | Shape::Journey) => {
            core_regex::markdown_block(text, &format!("### {label}\n"))
        }
        (LogFormat::Plain, Shape::Journey) => {
            core_regex::between(text, &format!("- {label}:"), "--- JOURNEY END", false)
        }
        (LogFormat::Plain, Shape::Block) => match kind {
            Kind::AceBulletedSummary => core_regex::spaced_item(text, &format!("- {label}:")),
            _ => core_regex::between(text, &format!("- {label}:"), "--- END", false),
        },
    }
}

/// The replacement string core hands `String.prototype.replace` for a
/// section it found. Unlike the appended text, most of these do not end
/// where the appended section ends (no trailing `<br>` after an HTML block,
/// no newline after a plain-text duration), so what followed the old
/// section decides what follows the new one.
fn replacement(kind: Kind, value: &str, format: LogFormat) -> String {
    let label = kind.labels(format)[0];
    let item = sections::item_value(kind, value, format);
    let block = sections::block_value(kind, value, format);
    match (format, kind.shape()) {
        (LogFormat::Html, Shape::Note) => {
            format!("<b>Agent notes</b><br>{value}<br><br><b>Call details</b>")
        }
        (LogFormat::Markdown, Shape::Note) => {
            format!("## Agent notes\n{value}\n\n## Call details")
        }
        (LogFormat::Plain, Shape::Note) => format!("- Note: {value}"),

        (LogFormat::Html, Shape::Item) => format!("<li><b>{label}</b>: {item}</li>"),
        (LogFormat::Markdown, Shape::Item) => format!("**{label}**: {item}\n"),
        (LogFormat::Plain, Shape::Item) => match kind {
            Kind::DateTime | Kind::Duration | Kind::Result | Kind::CallScore | Kind::AceLink => {
                format!("- {label}: {item}")
            }
            _ => format!("- {label}: {item}\n"),
        },

        (LogFormat::Html, Shape::Block | Shape::Journey) => {
            format!("<div><b>{label}</b><br>{block}</div>")
        }
        (LogFormat::Markdown, Shape::Block | Shape::Journey) => {
            format!("### {label}\n{block}\n")
        }
        (LogFormat::Plain, Shape::Journey) => format!("- {label}:\n{block}\n--- JOURNEY END"),
        (LogFormat::Plain, Shape::Block) => format!("- {label}:\n{block}\n--- END"),
    }
}

/// What core does when the section is not in the body: it appends the
/// section as it writes it into a new body, with three exceptions.
fn add(body: &str, kind: Kind, value: &str, format: LogFormat) -> String {
    // The contact number is the only section whose rendering depends on the
    // direction, and core never adds it on update.
    let section = sections::render(kind, value, format, false);
    match (format, kind) {
        // The note goes first. A Markdown body that already opens its call
        // details gets only the note's half of the header.
        (LogFormat::Markdown, Kind::Note) if body.starts_with("## Call details") => {
            format!("## Agent notes\n{value}\n\n{body}")
        }
        (_, Kind::Note) => format!("{section}{body}"),
        // A recording link goes into the body's first list, if it has one,
        // through another `replace`: its `$` patterns are expanded too.
        (LogFormat::Html, Kind::CallRecording | Kind::VoicemailRecording) => {
            core_regex::replace_first(body, "</ul>", &format!("{section}</ul>"))
                .unwrap_or_else(|| format!("{body}{section}"))
        }
        // A plain-text recording link starts on its own line.
        (LogFormat::Plain, Kind::CallRecording | Kind::VoicemailRecording)
            if !body.is_empty() && !body.ends_with('\n') =>
        {
            format!("{body}\n{section}")
        }
        _ => format!("{body}{section}"),
    }
}

#[cfg(test)]
mod tests {
    //! One test per quirk the README lists, on bodies App Connect's core
    //! created; each expected body is what core 1.7.42 writes.

    use super::*;

    fn carried(pairs: &[(Kind, &str)]) -> Vec<Carried> {
        pairs
            .iter()
            .map(|(kind, value)| Carried {
                kind: *kind,
                value: (*value).to_owned(),
            })
            .collect()
    }

    #[test]
    fn markdown_block_replacement_adds_a_blank_line_once() {
        let body = "**Summary**: s\n### AI Note\nold\n### Transcript\nt\n";
        let once = update(
            body,
            &carried(&[(Kind::AiNote, "new")]),
            LogFormat::Markdown,
        );
        assert_eq!(
            once,
            "**Summary**: s\n### AI Note\nnew\n\n### Transcript\nt\n"
        );
        let twice = update(
            &once,
            &carried(&[(Kind::AiNote, "new")]),
            LogFormat::Markdown,
        );
        assert_eq!(twice, once, "the blank line is not doubled");
    }

    #[test]
    fn markdown_ace_link_gains_a_blank_line_on_every_update() {
        let body = "**ACE recording link**: https://x/1\n**Call score**: 5\n";
        let link = carried(&[(Kind::AceLink, "https://x/1")]);
        let once = update(body, &link, LogFormat::Markdown);
        assert_eq!(
            once,
            "**ACE recording link**: https://x/1\n\n**Call score**: 5\n"
        );
        let twice = update(&once, &link, LogFormat::Markdown);
        assert_eq!(
            twice,
            "**ACE recording link**: https://x/1\n\n\n**Call score**: 5\n"
        );
    }

    #[test]
    fn plain_bulleted_summary_keeps_its_old_lines_and_end() {
        let body = "- Summary: s\n\n- ACE bulleted summary:\n* a\n* b\n--- END\n";
        let updated = update(
            body,
            &carried(&[(Kind::AceBulletedSummary, "* c")]),
            LogFormat::Plain,
        );
        assert_eq!(
            updated,
            "- Summary: s\n\n- ACE bulleted summary:\n* c\n--- END\n* b\n--- END\n"
        );
    }

    #[test]
    fn item_pattern_swallows_the_blank_lines_after_it() {
        let body = "- Summary: s\n\n- AI Note:\na\n--- END\n";
        let updated = update(body, &carried(&[(Kind::Subject, "t")]), LogFormat::Plain);
        assert_eq!(updated, "- Summary: t\n- AI Note:\na\n--- END\n");
    }

    #[test]
    fn a_result_with_a_dash_is_not_found_and_is_appended_again() {
        let body = "- Result: No-Answer\n";
        let updated = update(
            body,
            &carried(&[(Kind::Result, "Missed")]),
            LogFormat::Plain,
        );
        assert_eq!(updated, "- Result: No-Answer\n- Result: Missed\n");
    }

    #[test]
    fn a_plain_note_line_that_looks_like_a_label_outlives_the_note() {
        // The old note ends where a line reads like a label, so its second
        // line stays behind the new note.
        let body = "- Note: a\n- Follow Up: Monday\n- Summary: s\n";
        let updated = update(body, &carried(&[(Kind::Note, "b")]), LogFormat::Plain);
        assert_eq!(updated, "- Note: b\n- Follow Up: Monday\n- Summary: s\n");
        // A line that does not read like one goes with the note.
        let body = "- Note: call back\nmaybe tomorrow\n- Summary: s\n";
        let updated = update(body, &carried(&[(Kind::Note, "done")]), LogFormat::Plain);
        assert_eq!(updated, "- Note: done\n- Summary: s\n");
    }

    #[test]
    fn a_label_quoted_in_the_note_is_the_one_replaced() {
        let body = "- Note: was - Duration: 5\n- Summary: s\n- Duration: 1 minute\n";
        let updated = update(
            body,
            &carried(&[(Kind::Duration, "2 minutes")]),
            LogFormat::Plain,
        );
        assert_eq!(
            updated,
            "- Note: was - Duration: 2 minutes\n- Summary: s\n- Duration: 1 minute\n"
        );
    }

    #[test]
    fn a_dollar_pattern_in_a_value_is_expanded() {
        let body = "- Note: old\n- Summary: s\n";
        let updated = update(
            body,
            &carried(&[(Kind::Note, "cost $& and $1")]),
            LogFormat::Plain,
        );
        assert_eq!(updated, "- Note: cost - Note: old and old\n- Summary: s\n");
    }

    #[test]
    fn the_user_name_is_replaced_only_while_pending() {
        let name = carried(&[(Kind::RingCentralUserName, "Ann")]);
        let pending = "<li><b>RingCentral user name</b>: (pending...)</li>";
        assert_eq!(
            update(pending, &name, LogFormat::Html),
            "<li><b>RingCentral user name</b>: Ann</li>"
        );
        let named = "- RingCentral user name: Bob\n";
        assert_eq!(update(named, &name, LogFormat::Plain), named);
    }

    #[test]
    fn the_contact_number_is_not_written_on_update() {
        let body = "- Summary: s\n";
        let updated = update(
            body,
            &carried(&[(Kind::ContactNumber, "+1")]),
            LogFormat::Plain,
        );
        assert_eq!(updated, body);
    }

    #[test]
    fn an_html_block_with_a_carriage_return_is_doubled() {
        let body = "<div><b>Transcript</b><br>a\rb</div><br>";
        let updated = update(body, &carried(&[(Kind::Transcript, "c")]), LogFormat::Html);
        assert_eq!(
            updated,
            "<div><b>Transcript</b><br>a\rb</div><br><div><b>Transcript</b><br>c</div><br>"
        );
    }

    #[test]
    fn a_new_html_recording_link_goes_into_the_first_list() {
        let body = "<ul><li>x</li></ul><ul></ul>";
        let updated = update(
            body,
            &carried(&[(Kind::CallRecording, "https://r/$&")]),
            LogFormat::Html,
        );
        assert_eq!(
            updated,
            "<ul><li>x</li><li><b>Call recording link</b>: <a target=\"_blank\" href=\"https://r/</ul>\">open</a></li></ul><ul></ul>"
        );
    }

    #[test]
    fn a_markdown_body_that_opens_its_details_gets_half_a_note_header() {
        let body = "## Call details\n**Summary**: s\n";
        let updated = update(body, &carried(&[(Kind::Note, "n")]), LogFormat::Markdown);
        assert_eq!(
            updated,
            "## Agent notes\nn\n\n## Call details\n**Summary**: s\n"
        );
    }
}
