//! Search (`GET /v2/search`): full-text hits from the search role, each with the
//! record read back from the records store. The index keeps only what search
//! needs; what clients see comes from the records, and a hit whose record is
//! gone (deleted since, its outbox entry not yet applied) is left out.

use std::collections::BTreeMap;

use caliopen_storage_traits::search::{DocKind, KindHits, SearchQuery};
use uuid::Uuid;

use super::validate;
use crate::Core;
use crate::error::{CoreError, CoreResult};
use crate::model::{Contact, Message};

/// Hits per kind when the request names no `doctype` (the original API's rule).
pub const HITS_WITHOUT_DOCTYPE: usize = 5;
/// The deepest page a search may reach (offset + limit).
pub const MAX_SEARCH_WINDOW: usize = 10_000;

/// One hit with its record.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<T> {
    pub id: Uuid,
    pub score: f32,
    /// Field name to fragments where the words were found.
    pub highlights: BTreeMap<String, Vec<String>>,
    pub document: T,
}

/// The hits of one kind and how many documents of that kind match.
#[derive(Debug, Clone, PartialEq)]
pub struct Hits<T> {
    pub total: u64,
    pub hits: Vec<Hit<T>>,
}

impl<T> Default for Hits<T> {
    fn default() -> Self {
        Self {
            total: 0,
            hits: Vec::new(),
        }
    }
}

/// What a search answers: `{total, messages_hits, contact_hits}` in the API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchOutcome {
    pub total: u64,
    pub messages: Hits<Message>,
    pub contacts: Hits<Contact>,
}

impl Core {
    /// Searches the user's messages and contacts. `doctype` is `message` or
    /// `contact`; without it both kinds are searched and at most
    /// [`HITS_WITHOUT_DOCTYPE`] hits of each are answered, from the first.
    #[tracing::instrument(skip(self, term))]
    pub async fn search(
        &self,
        user_id: Uuid,
        term: &str,
        doctype: Option<&str>,
        limit: usize,
        offset: usize,
    ) -> CoreResult<SearchOutcome> {
        let term = term.trim();
        if term.is_empty() {
            return Err(CoreError::invalid("term", "is required"));
        }
        validate::text("term", term, 512)?;
        let kind = match doctype {
            None | Some("") => None,
            Some("message") => Some(DocKind::Message),
            Some("contact") => Some(DocKind::Contact),
            Some(_) => {
                return Err(CoreError::invalid(
                    "doctype",
                    "must be `message` or `contact`",
                ));
            }
        };
        let (limit, offset) = match kind {
            None => (limit.min(HITS_WITHOUT_DOCTYPE), 0),
            Some(_) => (limit, offset),
        };
        if offset.saturating_add(limit) > MAX_SEARCH_WINDOW {
            return Err(CoreError::invalid(
                "offset",
                format!("offset + limit must be at most {MAX_SEARCH_WINDOW}"),
            ));
        }
        let results = self
            .stores()
            .search
            .search(&SearchQuery {
                user: user_id,
                text: term.to_owned(),
                kind,
                pi: None,
                importance: None,
                offset,
                limit,
            })
            .await?;
        let messages = self
            .with_records(results.messages, |id| self.message(user_id, id))
            .await?;
        let contacts = self
            .with_records(results.contacts, |id| self.contact(user_id, id))
            .await?;
        Ok(SearchOutcome {
            total: messages.total + contacts.total,
            messages,
            contacts,
        })
    }

    /// Reads the record of every hit; hits whose record is gone are dropped
    /// (and no longer counted).
    async fn with_records<T, F, Fut>(&self, found: KindHits, read: F) -> CoreResult<Hits<T>>
    where
        F: Fn(Uuid) -> Fut,
        Fut: std::future::Future<Output = CoreResult<T>>,
    {
        let mut out = Hits {
            total: found.total,
            hits: Vec::with_capacity(found.hits.len()),
        };
        for hit in found.hits {
            match read(hit.id).await {
                Ok(document) => out.hits.push(Hit {
                    id: hit.id,
                    score: hit.score,
                    highlights: hit.highlights,
                    document,
                }),
                Err(CoreError::NotFound { .. }) => out.total = out.total.saturating_sub(1),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
