//! Received mail for the REST tests: core's real delivery pipeline (accept,
//! queue, workers, store) with a small [`MailProcessor`] in place of the wasm
//! component chain: it parses the mail with `mail-parser` and reads the
//! subject, date, addresses, plain body and attachments (with the leaf part index the
//! parser component gives them), and `X-Importance: n` as the importance level
//! a qualifier would give; no qualifier runs.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caliopen_core::context::UserContext;
use caliopen_core::delivery::{
    DeliveryWorkers, InboundMessage, MailProcessor, MergedVerdict, ProcessedMail, ProcessingError,
};
use caliopen_core::model::message::{Attachment, ExternalReferences};
use caliopen_core::model::{Message, Participant, ParticipantRole};
use caliopen_core::service::attachments::{PartError, PartReader};
use caliopen_core::service::messages::MessageFilter;
use chrono::{DateTime, Utc};
use mail_parser::{Address, MessageParser, MimeHeaders, PartType};

use super::{Session, TestApp};

/// The delivery workers of a [`TestApp`]; stopped when dropped.
#[derive(Debug)]
pub struct Delivery(DeliveryWorkers);

impl Drop for Delivery {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl TestApp {
    /// Starts the delivery workers (keep the answer alive while delivering).
    pub fn start_delivery(&self) -> Delivery {
        let processor: Arc<dyn MailProcessor> = Arc::new(MimeReader);
        self.core.set_part_reader(Arc::new(LeafReader));
        Delivery(self.core.spawn_delivery_workers(&processor))
    }

    /// Delivers `raw` (with `\n` line ends) to `to`'s local address, waits for
    /// the pipeline and answers the stored message (found by its subject).
    pub async fn deliver(&self, to: &Session, raw: &str) -> Message {
        let raw = raw.replace('\n', "\r\n");
        let user = self.core.user(to.user_id).await.expect("the user");
        let recipient = self
            .core
            .resolve_recipient(&user.local_identity)
            .await
            .expect("resolve")
            .expect("a local recipient");
        self.core
            .accept_mail(raw.as_bytes(), "sender@example.org", &[recipient])
            .await
            .expect("accepted");
        for _ in 0..500 {
            if self.core.pending_deliveries().await.unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let quarantined = self.core.quarantined().await.unwrap();
        assert!(quarantined.is_empty(), "quarantined: {quarantined:?}");
        let subject = MessageParser::default()
            .parse(raw.as_bytes())
            .and_then(|m| m.subject().map(str::to_owned))
            .unwrap_or_default();
        let filter = MessageFilter {
            limit: 10_000,
            ..MessageFilter::default()
        };
        let (_, all) = self.core.list_messages(to.user_id, &filter).await.unwrap();
        all.into_iter()
            .find(|m| m.subject == subject && m.is_received)
            .expect("the delivered message")
    }
}

#[derive(Debug)]
struct MimeReader;

#[async_trait]
impl MailProcessor for MimeReader {
    async fn process_inbound(
        &self,
        _user: UserContext,
        raw: Arc<Vec<u8>>,
        _received_at: DateTime<Utc>,
    ) -> Result<ProcessedMail, ProcessingError> {
        let mail = MessageParser::default()
            .parse(raw.as_slice())
            .ok_or_else(|| ProcessingError::Permanent {
                stage: "test-reader".into(),
                reason: "not a mail".into(),
            })?;
        let mut participants = Vec::new();
        for (role, addresses) in [
            (ParticipantRole::From, mail.from()),
            (ParticipantRole::To, mail.to()),
            (ParticipantRole::Cc, mail.cc()),
        ] {
            participants.extend(addresses.into_iter().flat_map(|a| people(role, a)));
        }
        let message = InboundMessage {
            subject: mail.subject().unwrap_or_default().to_owned(),
            // As the broker: the Date header when it parses, else none (core
            // then takes the reception time).
            date: mail
                .date()
                .and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0)),
            participants,
            body_plain: mail.body_text(0).map(|b| b.into_owned()),
            attachments: attachments(&mail),
            external_references: ExternalReferences {
                message_id: mail.message_id().map(str::to_owned),
                ..ExternalReferences::default()
            },
            ..InboundMessage::default()
        };
        // As core's test chain: `X-Importance: n` sets the importance level.
        let importance_level = mail
            .header_raw("X-Importance")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        Ok(ProcessedMail {
            message,
            verdict: MergedVerdict {
                importance_level,
                ..MergedVerdict::default()
            },
        })
    }
}

