//! What App Connect core passes the message functions, built as its
//! `createMessageLog` handler builds it (`CORE_CALLS.md`): the RingCentral
//! message record the client sent (shapes from `fixtures/messages/`), the
//! links core derives from its attachments, `contactInfo`,
//! `existingMessageLog` from core's row, the ids and `conversationLogId`
//! with a group SMS's `-<contactId>` suffix, and a shared-SMS thread
//! composed by `compose_shared_sms`.
//!
//! Builds values only: it must not call the connector or the CRM.

use serde_json::{json, Map, Value};

use super::{Played, Row, Stop, FIRST_DAY_MS, MEDIA, OFFSET, RC_TOKEN};
use crate::compose::{self, SharedSmsOptions, SharedSmsRequest};
use crate::contract::core;
use crate::contract::message_cases::{Media, Thread, AGENT_NAME, AGENT_NUMBER};
use crate::interface::LogFormat;

impl Played<'_, '_> {
    /// What a body holding message `index` holds: its text, or the link of
    /// a voicemail or fax.
    pub(super) fn marker(&self, index: usize) -> String {
        match self.case.messages[index].media {
            Media::Voicemail | Media::Fax => media_reader(&self.content_uri(index, 0)),
            _ => self.case.messages[index].text.clone(),
        }
    }

    pub(super) fn group(&self) -> bool {
        self.case.thread == Thread::Group
    }

    pub(super) fn suffix(&self, contact: usize) -> String {
        if self.group() {
            format!("-{}", self.contacts[contact].passed)
        } else {
            String::new()
        }
    }

    /// The id core records message `index` under for `contact`.
    pub(super) fn key(&self, contact: usize, index: usize) -> String {
        format!("{}{}", self.case.message_id(index), self.suffix(contact))
    }

    /// A voicemail or fax is a conversation of its own in RingCentral.
    pub(super) fn conversation_id(&self, contact: usize, index: usize) -> String {
        let base = match self.case.thread {
            Thread::Voicemail | Thread::Fax => self.case.message_id(index),
            _ => self.case.conversation_id.clone(),
        };
        format!("{base}{}", self.suffix(contact))
    }

    pub(super) fn conversation_log_id(&self, contact: usize, index: usize) -> String {
        let base = match self.case.thread {
            Thread::Voicemail | Thread::Fax => self.case.message_id(index),
            _ => self.case.conversation_id.clone(),
        };
        format!("{base}-{}{}", self.case.day_of(index), self.suffix(contact))
    }

    pub(super) fn user(&self) -> Value {
        core::user(&self.core.account, &self.as_call_case())
    }

    pub(super) fn contact_info(&self, contact: usize) -> Value {
        let contact = &self.contacts[contact];
        json!({
            "id": contact.passed,
            "phoneNumber": contact.case.phone_number,
            "type": contact.case.contact_type,
            "name": contact.case.name,
        })
    }

    /// `existingMessageLog`: core's row as it reads it.
    pub(super) fn existing(&self, row: &Row) -> Value {
        json!({
            "id": row.id,
            "platform": self.core.account.platform,
            "conversationId": row.conversation_id,
            "thirdPartyLogId": row.third_party_log_id,
            "userId": self.core.account.user_id(),
            "conversationLogId": row.conversation_log_id,
        })
    }

    pub(super) fn content_uri(&self, index: usize, attachment: u32) -> String {
        let id = self.case.message_id(index);
        if attachment == 0 {
            format!("{MEDIA}/{id}/content/{id}")
        } else {
            format!("{MEDIA}/{id}/content/{id}{attachment:03}")
        }
    }

    /// The RingCentral message record the client sends, as core passes it
    /// on (a group SMS's id made text and suffixed, as core does).
    pub(super) fn message(&self, contact: usize, index: usize) -> Value {
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
    pub(super) fn links(&self, index: usize) -> Map<String, Value> {
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
    pub(super) fn create_args(&self, contact: usize, index: usize, auth: &str) -> Value {
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
    pub(super) fn update_args(&self, contact: usize, index: usize, row: &Row, auth: &str) -> Value {
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
    pub(super) fn shared_content(
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
            Stop::Fatal(crate::contract::plan::RunError::Crm(format!(
                "cannot build the shared-SMS conversation core composes: {error}"
            )))
        })?;
        let options = SharedSmsOptions::default()
            .with_host_zone(self.core.plan.compose.host_zone)
            .with_now(chrono::DateTime::from_timestamp_millis(FIRST_DAY_MS).unwrap_or_default());
        let log = compose::compose_shared_sms(&request, &options).map_err(|error| {
            Stop::Fatal(crate::contract::plan::RunError::Crm(format!(
                "cannot compose the shared-SMS conversation: {error}"
            )))
        })?;
        Ok(json!({"subject": log.subject, "body": log.body}))
    }

    pub(super) fn creation_ms(&self, index: usize) -> i64 {
        let day = i64::from(self.case.messages[index].day.min(1));
        let minutes = 7 * i64::try_from(index).unwrap_or(0);
        FIRST_DAY_MS + day * 86_400_000 + (14 * 60 + minutes) * 60_000 + 9_000
    }
}

/// RingCentral's media reader link for a content URI, as App Connect's
/// client and core (`getMediaReaderLinkByPlatformMediaLink`) write it.
pub(super) fn media_reader(uri: &str) -> String {
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
