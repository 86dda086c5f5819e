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
//! calling the connector is `calls.rs`'s. It must not tally, shrink, choose
//! cases or know about other jobs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::answers::short_json;
use super::bridge::Settled;
use super::calls::{CallNote, Core, Stop};
use super::cases::{Case, ContactRef, CreateIn, UpdateIn, UserProfile};
use super::core::{self, Account};
use super::crm;
use super::faults::Step;
use super::message_cases::{Media, MessageCase, Thread, AGENT_NAME, AGENT_NUMBER};
use super::message_properties::{self, Sent, Stored, StoredLog};
use super::play::Stage;
use super::properties::{Property, Verdicts};
use super::subject::Subject;
use super::tenant::CaseTenant;
use crate::compose::{self, SharedSmsOptions, SharedSmsRequest};
use crate::harness::JournalView;
use crate::interface::{LogFormat, TimezoneOffset};

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
        delay: None,
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
        let revisions = tenant
            .revisions(&now.id)?
            .iter()
            .map(Stored::from_json)
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
    delay: Option<Duration>,
    verdicts: Verdicts,
    calls: Vec<CallNote>,
    tenant: &'t CaseTenant<'t>,
}

impl Played<'_, '_> {
    /// With `--crm`, signs the user in as core does when they connect.
    fn sign_in(&mut self, stage: &Stage<'_>) -> Result<bool, Stop> {
        let Some(name) = &stage.plan.crm else {
            return Ok(true);
        };
        let connection = crm::connection(&self.tenant.crms()?, name)?;
        let as_call = self.as_call_case();
        crm::sign_in(
            &mut self.core,
            &connection,
            &as_call,
            &mut self.verdicts,
            &mut self.calls,
        )
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

    /// One `POST /messageLog` for `contact`; `Ok(false)`: a call failed.
    fn sync(&mut self, contact: usize, sync: &[usize]) -> Result<bool, Stop> {
        for index in sync {
            *self.sent.entry((contact, *index)).or_default() += 1;
        }
        if self.case.thread == Thread::Shared {
            return self.shared_sync(contact, sync);
        }
        // Core reads which ids it logged once, before the loop.
        let existing: BTreeSet<String> = self.rows.iter().map(|row| row.id.clone()).collect();
        for index in sync {
            let key = self.key(contact, *index);
            if existing.contains(&key) {
                continue;
            }
            let conversation_log_id = self.conversation_log_id(contact, *index);
            let Ok(auth) = self
                .core
                .auth_header(&mut self.verdicts, &mut self.calls, true)?
            else {
                return Ok(false);
            };
            let row = self
                .rows
                .iter()
                .find(|row| row.conversation_log_id == conversation_log_id)
                .cloned();
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
                    // Not logged: core records nothing and goes on.
                    None => {
                        self.note_not_logged(&value);
                        return Ok(false);
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
        Ok(true)
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

    /// Calls one message function with the case's faults for its step
    /// registered the first time that step comes.
    fn call(&mut self, function: &str, step: Step, args: Value) -> Result<Answer, Stop> {
        let arm = self.armed.insert(step.function());
        let mut any = false;
        if arm {
            for fault in self.case.faults.iter().filter(|fault| fault.on == step) {
                self.tenant.add_fault(&fault.spec())?;
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

    /// What a body holding message `index` holds: its text, or the link of
    /// a voicemail or fax.
    fn marker(&self, index: usize) -> String {
        match self.case.messages[index].media {
            Media::Voicemail | Media::Fax => media_reader(&self.content_uri(index, 0)),
            _ => self.case.messages[index].text.clone(),
        }
    }

    fn group(&self) -> bool {
        self.case.thread == Thread::Group
    }

    fn suffix(&self, contact: usize) -> String {
        if self.group() {
            format!("-{}", self.contacts[contact].passed)
        } else {
            String::new()
        }
    }

    /// The id core records message `index` under for `contact`.
    fn key(&self, contact: usize, index: usize) -> String {
        format!("{}{}", self.case.message_id(index), self.suffix(contact))
    }

    /// A voicemail or fax is a conversation of its own in RingCentral.
    fn conversation_id(&self, contact: usize, index: usize) -> String {
        let base = match self.case.thread {
            Thread::Voicemail | Thread::Fax => self.case.message_id(index),
            _ => self.case.conversation_id.clone(),
        };
        format!("{base}{}", self.suffix(contact))
    }

    fn conversation_log_id(&self, contact: usize, index: usize) -> String {
        let base = match self.case.thread {
            Thread::Voicemail | Thread::Fax => self.case.message_id(index),
            _ => self.case.conversation_id.clone(),
        };
        format!("{base}-{}{}", self.case.day_of(index), self.suffix(contact))
    }

    fn user(&self) -> Value {
        core::user(&self.core.account, &self.as_call_case())
    }

    fn contact_info(&self, contact: usize) -> Value {
        let contact = &self.contacts[contact];
        json!({
            "id": contact.passed,
            "phoneNumber": contact.case.phone_number,
            "type": contact.case.contact_type,
            "name": contact.case.name,
        })
    }

    /// `existingMessageLog`: core's row as it reads it.
    fn existing(&self, row: &Row) -> Value {
        json!({
            "id": row.id,
            "platform": self.core.account.platform,
            "conversationId": row.conversation_id,
            "thirdPartyLogId": row.third_party_log_id,
            "userId": self.core.account.user_id(),
            "conversationLogId": row.conversation_log_id,
        })
    }

    fn content_uri(&self, index: usize, attachment: u32) -> String {
        let id = self.case.message_id(index);
        if attachment == 0 {
            format!("{MEDIA}/{id}/content/{id}")
        } else {
            format!("{MEDIA}/{id}/content/{id}{attachment:03}")
        }
    }

    /// The RingCentral message record the client sends, as core passes it
    /// on (a group SMS's id made text and suffixed, as core does).
    fn message(&self, contact: usize, index: usize) -> Value {
        let message = &self.case.messages[index];
        let id = self.case.message_id(index);
        let me = json!({"phoneNumber": AGENT_NUMBER, "name": AGENT_NAME});
        let them: Vec<Value> = self
            .contacts
            .iter()
            .map(|contact| json!({"phoneNumber": contact.case.phone_number, "name": contact.case.name}))
            .collect();
        let (from, to) = if message.inbound {
            (them[contact].clone(), vec![me])
        } else {
            (me, them)
        };
        let text_attachment = json!({"id": id, "uri": self.content_uri(index, 0), "type": "Text", "contentType": "text/plain"});
        let (kind, subject, attachments) = match message.media {
            Media::Text | Media::Note => ("SMS", message.text.clone(), vec![text_attachment]),
            Media::Image => (
                "SMS",
                message.text.clone(),
                vec![
                    text_attachment,
                    json!({"id": format!("{id}001"), "uri": self.content_uri(index, 1), "type": "MmsAttachment", "contentType": "image/jpeg", "fileName": "IMG_2231.jpg", "size": 482113, "height": 1600, "width": 1200}),
                ],
            ),
            Media::Video => (
                "SMS",
                message.text.clone(),
                vec![
                    text_attachment,
                    json!({"id": format!("{id}001"), "uri": self.content_uri(index, 1), "type": "MmsAttachment", "contentType": "video/mp4", "fileName": "VID_0412.mp4", "size": 2411032}),
                ],
            ),
            Media::Voicemail => (
                "VoiceMail",
                format!("Voice message from {}", self.contacts[contact].case.name),
                vec![
                    json!({"id": id, "uri": self.content_uri(index, 0), "type": "AudioRecording", "contentType": "audio/mpeg", "vmDuration": 37, "link": media_reader(&self.content_uri(index, 0))}),
                ],
            ),
            Media::Fax => (
                "Fax",
                self.contacts[contact].case.phone_number.clone(),
                vec![
                    json!({"id": id, "uri": self.content_uri(index, 0), "type": "RenderedDocument", "contentType": "application/pdf", "size": 188231, "link": media_reader(&self.content_uri(index, 0))}),
                ],
            ),
        };
        let conversation = self.case.conversation_id.clone();
        let number: Value = match id.parse::<u64>() {
            Ok(number) if !self.group() => Value::from(number),
            _ => Value::from(self.key(contact, index)),
        };
        let mut record = json!({
            "uri": format!("https://platform.ringcentral.com/restapi/v1.0/account/400128/extension/400129/message-store/{id}"),
            "id": number,
            "to": to,
            "from": from,
            "type": kind,
            "creationTime": self.case.creation_time(index),
            "readStatus": "Read",
            "priority": "Normal",
            "attachments": attachments,
            "direction": if message.inbound { "Inbound" } else { "Outbound" },
            "availability": "Alive",
            "subject": subject,
            "messageStatus": if message.inbound { "Received" } else { "Delivered" },
            "lastModifiedTime": self.case.creation_time(index),
        });
        if matches!(message.media, Media::Text | Media::Image | Media::Video) {
            record["conversationId"] = Value::from(conversation.clone());
            record["conversation"] = json!({"id": conversation, "uri": format!("https://platform.ringcentral.com/restapi/v1.0/conversation/{conversation}")});
        }
        record
    }

    /// The links core derives from a message's attachments.
    fn links(&self, index: usize) -> Map<String, Value> {
        let media = self.case.messages[index].media;
        let link = |attachment| media_reader(&self.content_uri(index, attachment));
        let mut links = Map::new();
        let null = Value::Null;
        let (recording, fax_doc, fax_download) = match media {
            Media::Voicemail => (Value::from(link(0)), null.clone(), null.clone()),
            Media::Fax => (
                null.clone(),
                Value::from(link(0)),
                Value::from(format!(
                    "{}?access_token={RC_TOKEN}",
                    self.content_uri(index, 0)
                )),
            ),
            _ => (null.clone(), null.clone(), null.clone()),
        };
        let (image, image_download, image_type, video) = match media {
            Media::Image => (
                Value::from(link(1)),
                Value::from(format!(
                    "{}?access_token={RC_TOKEN}",
                    self.content_uri(index, 1)
                )),
                Value::from("image/jpeg"),
                null.clone(),
            ),
            Media::Video => (
                null.clone(),
                null.clone(),
                null.clone(),
                Value::from(link(1)),
            ),
            _ => (null.clone(), null.clone(), null.clone(), null),
        };
        links.insert("recordingLink".into(), recording);
        links.insert("faxDocLink".into(), fax_doc);
        links.insert("faxDownloadLink".into(), fax_download);
        links.insert("imageLink".into(), image);
        links.insert("imageDownloadLink".into(), image_download);
        links.insert("imageContentType".into(), image_type);
        links.insert("videoLink".into(), video);
        links
    }

    /// `createMessageLog`'s argument for one message, as core builds it.
    fn create_args(&self, contact: usize, index: usize, auth: &str) -> Value {
        let mut args = Map::new();
        args.insert("user".into(), self.user());
        args.insert("contactInfo".into(), self.contact_info(contact));
        // A group SMS: the other correspondents' cached contact records.
        let correspondents: Vec<Value> = if self.group() {
            self.contacts
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != contact)
                .map(|(_, other)| {
                    json!([{"id": other.passed, "name": other.case.name, "type": other.case.contact_type, "phone": other.case.phone_number}])
                })
                .collect()
        } else {
            Vec::new()
        };
        args.insert("correspondents".into(), Value::from(correspondents));
        args.insert("authHeader".into(), Value::from(auth));
        args.insert("message".into(), self.message(contact, index));
        args.insert("additionalSubmission".into(), json!({}));
        args.extend(self.links(index));
        args.insert(
            "proxyConfig".into(),
            self.core.account.proxy_config_or_null(),
        );
        args.insert(
            "hashedAccountId".into(),
            Value::from(self.core.account.hashed_account_id.clone()),
        );
        Value::Object(args)
    }

    /// `updateMessageLog`'s argument: core passes no recording or fax link.
    fn update_args(&self, contact: usize, index: usize, row: &Row, auth: &str) -> Value {
        let links = self.links(index);
        let mut args = Map::new();
        args.insert("user".into(), self.user());
        args.insert("contactInfo".into(), self.contact_info(contact));
        args.insert("existingMessageLog".into(), self.existing(row));
        args.insert("message".into(), self.message(contact, index));
        args.insert("authHeader".into(), Value::from(auth));
        args.insert("additionalSubmission".into(), json!({}));
        for field in [
            "imageLink",
            "imageDownloadLink",
            "imageContentType",
            "videoLink",
        ] {
            args.insert(
                field.into(),
                links.get(field).cloned().unwrap_or(Value::Null),
            );
        }
        args.insert(
            "proxyConfig".into(),
            self.core.account.proxy_config_or_null(),
        );
        Value::Object(args)
    }

    /// `sharedSMSLogContent`: the thread composed as core composes it.
    fn shared_content(
        &self,
        contact: usize,
        entries: &[usize],
        conversation_log_id: &str,
        format: Option<LogFormat>,
    ) -> Result<Value, Stop> {
        let person = &self.contacts[contact].case;
        let ms = |index: usize| self.creation_ms(index);
        let first = entries.first().copied().unwrap_or(0);
        let mut entities = vec![json!({
            "threadId": self.case.conversation_id, "availability": "Alive",
            "id": format!("{}00", self.case.conversation_id), "recordType": "ThreadCreatedHint",
            "creationTime": ms(first), "lastModifiedTime": ms(first),
        })];
        let mut messages = Vec::new();
        for index in entries {
            let message = &self.case.messages[*index];
            let id = self.case.message_id(*index);
            let entity = match message.media {
                Media::Note => json!({
                    "threadId": self.case.conversation_id, "availability": "Alive", "id": id,
                    "recordType": "AliveNote", "author": {"extensionId": "400129", "name": AGENT_NAME},
                    "text": message.text, "creationTime": ms(*index), "lastModifiedTime": ms(*index),
                }),
                _ if message.inbound => json!({
                    "threadId": self.case.conversation_id, "availability": "Alive", "id": id,
                    "recordType": "AliveMessage", "direction": "Inbound", "messageStatus": "Received",
                    "from": {"phoneNumber": person.phone_number, "name": person.name},
                    "text": message.text, "creationTime": ms(*index), "lastModifiedTime": ms(*index),
                }),
                _ => json!({
                    "threadId": self.case.conversation_id, "availability": "Alive", "id": id,
                    "recordType": "AliveMessage", "direction": "Outbound", "messageStatus": "Delivered",
                    "author": {"extensionId": "400129", "name": AGENT_NAME},
                    "text": message.text, "creationTime": ms(*index), "lastModifiedTime": ms(*index),
                }),
            };
            entities.push(entity);
            if *index == first {
                // The queue assigns the thread after its first entry.
                entities.push(json!({
                    "threadId": self.case.conversation_id, "availability": "Alive",
                    "id": format!("{}99", self.case.conversation_id), "recordType": "ThreadAssignedHint",
                    "assignee": {"extensionId": "400129", "name": AGENT_NAME},
                    "initiator": {"extensionId": "400131", "name": "Priya Natarajan"},
                    "creationTime": ms(first) + 1000, "lastModifiedTime": ms(first) + 1000,
                }));
            }
            if message.media != Media::Note {
                messages.insert(0, json!({
                    "id": id, "conversationId": self.case.conversation_id, "type": "SMS",
                    "direction": if message.inbound { "Inbound" } else { "Outbound" },
                    "subject": message.text, "creationTime": ms(*index), "lastModifiedTime": ms(*index),
                    "attachments": [],
                }));
            }
        }
        let request = json!({
            "logFormat": format.map(LogFormat::mime),
            "conversation": {
                "conversationId": self.case.conversation_id,
                "conversationLogId": conversation_log_id,
                "type": "SMS",
                "creationTime": ms(first),
                "correspondents": [{"phoneNumber": person.phone_number, "name": person.name}],
                "owner": {"extensionId": "400200", "name": "Support Queue", "extensionType": "Department"},
                "assignee": {"extensionId": "400129", "name": AGENT_NAME},
                "messages": messages,
                "entities": entities,
            },
            "contactName": person.name,
            "timezoneOffset": OFFSET,
        });
        let request: SharedSmsRequest = serde_json::from_value(request).map_err(|error| {
            Stop::Fatal(super::plan::RunError::Crm(format!(
                "cannot build the shared-SMS conversation core composes: {error}"
            )))
        })?;
        let options = SharedSmsOptions::default()
            .with_host_zone(self.core.plan.compose.host_zone)
            .with_now(chrono::DateTime::from_timestamp_millis(FIRST_DAY_MS).unwrap_or_default());
        let log = compose::compose_shared_sms(&request, &options).map_err(|error| {
            Stop::Fatal(super::plan::RunError::Crm(format!(
                "cannot compose the shared-SMS conversation: {error}"
            )))
        })?;
        Ok(json!({"subject": log.subject, "body": log.body}))
    }

    fn creation_ms(&self, index: usize) -> i64 {
        let day = i64::from(self.case.messages[index].day.min(1));
        let minutes = 7 * i64::try_from(index).unwrap_or(0);
        FIRST_DAY_MS + day * 86_400_000 + (14 * 60 + minutes) * 60_000 + 9_000
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

/// RingCentral's media reader link for a content URI, as App Connect's
/// client and core (`getMediaReaderLinkByPlatformMediaLink`) write it.
fn media_reader(uri: &str) -> String {
    let mut encoded = String::new();
    for byte in uri.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'!'
            | b'~'
            | b'*'
            | b'\''
            | b'('
            | b')' => encoded.push(char::from(byte)),
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    format!("https://ringcentral.github.io/ringcentral-media-reader/?media={encoded}")
}
