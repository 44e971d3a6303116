//! Search: the full-text index of messages and contacts.
//!
//! Core never writes here directly: it writes an outbox entry in the same batch as
//! the record, and the indexer applies outbox entries with [`SearchIndex::apply`].
//! Documents carry only what search needs; hits carry ids, and core reads the
//! records themselves from the records role.
//!
//! Query semantics, identical for every backend (the conformance suite checks them):
//! the text is split into words; a document matches when every word matches one of
//! its text fields (case-insensitive, accents folded, whole words; an address also
//! matches by its local part and its domain). Results are scoped to one user,
//! ordered by relevance then newest first, and paged with `offset` / `limit`.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::StorageResult;

/// The kinds of document in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocKind {
    Message,
    Contact,
}

/// A participant of an indexed message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedParticipant {
    /// `From`, `To`, `Cc`, ...
    pub role: String,
    pub address: String,
    pub label: String,
}

/// What the index knows of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageDocument {
    pub user: Uuid,
    pub id: Uuid,
    pub discussion_id: String,
    /// Milliseconds since the epoch, for ordering.
    pub date: i64,
    pub subject: String,
    /// Plain text of the body (HTML stripped by core).
    pub body: String,
    pub participants: Vec<IndexedParticipant>,
    pub tags: Vec<String>,
    pub attachment_names: Vec<String>,
    /// The message's aggregated privacy index, 0..100.
    pub pi: u8,
    pub importance_level: i8,
    pub is_unread: bool,
    pub is_draft: bool,
    /// BCP 47 language tag of the body when known, for per-language analysis.
    pub language: Option<String>,
}

/// What the index knows of a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactDocument {
    pub user: Uuid,
    pub id: Uuid,
    pub names: Vec<String>,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub organizations: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Document {
    Message(MessageDocument),
    Contact(ContactDocument),
}

impl Document {
    pub fn kind(&self) -> DocKind {
        match self {
            Document::Message(_) => DocKind::Message,
            Document::Contact(_) => DocKind::Contact,
        }
    }
    pub fn user(&self) -> Uuid {
        match self {
            Document::Message(m) => m.user,
            Document::Contact(c) => c.user,
        }
    }
    pub fn id(&self) -> Uuid {
        match self {
            Document::Message(m) => m.id,
            Document::Contact(c) => c.id,
        }
    }
}

/// One change to the index. Applying the same operation twice has the effect of
/// applying it once (the outbox may replay).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum IndexOp {
    /// Insert or replace the document with this (user, kind, id).
    Upsert(Document),
    Delete {
        user: Uuid,
        kind: DocKind,
        id: Uuid,
    },
    /// Every document of a user (account deletion).
    DeleteUser {
        user: Uuid,
    },
}

/// A search for one user.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub user: Uuid,
    pub text: String,
    /// Only this kind; both when none.
    pub kind: Option<DocKind>,
    /// Only messages whose privacy index lies in this inclusive range.
    pub pi: Option<(u8, u8)>,
    /// Only messages whose importance level lies in this inclusive range.
    pub importance: Option<(i8, i8)>,
    pub offset: usize,
    pub limit: usize,
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: Uuid,
    pub score: f32,
    /// Field name to fragments of that field where the words were found.
    pub highlights: BTreeMap<String, Vec<String>>,
}

/// Hits of one kind, with the total number of matching documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindHits {
    pub total: u64,
    pub hits: Vec<SearchHit>,
}

/// The answer to a [`SearchQuery`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub messages: KindHits,
    pub contacts: KindHits,
}

/// The search role.
#[async_trait]
pub trait SearchIndex: Send + Sync + fmt::Debug {
    /// Applies operations in order; they are durable and visible to
    /// [`SearchIndex::search`] when this returns `Ok`.
    async fn apply(&self, ops: &[IndexOp]) -> StorageResult<()>;

    /// Runs a query (see the module documentation for its semantics).
    async fn search(&self, query: &SearchQuery) -> StorageResult<SearchResults>;

    /// Removes every document, before a full reindex.
    async fn clear(&self) -> StorageResult<()>;
}
