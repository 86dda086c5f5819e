//! The body a pattern is matched against: its ASCII-lowercased copy for
//! the `i` flag, and memoised "next occurrence at or after" searches, so
//! that every matcher walks the body in linear time; and a match in it
//! (`Found`), which the matchers give and the substitution takes.

use std::ops::Range;

use crate::js::is_space;

/// A match of one of core's patterns: the whole match, and its capture
/// group when the pattern has one (each pattern here has at most one, and
/// it always takes part in a match).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub whole: Range<usize>,
    pub group: Option<Range<usize>>,
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

    pub(super) fn len(&self) -> usize {
        self.body.len()
    }

    pub(super) fn byte(&self, at: usize) -> Option<u8> {
        self.body.as_bytes().get(at).copied()
    }

    pub(super) fn char_at(&self, at: usize) -> Option<char> {
        self.body.get(at..).and_then(|rest| rest.chars().next())
    }

    /// Where `needle` next occurs at or after `from`; `ci` folds ASCII case.
    pub(super) fn find(&self, needle: &str, from: usize, ci: bool) -> Option<usize> {
        let hay = if ci { &self.lower } else { self.body };
        let needle = if ci {
            needle.to_ascii_lowercase()
        } else {
            needle.to_owned()
        };
        hay.get(from..)?.find(&needle).map(|at| from + at)
    }

    pub(super) fn starts_with(&self, at: usize, needle: &str, ci: bool) -> bool {
        let hay = if ci { &self.lower } else { self.body };
        match hay.as_bytes().get(at..at + needle.len()) {
            Some(bytes) if ci => bytes.eq_ignore_ascii_case(needle.as_bytes()),
            Some(bytes) => bytes == needle.as_bytes(),
            None => false,
        }
    }

    /// Every occurrence of `needle`, in order.
    pub(super) fn occurrences<'n>(
        &'n self,
        needle: &'n str,
        ci: bool,
    ) -> impl Iterator<Item = usize> + 'n {
        let mut from = 0;
        std::iter::from_fn(move || {
            let at = self.find(needle, from, ci)?;
            from = at + 1;
            Some(at)
        })
    }

    /// The end of the run of JavaScript whitespace starting at `from`, with
    /// the start of each character in it: `\s*` can give back any of them.
    pub(super) fn space_run(&self, from: usize) -> Vec<usize> {
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
pub(super) struct NextStop<'s> {
    stops: &'s [u8],
    scanned: Range<usize>,
}

impl<'s> NextStop<'s> {
    pub(super) fn new(stops: &'s [u8]) -> Self {
        NextStop {
            stops,
            scanned: 0..0,
        }
    }

    pub(super) fn from(&mut self, text: &Text<'_>, from: usize) -> usize {
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

/// A memoised "first at or after": valid for any later `from` up to the
/// answer it found.
#[derive(Default)]
pub(super) struct Memo {
    last: Option<(usize, Option<usize>)>,
}

impl Memo {
    pub(super) fn get(
        &mut self,
        from: usize,
        search: impl Fn(usize) -> Option<usize>,
    ) -> Option<usize> {
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
