//! Attachments and raw mail.
//!
//! Core does not parse MIME, and neither does any request handler: a received
//! message's attachment is a leaf part of its raw mail, read out of it by the
//! [`PartReader`] port (the runtime's parser component, in its sandbox), at
//! most [`PART_READS`] at once on a node; the others wait their turn. A draft's
//! attachment was uploaded as a blob of its own, so core answers its bytes.
//! Uploaded bytes are stored with the draft that points at them and counts them;
//! deleting an attachment drops its count, and the blob goes once nothing else
//! counts it (`blob_refs`).

use std::fmt;

use async_trait::async_trait;
use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, BlobId, Scope};
use uuid::Uuid;

use super::validate;
use crate::Core;
use crate::blob_refs::{Releases, add_ref};
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::model::Message;
use crate::model::message::Attachment;
use crate::tables::{COUNTERS, RAW_INDEX, counter};

/// Largest attachment accepted on a draft.
pub const MAX_ATTACHMENT_BYTES: usize = 25 * 1024 * 1024;
/// Most attachments on one draft.
pub const MAX_ATTACHMENTS: usize = 100;

/// A file uploaded to a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAttachment {
    pub file_name: String,
    /// `type/subtype`; `application/octet-stream` when empty.
    pub content_type: String,
    pub is_inline: bool,
    pub content: Vec<u8>,
}

/// Attachment reads at once on a node: each holds a raw mail (up to the size
/// limit), a parser instance and the decoded part.
pub const PART_READS: usize = 2;

/// Reads leaf part `part_index` of a raw mail, transfer decoding undone: `None`
/// when the mail has no such part.
#[async_trait]
pub trait PartReader: Send + Sync + fmt::Debug {
    async fn read_part(&self, raw: Vec<u8>, part_index: u32) -> Result<Option<Vec<u8>>, PartError>;
}

/// Why a part could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartError {
    /// The reader cannot read parts at all (e.g. a parser without `read-part`).
    #[error("attachments cannot be read on this installation: {0}")]
    Unsupported(String),
    /// The reader failed this time (a deadline, a memory cap); retrying may work.
    #[error("the attachment could not be read now: {0}")]
    Failed(String),
}

/// An attachment with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentData {
    pub attachment: Attachment,
    pub content: Vec<u8>,
}

impl Core {
    /// Adds an uploaded file to one of the user's drafts; the answer's `index`
    /// is its id (the API's `temp_id`), never reused within the draft.
    #[tracing::instrument(skip(self, new), fields(size = new.content.len()))]
    pub async fn add_draft_attachment(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        new: NewAttachment,
    ) -> CoreResult<Attachment> {
        let _guard = self.lock_user(user_id).await;
        let message = self.draft(user_id, message_id).await?;
        let file_name = file_name(&new.file_name)?;
        let content_type = content_type(&new.content_type)?;
        if new.content.is_empty() {
            return Err(CoreError::invalid("content", "is empty"));
        }
        if new.content.len() > MAX_ATTACHMENT_BYTES {
            return Err(CoreError::invalid(
                "content",
                format!("is larger than {MAX_ATTACHMENT_BYTES} bytes"),
            ));
        }
        if message.attachments.len() >= MAX_ATTACHMENTS {
            return Err(CoreError::invalid(
                "attachments",
                format!("a draft holds at most {MAX_ATTACHMENTS}"),
            ));
        }
        let mut attachment = Attachment {
            index: message
                .attachments
                .iter()
                .map(|a| a.index + 1)
                .max()
                .unwrap_or(0),
            file_name,
            content_type,
            size: new.content.len() as u64,
            is_inline: new.is_inline,
            content_id: None,
            part_index: None,
            blob: None,
        };
        // The draft points at the bytes and counts them, written with them.
        let (mut draft, added) = (message, attachment.clone());
        let stores = self.stores();
        let blob = stores
            .blobs
            .put_then_write(
                &new.content,
                stores.records.as_ref(),
                Box::new(move |blob| {
                    let mut added = added;
                    added.blob = Some(blob.to_string());
                    draft.attachments.push(added);
                    let mut batch = draft_batch(&draft, 1);
                    add_ref(&mut batch, blob);
                    batch
                }),
            )
            .await?;
        self.wake_indexer();
        attachment.blob = Some(blob.to_string());
        Ok(attachment)
    }

    /// The attachments of one of the user's messages.
    pub async fn attachments(
        &self,
        user_id: Uuid,
        message_id: Uuid,
    ) -> CoreResult<Vec<Attachment>> {
        Ok(self.message(user_id, message_id).await?.attachments)
    }

