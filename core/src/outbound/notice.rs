//! Mail the server itself sends on a user's behalf (an identity's confirmation
//! code, a device's validation token): a plain-text message from
//! `no-reply@<default domain>` (a reserved name no user can take), put in the
//! durable outbound queue as a draft's mail is, or, when it is for a mailbox of
//! this server, accepted through the delivery path (it lands in that inbox);
//! either way counted in the user's sending limit.

use caliopen_storage_traits::{Batch, Scope};
use uuid::Uuid;

use super::queue::OutboundJob;
use crate::codec::encode;
use crate::delivery::accept::BlobRef;
use crate::error::CoreResult;
use crate::tables::OUTBOUND;
use crate::{Core, now};

/// A notice to one address. Every field must be header-safe: the callers pass
/// validated addresses and their own text (no CR or LF).
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub user_id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Core {
    /// Stores a notice's bytes and adds, to `batch`, its job in the outbound queue;
    /// the caller writes the batch (with what the notice is about), then calls
    /// [`Core::wake_outbound`]. Counted in the user's sending limit first.
    pub(crate) async fn queue_notice(&self, batch: &mut Batch, notice: Notice) -> CoreResult<()> {
        self.take_send(notice.user_id, 1).await?;
        let (id, from, raw) = self.render_notice(&notice);
        let date = now();
        let blob = self.stores().blobs.put(raw.as_bytes()).await?;
        let job = OutboundJob {
            id,
            user_id: notice.user_id,
            // No message of the user stands for a notice: the job's outcome
            // updates nothing but the queue.
            message_id: id,
            raw: BlobRef(blob),
            envelope_from: from,
            recipients: vec![notice.to],
            queued_at: date,
            attempts: 0,
            next_attempt_at: date,
            last_error: None,
        };
        batch.put(
            OUTBOUND,
            Scope::Global,
            job.id.as_bytes().to_vec(),
            encode(&job),
        );
        Ok(())
    }

    /// Sends a notice on its own: to a mailbox of this server through the delivery
    /// path, else through the outbound queue (the SMTP client is woken).
    pub(crate) async fn send_notice(&self, notice: Notice) -> CoreResult<()> {
        if let Some(recipient) = self.resolve_recipient(&notice.to).await? {
            self.take_send(notice.user_id, 1).await?;
            let (_, from, raw) = self.render_notice(&notice);
            self.accept_mail(raw.as_bytes(), &from, &[recipient])
                .await?;
            return Ok(());
        }
        let mut batch = Batch::new();
        self.queue_notice(&mut batch, notice).await?;
        self.stores().records.write(batch).await?;
        self.wake_outbound();
        Ok(())
    }

    /// A notice's Message-ID part, sender and raw mail.
    fn render_notice(&self, notice: &Notice) -> (Uuid, String, String) {
        let domain = &self.config().default_domain;
        let from = format!("no-reply@{domain}");
        let date = now();
        let id = Uuid::now_v7();
        let raw = format!(
            "From: Caliopen <{from}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nDate: {date}\r\n\
             Message-ID: <{id}@{domain}>\r\nAuto-Submitted: auto-generated\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: 8bit\r\n\r\n{body}",
            to = notice.to,
            subject = notice.subject,
            date = date.to_rfc2822(),
            body = notice.body.replace('\n', "\r\n"),
        );
        (id, from, raw)
    }

    /// Wakes the SMTP client after a job was written.
    pub(crate) fn wake_outbound(&self) {
        self.inner.outbound_wake.notify_one();
    }
}
