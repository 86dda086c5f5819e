//! mockcrm: a local mock CRM for testing RingCentral App Connect connectors.
//!
//! See ARCHITECTURE.md for how the modules fit together. Everything testable
//! lives in this library; `src/main.rs` only calls [`cli::main`].

pub mod admin;
pub mod api;
pub mod cli;
pub mod clock;
pub mod compose;
pub mod connector;
pub mod harness;
pub mod interface;
pub mod proxy;
pub mod server;
pub mod store;
