//! Playing one message case as App Connect core 1.7.42's `createMessageLog`
//! handler does (`handlers/log.ts`, `CORE_CALLS.md`): for each sync, the
//! messages oldest first; one already in core's own record of what it
//! logged is skipped; else, when core's record holds a log for the
//! message's `conversationLogId`, `updateMessageLog` with that row as
//! `existingMessageLog`, else `createMessageLog`. A message is recorded
//! when the create answered a `logId`, or after an update that did not
//! throw (core records it whatever the update answered); a throw ends the
//! sync. A group SMS is played once per contact, ids and
//! `conversationLogId` suffixed `-<contactId>`; a shared-SMS thread is
//! composed whole by `compose_shared_sms` and created or updated once per
//! sync. After a sync where a call failed, core's next sync sends each
//! day's page again. Then the properties are judged from the tenant's
//! activities and their revisions (`message_properties.rs`).
//!
//! It owns a message case's sequence and what it leaves (`MessageOutcome`);
//! what core passes for each message is `args.rs`'s, calling the connector
//! `calls.rs`'s. It must not tally, shrink, choose cases or know about
//! other jobs.

mod args;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::answers::short_json;
use super::bridge::Settled;
use super::calls::{CallNote, Core, Stop};
use super::cases::{Case, ContactRef, CreateIn, UpdateIn, UserProfile};
use super::core::Account;
use super::crm;
use super::crm_faults;
use super::faults::{ScheduledFault, Step, Target};
use super::message_cases::{MessageCase, Thread};
use super::message_properties::{self, Sent, Stored, StoredLog};
use super::plan::RunError;
use super::play::Stage;
use super::properties::{Property, Verdicts};
use super::subject::Subject;
use super::tenant::CaseTenant;
use crate::harness::FaultSpec;
use crate::harness::JournalView;
use crate::interface::TimezoneOffset;

/// How long after a delayed request was sent the CRM may still commit it.
const DELAY_MARGIN: Duration = Duration::from_millis(300);
/// The user's offset, as in App Connect's recorded message fixtures.
const OFFSET: &str = "-05:00";
/// 2025-06-03T00:00:00Z in milliseconds: the conversation's first day.
const FIRST_DAY_MS: i64 = 1_748_908_800_000;
const RC_TOKEN: &str = "U0pDMDFQMDFQQVMwMHxBQUJfcmNfYWNjZXNzX3Rva2VuX2V4YW1wbGU";
const MEDIA: &str =
    "https://media.ringcentral.com/restapi/v1.0/account/400128/extension/400129/message-store";

/// Everything one played message case left behind.
#[derive(Debug, Clone)]
pub struct MessageOutcome {
    pub case: MessageCase,
    pub verdicts: Verdicts,
    pub calls: Vec<CallNote>,
    /// What the connector sent the CRM, in order.
    pub requests: Vec<JournalView>,
}

/// One row of core's `messageLogs` table.
#[derive(Debug, Clone)]
struct Row {
    id: String,
    conversation_id: String,
    third_party_log_id: String,
    conversation_log_id: String,
}

/// One contact of the case, as the CRM and the connector know it.
struct Contact {
    case: ContactRef,
    /// The native id (what the CRM's API shows as `contact_id`).
    native: String,
    /// The id core passes (a CRM face's number as text, else the native id).
    passed: String,
}

