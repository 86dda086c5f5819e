//! One matcher per shape of App Connect core's update patterns; each doc
//! comment states the JavaScript regular expression it stands for.

use super::text::{Found, Memo, NextStop, Text};
use crate::js::is_space;

/// JavaScript's LineTerminator: what `.` does not match and where `^`/`$`
/// stand under the `m` flag.
fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// `/(?:<li>)?<b>LABEL<\/b>:\s*([^<\n]+)(?:<\/li>|(?=<|$))/i`: an HTML list
/// item, its value up to the next tag.
///
/// At a label, `\s*` first takes all the whitespace and gives it back one
/// character at a time; for each, `[^<\n]+` runs greedily to the next `<`,
/// `\n` or the end, and only a `<` or the end lets the tail match (a
/// shorter run would be followed by a value character). The optional
/// `<li>` is taken when it stands right before the label; a label whose
/// value fails fails wherever the match starts, so labels are tried in
/// order.
pub fn html_item(text: &Text<'_>, label: &str) -> Option<Found> {
    let head = format!("<b>{label}</b>:");
    let mut stop = NextStop::new(b"<\n");
    for at in text.occurrences(&head, true) {
        let spaces = text.space_run(at + head.len());
        let mut run_end = stop.from(text, *spaces.last()?);
        for &start in spaces.iter().rev() {
            match text.byte(start) {
                None => continue,
                Some(b'<' | b'\n') => {
                    run_end = start;
                    continue;
                }
                Some(_) => {}
            }
            if run_end == text.len() || text.byte(run_end) == Some(b'<') {
                let end = if text.starts_with(run_end, "</li>", true) {
                    run_end + "</li>".len()
                } else {
                    run_end
                };
                return Some(Found {
                    whole: with_li(text, at)..end,
                    group: Some(start..run_end),
                });
            }
        }
    }
    None
}

/// `/(?:<li>)?<b>LABEL<\/b>:\s*(?:<a[^>]*>[^<]*<\/a>|[^<]+)(?:<\/li>|(?=<|$))/i`:
/// an HTML list item holding a link, with no capture group.
///
/// After all the whitespace, the anchor alternative needs `<a` there, the
/// first `>` after it, then `</a>` at the first `<` after that, then the
/// tail. Failing that, `[^<]+` needs a character that is not `<`; it runs
/// to the next `<` or the end, where the tail always matches. Giving back
/// whitespace leaves `[^<]+` a whitespace character to start on, so when
/// the value after the whitespace fails, the match ends at that value,
/// taking only the label and its whitespace.
pub fn html_link_item(text: &Text<'_>, label: &str) -> Option<Found> {
    let head = format!("<b>{label}</b>:");
    let mut next_open = NextStop::new(b"<");
    for at in text.occurrences(&head, true) {
        let spaces = text.space_run(at + head.len());
        let value = *spaces.last()?;
        let tail = |end: usize| -> Option<usize> {
            if text.starts_with(end, "</li>", true) {
                Some(end + "</li>".len())
            } else if end == text.len() || text.byte(end) == Some(b'<') {
                Some(end)
            } else {
                None
            }
        };
        let anchor_end = text
            .starts_with(value, "<a", true)
            .then(|| text.find(">", value + 2, false))
            .flatten()
            .and_then(|close| text.find("<", close + 1, false))
            .filter(|&open| text.starts_with(open, "</a>", true))
            .and_then(|open| tail(open + "</a>".len()));
        let end = match (anchor_end, text.byte(value)) {
            (Some(end), _) => Some(end),
            // `[^<]+` from the value itself.
            (None, Some(b)) if b != b'<' => tail(next_open.from(text, value)),
            // `[^<]+` from the last whitespace character given back.
            (None, _) if spaces.len() > 1 => tail(value),
            (None, _) => None,
        };
        if let Some(end) = end {
            return Some(Found {
                whole: with_li(text, at)..end,
                group: None,
            });
        }
    }
    None
}

