//! Attachments and raw mail.
//!
//! Core does not parse MIME. A received message's attachment is a leaf part of
//! its raw mail, so core answers the raw mail with the attachment's part index
//! ([`AttachmentContent::RawPart`]) and the REST layer, which may link a MIME
//! parser, cuts the part out. A draft's attachment was uploaded as a blob of its
//! own, so core answers its bytes ([`AttachmentContent::Blob`]). Uploaded bytes
//! are stored with the draft that points at them and counts them; deleting an
//! attachment drops its count, and the blob goes once nothing else counts it
//! (`blob_refs`).

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, BlobId, Scope};
use uuid::Uuid;

use super::validate;
use crate::Core;
use crate::blob_refs::{Releases, add_ref};
use crate::codec::encode;
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::model::Message;
use crate::model::message::Attachment;
use crate::tables::{COUNTERS, MESSAGES, RAW_INDEX, counter};

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

/// Where an attachment's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachmentContent {
    /// A draft's attachment: its bytes.
    Blob { bytes: Vec<u8> },
    /// A received attachment: leaf part `part_index` of the raw mail `raw`.
    RawPart {
        raw_msg_id: String,
        part_index: u32,
        raw: Vec<u8>,
    },
}

/// An attachment with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentData {
    pub attachment: Attachment,
    pub content: AttachmentContent,
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
            (Some(blob), _, _) => AttachmentContent::Blob {
                bytes: self.blob(blob).await?.ok_or_else(not_found)?,
            },
            (None, Some(part_index), Some(raw)) => AttachmentContent::RawPart {
                raw_msg_id: raw.clone(),
                part_index,
                raw: self.blob(raw).await?.ok_or_else(not_found)?,
            },
            _ => return Err(not_found()),
        };
        Ok(AttachmentData {
            attachment,
            content,
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
    batch
        .put(
            MESSAGES,
            scope,
            message.id.as_bytes().to_vec(),
            encode(message),
        )
        .add(
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