/// Plays one message case on a job's connector, in a tenant of its own.
pub(super) fn play(
    stage: &Stage<'_>,
    subject: &mut Subject,
    case: &MessageCase,
) -> Result<MessageOutcome, Stop> {
    let tenant = CaseTenant::open(stage.rt, stage.crm, &stage.home.server_url)?;
    let mut contacts = Vec::new();
    for contact in &case.contacts {
        let (native, number) =
            tenant.contact_id(&contact.name, &contact.phone_number, &contact.contact_type)?;
        let passed = match (&stage.plan.crm, number) {
            (Some(_), Some(number)) => number.to_string(),
            _ => native.clone(),
        };
        contacts.push(Contact {
            case: contact.clone(),
            native,
            passed,
        });
    }
    let account = Account {
        api_key: tenant.api_key.clone(),
        crm_user_id: tenant.user_id.clone(),
        ..stage.home.clone()
    };
    subject.take_uncaught();
    let mut played = Played {
        core: Core {
            rt: stage.rt,
            plan: stage.plan,
            account,
            subject,
            crm: None,
        },
        case,
        contacts,
        rows: Vec::new(),
        shared_logged: BTreeSet::new(),
        sent: BTreeMap::new(),
        armed: BTreeSet::new(),
        expired: BTreeSet::new(),
        delay: None,
        connection: None,
        verdicts: Verdicts::default(),
        calls: Vec::new(),
        tenant: &tenant,
    };
    let started = Instant::now();
    let result = played
        .sign_in(stage)
        .and_then(|signed_in| if signed_in { played.syncs() } else { Ok(()) });
    match result {
        Ok(()) | Err(Stop::Connector) => {}
        Err(Stop::Fatal(error)) => return Err(Stop::Fatal(error)),
    }
    for uncaught in played.core.subject.take_uncaught() {
        played.verdicts.broke(
            Property::NothingThrows,
            format!(
                "an {} escaped the connector's background work: {}",
                uncaught.kind,
                super::answers::with_place(&uncaught.error)
            ),
        );
    }
    if result.is_ok() {
        played.verdicts.held(Property::NothingThrows);
        played.verdicts.held(Property::SettlesInTime);
    }
    if let Some(delay) = played.delay {
        let until = started + delay + DELAY_MARGIN;
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
    }
    let sent = played.sent_messages();
    let mut logs = Vec::new();
    for activity in tenant.activities()? {
        let now = Stored::from_json(&activity);
        // A revision written before the connector linked the contact (App
        // Connect's Insightly connector creates the event, then links it)
        // belongs to the contact the log has now, not to every contact.
        let revisions = tenant
            .revisions(&now.id)?
            .iter()
            .map(Stored::from_json)
            .map(|mut revision| {
                if revision.contact.is_none() {
                    revision.contact.clone_from(&now.contact);
                }
                revision
            })
            .collect();
        logs.push(StoredLog { now, revisions });
    }
    let mut verdicts = played.verdicts;
    message_properties::judge(&mut verdicts, &sent, &logs);
    let outcome = MessageOutcome {
        case: case.clone(),
        verdicts,
        calls: played.calls,
        requests: tenant.requests()?,
    };
    tenant.close()?;
    Ok(outcome)
}

/// A message case under way: core, its `messageLogs` rows, and what it sent.
struct Played<'s, 't> {
    core: Core<'s>,
    case: &'s MessageCase,
    contacts: Vec<Contact>,
    rows: Vec<Row>,
    /// Shared SMS: the messages a create or update that succeeded held.
    shared_logged: BTreeSet<(usize, usize)>,
    /// (contact, message) → how many syncs held it.
    sent: BTreeMap<(usize, usize), u32>,
    /// The steps whose faults were registered already (each once a case).
    armed: BTreeSet<&'static str>,
    /// The steps whose faults expired the tokens already (each once a
    /// case, before the step's first `authHeader`).
    expired: BTreeSet<&'static str>,
    delay: Option<Duration>,
    verdicts: Verdicts,
    calls: Vec<CallNote>,
    tenant: &'t CaseTenant<'t>,
    /// With `--crm`, the CRM's connection info for the case's tenant, which
    /// a fault aimed at the create is resolved against.
    connection: Option<Value>,
}

impl Played<'_, '_> {
    /// With `--crm`, signs the user in as core does when they connect.
    fn sign_in(&mut self, stage: &Stage<'_>) -> Result<bool, Stop> {
        let Some(name) = &stage.plan.crm else {
            return Ok(true);
        };
        let connection = crm::connection(&self.tenant.crms()?, name)?;
        let as_call = self.as_call_case();
        let signed_in = crm::sign_in(
            &mut self.core,
            &connection,
            &as_call,
            &mut self.verdicts,
            &mut self.calls,
        );
        self.connection = Some(connection);
        signed_in
    }

    /// The admin API's fault for `fault`: as written, or, aimed at the
    /// create, at the request that creates the activity in the case's CRM
    /// (a message log is created by the same request as a call log).
    fn spec(&self, fault: &ScheduledFault) -> Result<FaultSpec, Stop> {
        match (fault.at, &self.core.plan.crm, &self.connection) {
            (None, _, _) => Ok(fault.spec()),
            (Some(Target::Create), Some(name), Some(connection)) => {
                Ok(crm_faults::aim_at_create(fault.spec(), name, connection)?)
            }
            (Some(Target::Create), _, _) => Err(Stop::Fatal(RunError::Crm(format!(
                "the fault \"{fault}\" needs --crm NAME: only a CRM face says which request creates the activity"
            )))),
        }
    }

    /// The user core keeps, as a call case carries it (sign-in reads it).
    fn as_call_case(&self) -> Case {
        Case {
            user: UserProfile {
                timezone_offset: Some(TimezoneOffset::Text(OFFSET.into())),
                user_settings: Default::default(),
            },
            contact: self.contacts[0].case.clone(),
            create: CreateIn {
                call_log: Default::default(),
                note: None,
                ai_note: None,
                transcript: None,
                ring_sense_transcript: None,
                ring_sense_summary: None,
                ring_sense_ai_score: None,
                ring_sense_bulleted_summary: None,
                ring_sense_link: None,
                is_from_sscl: false,
            },
            update: UpdateIn::default(),
            faults: Vec::new(),
        }
    }

