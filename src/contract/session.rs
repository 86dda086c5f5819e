//! What App Connect core keeps for one user of a connector written for a
//! CRM face's API (`contract --crm`): the user row, as the connector last
//! persisted it, and the environment its process reads. Every call is
//! handed both through the bridge.
//!
//! Data only: signing in is `crm.rs`'s, calling `calls.rs`'s; what a
//! successful sign-in leaves in the row (`saved_user_info`) is here because
//! both sign-in and core's token refresh write it.

use serde_json::{Map, Value};

/// What core keeps for one case's user: its row, and the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmSession {
    /// Core's `users` row, as last persisted.
    pub user: Value,
    /// The environment variables the CRM's connector reads.
    pub env: Map<String, Value>,
    /// The face's connection info (`GET /__admin/crms`): where core's
    /// token requests go (`calls/refresh.rs`).
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

/// What core's `saveUserInfo` keeps of a successful `getUserInfo`
/// (`platformUserInfo`), for a user who signed in with `api_key`.
pub fn saved_user_info(user: &mut Value, info: &Value, api_key: Option<&Value>) {
    let Some(row) = user.as_object_mut() else {
        return;
    };
    for field in ["id", "timezoneName"] {
        if let Some(value) = info.get(field) {
            row.insert(field.into(), value.clone());
        }
    }
    if let Some(host) = info
        .get("overridingHostname")
        .filter(|host| crate::js::truthy(Some(host)))
    {
        row.insert("hostname".into(), host.clone());
    }
    let token = info
        .get("overridingApiKey")
        .filter(|key| !key.is_null())
        .or(api_key);
    if let Some(token) = token {
        row.insert("accessToken".into(), token.clone());
    }
    if let Some(more) = info.get("platformAdditionalInfo") {
        row.insert("platformAdditionalInfo".into(), more.clone());
    }
}