/// Where a match of `(?:<li>)?<b>…` starts for a label at `at`.
fn with_li(text: &Text<'_>, at: usize) -> usize {
    match at.checked_sub("<li>".len()) {
        Some(li) if text.starts_with(li, "<li>", true) => li,
        _ => at,
    }
}

/// `/MARKER([^\n]*)\n*/`: a marker, the rest of its line and every newline
/// after it; the first marker always matches. `grouped` says whether the
/// pattern captures the rest of the line.
pub fn line_item(text: &Text<'_>, marker: &str, ci: bool, grouped: bool) -> Option<Found> {
    let at = text.find(marker, 0, ci)?;
    let value = at + marker.len();
    let line_end = text.find("\n", value, false).unwrap_or(text.len());
    let end = line_end
        + text.body.as_bytes()[line_end..]
            .iter()
            .take_while(|&&b| b == b'\n')
            .count();
    Some(Found {
        whole: at..end,
        group: grouped.then_some(value..line_end),
    })
}

/// `/MARKER([^\n-]+)(?=\n-|\n|$)/`: a value that runs to its line end
/// without a `-`. The greedy run stops at the first `\n`, `-` or the end;
/// only a `\n` or the end satisfies the lookahead (both `\n-` and `\n` need
/// a `\n`), and no shorter run could, so a marker whose value holds a `-`
/// is skipped for the next one.
pub fn dashless_item(text: &Text<'_>, marker: &str) -> Option<Found> {
    let mut stop = NextStop::new(b"\n-");
    for at in text.occurrences(marker, false) {
        let value = at + marker.len();
        let end = stop.from(text, value);
        if end > value && matches!(text.byte(end), None | Some(b'\n')) {
            return Some(Found {
                whole: at..end,
                group: Some(value..end),
            });
        }
    }
    None
}

/// `/MARKER\s*([^<\n]+)(?=\n|$)/i`: a value after optional whitespace (which
/// may span lines) that runs to its line end without a `<`. As for
/// `html_item`, each amount of whitespace given back is tried, and the
/// greedy run must end at a `\n` or the end.
pub fn spaced_item(text: &Text<'_>, marker: &str) -> Option<Found> {
    let mut stop = NextStop::new(b"<\n");
    for at in text.occurrences(marker, true) {
        let spaces = text.space_run(at + marker.len());
        let mut run_end = stop.from(text, *spaces.last()?);
        for &start in spaces.iter().rev() {
            match text.byte(start) {
                None => continue,
                Some(b'<' | b'\n') => {
                    run_end = start;
                    continue;
                }
                Some(_) => {}
            }
            if matches!(text.byte(run_end), None | Some(b'\n')) {
                return Some(Found {
                    whole: at..run_end,
                    group: Some(start..run_end),
                });
            }
        }
    }
    None
}

/// `/OPEN([\s\S]*?)CLOSE/`, or with `+?` when `non_empty`: from the first
/// `OPEN` to the first `CLOSE` after it. When that `OPEN` has no `CLOSE`
/// after it, no later one has either, so there is no match.
pub fn between(text: &Text<'_>, open: &str, close: &str, non_empty: bool) -> Option<Found> {
    let at = text.find(open, 0, false)?;
    let content = at + open.len();
    let from = if non_empty {
        content + text.char_at(content)?.len_utf8()
    } else {
        content
    };
    let close_at = text.find(close, from, false)?;
    Some(Found {
        whole: at..close_at + close.len(),
        group: Some(content..close_at),
    })
}

