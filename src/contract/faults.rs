//! Fault schedules: which faults the CRM answers with while each connector
//! call of a case runs (`--faults none|default|FILE`), and how one becomes
//! a fault of the admin API. A fault is registered just before the call it
//! belongs to and removed right after, so it can only hit the connector's
//! own requests, never the runner's checks.
//!
//! A fault may also expire the user's access tokens just before its call
//! (`expire_tokens`), at that exact moment rather than after a lifetime a
//! busy machine can outrun: the CRM's tokens (and Bullhorn's sessions)
//! through `POST /__admin/tokens/expire`, and, when App Connect core is to
//! know, the user row's `tokenExpiry`.
//!
//! Data only: registering is the runner's business.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::harness::{FaultKind, FaultSpec};

/// The faults of one case.
pub type Schedule = Vec<ScheduledFault>;

/// The connector call a fault is active during.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    #[serde(rename = "createCallLog")]
    Create,
    #[serde(rename = "getCallLog")]
    Get,
    #[serde(rename = "updateCallLog")]
    Update,
    /// The first `createMessageLog` of a message case.
    #[serde(rename = "createMessageLog")]
    CreateMessage,
    /// The first `updateMessageLog` of a message case.
    #[serde(rename = "updateMessageLog")]
    UpdateMessage,
}

impl Step {
    pub fn function(self) -> &'static str {
        match self {
            Step::Create => "createCallLog",
            Step::Get => "getCallLog",
            Step::Update => "updateCallLog",
            Step::CreateMessage => "createMessageLog",
            Step::UpdateMessage => "updateMessageLog",
        }
    }
}

/// Which request of a call a fault is aimed at, when not by `method` and
/// `path`: resolved per case against the CRM the connector talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The request that creates the activity in the `--crm` CRM
    /// (`crm_faults.rs` knows which one that is for each CRM).
    Create,
}

/// Which record knows that a fault's expired tokens expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenExpiry {
    /// The CRM's tokens expired and core's user row says so
    /// (`tokenExpiry` in the past): core's `checkAndRefreshAccessToken`
    /// refreshes before the call, as it does when a token runs out.
    CoreKnows,
    /// The CRM's tokens expired (revoked, or cut short by the CRM) while
    /// core's row still says they are good: core calls with the dead
    /// token, the connector meets the CRM's 401 and must renew itself.
    CrmOnly,
}

/// One fault: the admin API's fields, bound to a connector call. Without
/// `method` it hits any request the connector sends during that call;
/// without `path`, any path; `at` aims it at a request by what it does
/// instead; without `times`, the first matching request only. With
/// `expire_tokens` the user's access tokens expire just before the call;
/// a fault that only does that (no `status`, no `delay_ms`) registers
/// nothing with the admin API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    pub on: Step,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Target>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_commit: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_tokens: Option<TokenExpiry>,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl ScheduledFault {
    fn on_create() -> ScheduledFault {
        ScheduledFault {
            on: Step::Create,
            method: None,
            path: None,
            at: None,
            status: None,
            retry_after: None,
            delay_ms: 0,
            times: None,
            after_commit: false,
            expire_tokens: None,
        }
    }

    /// Whether the fault is one of the admin API's (a status or a delay),
    /// not only tokens expiring before the call.
    pub fn registers(&self) -> bool {
        self.expire_tokens.is_none() || self.status.is_some() || self.delay_ms > 0
    }

    /// Why the fault cannot run, as `.field message`: the admin API's
    /// checks for one it registers, and for one that only expires tokens,
    /// no fields that aim an answer.
    pub fn validate(&self) -> Result<(), String> {
        self.check_expiry_only()?;
        if !self.registers() {
            return Ok(());
        }
        self.spec()
            .validate()
            .map_err(|(field, message)| format!(".{field} {message}"))
    }

    /// Why a fault that only expires tokens cannot take the request fields
    /// it was given (they aim an answer it does not have).
    fn check_expiry_only(&self) -> Result<(), String> {
        if self.registers() {
            return Ok(());
        }
        let given: Vec<&str> = [
            ("method", self.method.is_some()),
            ("path", self.path.is_some()),
            ("at", self.at.is_some()),
            ("retry_after", self.retry_after.is_some()),
            ("times", self.times.is_some()),
            ("after_commit", self.after_commit),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect();
        match given.first() {
            None => Ok(()),
            Some(field) => Err(format!(
                ".{field} aims an answer, but this fault only expires tokens; drop {}, or give a status or delay_ms as well",
                given.join(", ")
            )),
        }
    }

    /// The fault as the admin API takes it.
    pub fn spec(&self) -> FaultSpec {
        FaultSpec {
            method: self.method.clone(),
            path: self.path.clone().unwrap_or_else(|| "/*".into()),
            status: self.status,
            retry_after: self.retry_after,
            delay_ms: self.delay_ms,
            times: Some(self.times.unwrap_or(1)),
            probability: 1.0,
            after_commit: self.after_commit,
            kind: FaultKind::Status,
            org: None,
        }
    }
}

