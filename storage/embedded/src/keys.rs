//! Byte layouts of the keys and values kept in fjall.
//!
//! Records live in one keyspace; a record's engine key is
//! `[table name length: u8][table name][scope tag: 0 global | 1 user][user id: 16 bytes,
//! users only][caller's key]`. The length prefix and the fixed-size scope make the
//! (table, scope) prefix unambiguous, so a partition is one contiguous key range and
//! the caller's keys keep their bytewise order inside it.
//!
//! Ephemeral values live in another keyspace under `[0][namespace length: u8][namespace]
//! [key]`, their value prefixed with the expiry time (milliseconds since the epoch, big
//! endian); an expiry index under `[1][expiry][namespace length][namespace][key]` lets
//! the purge visit only what is due.

use std::ops::Bound;

use caliopen_storage_traits::limits::{check_ephemeral, check_key, check_len};
use caliopen_storage_traits::{Scope, StorageError, StorageResult, Table};

/// The longest key fjall takes: its LSM tree asserts (panics) beyond.
pub(crate) const MAX_ENGINE_KEY: usize = u16::MAX as usize;

/// The longest value fjall takes: its journal and tables assert beyond.
pub(crate) const MAX_ENGINE_VALUE: usize = u32::MAX as usize;

/// Refuses a value the engine would assert on.
pub(crate) fn check_value(place: &str, value: &[u8]) -> StorageResult<()> {
    check_len("value", place, value.len(), MAX_ENGINE_VALUE)
}

/// Refuses a value of `len` bytes the engine would assert on, before it is read.
pub(crate) fn check_value_len(place: &str, len: u64) -> StorageResult<()> {
    check_len(
        "value",
        place,
        usize::try_from(len).unwrap_or(usize::MAX),
        MAX_ENGINE_VALUE,
    )
}

/// Refuses a batch holding a value the engine would assert on (the keys are
/// checked by `Batch::validate`).
pub(crate) fn check_batch_values(batch: &caliopen_storage_traits::Batch) -> StorageResult<()> {
    for op in &batch.ops {
        if let caliopen_storage_traits::Op::Put { table, value, .. } = op {
            check_value(table.name, value)?;
        }
    }
    Ok(())
}

/// Refuses an engine key the engine would assert on: the contract's limits keep
/// every key far below it, so this only guards against a bug in this crate.
fn check_engine_key(place: &str, key: &[u8]) -> StorageResult<()> {
    check_len("engine key", place, key.len(), MAX_ENGINE_KEY)
}

