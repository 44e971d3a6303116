//! Checks of the search role, split by theme:
//!
//! - [`text`]: what a word matches (AND, case, accents, whole words, addresses, no
//!   words at all) and highlights.
//! - [`scope`]: users, kinds and totals, range filters, ranking and paging, upserts
//!   and deletes, clearing.
//!
//! This module holds the document builders and query helpers they share.

pub mod scope;
pub mod text;

use caliopen_storage_traits::Stores;
use caliopen_storage_traits::search::{
    ContactDocument, DocKind, Document, IndexOp, IndexedParticipant, MessageDocument, SearchQuery,
    SearchResults,
};
use uuid::Uuid;

use crate::Backend;
use crate::support::ok;

/// A message with just a subject and a body.
pub(crate) fn message(user: Uuid, date: i64, subject: &str, body: &str) -> MessageDocument {
    MessageDocument {
        user,
        id: Uuid::new_v4(),
        discussion_id: format!("discussion-{date}"),
        date,
        subject: subject.into(),
        body: body.into(),
        participants: Vec::new(),
        tags: Vec::new(),
        attachment_names: Vec::new(),
        pi: 50,
        importance_level: 0,
        is_unread: true,
        is_draft: false,
        language: Some("en".into()),
    }
}

pub(crate) fn participant(role: &str, label: &str, address: &str) -> IndexedParticipant {
    IndexedParticipant {
        role: role.into(),
        address: address.into(),
        label: label.into(),
    }
}

pub(crate) fn contact(user: Uuid, names: &[&str], emails: &[&str]) -> ContactDocument {
    let owned = |values: &[&str]| values.iter().map(|v| (*v).to_string()).collect();
    ContactDocument {
        user,
        id: Uuid::new_v4(),
        names: owned(names),
        emails: owned(emails),
        phones: vec!["+33 1 23 45 67 89".into()],
        organizations: Vec::new(),
        tags: Vec::new(),
    }
}

pub(crate) fn upsert_message(doc: &MessageDocument) -> IndexOp {
    IndexOp::Upsert(Document::Message(doc.clone()))
}

pub(crate) fn upsert_contact(doc: &ContactDocument) -> IndexOp {
    IndexOp::Upsert(Document::Contact(doc.clone()))
}

pub(crate) async fn apply(backend: &dyn Backend, stores: &Stores, ops: &[IndexOp]) {
    let applied = stores.search.apply(ops).await;
    ok(
        backend,
        format_args!("applying {} index operations", ops.len()),
        applied,
    );
}

/// A query of both kinds, first page of 50.
pub(crate) fn query(user: Uuid, text: &str) -> SearchQuery {
    SearchQuery {
        user,
        text: text.into(),
        kind: None,
        pi: None,
        importance: None,
        offset: 0,
        limit: 50,
    }
}

pub(crate) async fn search(
    backend: &dyn Backend,
    stores: &Stores,
    query: &SearchQuery,
) -> SearchResults {
    let found = stores.search.search(query).await;
    ok(backend, format_args!("searching {:?}", query.text), found)
}

/// The ids of the hits of one kind, in order.
pub(crate) fn ids(results: &SearchResults, kind: DocKind) -> Vec<Uuid> {
    let hits = match kind {
        DocKind::Message => &results.messages.hits,
        DocKind::Contact => &results.contacts.hits,
    };
    hits.iter().map(|hit| hit.id).collect()
}

/// The message ids found for `text`, in order.
pub(crate) async fn message_ids(
    backend: &dyn Backend,
    stores: &Stores,
    user: Uuid,
    text: &str,
) -> Vec<Uuid> {
    ids(
        &search(backend, stores, &query(user, text)).await,
        DocKind::Message,
    )
}