/// `/OPEN(.+?)<\/div>/`: an HTML block whose text runs to the first
/// `</div>` on the same line. `.` stops at any line terminator, so a block
/// whose text holds one before its `</div>` fails, and the next `OPEN` is
/// tried.
pub fn html_block(text: &Text<'_>, open: &str) -> Option<Found> {
    let mut next_close = Memo::default();
    let mut next_break = Memo::default();
    for at in text.occurrences(open, false) {
        let content = at + open.len();
        let Some(first) = text.char_at(content) else {
            continue;
        };
        if is_line_terminator(first) {
            continue;
        }
        let from = content + first.len_utf8();
        let Some(close) = next_close.get(from, |from| text.find("</div>", from, false)) else {
            continue;
        };
        let line_end = next_break
            .get(content, |from| {
                text.body[from..]
                    .char_indices()
                    .find(|(_, c)| is_line_terminator(*c))
                    .map(|(offset, _)| from + offset)
            })
            .unwrap_or(text.len());
        if close <= line_end {
            return Some(Found {
                whole: at..close + "</div>".len(),
                group: Some(content..close),
            });
        }
    }
    None
}

/// `/OPEN([\s\S]*?)(?=\n### |\n$|$)/`: a Markdown block up to the next
/// `\n### `, or the body's final newline, or the end; the first `OPEN`
/// always matches.
pub fn markdown_block(text: &Text<'_>, open: &str) -> Option<Found> {
    let at = text.find(open, 0, false)?;
    let content = at + open.len();
    let len = text.len();
    let mut end = text.find("\n### ", content, false).unwrap_or(len);
    if text.body.ends_with('\n') && len > content {
        end = end.min(len - 1);
    }
    Some(Found {
        whole: at..end,
        group: Some(content..end),
    })
}

/// `/^(- Date\/Time:).*$/m`: the first line that starts with the marker,
/// to its line end. Lines end at any of JavaScript's line terminators.
pub fn dated_line(text: &Text<'_>, marker: &str) -> Option<Found> {
    text.occurrences(marker, false)
        .find(|&at| {
            text.body[..at]
                .chars()
                .next_back()
                .is_none_or(is_line_terminator)
        })
        .map(|at| {
            let rest = at + marker.len();
            let end = text.body[rest..]
                .char_indices()
                .find(|(_, c)| is_line_terminator(*c))
                .map_or(text.len(), |(offset, _)| rest + offset);
            Found {
                whole: at..end,
                group: Some(at..rest),
            }
        })
}

/// `/- (?:Note|Agent notes): ([\s\S]*?)(?=\n- [A-Z][a-zA-Z\s/]*:|\n$|$)/`:
/// the plain-text note, from the first note marker up to the first line
/// that reads like a label (`- Capitalised words:`, where "words" may hold
/// letters, `/` and any whitespace, newlines included), or the body's final
/// newline, or the end. It always matches once a marker is found.
pub fn plain_note(text: &Text<'_>) -> Option<Found> {
    let markers = ["- Note: ", "- Agent notes: "];
    let (at, marker) = markers
        .iter()
        .filter_map(|marker| text.find(marker, 0, false).map(|at| (at, *marker)))
        .min_by_key(|(at, _)| *at)?;
    let content = at + marker.len();
    let len = text.len();
    let bytes = text.body.as_bytes();
    let mut end = len;
    let mut from = content;
    while let Some(newline) = text.find("\n", from, false) {
        if newline + 1 == len || reads_like_a_label(text, newline + 1) {
            end = newline;
            break;
        }
        from = newline + 1;
    }
    debug_assert!(end == len || bytes[end] == b'\n');
    Some(Found {
        whole: at..end,
        group: Some(content..end),
    })
}

/// `- [A-Z][a-zA-Z\s/]*:` at `at`. The class cannot hold `:`, so the greedy
/// run must be followed by it directly.
fn reads_like_a_label(text: &Text<'_>, at: usize) -> bool {
    let Some(rest) = text.body.get(at..) else {
        return false;
    };
    let Some(after) = rest.strip_prefix("- ") else {
        return false;
    };
    let mut chars = after.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_uppercase()) {
        return false;
    }
    chars
        .find(|&c| !(c.is_ascii_alphabetic() || c == '/' || is_space(c)))
        .is_some_and(|c| c == ':')
}

#[cfg(test)]
mod tests {
    //! Each test names the JavaScript behaviour it pins; the expected values
    //! are what Node.js prints for the same expression.

    use super::*;