fn people(role: ParticipantRole, a: &Address<'_>) -> Vec<Participant> {
    a.iter()
        .filter_map(|addr| {
            Some(Participant {
                role,
                protocol: "email".into(),
                address: addr.address()?.to_lowercase(),
                label: addr.name().unwrap_or_default().to_owned(),
                contact_ids: Vec::new(),
            })
        })
        .collect()
}

/// Leaves numbered depth first from the root (multiparts are not leaves); the
/// ones with `Content-Disposition: attachment` are attachments.
fn attachments(mail: &mail_parser::Message<'_>) -> Vec<Attachment> {
    let mut out = Vec::new();
    let mut stack = vec![0u32];
    let mut leaf = 0u32;
    while let Some(id) = stack.pop() {
        let Some(part) = mail.parts.get(id as usize) else {
            continue;
        };
        if let PartType::Multipart(children) = &part.body {
            stack.extend(children.iter().rev());
            continue;
        }
        if part
            .content_disposition()
            .is_some_and(|d| d.is_attachment())
        {
            let content_type = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{sub}", ct.ctype()),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_default();
            out.push(Attachment {
                index: out.len() as u32,
                file_name: part.attachment_name().unwrap_or_default().to_owned(),
                content_type,
                size: part.contents().len() as u64,
                is_inline: false,
                content_id: None,
                part_index: Some(leaf),
                blob: None,
            });
        }
        leaf += 1;
    }
    out
}

/// In place of the broker component's `outbound` export: renders a draft as a
/// plain-text RFC 5322 message (no attachments).
#[derive(Debug)]
pub struct PlainRenderer;

#[async_trait]
impl caliopen_core::outbound::OutboundRenderer for PlainRenderer {
    async fn render(
        &self,
        _user: UserContext,
        draft: caliopen_core::outbound::OutboundDraft,
    ) -> Result<Vec<u8>, ProcessingError> {
        let address = |p: &Participant| format!("{} <{}>", p.label, p.address);
        let to: Vec<String> = draft
            .participants
            .iter()
            .filter(|p| p.role == ParticipantRole::To)
            .map(address)
            .collect();
        Ok(format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: <{}>\r\nDate: {}\r\n\r\n{}\r\n",
            address(&draft.from),
            to.join(", "),
            draft.subject,
            draft.message_id,
            draft.date.to_rfc2822(),
            draft.body_plain,
        )
        .into_bytes())
    }
}

impl TestApp {
    /// Lets core render drafts to send (with [`PlainRenderer`]).
    pub fn render_outbound_mail(&self) {
        self.core.set_outbound_renderer(Arc::new(PlainRenderer));
    }
}

/// Reads attachments for these in-process tests the way [`MimeReader`] numbers
/// them (leaves in depth-first order); the server reads them with the parser
/// component (runtime/tests/attachments.rs).
#[derive(Debug)]
struct LeafReader;

#[async_trait]
impl PartReader for LeafReader {
    async fn read_part(&self, raw: Vec<u8>, wanted: u32) -> Result<Option<Vec<u8>>, PartError> {
        let Some(message) = MessageParser::default().parse(&raw) else {
            return Ok(None);
        };
        let (mut stack, mut leaf) = (vec![0u32], 0u32);
        while let Some(id) = stack.pop() {
            let Some(part) = message.parts.get(id as usize) else {
                continue;
            };
            if let PartType::Multipart(children) = &part.body {
                stack.extend(children.iter().rev());
                continue;
            }
            if leaf == wanted {
                return Ok(Some(part.contents().to_vec()));
            }
            leaf += 1;
        }
        Ok(None)
    }
}
