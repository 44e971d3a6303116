//! The checks made before a request reaches Scylla: the contract's key limits
//! (`caliopen_storage_traits::limits`) on every operation, and Scylla's own hard
//! limit on what one write may carry.
//!
//! Scylla refuses a mutation larger than half a commit log segment
//! (`commitlog_segment_size_in_mb`, 32 by default); a logged batch goes whole
//! through the batch log, so the limit applies to the whole batch. Refused here,
//! such a write answers `TooLarge` at once instead of a server error after a round
//! trip (and a caller knows retrying cannot help).

use caliopen_storage_traits::limits::{check_ephemeral, check_len};
use caliopen_storage_traits::{Batch, Op, StorageResult};

/// The most bytes of keys and values one batch or ephemeral write may carry: half
/// of Scylla's default 32 MiB commit log segment.
pub const MAX_MUTATION_BYTES: usize = 16 * 1024 * 1024;

/// Checks a batch: the contract (`Batch::validate`, which bounds every key), then
/// its size against [`MAX_MUTATION_BYTES`].
pub fn check_batch(batch: &Batch) -> StorageResult<()> {
    batch.validate()?;
    let bytes = batch
        .ops
        .iter()
        .map(|op| match op {
            Op::Put { key, value, .. } => key.len() + value.len(),
            Op::Delete { key, .. } | Op::Add { key, .. } => key.len() + 8,
        })
        .fold(0usize, usize::saturating_add);
    check_len("batch", "records", bytes, MAX_MUTATION_BYTES)
}

/// Checks an ephemeral write: namespace and key, and the value's size.
pub fn check_ephemeral_put(namespace: &str, key: &[u8], value: &[u8]) -> StorageResult<()> {
    check_ephemeral(namespace, key)?;
    check_len(
        "value",
        namespace,
        key.len().saturating_add(value.len()),
        MAX_MUTATION_BYTES,
    )
}
