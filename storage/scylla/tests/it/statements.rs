//! CQL generation for records, without a server: clustering bounds of scans, the
//! statements of a batch, write timestamps.

use caliopen_storage_scylla::bucket::{SINGLE_BUCKET, bucket_of_key};
use caliopen_storage_scylla::statements::{
    Bound, KeyRange, Timestamps, batch_statements, prefix_end, scope_text, select_buckets,
    select_range, select_range_values,
};
use caliopen_storage_traits::{Batch, KeyLayout, Op, Scan, Scope, Table};
use scylla::value::CqlValue;
use uuid::Uuid;

const PLAIN: Table = Table::plain("contacts");
const TIMELINE: Table = Table::time_ordered("messages");
const COUNTERS: Table = Table::counter("counters");

fn bound(key: &[u8], inclusive: bool) -> Option<Bound> {
    Some(Bound {
        key: key.to_vec(),
        inclusive,
    })
}

#[test]
fn scopes_are_the_user_id_or_global() {
    let id = Uuid::parse_str("0191d9a2-2f6e-7c1a-9b3e-5d2c8f4a1b00").expect("a uuid");
    assert_eq!(
        scope_text(Scope::User(id)),
        "0191d9a2-2f6e-7c1a-9b3e-5d2c8f4a1b00"
    );
    assert_eq!(scope_text(Scope::Global), "global");
}

#[test]
fn the_end_of_a_prefix_skips_trailing_ff_bytes() {
    assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
    assert_eq!(prefix_end(&[0x01, 0xFF, 0xFF]), Some(vec![0x02]));
    assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    assert_eq!(prefix_end(b""), None);
}

#[test]
fn a_prefix_scan_is_a_half_open_clustering_range() {
    let range = KeyRange::of_scan(&Scan::prefix(b"tag/".to_vec(), 10)).expect("a range");
    assert_eq!(range.lower, bound(b"tag/", true));
    assert_eq!(range.upper, bound(b"tag0", false));
    assert_eq!(
        select_range("caliopen", &range, false),
        "SELECT key, value FROM caliopen.records WHERE tbl = ? AND scope = ? AND bucket = ? \
         AND key >= ? AND key < ? ORDER BY key ASC LIMIT ?"
    );
}

#[test]
fn a_cursor_replaces_the_bound_on_the_scan_side() {
    let forward = Scan::prefix(b"tag/".to_vec(), 10).after(Some(b"tag/m".to_vec()));
    let range = KeyRange::of_scan(&forward).expect("a range");
    assert_eq!(range.lower, bound(b"tag/m", false));
    assert_eq!(range.upper, bound(b"tag0", false));

    let backward = Scan::prefix(b"tag/".to_vec(), 10)
        .reversed()
        .after(Some(b"tag/m".to_vec()));
    let range = KeyRange::of_scan(&backward).expect("a range");
    assert_eq!(range.lower, bound(b"tag/", true));
    assert_eq!(range.upper, bound(b"tag/m", false));
    assert_eq!(
        select_range("ks", &range, true),
        "SELECT key, value FROM ks.records WHERE tbl = ? AND scope = ? AND bucket = ? \
         AND key >= ? AND key < ? ORDER BY key DESC LIMIT ?"
    );
}

#[test]
fn a_cursor_outside_the_prefix_empties_or_keeps_the_range() {
    // Forward past the prefix's end: nothing left.
    let past = Scan::prefix(b"a".to_vec(), 5).after(Some(b"b".to_vec()));
    assert_eq!(KeyRange::of_scan(&past), None);
    // Forward from before the prefix: the prefix bound stays.
    let before = Scan::prefix(b"b".to_vec(), 5).after(Some(b"a".to_vec()));
    assert_eq!(
        KeyRange::of_scan(&before).expect("a range").lower,
        bound(b"b", true)
    );
    // Backward from before the prefix: nothing left.
    let below = Scan::prefix(b"b".to_vec(), 5)
        .reversed()
        .after(Some(b"a".to_vec()));
    assert_eq!(KeyRange::of_scan(&below), None);
}

