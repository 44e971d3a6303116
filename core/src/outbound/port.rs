//! The port through which core has a draft rendered into a message ready for SMTP.
//! The runtime implements it with the broker component's `outbound` export.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::context::UserContext;
use crate::delivery::ProcessingError;
use crate::model::Participant;
use crate::model::message::ExternalReferences;

/// A file attached to an outgoing message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundAttachment {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A draft as the renderer needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundDraft {
    pub from: Participant,
    /// To, Cc, Bcc and Reply-To participants.
    pub participants: Vec<Participant>,
    pub subject: String,
    pub body_plain: String,
    pub body_html: Option<String>,
    /// Without angle brackets.
    pub message_id: String,
    /// The answered message's references, for In-Reply-To and References.
    pub parent: Option<ExternalReferences>,
    pub date: DateTime<Utc>,
    pub attachments: Vec<OutboundAttachment>,
}

/// Renders drafts into RFC 5322 bytes.
#[async_trait]
pub trait OutboundRenderer: Send + Sync + fmt::Debug {
    async fn render(
        &self,
        user: UserContext,
        draft: OutboundDraft,
    ) -> Result<Vec<u8>, ProcessingError>;
}
