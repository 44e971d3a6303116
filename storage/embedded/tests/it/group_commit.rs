//! Concurrent writers share commits: many tasks writing at once are acknowledged in
//! fewer fsynced groups than writes, and every write is there afterwards; a blob and
//! the batch pointing at it are one group.

use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::{Batch, Scan, Scope, Table};
use uuid::Uuid;

const TABLE: Table = Table::plain("group_commit");
const TASKS: usize = 32;
const WRITES: usize = 25;

/// A store in a temporary directory (kept as long as the first value lives).
fn open() -> (tempfile::TempDir, EmbeddedStorage) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).expect("open");
    (dir, storage)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_fsyncs() {
    let (_dir, storage) = open();
    let stores = storage.stores();
    let user = Scope::User(Uuid::new_v4());
    let before = storage.commit_stats();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let records = stores.records.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..WRITES {
                let mut batch = Batch::new();
                batch.put(
                    TABLE,
                    user,
                    format!("{task:02}-{i:02}").into_bytes(),
                    vec![1],
                );
                records.write(batch).await.expect("write");
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer task");
    }
    let after = storage.commit_stats();
    let jobs = after.jobs - before.jobs;
    let synced = after.synced_groups - before.synced_groups;
    assert_eq!(
        jobs,
        (TASKS * WRITES) as u64,
        "every write was one committed job"
    );
    assert!(synced >= 1, "durable writes were fsynced");
    assert!(
        synced < jobs,
        "{jobs} concurrent writes took {synced} fsynced groups: no group commit"
    );
    eprintln!("{jobs} writes from {TASKS} tasks in {synced} fsynced groups");

    let page = stores
        .records
        .scan(TABLE, user, Scan::all(10_000))
        .await
        .expect("scan");
    assert_eq!(page.items.len(), TASKS * WRITES, "every write is there");
    drop(stores);
    storage.close().await.expect("close");
}

/// A blob and the batch pointing at it, on the same database, take one fsynced group
/// (an accepted mail and its pending deliveries: one fsync before the 250, not two).
#[tokio::test]
async fn a_blob_and_its_batch_share_one_fsync() {
    let (_dir, storage) = open();
    let stores = storage.stores();
    let user = Scope::User(Uuid::new_v4());
    let before = storage.commit_stats();
    let id = stores
        .blobs
        .put_then_write(
            b"Subject: one fsync\r\n\r\nbody\r\n",
            stores.records.as_ref(),
            Box::new(move |id| {
                let mut batch = Batch::new();
                batch.put(TABLE, user, b"delivery".to_vec(), id.as_bytes().to_vec());
                batch
            }),
        )
        .await
        .expect("put_then_write");
    let after = storage.commit_stats();
    assert_eq!(
        (
            after.jobs - before.jobs,
            after.synced_groups - before.synced_groups
        ),
        (1, 1),
        "the blob and the batch were one job in one fsynced group"
    );
    assert!(stores.blobs.exists(&id).await.expect("exists"));
    drop(stores);
    storage.close().await.expect("close");
}
