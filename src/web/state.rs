//! The state every face's handlers reach.

use std::sync::Arc;

use crate::harness::Harness;
use crate::store::{Seed, StoreHandle};

/// The world every face reads and writes, and the harness around it: what
/// every handler can reach. What only one face keeps (the review page's
/// access rules, the served proxy configs, the CRM faces' settings) is that
/// face's own state, held by the front beside this.
#[derive(Clone)]
pub struct AppState {
    pub store: StoreHandle,
    pub harness: Arc<Harness>,
    /// The key for `/__admin/` routes (and the review page off loopback).
    pub admin_key: Arc<str>,
    /// What `POST /__admin/reset` goes back to.
    pub seed: Arc<Seed>,
    /// `serve --strict`: writes with fields the API does not know are refused.
    pub strict: bool,
    /// How long an access token a CRM face's OAuth hands out lives
    /// (`serve --token-ttl`).
    pub token_ttl: std::time::Duration,
}
