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

/// Most records read per scan. A message record holds its bodies whole (up to
/// the mail size limit), so a list starts with one record per scan and reads
/// more at a time only while records are small ([`next_chunk`]): a scan of
/// hundreds of large messages would be gigabytes. Messages are decoded one by one.
const SCAN_CHUNK: usize = 64;
/// Records larger than this on average keep scans at one record.
const SMALL_RECORD: usize = 256 * 1024;

/// The next scan's size after a scan that read `records` records of `bytes`.
fn next_chunk(chunk: usize, records: usize, bytes: usize) -> usize {
    if records == 0 || bytes / records > SMALL_RECORD {
        1
    } else {
        (chunk * 2).min(SCAN_CHUNK)
    }
}

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
        let mut out = Vec::with_capacity(filter.limit.min(64));
        let total = self
            .visit_messages(user_id, filter, |m| {
                out.push(m);
                true
            })
            .await?;
        Ok((total, out))
    }

    /// Hands the page of messages that `filter` selects to `visit`, one at a time
    /// and newest first, holding no more than a few in memory; `visit` answers
    /// false to take no more. Answers the total that match the filter.
    #[tracing::instrument(skip(self, visit))]
    pub async fn visit_messages(
        &self,
        user_id: Uuid,
        filter: &MessageFilter,
        visit: impl FnMut(Message) -> bool + Send,
    ) -> CoreResult<u64> {
        let mut page = Page {
            filter,
            seen: 0,
            taken: 0,
            open: filter.limit > 0,
            visit,
        };
        match &filter.discussion_id {
            Some(d) => self.visit_discussion(user_id, d, &mut page).await,
            None => self.visit_all(user_id, &mut page).await,
        }
    }

    async fn visit_all<F: FnMut(Message) -> bool + Send>(
        &self,
        user_id: Uuid,
        page: &mut Page<'_, F>,
    ) -> CoreResult<u64> {
        let scope = Scope::User(user_id);
        let records = &self.stores().records;
        // Unfiltered, the total is a counter and the scan stops with the page.
        let counted = page.filter.is_unfiltered();
        let mut after = None;
        let mut chunk = 1;
        loop {
            if counted && !page.open {
                break;
            }
            let scan = records
                .scan(MESSAGES, scope, Scan::all(chunk).reversed().after(after))
                .await?;
            let bytes = scan.items.iter().map(|(_, v)| v.len()).sum();
            chunk = next_chunk(chunk, scan.items.len(), bytes);
            for (_, v) in &scan.items {
                if counted && (!page.open || (page.seen as usize) < page.filter.offset) {
                    // Skipped without decoding.
                    page.seen += 1;
                    continue;
                }
                page.offer(decode(MESSAGES.name, v)?);
            }
            match scan.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        if counted {
            return Ok(records
                .counter(COUNTERS, scope, counter::MESSAGES)
                .await?
                .max(0) as u64);
        }
        Ok(page.seen)
    }

    async fn visit_discussion<F: FnMut(Message) -> bool + Send>(
        &self,
        user_id: Uuid,
        discussion_id: &str,
        page: &mut Page<'_, F>,
    ) -> CoreResult<u64> {
        let ids = self.discussion_message_ids(user_id, discussion_id).await?;
        for id in ids {
            match self.message(user_id, id).await {
                Ok(m) => page.offer(m),
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(page.seen)
    }
}

/// A page being handed out: counts what matches, gives `visit` the messages
/// from `offset` on until it has `limit` or `visit` wants no more.
struct Page<'f, F> {
    filter: &'f MessageFilter,
    /// Messages that matched so far.
    seen: u64,
    /// Messages given to `visit`.
    taken: usize,
    open: bool,
    visit: F,
}

impl<F: FnMut(Message) -> bool> Page<'_, F> {
    fn offer(&mut self, m: Message) {
        if !self.filter.accepts(&m) {
            return;
        }
        let index = self.seen;
        self.seen += 1;
        if !self.open || (index as usize) < self.filter.offset {
            return;
        }
        self.taken += 1;
        self.open = (self.visit)(m) && self.taken < self.filter.limit;
    }
}
