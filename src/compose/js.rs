//! The JavaScript that App Connect's core updates a body with, reproduced
//! exactly: the few regular-expression shapes its `upsert*` functions use,
//! and `String.prototype.replace` with a replacement *string*, `$` patterns
//! and all. `core_update.rs` says which shape each section uses; this file owns
//! only the matching and the substitution, and knows nothing of sections.
//!
//! Each matcher is hand-written rather than handed to the `regex` crate,
//! because the two engines disagree exactly where core's bodies are odd:
//!
//! - JavaScript's `\s` is WhiteSpace plus LineTerminator (it includes
//!   U+FEFF and not U+0085); `regex`'s `\s` is Unicode White_Space (U+0085
//!   in, U+FEFF out);
//! - JavaScript's `.` stops at `\n`, `\r`, U+2028 and U+2029; `regex`'s `.`
//!   stops at `\n` only;
//! - with the `m` flag JavaScript's `^` and `$` see all four line
//!   terminators; `regex` sees `\n` (or `\r\n` in CRLF mode) only;
//! - core's patterns use lookahead (`(?=<|$)`, `(?=\n### |\n$|$)`, …),
//!   which `regex` does not have;
//! - `regex` finds the leftmost-first match like a backtracking engine, but
//!   which match JavaScript picks among lazy, greedy and backtracked
//!   alternatives has to be argued per pattern anyway.
//!
//! So each matcher below states the pattern it stands for and walks the body
//! the way JavaScript's backtracking matcher would, in linear time: every
//! scan either ends the search or stops at the next place the pattern's
//! literal starts. The `i` flag (without `u`) folds ASCII letters only, as
//! JavaScript's Canonicalize does for the ASCII literals used here.
//! Positions are byte offsets into UTF-8; every character a pattern names is
//! ASCII or a whole line terminator, so no match starts or ends inside a
//! character, and matching by code point here is matching by UTF-16 code
//! unit there.

use std::ops::Range;

// JavaScript's `\s` and `String.prototype.trim`, as the rest of mockcrm reads them.
pub use crate::js::{is_space, trim};

/// A match of one of core's patterns: the whole match, and its capture
/// group when the pattern has one (each pattern here has at most one, and
/// it always takes part in a match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub whole: Range<usize>,
    pub group: Option<Range<usize>>,
}

/// JavaScript's LineTerminator: what `.` does not match and where `^`/`$`
/// stand under the `m` flag.
pub fn is_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// `body.replace(pattern, template)` for a `found` match: the match is
/// replaced by `template` with its `$` patterns expanded.
pub fn replace(body: &str, found: &Found, template: &str) -> String {
    let mut out = String::with_capacity(body.len() + template.len());
    out.push_str(&body[..found.whole.start]);
    substitute(&mut out, body, found, template);
    out.push_str(&body[found.whole.end..]);
    out
}

/// `body.replace(needle, template)` with a string `needle`: its first
/// occurrence, if any, replaced by `template` with `$` patterns expanded
/// (there are no groups, so `$1` stays as it is).
pub fn replace_first(body: &str, needle: &str, template: &str) -> Option<String> {
    let start = body.find(needle)?;
    let found = Found {
        whole: start..start + needle.len(),
        group: None,
    };
    Some(replace(body, &found, template))
}

/// GetSubstitution (ECMA-262 §22.1.3.19.1): `$$` is `$`, `$&` the match,
/// `` $` `` what precedes it, `$'` what follows it, `$n`/`$nn` a capture
/// group (a two-digit index past the group count reads as one digit and a
/// literal digit; an index that names no group stays as typed), and any
/// other `$` (`$<` too, as there are no named groups) is itself.
fn substitute(out: &mut String, body: &str, found: &Found, template: &str) {
    let groups = usize::from(found.group.is_some());
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest.as_bytes()[at + 1..];
        let consumed = match after.first() {
            Some(b'$') => {
                out.push('$');
                2
            }
            Some(b'&') => {
                out.push_str(&body[found.whole.clone()]);
                2
            }
            Some(b'`') => {
                out.push_str(&body[..found.whole.start]);
                2
            }
            Some(b'\'') => {
                out.push_str(&body[found.whole.end..]);
                2
            }
            Some(&first) if first.is_ascii_digit() => {
                let one = usize::from(first - b'0');
                let (mut digits, mut index) = match after.get(1) {
                    Some(&second) if second.is_ascii_digit() => {
                        (2, one * 10 + usize::from(second - b'0'))
                    }
                    _ => (1, one),
                };
                if index > groups && digits == 2 {
                    digits = 1;
                    index = one;
                }
                match &found.group {
                    Some(group) if index == 1 => out.push_str(&body[group.clone()]),
                    _ => out.push_str(&rest[at..at + 1 + digits]),
                }
                1 + digits
            }
            _ => {
                out.push('$');
                1
            }
        };
        rest = &rest[at + consumed..];
    }
    out.push_str(rest);
}

/// A body with an ASCII-lowercased copy for the `i` flag, and memoised
/// searches: the matchers ask for "the next X at or after p" with p growing,
/// so an answer already found serves every later question it still answers.
pub struct Text<'a> {
    pub body: &'a str,
    lower: String,
}

impl<'a> Text<'a> {
    pub fn new(body: &'a str) -> Self {
        Text {
            body,
            lower: body.to_ascii_lowercase(),
        }
    }

    fn len(&self) -> usize {
        self.body.len()
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.body.as_bytes().get(at).copied()
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.body.get(at..).and_then(|rest| rest.chars().next())
    }

