//! What composing a shared-SMS conversation gives: the subject and body
//! (`SharedSmsLog`), or why it cannot be composed (`SharedSmsError`), with
//! the words that quote the time at fault. It composes nothing itself.

use serde::{Deserialize, Serialize};

use super::input::JsTime;
use super::moment::MomentError;
use super::moment_parse::Unread;
use crate::compose::error::ComposeError;

/// What the composer returns: core's `sharedSMSLogContent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedSmsLog {
    pub subject: String,
    pub body: String,
}

/// Why a conversation cannot be composed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SharedSmsError {
    #[error("{field} is missing, and no current time was given to show in its place as App Connect's core does")]
    NeedsNow { field: String },
    #[error("{field} is missing: the clean style places every entry by its time")]
    Missing { field: String },
    #[error("{field} {value} is not a time mockcrm reads: give epoch milliseconds or ISO 8601 such as 2025-06-03T14:05:09.000Z (App Connect's core would leave it to JavaScript's own Date parser)")]
    NotIso { field: String, value: String },
    #[error("{field} {value} is an ISO week date, which mockcrm does not read: give a calendar date such as 2025-06-03T14:05:09.000Z")]
    WeekDate { field: String, value: String },
    #[error("{field} {value} is not a date")]
    NotADate { field: String, value: String },
    #[error("{field} is out of the range of dates mockcrm shows (years -262143 to 262142), at this timezoneOffset")]
    TimeOutOfRange { field: String },
    #[error("a time is out of the range of dates mockcrm shows (years -262143 to 262142)")]
    OutOfRange,
    #[error("the conversation has no time at all: give conversation.creationTime or times on its entities")]
    NoTime,
    #[error("{0}")]
    Offset(ComposeError),
}

impl SharedSmsError {
    pub(super) fn time(
        field: String,
        value: Option<&JsTime>,
        error: MomentError,
    ) -> SharedSmsError {
        let value = value.map_or_else(|| "(missing)".into(), shown_value);
        match error {
            MomentError::NeedsNow => SharedSmsError::NeedsNow { field },
            MomentError::Unread(Unread::NotIso) => SharedSmsError::NotIso { field, value },
            MomentError::Unread(Unread::WeekDate) => SharedSmsError::WeekDate { field, value },
            MomentError::Unread(Unread::OutOfRange) | MomentError::OffsetOutOfRange => {
                SharedSmsError::TimeOutOfRange { field }
            }
        }
    }
}

/// A time as a message quotes it.
pub(super) fn shown_value(time: &JsTime) -> String {
    match time {
        JsTime::Null => "null".into(),
        JsTime::Millis(millis) => crate::js::number_to_string(*millis),
        JsTime::Text(text) => format!("{text:?}"),
    }
}
