//! The records the store keeps, as the rest of the program sees them: plain
//! data. How the HTTP API shows an activity is the API's business
//! (`api/activities.rs`); records whose fields are their whole form (a
//! contact, a violation) derive serde.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Who is calling: resolved from an API key, it scopes every other query.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The organisation's row, which every query is scoped by.
    pub organisation_id: i64,
    /// The organisation's public id (`?org=` of the admin API), which the
    /// journal and faults are scoped by.
    pub org: std::sync::Arc<str>,
    pub organisation: String,
    pub user_id: String,
    /// The user's number: stable, never reused, the id a CRM face whose
    /// ids are integers shows.
    pub user_number: i64,
    pub user_name: String,
    pub email: Option<String>,
    pub timezone_offset: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    pub id: String,
    /// Stable and never reused, the same in every face: what CRM faces
    /// whose ids are integers show as the id.
    pub number: i64,
    pub name: String,
    pub phone_number: String,
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub contact_type: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub name: String,
    pub phone_number: String,
    pub email: Option<String>,
    pub contact_type: Option<String>,
}

/// A stored activity. `extra` holds the fields a client sent that mockcrm has
/// no column for; they are returned beside the known ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    /// Stable and never reused, the same in every face; 0 until the
    /// activity is stored.
    pub number: i64,
    pub subject: String,
    pub body: String,
    pub body_format: String,
    pub activity_type: String,
    pub received_at: String,
    pub contact_id: Option<String>,
    pub session_id: Option<String>,
    pub direction: Option<String>,
    pub duration: Option<Value>,
    pub extra: Map<String, Value>,
    /// The conversation a message log records, one per conversation and
    /// day as App Connect's core keys them (`conversationLogId`); `None`
    /// for a call.
    pub conversation_log_id: Option<String>,
    /// The RingCentral messages a message log holds, in the order they
    /// were logged; empty for a call.
    pub message_ids: Vec<String>,
    /// The agent's note as a request carried it, when one did (a proxy
    /// config that sends `{{note}}`); the body holds it too, composed.
    pub note: Option<String>,
    /// The face of the write that made this state (`native`, `redtail`,
    /// `proxy:<config>`…); `None` for writes from before faces were kept.
    pub via: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A validated activity to insert. `received_at` absent means "now".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewActivity {
    pub subject: String,
    pub body: String,
    pub body_format: String,
    pub activity_type: String,
    pub received_at: Option<String>,
    pub contact_id: Option<String>,
    pub session_id: Option<String>,
    pub direction: Option<String>,
    pub duration: Option<Value>,
    pub extra: Map<String, Value>,
    pub conversation_log_id: Option<String>,
    pub message_ids: Vec<String>,
    pub note: Option<String>,
}

/// A validated partial update: `None` leaves a field as it is; for nullable
/// fields `Some(None)` clears it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActivityPatch {
    pub subject: Option<String>,
    pub body: Option<String>,
    pub body_format: Option<String>,
    pub activity_type: Option<String>,
    pub received_at: Option<String>,
    pub contact_id: Option<Option<String>>,
    pub session_id: Option<Option<String>>,
    pub direction: Option<Option<String>>,
    pub duration: Option<Option<Value>>,
    /// Extra fields to set; a `null` value removes the field.
    pub extra: Map<String, Value>,
    pub note: Option<Option<String>>,
    pub conversation_log_id: Option<Option<String>>,
    /// The messages the log holds from now on, replacing its list.
    pub message_ids: Option<Vec<String>>,
    /// Messages to add at the end of the list (after `message_ids`, when
    /// both are given), as they come: one already there is listed twice,
    /// which the duplicate_message check reports.
    pub add_message_ids: Vec<String>,
    /// The names of the write's fields when none of them was one the API
    /// knows: such a write changed nothing but extras, which the
    /// unknown_fields check reports. Empty for any other write.
    pub only_unknown_fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActivityFilter {
    pub contact_id: Option<String>,
    pub session_id: Option<String>,
    pub conversation_log_id: Option<String>,
    /// Only activities older than this position (from a cursor).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// A user of an organisation, as a user list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub number: i64,
    pub name: String,
    pub email: Option<String>,
    pub timezone_offset: Option<String>,
}

/// Which contacts a listing wants: all, or those whose name holds `name`
/// (any case), newest first, older than position `before_seq`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactFilter {
    pub name: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// One page of a newest-first contact listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactPage {
    pub items: Vec<Contact>,
    /// Position to continue from, when there is more.
    pub next_seq: Option<i64>,
}