#[test]
fn a_whole_partition_scan_has_no_bounds() {
    let range = KeyRange::of_scan(&Scan::all(3)).expect("a range");
    assert_eq!(range, KeyRange::default());
    let values = select_range_values(PLAIN, Scope::Global, SINGLE_BUCKET, &range, 3);
    assert_eq!(
        values,
        vec![
            CqlValue::Text("contacts".into()),
            CqlValue::Text("global".into()),
            CqlValue::BigInt(0),
            CqlValue::Int(3),
        ]
    );
    assert!(select_buckets("ks", true).ends_with("ORDER BY bucket DESC"));
}

fn timestamp_of(values: &[CqlValue]) -> i64 {
    values
        .iter()
        .rev()
        .chain(values.iter())
        .find_map(|v| match v {
            CqlValue::BigInt(ts) if *ts > 1_000_000 => Some(*ts),
            _ => None,
        })
        .expect("a write timestamp")
}

#[test]
fn a_batch_becomes_ordered_statements_with_increasing_timestamps() {
    let user = Scope::User(Uuid::new_v4());
    let id = Uuid::now_v7();
    let mut key = id.as_bytes().to_vec();
    key.extend_from_slice(b"/x");
    let mut batch = Batch::new();
    batch
        .put(PLAIN, user, b"a".to_vec(), b"1".to_vec())
        .put(TIMELINE, user, key.clone(), b"m".to_vec())
        .put(TIMELINE, user, key.clone(), b"m2".to_vec())
        .delete(PLAIN, user, b"a".to_vec())
        .add(COUNTERS, user, b"n".to_vec(), 4)
        .delete(COUNTERS, user, b"old".to_vec());
    batch.validate().expect("a valid batch");
    let statements = batch_statements("ks", &batch.ops, 1_700_000_000_000_000);
    let kinds: Vec<&str> = statements
        .iter()
        .map(|s| s.cql.split(" (").next().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "INSERT INTO ks.records",
            "INSERT INTO ks.records",
            "INSERT INTO ks.record_buckets",
            "INSERT INTO ks.records",
            "DELETE FROM ks.records USING TIMESTAMP ? WHERE tbl = ? AND scope = ? AND bucket = ? AND key = ?",
            "INSERT INTO ks.counter_deltas",
            "DELETE FROM ks.counter_deltas USING TIMESTAMP ? WHERE tbl = ? AND scope = ? AND key = ?",
        ],
        "one bucket row per (table, scope, bucket) in a batch; counters go to deltas"
    );
    // The delete of `a` comes after its put: a later timestamp, so it wins.
    let put_a = timestamp_of(&statements[0].values);
    let delete_a = timestamp_of(&statements[4].values);
    assert!(delete_a > put_a);
    assert_eq!(put_a, 1_700_000_000_000_000);
    let bucket = bucket_of_key(KeyLayout::TimeOrdered, &key);
    assert_eq!(statements[1].values[2], CqlValue::BigInt(bucket));
    assert_eq!(statements[2].values[2], CqlValue::BigInt(bucket));
    assert_ne!(bucket, SINGLE_BUCKET);
}

#[test]
fn counter_deltas_get_distinct_ids() {
    let user = Scope::User(Uuid::new_v4());
    let ops: Vec<Op> = (0..3)
        .map(|_| Op::Add {
            table: COUNTERS,
            scope: user,
            key: b"n".to_vec(),
            delta: 1,
        })
        .collect();
    let statements = batch_statements("ks", &ops, 5_000_000);
    let ids: std::collections::BTreeSet<_> = statements
        .iter()
        .map(|s| match &s.values[3] {
            CqlValue::Uuid(id) => *id,
            other => panic!("the id column is a uuid, not {other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 3, "adds of the same key in one batch all count");
}

#[test]
fn timestamps_strictly_increase_across_reservations() {
    let timestamps = Timestamps::default();
    let mut last = 0;
    for size in [1, 5, 1, 10_000, 2] {
        let first = timestamps.reserve(size);
        assert!(first > last, "{first} after {last}");
        last = first + size as i64 - 1;
    }
    let shared = std::sync::Arc::new(Timestamps::default());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let shared = shared.clone();
            std::thread::spawn(move || (0..1000).map(|_| shared.reserve(3)).collect::<Vec<_>>())
        })
        .collect();
    let mut all: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().expect("thread"))
        .collect();
    all.sort_unstable();
    assert!(
        all.windows(2).all(|w| w[1] - w[0] >= 3),
        "reservations never overlap"
    );
}
