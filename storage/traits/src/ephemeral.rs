//! Ephemeral values: tokens, sessions and rate counters that expire on their own.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::StorageResult;

/// The ephemeral role. Keys live in namespaces (`"token"`, `"login-rate"`, ...);
/// an expired value is never returned, whether or not the backend purged it yet.
#[async_trait]
pub trait EphemeralStore: Send + Sync + fmt::Debug {
    /// Sets a value that expires after `ttl`.
    async fn put(
        &self,
        namespace: &str,
        key: &[u8],
        value: &[u8],
        ttl: Duration,
    ) -> StorageResult<()>;

    /// The value, when present and not expired.
    async fn get(&self, namespace: &str, key: &[u8]) -> StorageResult<Option<Vec<u8>>>;

    /// Removes a value (no error when absent).
    async fn delete(&self, namespace: &str, key: &[u8]) -> StorageResult<()>;

    /// Adds 1 to a counter and returns the new count. A counter that does not exist
    /// (or expired) starts at 0 and expires `window` after this first increment.
    async fn increment(&self, namespace: &str, key: &[u8], window: Duration) -> StorageResult<u64>;
}
