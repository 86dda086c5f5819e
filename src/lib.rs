//! mockcrm: a local mock CRM for testing RingCentral App Connect connectors
//! offline.
//!
//! The library is what the `mockcrm` binary runs, for use from Rust tests:
//!
//! - [`Server`] runs the mock CRM (its REST API, the `/__admin/` API, and
//!   the request journal, faults and checks a test inspects) on a SQLite
//!   store, in memory or in a file;
//! - [`create_call_log`], [`update_call_log`] and [`get_call_log`] are the
//!   reference App Connect connector, talking to a CRM over HTTP with a
//!   [`CrmClient`];
//! - [`ProxyConnector`] is the same connector speaking an App Connect
//!   proxy-connector config ([`load_proxy_config`]), which [`Server`] can
//!   also serve (`ServerConfig::proxy_configs`);
//! - [`compose()`] writes a call's log body the way App Connect's core does,
//!   and [`parse_note`] reads the agent note back out of one;
//!   [`compose_shared_sms`] writes a shared-SMS conversation's subject and
//!   body as core does (or with its quirks fixed);
//! - the [`interface`] types are App Connect's connector interface as serde
//!   types (camelCase JSON).
//!
//! ```no_run
//! use mockcrm::{create_call_log, CrmClient, LogOptions, Server, ServerConfig};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! // A throwaway CRM on a free port, with the default seed.
//! let server = Server::start(ServerConfig::ephemeral()).await?;
//! let crm = CrmClient::new(&server.url())?;
//! let input = serde_json::from_str(r#"{
//!     "contactInfo": {"id": "contact-1", "name": "Jane Contact"},
//!     "callLog": {"sessionId": "4503991004", "direction": "Inbound",
//!                 "startTime": "2024-01-15T15:30:00.000Z", "duration": 125}
//! }"#)?;
//! let output = create_call_log(&crm, &input, LogOptions::default()).await;
//! assert!(output.log_id.is_some());
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! ARCHITECTURE.md says how the modules fit together; README.md how to use
//! the command line and the HTTP API.

mod cli;
mod clock;
mod compose;
mod connector;
mod contract;
mod faces;
mod harness;
mod http;
pub mod interface;
mod js;
mod js_sort;
mod proxy;
mod server;
mod store;
mod tls;
mod web;

pub use clock::{Clock, ManualClock};
pub use compose::{
    compose, compose_shared_sms, format_duration, parse_note, ComposeError, ComposeOptions,
    HostZone, SharedSmsError, SharedSmsLog, SharedSmsOptions, SharedSmsRequest, SharedSmsStyle,
    UnknownZone, UpdateStyle,
};
/// The shared-SMS conversation as App Connect core hands it to its
/// composer ([`SharedSmsRequest`]'s parts).
pub mod shared_sms {
    pub use crate::compose::{Conversation, Entity, JsText, JsTime, Message, Owner, Person};
}
pub use connector::{
    conversation_log_id, create_call_log, create_message_log, get_call_log, message_logged,
    update_call_log, update_message_log, CrmClient, CrmError, Exchange, LogError, LogOptions,
    MessageError, ProxyCallError, ProxyConnector, RetryPolicy, UpdateOptions,
};
pub use proxy::{
    load as load_proxy_config, load_all as load_proxy_configs, ConfigError as ProxyConfigError,
    ConfigWarning as ProxyConfigWarning, Loaded as LoadedProxyConfig, Operation as ProxyOperation,
    ProxyConfig,
};
pub use server::{
    ServeError, Server, ServerConfig, TlsSettings, DEFAULT_ADMIN_KEY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_READ_TIMEOUT, DEFAULT_STORE_QUEUE,
};
pub use store::{Location, Seed, SeedContact, SeedOrganisation, SeedUser, StoreError, StoreHold};
pub use tls::{TlsError, CA_CERT_FILE, CA_KEY_FILE};
pub use web::basic_header_for_key;

/// The `mockcrm` command line, as the binary runs it: parses the process's
/// arguments, runs the command, and gives the exit code.
pub fn run_cli() -> std::process::ExitCode {
    cli::main()
}
