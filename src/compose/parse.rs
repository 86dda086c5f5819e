//! Reading an existing body back into sections, so that an update can
//! replace each section in place.
//!
//! A body is text, and user text can look like a section: a note line
//! `- Duration: 5`, an AI note holding `--- END`. So the body is not split at
//! every label. Instead every place a label starts is a *candidate*, and the
//! parser picks the set of candidates that best explains the body, preferring
//! in this order:
//!
//! 1. *fit*: sections byte-equal to what the request would write for them
//!    (an unchanged section anchors the split, which makes recomposing the
//!    same request a no-op), less labels left over in stray text, less
//!    sections the settings switch off, less sections the request carries
//!    that the split hides inside another section's text (see
//!    `Parser::hidden_sections`). A
//!    section ends where its shape says (an item at its line end or its
//!    `</li>`, a block at its end marker), and a label between that end and
//!    the next section, or before the first one, is one the split failed to
//!    explain; other labels inside a note or a block are quoted text and
//!    cost nothing;
//! 2. more sections, less those that step back in body order or that the
//!    user's settings switch off (App Connect appends late sections at the
//!    end and settings change, so both happen, but each is as likely to be
//!    text quoted in a note);
//! 3. fewer sections switched off, fewer steps back, fewer stray labels,
//!    more anchored sections, and last, markers standing where the composer
//!    writes them (a plain-text block after a blank line).
//!
//! No kind of section is chosen twice. The search is a dynamic programme over
//! the candidates; past a bound on candidates it falls back to a greedy pass,
//! so a hostile body costs linear time.

use std::collections::HashMap;

use super::sections::{
    self, Kind, Rendered, Shape, HTML_NOTE_CLOSE, HTML_NOTE_OPEN, MARKDOWN_NOTE_CLOSE,
    MARKDOWN_NOTE_OPEN, PLAIN_BLOCK_END, PLAIN_JOURNEY_END, PLAIN_NOTE_OPEN, PLAIN_NOTE_OPEN_OLD,
};
use crate::interface::{LogFormat, User};

/// A body split into what the composer owns and what it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text that belongs to no section; kept byte for byte.
    Text(String),
    Section {
        kind: Kind,
        text: String,
    },
}

/// What the parser knows besides the body: what the request would write for
/// each section, and the user's settings.
pub struct Hints<'a> {
    pub expected: &'a [Rendered],
    pub user: Option<&'a User>,
}

/// Above these, the exhaustive search gives way to the greedy pass.
const MAX_CANDIDATES: usize = 64;
const MAX_REPEATED_KINDS: u32 = 6;

pub fn parse(body: &str, format: LogFormat, hints: &Hints<'_>) -> Vec<Segment> {
    if body.is_empty() {
        return Vec::new();
    }
    let parser = Parser::new(body, format, hints);
    let chosen = parser.choose();
    parser.segments(&chosen)
}

/// The note in `own`, the text of a note section.
pub fn note_value(own: &str, format: LogFormat) -> &str {
    match format {
        LogFormat::Plain => {
            let rest = own
                .strip_prefix(PLAIN_NOTE_OPEN)
                .or_else(|| own.strip_prefix(PLAIN_NOTE_OPEN_OLD))
                .unwrap_or(own);
            rest.strip_suffix('\n').unwrap_or(rest)
        }
        LogFormat::Html => strip_both(own, HTML_NOTE_OPEN, HTML_NOTE_CLOSE),
        LogFormat::Markdown => strip_both(own, MARKDOWN_NOTE_OPEN, MARKDOWN_NOTE_CLOSE),
    }
}

fn strip_both<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let inner = text.strip_prefix(open).unwrap_or(text);
    inner.strip_suffix(close).unwrap_or(inner)
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    pos: usize,
    kind: Kind,
    marker_len: usize,
    /// Length of the request's own rendering of this kind, when the body
    /// holds exactly that here.
    anchor_len: Option<usize>,
    /// Whether the composer could have written this marker here: a
    /// plain-text block always follows a blank line.
    canonical: bool,
}

