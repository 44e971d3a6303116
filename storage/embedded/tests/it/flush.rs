//! Enough blobs to push fjall past the blob keyspace's in-memory table (16 MiB), so
//! reads are served from flushed blob files, before and after a reopen. The
//! conformance suite's data sets are small enough to stay in memory.

use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::{Batch, BlobId, Scan, Scope, Table};
use uuid::Uuid;

const RECORDS: Table = Table::plain("flush_records");
const BLOBS: usize = 24;
const BLOB_BYTES: usize = 1024 * 1024;
const RECORD_BYTES: usize = 4096;

/// Incompressible bytes (xorshift64), different for each `i`.
fn blob(i: usize) -> Vec<u8> {
    let mut state = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut data = Vec::with_capacity(BLOB_BYTES);
    while data.len() < BLOB_BYTES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_beyond_the_memtables_reads_back_before_and_after_reopen() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let user = Scope::User(Uuid::new_v4());
    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).expect("open");
    let stores = storage.stores();
    let mut ids = Vec::new();
    for i in 0..BLOBS {
        let data = blob(i);
        let id = stores.blobs.put(&data).await.expect("blob put");
        assert_eq!(id, BlobId::of(&data));
        let mut batch = Batch::new();
        batch.put(
            RECORDS,
            user,
            format!("r{i:03}").into_bytes(),
            data[..RECORD_BYTES].to_vec(),
        );
        stores.records.write(batch).await.expect("record write");
        ids.push(id);
    }
    let check = |stores: caliopen_storage_traits::Stores, ids: Vec<BlobId>| async move {
        for (i, id) in ids.iter().enumerate() {
            let data = blob(i);
            let back = stores.blobs.get(id).await.expect("blob get");
            assert!(back.as_ref() == Some(&data), "blob {i} reads back intact");
            let record = stores
                .records
                .get(RECORDS, user, format!("r{i:03}").as_bytes())
                .await
                .expect("get");
            assert!(
                record.as_deref() == Some(&data[..RECORD_BYTES]),
                "record {i} reads back intact"
            );
        }
        let page = stores
            .records
            .scan(RECORDS, user, Scan::all(1000))
            .await
            .expect("scan");
        assert_eq!(page.items.len(), BLOBS, "every record is scanned");
    };
    check(stores.clone(), ids.clone()).await;
    drop(stores);
    storage.close().await.expect("close");

    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).expect("reopen");
    check(storage.stores(), ids).await;
    storage.close().await.expect("close");
    let blob_files = walk(&dir.path().join("kv").join("keyspaces"), &|name| {
        name.contains("blobs")
    });
    assert!(
        blob_files > BLOB_BYTES as u64 * 4,
        "blobs were flushed to blob files ({blob_files} bytes)"
    );
}

/// Bytes of the files under `path` whose path matches `wanted`.
fn walk(path: &std::path::Path, wanted: &dyn Fn(&str) -> bool) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => walk(&entry.path(), wanted),
            Ok(meta) if wanted(&entry.path().to_string_lossy()) => meta.len(),
            _ => 0,
        })
        .sum()
}