    /// Where `needle` next occurs at or after `from`; `ci` folds ASCII case.
    fn find(&self, needle: &str, from: usize, ci: bool) -> Option<usize> {
        let hay = if ci { &self.lower } else { self.body };
        let needle = if ci {
            needle.to_ascii_lowercase()
        } else {
            needle.to_owned()
        };
        hay.get(from..)?.find(&needle).map(|at| from + at)
    }

    fn starts_with(&self, at: usize, needle: &str, ci: bool) -> bool {
        let hay = if ci { &self.lower } else { self.body };
        match hay.as_bytes().get(at..at + needle.len()) {
            Some(bytes) if ci => bytes.eq_ignore_ascii_case(needle.as_bytes()),
            Some(bytes) => bytes == needle.as_bytes(),
            None => false,
        }
    }

    /// Every occurrence of `needle`, in order.
    fn occurrences<'n>(&'n self, needle: &'n str, ci: bool) -> impl Iterator<Item = usize> + 'n {
        let mut from = 0;
        std::iter::from_fn(move || {
            let at = self.find(needle, from, ci)?;
            from = at + 1;
            Some(at)
        })
    }

    /// The end of the run of JavaScript whitespace starting at `from`, with
    /// the start of each character in it: `\s*` can give back any of them.
    fn space_run(&self, from: usize) -> Vec<usize> {
        let mut starts = vec![from];
        for (offset, c) in self.body[from..].char_indices() {
            if !is_space(c) {
                break;
            }
            starts.push(from + offset + c.len_utf8());
        }
        starts
    }
}

/// The first byte at or after `from` that is one of `stops`, or the end.
/// Memoised: a later call from inside the span already scanned is free.
struct NextStop<'s> {
    stops: &'s [u8],
    scanned: Range<usize>,
}

impl<'s> NextStop<'s> {
    fn new(stops: &'s [u8]) -> Self {
        NextStop {
            stops,
            scanned: 0..0,
        }
    }

    fn from(&mut self, text: &Text<'_>, from: usize) -> usize {
        if self.scanned.start <= from && from <= self.scanned.end && self.scanned.end > 0 {
            return self.scanned.end;
        }
        let bytes = text.body.as_bytes();
        let end = bytes[from..]
            .iter()
            .position(|b| self.stops.contains(b))
            .map_or(text.len(), |at| from + at);
        self.scanned = from..end;
        end
    }
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

/// A memoised "first at or after": valid for any later `from` up to the
/// answer it found.
#[derive(Default)]
struct Memo {
    last: Option<(usize, Option<usize>)>,
}

impl Memo {
    fn get(&mut self, from: usize, search: impl Fn(usize) -> Option<usize>) -> Option<usize> {
        if let Some((asked, answer)) = self.last {
            let still = match answer {
                Some(found) => asked <= from && from <= found,
                None => asked <= from,
            };
            if still {
                return answer;
            }
        }
        let answer = search(from);
        self.last = Some((from, answer));
        answer
    }
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

    fn sub(body: &str, found: Found, template: &str) -> String {
        replace(body, &found, template)
    }

    fn one(whole: Range<usize>, group: Range<usize>) -> Found {
        Found {
            whole,
            group: Some(group),
        }
    }

    #[test]
    fn replacement_dollar_ampersand_inserts_the_match() {
        // 'a-X-b'.replace(/X/, '[$&]') === 'a-[X]-b'
        let found = Found {
            whole: 2..3,
            group: None,
        };
        assert_eq!(sub("a-X-b", found, "[$&]"), "a-[X]-b");
    }

    #[test]
    fn replacement_dollar_dollar_is_one_dollar() {
        // 'aXb'.replace(/X/, '$$5') === 'a$5b'
        let found = Found {
            whole: 1..2,
            group: None,
        };
        assert_eq!(sub("aXb", found, "$$5"), "a$5b");
    }

    #[test]
    fn replacement_backtick_and_quote_insert_the_text_around_the_match() {
        // 'aXb'.replace(/X/, "[$`|$']") === 'a[a|b]b'
        let found = Found {
            whole: 1..2,
            group: None,
        };
        assert_eq!(sub("aXb", found, "[$`|$']"), "a[a|b]b");
    }

    #[test]
    fn replacement_group_references_follow_the_group_count() {
        // 'aXYb'.replace(/X(Y)/, '$1|$2|$0|$01|$10|$<') === 'aY|$2|$0|Y|Y0|$<b'
        let body = "aXYb";
        let found = one(1..3, 2..3);
        assert_eq!(sub(body, found, "$1|$2|$0|$01|$10|$<"), "aY|$2|$0|Y|Y0|$<b");
        // 'aXb'.replace(/X/, '$1|$01|$&') === 'a$1|$01|Xb': no groups, no references.
        let found = Found {
            whole: 1..2,
            group: None,
        };
        assert_eq!(sub("aXb", found, "$1|$01|$&"), "a$1|$01|Xb");
    }

    #[test]
    fn replacement_lone_dollar_at_the_end_stays() {
        // 'aXb'.replace(/X/, 'cost $') === 'acost $b'
        let found = Found {
            whole: 1..2,
            group: None,
        };
        assert_eq!(sub("aXb", found, "cost $"), "acost $b");
    }

    #[test]
    fn a_string_pattern_replaces_its_first_occurrence_with_patterns_expanded() {
        // '<ul></ul><ul></ul>'.replace('</ul>', 'x$&') === '<ul>x</ul><ul></ul>'
        assert_eq!(
            replace_first("<ul></ul><ul></ul>", "</ul>", "x$&").as_deref(),
            Some("<ul>x</ul><ul></ul>")
        );
        assert_eq!(replace_first("<ul>", "</ul>", "x"), None);
    }

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