/// A split's merit, compared field by field in declaration order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    /// Anchored sections, less labels left in stray text, sections the
    /// settings switch off, and hidden sections. A section that equals the
    /// request's value is evidence, but so is a label the split cannot
    /// explain, and text quoted in a note can equal a value:
    /// - a plain-text note has no end marker, so a new note that is the
    ///   first line of the old one anchors there, and a switched-off label
    ///   after it is the old note's text, not a section;
    /// - a section the request carries that this split hides inside another
    ///   section's text would be lost from its place, so a split that does
    ///   that (a note swallowing the sections after it to reach a value
    ///   quoted further down) explains the body worse.
    fit: i32,
    /// Sections, less steps back in body order and sections switched off:
    /// each of those is as likely to be quoted text as a section.
    net_sections: i32,
    switched_on: i32,
    in_order: i32,
    /// Labels left in stray text.
    clean: i32,
    anchors: i32,
    /// Sections whose marker the composer could not have written where it
    /// stands: the last tie-break.
    canonical: i32,
}

impl std::ops::Add for Score {
    type Output = Score;
    fn add(self, other: Score) -> Score {
        Score {
            fit: self.fit + other.fit,
            switched_on: self.switched_on + other.switched_on,
            net_sections: self.net_sections + other.net_sections,
            in_order: self.in_order + other.in_order,
            clean: self.clean + other.clean,
            anchors: self.anchors + other.anchors,
            canonical: self.canonical + other.canonical,
        }
    }
}

struct Parser<'a> {
    body: &'a str,
    format: LogFormat,
    candidates: Vec<Candidate>,
    /// Kinds with more than one candidate: the only ones the search must
    /// remember having used.
    repeated: u32,
    off: u32,
    /// Kinds the request carries.
    carried: u32,
    terminators: HashMap<&'static str, Vec<usize>>,
    /// For each HTML candidate, where the element it opens (`<li>` or
    /// `<div>`) closes, nesting counted: a value may hold markup of its own.
    closes: Vec<Option<usize>>,
}

impl<'a> Parser<'a> {
    fn new(body: &'a str, format: LogFormat, hints: &Hints<'_>) -> Self {
        let mut candidates = find_candidates(body, format);
        for candidate in &mut candidates {
            candidate.anchor_len = hints
                .expected
                .iter()
                .find(|r| r.kind == candidate.kind)
                .filter(|r| body[candidate.pos..].starts_with(&r.text))
                .map(|r| r.text.len());
        }
        let mut seen = 0u32;
        let mut repeated = 0u32;
        for c in &candidates {
            let bit = 1 << c.kind.rank();
            repeated |= seen & bit;
            seen |= bit;
        }
        let carried = hints
            .expected
            .iter()
            .fold(0u32, |set, r| set | 1 << r.kind.rank());
        let off = match hints.user {
            // Without settings there is nothing to say a section is off.
            None => 0,
            Some(user) => Kind::ALL
                .iter()
                .filter(|kind| !kind.enabled(Some(user)))
                .fold(0, |set, kind| set | 1 << kind.rank()),
        };
        let mut terminators = HashMap::new();
        for terminator in terminators_of(format) {
            terminators.insert(*terminator, occurrences(body, terminator));
        }
        let (li_ends, div_ends) = match format {
            LogFormat::Html => (element_ends(body, "li"), element_ends(body, "div")),
            LogFormat::Plain | LogFormat::Markdown => (HashMap::new(), HashMap::new()),
        };
        let closes = candidates
            .iter()
            .map(|c| match c.kind.shape() {
                Shape::Item => li_ends.get(&c.pos).copied(),
                Shape::Block | Shape::Journey => div_ends.get(&c.pos).copied(),
                Shape::Note => None,
            })
            .collect();
        Parser {
            body,
            format,
            candidates,
            repeated,
            off,
            carried,
            terminators,
            closes,
        }
    }

    /// Where the section starting at candidate `i` ends when the next
    /// section starts at `next`; `None` when it cannot end there. The bool
    /// says the section equals the request's rendering.
    fn own_end(&self, i: usize, next: usize) -> Option<(usize, bool)> {
        let c = &self.candidates[i];
        let content = c.pos + c.marker_len;
        if content > next {
            return None;
        }
        let natural = self.natural_end(i, next);
        // The request's rendering counts as this section only when it is the
        // whole section: where the section's shape ends it, or reaching the
        // next section (a multi-line value). A longer old value that merely
        // starts with the new one is not a match.
        if let Some(end) = c.anchor_len.map(|len| c.pos + len) {
            if end == next || (Some(end) == natural && end <= next) {
                return Some((end, true));
            }
        }
        natural.map(|end| (end, false))
    }

