//! The port through which core has a raw mail turned into a qualified message.
//! The runtime implements it with the parser, broker and qualifier components;
//! core only sees plain Rust types.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::context::UserContext;
use crate::model::message::{Attachment, ExternalReferences, HtmlSafety, RuleHit};
use crate::model::{Participant, Pi};

/// A message as the broker made it, before core stores it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InboundMessage {
    pub subject: String,
    pub date: Option<DateTime<Utc>>,
    pub participants: Vec<Participant>,
    pub body_plain: Option<String>,
    pub body_html: Option<String>,
    pub html_safety: HtmlSafety,
    pub attachments: Vec<Attachment>,
    pub external_references: ExternalReferences,
    /// What the discussion id is hashed from.
    pub discussion_key: String,
    pub privacy_features: BTreeMap<String, String>,
    pub problems: Vec<String>,
}

/// What the qualifier chain concluded, merged in chain order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedVerdict {
    pub pi: Option<Pi>,
    pub importance_level: i8,
    pub is_spam: bool,
    pub spam_score: Option<f32>,
    pub tags: Vec<String>,
    pub rules: Vec<RuleHit>,
    pub qualified_by: Vec<String>,
    pub not_qualified_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedMail {
    pub message: InboundMessage,
    pub verdict: MergedVerdict,
}

/// Why processing failed, and what core should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessingError {
    /// Try again later (with backoff); quarantined after the last attempt.
    #[error("{stage} failed (will retry): {reason}")]
    Transient { stage: String, reason: String },
    /// Retrying cannot help: quarantine now, for an operator to look at.
    #[error("{stage} failed: {reason}")]
    Permanent { stage: String, reason: String },
}

/// How a mail reached us, for the checks that need it (SPF, DMARC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    pub received_at: DateTime<Utc>,
    /// The envelope sender, empty for bounces.
    pub mail_from: String,
    /// The SMTP client (its address and HELO name) when it spoke to us directly;
    /// none behind an MTA (LMTP), whose own `Received` field names the client.
    pub client: Option<(IpAddr, String)>,
    /// Brought in by an import: old mail, whose senders are not checked against
    /// today's DNS (keys rotated, records changed since it was received).
    pub imported: bool,
}

/// Turns a raw mail into a processed message for one user.
#[async_trait]
pub trait MailProcessor: Send + Sync + fmt::Debug {
    async fn process_inbound(
        &self,
        user: UserContext,
        raw: Arc<Vec<u8>>,
        received_at: DateTime<Utc>,
    ) -> Result<ProcessedMail, ProcessingError>;

    /// [`Self::process_inbound`], knowing how the mail arrived; what delivery
    /// calls. A processor that checks the sender (the runtime's verifies DKIM,
    /// SPF and DMARC) overrides it.
    async fn process_arrival(
        &self,
        user: UserContext,
        raw: Arc<Vec<u8>>,
        arrival: &Arrival,
    ) -> Result<ProcessedMail, ProcessingError> {
        self.process_inbound(user, raw, arrival.received_at).await
    }
}
