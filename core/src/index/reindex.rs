//! Rebuilding the search index from the records.

use caliopen_storage_traits::search::{Document, IndexOp};
use caliopen_storage_traits::{Scan, Scope};

use super::documents::{contact_document, message_document};
use crate::Core;
use crate::codec::decode;
use crate::error::CoreResult;
use crate::model::{Contact, Message};
use crate::tables::{CONTACTS, MESSAGES};

/// Documents sent to the search role per call.
const CHUNK: usize = 1_000;

/// Where a reindex stands, reported as it goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReindexProgress {
    pub users_done: usize,
    pub users_total: usize,
    pub messages: usize,
    pub contacts: usize,
}

impl Core {
    /// Empties the search index and rebuilds it from every user's messages and
    /// contacts. `progress` is called after each chunk.
    pub async fn reindex(
        &self,
        mut progress: impl FnMut(ReindexProgress),
    ) -> CoreResult<ReindexProgress> {
        // Pending outbox entries describe records that are read below anyway.
        self.index_all_pending().await?;
        self.stores().search.clear().await?;
        let users = self.all_users().await?;
        let mut state = ReindexProgress {
            users_total: users.len(),
            ..Default::default()
        };
        progress(state);
        for user in users {
            let scope = Scope::User(user.id);
            state.messages += self
                .reindex_table(
                    scope,
                    MESSAGES,
                    |bytes| {
                        decode::<Message>(MESSAGES.name, bytes)
                            .map(|m| Document::Message(message_document(&m)))
                    },
                    &mut |n| {
                        progress(ReindexProgress {
                            messages: state.messages + n,
                            ..state
                        });
                    },
                )
                .await?;
            state.contacts += self
                .reindex_table(
                    scope,
                    CONTACTS,
                    |bytes| {
                        decode::<Contact>(CONTACTS.name, bytes)
                            .map(|c| Document::Contact(contact_document(&c)))
                    },
                    &mut |_| {},
                )
                .await?;
            state.users_done += 1;
            progress(state);
        }
        Ok(state)
    }

    async fn reindex_table(
        &self,
        scope: Scope,
        table: caliopen_storage_traits::Table,
        to_doc: impl Fn(&[u8]) -> CoreResult<Document>,
        progress: &mut dyn FnMut(usize),
    ) -> CoreResult<usize> {
        let mut after = None;
        let mut count = 0;
        loop {
            let page = self
                .stores()
                .records
                .scan(table, scope, Scan::all(CHUNK).after(after))
                .await?;
            let ops: Vec<IndexOp> = page
                .items
                .iter()
                .map(|(_, v)| to_doc(v).map(IndexOp::Upsert))
                .collect::<CoreResult<_>>()?;
            if !ops.is_empty() {
                self.stores().search.apply(&ops).await?;
                count += ops.len();
                progress(count);
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(count),
            }
        }
    }
}
