//! The contract a connector must keep, as verdicts per case: which
//! properties there are, what each case found for each, and the pure
//! comparisons behind them (the body the CRM holds against the body core
//! composed, the note `getCallLog` gave back against the note the body
//! holds). The facts come from the CRM's own records and the journal,
//! gathered by the runner, never from what the connector says it did.

use std::fmt;

use serde_json::Value;

use crate::compose;
use crate::interface::{LogFormat, User};

/// The properties, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    /// A non-empty string `logId` naming an activity, or a warning and no
    /// activity for the session.
    NeverLost,
    /// At most one activity per call session, also under faults.
    OneActivityPerSession,
    /// The stored body is `composedLogDetails`, byte for byte, after the
    /// create and after the update.
    BodyStored,
    /// `getCallLog` gives back the stored body as `fullBody` and the note.
    GetCallLogRoundTrip,
    /// No connector function throws or rejects, nor leaves an error
    /// unhandled, nor answers what core cannot read.
    NothingThrows,
    /// Every call settles within `--call-timeout`.
    SettlesInTime,
}

impl Property {
    pub const ALL: [Property; 6] = [
        Property::NeverLost,
        Property::OneActivityPerSession,
        Property::BodyStored,
        Property::GetCallLogRoundTrip,
        Property::NothingThrows,
        Property::SettlesInTime,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Property::NeverLost => "a call is never lost",
            Property::OneActivityPerSession => "one activity per call session",
            Property::BodyStored => "stored body equals composedLogDetails",
            Property::GetCallLogRoundTrip => "getCallLog returns the body and the note",
            Property::NothingThrows => "nothing throws",
            Property::SettlesInTime => "every call settles within --call-timeout",
        }
    }

    /// A name for files and JUnit test cases.
    pub fn slug(self) -> &'static str {
        match self {
            Property::NeverLost => "never-lost",
            Property::OneActivityPerSession => "one-activity-per-session",
            Property::BodyStored => "body-stored",
            Property::GetCallLogRoundTrip => "get-call-log",
            Property::NothingThrows => "nothing-throws",
            Property::SettlesInTime => "settles-in-time",
        }
    }

    fn index(self) -> usize {
        Property::ALL
            .iter()
            .position(|property| *property == self)
            .unwrap_or(0)
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// What one case found for one property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The case never reached a point where it applies (no log to read
    /// back, a format core does not compose).
    NotChecked,
    Held,
    /// Broken, and the first reason found.
    Broken(String),
}

/// A case's verdicts: one per property. A property held as long as every
/// check of it held; the first breach is the one reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdicts([Verdict; 6]);

impl Default for Verdicts {
    fn default() -> Self {
        Verdicts(std::array::from_fn(|_| Verdict::NotChecked))
    }
}

impl Verdicts {
    pub fn get(&self, property: Property) -> &Verdict {
        &self.0[property.index()]
    }

    pub fn held(&mut self, property: Property) {
        let verdict = &mut self.0[property.index()];
        if *verdict == Verdict::NotChecked {
            *verdict = Verdict::Held;
        }
    }

    pub fn broke(&mut self, property: Property, reason: impl Into<String>) {
        let verdict = &mut self.0[property.index()];
        if !matches!(verdict, Verdict::Broken(_)) {
            *verdict = Verdict::Broken(reason.into());
        }
    }

    /// Held, or broken with `reason`, as `ok` says.
    pub fn check(&mut self, property: Property, ok: bool, reason: impl FnOnce() -> String) {
        if ok {
            self.held(property);
        } else {
            self.broke(property, reason());
        }
    }

    pub fn broken(&self) -> impl Iterator<Item = (Property, &str)> {
        Property::ALL
            .into_iter()
            .zip(self.0.iter())
            .filter_map(|(property, verdict)| match verdict {
                Verdict::Broken(reason) => Some((property, reason.as_str())),
                _ => None,
            })
    }
}

