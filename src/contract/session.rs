//! What App Connect core keeps for one user of a connector written for a
//! CRM face's API (`contract --crm`): the user row, as the connector last
//! persisted it, and the environment its process reads. Every call is
//! handed both through the bridge.
//!
//! Data only: signing in is `crm.rs`'s, calling `calls.rs`'s.

use serde_json::{Map, Value};

/// What core keeps for one case's user: its row, and the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmSession {
    /// Core's `users` row, as last persisted.
    pub user: Value,
    /// The environment variables the CRM's connector reads.
    pub env: Map<String, Value>,
    /// The face's connection info (`GET /__admin/crms`): where core's
    /// token requests go (`refresh.rs`).
    pub connection: Value,
}

impl CrmSession {
    /// The request fields that hand the bridge the row and the
    /// environment (PROTOCOL.md).
    pub fn extras(&self) -> Map<String, Value> {
        let mut extras = Map::new();
        extras.insert("user".into(), self.user.clone());
        extras.insert("env".into(), Value::Object(self.env.clone()));
        extras
    }

    /// The key core builds the `authHeader` from: the row's access token.
    pub fn access_token(&self) -> String {
        crate::js::to_string_or_undefined(self.user.get("accessToken"))
    }
}
