//! The message properties (SPEC §13) judged from what the CRM holds: the
//! tenant's activities and every revision of each, against the messages
//! core sent and what core recorded as logged.
//!
//! Which messages a stored log holds: when the log carries `message_ids`
//! (the native API's field, which a connector like `good.js` or the
//! reference connector sets, and which a proxy config's face stores), the
//! ids core gave the message (group SMS ids with their `-<contactId>`
//! suffix); otherwise (a CRM face stores no message ids, nor does a
//! connector that leaves the field out, nor a shared-SMS log, whose
//! messages core never names by id) the message's *marker* in the body:
//! its text, or for a voicemail or fax its link, counted as often as it
//! occurs, in logs of the message's contact only (a group SMS's text is in
//! each contact's log).
//!
//! Pure: it judges values handed to it, and must not call the connector or
//! the CRM.

use std::collections::BTreeSet;

use serde_json::Value;

use super::properties::{Property, Verdicts};

/// One message as core sent it, and what core made of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// The id core records it under (group SMS: with `-<contactId>`).
    pub key: String,
    /// Its `conversationLogId` (group SMS: with `-<contactId>`).
    pub conversation: String,
    /// What a body that holds it holds: its text, or its link.
    pub marker: String,
    /// The CRM contact (native id) whose log it belongs in.
    pub contact: String,
    /// Whether core names messages by id (false for a shared SMS's).
    pub by_id: bool,
    /// Core counts it as logged: it will never send it again.
    pub recorded: bool,
    /// How many times core handed it to the connector's functions or
    /// would have (the syncs that held it).
    pub sent: u32,
}

/// One stored log, as the CRM's API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub conversation: Option<String>,
    pub contact: Option<String>,
    pub message_ids: Vec<String>,
    pub body: String,
}

