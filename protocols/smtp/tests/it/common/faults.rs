//! Fault injection around the real embedded store: the same records and blobs, with
//! switches that make reads or writes fail as an unreachable backend would.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use caliopen_storage_traits::{
    Batch, BlobId, BlobStore, Page, RecordStore, Scan, Scope, StorageError, StorageResult, Stores,
    Table,
};

/// Switches shared by the wrapped stores.
#[derive(Debug, Default)]
pub struct Faults {
    /// Record reads fail (recipient lookups).
    pub reads: AtomicBool,
    /// Blob and record writes fail (accepting a mail).
    pub writes: AtomicBool,
}

impl Faults {
    pub fn fail_reads(&self, on: bool) {
        self.reads.store(on, Ordering::SeqCst);
    }

    pub fn fail_writes(&self, on: bool) {
        self.writes.store(on, Ordering::SeqCst);
    }

    fn check(flag: &AtomicBool, operation: &'static str) -> StorageResult<()> {
        if flag.load(Ordering::SeqCst) {
            return Err(StorageError::Unavailable {
                backend: "faulty",
                message: format!("injected failure on {operation}"),
            });
        }
        Ok(())
    }
}

/// `stores` with the records and blobs behind `faults`.
pub fn wrap(stores: Stores, faults: &Arc<Faults>) -> Stores {
    Stores {
        records: Arc::new(FaultyRecords {
            inner: stores.records,
            faults: Arc::clone(faults),
        }),
        blobs: Arc::new(FaultyBlobs {
            inner: stores.blobs,
            faults: Arc::clone(faults),
        }),
        search: stores.search,
        ephemeral: stores.ephemeral,
    }
}

#[derive(Debug)]
struct FaultyRecords {
    inner: Arc<dyn RecordStore>,
    faults: Arc<Faults>,
}

#[async_trait]
impl RecordStore for FaultyRecords {
    async fn get(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        Faults::check(&self.faults.reads, "get")?;
        self.inner.get(table, scope, key).await
    }

    async fn scan(&self, table: Table, scope: Scope, scan: Scan) -> StorageResult<Page> {
        self.inner.scan(table, scope, scan).await
    }

    async fn counter(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<i64> {
        self.inner.counter(table, scope, key).await
    }

    async fn write(&self, batch: Batch) -> StorageResult<()> {
        Faults::check(&self.faults.writes, "write")?;
        self.inner.write(batch).await
    }
}

#[derive(Debug)]
struct FaultyBlobs {
    inner: Arc<dyn BlobStore>,
    faults: Arc<Faults>,
}

#[async_trait]
impl BlobStore for FaultyBlobs {
    async fn put(&self, data: &[u8]) -> StorageResult<BlobId> {
        Faults::check(&self.faults.writes, "put")?;
        self.inner.put(data).await
    }

    async fn get(&self, id: &BlobId) -> StorageResult<Option<Vec<u8>>> {
        self.inner.get(id).await
    }

    async fn exists(&self, id: &BlobId) -> StorageResult<bool> {
        self.inner.exists(id).await
    }

    async fn delete(&self, id: &BlobId) -> StorageResult<()> {
        self.inner.delete(id).await
    }
}