    fn syncs(&mut self) -> Result<(), Stop> {
        let mut failed = false;
        for sync in &self.case.syncs {
            for contact in 0..self.contacts.len() {
                failed |= !self.sync(contact, sync)?;
            }
        }
        if failed {
            // Core's next sync: each day's page again.
            for day in self.case.days() {
                for contact in 0..self.contacts.len() {
                    self.sync(contact, &day)?;
                }
            }
        }
        Ok(())
    }

    /// One `POST /messageLog` for `contact`; `Ok(false)`: a call failed
    /// (a throw ends the sync there, as core's handler catches it; a create
    /// without a `logId` only leaves its message unrecorded).
    fn sync(&mut self, contact: usize, sync: &[usize]) -> Result<bool, Stop> {
        for index in sync {
            *self.sent.entry((contact, *index)).or_default() += 1;
        }
        if self.case.thread == Thread::Shared {
            return self.shared_sync(contact, sync);
        }
        // Core reads which ids it logged once, before the loop.
        let existing: BTreeSet<String> = self.rows.iter().map(|row| row.id.clone()).collect();
        let mut complete = true;
        for index in sync {
            let key = self.key(contact, *index);
            if existing.contains(&key) {
                continue;
            }
            let conversation_log_id = self.conversation_log_id(contact, *index);
            let row = self
                .rows
                .iter()
                .find(|row| row.conversation_log_id == conversation_log_id)
                .cloned();
            self.expire_before(match row {
                Some(_) => Step::UpdateMessage,
                None => Step::CreateMessage,
            })?;
            let Ok(auth) = self
                .core
                .auth_header(&mut self.verdicts, &mut self.calls, true)?
            else {
                return Ok(false);
            };
            let (function, step, args) = match &row {
                Some(row) => (
                    "updateMessageLog",
                    Step::UpdateMessage,
                    self.update_args(contact, *index, row, &auth),
                ),
                None => (
                    "createMessageLog",
                    Step::CreateMessage,
                    self.create_args(contact, *index, &auth),
                ),
            };
            let answer = self.call(function, step, args)?;
            let log_id = match (answer, &row) {
                (Answer::Failed, _) => return Ok(false),
                (Answer::Object(_), Some(row)) => row.third_party_log_id.clone(),
                (Answer::Object(value), None) => match log_id_of(&value) {
                    Some(log_id) => log_id,
                    // Not logged: core records nothing and goes on with
                    // the next message (which creates again).
                    None => {
                        self.note_not_logged(&value);
                        complete = false;
                        continue;
                    }
                },
            };
            self.rows.push(Row {
                id: key,
                conversation_id: self.conversation_id(contact, *index),
                third_party_log_id: log_id,
                conversation_log_id,
            });
        }
        Ok(complete)
    }

    /// A shared-SMS sync: the thread so far composed by core, then one
    /// create or update.
    fn shared_sync(&mut self, contact: usize, sync: &[usize]) -> Result<bool, Stop> {
        let Some(last) = sync.last().copied() else {
            return Ok(true);
        };
        let day = self.case.messages[last].day;
        // The thread as the client shows it: the day's entries so far.
        let entries: Vec<usize> = (0..=last)
            .filter(|index| self.case.messages[*index].day == day)
            .collect();
        let conversation_log_id = self.conversation_log_id(contact, last);
        let logged = self.rows.iter().any(|row| row.id == conversation_log_id);
        self.expire_before(if logged {
            Step::UpdateMessage
        } else {
            Step::CreateMessage
        })?;
        let Ok(auth) = self
            .core
            .auth_header(&mut self.verdicts, &mut self.calls, true)?
        else {
            return Ok(false);
        };
        let format = match self
            .core
            .log_format(&mut self.verdicts, &mut self.calls, false)?
        {
            Ok(format) => format.log_format(),
            Err(()) => return Ok(false),
        };
        let content = self.shared_content(contact, &entries, &conversation_log_id, format)?;
        let row = self
            .rows
            .iter()
            .find(|row| row.id == conversation_log_id)
            .cloned();
        let mut args = Map::new();
        args.insert("user".into(), self.user());
        args.insert("contactInfo".into(), self.contact_info(contact));
        args.insert("sharedSMSLogContent".into(), content);
        if let Some(row) = &row {
            args.insert("existingMessageLog".into(), self.existing(row));
        }
        args.insert("authHeader".into(), Value::from(auth));
        args.insert("additionalSubmission".into(), json!({}));
        args.insert(
            "proxyConfig".into(),
            self.core.account.proxy_config_or_null(),
        );
        let (function, step) = match &row {
            Some(_) => ("updateMessageLog", Step::UpdateMessage),
            None => {
                args.insert(
                    "hashedAccountId".into(),
                    Value::from(self.core.account.hashed_account_id.clone()),
                );
                ("createMessageLog", Step::CreateMessage)
            }
        };
        let answer = self.call(function, step, Value::Object(args))?;
        match (answer, row) {
            (Answer::Failed, _) => return Ok(false),
            // An update's answer only carries a message for the user.
            (Answer::Object(_), Some(_)) => {}
            (Answer::Object(value), None) => match log_id_of(&value) {
                Some(log_id) => self.rows.push(Row {
                    id: conversation_log_id.clone(),
                    conversation_id: self.conversation_id(contact, last),
                    third_party_log_id: log_id,
                    conversation_log_id,
                }),
                None => {
                    self.note_not_logged(&value);
                    return Ok(false);
                }
            },
        }
        for index in entries {
            self.shared_logged.insert((contact, index));
        }
        Ok(true)
    }

