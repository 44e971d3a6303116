//! Checks of the blobs role: content addressing, idempotent puts, large values.

use caliopen_storage_traits::BlobId;

use crate::Backend;
use crate::support::{close, noise, ok, open};

/// Size of the blob in [`blobs_large`]: a big raw mail with attachments.
pub const LARGE_BLOB_BYTES: usize = 24 * 1024 * 1024;

/// Put, get, exists, delete; ids are SHA-256 of the bytes.
pub async fn blobs_round_trip(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let data = format!(
        "From: a@example.org\r\nSubject: {}\r\n\r\nhello\r\n",
        uuid::Uuid::new_v4()
    )
    .into_bytes();
    let id = ok(backend, "put", stores.blobs.put(&data).await);
    assert_eq!(
        id,
        BlobId::of(&data),
        "[{name}] a blob's id is the SHA-256 of its bytes"
    );
    assert_eq!(
        ok(backend, "get", stores.blobs.get(&id).await),
        Some(data.clone()),
        "[{name}] a blob reads back"
    );
    assert!(
        ok(backend, "exists", stores.blobs.exists(&id).await),
        "[{name}] a stored blob exists"
    );

    let missing = BlobId::of(uuid::Uuid::new_v4().as_bytes());
    assert_eq!(
        ok(backend, "get", stores.blobs.get(&missing).await),
        None,
        "[{name}] a missing blob reads as none"
    );
    assert!(
        !ok(backend, "exists", stores.blobs.exists(&missing).await),
        "[{name}] a missing blob does not exist"
    );

    ok(backend, "delete", stores.blobs.delete(&id).await);
    assert_eq!(
        ok(backend, "get", stores.blobs.get(&id).await),
        None,
        "[{name}] a deleted blob reads as none"
    );
    assert!(
        !ok(backend, "exists", stores.blobs.exists(&id).await),
        "[{name}] a deleted blob does not exist"
    );
    ok(
        backend,
        "delete of a missing blob",
        stores.blobs.delete(&id).await,
    );

    let empty = ok(backend, "put of an empty blob", stores.blobs.put(&[]).await);
    assert_eq!(
        ok(backend, "get", stores.blobs.get(&empty).await),
        Some(Vec::new()),
        "[{name}] an empty blob reads back"
    );
    close(backend, stores).await;
}

/// The same bytes stored twice, or by concurrent callers, are one blob.
pub async fn blobs_idempotent(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name().to_string();
    let mut data = noise(7, 512 * 1024);
    data.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let first = ok(backend, "first put", stores.blobs.put(&data).await);
    let second = ok(backend, "second put", stores.blobs.put(&data).await);
    assert_eq!(first, second, "[{name}] the same bytes get the same id");

    let mut tasks = Vec::new();
    for _ in 0..4 {
        let blobs = stores.blobs.clone();
        let data = data.clone();
        tasks.push(tokio::spawn(async move { blobs.put(&data).await }));
    }
    for task in tasks {
        let id = match task.await {
            Ok(put) => ok(backend, "concurrent put", put),
            Err(e) => panic!("[{name}] a concurrent put task failed: {e}"),
        };
        assert_eq!(
            id, first,
            "[{name}] concurrent puts of the same bytes agree on the id"
        );
    }
    assert_eq!(
        ok(backend, "get", stores.blobs.get(&first).await),
        Some(data),
        "[{name}] the blob is intact"
    );
    ok(backend, "delete", stores.blobs.delete(&first).await);
    assert!(
        !ok(backend, "exists", stores.blobs.exists(&first).await),
        "[{name}] one delete removes the one copy"
    );
    close(backend, stores).await;
}

/// A raw mail of tens of MB goes in and comes out intact.
pub async fn blobs_large(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let mut data = noise(42, LARGE_BLOB_BYTES);
    data[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let id = ok(
        backend,
        "put of a large blob",
        stores.blobs.put(&data).await,
    );
    assert_eq!(
        id,
        BlobId::of(&data),
        "[{name}] a large blob's id is its SHA-256"
    );
    let back = ok(backend, "get of a large blob", stores.blobs.get(&id).await);
    assert!(
        back.as_ref() == Some(&data),
        "[{name}] a {LARGE_BLOB_BYTES}-byte blob reads back intact"
    );
    ok(
        backend,
        "delete of a large blob",
        stores.blobs.delete(&id).await,
    );
    close(backend, stores).await;
}
