//! The durable outbound queue and what happens to a job.

use std::time::Duration;

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, Scan, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::blob_refs::Releases;
use crate::codec::{decode, encode};
use crate::delivery::accept::BlobRef;
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::model::Message;
use crate::model::message::SendState;
use crate::model::notification::TtlClass;
use crate::service::notifications::{NewNotification, notification, put_notification};
use crate::tables::{MESSAGES, OUTBOUND};
use crate::{Core, now};

/// One message waiting to be handed to the relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundJob {
    pub id: Uuid,
    pub user_id: Uuid,
    pub message_id: Uuid,
    /// The rendered message.
    pub raw: BlobRef,
    /// SMTP envelope sender.
    pub envelope_from: String,
    /// SMTP envelope recipients (To, Cc and Bcc).
    pub recipients: Vec<String>,
    pub queued_at: DateTime<Utc>,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
}

/// How the relay answered, as the SMTP client reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayOutcome {
    Sent,
    /// Worth retrying (4xx, connection failure, timeout).
    Transient(String),
    /// Retrying cannot help (5xx).
    Permanent(String),
    /// No relay to try: the job waits and says why.
    NoRelay(String),
}

/// Attempts before a transiently failing message bounces.
const MAX_ATTEMPTS: u32 = 12;
const RETRY_BASE: Duration = Duration::from_secs(30);
const RETRY_MAX: Duration = Duration::from_secs(3600);
/// How often a queue without a relay is looked at again.
const NO_RELAY_RECHECK: Duration = Duration::from_secs(60);