impl fmt::Display for ScheduledFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.on.function())?;
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(status.to_string());
        }
        if self.after_commit {
            parts.push("after commit".into());
        }
        if let Some(seconds) = self.retry_after {
            parts.push(format!("Retry-After {seconds} s"));
        }
        if self.delay_ms > 0 {
            parts.push(format!(
                "delayed {}",
                seconds_text(Duration::from_millis(self.delay_ms))
            ));
        }
        if let Some(method) = &self.method {
            parts.push(format!("on {method}"));
        }
        if let Some(path) = &self.path {
            parts.push(format!("at {path}"));
        }
        if self.at == Some(Target::Create) {
            parts.push("on the request that creates the activity".into());
        }
        if let Some(times) = self.times.filter(|times| *times != 1) {
            parts.push(format!("{times} times"));
        }
        match self.expire_tokens {
            Some(TokenExpiry::CoreKnows) => parts.push(
                "access token expired before the call (App Connect core knows, and refreshes first)"
                    .into(),
            ),
            Some(TokenExpiry::CrmOnly) => parts.push(
                "access token expired before the call, unknown to App Connect core (the connector meets the CRM's 401)"
                    .into(),
            ),
            None => {}
        }
        f.write_str(&parts.join(", "))
    }
}

/// A schedule in words.
pub fn describe(schedule: &Schedule) -> String {
    if schedule.is_empty() {
        return "no faults".into();
    }
    schedule
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn seconds_text(duration: Duration) -> String {
    let seconds = duration.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds} s")
    }
}

/// `--faults none`.
pub fn none() -> Vec<Schedule> {
    vec![Vec::new()]
}

/// `--faults default`: no fault, a create that commits and answers 503, a
/// 429 with `Retry-After`, a 502, and a create slowed past the connector's
/// own timeout (by `delay`), each once, drawn with equal odds.
pub fn default_schedules(delay: Duration) -> Vec<Schedule> {
    let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
    vec![
        Vec::new(),
        vec![ScheduledFault {
            status: Some(503),
            after_commit: true,
            ..ScheduledFault::on_create()
        }],
        vec![ScheduledFault {
            status: Some(429),
            retry_after: Some(1),
            ..ScheduledFault::on_create()
        }],
        vec![ScheduledFault {
            status: Some(502),
            ..ScheduledFault::on_create()
        }],
        vec![ScheduledFault {
            delay_ms,
            ..ScheduledFault::on_create()
        }],
    ]
}

/// The schedules `--faults default` adds for an OAuth CRM
/// (`--crm pipedrive|clio|bullhorn`): the access token expired before
/// `createCallLog`, once with core's record knowing and once without.
pub fn token_expiry_schedules() -> Vec<Schedule> {
    [TokenExpiry::CoreKnows, TokenExpiry::CrmOnly]
        .into_iter()
        .map(|expiry| {
            vec![ScheduledFault {
                expire_tokens: Some(expiry),
                ..ScheduledFault::on_create()
            }]
        })
        .collect()
}

/// The default schedules for message cases: the same faults, each on the
/// case's first `createMessageLog`, where a lost answer matters most (core
/// keeps no log, so the next message or sync creates again).
pub fn default_message_schedules(delay: Duration) -> Vec<Schedule> {
    on_messages(default_schedules(delay))
}

/// Call-log schedules moved to the message calls: a fault on
/// `createCallLog` is one on `createMessageLog`, and so on (`getCallLog`
/// has no message counterpart: core reads no message log back, so such a
/// fault goes to `updateMessageLog`).
pub fn on_messages(schedules: Vec<Schedule>) -> Vec<Schedule> {
    schedules
        .into_iter()
        .map(|schedule| {
            schedule
                .into_iter()
                .map(|fault| ScheduledFault {
                    on: match fault.on {
                        Step::Create | Step::CreateMessage => Step::CreateMessage,
                        Step::Get | Step::Update | Step::UpdateMessage => Step::UpdateMessage,
                    },
                    ..fault
                })
                .collect()
        })
        .collect()
}

/// Whether a fault belongs to a message case's calls.
pub fn is_message_step(step: Step) -> bool {
    matches!(step, Step::CreateMessage | Step::UpdateMessage)
}

