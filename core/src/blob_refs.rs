//! Reference counts of blobs, so that deleting mail deletes its bytes.
//!
//! Blobs are content addressed: the same raw mail delivered to two users, or twice,
//! is one blob, so it can be deleted only once nothing points at it. Every record
//! that points at a blob counts in [`BLOB_REFS`], in the same batch that writes or
//! removes it:
//!
//! | Record | Blob | Counted |
//! |---|---|---|
//! | pending or quarantined delivery | its raw mail | +1 at acceptance, −1 when it goes (a stored message takes it over in the same batch) |
//! | message | its raw mail, each attachment uploaded to a draft | +1 when written with it, −1 when deleted (alone or with the account) |
//! | outbound job | the rendered mail | +1 when queued, −1 when it ends |
//! | component version | its Wasm | +1, never dropped |
//!
//! A reference is only ever added with the blob itself (`BlobStore::put_then_write`)
//! or handed over in one batch, never by a plain write. A batch that drops one also
//! writes a release entry ([`BLOB_RELEASES`]); after the batch, and at start for
//! those a crash left, each entry asks the store to delete the blob if its count
//! reads zero (`BlobStore::delete_unreferenced`, one step against every batch on
//! the embedded store), then goes. A blob shared by two users' copies of a mail
//! stays while one counts it; a delivery of the same bytes at the moment of the
//! deletion stores them again.
//!
//! Stores written by versions without counts are counted once, at start, before
//! anything else runs ([`Core::prepare_blob_references`]); until then nothing is
//! deleted. A store without a shared commit log (Scylla) keeps every blob.

use std::collections::HashMap;

use caliopen_storage_traits::{Batch, BlobId, Scan, Scope};
use uuid::Uuid;

use crate::codec::decode;
use crate::delivery::{PendingDelivery, QuarantinedDelivery};
use crate::error::CoreResult;
use crate::model::{Message, User};
use crate::outbound::queue::OutboundJob;
use crate::service::components::ComponentRecord;
use crate::tables::{
    BLOB_REFS, BLOB_RELEASES, COMPONENTS, DELIVERIES, MESSAGES, OUTBOUND, QUARANTINE, SYSTEM, USERS,
};
use crate::{Core, codec};

/// The `system` record saying every reference is counted.
const COUNTED: &[u8] = b"blob_refs_counted";

/// Adds a reference to `id` in `batch` (the batch must be written with the blob,
/// `put_then_write`, or hand over a reference dropped in the same batch).
pub(crate) fn add_ref(batch: &mut Batch, id: BlobId) {
    batch.add(BLOB_REFS, Scope::Global, id.as_bytes().to_vec(), 1);
}

/// The blobs a message points at: its raw mail and its uploaded attachments.
pub(crate) fn message_blobs(message: &Message) -> Vec<BlobId> {
    let raw = message.raw_msg_id.as_deref();
    let attachments = message.attachments.iter().filter_map(|a| a.blob.as_deref());
    raw.into_iter()
        .chain(attachments)
        .filter_map(|id| id.parse().ok())
        .collect()
}

/// References dropped in one batch, to release once it is written.
#[derive(Debug, Default)]
#[must_use = "release the blobs once the batch is written"]
pub(crate) struct Releases(Vec<Vec<u8>>);

impl Releases {
    /// Drops a reference to `id` in `batch`, with its release entry.
    pub(crate) fn drop_ref(&mut self, batch: &mut Batch, id: BlobId) {
        batch.add(BLOB_REFS, Scope::Global, id.as_bytes().to_vec(), -1);
        let mut entry = id.as_bytes().to_vec();
        entry.extend_from_slice(Uuid::now_v7().as_bytes());
        batch.put(BLOB_RELEASES, Scope::Global, entry.clone(), Vec::new());
        self.0.push(entry);
    }

    /// Releases the blobs once the batch that dropped them is written; a failure
    /// leaves the entries for the sweep at the next start.
    pub(crate) async fn release(self, core: &Core) {
        for entry in self.0 {
            if let Err(e) = core.release_entry(&entry).await {
                tracing::warn!(error = %e, "a blob release waits for the next start");
            }
        }
    }
}

