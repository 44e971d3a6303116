//! Participant suggestions (`GET /v2/participants/suggest`) from the user's
//! contacts and from the addresses seen in their mail.
//!
//! Every stored delivery updates, in its own batch, one [`SeenParticipant`]
//! record per address it involves (a count and the last display name; keyed by
//! `limits::mail_key`, so an address of any length is counted), so
//! suggesting is a read of two small per-user tables, never a search of the
//! messages. Deleting a message does not lower the counts: they say what the
//! user's mail involved, and only feed suggestions.

use caliopen_storage_traits::{Batch, Scope};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::validate;
use crate::Core;
use crate::codec::{decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::limits::mail_key;
use crate::model::participant::{ParticipantSuggestion, SeenParticipant, SuggestionSource};
use crate::model::{Contact, Participant, ParticipantRole};
use crate::tables::{CONTACTS, SEEN_PARTICIPANTS};

/// Fewest characters a suggestion query has.
const MIN_QUERY: usize = 3;

impl Core {
    /// Adds to `batch` the seen-participant records a new message updates.
    /// Caller holds the user's lock.
    pub(crate) async fn seen_participants_batch(
        &self,
        batch: &mut Batch,
        user_id: Uuid,
        participants: &[Participant],
        date: DateTime<Utc>,
    ) -> CoreResult<()> {
        let scope = Scope::User(user_id);
        let mut done: Vec<String> = Vec::new();
        for p in participants
            .iter()
            .filter(|p| p.role != ParticipantRole::ListId)
        {
            let address = p.address.trim().to_lowercase();
            if address.is_empty() || done.contains(&address) {
                continue;
            }
            let mut seen = match self
                .stores()
                .records
                .get(SEEN_PARTICIPANTS, scope, &mail_key(&address))
                .await?
            {
                Some(bytes) => decode(SEEN_PARTICIPANTS.name, &bytes)?,
                None => SeenParticipant {
                    protocol: p.protocol.clone(),
                    address: address.clone(),
                    label: String::new(),
                    count: 0,
                    last_seen: date,
                },
            };
            seen.count += 1;
            seen.last_seen = date;
            if !p.label.trim().is_empty() {
                seen.label = p.label.trim().to_owned();
            }
            batch.put(SEEN_PARTICIPANTS, scope, mail_key(&address), encode(&seen));
            done.push(address);
        }
        Ok(())
    }

    /// Up to `limit` participants matching `q` (at least 3 characters, found in a
    /// name, a label or an address, case-insensitively): the user's contacts
    /// first, by title, then the addresses seen in their mail, most frequent
    /// first. The user's own addresses are never suggested.
    pub async fn suggest_participants(
        &self,
        user_id: Uuid,
        q: &str,
        limit: usize,
    ) -> CoreResult<Vec<ParticipantSuggestion>> {
        let q = q.trim();
        if q.chars().count() < MIN_QUERY {
            return Err(CoreError::invalid(
                "q",
                format!("must be at least {MIN_QUERY} characters long"),
            ));
        }
        validate::text("q", q, 256)?;
        let needle = q.to_lowercase();
        let matches = |s: &str| s.to_lowercase().contains(&needle);
        let own = self.user_addresses(user_id).await?;

        let mut contacts: Vec<Contact> = self.scan_all(user_id, CONTACTS).await?;
        contacts.sort_by_key(|c| c.title.to_lowercase());
        let mut out: Vec<ParticipantSuggestion> = Vec::new();
        for c in &contacts {
            let by_name = [&c.title, &c.given_name, &c.family_name]
                .iter()
                .any(|n| matches(n));
            let suggestion = |address: &str| ParticipantSuggestion {
                address: address.to_owned(),
                contact_id: Some(c.id),
                label: c.title.clone(),
                protocol: "email".into(),
                source: SuggestionSource::Contact,
            };
            if c.emails.is_empty() && by_name {
                out.push(suggestion(""));
            }
            for e in &c.emails {
                if (by_name || matches(&e.address)) && !own.contains(&e.address) {
                    out.push(suggestion(&e.address));
                }
            }
        }

        let mut seen: Vec<SeenParticipant> = self
            .scan_all::<SeenParticipant>(user_id, SEEN_PARTICIPANTS)
            .await?
            .into_iter()
            .filter(|s| matches(&s.address) || matches(&s.label))
            .filter(|s| !own.contains(&s.address) && !out.iter().any(|o| o.address == s.address))
            .collect();
        seen.sort_by(|a, b| b.count.cmp(&a.count).then(b.last_seen.cmp(&a.last_seen)));
        out.extend(seen.into_iter().map(|s| ParticipantSuggestion {
            address: s.address,
            contact_id: None,
            label: s.label,
            protocol: s.protocol,
            source: SuggestionSource::Participant,
        }));
        out.truncate(limit);
        Ok(out)
    }
}
