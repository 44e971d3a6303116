//! Checks under concurrency: many writers at once, and batches that readers never see
//! half applied.

use std::collections::BTreeSet;

use caliopen_storage_traits::{Batch, Scan, Scope};
use uuid::Uuid;

use crate::Backend;
use crate::support::{
    COUNTERS, OTHER, PLAIN, TIMELINE, close, fresh_prefix, fresh_user, ok, open, scan_keys, write,
};

/// Writer tasks in [`records_concurrent_writers`].
pub const WRITERS: usize = 8;
/// Batches per writer task in [`records_concurrent_writers`].
pub const BATCHES_PER_WRITER: usize = 200;

/// 8 tasks × 200 batches at once: every record lands, counters are exact.
pub async fn records_concurrent_writers(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name().to_string();
    let user = fresh_user();
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let records = stores.records.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..BATCHES_PER_WRITER {
                let mut batch = Batch::new();
                let key = format!("w{writer}-{i:04}").into_bytes();
                let mut time_key = Uuid::now_v7().as_bytes().to_vec();
                time_key.extend_from_slice(&key);
                batch
                    .put(PLAIN, user, key.clone(), key.clone())
                    .put(TIMELINE, user, time_key, key)
                    .add(COUNTERS, user, b"total".to_vec(), 1)
                    .add(COUNTERS, user, format!("writer-{writer}").into_bytes(), 1)
                    .add(COUNTERS, Scope::Global, user_key(user), 2);
                records
                    .write(batch)
                    .await
                    .unwrap_or_else(|e| panic!("writer {writer}, batch {i}: {e}"));
            }
        }));
    }
    for task in tasks {
        if let Err(e) = task.await {
            panic!("[{name}] a concurrent writer failed: {e}");
        }
    }
    let total = WRITERS * BATCHES_PER_WRITER;
    let keys = scan_keys(backend, &stores, PLAIN, user, Scan::all(500)).await;
    let expected: BTreeSet<Vec<u8>> = (0..WRITERS)
        .flat_map(|w| (0..BATCHES_PER_WRITER).map(move |i| format!("w{w}-{i:04}").into_bytes()))
        .collect();
    assert_eq!(
        keys.len(),
        total,
        "[{name}] every concurrent batch's record is present"
    );
    assert_eq!(
        keys.into_iter().collect::<BTreeSet<_>>(),
        expected,
        "[{name}] the records present are the ones written"
    );

    let timeline = scan_keys(backend, &stores, TIMELINE, user, Scan::all(1000)).await;
    assert_eq!(
        timeline.len(),
        total,
        "[{name}] every time-ordered record is present"
    );
    assert!(
        timeline.windows(2).all(|w| w[0] < w[1]),
        "[{name}] time-ordered keys scan in order"
    );

    let counter = ok(
        backend,
        "counter",
        stores.records.counter(COUNTERS, user, b"total").await,
    );
    assert_eq!(
        counter, total as i64,
        "[{name}] a counter shared by concurrent writers is exact"
    );
    for writer in 0..WRITERS {
        let key = format!("writer-{writer}").into_bytes();
        let counter = ok(
            backend,
            "counter",
            stores.records.counter(COUNTERS, user, &key).await,
        );
        assert_eq!(
            counter, BATCHES_PER_WRITER as i64,
            "[{name}] writer {writer}'s counter is exact"
        );
    }
    let global = ok(
        backend,
        "counter",
        stores
            .records
            .counter(COUNTERS, Scope::Global, &user_key(user))
            .await,
    );
    assert_eq!(
        global,
        2 * total as i64,
        "[{name}] a global counter changed with user records is exact"
    );
    close(backend, stores).await;
}

fn user_key(scope: Scope) -> Vec<u8> {
    format!("conformance-writes-of-{scope:?}").into_bytes()
}

/// A batch is applied whole: across tables and scopes, and, within a partition,
/// never seen half applied by a concurrent scan.
pub async fn records_batch_atomicity(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name().to_string();
    let (alice, bob) = (fresh_user(), fresh_user());
    let global = fresh_prefix();
    let mut setup = Batch::new();
    setup.put(PLAIN, alice, b"old".to_vec(), b"x".to_vec());
    write(backend, &stores, "setting up", setup).await;

    let mut batch = Batch::new();
    batch
        .put(PLAIN, alice, b"a".to_vec(), b"1".to_vec())
        .put(OTHER, bob, b"b".to_vec(), b"2".to_vec())
        .put(PLAIN, Scope::Global, global.clone(), b"3".to_vec())
        .add(COUNTERS, alice, b"n".to_vec(), 4)
        .delete(PLAIN, alice, b"old".to_vec());
    write(backend, &stores, "a batch across tables and scopes", batch).await;
    let get = |table, scope, key: Vec<u8>| {
        let records = stores.records.clone();
        async move { records.get(table, scope, &key).await }
    };
    assert_eq!(
        ok(backend, "get", get(PLAIN, alice, b"a".to_vec()).await).as_deref(),
        Some(&b"1"[..]),
        "[{name}] batch put (alice)"
    );
    assert_eq!(
        ok(backend, "get", get(OTHER, bob, b"b".to_vec()).await).as_deref(),
        Some(&b"2"[..]),
        "[{name}] batch put (bob, other table)"
    );
    assert_eq!(
        ok(backend, "get", get(PLAIN, Scope::Global, global).await).as_deref(),
        Some(&b"3"[..]),
        "[{name}] batch put (global)"
    );
    assert_eq!(
        ok(backend, "get", get(PLAIN, alice, b"old".to_vec()).await),
        None,
        "[{name}] batch delete"
    );
    assert_eq!(
        ok(
            backend,
            "counter",
            stores.records.counter(COUNTERS, alice, b"n").await
        ),
        4,
        "[{name}] batch add"
    );

    // A writer rewrites two keys of one partition together; a reader must never
    // see them disagree.
    let pair = fresh_user();
    let rounds = 200u32;
    let writer = {
        let records = stores.records.clone();
        tokio::spawn(async move {
            for round in 0..rounds {
                let mut batch = Batch::new();
                let value = round.to_be_bytes().to_vec();
                batch
                    .put(PLAIN, pair, b"pair-a".to_vec(), value.clone())
                    .put(PLAIN, pair, b"pair-b".to_vec(), value);
                records
                    .write(batch)
                    .await
                    .unwrap_or_else(|e| panic!("pair writer round {round}: {e}"));
            }
        })
    };
    let mut observed = 0;
    while !writer.is_finished() || observed == 0 {
        let page = ok(
            backend,
            "scan of the pair",
            stores
                .records
                .scan(PLAIN, pair, Scan::prefix(b"pair-".to_vec(), 10))
                .await,
        );
        match page.items.as_slice() {
            [] => {}
            [(_, a), (_, b)] => {
                assert_eq!(
                    a, b,
                    "[{name}] a scan saw a batch half applied (pair-a {a:?}, pair-b {b:?})"
                );
                observed += 1;
            }
            other => panic!(
                "[{name}] a scan saw {} of the 2 keys one batch wrote",
                other.len()
            ),
        }
        tokio::task::yield_now().await;
    }
    if let Err(e) = writer.await {
        panic!("[{name}] the pair writer failed: {e}");
    }
    let page = ok(
        backend,
        "scan of the pair",
        stores.records.scan(PLAIN, pair, Scan::all(10)).await,
    );
    let last = (rounds - 1).to_be_bytes().to_vec();
    assert!(
        page.items.iter().all(|(_, v)| *v == last),
        "[{name}] the last batch wins on both keys"
    );
    close(backend, stores).await;
}
