//! Where a fault aimed `at: create` lands under `--crm NAME`: the one
//! request that creates the activity in each CRM, the write whose lost
//! answer leaves an orphan or a duplicate in a CRM with no idempotency
//! key. `--faults default` aims every fault there under `--crm`, rather
//! than at whatever request the connector happens to send first.
//!
//! It owns that table and turning a row into the admin API's method and
//! path for one case, from the connection info `GET /__admin/crms?org=`
//! gives for the case's tenant (Bullhorn's `restUrl` names the tenant).
//! It must not import a face: the contract reaches the CRM only over
//! HTTP, so the paths are written here as each CRM's own API has them
//! (and as the faces serve them), below the URL the connector is
//! configured with.

use serde_json::Value;

use super::plan::RunError;
use crate::harness::FaultSpec;

/// What a create's path is below, in the CRM's connection info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// `base_url`, the URL the connector is configured with.
    BaseUrl,
    /// `user.platformAdditionalInfo.restUrl`, a Bullhorn session's own
    /// URL, which names the user's corporation.
    RestUrl,
}

/// One CRM's create request.
#[derive(Debug, Clone, Copy)]
struct CreateRequest {
    crm: &'static str,
    method: &'static str,
    anchor: Anchor,
    /// Below the anchor, as the CRM's connector writes it (fault paths
    /// match in case, so `events` and not `Events` for Insightly).
    path: &'static str,
}

const fn create(
    crm: &'static str,
    method: &'static str,
    anchor: Anchor,
    path: &'static str,
) -> CreateRequest {
    CreateRequest {
        crm,
        method,
        anchor,
        path,
    }
}

/// The request that creates the call's activity, per CRM.
const CREATES: [CreateRequest; 5] = [
    create("redtail", "POST", Anchor::BaseUrl, "/activities"),
    create("insightly", "POST", Anchor::BaseUrl, "/events"),
    create("pipedrive", "POST", Anchor::BaseUrl, "/api/v2/activities"),
    create(
        "clio",
        "POST",
        Anchor::BaseUrl,
        "/api/v4/communications.json",
    ),
    create("bullhorn", "PUT", Anchor::RestUrl, "/entity/Note"),
];

/// `spec` (a fault with no method or path) aimed at the request that
/// creates the activity in CRM `crm`, whose connection info for the
/// case's tenant is `connection`.
pub fn aim_at_create(
    mut spec: FaultSpec,
    crm: &str,
    connection: &Value,
) -> Result<FaultSpec, RunError> {
    let row = CREATES.iter().find(|row| row.crm == crm).ok_or_else(|| {
        RunError::Crm(format!(
            "a fault aimed at the create has no target in {crm}: mockcrm knows the create request of {}; give the fault a method and path instead",
            CREATES.map(|row| row.crm).join(", ")
        ))
    })?;
    let (field, url) = match row.anchor {
        Anchor::BaseUrl => ("base_url", connection.get("base_url")),
        Anchor::RestUrl => (
            "user.platformAdditionalInfo.restUrl",
            connection.pointer("/user/platformAdditionalInfo/restUrl"),
        ),
    };
    let url = url.and_then(Value::as_str).ok_or_else(|| {
        RunError::Crm(format!(
            "GET /__admin/crms gives {crm} no {field}, which the fault aimed at its create is below"
        ))
    })?;
    spec.method = Some(row.method.to_owned());
    spec.path = format!("{}{}", url_path(url).trim_end_matches('/'), row.path);
    Ok(spec)
}

/// The path of an absolute URL (`http://h:1/a/b` is `/a/b`), or the
/// text itself when it is a path already.
fn url_path(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::harness::FaultKind;

    fn unaimed() -> FaultSpec {
        FaultSpec {
            method: None,
            path: "/*".into(),
            kind: FaultKind::Status,
            status: Some(503),
            retry_after: None,
            delay_ms: 0,
            times: Some(1),
            probability: 1.0,
            after_commit: true,
            org: None,
        }
    }

    fn aimed(crm: &str, connection: Value) -> (String, String) {
        let spec = aim_at_create(unaimed(), crm, &connection).expect("aimed");
        assert_eq!(spec.validate(), Ok(()));
        assert!(spec.after_commit, "only method and path change");
        (spec.method.unwrap_or_default(), spec.path)
    }

    #[test]
    fn each_crm_s_create_is_below_the_url_its_connector_is_given() {
        let at = |base: &str| json!({"base_url": base});
        assert_eq!(
            aimed("redtail", at("http://127.0.0.1:9/redtail/api/public/v1")),
            ("POST".into(), "/redtail/api/public/v1/activities".into())
        );
        assert_eq!(
            aimed("insightly", at("http://127.0.0.1:9/insightly/v3.1")),
            ("POST".into(), "/insightly/v3.1/events".into())
        );
        assert_eq!(
            aimed("pipedrive", at("https://127.0.0.1:8443/pipedrive")),
            ("POST".into(), "/pipedrive/api/v2/activities".into())
        );
        assert_eq!(
            aimed("clio", at("https://127.0.0.1:8443/clio/")),
            ("POST".into(), "/clio/api/v4/communications.json".into())
        );
        let bullhorn = json!({
            "base_url": "http://127.0.0.1:9/bullhorn/rest-services",
            "user": {"platformAdditionalInfo": {"restUrl": "http://127.0.0.1:9/bullhorn/rest-services/org_7/"}}
        });
        assert_eq!(
            aimed("bullhorn", bullhorn),
            (
                "PUT".into(),
                "/bullhorn/rest-services/org_7/entity/Note".into()
            )
        );
    }

    #[test]
    fn a_crm_without_a_row_or_its_url_is_a_run_error() {
        let missing = aim_at_create(unaimed(), "salesforce", &json!({"base_url": "http://h/"}))
            .expect_err("no row")
            .to_string();
        assert!(
            missing.contains("give the fault a method and path"),
            "{missing}"
        );
        let no_rest = aim_at_create(unaimed(), "bullhorn", &json!({"base_url": "http://h/b"}))
            .expect_err("no restUrl")
            .to_string();
        assert!(
            no_rest.contains("user.platformAdditionalInfo.restUrl"),
            "{no_rest}"
        );
        assert_eq!(url_path("http://h"), "/");
        assert_eq!(url_path("/already"), "/already");
    }
}
