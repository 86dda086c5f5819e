//! Why a compose request cannot be composed: its start time or the user's
//! offset is not one App Connect's core could read. Every part of the
//! composer that reads those (the sections, the values, the shared-SMS
//! composer's offsets) returns it; each message says what to give instead,
//! and none names who asked (the CLI or the contract runner adds that).

/// A start time or an offset the composer cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    #[error("{0}")]
    StartTime(String),
    #[error("user.timezoneOffset {0:?} is not an offset: give \"+05:30\", hours such as -4, or minutes such as 330")]
    TimezoneOffset(String),
}
