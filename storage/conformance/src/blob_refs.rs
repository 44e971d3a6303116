//! Checks of `BlobStore::delete_unreferenced`: a blob is never deleted while its
//! reference count is above zero, whatever runs at the same time; a backend may
//! keep unreferenced blobs (answering `false`), and one that deletes them stores
//! them again when a reference comes back with `put_then_write`.

use caliopen_storage_traits::{Batch, BlobId, Scope, Stores};

use crate::Backend;
use crate::support::{COUNTERS, close, ok, open, write};

/// Rounds of a reference added while a deletion is asked, side by side.
const RACES: usize = 40;

/// Adds `delta` to the blob's count, with the blob, as callers must.
async fn reference(backend: &dyn Backend, stores: &Stores, data: &[u8], delta: i64) -> BlobId {
    let written = stores
        .blobs
        .put_then_write(
            data,
            stores.records.as_ref(),
            Box::new(move |id: BlobId| {
                let mut batch = Batch::new();
                batch.add(COUNTERS, Scope::Global, id.as_bytes().to_vec(), delta);
                batch
            }),
        )
        .await;
    ok(backend, "put_then_write with a reference", written)
}

async fn count(backend: &dyn Backend, stores: &Stores, id: &BlobId) -> i64 {
    let read = stores
        .records
        .counter(COUNTERS, Scope::Global, id.as_bytes())
        .await;
    ok(backend, "reading a reference count", read)
}

async fn unreference(backend: &dyn Backend, stores: &Stores, id: &BlobId) {
    let mut batch = Batch::new();
    batch.add(COUNTERS, Scope::Global, id.as_bytes().to_vec(), -1);
    write(backend, stores, "dropping a reference", batch).await;
}

/// Referenced blobs stay; an unreferenced one may go, and comes back with the
/// next reference; a deletion asked while a reference is added never loses it.
pub async fn blobs_delete_unreferenced(backend: &dyn Backend) {
    let stores = open(backend).await;
    let name = backend.name();
    let data = format!("Subject: refs {}\r\n\r\nshared\r\n", uuid::Uuid::new_v4()).into_bytes();
    let delete = |id: BlobId| {
        let stores = stores.clone();
        async move {
            stores
                .blobs
                .delete_unreferenced(&id, stores.records.as_ref(), COUNTERS)
                .await
        }
    };

    let id = reference(backend, &stores, &data, 1).await;
    reference(backend, &stores, &data, 1).await;
    assert!(
        !ok(backend, "delete_unreferenced", delete(id).await),
        "[{name}] a blob referenced twice is not deleted"
    );
    unreference(backend, &stores, &id).await;
    assert!(
        !ok(backend, "delete_unreferenced", delete(id).await),
        "[{name}] a blob still referenced once is not deleted"
    );
    assert!(ok(backend, "exists", stores.blobs.exists(&id).await));

    unreference(backend, &stores, &id).await;
    let deleted = ok(backend, "delete_unreferenced", delete(id).await);
    let exists = ok(backend, "exists", stores.blobs.exists(&id).await);
    assert_eq!(
        deleted, !exists,
        "[{name}] `true` means the unreferenced blob is gone, `false` that it stays"
    );
    reference(backend, &stores, &data, 1).await;
    assert_eq!(
        ok(backend, "get", stores.blobs.get(&id).await),
        Some(data.clone()),
        "[{name}] a new reference with its blob stores the blob again"
    );
    assert!(
        !ok(backend, "delete_unreferenced", delete(id).await),
        "[{name}] and it stays"
    );

    // A reference added while a deletion is asked: whichever commits first, a
    // counted blob is there afterwards.
    unreference(backend, &stores, &id).await;
    for round in 0..RACES {
        let (added, deleted) = tokio::join!(reference(backend, &stores, &data, 1), delete(id));
        ok(backend, "delete_unreferenced", deleted);
        assert_eq!(count(backend, &stores, &added).await, 1);
        assert_eq!(
            ok(backend, "get", stores.blobs.get(&id).await).as_deref(),
            Some(&data[..]),
            "[{name}] round {round}: a blob whose reference was added beside a deletion is lost"
        );
        unreference(backend, &stores, &id).await;
    }
    close(backend, stores).await;
}
