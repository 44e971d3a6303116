//! [`BlobStore`] on ScyllaDB: chunks of at most [`CHUNK_SIZE`] bytes, one partition
//! each, then a metadata row written last, so a blob exists only once whole.

use std::sync::Arc;

use async_trait::async_trait;
use caliopen_storage_traits::{BlobId, BlobStore, StorageResult};
use futures_util::{StreamExt, TryStreamExt, stream};
use tracing::instrument;

use crate::Shared;
use crate::error::{ScyllaError, corrupt};

/// Bytes per chunk: half a megabyte, under the 1 MB per cell guideline.
pub const CHUNK_SIZE: usize = 512 * 1024;

/// Chunks written or read at once per blob.
const PARALLEL_CHUNKS: usize = 4;

/// The metadata row of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: i64,
    pub chunks: i32,
    pub chunk_size: i32,
}

impl BlobMeta {
    /// The metadata of `data` cut into [`CHUNK_SIZE`] chunks.
    pub fn of(data: &[u8]) -> Self {
        Self {
            size: data.len() as i64,
            chunks: data.chunks(CHUNK_SIZE).count() as i32,
            chunk_size: CHUNK_SIZE as i32,
        }
    }
}

/// The chunks of `data`, numbered from 0.
pub fn split(data: &[u8]) -> impl Iterator<Item = (i32, &[u8])> {
    data.chunks(CHUNK_SIZE)
        .enumerate()
        .map(|(i, chunk)| (i as i32, chunk))
}

/// Reassembles chunks read back, checking them against the metadata and the id.
pub fn assemble(
    id: &BlobId,
    meta: BlobMeta,
    chunks: Vec<(i32, Vec<u8>)>,
) -> StorageResult<Vec<u8>> {
    let mut chunks = chunks;
    chunks.sort_by_key(|(index, _)| *index);
    let numbered = chunks
        .iter()
        .enumerate()
        .all(|(i, (index, _))| i as i32 == *index);
    if chunks.len() != meta.chunks as usize || !numbered {
        return Err(corrupt(
            "blob_chunks",
            format!(
                "blob {id}: {} of {} chunks present",
                chunks.len(),
                meta.chunks
            ),
        ));
    }
    let mut data = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
    for (_, chunk) in chunks {
        data.extend_from_slice(&chunk);
    }
    if data.len() as i64 != meta.size || BlobId::of(&data) != *id {
        return Err(corrupt(
            "blob_chunks",
            format!("blob {id}: content does not match its id"),
        ));
    }
    Ok(data)
}

/// The blobs role on a Scylla keyspace.
#[derive(Debug, Clone)]
pub struct ScyllaBlobs {
    shared: Arc<Shared>,
}

impl ScyllaBlobs {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    async fn meta(&self, id: &BlobId) -> StorageResult<Option<BlobMeta>> {
        let ks = &self.shared.keyspace;
        let cql = format!("SELECT size, chunks, chunk_size FROM {ks}.blobs WHERE id = ?");
        let rows = self
            .shared
            .session
            .execute_unpaged(self.shared.statement(cql), (id.as_bytes().as_slice(),))
            .await
            .map_err(|e| ScyllaError::query("read blob metadata", &e))?
            .into_rows_result()
            .map_err(|e| ScyllaError::decode("read blob metadata", e))?;
        let row = rows
            .maybe_first_row::<(i64, i32, i32)>()
            .map_err(|e| ScyllaError::decode("read blob metadata", e))?;
        Ok(row.map(|(size, chunks, chunk_size)| BlobMeta {
            size,
            chunks,
            chunk_size,
        }))
    }
}