impl Stored {
    /// The native API's JSON of an activity.
    pub fn from_json(activity: &Value) -> Stored {
        let text = |field: &str| {
            activity
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Stored {
            id: text("id").unwrap_or_default(),
            conversation: text("conversation_log_id"),
            contact: text("contact_id"),
            message_ids: activity
                .get("message_ids")
                .and_then(Value::as_array)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| match id {
                            Value::String(id) => Some(id.clone()),
                            Value::Number(id) => Some(id.to_string()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            body: text("body").unwrap_or_default(),
        }
    }

    /// How many times this state of the log holds `message`.
    pub fn holds(&self, message: &Sent) -> usize {
        if message.by_id && !self.message_ids.is_empty() {
            return self
                .message_ids
                .iter()
                .filter(|id| **id == message.key)
                .count();
        }
        let of_contact = self
            .contact
            .as_deref()
            .is_none_or(|contact| contact == message.contact);
        if of_contact && !message.marker.is_empty() {
            self.body.matches(message.marker.as_str()).count()
        } else {
            0
        }
    }

    /// Whether it is judged by its message ids rather than its body.
    fn by_ids(&self, message: &Sent) -> bool {
        message.by_id && !self.message_ids.is_empty()
    }
}

/// A stored log and every state it has had, oldest first (the last is
/// the log as it is).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLog {
    pub now: Stored,
    pub revisions: Vec<Stored>,
}

/// Judges the four message properties of one case: `sent` the messages,
/// `logs` everything the case's tenant holds.
pub fn judge(verdicts: &mut Verdicts, sent: &[Sent], logs: &[StoredLog]) {
    if sent.is_empty() {
        return;
    }
    let holders = |message: &Sent| -> Vec<(&StoredLog, usize)> {
        logs.iter()
            .map(|log| (log, log.now.holds(message)))
            .filter(|(_, count)| *count > 0)
            .collect()
    };

    // Every message core counts as logged is in exactly one log, of its
    // conversationLogId.
    for message in sent.iter().filter(|message| message.recorded) {
        let found = holders(message);
        let ids: Vec<&str> = found.iter().map(|(log, _)| log.now.id.as_str()).collect();
        match found.as_slice() {
            [] => verdicts.broke(
                Property::MessageInOneLog,
                format!(
                    "message {} ({:?}) is in no log, yet core counts it as logged and will never send it again",
                    message.key, message.marker
                ),
            ),
            [(log, _)] => {
                let elsewhere = log.now.by_ids(message)
                    && log
                        .now
                        .conversation
                        .as_deref()
                        .is_some_and(|conversation| conversation != message.conversation);
                verdicts.check(Property::MessageInOneLog, !elsewhere, || {
                    format!(
                        "message {} of conversationLogId {} is in log {}, which is of conversation_log_id {}",
                        message.key,
                        message.conversation,
                        log.now.id,
                        log.now.conversation.as_deref().unwrap_or("-")
                    )
                });
            }
            _ => verdicts.broke(
                Property::MessageInOneLog,
                format!(
                    "message {} ({:?}) is in {} logs ({}): App Connect shows it once",
                    message.key,
                    message.marker,
                    ids.len(),
                    ids.join(", ")
                ),
            ),
        }
    }

    // One log per conversationLogId: the logs that say they are its, and
    // the logs that hold any of its messages.
    let conversations: BTreeSet<&str> = sent
        .iter()
        .map(|message| message.conversation.as_str())
        .collect();
    for conversation in conversations {
        let of: Vec<&str> = logs
            .iter()
            .filter(|log| {
                log.now.conversation.as_deref() == Some(conversation)
                    || sent
                        .iter()
                        .filter(|message| message.conversation == conversation)
                        .any(|message| log.now.holds(message) > 0)
            })
            .map(|log| log.now.id.as_str())
            .collect();
        verdicts.check(Property::OneLogPerConversation, of.len() <= 1, || {
            format!(
                "conversationLogId {conversation} was written as {} logs ({}): App Connect keeps one log per conversation and day",
                of.len(),
                of.join(", ")
            )
        });
    }

    // No write drops a message an earlier state held.
    for log in logs {
        for pair in log.revisions.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            for message in sent {
                if before.holds(message) > 0 && after.holds(message) == 0 {
                    verdicts.broke(
                        Property::UpdateKeepsMessages,
                        format!(
                            "a write of log {} dropped message {} ({:?}), which the log held before it",
                            log.now.id, message.key, message.marker
                        ),
                    );
                }
            }
            verdicts.held(Property::UpdateKeepsMessages);
        }
    }

    // A message core sent more than once is written once in all.
    for message in sent.iter().filter(|message| message.sent > 1) {
        let found = holders(message);
        let times: usize = found.iter().map(|(_, count)| count).sum();
        verdicts.check(Property::RepeatWrittenOnce, times <= 1, || {
            let places: Vec<String> = found
                .iter()
                .map(|(log, count)| {
                    if *count == 1 {
                        log.now.id.clone()
                    } else {
                        format!("{} ({count} times)", log.now.id)
                    }
                })
                .collect();
            format!(
                "message {} ({:?}), which core sent {} times, is written {times} times: {}",
                message.key,
                message.marker,
                message.sent,
                places.join(", ")
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::properties::Verdict;

    fn sent(key: &str, recorded: bool, times: u32) -> Sent {
        Sent {
            key: key.into(),
            conversation: "c-2025-06-03".into(),
            marker: format!("text {key}"),
            contact: "con_1".into(),
            by_id: true,
            recorded,
            sent: times,
        }
    }

    fn log(id: &str, ids: &[&str], body: &str) -> Stored {
        Stored {
            id: id.into(),
            conversation: Some("c-2025-06-03".into()),
            contact: Some("con_1".into()),
            message_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            body: body.into(),
        }
    }

    fn judged(sent: &[Sent], logs: &[StoredLog]) -> Verdicts {
        let mut verdicts = Verdicts::default();
        judge(&mut verdicts, sent, logs);
        verdicts
    }

    fn broken(verdicts: &Verdicts) -> Vec<Property> {
        verdicts.broken().map(|(property, _)| property).collect()
    }

    #[test]
    fn a_log_that_grew_message_by_message_keeps_every_property() {
        let first = log("a1", &["m1"], "text m1");
        let second = log("a1", &["m1", "m2"], "text m1\ntext m2");
        let logs = [StoredLog {
            now: second.clone(),
            revisions: vec![first, second],
        }];
        let verdicts = judged(&[sent("m1", true, 2), sent("m2", true, 1)], &logs);
        assert!(broken(&verdicts).is_empty(), "{verdicts:?}");
        for property in [
            Property::MessageInOneLog,
            Property::OneLogPerConversation,
            Property::UpdateKeepsMessages,
            Property::RepeatWrittenOnce,
        ] {
            assert_eq!(verdicts.get(property), &Verdict::Held, "{property}");
        }
    }

    #[test]
    fn a_second_log_for_a_repeated_message_breaks_three_properties() {
        let a = log("a1", &["m1"], "text m1");
        let b = log("a2", &["m1", "m2"], "text m1\ntext m2");
        let logs = [
            StoredLog {
                now: a.clone(),
                revisions: vec![a],
            },
            StoredLog {
                now: b.clone(),
                revisions: vec![b],
            },
        ];
        let verdicts = judged(&[sent("m1", true, 2), sent("m2", true, 1)], &logs);
        assert_eq!(
            broken(&verdicts),
            [
                Property::MessageInOneLog,
                Property::OneLogPerConversation,
                Property::RepeatWrittenOnce
            ]
        );
    }

    #[test]
    fn a_dropped_message_and_a_lost_one_are_told_apart() {
        let before = log("a1", &["m1"], "text m1");
        let after = log("a1", &["m2"], "text m2");
        let logs = [StoredLog {
            now: after.clone(),
            revisions: vec![before, after],
        }];
        let verdicts = judged(&[sent("m1", true, 1), sent("m2", true, 1)], &logs);
        assert_eq!(
            broken(&verdicts),
            [Property::MessageInOneLog, Property::UpdateKeepsMessages]
        );
    }

    #[test]
    fn without_message_ids_the_body_is_searched_in_the_contacts_logs_only() {
        let mut mine = log("a1", &[], "text m1 and text m1");
        mine.conversation = Some("derived".into());
        let mut theirs = mine.clone();
        theirs.id = "a2".into();
        theirs.contact = Some("con_2".into());
        let logs = [
            StoredLog {
                now: mine.clone(),
                revisions: vec![mine],
            },
            StoredLog {
                now: theirs.clone(),
                revisions: vec![theirs],
            },
        ];
        let verdicts = judged(&[sent("m1", true, 2)], &logs);
        assert_eq!(broken(&verdicts), [Property::RepeatWrittenOnce]);
        let (_, reason) = verdicts.broken().next().expect("a breach");
        assert!(reason.contains("a1 (2 times)"), "{reason}");
    }
}
