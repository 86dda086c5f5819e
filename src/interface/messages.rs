//! `createMessageLog` and `updateMessageLog` as data: the arguments App
//! Connect's core hands a connector for one message of a conversation (or
//! a shared-SMS conversation core composed), and what the connector
//! answers. Fields mockcrm does not read are kept in `extra` and written
//! back; nothing is rejected for being unknown.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use super::{lenient_string, ContactInfo, ReturnMessage, User};

/// Everything core hands `createMessageLog` or `updateMessageLog`
/// (`packages/core/handlers/log.ts`). An update also carries
/// `existingMessageLog`; a shared-SMS conversation carries
/// `sharedSMSLogContent` instead of a `message`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageLogInput {
    pub user: Option<User>,
    #[serde(default)]
    pub contact_info: ContactInfo,
    /// A group SMS's other contacts, each the list of contacts core found
    /// for one number (the first is the one shown).
    pub correspondents: Option<Vec<Value>>,
    pub assignee_name: Option<String>,
    pub owner_name: Option<String>,
    pub auth_header: Option<String>,
    pub message: Option<MessageRecord>,
    #[serde(rename = "sharedSMSLogContent")]
    pub shared_sms_log_content: Option<SharedSmsLogContent>,
    pub existing_message_log: Option<ExistingMessageLog>,
    pub additional_submission: Option<Value>,
    pub recording_link: Option<String>,
    pub fax_doc_link: Option<String>,
    pub fax_download_link: Option<String>,
    pub image_link: Option<String>,
    pub image_download_link: Option<String>,
    pub image_content_type: Option<String>,
    pub video_link: Option<String>,
    pub proxy_config: Option<Value>,
    pub hashed_account_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A RingCentral message-store record (SMS, MMS, voicemail, fax). Core has
/// already suffixed a group SMS's id with `-<contactId>`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub conversation_id: Option<String>,
    /// `SMS`, `Pager`, `VoiceMail`, `Fax`.
    #[serde(rename = "type")]
    pub message_type: Option<String>,
    /// `Inbound` or `Outbound`.
    pub direction: Option<String>,
    /// ISO 8601, as the message store writes it.
    pub creation_time: Option<String>,
    /// The text of an SMS.
    pub subject: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What core's shared-SMS composer gave: the log's subject and body.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedSmsLogContent {
    pub subject: Option<String>,
    pub body: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Core's row for a logged message (`MessageLogModel`): the log it went
/// into is `thirdPartyLogId`, what the connector's create answered.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExistingMessageLog {
    #[serde(default, deserialize_with = "lenient_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub third_party_log_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub conversation_id: Option<String>,
    pub conversation_log_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What `createMessageLog` answers. No `logId` means the log failed.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMessageLogOutput {
    pub log_id: Option<String>,
    pub return_message: Option<ReturnMessage>,
}

/// What `updateMessageLog` answers: a success message, or a warning when
/// the message did not go in.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMessageLogOutput {
    pub return_message: Option<ReturnMessage>,
}