    #[test]
    fn html_item_takes_its_li_and_stops_at_the_next_tag() {
        // /(?:<li>)?<b>Duration<\/b>:\s*([^<\n]+)(?:<\/li>|(?=<|$))/i
        let text = Text::new("<li><b>Duration</b>: 5 s</li><li><b>Result</b>: x</li>");
        let found = html_item(&text, "Duration").expect("matches");
        assert_eq!(found.whole, 0..29);
        assert_eq!(&text.body[found.group.expect("group")], "5 s");
    }

    #[test]
    fn html_item_is_case_insensitive_for_ascii_only() {
        let text = Text::new("<LI><B>duration</B>: 5</LI>");
        assert_eq!(html_item(&text, "Duration").map(|f| f.whole), Some(0..27));
    }

    #[test]
    fn html_item_skips_a_label_whose_value_runs_into_a_newline() {
        // '<b>Result</b>: a\nb<b>Result</b>: c</li>'.match(re).index === 18
        let text = Text::new("<b>Result</b>: a\nb<b>Result</b>: c</li>");
        let found = html_item(&text, "Result").expect("the second label matches");
        assert_eq!(found.whole, 18..39);
    }

    #[test]
    fn html_item_whitespace_given_back_can_start_the_value() {
        // '<b>Result</b>: \n<i>'.match(re) === null: the space before the
        // newline starts a value that then ends at the newline.
        assert_eq!(
            html_item(&Text::new("<b>Result</b>: \n<i>"), "Result"),
            None
        );
        // '<b>Result</b>:  <i>'.match(re)[1] === ' ': the space given back
        // is a value ending at a tag.
        let text = Text::new("<b>Result</b>:  <i>");
        let found = html_item(&text, "Result").expect("matches");
        assert_eq!(found.whole, 0..16);
        assert_eq!(found.group, Some(15..16));
    }

    #[test]
    fn html_link_item_takes_the_whole_anchor() {
        let body = "<li><b>Call recording link</b>: <a target=\"_blank\" href=\"https://x/y\">open</a></li><li>";
        let found = html_link_item(&Text::new(body), "Call recording link").expect("matches");
        assert_eq!(found.whole, 0..body.len() - 4);
    }

    #[test]
    fn html_link_item_with_text_after_the_anchor_takes_only_label_and_space() {
        // The anchor alternative fails at the text after `</a>`, so `[^<]+`
        // takes the space given back, and the match ends before the anchor.
        let body = "<li><b>Call recording link</b>: <a href=x>open</a> more</li>";
        let found = html_link_item(&Text::new(body), "Call recording link").expect("matches");
        assert_eq!(&body[found.whole], "<li><b>Call recording link</b>: ");
    }

    #[test]
    fn line_item_swallows_every_blank_line_after_it() {
        // '- Summary: s\n\n\nx'.match(/- Summary: [^\n]*\n*/)[0] === '- Summary: s\n\n\n'
        let found = line_item(
            &Text::new("- Summary: s\n\n\nx"),
            "- Summary: ",
            false,
            false,
        )
        .expect("matches");
        assert_eq!(found.whole, 0..15);
        assert_eq!(found.group, None);
    }

    #[test]
    fn dashless_item_skips_a_value_with_a_dash() {
        // '- Result: No-Answer\n- Result: ok\n'.match(/- Result: ([^\n-]+)(?=\n-|\n|$)/).index === 20
        let body = "- Result: No-Answer\n- Result: ok\n";
        let found = dashless_item(&Text::new(body), "- Result: ").expect("matches");
        assert_eq!(found.whole, 20..32);
    }

    #[test]
    fn spaced_item_whitespace_spans_lines() {
        // '- Call score:\n\n87\n'.match(/- Call score:\s*([^<\n]+)(?=\n|$)/i)[1] === '87'
        let body = "- Call score:\n\n87\n";
        let found = spaced_item(&Text::new(body), "- Call score:").expect("matches");
        assert_eq!(found.whole, 0..17);
        assert_eq!(&body[found.group.expect("group")], "87");
    }

