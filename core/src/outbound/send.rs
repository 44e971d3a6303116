//! Sending a draft.

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, BlobId, Scope};
use uuid::Uuid;

use super::port::{OutboundAttachment, OutboundDraft};
use super::queue::OutboundJob;
use crate::blob_refs::add_ref;
use crate::codec::encode;
use crate::context::UserContext;
use crate::delivery::ProcessingError;
use crate::delivery::accept::BlobRef;
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::indexes::put_message;
use crate::model::message::SendState;
use crate::model::{Message, Participant, ParticipantRole};
use crate::tables::{MSGID_INDEX, OUTBOUND, RAW_INDEX, msgid_key};
use crate::{Core, now};

impl Core {
    /// Sends a draft: checks that its identity may send and that the user has
    /// sending allowance left, renders it, stores the bytes, turns the draft into a
    /// sent message (state `queued`, still in its discussion) and queues it for the
    /// relay, all in one batch. The answer is the message as stored.
    #[tracing::instrument(skip(self), fields(user = %user_id, message = %message_id))]
    pub async fn send_draft(&self, user_id: Uuid, message_id: Uuid) -> CoreResult<Message> {
        let renderer = self.inner.renderer.get().cloned().ok_or_else(|| {
            CoreError::NotConfigured(
                "no broker component renders outgoing mail on this node".into(),
            )
        })?;
        let _guard = self.lock_user(user_id).await;
        let mut message = self.message(user_id, message_id).await?;
        if !message.is_draft {
            return Err(CoreError::Conflict(
                "this message was already sent or received; only drafts are sent".into(),
            ));
        }
        let draft = self.outbound_draft(user_id, &message).await?;
        // Replies to the sent copy thread on the Message-ID it went out with.
        message.external_references.message_id = Some(draft.message_id.clone());
        let recipients = envelope_recipients(&draft.participants);
        if recipients.is_empty() {
            return Err(CoreError::invalid(
                "participants",
                "a message needs at least one To, Cc or Bcc recipient",
            ));
        }
        self.take_send(user_id, recipients.len()).await?;
        let envelope_from = draft.from.address.clone();
        let context = UserContext::for_user(self, user_id).await?;
        let raw = renderer.render(context, draft).await.map_err(|e| match e {
            ProcessingError::Permanent { reason, .. } => CoreError::invalid("message", reason),
            ProcessingError::Transient { reason, .. } => CoreError::NotConfigured(format!(
                "the broker cannot render mail right now: {reason}"
            )),
        })?;
        let blob = blob_id(&raw).await?;

        let date = now();
        let stored_date = message.date_sort;
        message.is_draft = false;
        message.is_unread = false;
        message.date = date;
        message.date_sort = date;
        message.raw_msg_id = Some(blob.to_string());
        message.send_state = Some(SendState::Queued { reason: None });
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        put_message(&mut batch, scope, Some(stored_date), &message);
        // The sent copy's raw mail can be downloaded, and answers to it find it.
        batch.put(
            RAW_INDEX,
            scope,
            blob.as_bytes().to_vec(),
            message.id.as_bytes().to_vec(),
        );
        if let Some(msgid) = &message.external_references.message_id {
            batch.put(MSGID_INDEX, scope, msgid_key(msgid, message.id), Vec::new());
        }
        outbox(
            &mut batch,
            &IndexOp::Upsert(Document::Message(message_document(&message))),
        );
        self.discussion_batch(&mut batch, &message, false).await?;
        if let Some(parent_id) = message.parent_id
            && let Ok(mut parent) = self.message(user_id, parent_id).await
            && !parent.is_answered
        {
            parent.is_answered = true;
            put_message(&mut batch, scope, Some(parent.date_sort), &parent);
            outbox(
                &mut batch,
                &IndexOp::Upsert(Document::Message(message_document(&parent))),
            );
        }
        let job = OutboundJob {
            id: Uuid::now_v7(),
            user_id,
            message_id,
            raw: BlobRef(blob),
            envelope_from,
            recipients,
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
        // The sent copy and the job each point at the rendered mail, written with it.
        add_ref(&mut batch, blob);
        add_ref(&mut batch, blob);
        let stores = self.stores();
        stores
            .blobs
            .put_then_write(&raw, stores.records.as_ref(), Box::new(move |_| batch))
            .await?;
        self.wake_indexer();
        self.inner.outbound_wake.notify_one();
        tracing::info!(job = %job.id, recipients = job.recipients.len(), size = raw.len(), "message queued for sending");
        Ok(message)
    }

    /// What the renderer gets for a draft: the sending identity, the recipients,
    /// the bodies, the parent's references and the attached files.
    async fn outbound_draft(&self, user_id: Uuid, message: &Message) -> CoreResult<OutboundDraft> {
        let identity_id = message.user_identities.first().copied().ok_or_else(|| {
            CoreError::invalid(
                "user_identities",
                "a draft is sent from one of the user's identities",
            )
        })?;
        let identity = self.identity(user_id, identity_id).await?;
        self.check_sender(user_id, &identity).await?;
        let from = Participant {
            role: ParticipantRole::From,
            protocol: "email".into(),
            address: identity.identifier.clone(),
            label: identity.display_name.clone(),
            contact_ids: Vec::new(),
        };
        let participants = message
            .participants
            .iter()
            .filter(|p| {
                matches!(
                    p.role,
                    ParticipantRole::To
                        | ParticipantRole::Cc
                        | ParticipantRole::Bcc
                        | ParticipantRole::ReplyTo
                )
            })
            .cloned()
            .collect();
        let parent = match message.parent_id {
            Some(id) => Some(self.message(user_id, id).await?.external_references),
            None => None,
        };
        let mut attachments = Vec::with_capacity(message.attachments.len());
        for a in &message.attachments {
            let Some(blob) = &a.blob else { continue };
            let id: BlobId = blob.parse()?;
            let content = self
                .stores()
                .blobs
                .get(&id)
                .await?
                .ok_or_else(|| CoreError::not_found("attachment content", &a.file_name))?;
            attachments.push(OutboundAttachment {
                file_name: a.file_name.clone(),
                content_type: a.content_type.clone(),
                content,
            });
        }
        let message_id = message
            .external_references
            .message_id
            .clone()
            .unwrap_or_else(|| format!("{}@{}", message.id, self.config().default_domain));
        let (body_plain, body_html) = if pgp_encrypted(message) {
            (encrypted_body(message, &attachments)?, None)
        } else {
            let plain = message.body_plain.clone().unwrap_or_else(|| {
                message
                    .body_html
                    .as_deref()
                    .map(crate::text::html_to_text)
                    .unwrap_or_default()
            });
            (plain, message.body_html.clone())
        };
        Ok(OutboundDraft {
            from,
            participants,
            subject: message.subject.clone(),
            body_plain,
            body_html,
            message_id,
            parent,
            date: now(),
            attachments,
        })
    }
}

/// Whether the client encrypted the draft with OpenPGP: its privacy features say
/// method `pgp` and `message_encrypted` `True`, as the web client sets them
/// (`web/store/middlewares/encryption-middleware.js`). Such a draft goes out as
/// PGP/MIME, as the original's broker sent it (`go.emails/email.go`,
/// `encrypt.go`): the broker renders a lone armored message as RFC 3156.
fn pgp_encrypted(message: &Message) -> bool {
    let feature = |name: &str| message.privacy_features.get(name).map(String::as_str);
    feature("message_encryption_method") == Some("pgp")
        && feature("message_encrypted") == Some("True")
}

/// The armored OpenPGP message an encrypted draft carries as its body. Anything
/// else would go out in the clear under a flag that says it is encrypted, and
/// attachments would go unencrypted beside it (the original dropped them
/// silently): both are refused.
fn encrypted_body(message: &Message, attachments: &[OutboundAttachment]) -> CoreResult<String> {
    const BEGIN: &str = "-----BEGIN PGP MESSAGE-----";
    const END: &str = "-----END PGP MESSAGE-----";
    let body = message.body_plain.as_deref().unwrap_or_default().trim();
    let lone = body.starts_with(BEGIN)
        && body.ends_with(END)
        && body.matches(BEGIN).count() == 1
        && body.is_ascii();
    if !lone {
        return Err(CoreError::invalid(
            "body",
            "an encrypted draft's body must be one ASCII-armored OpenPGP message",
        ));
    }
    if !attachments.is_empty() {
        return Err(CoreError::invalid(
            "attachments",
            "an encrypted draft cannot carry attachments: they would go unencrypted",
        ));
    }
    Ok(format!("{body}\n"))
}

/// The id `data` will have as a blob, hashed off the async threads when large.
pub(crate) async fn blob_id(data: &[u8]) -> CoreResult<BlobId> {
    if data.len() < 256 * 1024 {
        return Ok(BlobId::of(data));
    }
    let data = data.to_vec();
    tokio::task::spawn_blocking(move || BlobId::of(&data))
        .await
        .map_err(|e| CoreError::NotConfigured(format!("hashing a blob failed: {e}")))
}

/// The envelope recipients: To, Cc and Bcc addresses, each once.
fn envelope_recipients(participants: &[Participant]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in participants {
        if matches!(
            p.role,
            ParticipantRole::To | ParticipantRole::Cc | ParticipantRole::Bcc
        ) && !out.contains(&p.address)
        {
            out.push(p.address.clone());
        }
    }
    out
}
