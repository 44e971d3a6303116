//! The discussion list narrowed to an importance range (`X-Caliopen-IL` other
//! than −10..10), as the original computed it (`fac/discussions.go`,
//! `idx/discussions.go`: an aggregation by discussion of the messages the IL
//! range lets through): only messages in range count; a discussion with none is
//! left out; its counts, last message, date and importance come from those in
//! range; the list is ordered by that last message.
//!
//! Each discussion's summary says how many of its messages have each level
//! ([`Levels`]), so the messages are read only for a discussion that has
//! messages both in and out of the range (or a summary written before the
//! levels were kept); one wholly in range is answered from its summary.

use caliopen_storage_traits::{Scan, Scope};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::discussion_upkeep::EXCERPT_CHARS;
use super::discussions::DiscussionView;
use crate::Core;
use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::model::discussion::Levels;
use crate::model::{Discussion, Message};
use crate::tables::DISCUSSIONS;

/// A listed discussion: its stored summary, and when only some of its messages
/// are in range, what those add up to.
struct Listed {
    discussion: Discussion,
    part: Option<Part>,
}

/// What the messages of a discussion within the range add up to.
struct Part {
    total: u64,
    unread: u64,
    attachments: u64,
    levels: Levels,
    last: Message,
}

impl Listed {
    fn order(&self) -> (DateTime<Utc>, Uuid) {
        match &self.part {
            Some(p) => (p.last.date_sort, p.last.id),
            None => (
                self.discussion.last_message_date,
                self.discussion.last_message_id,
            ),
        }
    }
}

impl Core {
    /// The user's discussions counting only messages with an importance level
    /// in `importance` (see the module docs), with the total count.
    pub(crate) async fn list_discussions_in_range(
        &self,
        user_id: Uuid,
        importance: (i8, i8),
        limit: usize,
        offset: usize,
    ) -> CoreResult<(u64, Vec<DiscussionView>)> {
        let mut summaries = Vec::new();
        self.visit_records(DISCUSSIONS, Scope::User(user_id), Scan::all(256), |_, v| {
            summaries.push(decode::<Discussion>(DISCUSSIONS.name, v)?);
            Ok(())
        })
        .await?;
        let mut listed = Vec::with_capacity(summaries.len());
        for discussion in summaries {
            let (levels, within) = (&discussion.levels, discussion.levels.within(importance));
            if levels.total() > 0 && within == 0 {
                continue;
            }
            if levels.total() > 0 && within == levels.total() {
                listed.push(Listed {
                    discussion,
                    part: None,
                });
                continue;
            }
            if let Some(part) = self
                .part_in_range(user_id, &discussion.id, importance)
                .await?
            {
                listed.push(Listed {
                    discussion,
                    part: Some(part),
                });
            }
        }
        listed.sort_unstable_by_key(|l| std::cmp::Reverse(l.order()));
        let total = listed.len() as u64;
        let mut cards = self.contact_cards(user_id);
        let mut out = Vec::new();
        for l in listed.into_iter().skip(offset).take(limit) {
            let Some(part) = l.part else {
                out.push(self.discussion_view(&mut cards, l.discussion).await?);
                continue;
            };
            let (last, d) = (&part.last, l.discussion);
            let mut discussion = Discussion {
                participants: last.participants.clone(),
                last_message_id: last.id,
                last_message_date: last.date_sort,
                last_message_subject: last.subject.clone(),
                excerpt: last.excerpt(EXCERPT_CHARS),
                importance_level: part.levels.importance(),
                protocol: last.protocol.clone(),
                date_update: last.date_sort,
                levels: part.levels,
                ..d
            };
            self.resolve_participants(&mut cards, &mut discussion.participants)
                .await?;
            out.push(DiscussionView {
                discussion,
                total_count: part.total,
                unread_count: part.unread,
                attachment_count: part.attachments,
                tags: part.last.tags,
            });
        }
        Ok((total, out))
    }

    /// What the messages of a discussion with a level in `importance` add up
    /// to, if it has any.
    async fn part_in_range(
        &self,
        user_id: Uuid,
        discussion_id: &str,
        importance: (i8, i8),
    ) -> CoreResult<Option<Part>> {
        let mut part: Option<Part> = None;
        for id in self.discussion_message_ids(user_id, discussion_id).await? {
            let m = match self.message(user_id, id).await {
                Ok(m) => m,
                Err(CoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            if !(importance.0..=importance.1).contains(&m.importance_level) {
                continue;
            }
            let (level, unread, attachments) =
                (m.importance_level, m.is_unread, m.attachments.len() as u64);
            let p = match &mut part {
                Some(p) => {
                    if (m.date_sort, m.id) > (p.last.date_sort, p.last.id) {
                        p.last = m;
                    }
                    p
                }
                None => part.insert(Part {
                    total: 0,
                    unread: 0,
                    attachments: 0,
                    levels: Levels::default(),
                    last: m,
                }),
            };
            p.total += 1;
            p.unread += u64::from(unread);
            p.attachments += attachments;
            p.levels.add(level);
        }
        Ok(part)
    }
}
