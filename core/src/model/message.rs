//! Messages: what a user received or wrote, as Caliopen understands it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Pi;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ParticipantRole {
    From,
    To,
    Cc,
    Bcc,
    #[serde(rename = "Reply-To")]
    ReplyTo,
    Sender,
    #[serde(rename = "List-ID")]
    ListId,
}

impl ParticipantRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::From => "From",
            Self::To => "To",
            Self::Cc => "Cc",
            Self::Bcc => "Bcc",
            Self::ReplyTo => "Reply-To",
            Self::Sender => "Sender",
            Self::ListId => "List-ID",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "From" => Self::From,
            "To" => Self::To,
            "Cc" => Self::Cc,
            "Bcc" => Self::Bcc,
            "Reply-To" => Self::ReplyTo,
            "Sender" => Self::Sender,
            "List-ID" => Self::ListId,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub role: ParticipantRole,
    pub protocol: String,
    /// Lower case.
    pub address: String,
    pub label: String,
    /// The recipient's contacts that own this address.
    #[serde(default)]
    pub contact_ids: Vec<Uuid>,
}

impl Participant {
    /// `protocol:address`, the form discussion ids are computed from.
    pub fn uri(&self) -> String {
        format!("{}:{}", self.protocol, self.address)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Position among the message's attachments; what the API calls the attachment id.
    pub index: u32,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub is_inline: bool,
    pub content_id: Option<String>,
    /// Leaf part index in the raw mail (received mail) ...
    pub part_index: Option<u32>,
    /// ... or the blob holding the content (attachments uploaded to a draft).
    pub blob: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalReferences {
    pub message_id: Option<String>,
    pub parent_id: Option<String>,
    #[serde(default)]
    pub ancestors_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtmlSafety {
    pub has_scripts: bool,
    pub has_remote_content: bool,
    pub has_forms: bool,
}

/// One rule of one qualifier that fired on the message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleHit {
    pub qualifier: String,
    pub rule: String,
    pub contribution: f32,
    pub detail: String,
}

/// How the qualifier chain judged the message, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Qualification {
    pub is_spam: bool,
    pub spam_score: Option<f32>,
    pub rules: Vec<RuleHit>,
    /// Qualifiers that failed and were skipped by their slot's policy.
    #[serde(default)]
    pub not_qualified_by: Vec<String>,
    /// `name@version` of every qualifier that ran.
    #[serde(default)]
    pub qualified_by: Vec<String>,
}

/// Where an outgoing message stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum SendState {
    Queued { reason: Option<String> },
    Sent { at: DateTime<Utc> },
    Bounced { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: Uuid,
    pub user_id: Uuid,
    pub discussion_id: String,
    pub protocol: String,
    pub subject: String,
    /// The date the sender gave.
    pub date: DateTime<Utc>,
    /// When Caliopen stored it.
    pub date_insert: DateTime<Utc>,
    /// What lists sort on: reception (or last edit of a draft).
    pub date_sort: DateTime<Utc>,
    pub participants: Vec<Participant>,
    pub body_plain: Option<String>,
    pub body_html: Option<String>,
    #[serde(default)]
    pub html_safety: HtmlSafety,
    pub attachments: Vec<Attachment>,
    pub external_references: ExternalReferences,
    /// −10..10.
    pub importance_level: i8,
    pub pi: Option<Pi>,
    /// Privacy features as the original named them (`message_encrypted`, ...).
    pub privacy_features: BTreeMap<String, String>,
    pub tags: Vec<String>,
    pub is_unread: bool,
    pub is_draft: bool,
    pub is_answered: bool,
    pub is_received: bool,
    /// The raw mail blob (hex SHA-256), for received and sent mail.
    pub raw_msg_id: Option<String>,
    /// The identities this message was received on or sent from.
    pub user_identities: Vec<Uuid>,
    /// For replies written here: the message answered.
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub qualification: Qualification,
    #[serde(default)]
    pub problems: Vec<String>,
    pub send_state: Option<SendState>,
}

impl Message {
    /// A short plain-text preview of the body.
    pub fn excerpt(&self, max_chars: usize) -> String {
        match (&self.body_plain, &self.body_html) {
            (Some(p), _) if !p.trim().is_empty() => crate::text::excerpt(p, max_chars),
            (_, Some(h)) => crate::text::excerpt(&crate::text::html_to_text(h), max_chars),
            _ => String::new(),
        }
    }
}
