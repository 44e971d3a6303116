//! Search indexing through a durable outbox.
//!
//! Every service that changes something searchable puts an [`IndexOp`] in the
//! outbox table *in the same batch* as the record itself, so the index can never
//! miss a change that was stored. The [`indexer`] drains the outbox into the
//! search role and deletes what it applied; replaying an entry is harmless. The
//! [`reindex`] rebuilds the whole index from the records.

pub mod documents;
pub mod indexer;
pub mod reindex;

use caliopen_storage_traits::search::IndexOp;
use caliopen_storage_traits::{Batch, Scope};
use uuid::Uuid;

use crate::codec::encode;
use crate::tables::OUTBOX;

/// Adds an outbox entry to a batch.
pub(crate) fn outbox(batch: &mut Batch, op: &IndexOp) {
    batch.put(
        OUTBOX,
        Scope::Global,
        Uuid::now_v7().as_bytes().to_vec(),
        encode(op),
    );
}
