//! Blobs: immutable bytes named by their SHA-256, so the same raw mail delivered to
//! several users, or delivered twice, is stored once.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::{Batch, RecordStore, StorageError, StorageResult, Table};

/// The SHA-256 of a blob's bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId(pub [u8; 32]);

impl BlobId {
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({self})")
    }
}

impl FromStr for BlobId {
    type Err = StorageError;
    fn from_str(s: &str) -> StorageResult<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| {
            StorageError::Invalid(format!("`{s}` is not a blob id (64 hex digits)"))
        })?;
        Ok(Self(out))
    }
}

/// The blobs role.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores `data` and returns its id; storing the same bytes again is a no-op.
    /// The blob is durable when this returns `Ok`.
    async fn put(&self, data: &[u8]) -> StorageResult<BlobId>;

    /// The bytes of a blob, or none.
    async fn get(&self, id: &BlobId) -> StorageResult<Option<Vec<u8>>>;

    /// Whether a blob exists.
    async fn exists(&self, id: &BlobId) -> StorageResult<bool>;

    /// Removes a blob (no error when absent). Callers make sure nothing points at it.
    async fn delete(&self, id: &BlobId) -> StorageResult<()>;

    /// Stores `data`, then writes the batch `then` makes of its id to `records`, such
    /// that the batch is never durable without the blob (a pending delivery and the
    /// raw mail it points at). Both are durable when this returns `Ok`; on an error,
    /// the blob may be stored and the batch not.
    ///
    /// The default waits for [`BlobStore::put`], then for [`RecordStore::write`]: two
    /// durable writes in turn. A backend whose records store commits to the same log
    /// ([`RecordStore::commit_log`]) writes both at once.
    async fn put_then_write(
        &self,
        data: &[u8],
        records: &dyn RecordStore,
        then: Box<dyn FnOnce(BlobId) -> Batch + Send>,
    ) -> StorageResult<BlobId> {
        put_then_write_in_turn(self, data, records, then).await
    }

    /// Deletes the blob when its reference count, the counter `refs` of `records`
    /// (global scope, the blob id's 32 bytes as key), reads at most zero at the
    /// moment of the deletion; answers whether it deleted it.
    ///
    /// The check and the deletion are one step with respect to every batch that
    /// changes that counter: a batch committed before is seen, and a
    /// [`BlobStore::put_then_write`] committed after stores the blob again. So a
    /// caller adds references only with `put_then_write` (the same blob and a batch
    /// adding to its count), never with a plain write, and a blob shared by several
    /// records stays while one still counts.
    ///
    /// Only a backend whose records store commits to this one's log can decide that
    /// atomically; the default keeps every blob and answers `false`.
    async fn delete_unreferenced(
        &self,
        id: &BlobId,
        records: &dyn RecordStore,
        refs: Table,
    ) -> StorageResult<bool> {
        let _ = (id, records, refs);
        Ok(false)
    }
}

/// [`BlobStore::put_then_write`] as two durable writes in turn: the blob, then the
/// batch. The default, and what a backend overriding it falls back to.
pub async fn put_then_write_in_turn<B: BlobStore + ?Sized>(
    blobs: &B,
    data: &[u8],
    records: &dyn RecordStore,
    then: Box<dyn FnOnce(BlobId) -> Batch + Send>,
) -> StorageResult<BlobId> {
    let id = blobs.put(data).await?;
    records.write(then(id)).await?;
    Ok(id)
}