/// The engine key prefix of one (table, scope) partition.
pub(crate) fn partition(table: Table, scope: Scope) -> StorageResult<Vec<u8>> {
    let name = table.name.as_bytes();
    if name.is_empty() || name.len() > usize::from(u8::MAX) {
        return Err(StorageError::Invalid(format!(
            "a table name is 1 to 255 bytes long, `{}` is {}",
            table.name,
            name.len()
        )));
    }
    let mut out = Vec::with_capacity(name.len() + 18);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    match scope {
        Scope::Global => out.push(0),
        Scope::User(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
    }
    Ok(out)
}

/// The engine key of one record; a key over the contract's limit is refused.
pub(crate) fn record(table: Table, scope: Scope, key: &[u8]) -> StorageResult<Vec<u8>> {
    check_key(table.name, key)?;
    let mut out = partition(table, scope)?;
    out.extend_from_slice(key);
    check_engine_key(table.name, &out)?;
    Ok(out)
}

/// The smallest key greater than every key starting with `prefix`, if there is one.
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < u8::MAX {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// A range of engine keys.
pub(crate) type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The engine key range a scan visits, or none when it is empty.
///
/// `start` is the partition prefix followed by the scan prefix; `after` the engine key
/// of the scan's cursor, resumed strictly after in the scan's direction.
pub(crate) fn scan_range(
    start: Vec<u8>,
    after: Option<Vec<u8>>,
    reverse: bool,
) -> Option<KeyRange> {
    let end = prefix_successor(&start);
    let to_end = end.clone().map_or(Bound::Unbounded, Bound::Excluded);
    let Some(after) = after else {
        return Some((Bound::Included(start), to_end));
    };
    if reverse {
        if after <= start {
            return None;
        }
        let upper = if end.is_none_or(|end| after < end) {
            Bound::Excluded(after)
        } else {
            to_end
        };
        Some((Bound::Included(start), upper))
    } else {
        if end.is_some_and(|end| after >= end) {
            return None;
        }
        let lower = if after >= start {
            Bound::Excluded(after)
        } else {
            Bound::Included(start)
        };
        Some((lower, to_end))
    }
}

/// The engine key of an ephemeral value.
pub(crate) fn ephemeral(namespace: &str, key: &[u8]) -> StorageResult<Vec<u8>> {
    check_ephemeral(namespace, key)?;
    let ns = namespace.as_bytes();
    // The contract keeps namespaces far shorter than the one length byte allows.
    let ns_len = u8::try_from(ns.len())
        .map_err(|_| StorageError::Invalid(format!("namespace of {} bytes", ns.len())))?;
    let mut out = Vec::with_capacity(2 + ns.len() + key.len());
    out.push(EPHEMERAL_VALUE);
    out.push(ns_len);
    out.extend_from_slice(ns);
    out.extend_from_slice(key);
    // With its expiry index entry 8 bytes longer.
    check_engine_key(namespace, &[&out[..], &[0; 8]].concat())?;
    Ok(out)
}

/// Tag of ephemeral value keys.
pub(crate) const EPHEMERAL_VALUE: u8 = 0;
/// Tag of ephemeral expiry index keys.
pub(crate) const EPHEMERAL_EXPIRY: u8 = 1;

/// The expiry index key for an ephemeral value key (as built by [`ephemeral`]).
pub(crate) fn expiry_entry(expires_at: u64, value_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + value_key.len());
    out.push(EPHEMERAL_EXPIRY);
    out.extend_from_slice(&expires_at.to_be_bytes());
    out.extend_from_slice(&value_key[1..]);
    out
}

/// The value key an expiry index key points at, with its expiry time.
pub(crate) fn parse_expiry_entry(entry: &[u8]) -> Option<(u64, Vec<u8>)> {
    let time = entry.get(1..9)?;
    let expires_at = u64::from_be_bytes(time.try_into().ok()?);
    let mut value_key = Vec::with_capacity(entry.len() - 8);
    value_key.push(EPHEMERAL_VALUE);
    value_key.extend_from_slice(&entry[9..]);
    Some((expires_at, value_key))
}

/// An ephemeral value as stored: expiry time then payload.
pub(crate) fn encode_expiring(expires_at: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&expires_at.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The expiry time and payload of a stored ephemeral value.
pub(crate) fn decode_expiring(stored: &[u8]) -> StorageResult<(u64, &[u8])> {
    let (time, payload) = stored
        .split_at_checked(8)
        .ok_or_else(|| StorageError::Corrupt {
            table: "ephemeral".into(),
            message: format!(
                "a stored value has {} bytes, fewer than its 8-byte expiry",
                stored.len()
            ),
        })?;
    let expires_at = u64::from_be_bytes(time.try_into().unwrap_or([0; 8]));
    Ok((expires_at, payload))
}

/// A counter as stored: a big-endian `i64`.
pub(crate) fn decode_counter(table: &str, stored: &[u8]) -> StorageResult<i64> {
    let bytes: [u8; 8] = stored.try_into().map_err(|_| StorageError::Corrupt {
        table: table.into(),
        message: format!("a counter is 8 bytes, this one {}", stored.len()),
    })?;
    Ok(i64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use caliopen_storage_traits::limits::MAX_KEY_BYTES;
    use uuid::Uuid;

    const T: Table = Table::plain("t");

    #[test]
    fn partitions_do_not_overlap() {
        let a = Uuid::from_bytes([0xff; 16]);
        let global = partition(T, Scope::Global).unwrap();
        let user = partition(T, Scope::User(a)).unwrap();
        let other = partition(Table::plain("t2"), Scope::Global).unwrap();
        assert!(!user.starts_with(&global) && !global.starts_with(&user));
        assert!(!other.starts_with(&global) && !global.starts_with(&other));
    }

    #[test]
    fn successor_skips_ff_bytes() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[1, 0xff, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff]), None);
        assert_eq!(prefix_successor(&[]), None);
    }

    #[test]
    fn scan_range_applies_cursor() {
        let (lo, hi) = scan_range(b"p".to_vec(), Some(b"pk".to_vec()), false).unwrap();
        assert_eq!(lo, Bound::Excluded(b"pk".to_vec()));
        assert_eq!(hi, Bound::Excluded(b"q".to_vec()));
        let (lo, hi) = scan_range(b"p".to_vec(), Some(b"pk".to_vec()), true).unwrap();
        assert_eq!(lo, Bound::Included(b"p".to_vec()));
        assert_eq!(hi, Bound::Excluded(b"pk".to_vec()));
        assert!(scan_range(b"p".to_vec(), Some(b"q".to_vec()), false).is_none());
        assert!(scan_range(b"p".to_vec(), Some(b"p".to_vec()), true).is_none());
        let (lo, _) = scan_range(b"p".to_vec(), Some(b"a".to_vec()), false).unwrap();
        assert_eq!(lo, Bound::Included(b"p".to_vec()));
    }

    #[test]
    fn keys_over_the_contract_never_become_engine_keys() {
        let user = Scope::User(Uuid::from_bytes([7; 16]));
        for len in [MAX_KEY_BYTES + 1, MAX_ENGINE_KEY, MAX_ENGINE_KEY + 10] {
            let err = record(T, user, &vec![b'k'; len]).unwrap_err();
            assert!(
                matches!(err, StorageError::TooLarge { what: "key", .. }),
                "{len}: {err:?}"
            );
            let err = ephemeral("ns", &vec![b'k'; len]).unwrap_err();
            assert!(matches!(err, StorageError::TooLarge { .. }), "{err:?}");
        }
        let longest = record(T, user, &[b'k'; MAX_KEY_BYTES]).unwrap();
        assert!(longest.len() < MAX_ENGINE_KEY);
        assert!(ephemeral(&"n".repeat(300), b"k").is_err());
    }

    #[test]
    fn expiry_entries_round_trip() {
        let key = ephemeral("token", b"abc").unwrap();
        let entry = expiry_entry(42, &key);
        assert_eq!(parse_expiry_entry(&entry), Some((42, key)));
    }
}
