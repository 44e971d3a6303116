//! The blobs role: content-addressed bytes in the `blobs` keyspace, keyed by their
//! 32-byte SHA-256. The keyspace uses fjall's key-value separation, so large values
//! (raw mails of tens of MB) live in blob files that compactions do not rewrite.
//!
//! A put is a committer job like any record batch, so it shares the group fsync and
//! is durable when it returns; the committer skips the write when the blob already
//! exists. Large blobs are hashed on the blocking pool, and a blob that is already
//! stored is not sent to the committer at all (whatever is visible is durable).

use std::sync::Arc;

use async_trait::async_trait;
use caliopen_storage_traits::{BlobId, BlobStore, StorageResult};

use crate::commit::Work;
use crate::engine::Kv;
use crate::error::{fjall_error, task_failed};

/// Blobs at least this large are hashed off the async threads.
const HASH_OFF_THREAD: usize = 256 * 1024;

/// [`BlobStore`] on the embedded database.
#[derive(Debug, Clone)]
pub struct EmbeddedBlobs {
    pub(crate) kv: Arc<Kv>,
}

#[async_trait]
impl BlobStore for EmbeddedBlobs {
    #[tracing::instrument(level = "debug", name = "blobs.put", skip_all, fields(bytes = data.len()))]
    async fn put(&self, data: &[u8]) -> StorageResult<BlobId> {
        let data = data.to_vec();
        if data.len() < HASH_OFF_THREAD {
            let id = BlobId::of(&data);
            self.kv.submit(Work::PutBlob { id, data }).await?;
            return Ok(id);
        }
        let span = tracing::Span::current();
        let (id, data) =
            tokio::task::spawn_blocking(move || span.in_scope(|| (BlobId::of(&data), data)))
                .await
                .map_err(|e| task_failed("hash a blob", &e))?;
        if !self.exists(&id).await? {
            self.kv.submit(Work::PutBlob { id, data }).await?;
        }
        Ok(id)
    }

    #[tracing::instrument(level = "debug", name = "blobs.get", skip_all, fields(blob = %id))]
    async fn get(&self, id: &BlobId) -> StorageResult<Option<Vec<u8>>> {
        let id = *id;
        self.kv
            .read("read a blob", move |spaces| {
                let value = spaces
                    .blobs
                    .get(id.as_bytes())
                    .map_err(|e| fjall_error("read a blob", e))?;
                Ok(value.map(|v| v.to_vec()))
            })
            .await
    }

    #[tracing::instrument(level = "debug", name = "blobs.exists", skip_all, fields(blob = %id))]
    async fn exists(&self, id: &BlobId) -> StorageResult<bool> {
        let id = *id;
        self.kv
            .read("look up a blob", move |spaces| {
                spaces
                    .blobs
                    .contains_key(id.as_bytes())
                    .map_err(|e| fjall_error("look up a blob", e))
            })
            .await
    }

    #[tracing::instrument(level = "debug", name = "blobs.delete", skip_all, fields(blob = %id))]
    async fn delete(&self, id: &BlobId) -> StorageResult<()> {
        self.kv.submit(Work::DeleteBlob(*id)).await.map(|_| ())
    }
}
