//! The message cases `mockcrm contract` plays: one conversation as App
//! Connect's client hands it to core over one or two days (so one or two
//! `conversationLogId`s), the syncs it sends (`POST /messageLog`, each a
//! page of one day's messages, a later page sometimes repeating the last
//! message of the one before, as the client does with a page it partly
//! logged), and the faults the CRM answers with meanwhile; and the
//! proptest strategies that generate them, shrinking towards one plain SMS
//! in one sync. The shapes are those of `fixtures/messages/` (App
//! Connect's records): SMS in and out, MMS with an image or a video, a
//! group SMS to two contacts, voicemail, fax, and a shared-SMS thread with
//! notes and an assignment.
//!
//! Data and strategies only: nothing here calls the connector or the CRM.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde::{Deserialize, Serialize};

use super::cases::{ContactRef, CONTACTS};
use super::faults::Schedule;

/// What kind of conversation a case logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Thread {
    /// SMS and MMS between the agent and one contact.
    Sms,
    /// SMS between the agent and two contacts: core logs each message once
    /// per contact, ids suffixed `-<contactId>`, one log per contact.
    Group,
    /// Voicemails from one contact (each its own conversation in
    /// RingCentral; here one caller leaving several).
    Voicemail,
    /// Faxes from one contact.
    Fax,
    /// A shared-SMS thread (a queue's): core composes the whole body
    /// (`sharedSMSComposer`) and creates or updates one log per day.
    Shared,
}

/// What one message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Media {
    Text,
    /// MMS: text and an image/jpeg `MmsAttachment`.
    Image,
    /// MMS: text and a video/mp4 `MmsAttachment`.
    Video,
    Voicemail,
    Fax,
    /// Shared SMS only: an agent's note in the thread (`AliveNote`).
    Note,
}

/// One message (or, in a shared thread, a note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseMessage {
    /// 0: the conversation's first day, 1: the next.
    pub day: u8,
    pub inbound: bool,
    pub media: Media,
    /// The text, unique in the case (it ends in the message's number), so
    /// that a CRM body can be searched for it.
    pub text: String,
}

/// One conversation, the syncs core gets for it, and the faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageCase {
    pub thread: Thread,
    /// RingCentral's conversation id (numeric text), set per case.
    pub conversation_id: String,
    /// The contacts of the conversation: one, or two for a group SMS.
    pub contacts: Vec<ContactRef>,
    /// In order, oldest first.
    pub messages: Vec<CaseMessage>,
    /// Each sync, the indexes of the messages it holds (one day's).
    pub syncs: Vec<Vec<usize>>,
    /// The faults the CRM answers with, each during one connector call.
    pub faults: Schedule,
}

/// The conversation's first day; messages of day 1 are the next day's.
pub const FIRST_DAY: &str = "2025-06-03";
const DAYS: [&str; 2] = [FIRST_DAY, "2025-06-04"];
/// The agent's own line.
pub const AGENT_NUMBER: &str = "+14155550101";
pub const AGENT_NAME: &str = "Test Agent";

/// Texts of messages, from App Connect's recorded ones; plain words, so
/// that any body format holds them as they are.
const TEXTS: [&str; 8] = [
    "Hi, can we move the Thursday demo to 3pm?",
    "Sure, 3pm Thursday works. Invite on its way.",
    "Photo of the damaged box",
    "And the noise it makes",
    "My router keeps rebooting, order 5521",
    "Can you unplug it for 30s and retry?",
    "Known firmware issue FW 2.1, RMA if it persists",
    "Thanks, that fixed it",
];

impl MessageCase {
    /// The case with a fresh conversation id (numeric, as RingCentral's).
    pub fn with_conversation(mut self, id: &str) -> MessageCase {
        self.conversation_id = id.to_owned();
        self
    }

    /// RingCentral's id of message `index` (before any group suffix).
    pub fn message_id(&self, index: usize) -> String {
        format!("{}{:02}", self.conversation_id, index + 1)
    }

    /// The day of `index` as core's `conversationLogId` writes it.
    pub fn day_of(&self, index: usize) -> &'static str {
        DAYS[usize::from(self.messages[index].day.min(1))]
    }

    /// When message `index` was sent: its day, 14:00 UTC plus 7 minutes a
    /// message, so that messages keep their order.
    pub fn creation_time(&self, index: usize) -> String {
        let minutes = 7 * index;
        format!(
            "{}T{:02}:{:02}:09.000Z",
            self.day_of(index),
            14 + minutes / 60,
            minutes % 60
        )
    }

    /// The sync each day ends with when a call failed: core's next sync
    /// sends the day's whole page again.
    pub fn days(&self) -> Vec<Vec<usize>> {
        let mut days: Vec<Vec<usize>> = Vec::new();
        for (index, message) in self.messages.iter().enumerate() {
            match days.last_mut() {
                Some(day) if self.messages[day[0]].day == message.day => day.push(index),
                _ => days.push(vec![index]),
            }
        }
        days
    }
}

