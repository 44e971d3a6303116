//! Large blobs (over the blob memtable's size) are ingested into blob files instead of
//! going through the journal: from memory (`put`, `put_then_write`) and from a spool file
//! (`put_source_then_write`). Each reads back whole, survives a reopen with the batch that
//! points at it, is stored once, and is deleted like any other.

use std::io::Write as _;

use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::{Batch, BlobId, BlobSource, Scope, Table};
use uuid::Uuid;

const TABLE: Table = Table::plain("large_blobs");
/// Past the 16 MiB blob memtable.
const LARGE: usize = 20 << 20;

/// `len` bytes of noise that differ for each `seed`.
fn noise(seed: u32, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// A spool file holding `data` followed by bytes that are not part of the blob.
fn spooled(data: &[u8]) -> BlobSource {
    let mut file = tempfile::tempfile().expect("a spool file");
    file.write_all(data).expect("write the spool file");
    file.write_all(b"trailing bytes that are not the blob")
        .expect("write the spool file");
    BlobSource::File {
        file,
        len: data.len() as u64,
    }
}

fn pointing_at(user: Scope, key: &'static [u8]) -> Box<dyn FnOnce(BlobId) -> Batch + Send> {
    Box::new(move |id| {
        let mut batch = Batch::new();
        batch.put(TABLE, user, key.to_vec(), id.as_bytes().to_vec());
        batch
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_blobs_from_memory_and_from_a_spool_file_are_stored_whole_and_durably() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let user = Scope::User(Uuid::new_v4());
    let (from_memory, from_file) = (noise(1, LARGE), noise(2, LARGE + 7));
    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).expect("open");
    let stores = storage.stores();
    let put = stores.blobs.put(&from_memory).await.expect("put");
    assert_eq!(put, BlobId::of(&from_memory));
    let records = stores.records.as_ref();
    let id = stores
        .blobs
        .put_source_then_write(spooled(&from_file), records, pointing_at(user, b"mail"))
        .await
        .expect("put_source_then_write");
    assert_eq!(
        id,
        BlobId::of(&from_file),
        "the id is the SHA-256 of the blob alone"
    );
    // The same bytes again are the same blob, and the batch is written.
    let again = stores
        .blobs
        .put_source_then_write(spooled(&from_file), records, pointing_at(user, b"again"))
        .await
        .expect("put_source_then_write again");
    assert_eq!(again, id);
    drop(stores);
    storage.close().await.expect("close");

    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).expect("reopen");
    let stores = storage.stores();
    for (key, blob) in [(&b"mail"[..], &from_file), (b"again", &from_file)] {
        let pointer = stores.records.get(TABLE, user, key).await.expect("get");
        assert_eq!(pointer.as_deref(), Some(&id.as_bytes()[..]), "{key:?}");
        let back = stores.blobs.get(&id).await.expect("get the blob");
        assert!(
            back.as_ref() == Some(blob),
            "the spooled blob reads back whole"
        );
    }
    let back = stores.blobs.get(&put).await.expect("get the blob");
    assert!(
        back.as_ref() == Some(&from_memory),
        "the put blob reads back whole"
    );
    stores.blobs.delete(&put).await.expect("delete");
    assert!(!stores.blobs.exists(&put).await.expect("exists"));
    assert!(stores.blobs.exists(&id).await.expect("exists"));
    drop(stores);
    storage.close().await.expect("close");
}

#[tokio::test]
async fn a_small_spooled_blob_takes_the_usual_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).expect("open");
    let stores = storage.stores();
    let user = Scope::User(Uuid::new_v4());
    let small = noise(3, 100_000);
    let id = stores
        .blobs
        .put_source_then_write(
            spooled(&small),
            stores.records.as_ref(),
            pointing_at(user, b"m"),
        )
        .await
        .expect("put_source_then_write");
    assert_eq!(id, BlobId::of(&small));
    let back = stores.blobs.get(&id).await.expect("get");
    assert!(back.as_ref() == Some(&small));
    drop(stores);
    storage.close().await.expect("close");
}