/// The note a connector must give back for a body core composed: the
/// user's note as the body holds it, or `None` when that cannot be told
/// (core itself rewrote it: a `$&` in an update, a quoted label it replaced).
pub fn expected_note(
    composed: &str,
    format: LogFormat,
    user: &User,
    note: Option<&str>,
) -> Option<String> {
    let written = compose::setting_enabled(Some(user), "addCallLogNote", true);
    let note = note.filter(|note| !note.is_empty());
    let held = compose::parse_note(composed, format, Some(user));
    match (note, written) {
        // The body has no note section; nothing to give back.
        (None, _) | (Some(_), false) => match held {
            None => Some(String::new()),
            Some(_) => None,
        },
        (Some(note), true) => (held.as_deref() == Some(note)).then(|| note.to_owned()),
    }
}

/// Whether `getCallLog`'s note is `expected` (an empty note may be left out).
pub fn note_matches(answered: Option<&Value>, expected: &str) -> bool {
    match answered {
        None | Some(Value::Null) => expected.is_empty(),
        Some(Value::String(note)) => note == expected,
        Some(_) => false,
    }
}

/// The first place two texts differ, for a message a reader can act on.
pub fn first_difference(expected: &str, got: &str) -> String {
    let at = expected
        .char_indices()
        .zip(got.chars())
        .find(|((_, a), b)| a != b)
        .map(|((index, _), _)| index)
        .unwrap_or_else(|| expected.len().min(got.len()));
    let around = |text: &str| {
        let start = floor_char(text, at.saturating_sub(20));
        let end = floor_char(text, (at + 30).min(text.len()));
        format!("{:?}", &text[start..end])
    };
    format!(
        "{} bytes expected, {} stored; first difference at byte {at}: expected …{}…, stored …{}…",
        expected.len(),
        got.len(),
        around(expected),
        around(got)
    )
}

fn floor_char(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_first_breach_is_kept_and_held_never_hides_it() {
        let mut verdicts = Verdicts::default();
        assert_eq!(verdicts.get(Property::BodyStored), &Verdict::NotChecked);
        verdicts.held(Property::BodyStored);
        verdicts.broke(Property::BodyStored, "first");
        verdicts.broke(Property::BodyStored, "second");
        verdicts.held(Property::BodyStored);
        assert_eq!(
            verdicts.get(Property::BodyStored),
            &Verdict::Broken("first".into())
        );
        let broken: Vec<_> = verdicts.broken().collect();
        assert_eq!(broken, [(Property::BodyStored, "first")]);
    }

    #[test]
    fn the_expected_note_is_the_one_the_body_holds() {
        let user = User::default();
        let body = "## Agent notes\nhello $&\n\n## Call details\n**Duration**: 5 seconds\n";
        assert_eq!(
            expected_note(body, LogFormat::Markdown, &user, Some("hello $&")),
            Some("hello $&".into())
        );
        // Core rewrote the note: no connector could give the user's back.
        assert_eq!(
            expected_note(body, LogFormat::Markdown, &user, Some("hello")),
            None
        );
        let bare = "**Duration**: 5 seconds\n";
        assert_eq!(
            expected_note(bare, LogFormat::Markdown, &user, None),
            Some(String::new())
        );
        let off: User =
            serde_json::from_value(json!({"userSettings": {"addCallLogNote": {"value": false}}}))
                .expect("user");
        assert_eq!(
            expected_note(bare, LogFormat::Markdown, &off, Some("hello")),
            Some(String::new())
        );
    }

    #[test]
    fn an_empty_note_may_be_left_out() {
        assert!(note_matches(None, ""));
        assert!(note_matches(Some(&json!("")), ""));
        assert!(!note_matches(None, "hello"));
        assert!(note_matches(Some(&json!("hello")), "hello"));
        assert!(!note_matches(Some(&json!(5)), "5"));
    }

    #[test]
    fn a_difference_is_shown_where_it_is() {
        let message = first_difference("abc\n", "abc");
        assert!(message.contains("4 bytes expected, 3 stored"), "{message}");
        assert!(message.contains("byte 3"), "{message}");
        let message = first_difference("zoë x", "zoë y");
        assert!(message.contains("byte 5"), "{message}");
    }
}
