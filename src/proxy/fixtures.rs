//! The fixture configs and App Connect's recorded requests, for tests only:
//! compiled in from `fixtures/`, nothing is read at run time.

pub const MINIMAL: (&str, &str) = (
    "minimal.json",
    include_str!("../../fixtures/proxy-configs/minimal.json"),
);
pub const REDTAIL: (&str, &str) = (
    "redtail-like.json",
    include_str!("../../fixtures/proxy-configs/redtail-like.json"),
);
pub const INSIGHTLY: (&str, &str) = (
    "insightly-like.json",
    include_str!("../../fixtures/proxy-configs/insightly-like.json"),
);
pub const PIPEDRIVE: (&str, &str) = (
    "pipedrive-like.json",
    include_str!("../../fixtures/proxy-configs/pipedrive-like.json"),
);
pub const MOCKCRM: (&str, &str) = (
    "mockcrm.proxy.json",
    include_str!("../../fixtures/app-connect/mockcrm.proxy.json"),
);

pub const ALL: [(&str, &str); 5] = [MINIMAL, REDTAIL, INSIGHTLY, PIPEDRIVE, MOCKCRM];

/// What App Connect's own proxy connector sent and returned for each
/// fixture config (see `fixtures/proxy-configs/oracle/generate.js`).
pub const APP_CONNECT_REQUESTS: &str =
    include_str!("../../fixtures/proxy-configs/oracle/app-connect-requests.json");

pub fn config(fixture: (&str, &str)) -> super::ProxyConfig {
    super::load(fixture.0, fixture.1)
        .unwrap_or_else(|e| panic!("fixture config loads: {e}"))
        .config
}
