//! Checks of the records role: reads and writes, scopes, counters and batch
//! validation (key order and paging are in [`crate::order`]).

use caliopen_storage_traits::{Batch, Scan, Scope, StorageError};

use crate::Backend;
use crate::support::{
    COUNTERS, OTHER, PLAIN, TIMELINE, close, fresh_user, ok, open, put, scan_keys, write,
};

/// Get, put, overwrite, repeated put, delete, repeated delete, empty batch.
pub async fn records_get_put_delete(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();
    let get = |key: &'static [u8]| {
        let records = stores.records.clone();
        async move { records.get(PLAIN, user, key).await }
    };

    assert_eq!(
        ok(backend, "get of a missing key", get(b"k").await),
        None,
        "[{name}] a missing key reads as none"
    );
    put(backend, &stores, PLAIN, user, b"k", b"v1").await;
    assert_eq!(
        ok(backend, "get", get(b"k").await),
        Some(b"v1".to_vec()),
        "[{name}] a put is readable"
    );
    put(backend, &stores, PLAIN, user, b"k", b"v2").await;
    assert_eq!(
        ok(backend, "get", get(b"k").await),
        Some(b"v2".to_vec()),
        "[{name}] a put overwrites"
    );
    put(backend, &stores, PLAIN, user, b"k", b"v2").await;
    let keys = scan_keys(backend, &stores, PLAIN, user, Scan::all(100)).await;
    assert_eq!(
        keys,
        vec![b"k".to_vec()],
        "[{name}] the same put twice stores one record"
    );

    let mut batch = Batch::new();
    batch.delete(PLAIN, user, b"k".to_vec());
    write(backend, &stores, "deleting a record", batch.clone()).await;
    assert_eq!(
        ok(backend, "get", get(b"k").await),
        None,
        "[{name}] a deleted record reads as none"
    );
    write(backend, &stores, "deleting a missing record", batch).await;
    write(backend, &stores, "writing an empty batch", Batch::new()).await;

    let mut batch = Batch::new();
    batch.put(PLAIN, user, b"same".to_vec(), b"first".to_vec());
    batch.put(PLAIN, user, b"same".to_vec(), b"last".to_vec());
    batch.put(PLAIN, user, b"gone".to_vec(), b"x".to_vec());
    batch.delete(PLAIN, user, b"gone".to_vec());
    write(backend, &stores, "a batch touching a key twice", batch).await;
    assert_eq!(
        ok(backend, "get", get(b"same").await),
        Some(b"last".to_vec()),
        "[{name}] within a batch, the last put of a key wins"
    );
    assert_eq!(
        ok(backend, "get", get(b"gone").await),
        None,
        "[{name}] within a batch, a later delete wins"
    );
    close(backend, stores).await;
}

/// Users, the global scope and tables never see each other's records.
pub async fn records_scope_isolation(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let (alice, bob) = (fresh_user(), fresh_user());
    let global_key = crate::support::fresh_prefix();
    put(backend, &stores, PLAIN, alice, b"shared", b"alice").await;
    put(backend, &stores, PLAIN, bob, b"shared", b"bob").await;
    put(backend, &stores, OTHER, alice, b"shared", b"other table").await;
    put(
        backend,
        &stores,
        PLAIN,
        Scope::Global,
        &global_key,
        b"global",
    )
    .await;

    for (scope, table, want) in [
        (alice, PLAIN, &b"alice"[..]),
        (bob, PLAIN, b"bob"),
        (alice, OTHER, b"other table"),
    ] {
        let got = ok(
            backend,
            "get",
            stores.records.get(table, scope, b"shared").await,
        );
        assert_eq!(
            got.as_deref(),
            Some(want),
            "[{name}] {scope:?} in {} reads its own record",
            table.name
        );
        let keys = scan_keys(backend, &stores, table, scope, Scan::all(10)).await;
        assert_eq!(
            keys,
            vec![b"shared".to_vec()],
            "[{name}] a scan of {scope:?} in {} sees only its records",
            table.name
        );
    }
    let got = ok(
        backend,
        "get",
        stores.records.get(PLAIN, Scope::Global, &global_key).await,
    );
    assert_eq!(
        got.as_deref(),
        Some(&b"global"[..]),
        "[{name}] the global scope is its own partition"
    );
    let got = ok(
        backend,
        "get",
        stores.records.get(PLAIN, Scope::Global, b"shared").await,
    );
    assert_eq!(
        got, None,
        "[{name}] the global scope does not see users' records"
    );

    let mut batch = Batch::new();
    batch
        .delete(PLAIN, alice, b"shared".to_vec())
        .add(COUNTERS, alice, b"n".to_vec(), 3);
    write(backend, &stores, "deleting in one scope", batch).await;
    let got = ok(
        backend,
        "get",
        stores.records.get(PLAIN, bob, b"shared").await,
    );
    assert_eq!(
        got.as_deref(),
        Some(&b"bob"[..]),
        "[{name}] a delete in one scope leaves the others alone"
    );
    let counter = ok(
        backend,
        "counter",
        stores.records.counter(COUNTERS, bob, b"n").await,
    );
    assert_eq!(counter, 0, "[{name}] counters are per scope");
    close(backend, stores).await;
}

