//! Turning a processed mail into a stored message, in one batch.

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Batch, BlobId, Scope};
use uuid::Uuid;

use super::import::Placed;
use super::{PendingDelivery, ProcessedMail};
use crate::blob_refs::Releases;
use crate::codec::{Key, decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::index::documents::message_document;
use crate::index::outbox;
use crate::model::discussion::{Levels, discussion_id, discussion_key};
use crate::model::message::Qualification;
use crate::model::notification::TtlClass;
use crate::model::tag::{TAG_IMPORTANT, TAG_INBOX, TAG_SPAM};
use crate::model::user::UserStatus;
use crate::model::{Discussion, Message, Notification};
use crate::tables::{
    COUNTERS, DELIVERIES, DISCUSSION_MESSAGES, DISCUSSIONS, DISCUSSIONS_BY_DATE, MSGID_INDEX,
    NOTIFICATIONS, RAW_INDEX, counter, msgid_key,
};
use crate::{Core, now};

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A new message.
    New(Uuid),
    /// The user already has this mail (the same raw bytes).
    Duplicate(Uuid),
}

/// How long a new-mail notification is kept (the original: long-lived).
const NOTIFICATION_TTL: TtlClass = TtlClass::Long;

/// The notification of new mail, as the original's mail broker made it
/// (`src/backend/brokers/go.emails/inbound.go`, aggregated by
/// `facilities/Notifications/batch.go`): type `new_message`, emitter `smtp`, a
/// body of JSON text `{"size": N, "elements": [{"body": {"message_id",
/// "discussion_id"}}]}`, one per delivery batch; a delivery here stores one mail
/// for one user, a batch of one. The web client reloads its lists on it and
/// counts `body.size` (`web/modules/notification/`).
pub(crate) fn new_message_notification(message: &Message) -> Notification {
    let body = serde_json::json!({
        "size": 1,
        "elements": [{"body": {
            "message_id": message.id.to_string(),
            "discussion_id": message.discussion_id,
        }}],
    });
    Notification {
        id: Uuid::now_v7(),
        user_id: message.user_id,
        emitter: "smtp".into(),
        kind: "new_message".into(),
        reference: message.id.to_string(),
        body: body.to_string(),
        date_insert: message.date_insert,
        expires_at: message.date_insert + NOTIFICATION_TTL.duration(),
        ttl_class: NOTIFICATION_TTL,
    }
}

impl Core {
    /// The message already stored for this (user, raw mail), if any.
    pub(crate) async fn message_for_raw(
        &self,
        pending: &PendingDelivery,
    ) -> CoreResult<Option<Uuid>> {
        self.message_for_blob(pending.user_id, &pending.raw.0).await
    }

    /// The user's message made of the raw mail `blob`, if any.
    pub async fn message_for_blob(&self, user_id: Uuid, blob: &BlobId) -> CoreResult<Option<Uuid>> {
        let found = self
            .stores()
            .records
            .get(RAW_INDEX, Scope::User(user_id), blob.as_bytes())
            .await?;
        Ok(found.and_then(|v| Uuid::from_slice(&v).ok()))
    }

    /// Stores a processed delivery, or records it as a duplicate; either way the
    /// pending delivery is removed in the same batch. Runs under the user's lock,
    /// so counters, the discussion summary and seen participants stay exact, and
    /// two deliveries of one mail processed side by side give one message: the
    /// (user, raw mail) index is read again under it.
    ///
    /// Only the same raw bytes fold into an existing message. A Message-ID is
    /// chosen by the sender: folding on it would let anyone who knows (or guesses)
    /// the id of a mail before it arrives send another mail with that id first and
    /// have the real one acknowledged, then dropped. Different mail with the same
    /// Message-ID is stored as a message of its own, indexed beside the other.
    #[tracing::instrument(skip_all, fields(delivery = %pending.id, user = %pending.user_id))]
    pub(crate) async fn store_delivery(
        &self,
        pending: &PendingDelivery,
        processed: ProcessedMail,
    ) -> CoreResult<Stored> {
        let _guard = self.lock_user(pending.user_id).await;
        if self.user(pending.user_id).await?.status == UserStatus::Deleting {
            return Err(CoreError::not_found("user", pending.user_id));
        }
        let scope = Scope::User(pending.user_id);
        let records = &self.stores().records;
        let raw_key = pending.raw.0.as_bytes().to_vec();
        let mut batch = Batch::new();
        batch.delete(DELIVERIES, Scope::Global, pending.id.as_bytes().to_vec());

        if let Some(existing) = records.get(RAW_INDEX, scope, &raw_key).await? {
            let mut releases = Releases::default();
            releases.drop_ref(&mut batch, pending.raw.0);
            records.write(batch).await?;
            releases.release(self).await;
            return Ok(Stored::Duplicate(
                Uuid::from_slice(&existing).unwrap_or_default(),
            ));
        }
        let ProcessedMail {
            message: inbound,
            verdict,
        } = processed;

        let date_insert = now();
        let placed = Placed::of(pending, inbound.date);
        let mut participants = inbound.participants;
        for p in &mut participants {
            p.contact_ids = self
                .contact_ids_by_address(pending.user_id, &p.address)
                .await?;
        }
        let key = if inbound.discussion_key.is_empty() {
            discussion_key(&participants)
        } else {
            inbound.discussion_key
        };
        let mut tags = verdict.tags;
        tags.push(if verdict.is_spam { TAG_SPAM } else { TAG_INBOX }.to_owned());
        if placed.flagged {
            tags.push(TAG_IMPORTANT.to_owned());
        }
        tags.sort();
        tags.dedup();
        let message = Message {
            id: placed.id,
            user_id: pending.user_id,
            discussion_id: discussion_id(&key),
            protocol: "email".into(),
            subject: inbound.subject,
            date: placed.date,
            date_insert,
            date_sort: placed.date_sort,
            participants,
            body_plain: inbound.body_plain,
            body_html: inbound.body_html,
            html_safety: inbound.html_safety,
            attachments: inbound.attachments,
            external_references: inbound.external_references,
            importance_level: verdict.importance_level.clamp(-10, 10),
            pi: verdict.pi,
            privacy_features: inbound.privacy_features,
            tags,
            is_unread: placed.unread,
            is_draft: false,
            is_answered: placed.answered,
            is_received: true,
            raw_msg_id: Some(pending.raw.0.to_string()),
            user_identities: vec![pending.identity_id],
            parent_id: None,
            qualification: Qualification {
                is_spam: verdict.is_spam,
                spam_score: verdict.spam_score,
                rules: verdict.rules,
                not_qualified_by: verdict.not_qualified_by,
                qualified_by: verdict.qualified_by,
            },
            problems: inbound.problems,
            send_state: None,
        };
        let id = message.id;
        // The message takes over the delivery's reference to the raw mail.
        crate::indexes::put_message(&mut batch, scope, None, &message);
        batch.put(RAW_INDEX, scope, raw_key, id.as_bytes().to_vec());
        if let Some(msgid) = &message.external_references.message_id {
            batch.put(MSGID_INDEX, scope, msgid_key(msgid, id), Vec::new());
        }
        self.discussion_batch(&mut batch, &message, true).await?;
        self.seen_participants_batch(
            &mut batch,
            pending.user_id,
            &message.participants,
            date_insert,
        )
        .await?;
        batch.add(COUNTERS, scope, counter::MESSAGES, 1);
        if message.is_unread {
            batch.add(COUNTERS, scope, counter::UNREAD, 1);
        }
        outbox(
            &mut batch,
            &IndexOp::Upsert(Document::Message(message_document(&message))),
        );
        // Imported mail is old mail: no new-mail notification for it.
        if pending.import.is_none() {
            let notification = new_message_notification(&message);
            batch.put(
                NOTIFICATIONS,
                scope,
                notification.id.as_bytes().to_vec(),
                encode(&notification),
            );
        }
        records.write(batch).await?;
        self.wake_indexer();
        Ok(Stored::New(id))
    }