/// Schedules from a `--faults FILE`: a JSON array of schedules, each an
/// array of faults. The error says which one is wrong and why.
pub fn parse_file(text: &str) -> Result<Vec<Schedule>, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let schedules: Vec<Schedule> = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| {
            let at = error.path().to_string();
            let hint = "give an array of schedules, each an array of faults such as {\"on\": \"createCallLog\", \"status\": 503, \"after_commit\": true}";
            if at == "." {
                format!("{}; {hint}", error.inner())
            } else {
                format!("at {at}: {}; {hint}", error.inner())
            }
        })?;
    if schedules.is_empty() {
        return Err(
            "holds no schedule; give at least one (an empty one, [], means no faults)".into(),
        );
    }
    for (index, schedule) in schedules.iter().enumerate() {
        for (position, fault) in schedule.iter().enumerate() {
            fault
                .validate()
                .map_err(|message| format!("[{index}][{position}]{message}"))?;
        }
    }
    Ok(schedules)
}

/// The default schedules as they run under `--crm`: each fault on the
/// request that creates the activity in that CRM rather than on the
/// connector's first request (often a lookup), so the faults test the
/// write whose lost answer can leave a duplicate.
pub fn aimed_at_create(schedules: Vec<Schedule>) -> Vec<Schedule> {
    schedules
        .into_iter()
        .map(|schedule| {
            schedule
                .into_iter()
                .map(|fault| ScheduledFault {
                    at: fault.registers().then_some(Target::Create),
                    ..fault
                })
                .collect()
        })
        .collect()
}

/// Why a schedule cannot run as given: a fault aimed `at` a request by
/// what it does needs `--crm`, and names no `method` or `path` besides;
/// one that expires tokens needs `--crm` (an OAuth CRM's tokens).
pub fn check_aims(schedules: &[Schedule], crm: bool) -> Result<(), String> {
    for (index, schedule) in schedules.iter().enumerate() {
        for (position, fault) in schedule.iter().enumerate() {
            if fault.expire_tokens.is_some() && !crm {
                return Err(format!(
                    "[{index}][{position}].expire_tokens needs --crm pipedrive|clio|bullhorn: only an OAuth CRM's tokens expire"
                ));
            }
            if fault.at.is_none() {
                continue;
            }
            if !crm {
                return Err(format!(
                    "[{index}][{position}].at needs --crm NAME: it names the request that creates the activity in that CRM; give method and path instead"
                ));
            }
            if fault.method.is_some() || fault.path.is_some() {
                return Err(format!(
                    "[{index}][{position}].at takes no method or path: it picks both; drop at, or drop method and path"
                ));
            }
        }
    }
    Ok(())
}

