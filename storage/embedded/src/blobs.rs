//! The blobs role: content-addressed bytes in the `blobs` keyspace, keyed by their
//! 32-byte SHA-256. The keyspace uses fjall's key-value separation, so large values
//! (raw mails of tens of MB) live in blob files that compactions do not rewrite.
//!
//! A put is a committer job like any record batch, so it shares the group fsync and
//! is durable when it returns; the committer skips the write when the blob already
//! exists. Large blobs are hashed on the blocking pool, and a blob that is already
//! stored is not sent to the committer at all (whatever is visible is durable). A blob
//! spooled to a file is hashed from the file; when it is large the committer reads it
//! from there straight into a blob file (`commit/ingest.rs`), so it is in memory once,
//! for that time only.
//! `delete_unreferenced` is a committer job too: the reference count is read and
//! the blob deleted between two batches, never across one.

use std::sync::Arc;

use async_trait::async_trait;
use caliopen_storage_traits::blobs::put_then_write_in_turn;
use caliopen_storage_traits::{
    Batch, BlobId, BlobSource, BlobStore, KeyLayout, RecordStore, Scope, StorageError,
    StorageResult, Table,
};

use crate::commit::ingest::INGEST_BYTES;
use crate::commit::{Done, Work};
use crate::engine::Kv;
use crate::error::{fjall_error, io_error, task_failed};
use crate::keys;

/// Blobs at least this large are hashed off the async threads.
const HASH_OFF_THREAD: usize = 256 * 1024;

/// The id of `data`, hashed off the async threads when it is large.
async fn hash(data: Vec<u8>) -> StorageResult<(BlobId, Vec<u8>)> {
    if data.len() < HASH_OFF_THREAD {
        return Ok((BlobId::of(&data), data));
    }
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(|| (BlobId::of(&data), data)))
        .await
        .map_err(|e| task_failed("hash a blob", &e))
}

/// The id of the first `len` bytes of `file`, hashed on the blocking pool in pieces.
async fn hash_file(file: std::fs::File, len: u64) -> StorageResult<(BlobId, std::fs::File)> {
    use std::io::{Read, Seek, SeekFrom};
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let mut file = file;
            file.seek(SeekFrom::Start(0))?;
            let id = BlobId::of_reader((&mut file).take(len))?;
            Ok((id, file))
        })
    })
    .await
    .map_err(|e| task_failed("hash a spooled blob", &e))?
    .map_err(|e: std::io::Error| io_error("hash a spooled blob", &e))
}

/// The bytes of `source` and their id, read and hashed off the async threads when they are
/// in a file or large.
async fn read_and_hash(source: BlobSource) -> StorageResult<(BlobId, Vec<u8>)> {
    let source = match source {
        BlobSource::Memory(data) => return hash(data).await,
        file => file,
    };
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let data = source.into_bytes()?;
            Ok((BlobId::of(&data), data))
        })
    })
    .await
    .map_err(|e| task_failed("read and hash a blob", &e))?
}

/// [`BlobStore`] on the embedded database.
#[derive(Debug, Clone)]
pub struct EmbeddedBlobs {
    pub(crate) kv: Arc<Kv>,
}

#[async_trait]
impl BlobStore for EmbeddedBlobs {
    #[tracing::instrument(level = "debug", name = "blobs.put", skip_all, fields(bytes = data.len()))]
    async fn put(&self, data: &[u8]) -> StorageResult<BlobId> {
        keys::check_value("blobs", data)?;
        let (id, data) = hash(data.to_vec()).await?;
        if data.len() < HASH_OFF_THREAD || !self.exists(&id).await? {
            self.kv.submit(Work::PutBlob { id, data }).await?;
        }
        Ok(id)
    }

    async fn put_then_write(
        &self,
        data: &[u8],
        records: &dyn RecordStore,
        then: Box<dyn FnOnce(BlobId) -> Batch + Send>,
    ) -> StorageResult<BlobId> {
        self.put_source_then_write(BlobSource::Memory(data.to_vec()), records, then)
            .await
    }

    /// One committer job for both when `records` is this database's: the blob and
    /// the batch share one fsync, and the batch is never committed without the blob.
    /// A large blob in a file is hashed from the file and read by the committer (see the
    /// module doc); other sources are read and hashed on the blocking pool.
    #[tracing::instrument(level = "debug", name = "blobs.put_then_write", skip_all, fields(bytes = source.len()))]
    async fn put_source_then_write(
        &self,
        source: BlobSource,
        records: &dyn RecordStore,
        then: Box<dyn FnOnce(BlobId) -> Batch + Send>,
    ) -> StorageResult<BlobId> {
        keys::check_value_len("blobs", source.len())?;
        if records.commit_log() != Some(self.kv.log_id()) {
            let data = source.read().await?;
            return put_then_write_in_turn(self, &data, records, then).await;
        }
        let (id, work): (BlobId, Box<dyn FnOnce(Batch) -> Work + Send>) = match source {
            BlobSource::File { file, len } if len >= INGEST_BYTES as u64 => {
                let (id, file) = hash_file(file, len).await?;
                let work = move |batch| Work::SpooledBlobThenRecords {
                    id,
                    file,
                    len,
                    batch,
                };
                (id, Box::new(work))
            }
            source => {
                let (id, data) = read_and_hash(source).await?;
                let work = move |batch| Work::BlobThenRecords { id, data, batch };
                (id, Box::new(work))
            }
        };
        let batch = then(id);
        batch.validate()?;
        keys::check_batch_values(&batch)?;
        self.kv.submit(work(batch)).await?;
        Ok(id)
    }

    /// One committer job reads the count and deletes: exact against every batch,
    /// since the committer writes them all, one after the other.
    #[tracing::instrument(level = "debug", name = "blobs.delete_unreferenced", skip_all, fields(blob = %id))]
    async fn delete_unreferenced(
        &self,
        id: &BlobId,
        records: &dyn RecordStore,
        refs: Table,
    ) -> StorageResult<bool> {
        if records.commit_log() != Some(self.kv.log_id()) {
            return Ok(false);
        }
        if refs.layout != KeyLayout::Counter {
            return Err(StorageError::Invalid(format!(
                "table `{}` does not hold counters",
                refs.name
            )));
        }
        let refs = keys::record(refs, Scope::Global, id.as_bytes())?;
        let done = self
            .kv
            .submit(Work::DeleteUnreferencedBlob { id: *id, refs })
            .await?;
        Ok(done == Done::Count(1))
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