/// Counters start at 0, add signed deltas, sum within a batch, reset on delete.
pub async fn records_counters(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();
    let counter = |key: &'static [u8]| {
        let records = stores.records.clone();
        async move { records.counter(COUNTERS, user, key).await }
    };
    assert_eq!(
        ok(backend, "counter", counter(b"c").await),
        0,
        "[{name}] a missing counter is 0"
    );
    let add = |delta: i64| {
        let mut batch = Batch::new();
        batch.add(COUNTERS, user, b"c".to_vec(), delta);
        batch
    };
    write(backend, &stores, "adding 5", add(5)).await;
    write(backend, &stores, "adding -2", add(-2)).await;
    assert_eq!(
        ok(backend, "counter", counter(b"c").await),
        3,
        "[{name}] 5 - 2 = 3"
    );
    let mut both = add(1);
    both.extend(add(1));
    write(backend, &stores, "adding twice in one batch", both).await;
    assert_eq!(
        ok(backend, "counter", counter(b"c").await),
        5,
        "[{name}] two adds in one batch both count"
    );
    write(backend, &stores, "adding -10", add(-10)).await;
    assert_eq!(
        ok(backend, "counter", counter(b"c").await),
        -5,
        "[{name}] counters go negative"
    );
    let mut reset = Batch::new();
    reset.delete(COUNTERS, user, b"c".to_vec());
    write(backend, &stores, "deleting a counter", reset).await;
    assert_eq!(
        ok(backend, "counter", counter(b"c").await),
        0,
        "[{name}] a deleted counter reads 0"
    );
    write(backend, &stores, "adding after delete", add(7)).await;
    assert_eq!(
        ok(backend, "counter", counter(b"c").await),
        7,
        "[{name}] a deleted counter restarts from 0"
    );
    close(backend, stores).await;
}

/// Invalid batches are refused with `Invalid` and change nothing.
pub async fn records_batch_validation(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();
    let valid_first = |tag: &str| {
        let mut batch = Batch::new();
        batch.put(
            PLAIN,
            user,
            format!("valid-{tag}").into_bytes(),
            b"must not land".to_vec(),
        );
        batch
    };
    let mut cases = Vec::new();
    let mut batch = valid_first("empty-key");
    batch.put(PLAIN, user, Vec::new(), b"x".to_vec());
    cases.push(("an empty key", batch));
    let mut batch = valid_first("put-counter");
    batch.put(COUNTERS, user, b"c".to_vec(), 1i64.to_be_bytes().to_vec());
    cases.push(("a put in a counter table", batch));
    let mut batch = valid_first("add-plain");
    batch.add(PLAIN, user, b"c".to_vec(), 1);
    cases.push(("an add in a plain table", batch));
    let mut batch = valid_first("short-time-key");
    batch.put(TIMELINE, user, b"short".to_vec(), b"x".to_vec());
    cases.push(("a time-ordered key shorter than a UUID", batch));
    let mut batch = valid_first("too-many");
    for i in 0..Batch::MAX_OPS {
        batch.put(PLAIN, user, format!("bulk-{i}").into_bytes(), Vec::new());
    }
    cases.push(("more than MAX_OPS operations", batch));

    for (what, batch) in cases {
        let result = stores.records.write(batch).await;
        assert!(
            matches!(result, Err(StorageError::Invalid(_))),
            "[{name}] a batch with {what} is refused as invalid, got {result:?}"
        );
    }
    let keys = scan_keys(backend, &stores, PLAIN, user, Scan::all(100)).await;
    assert!(
        keys.is_empty(),
        "[{name}] refused batches write nothing, found {} records",
        keys.len()
    );
    close(backend, stores).await;
}