    /// Where the section at candidate `i` ends by its shape alone.
    fn natural_end(&self, i: usize, next: usize) -> Option<usize> {
        let c = &self.candidates[i];
        let content = c.pos + c.marker_len;
        let at_end = next == self.body.len();
        match (c.kind.shape(), self.format) {
            (Shape::Note, LogFormat::Plain) => Some(next),
            // A note may quote its own closing header; the last one before
            // the next section is the real one.
            (Shape::Note, LogFormat::Html) => self.last_end(HTML_NOTE_CLOSE, content, next),
            (Shape::Note, LogFormat::Markdown) => {
                self.last_end(MARKDOWN_NOTE_CLOSE, content - 1, next)
            }
            (Shape::Item, LogFormat::Plain | LogFormat::Markdown) => self
                .first_end("\n", content, next)
                .or(at_end.then_some(next)),
            (Shape::Item, LogFormat::Html) => self.closes[i]
                .filter(|&end| end <= next)
                .or_else(|| self.first_end("</li>", content, next)),
            (Shape::Block | Shape::Journey, LogFormat::Markdown) => Some(next),
            (Shape::Block, LogFormat::Plain) => self.last_end(PLAIN_BLOCK_END, content - 1, next),
            (Shape::Journey, LogFormat::Plain) => {
                self.last_end(PLAIN_JOURNEY_END, content - 1, next)
            }
            (Shape::Block | Shape::Journey, LogFormat::Html) => {
                let close = self.closes[i].filter(|&end| end <= next);
                close
                    .or_else(|| self.last_end("</div>", content, next))
                    .map(|end| {
                        let gap = c.kind.html_trailing_break()
                            && self.body[end..next].starts_with("<br>");
                        if gap {
                            end + "<br>".len()
                        } else {
                            end
                        }
                    })
            }
        }
    }

    /// End of the first `terminator` starting at or after `from` that ends
    /// by `limit`.
    fn first_end(&self, terminator: &str, from: usize, limit: usize) -> Option<usize> {
        let starts = self.terminators.get(terminator)?;
        let index = starts.partition_point(|&s| s < from);
        starts
            .get(index)
            .map(|s| s + terminator.len())
            .filter(|&end| end <= limit)
    }

    /// End of the last `terminator` starting at or after `from` that ends by
    /// `limit`; a plain-text end marker may also close the body without its
    /// final newline.
    fn last_end(&self, terminator: &str, from: usize, limit: usize) -> Option<usize> {
        let starts = self.terminators.get(terminator)?;
        let bound = limit.checked_sub(terminator.len());
        let found = bound.and_then(|bound| {
            let index = starts.partition_point(|&s| s <= bound);
            index
                .checked_sub(1)
                .map(|i| starts[i])
                .filter(|&s| s >= from)
                .map(|s| s + terminator.len())
        });
        let unterminated = terminator
            .strip_suffix('\n')
            .filter(|_| limit == self.body.len() && self.format == LogFormat::Plain);
        match unterminated {
            Some(open) if self.body[..limit].ends_with(open) && limit - open.len() >= from => {
                Some(limit)
            }
            _ => found,
        }
    }

    /// The merit of the section at candidate `i` when the next chosen one is
    /// `next` (none: the section runs to the end of the body).
    fn section_score(&self, i: usize, next: Option<&Candidate>) -> Option<Score> {
        let next_pos = next.map_or(self.body.len(), |c| c.pos);
        let (end, anchored) = self.own_end(i, next_pos)?;
        let kind = self.candidates[i].kind;
        let step_back = next.is_some_and(|c| c.kind.rank() < kind.rank());
        let off = self.off & (1 << kind.rank()) != 0;
        let stray = self.labels_between(end, next_pos);
        let hidden = self.hidden_sections(i, end, next);
        Some(Score {
            fit: i32::from(anchored) - stray - i32::from(off) - hidden,
            clean: -stray,
            net_sections: 1 - i32::from(step_back) - i32::from(off),
            switched_on: -i32::from(off),
            in_order: -i32::from(step_back),
            anchors: i32::from(anchored),
            canonical: -i32::from(!self.candidates[i].canonical),
        })
    }