    /// A create that answered no `logId` must have said why.
    fn note_not_logged(&mut self, value: &Value) {
        let told = value
            .pointer("/returnMessage/messageType")
            .and_then(Value::as_str)
            .is_some_and(|kind| kind == "warning" || kind == "danger");
        if !told {
            self.verdicts.broke(
                Property::MessageInOneLog,
                format!(
                    "createMessageLog returned no logId and no warning ({}): the user is never told the message was not logged",
                    short_json(value)
                ),
            );
        }
    }

    /// Expires the tokens the case's faults for `step` expire, the first
    /// time that step comes, before core builds its `authHeader` (so that
    /// core's refresh sees what it is to know).
    fn expire_before(&mut self, step: Step) -> Result<(), Stop> {
        if !self.expired.insert(step.function()) {
            return Ok(());
        }
        let case = self.case;
        for fault in case.faults.iter().filter(|fault| fault.on == step) {
            if let Some(expiry) = fault.expire_tokens {
                super::calls::refresh::expire(&mut self.core, self.tenant, expiry)?;
            }
        }
        Ok(())
    }

    /// Calls one message function with the case's faults for its step
    /// registered the first time that step comes.
    fn call(&mut self, function: &str, step: Step, args: Value) -> Result<Answer, Stop> {
        let arm = self.armed.insert(step.function());
        let mut any = false;
        if arm {
            for fault in self
                .case
                .faults
                .iter()
                .filter(|fault| fault.on == step && fault.registers())
            {
                let spec = self.spec(fault)?;
                self.tenant.add_fault(&spec)?;
                any = true;
                if fault.delay_ms > 0 {
                    let delay = Duration::from_millis(fault.delay_ms);
                    self.delay = Some(self.delay.map_or(delay, |longest| longest.max(delay)));
                }
            }
        }
        let answer = self
            .core
            .call(function, vec![args], &mut self.verdicts, &mut self.calls);
        if any {
            self.tenant.clear_faults()?;
        }
        match answer? {
            Settled::Threw(_) => Ok(Answer::Failed),
            Settled::Returned {
                value: Some(value @ Value::Object(_)),
                ..
            } => Ok(Answer::Object(value)),
            Settled::Returned { value, .. } => {
                // Core reads a field of the answer: undefined throws there.
                self.verdicts.broke(
                    Property::NothingThrows,
                    format!(
                        "{function} returned {}, which App Connect core cannot read (it fails the whole sync with \"Error creating message log\"); return {{logId, returnMessage}} or {{returnMessage}}",
                        value.as_ref().map_or("undefined".into(), short_json)
                    ),
                );
                Ok(Answer::Failed)
            }
        }
    }

    /// The messages core sent, with what core made of each.
    fn sent_messages(&self) -> Vec<Sent> {
        let mut sent = Vec::new();
        for ((contact, index), times) in &self.sent {
            let (contact, index) = (*contact, *index);
            let key = self.key(contact, index);
            let conversation = self.conversation_log_id(contact, index);
            let shared = self.case.thread == Thread::Shared;
            let recorded = if shared {
                self.shared_logged.contains(&(contact, index))
            } else {
                self.rows.iter().any(|row| row.id == key)
            };
            sent.push(Sent {
                key,
                conversation,
                marker: self.marker(index),
                contact: self.contacts[contact].native.clone(),
                by_id: !shared,
                recorded,
                sent: *times,
            });
        }
        sent
    }
}

/// How core took a message function's answer.
enum Answer {
    /// It threw, or answered what core cannot read: the sync ends.
    Failed,
    Object(Value),
}

/// The `logId` core keeps from a create's answer (a number as its digits).
fn log_id_of(value: &Value) -> Option<String> {
    let log_id = value.get("logId")?;
    if !crate::js::truthy(Some(log_id)) {
        return None;
    }
    Some(crate::js::to_string(log_id))
}
