//! `contract --crm NAME`: a connector written for a CRM's own API, run
//! against that CRM's face the way App Connect core runs it. From the
//! face's connection info (`GET /__admin/crms?org=` for the case's tenant)
//! it builds what core keeps per user: the environment the connector
//! reads, and the user row, signed in as core's `onApiKeyLogin` does
//! (`getBasicAuth`, then `getUserInfo` with the credentials a user types,
//! then `saveUserInfo`'s fields). The bridge hands the row over as a model
//! with `save()` and `update()`; what the connector persists comes back
//! and is what the next call gets.
//!
//! It owns the session of one case (the user row and the environment); it
//! must not talk to the CRM itself (`tenant.rs` does) nor judge answers
//! beyond sign-in.

use serde_json::{json, Map, Value};

use super::bridge::Settled;
use super::calls::{CallNote, Core, Stop};
use super::cases::Case;
use super::core;
use super::plan::RunError;
use super::properties::Verdicts;
pub use super::session::{saved_user_info, CrmSession};

/// The in-memory database App Connect core's models get
/// (`DATABASE_URL`): connectors load them at start-up.
pub const CORE_DATABASE_URL: &str = "sqlite::memory:";

/// The connection info of CRM `name` in a `GET /__admin/crms` answer.
pub fn connection(answer: &Value, name: &str) -> Result<Value, RunError> {
    let crms = answer.get("crms").and_then(Value::as_array);
    crms.into_iter()
        .flatten()
        .find(|crm| crm.get("name").and_then(Value::as_str) == Some(name))
        .cloned()
        .ok_or_else(|| {
            let served: Vec<&str> = crms
                .into_iter()
                .flatten()
                .filter_map(|crm| crm.get("name").and_then(Value::as_str))
                .collect();
            RunError::Crm(format!(
                "the CRM does not serve {name} (it serves {}); serve it with `mockcrm serve --crm {name}`",
                if served.is_empty() {
                    "none".to_owned()
                } else {
                    served.join(", ")
                }
            ))
        })
}

/// The environment the connector's process starts with: the CRM's
/// variables, core's `DATABASE_URL` and the platform to register it as.
pub fn launch_env(connection: &Value, name: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = connection
        .get("env")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.clone(), env_text(value)))
        .collect();
    // A face served over HTTPS is trusted as App Connect would trust it.
    if let Some(ca_file) = connection.get("ca_file").and_then(Value::as_str) {
        env.push(("NODE_EXTRA_CA_CERTS".into(), ca_file.to_owned()));
    }
    env.push(("DATABASE_URL".into(), CORE_DATABASE_URL.into()));
    env.push(("MOCKCRM_CORE_PLATFORM".into(), name.to_owned()));
    env
}

fn env_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The row before sign-in: core's, with the fields the face's connection
/// info gives (`hostname`, `platformAdditionalInfo`, a ready
/// `accessToken`). The case's time zone stays: it is what the body was
/// composed in.
pub fn user_before_sign_in(base: Value, connection: &Value) -> Value {
    let mut user = base;
    if let (Some(row), Some(given)) = (
        user.as_object_mut(),
        connection.get("user").and_then(Value::as_object),
    ) {
        for (key, value) in given {
            if key != "timezoneOffset" {
                row.insert(key.clone(), value.clone());
            }
        }
    }
    user
}