impl Core {
    /// Jobs whose next attempt is due, oldest first, of the users this node owns
    /// (so that two nodes never send one job).
    pub async fn due_outbound(&self, limit: usize) -> CoreResult<Vec<OutboundJob>> {
        let mut due = Vec::new();
        let mut after = None;
        let current = now();
        loop {
            let page = self
                .stores()
                .records
                .scan(OUTBOUND, Scope::Global, Scan::all(512).after(after))
                .await?;
            for (_, v) in &page.items {
                let job: OutboundJob = decode(OUTBOUND.name, v)?;
                if job.next_attempt_at <= current && self.owns(job.user_id) {
                    due.push(job);
                    if due.len() >= limit {
                        return Ok(due);
                    }
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(due),
            }
        }
    }

    /// Every queued job (for operators and tests).
    pub async fn outbound_queue(&self) -> CoreResult<Vec<OutboundJob>> {
        self.scan_decoded(OUTBOUND, Scope::Global).await
    }

    /// The bytes of a job's message.
    pub async fn outbound_raw(&self, job: &OutboundJob) -> CoreResult<Vec<u8>> {
        self.stores()
            .blobs
            .get(&job.raw.0)
            .await?
            .ok_or_else(|| CoreError::not_found("outbound message bytes", job.raw.0))
    }

    /// Waits until a job may be due (woken by `send_draft`), at most `max`.
    pub async fn wait_for_outbound(&self, max: Duration) {
        let _ = tokio::time::timeout(max, self.inner.outbound_wake.notified()).await;
    }

    /// Records what the relay said about a job.
    #[tracing::instrument(skip(self, job), fields(job = %job.id, message = %job.message_id))]
    pub async fn outbound_result(
        &self,
        job: &OutboundJob,
        outcome: RelayOutcome,
    ) -> CoreResult<()> {
        let _guard = self.lock_user(job.user_id).await;
        let scope = Scope::User(job.user_id);
        let mut message: Option<Message> = match self
            .stores()
            .records
            .get(MESSAGES, scope, job.message_id.as_bytes())
            .await?
        {
            Some(bytes) => Some(decode(MESSAGES.name, &bytes)?),
            None => None,
        };
        let mut batch = Batch::new();
        let mut releases = Releases::default();
        let mut next = job.clone();
        let state = match &outcome {
            RelayOutcome::Sent => {
                batch.delete(OUTBOUND, Scope::Global, job.id.as_bytes().to_vec());
                releases.drop_ref(&mut batch, job.raw.0);
                tracing::info!(recipients = job.recipients.len(), "message sent");
                SendState::Sent { at: now() }
            }
            RelayOutcome::Permanent(reason) => {
                batch.delete(OUTBOUND, Scope::Global, job.id.as_bytes().to_vec());
                releases.drop_ref(&mut batch, job.raw.0);
                tracing::warn!(reason, "message bounced");
                SendState::Bounced {
                    reason: reason.clone(),
                }
            }
            RelayOutcome::Transient(reason) if job.attempts + 1 >= MAX_ATTEMPTS => {
                batch.delete(OUTBOUND, Scope::Global, job.id.as_bytes().to_vec());
                releases.drop_ref(&mut batch, job.raw.0);
                SendState::Bounced {
                    reason: format!("{reason} (gave up after {} attempts)", job.attempts + 1),
                }
            }
            RelayOutcome::Transient(reason) => {
                next.attempts += 1;
                let delay = RETRY_BASE
                    .saturating_mul(2u32.saturating_pow(next.attempts - 1))
                    .min(RETRY_MAX);
                next.next_attempt_at = now()
                    + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::minutes(1));
                next.last_error = Some(reason.clone());
                batch.put(
                    OUTBOUND,
                    Scope::Global,
                    job.id.as_bytes().to_vec(),
                    encode(&next),
                );
                tracing::warn!(reason, ?delay, "relay failed, will retry");
                SendState::Queued {
                    reason: Some(reason.clone()),
                }
            }
            RelayOutcome::NoRelay(reason) => {
                next.next_attempt_at = now()
                    + chrono::Duration::from_std(NO_RELAY_RECHECK)
                        .unwrap_or(chrono::Duration::minutes(1));
                next.last_error = Some(reason.clone());
                batch.put(
                    OUTBOUND,
                    Scope::Global,
                    job.id.as_bytes().to_vec(),
                    encode(&next),
                );
                SendState::Queued {
                    reason: Some(reason.clone()),
                }
            }
        };
        if let Some(m) = message.as_mut()
            && m.send_state.as_ref() != Some(&state)
        {
            m.send_state = Some(state.clone());
            crate::indexes::put_message(&mut batch, scope, Some(m.date_sort), m);
            outbox(
                &mut batch,
                &IndexOp::Upsert(Document::Message(message_document(m))),
            );
        }
        // The bounce notice goes in the same batch as the state it reports.
        if let (SendState::Bounced { reason }, Some(m)) = (&state, &message) {
            let body = bounce_notice(&m.subject, reason);
            let notice = notification(
                job.user_id,
                NewNotification {
                    emitter: "outbound".into(),
                    kind: "alert".into(),
                    reference: m.id.to_string(),
                    body,
                    ttl: TtlClass::Long,
                },
            )?;
            put_notification(&mut batch, &notice);
        }
        self.stores().records.write(batch).await?;
        releases.release(self).await;
        self.wake_indexer();
        Ok(())
    }
}

/// The body of a bounce notification. What the relay said is not ours to trust: it is
/// made valid notification text (no control characters, at most 4096 characters), so
/// that the notice can never fail the batch that records the bounce.
fn bounce_notice(subject: &str, reason: &str) -> String {
    let mut body: String = format!("your message `{subject}` could not be delivered: {reason}")
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    truncate_chars(&mut body, 4096);
    body
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
fn truncate_chars(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bounce_notice_is_always_valid_notification_text() {
        let hostile = format!("550 5.1.1 no\r\nsuch\u{0}user {}", "é".repeat(5000));
        let body = bounce_notice("hello", &hostile);
        assert!(
            body.starts_with(
                "your message `hello` could not be delivered: 550 5.1.1 no \nsuch user"
            )
        );
        assert!(body.len() <= 4096);
        let notice = notification(
            Uuid::nil(),
            NewNotification {
                emitter: "outbound".into(),
                kind: "alert".into(),
                reference: "x".into(),
                body,
                ttl: TtlClass::Long,
            },
        );
        assert!(notice.is_ok(), "{notice:?}");
    }
}