    /// Removes an attachment from one of the user's drafts.
    #[tracing::instrument(skip(self))]
    pub async fn delete_draft_attachment(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        index: u32,
    ) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let mut message = self.draft(user_id, message_id).await?;
        let (gone, kept): (Vec<_>, Vec<_>) = message
            .attachments
            .into_iter()
            .partition(|a| a.index == index);
        message.attachments = kept;
        if gone.is_empty() {
            return Err(CoreError::not_found(
                "attachment",
                format!("{message_id}/{index}"),
            ));
        }
        let mut batch = draft_batch(&message, -1);
        let mut releases = Releases::default();
        for blob in gone.iter().filter_map(|a| a.blob.as_deref()?.parse().ok()) {
            releases.drop_ref(&mut batch, blob);
        }
        self.stores().records.write(batch).await?;
        releases.release(self).await;
        self.wake_indexer();
        Ok(())
    }

    /// An attachment of one of the user's messages with its content (see the module docs).
    pub async fn attachment_content(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        index: u32,
    ) -> CoreResult<AttachmentData> {
        let message = self.message(user_id, message_id).await?;
        let not_found = || CoreError::not_found("attachment", format!("{message_id}/{index}"));
        let attachment = message
            .attachments
            .iter()
            .find(|a| a.index == index)
            .cloned()
            .ok_or_else(not_found)?;
        let content = match (&attachment.blob, attachment.part_index, &message.raw_msg_id) {
            (Some(blob), _, _) => self.blob(blob).await?.ok_or_else(not_found)?,
            (None, Some(part_index), Some(raw)) => self
                .read_part(raw, part_index)
                .await?
                .ok_or_else(|| {
                    tracing::warn!(message = %message_id, part_index, "attachment part not found in raw mail");
                    not_found()
                })?,
            _ => return Err(not_found()),
        };
        Ok(AttachmentData {
            attachment,
            content,
        })
    }

    /// Leaf part `part_index` of the raw mail `raw`, through the part reader, a
    /// few at a time.
    #[tracing::instrument(skip(self))]
    async fn read_part(&self, raw: &str, part_index: u32) -> CoreResult<Option<Vec<u8>>> {
        let reader = self.inner.part_reader.get().cloned().ok_or_else(|| {
            CoreError::NotConfigured("no parser reads attachments on this node".into())
        })?;
        let _turn = self
            .inner
            .part_reads
            .acquire()
            .await
            .map_err(|_| CoreError::Unavailable("shutting down".into()))?;
        let not_found = || CoreError::not_found("raw message", raw);
        let bytes = self.blob(raw).await?.ok_or_else(not_found)?;
        reader
            .read_part(bytes, part_index)
            .await
            .map_err(|e| match e {
                PartError::Unsupported(_) => CoreError::NotConfigured(e.to_string()),
                PartError::Failed(_) => CoreError::Unavailable(e.to_string()),
            })
    }

    /// The raw mail `raw_msg_id`, only when one of the user's messages was
    /// stored from it: another user's raw mail is not found, whatever its id.
    pub async fn raw_message(&self, user_id: Uuid, raw_msg_id: &str) -> CoreResult<Vec<u8>> {
        let not_found = || CoreError::not_found("raw message", raw_msg_id);
        let id: BlobId = raw_msg_id.parse().map_err(|_| not_found())?;
        let owner = self
            .stores()
            .records
            .get(RAW_INDEX, Scope::User(user_id), id.as_bytes())
            .await?
            .and_then(|v| Uuid::from_slice(&v).ok())
            .ok_or_else(not_found)?;
        let message = match self.message(user_id, owner).await {
            Err(CoreError::NotFound { .. }) => return Err(not_found()),
            other => other?,
        };
        if message.raw_msg_id.as_deref() != Some(raw_msg_id) {
            return Err(not_found());
        }
        self.stores().blobs.get(&id).await?.ok_or_else(not_found)
    }

    /// One of the user's drafts; a received message is refused.
    async fn draft(&self, user_id: Uuid, message_id: Uuid) -> CoreResult<Message> {
        let message = self.message(user_id, message_id).await?;
        if !message.is_draft {
            return Err(CoreError::Forbidden(
                "attachments can only be changed on drafts".into(),
            ));
        }
        Ok(message)
    }

    async fn blob(&self, id: &str) -> CoreResult<Option<Vec<u8>>> {
        let id: BlobId = id.parse()?;
        Ok(self.stores().blobs.get(&id).await?)
    }
}

/// The batch storing a draft whose attachments changed by `delta`, with its
/// discussion's count and its search outbox entry.
fn draft_batch(message: &Message, delta: i64) -> Batch {
    let scope = Scope::User(message.user_id);
    let mut batch = Batch::new();
    crate::indexes::put_message(&mut batch, scope, Some(message.date_sort), message);
    batch.add(
        COUNTERS,
        scope,
        counter::discussion_attachments(&message.discussion_id),
        delta,
    );
    outbox(
        &mut batch,
        &IndexOp::Upsert(Document::Message(message_document(message))),
    );
    batch
}

/// A file name: 1 to 255 characters, no path separators or control characters.
fn file_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("file_name", "is required"));
    }
    if name.contains(['/', '\\']) || name == "." || name == ".." {
        return Err(CoreError::invalid("file_name", "must not be a path"));
    }
    validate::text("file_name", name, 255)?;
    if name.contains(['\n', '\r', '\t']) {
        return Err(CoreError::invalid(
            "file_name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// A MIME type `type/subtype` of token characters, lower-cased.
fn content_type(value: &str) -> CoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok("application/octet-stream".into());
    }
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    match value.split_once('/') {
        Some((ty, sub)) if value.len() <= 255 && token(ty) && token(sub) => {
            Ok(value.to_ascii_lowercase())
        }
        _ => Err(CoreError::invalid(
            "content_type",
            "must be a MIME type `type/subtype`",
        )),
    }
}
