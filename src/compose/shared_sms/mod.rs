//! The shared-SMS composer: the subject and body App Connect core 1.7.42
//! writes for a shared (call-queue) SMS conversation
//! (`packages/core/lib/sharedSMSComposer.ts`, as `handlers/log.ts`
//! `createMessageLog` calls it), in text/plain, text/html and
//! text/markdown. Two styles:
//!
//! - `core` (`core.rs`, the default) gives core's bytes, quirks included:
//!   what a connector's CRM really holds;
//! - `clean` (`clean.rs`) gives the same layout with each quirk fixed.
//!
//! `input.rs` is the request as serde types, `outcome.rs` what composing
//! gives (the log, or why not), `layout.rs` the body's shape in each
//! format, `moment.rs` and `moment_parse.rs` the moment.js 2.30.1 core's
//! dates go through.
//!
//! Pure: no I/O and no environment; the host's zone and, for core's
//! `moment(undefined)`, the current time are options the caller passes.

mod clean;
mod core;
#[cfg(test)]
mod golden;
mod input;
mod layout;
mod moment;
mod moment_parse;
mod outcome;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use input::{Conversation, Entity, JsText, JsTime, Message, Owner, Person, SharedSmsRequest};
pub use outcome::{SharedSmsError, SharedSmsLog};

use super::host_zone::HostZone;

/// Which bytes to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharedSmsStyle {
    /// App Connect core's own bytes, quirks included.
    #[default]
    Core,
    /// Core's layout with its quirks fixed.
    Clean,
}

impl SharedSmsStyle {
    pub const ALL: [SharedSmsStyle; 2] = [SharedSmsStyle::Core, SharedSmsStyle::Clean];
}

impl fmt::Display for SharedSmsStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SharedSmsStyle::Core => "core",
            SharedSmsStyle::Clean => "clean",
        })
    }
}

impl FromStr for SharedSmsStyle {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "core" => Ok(SharedSmsStyle::Core),
            "clean" => Ok(SharedSmsStyle::Clean),
            other => Err(format!("unknown style {other:?}: use core or clean")),
        }
    }
}

/// How to compose: the style, the zone App Connect's host runs in (for a
/// user without an offset and for times written without one), and the
/// current time, which core shows for a time that is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedSmsOptions {
    pub style: SharedSmsStyle,
    pub host_zone: HostZone,
    /// `None`: a missing time is an error in the `core` style too.
    pub now: Option<DateTime<Utc>>,
}

impl Default for SharedSmsOptions {
    fn default() -> Self {
        SharedSmsOptions {
            style: SharedSmsStyle::Core,
            host_zone: HostZone::UTC,
            now: None,
        }
    }
}

impl SharedSmsOptions {
    pub fn with_style(self, style: SharedSmsStyle) -> Self {
        SharedSmsOptions { style, ..self }
    }

    pub fn with_host_zone(self, host_zone: HostZone) -> Self {
        SharedSmsOptions { host_zone, ..self }
    }

    pub fn with_now(self, now: DateTime<Utc>) -> Self {
        SharedSmsOptions {
            now: Some(now),
            ..self
        }
    }
}

/// The subject and body for a shared-SMS conversation, in the request's
/// `logFormat` (text/plain when absent), in `options.style`.
pub fn compose_shared_sms(
    request: &SharedSmsRequest,
    options: &SharedSmsOptions,
) -> Result<SharedSmsLog, SharedSmsError> {
    match options.style {
        SharedSmsStyle::Core => {
            let now = options.now.map(|now| now.timestamp_millis() as f64);
            core::compose(request, &options.host_zone, now)
        }
        SharedSmsStyle::Clean => clean::compose(request, &options.host_zone),
    }
}
