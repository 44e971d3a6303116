//! Checks of the blobs role: content addressing, idempotent puts, large values.

use caliopen_storage_traits::{Batch, BlobId, StorageError};

use crate::Backend;
use crate::support::{PLAIN, close, fresh_user, noise, ok, open};

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

/// `put_then_write`: the blob and the batch made of its id are both there after it;
/// the same bytes again are the same blob; a batch refused as invalid writes nothing
/// of itself.
pub async fn blobs_put_then_write(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let user = fresh_user();
    let data = format!("Subject: {}\r\n\r\nraw mail\r\n", uuid::Uuid::new_v4()).into_bytes();
    let pointing_at = |key: &'static str| {
        Box::new(move |id: BlobId| {
            let mut batch = Batch::new();
            batch.put(PLAIN, user, key.as_bytes().to_vec(), id.as_bytes().to_vec());
            batch
        }) as Box<dyn FnOnce(BlobId) -> Batch + Send>
    };
    let write = |key| {
        stores
            .blobs
            .put_then_write(&data, stores.records.as_ref(), pointing_at(key))
    };
    let id = ok(backend, "put_then_write", write("first").await);
    assert_eq!(id, BlobId::of(&data), "[{name}] the id is the SHA-256");
    assert_eq!(
        ok(backend, "get", stores.blobs.get(&id).await),
        Some(data.clone()),
        "[{name}] the blob is stored"
    );
    assert_eq!(
        ok(
            backend,
            "get",
            stores.records.get(PLAIN, user, b"first").await
        ),
        Some(id.as_bytes().to_vec()),
        "[{name}] the batch is written, with the blob's id"
    );
    let again = ok(backend, "put_then_write again", write("second").await);
    assert_eq!(again, id, "[{name}] the same bytes are the same blob");
    assert!(
        ok(
            backend,
            "get",
            stores.records.get(PLAIN, user, b"second").await
        )
        .is_some(),
        "[{name}] the second batch is written too"
    );

    let invalid = Box::new(move |_: BlobId| {
        let mut batch = Batch::new();
        batch.put(PLAIN, user, b"refused".to_vec(), Vec::new());
        batch.put(PLAIN, user, Vec::new(), Vec::new());
        batch
    });
    let other = format!("Subject: {}\r\n\r\nanother\r\n", uuid::Uuid::new_v4()).into_bytes();
    let result = stores
        .blobs
        .put_then_write(&other, stores.records.as_ref(), invalid)
        .await;
    assert!(
        matches!(result, Err(StorageError::Invalid(_))),
        "[{name}] a batch with an empty key is refused as invalid, got {result:?}"
    );
    assert_eq!(
        ok(
            backend,
            "get",
            stores.records.get(PLAIN, user, b"refused").await
        ),
        None,
        "[{name}] nothing of a refused batch is written"
    );
    close(backend, stores).await;
}