/// The message cases, under schedules drawn from `schedules`.
pub fn message_cases(schedules: Vec<Schedule>) -> BoxedStrategy<MessageCase> {
    let thread = prop_oneof![
        3 => Just(Thread::Sms),
        1 => Just(Thread::Group),
        1 => Just(Thread::Voicemail),
        1 => Just(Thread::Fax),
        1 => Just(Thread::Shared),
    ];
    let message = (
        any::<bool>(),
        0..TEXTS.len(),
        prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)],
        // A new sync starts here, and whether it repeats the message
        // before (core re-sends a page it partly logged).
        any::<bool>(),
        any::<bool>(),
    );
    (
        thread,
        vec(message, 1..=5),
        0usize..3,
        select(schedules),
        0..CONTACTS.len(),
    )
        .prop_map(|(thread, drawn, second_day, faults, contact)| {
            let count = drawn.len();
            // The last `second_day` messages are the next day's.
            let first_of_next = count - second_day.min(count - 1);
            let mut messages = Vec::with_capacity(count);
            let mut syncs: Vec<Vec<usize>> = Vec::new();
            for (index, (inbound, text, kind, breaks, repeats)) in drawn.into_iter().enumerate() {
                let day = u8::from(index >= first_of_next);
                let media = match (thread, kind) {
                    (Thread::Voicemail, _) => Media::Voicemail,
                    (Thread::Fax, _) => Media::Fax,
                    (Thread::Sms, 1) => Media::Image,
                    (Thread::Sms, 2) => Media::Video,
                    // A note, never the thread's first entry.
                    (Thread::Shared, 1) if index > 0 => Media::Note,
                    _ => Media::Text,
                };
                let inbound = match media {
                    Media::Voicemail | Media::Fax => true,
                    Media::Note => false,
                    // A group SMS is the agent's, to both contacts.
                    _ => inbound && thread != Thread::Group,
                };
                messages.push(CaseMessage {
                    day,
                    inbound,
                    media,
                    text: format!("{} (message {})", TEXTS[text], index + 1),
                });
                let new_day = index == first_of_next;
                match syncs.last_mut() {
                    Some(sync) if !new_day && !breaks => sync.push(index),
                    _ => {
                        let mut sync = Vec::new();
                        if breaks && repeats && !new_day && index > 0 {
                            sync.push(index - 1);
                        }
                        sync.push(index);
                        syncs.push(sync);
                    }
                }
            }
            let (name, phone) = CONTACTS[contact];
            let mut contacts = vec![ContactRef {
                name: name.to_owned(),
                phone_number: phone.to_owned(),
                contact_type: "Contact".into(),
            }];
            if thread == Thread::Group {
                let (name, phone) = CONTACTS[(contact + 1) % CONTACTS.len()];
                contacts.push(ContactRef {
                    name: name.to_owned(),
                    phone_number: phone.to_owned(),
                    contact_type: "Contact".into(),
                });
            }
            MessageCase {
                thread,
                conversation_id: "51239047".into(),
                contacts,
                messages,
                syncs,
                faults,
            }
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    use super::*;

    fn sample(count: usize) -> Vec<MessageCase> {
        let strategy = message_cases(vec![Vec::new()]);
        let mut runner = TestRunner::deterministic();
        (0..count)
            .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
            .collect()
    }

    #[test]
    fn syncs_send_each_message_in_order_and_one_day_at_a_time() {
        for case in sample(300) {
            let mut last = None;
            for sync in &case.syncs {
                assert!(!sync.is_empty());
                let day = case.messages[sync[0]].day;
                assert!(sync.iter().all(|index| case.messages[*index].day == day));
                assert!(sync.windows(2).all(|pair| pair[0] + 1 == pair[1]));
                // Each sync starts at most one message back.
                if let Some(last) = last {
                    assert!(sync[0] + 1 >= last && sync[0] <= last + 1, "{case:?}");
                }
                last = sync.last().copied();
            }
            assert_eq!(last, Some(case.messages.len() - 1), "every message is sent");
            let texts: std::collections::BTreeSet<_> =
                case.messages.iter().map(|message| &message.text).collect();
            assert_eq!(texts.len(), case.messages.len(), "texts are unique");
        }
    }

    #[test]
    fn cases_cover_the_shapes_core_sends() {
        let cases = sample(300);
        let any = |test: &dyn Fn(&MessageCase) -> bool| cases.iter().any(test);
        for thread in [
            Thread::Sms,
            Thread::Group,
            Thread::Voicemail,
            Thread::Fax,
            Thread::Shared,
        ] {
            assert!(any(&|c| c.thread == thread), "{thread:?}");
        }
        assert!(any(&|c| c.days().len() == 2), "two days");
        assert!(any(&|c| c
            .syncs
            .windows(2)
            .any(|w| w[0].last() == w[1].first())));
        assert!(any(&|c| c.messages.iter().any(|m| m.media == Media::Image)));
        assert!(any(&|c| c.messages.iter().any(|m| m.media == Media::Video)));
        assert!(any(&|c| c.messages.iter().any(|m| m.media == Media::Note)));
        assert!(any(&|c| c.contacts.len() == 2));
    }

    #[test]
    fn a_case_survives_its_fixture_round_trip() {
        for case in sample(30) {
            let json = serde_json::to_value(&case).expect("serialises");
            let back: MessageCase = serde_json::from_value(json).expect("parses");
            assert_eq!(back, case);
        }
    }
}
