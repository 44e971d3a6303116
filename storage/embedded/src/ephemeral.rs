//! The ephemeral role: values with a time to live, in their own fjall keyspace.
//!
//! Reads check the expiry themselves, so an expired value is never returned even
//! before it is purged. Writes go through the committer (one writer, so
//! [`EphemeralStore::increment`] is exact under concurrency); each write with an
//! expiry also records `(expiry, key)` in an index that [`purge`] walks from the
//! oldest entry, deleting values that are due. An index entry whose value was since
//! rewritten with a later expiry is simply dropped.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use caliopen_storage_traits::{EphemeralStore, StorageError, StorageResult};
use fjall::Keyspace;

use crate::commit::{Changes, Done, Space, View, Work};
use crate::engine::Kv;
use crate::error::fjall_error;
use crate::keys;

/// Most expired values deleted by one purge round, so the committer never stalls
/// long; the next round continues.
const PURGE_BATCH: usize = 10_000;

/// Milliseconds since the epoch.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn deadline(now: u64, ttl: Duration) -> u64 {
    now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))
}

/// Stages a value that expires `ttl` from `now`.
pub(crate) fn stage_put(view: &mut View<'_>, key: Vec<u8>, value: &[u8], ttl: Duration, now: u64) {
    let expires_at = deadline(now, ttl);
    view.set(
        Space::Ephemeral,
        keys::expiry_entry(expires_at, &key),
        Some(Vec::new()),
    );
    view.set(
        Space::Ephemeral,
        key,
        Some(keys::encode_expiring(expires_at, value)),
    );
}

/// Stages a counter increment and returns the new count (see
/// [`EphemeralStore::increment`] for the window rule).
pub(crate) fn stage_increment(
    view: &mut View<'_>,
    key: Vec<u8>,
    window: Duration,
    now: u64,
) -> StorageResult<u64> {
    let live = match view.get(Space::Ephemeral, &key)? {
        Some(stored) => {
            let (expires_at, payload) = keys::decode_expiring(&stored)?;
            if expires_at > now {
                let count: [u8; 8] = payload.try_into().map_err(|_| StorageError::Corrupt {
                    table: "ephemeral".into(),
                    message: format!("a counter holds 8 bytes, this value {}", payload.len()),
                })?;
                Some((expires_at, u64::from_be_bytes(count)))
            } else {
                None
            }
        }
        None => None,
    };
    let (expires_at, count) = match live {
        Some((expires_at, count)) => (expires_at, count.saturating_add(1)),
        None => {
            let expires_at = deadline(now, window);
            view.set(
                Space::Ephemeral,
                keys::expiry_entry(expires_at, &key),
                Some(Vec::new()),
            );
            (expires_at, 1)
        }
    };
    view.set(
        Space::Ephemeral,
        key,
        Some(keys::encode_expiring(expires_at, &count.to_be_bytes())),
    );
    Ok(count)
}

/// Collects into `changes` the deletion of values due at `now` (and of their index
/// entries); returns how many index entries were visited.
pub(crate) fn purge(keyspace: &Keyspace, now: u64, changes: &mut Changes) -> StorageResult<usize> {
    let start = vec![keys::EPHEMERAL_EXPIRY];
    let end = keys::expiry_entry(now.saturating_add(1), &[keys::EPHEMERAL_VALUE]);
    let mut visited = 0;
    for item in keyspace.range(start..end).take(PURGE_BATCH) {
        let (entry, _) = item
            .into_inner()
            .map_err(|e| fjall_error("scan expired values", e))?;
        visited += 1;
        if let Some((_, value_key)) = keys::parse_expiry_entry(&entry) {
            let stored = keyspace
                .get(&value_key)
                .map_err(|e| fjall_error("scan expired values", e))?;
            let due = match stored {
                Some(stored) => keys::decode_expiring(&stored).map_or(true, |(at, _)| at <= now),
                None => false,
            };
            if due {
                changes.insert((Space::Ephemeral, value_key), None);
            }
        }
        changes.insert((Space::Ephemeral, entry.to_vec()), None);
    }
    Ok(visited)
}

/// [`EphemeralStore`] on the embedded database.
#[derive(Debug, Clone)]
pub struct EmbeddedEphemeral {
    pub(crate) kv: Arc<Kv>,
}

#[async_trait]
impl EphemeralStore for EmbeddedEphemeral {
    #[tracing::instrument(level = "debug", name = "ephemeral.put", skip_all, fields(namespace = %namespace, ttl_ms = ttl.as_millis() as u64))]
    async fn put(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        ttl: Duration,
    ) -> StorageResult<()> {
        let key = keys::ephemeral(namespace, key)?;
        // Stored behind its 8-byte expiry.
        caliopen_storage_traits::limits::check_len(
            "value",
            namespace,
            value.len().saturating_add(8),
            keys::MAX_ENGINE_VALUE,
        )?;
        let value = value.to_vec();
        self.kv
            .submit(Work::PutEphemeral { key, value, ttl })
            .await
            .map(|_| ())
    }

    #[tracing::instrument(level = "debug", name = "ephemeral.get", skip_all, fields(namespace = %namespace))]
    async fn get(&self, namespace: &str, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        let key = keys::ephemeral(namespace, key)?;
        self.kv
            .read("read an ephemeral value", move |spaces| {
                let Some(stored) = spaces
                    .ephemeral
                    .get(&key)
                    .map_err(|e| fjall_error("read an ephemeral value", e))?
                else {
                    return Ok(None);
                };
                let (expires_at, payload) = keys::decode_expiring(&stored)?;
                Ok((expires_at > now_millis()).then(|| payload.to_vec()))
            })
            .await
    }

    #[tracing::instrument(level = "debug", name = "ephemeral.delete", skip_all, fields(namespace = %namespace))]
    async fn delete(&self, namespace: &str, key: &[u8]) -> StorageResult<()> {
        let key = keys::ephemeral(namespace, key)?;
        self.kv
            .submit(Work::DeleteEphemeral { key })
            .await
            .map(|_| ())
    }

    #[tracing::instrument(level = "debug", name = "ephemeral.increment", skip_all, fields(namespace = %namespace, window_ms = window.as_millis() as u64))]
    async fn increment(&self, namespace: &str, key: &[u8], window: Duration) -> StorageResult<u64> {
        let key = keys::ephemeral(namespace, key)?;
        match self.kv.submit(Work::Increment { key, window }).await? {
            Done::Count(count) => Ok(count),
            Done::Written => Err(crate::error::backend(
                "increment a counter",
                "the committer answered no count",
            )),
        }
    }
}
