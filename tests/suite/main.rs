//! mockcrm's integration tests, as one crate: the library and its
//! dependencies are linked into one test binary instead of one per file,
//! and every module shares the helpers in `support`.
//!
//! Each test starts its own server (an in-memory store on an ephemeral
//! port) or its own `mockcrm` process on a temporary database, so tests run
//! in parallel and in any order. Nothing here reads outside the
//! repository: inputs come from `fixtures/`, snapshots live in `snapshots/`.

mod support;

mod admin;
mod api;
mod body_snapshots;
mod bullhorn_face;
mod bullhorn_face_errors;
mod cli;
mod clio_face;
mod clio_face_errors;
mod compose_props;
mod compose_requests;
mod connection_faults;
mod connector_faults;
mod connector_needs;
mod connector_props;
mod contract;
mod contract_crm;
mod contract_crm_faults;
mod contract_crm_messages;
mod crash;
mod crms_cli;
mod face_conversations;
mod face_listings;
mod face_refusals;
mod forward_proxy;
mod hostile;
mod hostile_framing;
mod hostile_limits;
mod insightly_face;
mod insightly_face_lifecycle;
mod insightly_face_openapi;
mod isolation;
mod message_cli;
mod message_logs;
mod message_props;
mod openapi;
mod openapi_proxy;
mod overload;
mod pipedrive_face;
mod pipedrive_face_errors;
mod proxy_lifecycle;
mod proxy_props;
mod proxy_root;
mod proxy_serving;
mod raw_tcp;
mod redtail_face;
mod redtail_face_errors;
mod review_browser;
mod review_conversation;
mod review_page;
mod revisions;
mod shared_server;
mod shared_sms_cli;
mod shared_sms_props;
mod shared_sms_snapshots;
mod stored_snapshots;
mod tenants;
mod tls;
mod token_expiry;
