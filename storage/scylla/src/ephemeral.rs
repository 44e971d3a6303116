//! [`EphemeralStore`] on ScyllaDB. Values carry their expiry time, checked on every
//! read (CQL TTLs count whole seconds), and a TTL one second longer so the cluster
//! purges them. Rate counters are a window row (when the window started) plus one
//! row per increment in the window's partition; the count is the number of rows, so
//! increments from several nodes are never lost. Within one node, increments of a
//! key are serialised so that each gets a distinct count; across nodes two
//! simultaneous increments may read the same count (no LWT), never a lower one.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use caliopen_storage_traits::limits::check_ephemeral;
use caliopen_storage_traits::{EphemeralStore, StorageResult};
use tokio::sync::Mutex;
use tracing::instrument;
use uuid::Uuid;

use crate::Shared;
use crate::error::ScyllaError;
use crate::limits::check_ephemeral_put;

/// Locks that serialise increments of the same key within this process.
const STRIPES: usize = 64;

/// Milliseconds since the epoch.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The CQL TTL (whole seconds, at least 1) for something that expires `millis` from
/// now: rounded up, plus one second of margin, the read-time check being exact.
pub fn ttl_seconds(millis: i64) -> i32 {
    let millis = millis.max(0);
    let secs = millis / 1000 + i64::from(millis % 1000 != 0) + 1;
    i32::try_from(secs.min(MAX_TTL_SECONDS)).unwrap_or(i32::MAX)
}

/// The longest TTL ScyllaDB and Cassandra accept: 20 years.
pub const MAX_TTL_SECONDS: i64 = 630_720_000;

/// Whether a row with this expiry is still visible at `now`.
pub fn is_live(expires_at: i64, now: i64) -> bool {
    expires_at > now
}

/// The ephemeral role on a Scylla keyspace.
#[derive(Debug)]
pub struct ScyllaEphemeral {
    shared: Arc<Shared>,
    stripes: Vec<Mutex<()>>,
}

impl ScyllaEphemeral {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    fn stripe(&self, namespace: &str, key: &[u8]) -> &Mutex<()> {
        let mut hasher = DefaultHasher::new();
        (namespace, key).hash(&mut hasher);
        &self.stripes[(hasher.finish() % STRIPES as u64) as usize]
    }

    async fn exec(
        &self,
        operation: &'static str,
        cql: String,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> Result<scylla::response::query_result::QueryResult, ScyllaError> {
        self.shared
            .session
            .execute_unpaged(self.shared.statement(cql), values)
            .await
            .map_err(|e| ScyllaError::query(operation, &e))
    }

    /// The start of the live window of a counter, starting one now when none is live.
    async fn window(&self, namespace: &str, key: &[u8], window: Duration) -> StorageResult<i64> {
        let ks = &self.shared.keyspace;
        let now = now_millis();
        let select = format!(
            "SELECT started_at, expires_at FROM {ks}.ephemeral_windows WHERE ns = ? AND key = ?"
        );
        let rows = self
            .exec("read a counter window", select, (namespace, key))
            .await?
            .into_rows_result()
            .map_err(|e| ScyllaError::decode("read a counter window", e))?;
        let live = rows
            .maybe_first_row::<(i64, i64)>()
            .map_err(|e| ScyllaError::decode("read a counter window", e))?
            .filter(|(_, expires_at)| is_live(*expires_at, now));
        if let Some((started_at, _)) = live {
            return Ok(started_at);
        }
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 4);
        let insert = format!(
            "INSERT INTO {ks}.ephemeral_windows (ns, key, started_at, expires_at) \
             VALUES (?, ?, ?, ?) USING TTL ?"
        );
        let values = (namespace, key, now, now + window_ms, ttl_seconds(window_ms));
        self.exec("start a counter window", insert, values).await?;
        Ok(now)
    }
}

