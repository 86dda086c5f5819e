//! Message logs: activities that record a day of a RingCentral conversation
//! (`conversation_log_id`) and the messages in it (`message_ids`). They are
//! written like any activity (`activities.rs`: a create, or an update whose
//! patch replaces or adds message ids); this module finds a conversation's
//! log, which every face that logs messages needs before it writes. It
//! writes nothing.

use super::{Activity, ActivityFilter, Store, StoreError};

impl Store {
    /// The message log of `conversation_log_id` in `org`: the first one
    /// written, when a connector split the conversation over several (the
    /// split_conversation check reports those).
    #[allow(dead_code)] // by the CRM faces' message logs, which are next
    pub fn message_log(
        &self,
        org: i64,
        conversation_log_id: &str,
    ) -> Result<Option<Activity>, StoreError> {
        // Newest first, so the first written is the last of the listing;
        // a conversation is rarely split, so the listing is short.
        let mut filter = ActivityFilter {
            conversation_log_id: Some(conversation_log_id.to_owned()),
            limit: 200,
            ..ActivityFilter::default()
        };
        let mut oldest = None;
        loop {
            let page = self.list_activities(org, &filter)?;
            oldest = page.items.into_iter().last().or(oldest);
            match page.next_seq {
                Some(seq) => filter.before_seq = Some(seq),
                None => return Ok(oldest),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{acme, memory};
    use crate::store::{ActivityPatch, NewActivity, Origin, Violation};

    fn message_log(conversation: &str, messages: &[&str]) -> NewActivity {
        NewActivity {
            subject: "SMS conversation with Jane Contact - 25/06/03".into(),
            body: "BEGIN\n------------\n------------\nEND".into(),
            body_format: "text/plain".into(),
            activity_type: "SMS".into(),
            conversation_log_id: Some(conversation.into()),
            message_ids: messages.iter().map(|id| (*id).to_owned()).collect(),
            ..NewActivity::default()
        }
    }

    fn kinds(store: &Store, org: i64) -> Vec<Violation> {
        store
            .violations(Some(org))
            .expect("checks")
            .into_iter()
            .filter(|v| matches!(v.kind(), "duplicate_message" | "split_conversation"))
            .collect()
    }

    #[test]
    fn a_conversation_finds_its_first_log_and_messages_are_added_in_order() {
        let mut store = memory();
        let org = acme(&store);
        assert_eq!(store.message_log(org, "c-2025-06-03").expect("read"), None);
        let log = store
            .create_activity(
                org,
                &message_log("c-2025-06-03", &["m1"]),
                Origin::default(),
            )
            .expect("create");
        store
            .create_activity(
                org,
                &message_log("c-2025-06-04", &["m3"]),
                Origin::default(),
            )
            .expect("create");
        let patch = ActivityPatch {
            add_message_ids: vec!["m2".into()],
            ..ActivityPatch::default()
        };
        let updated = store
            .update_activity(org, &log.id, &patch, Origin::request(Some(4)))
            .expect("update")
            .expect("exists");
        assert_eq!(updated.message_ids, ["m1", "m2"]);
        let found = store
            .message_log(org, "c-2025-06-03")
            .expect("read")
            .expect("found");
        assert_eq!(found, updated);
        assert_eq!(
            store.message_log(org + 1, "c-2025-06-03").expect("read"),
            None
        );
        // The update is a revision: the one before it still holds one message.
        let (_, revisions) = store
            .revisions(Some(org), &log.id)
            .expect("read")
            .expect("found");
        let held: Vec<_> = revisions
            .iter()
            .map(|r| r.state.message_ids.len())
            .collect();
        assert_eq!(held, [1, 2]);
        assert_eq!(
            revisions[0].state.conversation_log_id.as_deref(),
            Some("c-2025-06-03")
        );
        assert!(kinds(&store, org).is_empty());
    }

    #[test]
    fn a_message_logged_twice_and_a_split_conversation_are_reported() {
        let mut store = memory();
        let org = acme(&store);
        let first = store
            .create_activity(org, &message_log("c-1", &["m1", "m2"]), Origin::default())
            .expect("create");
        let second = store
            .create_activity(org, &message_log("c-1", &["m2"]), Origin::default())
            .expect("create");
        let third = store
            .create_activity(org, &message_log("c-2", &["m3", "m3"]), Origin::default())
            .expect("create");
        let found = kinds(&store, org);
        let ids = |v: &Violation| match v {
            Violation::DuplicateMessage {
                message_id,
                activity_ids,
                ..
            } => (message_id.clone(), activity_ids.len()),
            Violation::SplitConversation {
                conversation_log_id,
                activity_ids,
                ..
            } => (conversation_log_id.clone(), activity_ids.len()),
            _ => (String::new(), 0),
        };
        let seen: Vec<_> = found.iter().map(|v| (v.kind(), ids(v))).collect();
        assert_eq!(
            seen,
            [
                ("duplicate_message", ("m2".to_owned(), 2)),
                ("duplicate_message", ("m3".to_owned(), 2)),
                ("split_conversation", ("c-1".to_owned(), 2)),
            ]
        );
        match &found[2] {
            Violation::SplitConversation { activity_ids, .. } => {
                let mut sorted = activity_ids.clone();
                sorted.sort();
                let mut expected = vec![first.id.clone(), second.id.clone()];
                expected.sort();
                assert_eq!(sorted, expected);
            }
            other => panic!("not a split conversation: {other:?}"),
        }
        assert!(
            matches!(&found[1], Violation::DuplicateMessage { activity_ids, .. }
            if activity_ids.iter().all(|id| *id == third.id))
        );
        assert_eq!(
            store.message_log(org, "c-1").expect("read").map(|a| a.id),
            Some(first.id)
        );
    }
}
