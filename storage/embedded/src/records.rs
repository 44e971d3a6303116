//! The records role on fjall: point reads and range scans run on the blocking pool
//! against the `records` keyspace (see [`crate::keys`] for the key layout); batches go
//! to the committer, which applies each one atomically and durably.

use std::sync::Arc;

use async_trait::async_trait;
use caliopen_storage_traits::{Batch, Page, RecordStore, Scan, Scope, StorageResult, Table};
use fjall::Readable;

use crate::commit::Work;
use crate::engine::Kv;
use crate::error::fjall_error;
use crate::keys;

/// [`RecordStore`] on the embedded database.
#[derive(Debug, Clone)]
pub struct EmbeddedRecords {
    pub(crate) kv: Arc<Kv>,
}

#[async_trait]
impl RecordStore for EmbeddedRecords {
    #[tracing::instrument(level = "debug", name = "records.get", skip_all, fields(table = table.name, scope = ?scope))]
    async fn get(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        let key = keys::record(table, scope, key)?;
        self.kv
            .read("read a record", move |spaces| {
                let value = spaces
                    .records
                    .get(&key)
                    .map_err(|e| fjall_error("read a record", e))?;
                Ok(value.map(|v| v.to_vec()))
            })
            .await
    }

    #[tracing::instrument(
        level = "debug",
        name = "records.scan",
        skip_all,
        fields(table = table.name, scope = ?scope, limit = scan.limit, reverse = scan.reverse)
    )]
    async fn scan(&self, table: Table, scope: Scope, scan: Scan) -> StorageResult<Page> {
        caliopen_storage_traits::limits::check_scan(table.name, &scan)?;
        let partition = keys::partition(table, scope)?;
        if scan.limit == 0 {
            return Ok(Page::default());
        }
        let mut start = partition.clone();
        start.extend_from_slice(&scan.prefix);
        let after = scan
            .after
            .as_ref()
            .map(|after| [partition.as_slice(), after].concat());
        let Some(range) = keys::scan_range(start, after, scan.reverse) else {
            return Ok(Page::default());
        };
        self.kv
            .read("scan records", move |spaces| {
                // A snapshot, so a scan never sees a batch half applied.
                let iter = spaces.db.snapshot().range(&spaces.records, range);
                let iter: Box<dyn Iterator<Item = fjall::Guard>> = if scan.reverse {
                    Box::new(iter.rev())
                } else {
                    Box::new(iter)
                };
                let mut items = Vec::with_capacity(scan.limit.min(1024));
                let mut more = false;
                for guard in iter {
                    if items.len() == scan.limit {
                        more = true;
                        break;
                    }
                    let (key, value) = guard
                        .into_inner()
                        .map_err(|e| fjall_error("scan records", e))?;
                    items.push((key[partition.len()..].to_vec(), value.to_vec()));
                }
                let next = if more {
                    items.last().map(|(key, _)| key.clone())
                } else {
                    None
                };
                Ok(Page { items, next })
            })
            .await
    }

    #[tracing::instrument(level = "debug", name = "records.counter", skip_all, fields(table = table.name, scope = ?scope))]
    async fn counter(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<i64> {
        let key = keys::record(table, scope, key)?;
        self.kv
            .read("read a counter", move |spaces| {
                match spaces
                    .records
                    .get(&key)
                    .map_err(|e| fjall_error("read a counter", e))?
                {
                    Some(stored) => keys::decode_counter(table.name, &stored),
                    None => Ok(0),
                }
            })
            .await
    }

    #[tracing::instrument(level = "debug", name = "records.write", skip_all, fields(ops = batch.len()))]
    async fn write(&self, batch: Batch) -> StorageResult<()> {
        batch.validate()?;
        keys::check_batch_values(&batch)?;
        if batch.is_empty() {
            return Ok(());
        }
        self.kv.submit(Work::Records(batch)).await.map(|_| ())
    }

    fn commit_log(&self) -> Option<usize> {
        Some(self.kv.log_id())
    }
}