#[async_trait]
impl EphemeralStore for ScyllaEphemeral {
    #[instrument(level = "debug", skip(self, key, value), fields(namespace))]
    async fn put(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        ttl: Duration,
    ) -> StorageResult<()> {
        check_ephemeral_put(namespace, key, value)?;
        if ttl.is_zero() {
            return self.delete(namespace, key).await;
        }
        let ks = &self.shared.keyspace;
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 4);
        let insert = format!(
            "INSERT INTO {ks}.ephemeral (ns, key, value, expires_at) VALUES (?, ?, ?, ?) USING TTL ?"
        );
        let values = (
            namespace,
            key,
            value,
            now_millis() + ttl_ms,
            ttl_seconds(ttl_ms),
        );
        self.exec("put an ephemeral value", insert, values).await?;
        Ok(())
    }

    #[instrument(level = "debug", skip(self, key), fields(namespace))]
    async fn get(&self, namespace: &str, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        check_ephemeral(namespace, key)?;
        let ks = &self.shared.keyspace;
        let select =
            format!("SELECT value, expires_at FROM {ks}.ephemeral WHERE ns = ? AND key = ?");
        let rows = self
            .exec("read an ephemeral value", select, (namespace, key))
            .await?
            .into_rows_result()
            .map_err(|e| ScyllaError::decode("read an ephemeral value", e))?;
        let row = rows
            .maybe_first_row::<(Option<Vec<u8>>, i64)>()
            .map_err(|e| ScyllaError::decode("read an ephemeral value", e))?;
        let now = now_millis();
        Ok(row
            .filter(|(_, expires_at)| is_live(*expires_at, now))
            .map(|(value, _)| value.unwrap_or_default()))
    }

    #[instrument(level = "debug", skip(self, key), fields(namespace))]
    async fn delete(&self, namespace: &str, key: &[u8]) -> StorageResult<()> {
        check_ephemeral(namespace, key)?;
        let ks = &self.shared.keyspace;
        let value = format!("DELETE FROM {ks}.ephemeral WHERE ns = ? AND key = ?");
        self.exec("delete an ephemeral value", value, (namespace, key))
            .await?;
        let window = format!("DELETE FROM {ks}.ephemeral_windows WHERE ns = ? AND key = ?");
        self.exec("delete a counter window", window, (namespace, key))
            .await?;
        Ok(())
    }

    #[instrument(level = "debug", skip(self, key), fields(namespace))]
    async fn increment(&self, namespace: &str, key: &[u8], window: Duration) -> StorageResult<u64> {
        check_ephemeral(namespace, key)?;
        let _serialised = self.stripe(namespace, key).lock().await;
        let started_at = self.window(namespace, key, window).await?;
        let ks = &self.shared.keyspace;
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 4);
        let remaining = started_at + window_ms - now_millis();
        let insert = format!(
            "INSERT INTO {ks}.ephemeral_hits (ns, key, started_at, hit) VALUES (?, ?, ?, ?) USING TTL ?"
        );
        let values = (
            namespace,
            key,
            started_at,
            Uuid::new_v4(),
            ttl_seconds(remaining),
        );
        self.exec("count an increment", insert, values).await?;
        let count = format!(
            "SELECT COUNT(*) FROM {ks}.ephemeral_hits WHERE ns = ? AND key = ? AND started_at = ?"
        );
        let rows = self
            .exec("read a counter", count, (namespace, key, started_at))
            .await?
            .into_rows_result()
            .map_err(|e| ScyllaError::decode("read a counter", e))?;
        let (count,) = rows
            .single_row::<(i64,)>()
            .map_err(|e| ScyllaError::decode("read a counter", e))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_whole_seconds_with_a_margin() {
        assert_eq!(ttl_seconds(0), 1);
        assert_eq!(ttl_seconds(-5), 1);
        assert_eq!(ttl_seconds(1), 2);
        assert_eq!(ttl_seconds(1000), 2);
        assert_eq!(ttl_seconds(1001), 3);
        assert_eq!(ttl_seconds(120_000), 121);
        assert_eq!(ttl_seconds(i64::MAX), 630_720_000);
    }

    #[test]
    fn expiry_is_exact_to_the_millisecond() {
        assert!(is_live(1_001, 1_000));
        assert!(!is_live(1_000, 1_000));
        assert!(!is_live(999, 1_000));
    }
}
