//! The JavaScript that App Connect's core updates a body with, reproduced
//! exactly: the few regular-expression shapes its `upsert*` functions use,
//! and `String.prototype.replace` with a replacement *string*, `$` patterns
//! and all. `core_update.rs` says which shape each section uses; this
//! module owns only the matching and the substitution, and knows nothing of
//! sections.
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
//!
//! `text.rs` holds the body being matched (with its case-folded copy and
//! memoised searches) and what a match in it is; `patterns.rs` one matcher
//! per pattern shape; `replace.rs` the substitution.

mod patterns;
mod replace;
mod text;

pub use patterns::{
    between, dashless_item, dated_line, html_block, html_item, html_link_item, line_item,
    markdown_block, plain_note, spaced_item,
};
pub use replace::{replace, replace_first};
pub use text::{Found, Text};

// JavaScript's `String.prototype.trim`, as the rest of mockcrm reads it.
pub use crate::js::trim;
