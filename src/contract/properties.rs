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
    /// Every message core counts as logged is in exactly one log, and
    /// that log is of the message's `conversationLogId`.
    MessageInOneLog,
    /// At most one log per `conversationLogId`.
    OneLogPerConversation,
    /// No write of a log drops a message an earlier revision held.
    UpdateKeepsMessages,
    /// A message core sent more than once is written once.
    RepeatWrittenOnce,
}

impl Property {
    pub const ALL: [Property; 10] = [
        Property::NeverLost,
        Property::OneActivityPerSession,
        Property::BodyStored,
        Property::GetCallLogRoundTrip,
        Property::NothingThrows,
        Property::SettlesInTime,
        Property::MessageInOneLog,
        Property::OneLogPerConversation,
        Property::UpdateKeepsMessages,
        Property::RepeatWrittenOnce,
    ];

    /// The properties of the call half (`--only calls`).
    pub const CALLS: [Property; 6] = [
        Property::NeverLost,
        Property::OneActivityPerSession,
        Property::BodyStored,
        Property::GetCallLogRoundTrip,
        Property::NothingThrows,
        Property::SettlesInTime,
    ];

    /// The properties of the message half (`--only messages`), SPEC §13's
    /// five with "every call settles" that every half keeps.
    pub const MESSAGES: [Property; 6] = [
        Property::MessageInOneLog,
        Property::OneLogPerConversation,
        Property::UpdateKeepsMessages,
        Property::RepeatWrittenOnce,
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
            Property::MessageInOneLog => {
                "every message is in exactly one log of its conversationLogId"
            }
            Property::OneLogPerConversation => "one log per conversationLogId",
            Property::UpdateKeepsMessages => "an update never drops an earlier message",
            Property::RepeatWrittenOnce => "a message repeated by core is not written twice",
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
            Property::MessageInOneLog => "message-in-one-log",
            Property::OneLogPerConversation => "one-log-per-conversation",
            Property::UpdateKeepsMessages => "update-keeps-messages",
            Property::RepeatWrittenOnce => "repeat-written-once",
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
pub struct Verdicts([Verdict; Property::ALL.len()]);

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

/// The notes a connector may give back from `getCallLog` for a body core
/// composed: the note as the body holds it (none when the user's settings
/// keep notes out of the body), or the user's note as written, which a
/// connector that keeps the note apart from the body returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedNote {
    pub held: String,
    pub written: String,
}

impl ExpectedNote {
    /// Whether `getCallLog`'s note is one of them (an empty one may be
    /// left out).
    pub fn accepts(&self, answered: Option<&Value>) -> bool {
        let is = |expected: &str| match answered {
            None | Some(Value::Null) => expected.is_empty(),
            Some(Value::String(note)) => note == expected,
            Some(_) => false,
        };
        is(&self.held) || is(&self.written)
    }

    pub fn describe(&self) -> String {
        if self.held == self.written {
            format!("the body holds the note {:?}", self.held)
        } else if self.held.is_empty() {
            format!(
                "the user wrote the note {:?}, which their settings keep out of the body",
                self.written
            )
        } else {
            format!(
                "the body holds the note {:?} and the user wrote {:?}",
                self.held, self.written
            )
        }
    }
}

/// What `getCallLog` may answer as the note for `composed`, or `None` when
/// that cannot be told (core itself rewrote the note: a `$&` in an update,
/// a quoted label it replaced).
pub fn expected_note(
    composed: &str,
    format: LogFormat,
    user: &User,
    note: Option<&str>,
) -> Option<ExpectedNote> {
    let in_body = compose::setting_enabled(Some(user), "addCallLogNote", true);
    let written = note.filter(|note| !note.is_empty()).unwrap_or_default();
    let held = compose::parse_note(composed, format, Some(user));
    let held = match (written.is_empty() || !in_body, held) {
        // No note in the body, as the settings say.
        (true, None) => String::new(),
        (false, Some(held)) if held == written => held,
        _ => return None,
    };
    Some(ExpectedNote {
        held,
        written: written.to_owned(),
    })
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
    fn the_expected_note_is_the_one_the_body_holds_or_the_users() {
        let user = User::default();
        let expected = |held: &str, written: &str| {
            Some(ExpectedNote {
                held: held.into(),
                written: written.into(),
            })
        };
        let body = "## Agent notes\nhello $&\n\n## Call details\n**Duration**: 5 seconds\n";
        assert_eq!(
            expected_note(body, LogFormat::Markdown, &user, Some("hello $&")),
            expected("hello $&", "hello $&")
        );
        // Core rewrote the note: no connector could give the user's back.
        assert_eq!(
            expected_note(body, LogFormat::Markdown, &user, Some("hello")),
            None
        );
        let bare = "**Duration**: 5 seconds\n";
        assert_eq!(
            expected_note(bare, LogFormat::Markdown, &user, None),
            expected("", "")
        );
        let off: User =
            serde_json::from_value(json!({"userSettings": {"addCallLogNote": {"value": false}}}))
                .expect("user");
        let note_apart = expected_note(bare, LogFormat::Markdown, &off, Some("hello"));
        assert_eq!(note_apart, expected("", "hello"));
        let note_apart = note_apart.expect("expected");
        assert!(note_apart.accepts(None), "the body holds none");
        assert!(note_apart.accepts(Some(&json!("hello"))), "kept apart");
        assert!(!note_apart.accepts(Some(&json!("hell"))));
    }

    #[test]
    fn an_empty_note_may_be_left_out() {
        let none = ExpectedNote {
            held: String::new(),
            written: String::new(),
        };
        assert!(none.accepts(None));
        assert!(none.accepts(Some(&json!(""))));
        let hello = ExpectedNote {
            held: "hello".into(),
            written: "hello".into(),
        };
        assert!(!hello.accepts(None));
        assert!(hello.accepts(Some(&json!("hello"))));
        assert!(!hello.accepts(Some(&json!(5))));
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
