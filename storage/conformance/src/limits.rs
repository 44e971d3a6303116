//! Checks of the key limits (`caliopen_storage_traits::limits`): a key up to the
//! limit is stored like any other; a longer one, however long, is refused with
//! `TooLarge` by every operation, changes nothing, and the store goes on serving.

use caliopen_storage_traits::limits::{
    MAX_EPHEMERAL_KEY_BYTES, MAX_KEY_BYTES, MAX_NAMESPACE_BYTES,
};
use caliopen_storage_traits::{Batch, BlobId, Scan, StorageError, StorageResult};

use crate::Backend;
use crate::support::{COUNTERS, PLAIN, close, fresh_user, ok, open, put, scan_keys, write};

/// Over-long lengths tried: one byte over the contract, and past the 65,535 bytes an
/// LSM tree asserts on (the attack that once stopped every write).
const OVER: [usize; 2] = [MAX_KEY_BYTES + 1, 70_000];

fn refused<T: std::fmt::Debug>(name: &str, what: &str, result: &StorageResult<T>) {
    assert!(
        matches!(result, Err(StorageError::TooLarge { .. })),
        "[{name}] {what} is refused as too large, got {result:?}"
    );
}

/// Record keys: the longest allowed key round-trips; longer ones are refused in
/// puts, deletes, counter additions (alone or beside valid operations, which then
/// do not land either), point reads, counter reads, scan prefixes and cursors, and
/// batches written with a blob; afterwards the store still writes.
pub async fn records_key_limits(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();

    let longest = vec![b'm'; MAX_KEY_BYTES];
    put(backend, &stores, PLAIN, user, &longest, b"max").await;
    assert_eq!(
        ok(
            backend,
            "get",
            stores.records.get(PLAIN, user, &longest).await
        )
        .as_deref(),
        Some(&b"max"[..]),
        "[{name}] a key of exactly {MAX_KEY_BYTES} bytes is stored"
    );

    for len in OVER {
        let key = vec![b'k'; len];
        let with_valid = |op: &dyn Fn(&mut Batch)| {
            let mut batch = Batch::new();
            batch.put(
                PLAIN,
                user,
                format!("valid-{len}").into_bytes(),
                b"no".to_vec(),
            );
            op(&mut batch);
            batch
        };
        let put_long = with_valid(&|b| {
            b.put(PLAIN, user, key.clone(), b"x".to_vec());
        });
        refused(
            name,
            &format!("a put with a {len}-byte key"),
            &stores.records.write(put_long).await,
        );
        let delete_long = with_valid(&|b| {
            b.delete(PLAIN, user, key.clone());
        });
        refused(
            name,
            &format!("a delete with a {len}-byte key"),
            &stores.records.write(delete_long).await,
        );
        let add_long = with_valid(&|b| {
            b.add(COUNTERS, user, key.clone(), 1);
        });
        refused(
            name,
            &format!("an add with a {len}-byte key"),
            &stores.records.write(add_long).await,
        );

        refused(
            name,
            &format!("a get of a {len}-byte key"),
            &stores.records.get(PLAIN, user, &key).await,
        );
        refused(
            name,
            &format!("a counter read of a {len}-byte key"),
            &stores.records.counter(COUNTERS, user, &key).await,
        );
        refused(
            name,
            &format!("a scan with a {len}-byte prefix"),
            &stores
                .records
                .scan(PLAIN, user, Scan::prefix(key.clone(), 10))
                .await,
        );
        refused(
            name,
            &format!("a scan after a {len}-byte cursor"),
            &stores
                .records
                .scan(PLAIN, user, Scan::all(10).after(Some(key.clone())))
                .await,
        );

        let data = format!("limits {len} {}", uuid::Uuid::new_v4()).into_bytes();
        let long_key = key.clone();
        let with_blob = stores
            .blobs
            .put_then_write(
                &data,
                stores.records.as_ref(),
                Box::new(move |id: BlobId| {
                    let mut batch = Batch::new();
                    batch.put(PLAIN, user, b"blob-ref".to_vec(), id.as_bytes().to_vec());
                    batch.put(PLAIN, user, long_key, Vec::new());
                    batch
                }),
            )
            .await;
        refused(
            name,
            &format!("a batch with a blob and a {len}-byte key"),
            &with_blob,
        );
    }

    let keys = scan_keys(backend, &stores, PLAIN, user, Scan::all(100)).await;
    assert_eq!(
        keys,
        vec![longest.clone()],
        "[{name}] refused batches write nothing"
    );
    let mut batch = Batch::new();
    batch.put(PLAIN, user, b"after".to_vec(), b"still".to_vec());
    batch.add(COUNTERS, user, b"after".to_vec(), 2);
    write(backend, &stores, "a batch after the refusals", batch).await;
    assert_eq!(
        ok(
            backend,
            "get",
            stores.records.get(PLAIN, user, b"after").await
        )
        .as_deref(),
        Some(&b"still"[..]),
        "[{name}] the store still writes after refusing over-long keys"
    );
    assert_eq!(
        ok(
            backend,
            "counter",
            stores.records.counter(COUNTERS, user, b"after").await
        ),
        2,
        "[{name}] and still counts"
    );
    close(backend, stores).await;
}

/// Ephemeral keys and namespaces: the longest allowed round-trip; longer ones are
/// refused by put, get, delete and increment; afterwards the store still writes.
pub async fn ephemeral_key_limits(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let eph = &stores.ephemeral;
    let ttl = std::time::Duration::from_secs(120);
    let ns = "n".repeat(MAX_NAMESPACE_BYTES);
    let mut longest = uuid::Uuid::new_v4().as_bytes().to_vec();
    longest.resize(MAX_EPHEMERAL_KEY_BYTES, b'e');
    ok(backend, "put", eph.put(&ns, &longest, b"max", ttl).await);
    assert_eq!(
        ok(backend, "get", eph.get(&ns, &longest).await).as_deref(),
        Some(&b"max"[..]),
        "[{name}] a {MAX_EPHEMERAL_KEY_BYTES}-byte key in a {MAX_NAMESPACE_BYTES}-byte namespace is stored"
    );
    let mut counter_key = longest.clone();
    counter_key[0] ^= 1;
    assert_eq!(
        ok(
            backend,
            "increment",
            eph.increment(&ns, &counter_key, ttl).await
        ),
        1,
        "[{name}] and counts"
    );

    for len in OVER {
        let key = vec![b'k'; len];
        let what = |op: &str| format!("an ephemeral {op} with a {len}-byte key");
        refused(
            name,
            &what("put"),
            &eph.put("limits", &key, b"x", ttl).await,
        );
        refused(name, &what("get"), &eph.get("limits", &key).await);
        refused(name, &what("delete"), &eph.delete("limits", &key).await);
        refused(
            name,
            &what("increment"),
            &eph.increment("limits", &key, ttl).await,
        );
        let long_ns = "n".repeat(len);
        refused(
            name,
            &format!("an ephemeral put in a {len}-byte namespace"),
            &eph.put(&long_ns, b"k", b"x", ttl).await,
        );
        refused(
            name,
            &format!("an increment in a {len}-byte namespace"),
            &eph.increment(&long_ns, b"k", ttl).await,
        );
    }

    let key = uuid::Uuid::new_v4().as_bytes().to_vec();
    ok(
        backend,
        "put after refusals",
        eph.put("limits", &key, b"ok", ttl).await,
    );
    assert_eq!(
        ok(backend, "get", eph.get("limits", &key).await).as_deref(),
        Some(&b"ok"[..]),
        "[{name}] the store still writes after refusing over-long keys"
    );
    close(backend, stores).await;
}