/// One page of a newest-first listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityPage {
    pub items: Vec<Activity>,
    /// Position to continue from, when there is more.
    pub next_seq: Option<i64>,
}

/// What caused a write, as the revision it makes records it: the journal
/// id of the request (`None` when the journal is off or nothing was
/// journaled, as for a write made outside the HTTP API).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    pub request_id: Option<u64>,
    /// The face the request came through, kept with the state it wrote.
    pub via: Option<std::sync::Arc<str>>,
}

impl Origin {
    /// A write made by a request through no face in particular.
    #[cfg(test)]
    pub fn request(request_id: Option<u64>) -> Origin {
        Origin {
            request_id,
            via: None,
        }
    }

    /// A write made by a request through `face`.
    pub fn through(face: &str, request_id: Option<u64>) -> Origin {
        Origin {
            request_id,
            via: Some(face.into()),
        }
    }
}

/// One write of an activity: the activity as it stood after it. Its
/// `updated_at` is when the write happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// 1 for the create, then one more per write.
    pub number: u32,
    pub request_id: Option<u64>,
    pub state: Activity,
}

/// A listing across organisations, for the admin API and the review page:
/// every field narrows it; `text` is found in the subject or the body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AdminActivityFilter {
    pub organisation_id: Option<i64>,
    pub contact_id: Option<String>,
    pub session_id: Option<String>,
    pub text: Option<String>,
    /// Only activities older than this position (from a cursor).
    pub before_seq: Option<i64>,
    pub limit: u32,
}

/// An activity with whose it is and how many revisions it has.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminActivity {
    pub organisation: Organisation,
    pub activity: Activity,
    pub revisions: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdminActivityPage {
    pub items: Vec<AdminActivity>,
    pub next_seq: Option<i64>,
}

/// What happened to an idempotent create.
#[derive(Debug, Clone, PartialEq)]
pub enum IdempotentOutcome {
    /// The activity was inserted under the key.
    Created,
    /// The key was used before with the same request: the activity as it
    /// was created then (it may have changed or gone since).
    Replayed(Box<Activity>),
    /// The key was used before with a different request.
    Mismatch,
}

/// An organisation as the admin API and the review page name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// The public id: opaque and never reused.
    pub id: String,
    pub name: String,
    /// Loaded from the seed, rather than created as a tenant
    /// (`POST /__admin/tenants`).
    pub seeded: bool,
    pub created_at: String,
}

/// An organisation found by its public id, with the row id that scopes
/// queries.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgRef {
    pub key: i64,
    pub organisation: Organisation,
}

/// A broken promise of the connector contract, found by `Store::violations`.
/// Its serde form is the admin API's, which the command line reads back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// One call session became more than one activity.
    DuplicateSession {
        organisation: String,
        /// The organisation's public id.
        org: String,
        session_id: String,
        activity_ids: Vec<String>,
    },
    /// An activity was written with nothing in its body.
    EmptyBody {
        organisation: String,
        org: String,
        activity_id: String,
        session_id: Option<String>,
    },
    /// One RingCentral message was logged more than once: in two message
    /// logs, or twice in one (its id is listed once per time).
    DuplicateMessage {
        organisation: String,
        org: String,
        message_id: String,
        activity_ids: Vec<String>,
    },
    /// One conversation of one day (`conversationLogId`) became more than
    /// one message log.
    SplitConversation {
        organisation: String,
        org: String,
        conversation_log_id: String,
        activity_ids: Vec<String>,
    },
    /// A write to an activity carried only fields the API does not know, so
    /// it changed nothing the API shows (they were kept as extra fields).
    UnknownFields {
        organisation: String,
        org: String,
        activity_id: String,
        fields: Vec<String>,
    },
}

impl Violation {
    /// Every kind of violation `Store::violations` looks for, in the order
    /// it reports them: the checks the admin API says it ran.
    pub const KINDS: [&'static str; 5] = [
        "duplicate_session",
        "empty_body",
        "duplicate_message",
        "split_conversation",
        "unknown_fields",
    ];

    pub fn kind(&self) -> &'static str {
        match self {
            Violation::DuplicateSession { .. } => "duplicate_session",
            Violation::EmptyBody { .. } => "empty_body",
            Violation::DuplicateMessage { .. } => "duplicate_message",
            Violation::SplitConversation { .. } => "split_conversation",
            Violation::UnknownFields { .. } => "unknown_fields",
        }
    }
}
