//! Messages: listing and reading (drafts, flags and tags come with the REST API).
//!
//! Lists filter as the original's `GET /v2/messages` did (`obj/search.go`,
//! `FilterQuery`): on the discussion, the PI and importance ranges, and equality
//! on the message's flags ([`MessageFlag`]).

use caliopen_storage_traits::{Scan, Scope};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::contact_cards::ContactCards;
use crate::Core;
use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::indexes::message_of_date_key;
use crate::model::Message;
use crate::tables::{COUNTERS, MESSAGES, MESSAGES_BY_DATE, counter};

/// Which messages a list request wants.
#[derive(Debug, Clone)]
pub struct MessageFilter {
    pub discussion_id: Option<String>,
    /// Inclusive range of the aggregated PI (0..100).
    pub pi: (u8, u8),
    /// Inclusive range of the importance level (−10..10).
    pub importance: (i8, i8),
    /// Equality filters on the message's flags (`is_draft=true`, ...).
    pub flags: Vec<(MessageFlag, bool)>,
    /// A filter no message can pass (the original's equality filter on a field
    /// messages do not have): the list is empty.
    pub matches_nothing: bool,
    pub limit: usize,
    pub offset: usize,
}

/// A flag of a message lists may filter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFlag {
    IsDraft,
    IsReceived,
    IsUnread,
    IsAnswered,
}

impl MessageFlag {
    /// The flag of this name (the message field's name in the API).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "is_draft" => Self::IsDraft,
            "is_received" => Self::IsReceived,
            "is_unread" => Self::IsUnread,
            "is_answered" => Self::IsAnswered,
            _ => return None,
        })
    }

    fn of(self, m: &Message) -> bool {
        match self {
            Self::IsDraft => m.is_draft,
            Self::IsReceived => m.is_received,
            Self::IsUnread => m.is_unread,
            Self::IsAnswered => m.is_answered,
        }
    }
}

impl Default for MessageFilter {
    fn default() -> Self {
        Self {
            discussion_id: None,
            pi: (0, 100),
            importance: (-10, 10),
            flags: Vec::new(),
            matches_nothing: false,
            limit: 20,
            offset: 0,
        }
    }
}

impl MessageFilter {
    fn is_unfiltered(&self) -> bool {
        self.pi == (0, 100) && self.importance == (-10, 10) && self.flags.is_empty()
    }
    fn accepts(&self, m: &Message) -> bool {
        let pi = m.pi.map(|p| p.aggregate()).unwrap_or(0);
        // Several values for one flag: any of them (`is_draft=true&is_draft=false`).
        let flag_ok = |flag: MessageFlag| {
            let wanted = self.flags.iter().filter(|(f, _)| *f == flag);
            wanted.clone().next().is_none() || wanted.clone().any(|(_, v)| *v == flag.of(m))
        };
        (self.pi.0..=self.pi.1).contains(&pi)
            && (self.importance.0..=self.importance.1).contains(&m.importance_level)
            && [
                MessageFlag::IsDraft,
                MessageFlag::IsReceived,
                MessageFlag::IsUnread,
                MessageFlag::IsAnswered,
            ]
            .into_iter()
            .all(flag_ok)
    }
}

/// Most records read per scan. A message record holds its bodies whole (up to
/// the mail size limit), so a list starts with one record per scan and reads
/// more at a time only while records are small ([`next_chunk`]): a scan of
/// hundreds of large messages would be gigabytes. Messages are decoded one by one.
const SCAN_CHUNK: usize = 64;
/// Keys of the by-date index read per scan.
const INDEX_CHUNK: usize = 1_000;
/// Records larger than this on average keep scans at one record.
const SMALL_RECORD: usize = 256 * 1024;

