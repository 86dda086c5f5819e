//! `String.prototype.replace` with a replacement *string*, as core calls it
//! on a match one of the patterns found (or on a string needle's first
//! occurrence): the `$` patterns expanded exactly as ECMA-262's
//! GetSubstitution does. It knows nothing of patterns or sections.

use super::text::Found;

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

#[cfg(test)]
mod tests {
    //! Each test names the JavaScript behaviour it pins; the expected values
    //! are what Node.js prints for the same expression.

    use std::ops::Range;

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
}
