//! Keeping discussions exact when a message leaves one (deleted, or a draft whose
//! participants changed): membership, counters, and the summary recomputed from
//! the messages that remain. Callers hold the user's lock ([`Core::lock_user`]).

use caliopen_storage_traits::{Batch, Scan, Scope};
use uuid::Uuid;

use crate::codec::{Key, decode, key_uuid};
use crate::delivery::store::by_date_key;
use crate::error::{CoreError, CoreResult};
use crate::model::discussion::Levels;
use crate::model::{Discussion, Message};
use crate::tables::{COUNTERS, DISCUSSION_MESSAGES, DISCUSSIONS, DISCUSSIONS_BY_DATE, counter};
use crate::{Core, now};

/// Characters of the last message kept as the discussion's excerpt.
pub(crate) const EXCERPT_CHARS: usize = 200;

impl Core {
    /// The ids of a discussion's messages, newest first.
    pub(crate) async fn discussion_message_ids(
        &self,
        user_id: Uuid,
        discussion_id: &str,
    ) -> CoreResult<Vec<Uuid>> {
        if !crate::limits::may_exist(discussion_id, crate::limits::DISCUSSION_ID_LEN) {
            return Ok(Vec::new());
        }
        let prefix = Key::new().str(discussion_id).build();
        let len = prefix.len();
        let mut ids = Vec::new();
        let scan = Scan::prefix(prefix, 1000).reversed();
        self.visit_records(DISCUSSION_MESSAGES, Scope::User(user_id), scan, |k, _| {
            ids.extend(key_uuid(k, len));
            Ok(())
        })
        .await?;
        Ok(ids)
    }

    /// The messages of a discussion, newest first (ids whose message is gone are skipped).
    pub(crate) async fn discussion_messages(
        &self,
        user_id: Uuid,
        discussion_id: &str,
    ) -> CoreResult<Vec<Message>> {
        let mut out = Vec::new();
        for id in self.discussion_message_ids(user_id, discussion_id).await? {
            match self.message(user_id, id).await {
                Ok(m) => out.push(m),
                Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Adds to `batch` what takes `message` (as stored) out of its discussion.
    /// The discussion disappears with its counters when no message remains.
    pub(crate) async fn detach_batch(
        &self,
        batch: &mut Batch,
        message: &Message,
    ) -> CoreResult<()> {
        let scope = Scope::User(message.user_id);
        let did = &message.discussion_id;
        batch.delete(
            DISCUSSION_MESSAGES,
            scope,
            Key::new().str(did).uuid(message.id).build(),
        );
        let existing: Option<Discussion> = match self
            .stores()
            .records
            .get(DISCUSSIONS, scope, did.as_bytes())
            .await?
        {
            Some(bytes) => Some(decode(DISCUSSIONS.name, &bytes)?),
            None => None,
        };
        if let Some(old) = &existing {
            batch.delete(DISCUSSIONS_BY_DATE, scope, by_date_key(old));
        }
        let remaining: Vec<Message> = self
            .discussion_messages(message.user_id, did)
            .await?
            .into_iter()
            .filter(|m| m.id != message.id)
            .collect();
        let Some(last) = remaining.iter().max_by_key(|m| (m.date_sort, m.id)) else {
            batch.delete(DISCUSSIONS, scope, did.as_bytes().to_vec());
            for key in [
                counter::discussion_total(did),
                counter::discussion_unread(did),
                counter::discussion_attachments(did),
            ] {
                batch.delete(COUNTERS, scope, key);
            }
            return Ok(());
        };
        batch.add(COUNTERS, scope, counter::discussion_total(did), -1);
        if message.is_unread {
            batch.add(COUNTERS, scope, counter::discussion_unread(did), -1);
        }
        if !message.attachments.is_empty() {
            batch.add(
                COUNTERS,
                scope,
                counter::discussion_attachments(did),
                -(message.attachments.len() as i64),
            );
        }
        let date = now();
        let mut discussion = existing.unwrap_or_else(|| Discussion {
            id: did.clone(),
            participants: Vec::new(),
            last_message_id: last.id,
            last_message_date: last.date_sort,
            last_message_subject: String::new(),
            excerpt: String::new(),
            importance_level: 0,
            levels: Levels::default(),
            protocol: last.protocol.clone(),
            date_insert: date,
            date_update: date,
        });
        discussion.last_message_id = last.id;
        discussion.last_message_date = last.date_sort;
        discussion.last_message_subject = last.subject.clone();
        discussion.participants = last.participants.clone();
        discussion.excerpt = last.excerpt(EXCERPT_CHARS);
        discussion.levels = Levels::of(remaining.iter().map(|m| m.importance_level));
        discussion.importance_level = discussion.levels.importance();
        discussion.date_update = date;
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
            crate::codec::encode(&discussion),
        );
        Ok(())
    }
}