/// The longest delay any schedule adds, which `--call-timeout` must exceed.
pub fn longest_delay(schedules: &[Schedule]) -> Duration {
    let longest = schedules
        .iter()
        .flatten()
        .map(|fault| fault.delay_ms)
        .max()
        .unwrap_or(0);
    Duration::from_millis(longest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedules_are_valid_admin_faults() {
        let schedules = default_schedules(Duration::from_secs(6));
        assert_eq!(schedules.len(), 5);
        assert!(schedules[0].is_empty(), "shrinking ends at no fault");
        for fault in schedules.iter().flatten() {
            assert_eq!(fault.spec().validate(), Ok(()), "{fault}");
            assert_eq!(fault.spec().times, Some(1));
        }
        assert_eq!(describe(&schedules[1]), "createCallLog: 503, after commit");
        assert_eq!(describe(&schedules[4]), "createCallLog: delayed 6 s");
        assert_eq!(longest_delay(&schedules), Duration::from_secs(6));
        assert_eq!(check_aims(&schedules, false), Ok(()));

        let aimed = aimed_at_create(schedules);
        assert!(aimed[0].is_empty());
        assert!(aimed.iter().flatten().all(|f| f.at == Some(Target::Create)));
        assert_eq!(
            describe(&aimed[1]),
            "createCallLog: 503, after commit, on the request that creates the activity"
        );
        assert_eq!(check_aims(&aimed, true), Ok(()));
        let without_crm = check_aims(&aimed, false).expect_err("needs --crm");
        assert!(
            without_crm.starts_with("[1][0].at needs --crm"),
            "{without_crm}"
        );
    }

    #[test]
    fn an_aimed_fault_round_trips_and_takes_no_path() {
        let schedules = parse_file(r#"[[{"on": "createCallLog", "status": 502, "at": "create"}]]"#)
            .expect("valid");
        assert_eq!(schedules[0][0].at, Some(Target::Create));
        let json = serde_json::to_string(&schedules[0][0]).expect("serialises");
        assert!(json.contains(r#""at":"create""#), "{json}");
        let both = parse_file(
            r#"[[{"on": "createCallLog", "status": 502, "at": "create", "path": "/x"}]]"#,
        )
        .expect("parses");
        let error = check_aims(&both, true).expect_err("path and at");
        assert!(error.contains("takes no method or path"), "{error}");
        assert!(
            parse_file(r#"[[{"on": "createCallLog", "status": 502, "at": "update"}]]"#).is_err()
        );
    }

    #[test]
    fn a_file_names_the_fault_it_cannot_take() {
        let good = parse_file(
            r#"[[], [{"on": "getCallLog", "status": 502, "times": 2}, {"on": "updateCallLog", "delay_ms": 100, "method": "PATCH"}]]"#,
        )
        .expect("valid");
        assert_eq!(good[1][0].spec().times, Some(2));
        assert_eq!(good[1][1].spec().method.as_deref(), Some("PATCH"));

        let error = parse_file(r#"[[{"on": "createCallLog", "status": 200}]]"#).expect_err("200");
        assert!(error.starts_with("[0][0].status"), "{error}");
        let error = parse_file(r#"[[{"on": "deleteCallLog", "status": 503}]]"#).expect_err("step");
        assert!(error.contains("[0][0].on"), "{error}");
        let error = parse_file(r#"[[{"on": "createCallLog", "status": 503, "colour": 1}]]"#)
            .expect_err("unknown field");
        assert!(error.contains("colour"), "{error}");
        assert!(parse_file("[]").is_err());
        assert!(parse_file("{}").is_err());
    }

    #[test]
    fn token_expiry_round_trips_reads_in_words_and_registers_nothing_alone() {
        let schedules = parse_file(
            r#"[[{"on": "createCallLog", "expire_tokens": "core_knows"}],
                [{"on": "updateCallLog", "expire_tokens": "crm_only"}],
                [{"on": "createCallLog", "expire_tokens": "crm_only", "status": 503, "after_commit": true}]]"#,
        )
        .expect("valid");
        let known = &schedules[0][0];
        assert_eq!(known.expire_tokens, Some(TokenExpiry::CoreKnows));
        assert!(!known.registers(), "nothing for the admin API");
        assert_eq!(
            describe(&schedules[0]),
            "createCallLog: access token expired before the call (App Connect core knows, and refreshes first)"
        );
        assert_eq!(
            describe(&schedules[1]),
            "updateCallLog: access token expired before the call, unknown to App Connect core (the connector meets the CRM's 401)"
        );
        assert!(schedules[2][0].registers(), "a 503 as well");
        assert!(describe(&schedules[2])
            .starts_with("createCallLog: 503, after commit, access token expired"));
        let json = serde_json::to_string(&schedules[1][0]).expect("serialises");
        assert_eq!(json, r#"{"on":"updateCallLog","expire_tokens":"crm_only"}"#);
        let back: ScheduledFault = serde_json::from_str(&json).expect("reads back");
        assert_eq!(&back, &schedules[1][0]);
        // Without it, nothing is written: older fixtures read the same.
        let plain = serde_json::to_string(&default_schedules(Duration::from_secs(1))[1][0])
            .expect("serialises");
        assert!(!plain.contains("expire_tokens"), "{plain}");

        let error =
            parse_file(r#"[[{"on": "createCallLog", "expire_tokens": "crm_only", "path": "/x"}]]"#)
                .expect_err("a path for no answer");
        assert!(error.starts_with("[0][0].path aims an answer"), "{error}");
        assert!(parse_file(r#"[[{"on": "createCallLog", "expire_tokens": true}]]"#).is_err());
        let error = check_aims(&schedules, false).expect_err("needs an OAuth CRM");
        assert!(
            error.starts_with("[0][0].expire_tokens needs --crm"),
            "{error}"
        );
        assert_eq!(check_aims(&schedules, true), Ok(()));
    }

    #[test]
    fn the_token_schedules_expire_before_the_create_and_stay_unaimed() {
        let tokens = token_expiry_schedules();
        assert_eq!(tokens.len(), 2);
        let aimed = aimed_at_create(tokens);
        assert_eq!(aimed[0][0].expire_tokens, Some(TokenExpiry::CoreKnows));
        assert_eq!(aimed[1][0].expire_tokens, Some(TokenExpiry::CrmOnly));
        assert!(aimed
            .iter()
            .flatten()
            .all(|fault| fault.on == Step::Create && fault.at.is_none()));
        assert_eq!(check_aims(&aimed, true), Ok(()));
        let moved = on_messages(aimed);
        assert!(moved
            .iter()
            .flatten()
            .all(|fault| fault.on == Step::CreateMessage));
    }
}