    /// How many sections the request carries this split hides inside the
    /// text of the section at candidate `i` (which ends at `end`, before
    /// `next`): labels of a kind with no other candidate, and labels that
    /// stand in body order between `i` and `next`, where a section of their
    /// kind could start at no cost in order. A label quoted out of order is
    /// what quoting looks like, and costs nothing.
    fn hidden_sections(&self, i: usize, end: usize, next: Option<&Candidate>) -> i32 {
        let after = self.candidates[i].kind.rank();
        let before = next.map_or(usize::MAX, |c| c.kind.rank());
        let hidden = self.candidates[i + 1..]
            .iter()
            .take_while(|c| c.pos < end)
            .filter(|c| {
                let bit = 1 << c.kind.rank();
                let only_one = self.repeated & bit == 0;
                let in_order = after < c.kind.rank() && c.kind.rank() < before;
                self.carried & bit != 0 && (only_one || in_order)
            })
            .count();
        i32::try_from(hidden).unwrap_or(i32::MAX)
    }

    /// How many candidates start in `from..to`.
    fn labels_between(&self, from: usize, to: usize) -> i32 {
        let count = |pos: usize| self.candidates.partition_point(|c| c.pos < pos);
        i32::try_from(count(to).saturating_sub(count(from))).unwrap_or(i32::MAX)
    }

    /// The chosen candidates, in body order.
    fn choose(&self) -> Vec<usize> {
        let n = self.candidates.len();
        if n > MAX_CANDIDATES || self.repeated.count_ones() > MAX_REPEATED_KINDS {
            return self.choose_greedily();
        }
        let mut memo = HashMap::new();
        let stray = self.labels_between(0, self.body.len());
        let nothing = Score {
            fit: -stray,
            clean: -stray,
            ..Score::default()
        };
        let mut best: (Score, Option<usize>) = (nothing, None);
        for first in 0..n {
            let stray = self.labels_between(0, self.candidates[first].pos);
            let preamble = Score {
                fit: -stray,
                clean: -stray,
                ..Score::default()
            };
            let used = self.bit(first);
            if let Some((score, _)) = self.best_from(first, used, &mut memo) {
                if preamble + score > best.0 {
                    best = (preamble + score, Some(first));
                }
            }
        }
        let mut chosen = Vec::new();
        let mut current = best.1;
        let mut used = 0;
        while let Some(i) = current {
            chosen.push(i);
            used |= self.bit(i);
            current = memo
                .get(&(i, used))
                .and_then(|(_, next): &(Score, Option<usize>)| *next);
        }
        chosen
    }

    /// The bit that records using candidate `i`'s kind, if it needs one.
    fn bit(&self, i: usize) -> u32 {
        (1 << self.candidates[i].kind.rank()) & self.repeated
    }

    /// The best way to split the body from candidate `i` (chosen) onward.
    fn best_from(
        &self,
        i: usize,
        used: u32,
        memo: &mut HashMap<(usize, u32), (Score, Option<usize>)>,
    ) -> Option<(Score, Option<usize>)> {
        if let Some(known) = memo.get(&(i, used)) {
            return Some(*known);
        }
        let mut best: Option<(Score, Option<usize>)> =
            self.section_score(i, None).map(|score| (score, None));
        for j in i + 1..self.candidates.len() {
            let bit = self.bit(j);
            if used & bit != 0 {
                continue;
            }
            let next = &self.candidates[j];
            let Some(here) = self.section_score(i, Some(next)) else {
                continue;
            };
            if let Some((rest, _)) = self.best_from(j, used | bit, memo) {
                let total = here + rest;
                // On a tie the later start wins: a label the two readings
                // both explain is more likely quoted at the end of the
                // section before it than opening a section that begins by
                // quoting its own label.
                if best.is_none_or(|(score, _)| total >= score) {
                    best = Some((total, Some(j)));
                }
            }
        }
        if let Some(found) = best {
            memo.insert((i, used), found);
        }
        best
    }

