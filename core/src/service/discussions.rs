//! Discussions: listing with last message, counts and importance, and lookup
//! of the discussion a set of participants makes. A list narrowed to an
//! importance range is computed in `discussion_ranges`.

use caliopen_storage_traits::{Scan, Scope};
use uuid::Uuid;

use super::contact_cards::ContactCards;
use super::drafts::DraftParticipant;
use super::validate;
use crate::Core;
use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::model::discussion::{ANY_LEVEL, discussion_id, discussion_key};
use crate::model::{Discussion, Participant, ParticipantRole};
use crate::tables::{COUNTERS, DISCUSSIONS, DISCUSSIONS_BY_DATE, counter};

/// A discussion with its counts, as lists show it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscussionView {
    pub discussion: Discussion,
    pub total_count: u64,
    pub unread_count: u64,
    pub attachment_count: u64,
    /// The tags of its last message: what `PATCH /v2/discussions/{id}/tags` set
    /// on every message, and the state that patch is checked against.
    pub tags: Vec<String>,
}

/// What `POST /v2/participants/discussion` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscussionLookup {
    /// The id the participants' discussion has (or would have).
    pub hash: String,
    /// The same id, when the user has that discussion.
    pub discussion_id: Option<String>,
}

impl Core {
    /// The discussion a set of participants makes for the user. When none of
    /// them is one of the user's addresses, the user's identities are tried as
    /// sender (the local one first), since a client may leave the user out.
    pub async fn discussion_for_participants(
        &self,
        user_id: Uuid,
        participants: &[DraftParticipant],
    ) -> CoreResult<DiscussionLookup> {
        if participants.is_empty() {
            return Err(CoreError::invalid(
                "participants",
                "at least one participant is needed",
            ));
        }
        let mut given = Vec::with_capacity(participants.len());
        for (i, p) in participants.iter().enumerate() {
            let role = ParticipantRole::parse(&p.role).ok_or_else(|| {
                CoreError::invalid(
                    format!("participants[{i}].type"),
                    "is not a participant type",
                )
            })?;
            let protocol = if p.protocol.is_empty() {
                "email".to_owned()
            } else {
                p.protocol.clone()
            };
            let address = if protocol == "email" {
                validate::email(&format!("participants[{i}].address"), &p.address)?
            } else {
                p.address.trim().to_lowercase()
            };
            given.push(Participant {
                role,
                protocol,
                address,
                label: String::new(),
                contact_ids: Vec::new(),
            });
        }
        let own = self.user_addresses(user_id).await?;
        let mut candidates = vec![given.clone()];
        if !given.iter().any(|p| own.contains(&p.address)) {
            candidates = own
                .iter()
                .map(|address| {
                    let mut set = given.clone();
                    set.push(Participant {
                        role: ParticipantRole::From,
                        protocol: "email".into(),
                        address: address.clone(),
                        label: String::new(),
                        contact_ids: Vec::new(),
                    });
                    set
                })
                .collect();
            candidates.push(given);
        }
        let ids: Vec<String> = candidates
            .iter()
            .map(|set| discussion_id(&discussion_key(set)))
            .collect();
        for id in &ids {
            if self.stored_discussion(user_id, id).await?.is_some() {
                return Ok(DiscussionLookup {
                    hash: id.clone(),
                    discussion_id: Some(id.clone()),
                });
            }
        }
        Ok(DiscussionLookup {
            hash: ids[0].clone(),
            discussion_id: None,
        })
    }

    /// One discussion of the user, participants resolved against the user's
    /// contacts as they are now ([`super::contact_cards`]).
    pub async fn discussion(
        &self,
        user_id: Uuid,
        discussion_id: &str,
    ) -> CoreResult<DiscussionView> {
        let discussion = self
            .stored_discussion(user_id, discussion_id)
            .await?
            .ok_or_else(|| {
                let shown = if discussion_id.len() <= crate::limits::DISCUSSION_ID_LEN {
                    discussion_id
                } else {
                    "(too long)"
                };
                CoreError::not_found("discussion", shown)
            })?;
        let mut cards = self.contact_cards(user_id);
        self.discussion_view(&mut cards, discussion).await
    }

    /// The stored summary of a discussion, if the user has it.
    pub(crate) async fn stored_discussion(
        &self,
        user_id: Uuid,
        discussion_id: &str,
    ) -> CoreResult<Option<Discussion>> {
        if !crate::limits::may_exist(discussion_id, crate::limits::DISCUSSION_ID_LEN) {
            return Ok(None);
        }
        match self
            .stores()
            .records
            .get(DISCUSSIONS, Scope::User(user_id), discussion_id.as_bytes())
            .await?
        {
            Some(bytes) => Ok(Some(decode(DISCUSSIONS.name, &bytes)?)),
            None => Ok(None),
        }
    }

    /// A stored discussion with its counts, participants resolved through `cards`.
    pub(super) async fn discussion_view(
        &self,
        cards: &mut ContactCards,
        mut discussion: Discussion,
    ) -> CoreResult<DiscussionView> {
        let user_id = cards.user_id();
        let records = &self.stores().records;
        let scope = Scope::User(user_id);
        let count = |key: Vec<u8>| async move {
            records
                .counter(COUNTERS, scope, &key)
                .await
                .map(|n| n.max(0) as u64)
        };
        let tags = match self.message(user_id, discussion.last_message_id).await {
            Ok(m) => m.tags,
            Err(CoreError::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        self.resolve_participants(cards, &mut discussion.participants)
            .await?;
        Ok(DiscussionView {
            tags,
            total_count: count(counter::discussion_total(&discussion.id)).await?,
            unread_count: count(counter::discussion_unread(&discussion.id)).await?,
            attachment_count: count(counter::discussion_attachments(&discussion.id)).await?,
            discussion,
        })
    }

    /// The user's discussions, the one with the newest message first, with the
    /// total count. Only messages with an importance level in `importance`
    /// count, as in the original (`fac/discussions.go`, the index query with
    /// the IL range): a discussion with none is left out, and its counts, last
    /// message and importance come from those in range
    /// (`discussion_ranges`).
    pub async fn list_discussions(
        &self,
        user_id: Uuid,
        importance: (i8, i8),
        limit: usize,
        offset: usize,
    ) -> CoreResult<(u64, Vec<DiscussionView>)> {
        if importance != ANY_LEVEL {
            return self
                .list_discussions_in_range(user_id, importance, limit, offset)
                .await;
        }
        let scope = Scope::User(user_id);
        let records = &self.stores().records;
        let mut keys = Vec::new();
        let mut after = None;
        let mut total = 0u64;
        loop {
            let page = records
                .scan(
                    DISCUSSIONS_BY_DATE,
                    scope,
                    Scan::all(1000).reversed().after(after),
                )
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
        let mut cards = self.contact_cards(user_id);
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            // Key: 8-byte date then the discussion id.
            let id = String::from_utf8_lossy(key.get(8..).unwrap_or_default())
                .trim_end_matches('\0')
                .to_owned();
            if let Some(d) = self.stored_discussion(user_id, &id).await? {
                out.push(self.discussion_view(&mut cards, d).await?);
            }
        }
        Ok((total, out))
    }
}
