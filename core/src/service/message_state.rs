//! Changing a message's state: read / unread flags, the actions of
//! `POST /v2/messages/{id}/actions`, and deletion. Each keeps the user's
//! counters (`messages`, `unread`) and its discussion's counters exact, and puts
//! the search outbox entry in the same batch as the message.

use caliopen_storage_traits::search::{DocKind, Document, IndexOp};
use caliopen_storage_traits::{Batch, Scope};
use uuid::Uuid;

use crate::Core;
use crate::blob_refs::{Releases, message_blobs};
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::indexes::{delete_message, put_message};
use crate::model::Message;
use crate::tables::{COUNTERS, MSGID_INDEX, RAW_INDEX, counter, msgid_key};
use caliopen_storage_traits::limits::MAX_KEY_BYTES;

/// What `POST /v2/messages/{id}/actions` may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    SetRead,
    SetUnread,
    /// Sending a draft: rendered, queued for the relay (see `Core::send_draft`).
    Send,
}

impl MessageAction {
    /// Parses an action name of the API; `field` names it in the error.
    pub fn parse(field: &str, name: &str) -> CoreResult<Self> {
        match name {
            "set_read" => Ok(Self::SetRead),
            "set_unread" => Ok(Self::SetUnread),
            "send" => Ok(Self::Send),
            other => Err(CoreError::invalid(
                field,
                format!("`{other}` is not an action on messages (set_read, set_unread, send)"),
            )),
        }
    }
}

impl Core {
    /// Marks one of the user's messages read (nothing changes when it already is).
    #[tracing::instrument(skip(self))]
    pub async fn set_read(&self, user_id: Uuid, message_id: Uuid) -> CoreResult<Message> {
        self.set_unread_flag(user_id, message_id, false).await
    }

    /// Marks one of the user's received messages unread (drafts cannot be).
    #[tracing::instrument(skip(self))]
    pub async fn set_unread(&self, user_id: Uuid, message_id: Uuid) -> CoreResult<Message> {
        self.set_unread_flag(user_id, message_id, true).await
    }

    /// Runs the actions of `POST /v2/messages/{id}/actions` in order (each by its
    /// API name), answering the message as the last one left it.
    #[tracing::instrument(skip(self))]
    pub async fn message_actions(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        actions: &[String],
    ) -> CoreResult<Message> {
        if actions.is_empty() {
            return Err(CoreError::invalid(
                "actions",
                "must name at least one action",
            ));
        }
        let parsed = actions
            .iter()
            .enumerate()
            .map(|(i, a)| MessageAction::parse(&format!("actions[{i}]"), a))
            .collect::<CoreResult<Vec<_>>>()?;
        let mut message = self.message(user_id, message_id).await?;
        for action in parsed {
            message = match action {
                MessageAction::SetRead => self.set_read(user_id, message_id).await?,
                MessageAction::SetUnread => self.set_unread(user_id, message_id).await?,
                MessageAction::Send => self.send_draft(user_id, message_id).await?,
            };
        }
        Ok(message)
    }

    async fn set_unread_flag(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        unread: bool,
    ) -> CoreResult<Message> {
        let _guard = self.lock_user(user_id).await;
        let mut message = self.message(user_id, message_id).await?;
        if message.is_unread == unread {
            return Ok(message);
        }
        if unread && message.is_draft {
            return Err(CoreError::Forbidden(
                "a draft cannot be marked unread".into(),
            ));
        }
        message.is_unread = unread;
        let delta = if unread { 1 } else { -1 };
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        put_message(&mut batch, scope, Some(message.date_sort), &message);
        batch.add(COUNTERS, scope, counter::UNREAD, delta).add(
            COUNTERS,
            scope,
            counter::discussion_unread(&message.discussion_id),
            delta,
        );
        outbox(
            &mut batch,
            &IndexOp::Upsert(Document::Message(message_document(&message))),
        );
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(message)
    }

    /// Deletes one of the user's messages, draft or received: it leaves its
    /// discussion (which disappears when it was the last message), the counters,
    /// the raw-mail and Message-ID indexes, and the search index. Its raw mail and
    /// attachment blobs go too, unless something else still counts them (they are
    /// content-addressed and may be shared: see `blob_refs`).
    #[tracing::instrument(skip(self))]
    pub async fn delete_message(&self, user_id: Uuid, message_id: Uuid) -> CoreResult<()> {
        let _guard = self.lock_user(user_id).await;
        let message = self.message(user_id, message_id).await?;
        let scope = Scope::User(user_id);
        let records = &self.stores().records;
        let mut batch = Batch::new();
        delete_message(&mut batch, scope, &message);
        if let Some(msgid) = &message.external_references.message_id {
            batch.delete(MSGID_INDEX, scope, msgid_key(msgid, message.id));
        }
        // The single-valued indexes are dropped only where they point at this
        // message (the Message-ID one as earlier versions wrote it, too).
        let raw_key = message.raw_msg_id.as_deref().and_then(hex_key);
        let legacy_msgid_key = message
            .external_references
            .message_id
            .as_ref()
            .filter(|m| !m.is_empty() && m.len() <= MAX_KEY_BYTES)
            .map(|m| m.as_bytes().to_vec());
        for (table, key) in [(RAW_INDEX, raw_key), (MSGID_INDEX, legacy_msgid_key)] {
            if let Some(key) = key
                && records.get(table, scope, &key).await?.as_deref() == Some(message.id.as_bytes())
            {
                batch.delete(table, scope, key);
            }
        }
        self.detach_batch(&mut batch, &message).await?;
        batch.add(COUNTERS, scope, counter::MESSAGES, -1);
        if message.is_unread {
            batch.add(COUNTERS, scope, counter::UNREAD, -1);
        }
        outbox(
            &mut batch,
            &IndexOp::Delete {
                user: user_id,
                kind: DocKind::Message,
                id: message.id,
            },
        );
        let mut releases = Releases::default();
        for blob in message_blobs(&message) {
            releases.drop_ref(&mut batch, blob);
        }
        records.write(batch).await?;
        releases.release(self).await;
        self.wake_indexer();
        Ok(())
    }
}

/// The raw-index key of a raw mail id (the blob id's bytes); none when it is not
/// one, since then no raw mail has it.
pub(crate) fn hex_key(raw_msg_id: &str) -> Option<Vec<u8>> {
    raw_msg_id
        .parse::<caliopen_storage_traits::BlobId>()
        .ok()
        .map(|id| id.as_bytes().to_vec())
}
