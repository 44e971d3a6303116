//! [`RecordStore`] on ScyllaDB: logged batches, time-bucketed partitions, paged scans
//! and counters summed from delta rows.

use std::sync::Arc;

use async_trait::async_trait;
use caliopen_storage_traits::{
    Batch, KeyLayout, Page, RecordStore, Scan, Scope, StorageError, StorageResult, Table,
};
use futures_util::TryStreamExt;
use scylla::client::caching_session::CachingSession;
use scylla::statement::batch::{Batch as CqlBatch, BatchType};
use scylla::value::CqlValue;
use tracing::instrument;

use caliopen_storage_traits::limits::{check_key, check_scan};

use crate::Shared;
use crate::bucket::{SINGLE_BUCKET, bucket_of_key};
use crate::error::ScyllaError;
use crate::limits::check_batch;
use crate::statements::{
    KeyRange, Timestamps, batch_statements, scope_text, select_buckets, select_deltas, select_one,
    select_range, select_range_values,
};

/// The records role on a Scylla keyspace.
#[derive(Debug, Clone)]
pub struct ScyllaRecords {
    shared: Arc<Shared>,
    timestamps: Arc<Timestamps>,
}

impl ScyllaRecords {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            timestamps: Arc::new(Timestamps::default()),
        }
    }

    fn session(&self) -> &CachingSession {
        &self.shared.session
    }

    fn statement(&self, cql: String) -> scylla::statement::Statement {
        self.shared.statement(cql)
    }

    /// The buckets of a time-ordered partition a scan reaches, in scan order.
    async fn buckets(&self, table: Table, scope: Scope, scan: &Scan) -> StorageResult<Vec<i64>> {
        if table.layout != KeyLayout::TimeOrdered {
            return Ok(vec![SINGLE_BUCKET]);
        }
        let Some(range) = KeyRange::buckets(scan) else {
            return Ok(Vec::new());
        };
        let cql = select_buckets(&self.shared.keyspace, scan.reverse);
        let values = (table.name, scope_text(scope), range.first, range.last);
        let pager = self
            .session()
            .execute_iter(self.statement(cql), values)
            .await
            .map_err(|e| ScyllaError::pager("list the buckets of a partition", &e))?;
        let buckets = pager
            .rows_stream::<(i64,)>()
            .map_err(|e| ScyllaError::decode("list buckets", e))?
            .map_ok(|(bucket,)| bucket)
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| ScyllaError::decode("list buckets", e))?;
        Ok(buckets)
    }

    /// Up to `limit` records of one partition, in scan order.
    async fn scan_bucket(
        &self,
        table: Table,
        scope: Scope,
        bucket: i64,
        range: &KeyRange,
        reverse: bool,
        limit: usize,
    ) -> StorageResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let cql = select_range(&self.shared.keyspace, range, reverse);
        let limit = i32::try_from(limit).unwrap_or(i32::MAX);
        let values = select_range_values(table, scope, bucket, range, limit);
        let pager = self
            .session()
            .execute_iter(self.statement(cql), values)
            .await
            .map_err(|e| ScyllaError::pager("scan records", &e))?;
        let rows = pager
            .rows_stream::<(Vec<u8>, Option<Vec<u8>>)>()
            .map_err(|e| ScyllaError::decode("scan records", e))?
            .map_ok(|(key, value)| (key, value.unwrap_or_default()))
            .try_collect::<Vec<_>>()
            .await
            .map_err(|e| ScyllaError::decode("scan records", e))?;
        Ok(rows)
    }
}

#[async_trait]
impl RecordStore for ScyllaRecords {
    #[instrument(level = "debug", skip(self, key), fields(table = table.name, scope = ?scope))]
    async fn get(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        check_key(table.name, key)?;
        let cql = select_one(&self.shared.keyspace);
        let values = (
            table.name,
            scope_text(scope),
            bucket_of_key(table.layout, key),
            key,
        );
        let rows = self
            .session()
            .execute_unpaged(self.statement(cql), values)
            .await
            .map_err(|e| ScyllaError::query("read a record", &e))?
            .into_rows_result()
            .map_err(|e| ScyllaError::decode("read a record", e))?;
        let row = rows
            .maybe_first_row::<(Option<Vec<u8>>,)>()
            .map_err(|e| ScyllaError::decode("read a record", e))?;
        Ok(row.map(|(value,)| value.unwrap_or_default()))
    }

    #[instrument(level = "debug", skip(self, scan), fields(table = table.name, scope = ?scope, limit = scan.limit, reverse = scan.reverse))]
    async fn scan(&self, table: Table, scope: Scope, scan: Scan) -> StorageResult<Page> {
        if table.layout == KeyLayout::Counter {
            return Err(StorageError::Invalid(format!(
                "table `{}` holds counters: read them with `counter`",
                table.name
            )));
        }
        check_scan(table.name, &scan)?;
        let Some(range) = KeyRange::of_scan(&scan).filter(|_| scan.limit > 0) else {
            return Ok(Page::default());
        };
        let mut items = Vec::new();
        for bucket in self.buckets(table, scope, &scan).await? {
            let wanted = scan.limit - items.len();
            let rows = self
                .scan_bucket(table, scope, bucket, &range, scan.reverse, wanted)
                .await?;
            items.extend(rows);
            if items.len() >= scan.limit {
                break;
            }
        }
        let next = (items.len() >= scan.limit)
            .then(|| items.last().map(|(key, _)| key.clone()))
            .flatten();
        Ok(Page { items, next })
    }

    #[instrument(level = "debug", skip(self, key), fields(table = table.name, scope = ?scope))]
    async fn counter(&self, table: Table, scope: Scope, key: &[u8]) -> StorageResult<i64> {
        check_key(table.name, key)?;
        let cql = select_deltas(&self.shared.keyspace);
        let pager = self
            .session()
            .execute_iter(self.statement(cql), (table.name, scope_text(scope), key))
            .await
            .map_err(|e| ScyllaError::pager("read a counter", &e))?;
        let sum = pager
            .rows_stream::<(Option<i64>,)>()
            .map_err(|e| ScyllaError::decode("read a counter", e))?
            .try_fold(0i64, |sum, (delta,)| async move {
                Ok(sum.wrapping_add(delta.unwrap_or(0)))
            })
            .await
            .map_err(|e| ScyllaError::decode("read a counter", e))?;
        Ok(sum)
    }

    #[instrument(level = "debug", skip(self, batch), fields(ops = batch.len()))]
    async fn write(&self, batch: Batch) -> StorageResult<()> {
        check_batch(&batch)?;
        if batch.is_empty() {
            return Ok(());
        }
        let timestamp = self.timestamps.reserve(batch.len());
        let statements = batch_statements(&self.shared.keyspace, &batch.ops, timestamp);
        let mut cql_batch = CqlBatch::new(BatchType::Logged);
        let mut values: Vec<Vec<CqlValue>> = Vec::with_capacity(statements.len());
        for statement in statements {
            cql_batch.append_statement(self.statement(statement.cql));
            values.push(statement.values);
        }
        // Every value (timestamps, delta ids) is fixed: a retried batch changes nothing.
        cql_batch.set_is_idempotent(true);
        self.session()
            .batch(&cql_batch, values)
            .await
            .map_err(|e| ScyllaError::query("write a batch", &e))?;
        Ok(())
    }
}
