//! The lengths every backend accepts, checked before anything reaches an engine.
//!
//! Engines have hard limits of their own (an LSM tree asserts keys of at most
//! 65,535 bytes, Cassandra-like stores refuse keys over 64 KiB, Elasticsearch ids
//! over 512 bytes), and an engine that asserts can take down the one thread that
//! writes for everyone. So the contract bounds keys well below any engine's limit,
//! and every backend refuses a longer one with [`StorageError::TooLarge`] in every
//! operation that takes a key: batches ([`crate::Batch::validate`]), point reads,
//! counters, scan prefixes and cursors, and ephemeral values. Callers that build
//! keys from outside data (core) bound or digest that data first; this check is the
//! last guard, not the first.
//!
//! Values have no limit in the contract: a backend with a hard one (a cell, a
//! mutation, a journal entry) checks it itself and answers the same error.

use crate::{Scan, StorageError, StorageResult};

/// Longest record key, in bytes (the caller's key, without table and scope).
pub const MAX_KEY_BYTES: usize = 1024;

/// Longest ephemeral key, in bytes (without the namespace).
pub const MAX_EPHEMERAL_KEY_BYTES: usize = 1024;

/// Longest ephemeral namespace, in bytes.
pub const MAX_NAMESPACE_BYTES: usize = 64;

/// Checks a record key of `table` against [`MAX_KEY_BYTES`].
pub fn check_key(table: &str, key: &[u8]) -> StorageResult<()> {
    check_len("key", table, key.len(), MAX_KEY_BYTES)
}

/// Checks the prefix and cursor of a scan of `table`: neither can be a key's
/// prefix or a key when longer than [`MAX_KEY_BYTES`].
pub fn check_scan(table: &str, scan: &Scan) -> StorageResult<()> {
    check_len("scan prefix", table, scan.prefix.len(), MAX_KEY_BYTES)?;
    if let Some(after) = &scan.after {
        check_len("scan cursor", table, after.len(), MAX_KEY_BYTES)?;
    }
    Ok(())
}

/// Checks an ephemeral namespace and key (non-empty, within the limits).
pub fn check_ephemeral(namespace: &str, key: &[u8]) -> StorageResult<()> {
    check_len("namespace", namespace, namespace.len(), MAX_NAMESPACE_BYTES)?;
    if key.is_empty() {
        return Err(StorageError::Invalid(format!(
            "empty key in ephemeral namespace `{}`",
            short(namespace)
        )));
    }
    check_len("key", namespace, key.len(), MAX_EPHEMERAL_KEY_BYTES)
}

/// `TooLarge` when `len` is over `max`.
pub fn check_len(what: &'static str, place: &str, len: usize, max: usize) -> StorageResult<()> {
    if len <= max {
        return Ok(());
    }
    Err(StorageError::TooLarge {
        what,
        place: short(place).to_owned(),
        len,
        max,
    })
}

/// At most 64 bytes of a name, cut on a character boundary: an error message is
/// never as long as the input it refuses.
fn short(name: &str) -> &str {
    let mut end = name.len().min(64);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_up_to_the_limit_pass_and_longer_ones_say_by_how_much() {
        assert!(check_key("t", &[b'k'; MAX_KEY_BYTES]).is_ok());
        let err = check_key("t", &[b'k'; MAX_KEY_BYTES + 1]).unwrap_err();
        assert!(
            matches!(
                err,
                StorageError::TooLarge { what: "key", len, max, .. }
                    if len == MAX_KEY_BYTES + 1 && max == MAX_KEY_BYTES
            ),
            "{err:?}"
        );
        assert!(!err.is_transient());
    }

    #[test]
    fn scans_are_checked_on_prefix_and_cursor() {
        let long = vec![0u8; MAX_KEY_BYTES + 1];
        assert!(check_scan("t", &Scan::prefix(long.clone(), 10)).is_err());
        assert!(check_scan("t", &Scan::all(10).after(Some(long))).is_err());
        assert!(check_scan("t", &Scan::prefix(b"p".to_vec(), 10)).is_ok());
    }

    #[test]
    fn ephemeral_names_and_keys_are_bounded_and_the_error_stays_short() {
        assert!(check_ephemeral("ns", b"k").is_ok());
        assert!(matches!(
            check_ephemeral("ns", b""),
            Err(StorageError::Invalid(_))
        ));
        let huge = "n".repeat(70_000);
        let err = check_ephemeral(&huge, b"k").unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
        assert!(check_ephemeral("ns", &vec![1; 70_000]).is_err());
    }
}
