//! Discussions: listing with last message, counts and importance, and lookup
//! of the discussion a set of participants makes.

use caliopen_storage_traits::{Scan, Scope};
use uuid::Uuid;

use super::drafts::DraftParticipant;
use super::validate;
use crate::Core;
use crate::codec::decode;
use crate::error::{CoreError, CoreResult};
use crate::model::discussion::{discussion_id, discussion_key};
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
            match self.discussion(user_id, id).await {
                Ok(_) => {
                    return Ok(DiscussionLookup {
                        hash: id.clone(),
                        discussion_id: Some(id.clone()),
                    });
                }
                Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(DiscussionLookup {
            hash: ids[0].clone(),
            discussion_id: None,
        })
    }

    /// One discussion of the user.
    pub async fn discussion(
        &self,
        user_id: Uuid,
        discussion_id: &str,
    ) -> CoreResult<DiscussionView> {
        if !crate::limits::may_exist(discussion_id, crate::limits::DISCUSSION_ID_LEN) {
            return Err(CoreError::not_found("discussion", "(too long)"));
        }
        let bytes = self
            .stores()
            .records
            .get(DISCUSSIONS, Scope::User(user_id), discussion_id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("discussion", discussion_id))?;
        self.discussion_view(user_id, decode(DISCUSSIONS.name, &bytes)?)
            .await
    }

    async fn discussion_view(
        &self,
        user_id: Uuid,
        discussion: Discussion,
    ) -> CoreResult<DiscussionView> {
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
        Ok(DiscussionView {
            tags,
            total_count: count(counter::discussion_total(&discussion.id)).await?,
            unread_count: count(counter::discussion_unread(&discussion.id)).await?,
            attachment_count: count(counter::discussion_attachments(&discussion.id)).await?,
            discussion,
        })
    }

    /// The user's discussions, most recent activity first, with the total count.
    pub async fn list_discussions(
        &self,
        user_id: Uuid,
        limit: usize,
        offset: usize,
    ) -> CoreResult<(u64, Vec<DiscussionView>)> {
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
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            // Key: 8-byte date then the discussion id.
            let id = String::from_utf8_lossy(key.get(8..).unwrap_or_default())
                .trim_end_matches('\0')
                .to_owned();
            match self.discussion(user_id, &id).await {
                Ok(view) => out.push(view),
                Err(CoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((total, out))
    }
}