/// Signs the case's user in as core does, leaving the session on `core`.
/// `Ok(false)`: sign-in failed (a verdict says why) and the case ends.
pub(super) fn sign_in(
    core: &mut Core<'_>,
    connection: &Value,
    case: &Case,
    verdicts: &mut Verdicts,
    calls: &mut Vec<CallNote>,
) -> Result<bool, Stop> {
    let env = connection
        .get("env")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let credentials = connection
        .get("credentials")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let user = user_before_sign_in(core::user(&core.account, case), connection);
    let hostname = user.get("hostname").cloned().unwrap_or(Value::Null);
    core.crm = Some(CrmSession {
        user,
        env,
        connection: connection.clone(),
    });

    let auth_type = if core.exports("getAuthType") {
        match core.call("getAuthType", vec![json!({})], verdicts, calls)? {
            Settled::Returned { value, .. } => {
                value.and_then(|kind| kind.as_str().map(str::to_owned))
            }
            Settled::Threw(_) => return Ok(false),
        }
    } else {
        Some("apiKey".to_owned())
    };
    if auth_type.as_deref() == Some("oauth") {
        return super::calls::refresh::sign_in(core, connection, verdicts, calls);
    }
    if auth_type.as_deref() != Some("apiKey") || !core.exports("getUserInfo") {
        // OAuth, or nothing to sign in with: the ready token the face
        // handed out is the user's.
        if let (Some(session), Some(token)) = (core.crm.as_mut(), credentials.get("accessToken")) {
            if let Some(row) = session.user.as_object_mut() {
                row.insert("accessToken".into(), token.clone());
            }
        }
        return Ok(true);
    }
    let api_key = credentials.get("apiKey").cloned();
    let additional: Map<String, Value> = credentials
        .iter()
        .filter(|(key, _)| key.as_str() != "apiKey")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let mut key_argument = Map::new();
    if let Some(key) = &api_key {
        key_argument.insert("apiKey".into(), key.clone());
    }
    let basic = if core.exports("getBasicAuth") {
        match core.call(
            "getBasicAuth",
            vec![Value::Object(key_argument)],
            verdicts,
            calls,
        )? {
            Settled::Threw(_) => return Ok(false),
            Settled::Returned { is_async: true, .. } => "[object Promise]".to_owned(),
            Settled::Returned { value, .. } => crate::js::to_string_or_undefined(value.as_ref()),
        }
    } else {
        let key = crate::js::to_string_or_undefined(api_key.as_ref());
        return Err(Stop::Fatal(RunError::Crm(format!(
            "the connector's getAuthType says apiKey but it exports no getBasicAuth, which App Connect core calls to sign in (key {key:?})"
        ))));
    };
    let mut argument = Map::new();
    argument.insert("authHeader".into(), Value::from(format!("Basic {basic}")));
    argument.insert("hostname".into(), hostname);
    argument.insert(
        "platform".into(),
        Value::from(core.account.platform.clone()),
    );
    argument.insert("additionalInfo".into(), Value::Object(additional));
    if let Some(key) = &api_key {
        argument.insert("apiKey".into(), key.clone());
    }
    let Some(info) = core.signed_in_user_info(
        argument,
        "the credentials of GET /__admin/crms",
        verdicts,
        calls,
    )?
    else {
        return Ok(false);
    };
    if let Some(session) = core.crm.as_mut() {
        saved_user_info(&mut session.user, &info, api_key.as_ref());
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redtail() -> Value {
        json!({
            "name": "redtail",
            "env": {"REDTAIL_API_SERVER": "http://127.0.0.1:9/redtail/api/public/v1", "REDTAIL_API_KEY": "k"},
            "user": {"hostname": "127.0.0.1:9", "accessToken": "uk", "platformAdditionalInfo": {"username": "u"}},
            "credentials": {"username": "u", "password": "p"}
        })
    }

    #[test]
    fn the_named_crm_is_found_and_a_missing_one_lists_those_served() {
        let answer = json!({"crms": [redtail()]});
        assert_eq!(
            connection(&answer, "redtail").expect("served")["name"],
            "redtail"
        );
        let missing = connection(&answer, "insightly")
            .expect_err("not served")
            .to_string();
        assert!(missing.contains("it serves redtail"), "{missing}");
        assert!(missing.contains("--crm insightly"), "{missing}");
    }

    #[test]
    fn the_process_gets_the_crm_env_and_cores_database() {
        let env = launch_env(&redtail(), "redtail");
        assert!(
            env.contains(&("REDTAIL_API_KEY".into(), "k".into())),
            "{env:?}"
        );
        assert!(env.contains(&("DATABASE_URL".into(), "sqlite::memory:".into())));
        assert!(env.contains(&("MOCKCRM_CORE_PLATFORM".into(), "redtail".into())));
        assert!(!env.iter().any(|(name, _)| name == "NODE_EXTRA_CA_CERTS"));
        let mut tls = redtail();
        tls["ca_file"] = json!("/tmp/ca.pem");
        let env = launch_env(&tls, "redtail");
        assert!(env.contains(&("NODE_EXTRA_CA_CERTS".into(), "/tmp/ca.pem".into())));
    }

    #[test]
    fn the_row_takes_the_connection_info_then_what_sign_in_saved() {
        let base = json!({"id": "x-mockcrm", "hostname": "old", "timezoneOffset": "-05:00", "accessToken": "native"});
        let mut user = user_before_sign_in(base, &redtail());
        assert_eq!(user["hostname"], "127.0.0.1:9");
        assert_eq!(user["accessToken"], "uk");
        assert_eq!(user["timezoneOffset"], "-05:00");
        saved_user_info(
            &mut user,
            &json!({"id": "u-redtail", "timezoneName": "", "overridingApiKey": "fresh",
                    "platformAdditionalInfo": {"username": "u", "userResponse": {"user_key": "fresh"}}}),
            None,
        );
        assert_eq!(user["id"], "u-redtail");
        assert_eq!(user["accessToken"], "fresh");
        assert_eq!(
            user["platformAdditionalInfo"]["userResponse"]["user_key"],
            "fresh"
        );
        // No overriding key: the key typed at sign-in is the token.
        saved_user_info(
            &mut user,
            &json!({"id": "7-insightly"}),
            Some(&json!("typed")),
        );
        assert_eq!(user["accessToken"], "typed");
        assert_eq!(user["hostname"], "127.0.0.1:9");
    }
}
