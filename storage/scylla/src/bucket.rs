//! Time buckets: a time-ordered table's partition is (table, scope, bucket), where the
//! bucket is the week of the UUIDv7 that starts the key. No user's partition grows
//! without bound, and key order across buckets follows bucket order.
//!
//! A UUIDv7 starts with 48 bits of milliseconds since the Unix epoch, big-endian, so
//! the bucket of a key depends only on its first 6 bytes; a key prefix shorter than
//! that still bounds the buckets it can fall in.

use caliopen_storage_traits::KeyLayout;

/// Width of a bucket in milliseconds: one week. Part of the on-disk format: changing
/// it needs a data migration.
pub const BUCKET_WIDTH_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The bucket of every record in a table that is not time-ordered.
pub const SINGLE_BUCKET: i64 = 0;

/// Bytes of a key that carry the UUIDv7's milliseconds.
const TIME_BYTES: usize = 6;

/// The milliseconds of the first 6 bytes of `bytes`, padded with `pad` when shorter.
fn millis_padded(bytes: &[u8], pad: u8) -> i64 {
    let mut out = [pad; TIME_BYTES];
    let n = bytes.len().min(TIME_BYTES);
    out[..n].copy_from_slice(&bytes[..n]);
    out.iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b))
}

/// The bucket of a timestamp in milliseconds.
pub fn bucket_of_millis(millis: i64) -> i64 {
    millis.div_euclid(BUCKET_WIDTH_MS)
}

/// The bucket a record with this key lives in.
pub fn bucket_of_key(layout: KeyLayout, key: &[u8]) -> i64 {
    match layout {
        KeyLayout::TimeOrdered => bucket_of_millis(millis_padded(key, 0)),
        KeyLayout::Plain | KeyLayout::Counter => SINGLE_BUCKET,
    }
}

/// The inclusive range of buckets a scan can reach, or none when it reaches none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketRange {
    pub first: i64,
    pub last: i64,
}

impl BucketRange {
    /// Buckets of keys starting with `prefix` and coming strictly after `after` in the
    /// scan's direction (forward when `reverse` is false).
    pub fn of_scan(prefix: &[u8], after: Option<&[u8]>, reverse: bool) -> Option<Self> {
        let mut range = Self {
            first: bucket_of_millis(millis_padded(prefix, 0x00)),
            last: bucket_of_millis(millis_padded(prefix, 0xFF)),
        };
        if let Some(after) = after {
            if reverse {
                // Keys below `after` have their first 6 bytes at most `after`'s padded high.
                range.last = range.last.min(bucket_of_millis(millis_padded(after, 0xFF)));
            } else {
                range.first = range
                    .first
                    .max(bucket_of_millis(millis_padded(after, 0x00)));
            }
        }
        (range.first <= range.last).then_some(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn key_at(millis: u64, tail: &[u8]) -> Vec<u8> {
        let mut key = uuid::Builder::from_unix_timestamp_millis(millis, &[7; 10])
            .into_uuid()
            .as_bytes()
            .to_vec();
        key.extend_from_slice(tail);
        key
    }

    #[test]
    fn a_uuid_v7_key_falls_in_the_week_of_its_time() {
        let week = BUCKET_WIDTH_MS as u64;
        assert_eq!(bucket_of_key(KeyLayout::TimeOrdered, &key_at(0, b"")), 0);
        assert_eq!(
            bucket_of_key(KeyLayout::TimeOrdered, &key_at(week - 1, b"x")),
            0
        );
        assert_eq!(bucket_of_key(KeyLayout::TimeOrdered, &key_at(week, b"")), 1);
        let now = Uuid::now_v7();
        let (secs, nanos) = now.get_timestamp().expect("v7 has a time").to_unix();
        let millis = secs as i64 * 1000 + i64::from(nanos / 1_000_000);
        assert_eq!(
            bucket_of_key(KeyLayout::TimeOrdered, now.as_bytes()),
            millis.div_euclid(BUCKET_WIDTH_MS)
        );
    }

    #[test]
    fn plain_and_counter_tables_use_one_bucket() {
        assert_eq!(
            bucket_of_key(KeyLayout::Plain, &key_at(1 << 40, b"")),
            SINGLE_BUCKET
        );
        assert_eq!(bucket_of_key(KeyLayout::Counter, b"x"), SINGLE_BUCKET);
    }

    #[test]
    fn bucket_order_follows_key_order() {
        let times = [
            0u64,
            5,
            604_799_999,
            604_800_000,
            1_700_000_000_000,
            (1 << 48) - 1,
        ];
        let keys: Vec<_> = times.iter().map(|t| key_at(*t, b"")).collect();
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(
                bucket_of_key(KeyLayout::TimeOrdered, &pair[0])
                    <= bucket_of_key(KeyLayout::TimeOrdered, &pair[1])
            );
        }
    }

    #[test]
    fn a_full_time_prefix_pins_one_bucket() {
        let key = key_at(1_700_000_000_000, b"tail");
        let range = BucketRange::of_scan(&key[..8], None, false).expect("a range");
        assert_eq!(range.first, range.last);
        assert_eq!(range.first, bucket_of_key(KeyLayout::TimeOrdered, &key));
    }

    #[test]
    fn an_empty_prefix_spans_every_bucket() {
        let range = BucketRange::of_scan(b"", None, false).expect("a range");
        assert_eq!(range.first, 0);
        assert_eq!(range.last, ((1i64 << 48) - 1) / BUCKET_WIDTH_MS);
    }

    #[test]
    fn a_short_prefix_spans_the_buckets_it_can_reach() {
        // One leading byte = 2^40 ms ≈ 34.8 years, about 1818 weeks.
        let range = BucketRange::of_scan(&[0x01], None, false).expect("a range");
        assert_eq!(range.first, (1i64 << 40) / BUCKET_WIDTH_MS);
        assert_eq!(range.last, ((2i64 << 40) - 1) / BUCKET_WIDTH_MS);
    }

    #[test]
    fn the_cursor_narrows_the_range_in_the_scan_direction() {
        let early = key_at(1_000, b"");
        let late = key_at(1_700_000_000_000, b"z");
        let late_bucket = bucket_of_key(KeyLayout::TimeOrdered, &late);
        let forward = BucketRange::of_scan(b"", Some(&late), false).expect("a range");
        assert_eq!(forward.first, late_bucket);
        let backward = BucketRange::of_scan(b"", Some(&late), true).expect("a range");
        assert_eq!((backward.first, backward.last), (0, late_bucket));
        let prefix = &late[..6];
        assert_eq!(BucketRange::of_scan(prefix, Some(&early), true), None);
    }
}