    #[test]
    fn spaced_item_is_case_insensitive() {
        let body = "- call SCORE: 5";
        assert!(spaced_item(&Text::new(body), "- Call score:").is_some());
    }

    #[test]
    fn lazy_block_ends_at_the_first_close_after_the_first_open() {
        // '- AI Note:\na\n--- END\n- AI Note:\nb\n--- END'.match(/- AI Note:([\s\S]*?)--- END/)[0]
        let body = "- AI Note:\na\n--- END\n- AI Note:\nb\n--- END";
        let found = between(&Text::new(body), "- AI Note:", "--- END", false).expect("matches");
        assert_eq!(found.whole, 0..20);
        assert_eq!(
            between(&Text::new("- AI Note:\na"), "- AI Note:", "--- END", false),
            None
        );
    }

    #[test]
    fn lazy_plus_needs_one_character_first() {
        // '<b>Agent notes</b>Call details</b>x Call details</b>'.match(/<b>Agent notes<\/b>([\s\S]+?)Call details<\/b>/)[1]
        //   === 'Call details</b>x '
        let body = "<b>Agent notes</b>Call details</b>x Call details</b>";
        let found = between(
            &Text::new(body),
            "<b>Agent notes</b>",
            "Call details</b>",
            true,
        )
        .expect("matches");
        assert_eq!(&body[found.group.expect("group")], "Call details</b>x ");
    }

    #[test]
    fn dot_does_not_cross_a_line_terminator() {
        // '<div><b>AI Note</b><br>a\u2028b</div>'.match(/<div><b>AI Note<\/b><br>(.+?)<\/div>/) === null
        let open = "<div><b>AI Note</b><br>";
        assert_eq!(
            html_block(&Text::new(&format!("{open}a\u{2028}b</div>")), open),
            None
        );
        assert_eq!(
            html_block(&Text::new(&format!("{open}a\rb</div>")), open),
            None
        );
        // …so a later block on one line is the one matched.
        let body = format!("{open}a\nb</div>{open}c</div>");
        let found = html_block(&Text::new(&body), open).expect("the second block matches");
        assert_eq!(&body[found.group.expect("group")], "c");
    }

    #[test]
    fn markdown_block_stops_before_the_next_heading_or_the_final_newline() {
        let body = "### AI Note\na\n\n### Transcript\nt\n";
        let found = markdown_block(&Text::new(body), "### AI Note\n").expect("matches");
        assert_eq!(&body[found.group.expect("group")], "a\n");
        let found =
            markdown_block(&Text::new("### AI Note\na\n"), "### AI Note\n").expect("matches");
        assert_eq!(found.whole, 0..13);
    }

    #[test]
    fn multiline_caret_and_dollar_see_every_line_terminator() {
        // 'x\r- Date/Time: 1\u2028y'.match(/^(- Date\/Time:).*$/m)[0] === '- Date/Time: 1'
        let body = "x\r- Date/Time: 1\u{2028}y";
        let found = dated_line(&Text::new(body), "- Date/Time:").expect("matches");
        assert_eq!(&body[found.whole.clone()], "- Date/Time: 1");
        // Not at a line start: no match.
        assert_eq!(
            dated_line(&Text::new("x - Date/Time: 1"), "- Date/Time:"),
            None
        );
    }

    #[test]
    fn plain_note_runs_to_the_next_label_like_line() {
        let body = "- Note: a\n- not a label\n- Two Words: b\n";
        let found = plain_note(&Text::new(body)).expect("matches");
        assert_eq!(&body[found.group.expect("group")], "a\n- not a label");
        // A label's words may span lines: `\s` holds `\n`.
        let body = "- Note: a\n- Call\nback: b";
        let found = plain_note(&Text::new(body)).expect("matches");
        assert_eq!(&body[found.group.expect("group")], "a");
        // The older marker counts, whichever comes first.
        let body = "x - Agent notes: old\n- Note: new";
        let found = plain_note(&Text::new(body)).expect("matches");
        assert_eq!(found.whole.start, 2);
    }
}
