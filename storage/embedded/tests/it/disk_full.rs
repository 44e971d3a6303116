//! A full disk: writes fail with a temporary error, reads keep working, and once space
//! returns writes are accepted again by the same open storage, with everything
//! acknowledged before still there (and still there after a close and reopen). The
//! search index, on the same disk, takes documents again too.
//!
//! The storage lives on a small tmpfs of its own; mounting needs root (CAP_SYS_ADMIN),
//! and without it the test fails saying why; `cargo xtask test` lists it as skipped when
//! not root.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::search::{DocKind, Document, IndexOp, MessageDocument, SearchQuery};
use caliopen_storage_traits::{Batch, Scope, StorageError, Stores, Table};
use uuid::Uuid;

const TABLE: Table = Table::plain("disk_full");
const USER: Uuid = Uuid::from_u128(0x5eed);
const DISK_MIB: u32 = 48;
/// Longest wait for writes to come back once space is freed.
const RECOVERY_WAIT: Duration = Duration::from_secs(20);

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size_mib: u32) -> Result<Self, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(Self(path.to_owned()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn value(i: usize) -> Vec<u8> {
    format!("record {i} ").repeat(2000).into_bytes()
}

async fn put(stores: &Stores, i: usize) -> Result<(), StorageError> {
    let mut batch = Batch::new();
    batch.put(TABLE, Scope::Global, i.to_be_bytes().to_vec(), value(i));
    stores.records.write(batch).await
}

async fn assert_present(stores: &Stores, acked: &[usize]) {
    for &i in acked {
        let got = stores
            .records
            .get(TABLE, Scope::Global, &i.to_be_bytes())
            .await
            .expect("a read");
        assert_eq!(got, Some(value(i)), "acknowledged record {i}");
    }
}

fn document(word: &str) -> IndexOp {
    IndexOp::Upsert(Document::Message(MessageDocument {
        user: USER,
        id: Uuid::new_v4(),
        discussion_id: String::new(),
        date: 0,
        subject: format!("subject {word}"),
        body: format!("{word} ").repeat(200),
        participants: Vec::new(),
        tags: Vec::new(),
        attachment_names: Vec::new(),
        pi: 0,
        importance_level: 0,
        is_unread: false,
        is_draft: false,
        language: None,
    }))
}

async fn found(stores: &Stores, word: &str) -> u64 {
    let query = SearchQuery {
        user: USER,
        text: word.into(),
        kind: Some(DocKind::Message),
        pi: None,
        importance: None,
        offset: 0,
        limit: 10,
    };
    let results = stores.search.search(&query).await.expect("a search");
    results.messages.total
}

/// Fills the file system with one file until it refuses more.
fn fill(path: &Path) {
    use std::io::Write;
    let mut file = std::fs::File::create(path).expect("create the ballast");
    let chunk = vec![0xa5u8; 1 << 20];
    while file
        .write_all(&chunk)
        .and_then(|()| file.sync_all())
        .is_ok()
    {}
    // Whatever fits in less than a chunk too.
    while file
        .write_all(&chunk[..4096])
        .and_then(|()| file.sync_all())
        .is_ok()
    {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_come_back_after_a_full_disk_without_reopening_the_storage() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mount = tmp.path().join("disk");
    let _disk = Tmpfs::mount(&mount, DISK_MIB)
        .unwrap_or_else(|reason| panic!("this test mounts a small tmpfs and needs root: {reason}"));
    let data = mount.join("data");
    let storage = EmbeddedStorage::open(&data, EmbeddedOptions::default()).expect("open");
    let stores = storage.stores();

    let mut acked = Vec::new();
    for i in 0..20 {
        put(&stores, i).await.expect("a write on an empty disk");
        acked.push(i);
    }

    stores
        .search
        .apply(&[document("beforehand")])
        .await
        .expect("indexing on an empty disk");

    let ballast = mount.join("ballast");
    fill(&ballast);
    let mut i = acked.len();
    let refused = loop {
        match put(&stores, i).await {
            Ok(()) => acked.push(i),
            Err(e) => break e,
        }
        i += 1;
        assert!(i < 10_000, "the full disk kept accepting writes");
    };
    assert!(
        matches!(refused, StorageError::NotWritable { .. }) && refused.is_transient(),
        "a full disk is a temporary refusal: {refused:?}"
    );
    assert!(
        refused.to_string().contains("disk is full"),
        "the error says the disk is full: {refused}"
    );
    // Refused again while the disk is full, with the reason; reads still work.
    let again = put(&stores, i).await.expect_err("still full");
    assert!(again.is_transient(), "{again:?}");
    assert_present(&stores, &acked).await;
    let during = document("meanwhile");
    let index_refused = match stores.search.apply(std::slice::from_ref(&during)).await {
        Ok(()) => false,
        Err(e) => {
            assert!(e.is_transient(), "indexing on a full disk: {e:?}");
            true
        }
    };
    assert_eq!(found(&stores, "beforehand").await, 1, "searches still work");

    std::fs::remove_file(&ballast).expect("remove the ballast");
    let started = Instant::now();
    loop {
        match put(&stores, i).await {
            Ok(()) => break,
            Err(e) => {
                assert!(
                    e.is_transient(),
                    "a permanent error after space returned: {e:?}"
                );
                assert!(
                    started.elapsed() < RECOVERY_WAIT,
                    "writes still refused {RECOVERY_WAIT:?} after space returned: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    acked.push(i);
    for j in i + 1..i + 10 {
        put(&stores, j).await.expect("writes keep working");
        acked.push(j);
    }
    assert_present(&stores, &acked).await;
    // The indexer applies again what was refused (upserts are idempotent).
    stores
        .search
        .apply(&[during, document("afterwards")])
        .await
        .expect("indexing once space returned");
    for word in ["beforehand", "meanwhile", "afterwards"] {
        assert_eq!(found(&stores, word).await, 1, "{word}");
    }
    eprintln!(
        "{} writes acknowledged, writes back {:?} after space returned; indexing on the \
         full disk {}",
        acked.len(),
        started.elapsed(),
        if index_refused { "refused" } else { "accepted" }
    );

    drop(stores);
    storage.close().await.expect("close");
    let storage = EmbeddedStorage::open(&data, EmbeddedOptions::default()).expect("reopen");
    assert_present(&storage.stores(), &acked).await;
    storage.close().await.expect("close again");
}
