//! Putting tags on things: the tags of a message, of a contact, and of every
//! message of a discussion (`/v2/discussions/{id}/tags`, which the web client
//! calls and the original server never routed; a discussion's tags are those of
//! its last message). Only existing tag names are
//! accepted; every change is written with its search outbox entry.

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, Scope};
use uuid::Uuid;

use super::patch::{self, MergePatch, field};
use crate::codec::encode;
use crate::error::{CoreError, CoreResult};
use crate::index::documents::{contact_document, message_document};
use crate::index::outbox;
use crate::model::{Contact, Message};
use crate::tables::CONTACTS;
use crate::{Core, now};

const TAGS_FIELD: &[patch::Field] = &[field("tags")];

/// The `tags` of a record, as a patch sees them.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Tagged {
    tags: Vec<String>,
}

impl Core {
    /// Sets the tags of one of the user's messages.
    #[tracing::instrument(skip(self))]
    pub async fn set_message_tags(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        tags: &[String],
    ) -> CoreResult<Message> {
        let _guard = self.lock_user(user_id).await;
        let message = self.message(user_id, message_id).await?;
        self.write_message_tags(message, tags).await
    }

    /// `PATCH /v2/messages/{id}/tags`: sets a message's tags, checked against `current_state`.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_message_tags(
        &self,
        user_id: Uuid,
        message_id: Uuid,
        patch: &MergePatch,
    ) -> CoreResult<Message> {
        let _guard = self.lock_user(user_id).await;
        let message = self.message(user_id, message_id).await?;
        let Tagged { tags } = patch::apply(
            &Tagged {
                tags: message.tags.clone(),
            },
            patch,
            TAGS_FIELD,
        )?;
        self.write_message_tags(message, &tags).await
    }

    /// Sets the tags of one of the user's contacts.
    #[tracing::instrument(skip(self))]
    pub async fn set_contact_tags(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
        tags: &[String],
    ) -> CoreResult<Contact> {
        let _guard = self.lock_user(user_id).await;
        let contact = self.contact(user_id, contact_id).await?;
        self.write_contact_tags(contact, tags).await
    }

    /// `PATCH /v2/contacts/{id}/tags`: sets a contact's tags, checked against `current_state`.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_contact_tags(
        &self,
        user_id: Uuid,
        contact_id: Uuid,
        patch: &MergePatch,
    ) -> CoreResult<Contact> {
        let _guard = self.lock_user(user_id).await;
        let contact = self.contact(user_id, contact_id).await?;
        let Tagged { tags } = patch::apply(
            &Tagged {
                tags: contact.tags.clone(),
            },
            patch,
            TAGS_FIELD,
        )?;
        self.write_contact_tags(contact, &tags).await
    }

    /// Sets the tags of every message of one of the user's discussions, in one
    /// batch; answers how many messages there are.
    #[tracing::instrument(skip(self))]
    pub async fn set_discussion_tags(
        &self,
        user_id: Uuid,
        discussion_id: &str,
        tags: &[String],
    ) -> CoreResult<usize> {
        let _guard = self.lock_user(user_id).await;
        self.discussion(user_id, discussion_id).await?;
        self.write_discussion_tags(user_id, discussion_id, tags)
            .await
    }

    /// `PATCH /v2/discussions/{id}/tags`: sets the tags of every message of a
    /// discussion, checked against `current_state` (the discussion's tags, those
    /// of its last message); answers how many messages there are.
    #[tracing::instrument(skip(self, patch))]
    pub async fn patch_discussion_tags(
        &self,
        user_id: Uuid,
        discussion_id: &str,
        patch: &MergePatch,
    ) -> CoreResult<usize> {
        let _guard = self.lock_user(user_id).await;
        let view = self.discussion(user_id, discussion_id).await?;
        let Tagged { tags } = patch::apply(&Tagged { tags: view.tags }, patch, TAGS_FIELD)?;
        self.write_discussion_tags(user_id, discussion_id, &tags)
            .await
    }

    /// Sets the tags of every message of a discussion. Caller holds the user's lock.
    async fn write_discussion_tags(
        &self,
        user_id: Uuid,
        discussion_id: &str,
        tags: &[String],
    ) -> CoreResult<usize> {
        let tags = self.known_tags(user_id, "tags", tags).await?;
        let messages = self.discussion_messages(user_id, discussion_id).await?;
        let scope = Scope::User(user_id);
        let mut batch = Batch::new();
        for mut m in messages.iter().cloned() {
            if m.tags != tags {
                m.tags = tags.clone();
                crate::indexes::put_message(&mut batch, scope, Some(m.date_sort), &m);
                outbox(
                    &mut batch,
                    &IndexOp::Upsert(Document::Message(message_document(&m))),
                );
            }
        }
        if batch.len() > Batch::MAX_OPS {
            return Err(CoreError::Forbidden(
                "this discussion has too many messages to be tagged at once".into(),
            ));
        }
        if !batch.is_empty() {
            self.stores().records.write(batch).await?;
            self.wake_indexer();
        }
        Ok(messages.len())
    }

    async fn write_message_tags(
        &self,
        mut message: Message,
        tags: &[String],
    ) -> CoreResult<Message> {
        message.tags = self.known_tags(message.user_id, "tags", tags).await?;
        let mut batch = Batch::new();
        crate::indexes::put_message(
            &mut batch,
            Scope::User(message.user_id),
            Some(message.date_sort),
            &message,
        );
        outbox(
            &mut batch,
            &IndexOp::Upsert(Document::Message(message_document(&message))),
        );
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(message)
    }

    async fn write_contact_tags(
        &self,
        mut contact: Contact,
        tags: &[String],
    ) -> CoreResult<Contact> {
        contact.tags = self.known_tags(contact.user_id, "tags", tags).await?;
        contact.date_update = now();
        let mut batch = Batch::new();
        batch.put(
            CONTACTS,
            Scope::User(contact.user_id),
            contact.id.as_bytes().to_vec(),
            encode(&contact),
        );
        outbox(
            &mut batch,
            &IndexOp::Upsert(Document::Contact(contact_document(&contact))),
        );
        self.stores().records.write(batch).await?;
        self.wake_indexer();
        Ok(contact)
    }
}
