//! Messages: listing and reading (drafts, flags and tags come with the REST API).

use caliopen_storage_traits::{Scan, Scope};
use uuid::Uuid;

use crate::Core;
use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::model::Message;
use crate::tables::{COUNTERS, MESSAGES, counter};

/// Which messages a list request wants.
#[derive(Debug, Clone)]
pub struct MessageFilter {
    pub discussion_id: Option<String>,
    /// Inclusive range of the aggregated PI (0..100).
    pub pi: (u8, u8),
    /// Inclusive range of the importance level (−10..10).
    pub importance: (i8, i8),
    pub limit: usize,
    pub offset: usize,
}

impl Default for MessageFilter {
    fn default() -> Self {
        Self {
            discussion_id: None,
            pi: (0, 100),
            importance: (-10, 10),
            limit: 20,
            offset: 0,
        }
    }
}

impl MessageFilter {
    fn is_unfiltered(&self) -> bool {
        self.pi == (0, 100) && self.importance == (-10, 10)
    }
    fn accepts(&self, m: &Message) -> bool {
        let pi = m.pi.map(|p| p.aggregate()).unwrap_or(0);
        (self.pi.0..=self.pi.1).contains(&pi)
            && (self.importance.0..=self.importance.1).contains(&m.importance_level)
    }
}

/// Records read per scan when filtering.
const SCAN_CHUNK: usize = 256;

impl Core {
    /// One of the user's messages.
    pub async fn message(&self, user_id: Uuid, message_id: Uuid) -> CoreResult<Message> {
        let bytes = self
            .stores()
            .records
            .get(MESSAGES, Scope::User(user_id), message_id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("message", message_id))?;
        decode(MESSAGES.name, &bytes)
    }

    /// The user's messages, newest first, with the total that match the filter.
    #[tracing::instrument(skip(self))]
    pub async fn list_messages(
        &self,
        user_id: Uuid,
        filter: &MessageFilter,
    ) -> CoreResult<(u64, Vec<Message>)> {
        match &filter.discussion_id {
            Some(d) => self.list_discussion_messages(user_id, d, filter).await,
            None => self.list_all_messages(user_id, filter).await,
        }
    }

    async fn list_all_messages(
        &self,
        user_id: Uuid,
        filter: &MessageFilter,
    ) -> CoreResult<(u64, Vec<Message>)> {
        let scope = Scope::User(user_id);
        let records = &self.stores().records;
        if filter.is_unfiltered() {
            // The common case reads exactly one page and the total from a counter.
            let total = records
                .counter(COUNTERS, scope, counter::MESSAGES)
                .await?
                .max(0) as u64;
            let mut out = Vec::with_capacity(filter.limit);
            let mut after = None;
            let mut skip = filter.offset;
            while out.len() < filter.limit {
                let want = (filter.limit - out.len() + skip).min(4 * SCAN_CHUNK);
                let page = records
                    .scan(MESSAGES, scope, Scan::all(want).reversed().after(after))
                    .await?;
                for (_, v) in &page.items {
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    if out.len() < filter.limit {
                        out.push(decode(MESSAGES.name, v)?);
                    }
                }
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            return Ok((total, out));
        }
        let mut total = 0u64;
        let mut out = Vec::with_capacity(filter.limit);
        let mut after = None;
        loop {
            let page = records
                .scan(
                    MESSAGES,
                    scope,
                    Scan::all(SCAN_CHUNK).reversed().after(after),
                )
                .await?;
            for (_, v) in &page.items {
                let m: Message = decode(MESSAGES.name, v)?;
                if filter.accepts(&m) {
                    if total as usize >= filter.offset && out.len() < filter.limit {
                        out.push(m);
                    }
                    total += 1;
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok((total, out)),
            }
        }
    }

    async fn list_discussion_messages(
        &self,
        user_id: Uuid,
        discussion_id: &str,
        filter: &MessageFilter,
    ) -> CoreResult<(u64, Vec<Message>)> {
        let ids = self.discussion_message_ids(user_id, discussion_id).await?;
        let mut total = 0u64;
        let mut out = Vec::new();
        for id in ids {
            let m = match self.message(user_id, id).await {
                Ok(m) => m,
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            if filter.accepts(&m) {
                if total as usize >= filter.offset && out.len() < filter.limit {
                    out.push(m);
                }
                total += 1;
            }
        }
        Ok((total, out))
    }
}