#[async_trait]
impl BlobStore for ScyllaBlobs {
    #[instrument(level = "debug", skip(self, data), fields(size = data.len()))]
    async fn put(&self, data: &[u8]) -> StorageResult<BlobId> {
        let id = BlobId::of(data);
        if self.meta(&id).await?.is_some() {
            return Ok(id);
        }
        let ks = &self.shared.keyspace;
        let insert_chunk =
            format!("INSERT INTO {ks}.blob_chunks (id, chunk, data) VALUES (?, ?, ?)");
        let meta = BlobMeta::of(data);
        stream::iter(0..meta.chunks)
            .map(|index| {
                let statement = self.shared.statement(insert_chunk.clone());
                let start = index as usize * CHUNK_SIZE;
                let chunk = &data[start..data.len().min(start + CHUNK_SIZE)];
                async move {
                    self.shared
                        .session
                        .execute_unpaged(statement, (id.as_bytes().as_slice(), index, chunk))
                        .await
                        .map_err(|e| ScyllaError::query("write a blob chunk", &e))
                }
            })
            .buffer_unordered(PARALLEL_CHUNKS)
            .try_collect::<Vec<_>>()
            .await?;
        let insert_meta =
            format!("INSERT INTO {ks}.blobs (id, size, chunks, chunk_size) VALUES (?, ?, ?, ?)");
        self.shared
            .session
            .execute_unpaged(
                self.shared.statement(insert_meta),
                (
                    id.as_bytes().as_slice(),
                    meta.size,
                    meta.chunks,
                    meta.chunk_size,
                ),
            )
            .await
            .map_err(|e| ScyllaError::query("write blob metadata", &e))?;
        Ok(id)
    }

    #[instrument(level = "debug", skip(self))]
    async fn get(&self, id: &BlobId) -> StorageResult<Option<Vec<u8>>> {
        let Some(meta) = self.meta(id).await? else {
            return Ok(None);
        };
        let ks = &self.shared.keyspace;
        let select = format!("SELECT data FROM {ks}.blob_chunks WHERE id = ? AND chunk = ?");
        let chunks = stream::iter(0..meta.chunks)
            .map(|index| {
                let statement = self.shared.statement(select.clone());
                async move {
                    let rows = self
                        .shared
                        .session
                        .execute_unpaged(statement, (id.as_bytes().as_slice(), index))
                        .await
                        .map_err(|e| ScyllaError::query("read a blob chunk", &e))?
                        .into_rows_result()
                        .map_err(|e| ScyllaError::decode("read a blob chunk", e))?;
                    let row = rows
                        .maybe_first_row::<(Vec<u8>,)>()
                        .map_err(|e| ScyllaError::decode("read a blob chunk", e))?;
                    Ok::<_, ScyllaError>(row.map(|(data,)| (index, data)))
                }
            })
            .buffered(PARALLEL_CHUNKS)
            .try_collect::<Vec<_>>()
            .await?;
        assemble(id, meta, chunks.into_iter().flatten().collect()).map(Some)
    }

    #[instrument(level = "debug", skip(self))]
    async fn exists(&self, id: &BlobId) -> StorageResult<bool> {
        Ok(self.meta(id).await?.is_some())
    }

    #[instrument(level = "debug", skip(self))]
    async fn delete(&self, id: &BlobId) -> StorageResult<()> {
        let Some(meta) = self.meta(id).await? else {
            return Ok(());
        };
        let ks = &self.shared.keyspace;
        let key = id.as_bytes().as_slice();
        let delete_meta = format!("DELETE FROM {ks}.blobs WHERE id = ?");
        self.shared
            .session
            .execute_unpaged(self.shared.statement(delete_meta), (key,))
            .await
            .map_err(|e| ScyllaError::query("delete blob metadata", &e))?;
        let delete_chunk = format!("DELETE FROM {ks}.blob_chunks WHERE id = ? AND chunk = ?");
        for index in 0..meta.chunks {
            self.shared
                .session
                .execute_unpaged(self.shared.statement(delete_chunk.clone()), (key, index))
                .await
                .map_err(|e| ScyllaError::query("delete a blob chunk", &e))?;
        }
        Ok(())
    }
}