    /// Adds a message to its discussion: membership, summary, date index, counters.
    pub(crate) async fn discussion_batch(
        &self,
        batch: &mut Batch,
        message: &Message,
        is_new: bool,
    ) -> CoreResult<()> {
        let scope = Scope::User(message.user_id);
        let did = &message.discussion_id;
        let existing: Option<Discussion> = match self
            .stores()
            .records
            .get(DISCUSSIONS, scope, did.as_bytes())
            .await?
        {
            Some(bytes) => Some(decode(DISCUSSIONS.name, &bytes)?),
            None => None,
        };
        let date = message.date_sort;
        let mut discussion = existing.clone().unwrap_or_else(|| Discussion {
            id: did.clone(),
            participants: message.participants.clone(),
            last_message_id: message.id,
            last_message_date: date,
            last_message_subject: message.subject.clone(),
            excerpt: String::new(),
            importance_level: message.importance_level,
            levels: Levels::default(),
            protocol: message.protocol.clone(),
            date_insert: date,
            date_update: date,
        });
        if let Some(old) = &existing
            && date >= old.last_message_date
        {
            batch.delete(DISCUSSIONS_BY_DATE, scope, by_date_key(old));
            discussion.last_message_id = message.id;
            discussion.last_message_date = date;
            discussion.last_message_subject = message.subject.clone();
            discussion.participants = message.participants.clone();
        }
        if existing.is_some() && discussion.levels.total() == 0 {
            // A record from before the levels were kept: counted once from its messages.
            let others = self.discussion_messages(message.user_id, did).await?;
            discussion.levels = Levels::of(
                others
                    .iter()
                    .filter(|m| m.id != message.id)
                    .map(|m| m.importance_level),
            );
            discussion.levels.add(message.importance_level);
        } else if is_new || existing.is_none() {
            discussion.levels.add(message.importance_level);
        }
        discussion.importance_level = discussion.levels.importance();
        if discussion.last_message_id == message.id {
            discussion.excerpt = message.excerpt(200);
        }
        discussion.date_update = now();
        batch.put(
            DISCUSSIONS_BY_DATE,
            scope,
            by_date_key(&discussion),
            Vec::new(),
        );
        batch.put(
            DISCUSSIONS,
            scope,
            did.as_bytes().to_vec(),
            encode(&discussion),
        );
        batch.put(
            DISCUSSION_MESSAGES,
            scope,
            Key::new().str(did).uuid(message.id).build(),
            Vec::new(),
        );
        if is_new {
            batch.add(COUNTERS, scope, counter::discussion_total(did), 1);
            if message.is_unread {
                batch.add(COUNTERS, scope, counter::discussion_unread(did), 1);
            }
            let attachments = message.attachments.len() as i64;
            if attachments > 0 {
                batch.add(
                    COUNTERS,
                    scope,
                    counter::discussion_attachments(did),
                    attachments,
                );
            }
        }
        Ok(())
    }
}

/// Key of a discussion in the by-date index: last message date, then its id.
pub(crate) fn by_date_key(d: &Discussion) -> Vec<u8> {
    let mut key = Key::new()
        .i64(d.last_message_date.timestamp_millis())
        .build();
    key.extend_from_slice(d.id.as_bytes());
    key
}
