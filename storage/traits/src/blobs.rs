//! Blobs: immutable bytes named by their SHA-256, so the same raw mail delivered to
//! several users, or delivered twice, is stored once.

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
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

    /// The id of everything `reader` gives, read in pieces (a large blob in a file).
    pub fn of_reader(mut reader: impl Read) -> std::io::Result<Self> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0; 256 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return Ok(Self(hasher.finalize().into())),
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
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

/// Where the bytes of a blob to store are: in memory, or in a file that holds exactly them
/// (a raw mail a protocol server spooled to disk while it arrived). A file source lets a
/// backend read the bytes when it needs them, on a thread that may block, instead of the
/// caller holding them in memory while it waits for the store.
#[derive(Debug)]
pub enum BlobSource {
    Memory(Vec<u8>),
    /// The blob is the first `len` bytes of `file`, read from its start.
    File {
        file: std::fs::File,
        len: u64,
    },
}

impl BlobSource {
    /// The blob's size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Self::Memory(bytes) => bytes.len() as u64,
            Self::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, whole. Blocks on a file source: call it where blocking is allowed (the
    /// blocking pool), never on an async worker.
    pub fn into_bytes(self) -> StorageResult<Vec<u8>> {
        match self {
            Self::Memory(bytes) => Ok(bytes),
            Self::File { mut file, len } => {
                let failed = |e: std::io::Error| StorageError::Backend {
                    backend: "spool",
                    operation: "read a spooled blob",
                    message: e.to_string(),
                };
                let size = usize::try_from(len).map_err(|_| {
                    StorageError::Invalid(format!("a {len}-byte blob does not fit in memory"))
                })?;
                let mut bytes = vec![0; size];
                file.seek(SeekFrom::Start(0)).map_err(failed)?;
                file.read_exact(&mut bytes).map_err(failed)?;
                Ok(bytes)
            }
        }
    }

    /// [`BlobSource::into_bytes`] on the blocking pool.
    pub async fn read(self) -> StorageResult<Vec<u8>> {
        if let Self::Memory(bytes) = self {
            return Ok(bytes);
        }
        tokio::task::spawn_blocking(move || self.into_bytes())
            .await
            .map_err(|e| StorageError::Backend {
                backend: "spool",
                operation: "read a spooled blob",
                message: e.to_string(),
            })?
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
    /// caller adds references only with `put_then_write` or `put_source_then_write`
    /// (the same blob and a batch
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

    /// [`BlobStore::put_then_write`] with the bytes in a [`BlobSource`], for large blobs the
    /// caller kept on disk: same durability. The default reads the source whole on the
    /// blocking pool, then calls `put_then_write`; a backend may read it where it needs it.
    async fn put_source_then_write(
        &self,
        source: BlobSource,
        records: &dyn RecordStore,
        then: Box<dyn FnOnce(BlobId) -> Batch + Send>,
    ) -> StorageResult<BlobId> {
        let data = source.read().await?;
        self.put_then_write(&data, records, then).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_read_in_pieces_is_the_id_of_the_whole() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let read = BlobId::of_reader(&data[..]).expect("read from memory");
        assert_eq!(read, BlobId::of(&data));
        assert_eq!(BlobId::of_reader(&[][..]).unwrap(), BlobId::of(b""));
    }

    #[test]
    fn a_file_source_reads_its_first_len_bytes_from_the_start() {
        use std::io::Write as _;
        let mut file = tempfile::tempfile().expect("a temporary file");
        file.write_all(b"the blob, then more").unwrap();
        let source = BlobSource::File { file, len: 8 };
        assert_eq!(source.len(), 8);
        assert_eq!(source.into_bytes().unwrap(), b"the blob");
        assert_eq!(
            BlobSource::Memory(b"x".to_vec()).into_bytes().unwrap(),
            b"x"
        );
    }
}