impl Core {
    /// Counts every blob reference when the store was written by a version that
    /// did not, then releases what a crash left to release. Call at start, before
    /// any delivery, request or deployment runs: until it has run once, no blob is
    /// deleted.
    #[tracing::instrument(skip(self))]
    pub async fn prepare_blob_references(&self) -> CoreResult<()> {
        let records = &self.stores().records;
        if records.get(SYSTEM, Scope::Global, COUNTED).await?.is_none() {
            let counted = self.count_blob_references().await?;
            tracing::info!(blobs = counted, "blob references counted");
            let mut batch = Batch::new();
            batch.put(
                SYSTEM,
                Scope::Global,
                COUNTED.to_vec(),
                codec::encode(&1u32),
            );
            records.write(batch).await?;
        }
        self.inner
            .blob_refs_counted
            .store(true, std::sync::atomic::Ordering::Release);
        let released = self.sweep_blob_releases().await?;
        if released > 0 {
            tracing::info!(released, "blob releases left by an earlier run done");
        }
        Ok(())
    }

    /// Sets every blob's count to the references the records hold (idempotent).
    async fn count_blob_references(&self) -> CoreResult<usize> {
        let mut counts: HashMap<BlobId, i64> = HashMap::new();
        let mut count = |id: BlobId| *counts.entry(id).or_default() += 1;
        for user in self.scan_decoded::<User>(USERS, Scope::Global).await? {
            let scope = Scope::User(user.id);
            self.visit_records(MESSAGES, scope, Scan::all(500), |_, v| {
                message_blobs(&decode(MESSAGES.name, v)?)
                    .into_iter()
                    .for_each(&mut count);
                Ok(())
            })
            .await?;
        }
        for d in self
            .scan_decoded::<PendingDelivery>(DELIVERIES, Scope::Global)
            .await?
        {
            count(d.raw.0);
        }
        for q in self
            .scan_decoded::<QuarantinedDelivery>(QUARANTINE, Scope::Global)
            .await?
        {
            count(q.delivery.raw.0);
        }
        for j in self
            .scan_decoded::<OutboundJob>(OUTBOUND, Scope::Global)
            .await?
        {
            count(j.raw.0);
        }
        for c in self
            .scan_decoded::<ComponentRecord>(COMPONENTS, Scope::Global)
            .await?
        {
            if let Ok(id) = c.digest.parse() {
                count(id);
            }
        }
        let records = &self.stores().records;
        let mut batch = Batch::new();
        for (id, n) in &counts {
            let current = records
                .counter(BLOB_REFS, Scope::Global, id.as_bytes())
                .await?;
            if current != *n {
                batch.add(
                    BLOB_REFS,
                    Scope::Global,
                    id.as_bytes().to_vec(),
                    n - current,
                );
            }
            if batch.len() >= Batch::MAX_OPS {
                records.write(std::mem::take(&mut batch)).await?;
            }
        }
        records.write(batch).await?;
        Ok(counts.len())
    }

    /// Releases every blob a release entry names (see the module docs); answers
    /// how many entries were done.
    pub async fn sweep_blob_releases(&self) -> CoreResult<usize> {
        let mut entries = Vec::new();
        self.visit_records(BLOB_RELEASES, Scope::Global, Scan::all(1000), |k, _| {
            entries.push(k.to_vec());
            Ok(())
        })
        .await?;
        for entry in &entries {
            self.release_entry(entry).await?;
        }
        Ok(entries.len())
    }

    /// Deletes the blob of one release entry if nothing counts it, then the entry.
    async fn release_entry(&self, entry: &[u8]) -> CoreResult<()> {
        if !self
            .inner
            .blob_refs_counted
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return Ok(());
        }
        let stores = self.stores();
        if let Some(id) = entry.get(..32).and_then(|b| <[u8; 32]>::try_from(b).ok()) {
            let id = BlobId(id);
            if stores
                .blobs
                .delete_unreferenced(&id, stores.records.as_ref(), BLOB_REFS)
                .await?
            {
                tracing::debug!(blob = %id, "unreferenced blob deleted");
            }
        }
        let mut batch = Batch::new();
        batch.delete(BLOB_RELEASES, Scope::Global, entry.to_vec());
        stores.records.write(batch).await?;
        Ok(())
    }
}
