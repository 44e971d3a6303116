//! The storage layer's contract: four roles, each a trait with no engine behind it.
//!
//! - [`records`]: ordered key/value records in tables, partitioned per user, written in
//!   atomic, durable batches (users, messages, contacts, tags, the delivery queue, the
//!   search outbox, component deployments, ...).
//! - [`blobs`]: content-addressed immutable bytes (raw mail, attachments), never
//!   durable after a record that points at them (`BlobStore::put_then_write` writes
//!   both at once where the records store shares the blob store's log; a `BlobSource`
//!   lets a large one come from a spool file), and deleted only when their reference
//!   count reads zero (`BlobStore::delete_unreferenced`).
//! - [`search`]: the full-text index of messages and contacts, fed from the outbox.
//! - [`ephemeral`]: short-lived values with a time to live (tokens, rate counters).
//! - [`error`]: the one error type every backend answers with.
//! - [`limits`]: the key lengths every backend accepts, checked before any engine
//!   sees a key.
//! - [`blocking`]: callers on threads made for blocking work, which backends may block
//!   instead of handing the work to another thread.
//!
//! [`Stores`] bundles one implementation of each role; the runtime builds it from the
//! configuration and core uses nothing else. Backends live in sibling crates
//! (`caliopen-storage-embedded`, ...) and all pass `caliopen-storage-conformance`.

pub mod blobs;
pub mod blocking;
pub mod ephemeral;
pub mod error;
pub mod limits;
pub mod records;
pub mod search;

use std::sync::Arc;

pub use blobs::{BlobId, BlobSource, BlobStore};
pub use ephemeral::EphemeralStore;
pub use error::{StorageError, StorageResult};
pub use records::{
    Batch, KeyLayout, Op, Page, RecordStore, Scan, Scope, Table, ordered_i64, ordered_i64_value,
};
pub use search::SearchIndex;

/// One implementation of every storage role.
#[derive(Clone, Debug)]
pub struct Stores {
    pub records: Arc<dyn RecordStore>,
    pub blobs: Arc<dyn BlobStore>,
    pub search: Arc<dyn SearchIndex>,
    pub ephemeral: Arc<dyn EphemeralStore>,
}