/// The next scan's size after a scan that read `records` records of `bytes`.
pub(crate) fn next_chunk(chunk: usize, records: usize, bytes: usize) -> usize {
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
    /// false to take no more. Answers the total that match the filter. The
    /// messages' participants are resolved against the user's contacts as they
    /// are now ([`super::contact_cards`]), each address of the page once.
    #[tracing::instrument(skip(self, visit))]
    pub async fn visit_messages(
        &self,
        user_id: Uuid,
        filter: &MessageFilter,
        visit: impl FnMut(Message) -> bool + Send,
    ) -> CoreResult<u64> {
        if filter.matches_nothing {
            return Ok(0);
        }
        let mut page = Page {
            filter,
            cards: self.contact_cards(user_id),
            taken: 0,
            open: filter.limit > 0,
            visit,
        };
        match &filter.discussion_id {
            Some(d) => self.visit_discussion(user_id, d, &mut page).await,
            None => self.visit_all(user_id, &mut page).await,
        }
    }

    /// All the user's messages. Unfiltered: by `date_sort` newest first (ties:
    /// by id), from the by-date index (see [`Core::visit_by_date`]). Filtered,
    /// every message is read anyway: the matching ones are handed out by
    /// `date_sort` (see [`Core::hand_out_by_date`]).
    async fn visit_all<F: FnMut(Message) -> bool + Send>(
        &self,
        user_id: Uuid,
        page: &mut Page<'_, F>,
    ) -> CoreResult<u64> {
        if page.filter.is_unfiltered() {
            return self.visit_by_date(user_id, page).await;
        }
        let scope = Scope::User(user_id);
        let records = &self.stores().records;
        let mut matching: Vec<(DateTime<Utc>, Uuid)> = Vec::new();
        let mut after = None;
        let mut chunk = 1;
        loop {
            let scan = records
                .scan(MESSAGES, scope, Scan::all(chunk).reversed().after(after))
                .await?;
            let bytes = scan.items.iter().map(|(_, v)| v.len()).sum();
            chunk = next_chunk(chunk, scan.items.len(), bytes);
            for (_, v) in &scan.items {
                let m: Message = decode(MESSAGES.name, v)?;
                if page.filter.accepts(&m) {
                    matching.push((m.date_sort, m.id));
                }
            }
            match scan.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        self.hand_out_by_date(user_id, matching, page).await
    }

    /// The unfiltered list, as the original's index sorted it (`date_sort`
    /// descending, `idx/messages.go`): the by-date index is read newest first,
    /// its keys up to the offset skipped unread, and only the page's messages
    /// read; the total comes from a counter.
    async fn visit_by_date<F: FnMut(Message) -> bool + Send>(
        &self,
        user_id: Uuid,
        page: &mut Page<'_, F>,
    ) -> CoreResult<u64> {
        let scope = Scope::User(user_id);
        let records = &self.stores().records;
        let mut skip = page.filter.offset;
        let mut after = None;
        while page.open {
            let wanted = skip
                .saturating_add(page.filter.limit.saturating_sub(page.taken))
                .clamp(1, INDEX_CHUNK);
            let scan = records
                .scan(
                    MESSAGES_BY_DATE,
                    scope,
                    Scan::all(wanted).reversed().after(after),
                )
                .await?;
            for (key, _) in &scan.items {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let Some(id) = message_of_date_key(key) else {
                    continue;
                };
                if !page.open {
                    break;
                }
                match self.message(user_id, id).await {
                    Ok(m) => self.give(page, m).await?,
                    Err(CoreError::NotFound { .. }) => continue,
                    Err(e) => return Err(e),
                }
            }
            match scan.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Ok(records
            .counter(COUNTERS, scope, counter::MESSAGES)
            .await?
            .max(0) as u64)
    }

    /// A discussion's messages, by `date_sort` newest first (ties: by id), as
    /// the original's index sorted them: the messages are read once to filter
    /// and order them, and the page's again to hand them out.
    async fn visit_discussion<F: FnMut(Message) -> bool + Send>(
        &self,
        user_id: Uuid,
        discussion_id: &str,
        page: &mut Page<'_, F>,
    ) -> CoreResult<u64> {
        let ids = self.discussion_message_ids(user_id, discussion_id).await?;
        let mut matching: Vec<(DateTime<Utc>, Uuid)> = Vec::new();
        for id in ids {
            match self.message(user_id, id).await {
                Ok(m) if page.filter.accepts(&m) => matching.push((m.date_sort, m.id)),
                Ok(_) | Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        self.hand_out_by_date(user_id, matching, page).await
    }

    /// Hands the page of `matching` messages to `page`, by `date_sort` newest
    /// first (ties: by id), as the original's index sorted them
    /// (`idx/messages.go`); answers how many match.
    async fn hand_out_by_date<F: FnMut(Message) -> bool + Send>(
        &self,
        user_id: Uuid,
        mut matching: Vec<(DateTime<Utc>, Uuid)>,
        page: &mut Page<'_, F>,
    ) -> CoreResult<u64> {
        matching.sort_unstable_by(|a, b| b.cmp(a));
        for (_, id) in matching.iter().skip(page.filter.offset) {
            if !page.open {
                break;
            }
            match self.message(user_id, *id).await {
                Ok(m) => self.give(page, m).await?,
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(matching.len() as u64)
    }

    /// Hands `m` to `page`, its participants resolved.
    async fn give<F: FnMut(Message) -> bool + Send>(
        &self,
        page: &mut Page<'_, F>,
        mut m: Message,
    ) -> CoreResult<()> {
        self.resolve_participants(&mut page.cards, &mut m.participants)
            .await?;
        page.give(m);
        Ok(())
    }
}

/// A page being handed out: gives `visit` the messages from `offset` on until
/// it has `limit` or `visit` wants no more.
struct Page<'f, F> {
    filter: &'f MessageFilter,
    /// The contacts of the page's participants.
    cards: ContactCards,
    /// Messages given to `visit`.
    taken: usize,
    open: bool,
    visit: F,
}

impl<F: FnMut(Message) -> bool> Page<'_, F> {
    /// Hands `m` to `visit`, counted in the page.
    fn give(&mut self, m: Message) {
        self.taken += 1;
        self.open = (self.visit)(m) && self.taken < self.filter.limit;
    }
}