    /// Left to right: take each candidate whose kind is new and where the
    /// section before it can end.
    fn choose_greedily(&self) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::new();
        let mut used = 0u32;
        for j in 0..self.candidates.len() {
            let bit = 1 << self.candidates[j].kind.rank();
            if used & bit != 0 {
                continue;
            }
            let fits = chosen
                .last()
                .is_none_or(|&i| self.own_end(i, self.candidates[j].pos).is_some());
            if fits {
                chosen.push(j);
                used |= bit;
            }
        }
        while let Some(&last) = chosen.last() {
            if self.own_end(last, self.body.len()).is_some() {
                break;
            }
            chosen.pop();
        }
        chosen
    }

    fn segments(&self, chosen: &[usize]) -> Vec<Segment> {
        let mut segments = Vec::new();
        let push_text = |segments: &mut Vec<Segment>, text: &str| {
            if !text.is_empty() {
                segments.push(Segment::Text(text.to_owned()));
            }
        };
        let first = chosen
            .first()
            .map_or(self.body.len(), |&i| self.candidates[i].pos);
        push_text(&mut segments, &self.body[..first]);
        for (k, &i) in chosen.iter().enumerate() {
            let start = self.candidates[i].pos;
            let next = chosen
                .get(k + 1)
                .map_or(self.body.len(), |&j| self.candidates[j].pos);
            // `choose` only keeps splits where every section can end.
            let end = self.own_end(i, next).map_or(next, |(end, _)| end);
            segments.push(Segment::Section {
                kind: self.candidates[i].kind,
                text: self.body[start..end].to_owned(),
            });
            push_text(&mut segments, &self.body[end..next]);
        }
        segments
    }
}

/// Where each `tag` element ends, by the position it opens at, counting
/// nested elements of the same tag; one that never closes is absent.
fn element_ends(body: &str, tag: &str) -> HashMap<usize, usize> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    // One pass with a stack, not a scan per element: a hostile body of
    // thousands of unclosed elements must stay linear.
    let mut unclosed = Vec::new();
    let mut ends = HashMap::new();
    let mut at = 0;
    while let Some(offset) = body[at..].find('<') {
        at += offset;
        let rest = &body[at..];
        if rest.starts_with(&close) {
            at += close.len();
            if let Some(start) = unclosed.pop() {
                ends.insert(start, at);
            }
            continue;
        }
        let opens = rest
            .strip_prefix(&open)
            .is_some_and(|after| after.starts_with(['>', ' ']));
        if opens {
            unclosed.push(at);
        }
        at += 1;
    }
    ends
}

fn terminators_of(format: LogFormat) -> &'static [&'static str] {
    match format {
        LogFormat::Plain => &["\n", PLAIN_BLOCK_END, PLAIN_JOURNEY_END],
        LogFormat::Markdown => &["\n", MARKDOWN_NOTE_CLOSE],
        LogFormat::Html => &["</li>", "</div>", HTML_NOTE_CLOSE],
    }
}

/// Every start of `needle` in `haystack`, overlapping ones included (two
/// end markers can share a newline).
fn occurrences(haystack: &str, needle: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = haystack.get(from..).and_then(|rest| rest.find(needle)) {
        found.push(from + offset);
        from += offset + 1;
        while from < haystack.len() && !haystack.is_char_boundary(from) {
            from += 1;
        }
    }
    found
}

