//! Discussions: listing with last message, counts and importance.

use caliopen_storage_traits::{Scan, Scope};
use uuid::Uuid;

use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::model::Discussion;
use crate::tables::{counter, COUNTERS, DISCUSSIONS, DISCUSSIONS_BY_DATE};
use crate::Core;

/// A discussion with its counts, as lists show it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscussionView {
    pub discussion: Discussion,
    pub total_count: u64,
    pub unread_count: u64,
    pub attachment_count: u64,
}

impl Core {
    /// One discussion of the user.
    pub async fn discussion(&self, user_id: Uuid, discussion_id: &str) -> CoreResult<DiscussionView> {
        let bytes = self
            .stores()
            .records
            .get(DISCUSSIONS, Scope::User(user_id), discussion_id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("discussion", discussion_id))?;
        self.discussion_view(user_id, decode(DISCUSSIONS.name, &bytes)?).await
    }

    async fn discussion_view(&self, user_id: Uuid, discussion: Discussion) -> CoreResult<DiscussionView> {
        let records = &self.stores().records;
        let scope = Scope::User(user_id);
        let count = |key: Vec<u8>| async move { records.counter(COUNTERS, scope, &key).await.map(|n| n.max(0) as u64) };
        Ok(DiscussionView {
            total_count: count(counter::discussion_total(&discussion.id)).await?,
            unread_count: count(counter::discussion_unread(&discussion.id)).await?,
            attachment_count: count(counter::discussion_attachments(&discussion.id)).await?,
            discussion,
        })
    }

    /// The user's discussions, most recent activity first, with the total count.
    pub async fn list_discussions(&self, user_id: Uuid, limit: usize, offset: usize) -> CoreResult<(u64, Vec<DiscussionView>)> {
        let scope = Scope::User(user_id);
        let records = &self.stores().records;
        let mut keys = Vec::new();
        let mut after = None;
        let mut total = 0u64;
        loop {
            let page = records
                .scan(DISCUSSIONS_BY_DATE, scope, Scan::all(1000).reversed().after(after))
                .await?;
            for (k, _) in &page.items {
                if total as usize >= offset && keys.len() < limit {
                    keys.push(k.clone());
                }
                total += 1;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            // Key: 8-byte date then the discussion id.
            let id = String::from_utf8_lossy(key.get(8..).unwrap_or_default()).trim_end_matches('\0').to_owned();
            match self.discussion(user_id, &id).await {
                Ok(view) => out.push(view),
                Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((total, out))
    }
}