/// Every place a section's marker starts.
fn find_candidates(body: &str, format: LogFormat) -> Vec<Candidate> {
    let mut markers: Vec<(String, Kind)> = Vec::new();
    for kind in Kind::ALL {
        for label in kind.labels(format) {
            let marker = sections::marker(kind, label, format);
            markers.push((marker, kind));
        }
    }
    if format == LogFormat::Plain {
        markers.push((PLAIN_NOTE_OPEN_OLD.to_owned(), Kind::Note));
    }

    let starts: Vec<usize> = match format {
        // HTML has no lines: a marker can start anywhere.
        LogFormat::Html => body.match_indices('<').map(|(i, _)| i).collect(),
        LogFormat::Plain | LogFormat::Markdown => std::iter::once(0)
            .chain(body.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| i < body.len())
            .collect(),
    };

    let mut candidates: Vec<Candidate> = Vec::new();
    for pos in starts {
        let rest = &body[pos..];
        let Some((marker, kind)) = markers.iter().find(|(marker, _)| rest.starts_with(marker))
        else {
            continue;
        };
        let mut candidate = Candidate {
            pos,
            kind: *kind,
            marker_len: marker.len(),
            anchor_len: None,
            canonical: true,
        };
        // A plain-text block opens with a blank line; the blank line belongs
        // to the block, so that replacing the section before it keeps it.
        if format == LogFormat::Plain && kind.shape() == Shape::Block && pos > 0 {
            let blank_before = body.as_bytes()[pos - 1] == b'\n'
                && (pos == 1 || body.as_bytes()[pos - 2] == b'\n');
            if blank_before {
                candidate.pos -= 1;
                candidate.marker_len += 1;
            } else {
                candidate.canonical = false;
            }
        }
        candidates.push(candidate);
    }
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_end_at_their_own_close_counting_nesting() {
        // `<li` opens at 0, 5, 22 and 42; `</li>` ends at 17, 22, 37 and 42.
        let body = "<li>a<li x>b</li></li><li>c<lix></li></li><li>";
        let ends = element_ends(body, "li");
        assert_eq!(ends.get(&0), Some(&22), "the outer one closes last");
        assert_eq!(ends.get(&5), Some(&17), "the nested one closes first");
        // `<lix>` is not an `li`; the `</li>` ending at 42 closes nothing.
        assert_eq!(ends.get(&22), Some(&37));
        assert_eq!(ends.get(&42), None, "never closed");
        assert_eq!(ends.len(), 3);
    }

    fn kinds(segments: &[Segment]) -> Vec<Option<Kind>> {
        segments
            .iter()
            .map(|s| match s {
                Segment::Text(_) => None,
                Segment::Section { kind, .. } => Some(*kind),
            })
            .collect()
    }

    fn bare(body: &str, format: LogFormat) -> Vec<Segment> {
        parse(
            body,
            format,
            &Hints {
                expected: &[],
                user: None,
            },
        )
    }

    #[test]
    fn a_label_inside_the_note_stays_in_the_note_when_the_real_one_follows() {
        let body = "- Note: call back\n- Duration: 5\n- Summary: s\n- Duration: 1 minute\n";
        let segments = bare(body, LogFormat::Plain);
        assert_eq!(
            segments[0],
            Segment::Section {
                kind: Kind::Note,
                text: "- Note: call back\n- Duration: 5\n".into()
            }
        );
        assert_eq!(
            kinds(&segments),
            vec![Some(Kind::Note), Some(Kind::Subject), Some(Kind::Duration)]
        );
    }

    #[test]
    fn an_end_marker_inside_a_block_does_not_end_it() {
        let body = "- Result: ok\n\n- AI Note:\na\n--- END\nb\n--- END\n- Call score: 5\n";
        let segments = bare(body, LogFormat::Plain);
        assert_eq!(
            segments[1],
            Segment::Section {
                kind: Kind::AiNote,
                text: "\n- AI Note:\na\n--- END\nb\n--- END\n".into()
            }
        );
        assert_eq!(segments.len(), 3);
    }

    #[test]
    fn unknown_text_is_kept_apart() {
        let body = "Logged by hand\n- Summary: s\nextra line\n";
        let segments = bare(body, LogFormat::Plain);
        assert_eq!(
            segments,
            vec![
                Segment::Text("Logged by hand\n".into()),
                Segment::Section {
                    kind: Kind::Subject,
                    text: "- Summary: s\n".into()
                },
                Segment::Text("extra line\n".into()),
            ]
        );
    }

    #[test]
    fn html_sections_and_a_list_around_them() {
        let body = "<ul><li>x</li><li><b>Call recording link</b>: (pending...)</li></ul><div><b>AI Note</b><br>a</div><br>";
        let segments = bare(body, LogFormat::Html);
        assert_eq!(
            kinds(&segments),
            vec![None, Some(Kind::CallRecording), None, Some(Kind::AiNote)]
        );
    }

    #[test]
    fn many_candidates_fall_back_to_a_greedy_pass() {
        let body = "- Summary: s\n".repeat(500);
        let segments = bare(&body, LogFormat::Plain);
        assert_eq!(kinds(&segments), vec![Some(Kind::Subject), None]);
    }
}
