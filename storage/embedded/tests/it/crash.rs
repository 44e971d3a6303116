//! Acknowledged writes survive a crash: a child process (this test binary, re-run
//! with an environment variable) writes from several tasks at once, reports each
//! acknowledged write on stdout, and aborts mid-flight without closing anything. The
//! parent then reopens the directory and finds every acknowledged write.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::Command;

use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::search::{DocKind, Document, IndexOp, MessageDocument, SearchQuery};
use caliopen_storage_traits::{Batch, BlobId, Scope, Table};
use uuid::Uuid;

const CHILD_DIR: &str = "CALIOPEN_CRASH_TEST_DIR";
/// This test's name in the crate's test binary, to run it again as the crashing child.
const TEST_NAME: &str = "crash::acknowledged_writes_survive_a_crash";
const ACKED: Table = Table::plain("crash_acked");
const COUNTS: Table = Table::counter("crash_counts");
const USER: Uuid = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
const WRITERS: usize = 6;
/// The child aborts after this many acknowledged record writes.
const ABORT_AFTER: usize = 300;

fn payload(writer: usize, i: usize) -> Vec<u8> {
    format!("writer {writer} write {i} ")
        .repeat(50)
        .into_bytes()
}

fn message(writer: usize, i: usize) -> IndexOp {
    IndexOp::Upsert(Document::Message(MessageDocument {
        user: USER,
        id: Uuid::from_u128(((writer as u128) << 64) | i as u128),
        discussion_id: String::new(),
        date: i as i64,
        subject: format!("crashtest w{writer}x{i}"),
        body: String::new(),
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

/// The child: write until told to crash, printing `record W I`, `blob W I` and
/// `index W I` once each write is acknowledged.
fn child(dir: &str) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let storage =
            EmbeddedStorage::open(dir.as_ref(), EmbeddedOptions::default()).expect("child open");
        let stores = storage.stores();
        let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for writer in 0..WRITERS {
            let stores = stores.clone();
            let acked = acked.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0.. {
                    let data = payload(writer, i);
                    stores.blobs.put(&data).await.expect("blob put");
                    report(&format!("blob {writer} {i}"));
                    let mut batch = Batch::new();
                    batch
                        .put(
                            ACKED,
                            Scope::User(USER),
                            format!("{writer:02}-{i:06}").into_bytes(),
                            data,
                        )
                        .add(
                            COUNTS,
                            Scope::User(USER),
                            format!("writer-{writer}").into_bytes(),
                            1,
                        );
                    stores.records.write(batch).await.expect("record write");
                    report(&format!("record {writer} {i}"));
                    if i % 25 == 0 {
                        stores
                            .search
                            .apply(&[message(writer, i)])
                            .await
                            .expect("index");
                        report(&format!("index {writer} {i}"));
                    }
                    if acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 >= ABORT_AFTER {
                        std::process::abort();
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    });
}

fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ACK {line}").expect("stdout");
    out.flush().expect("stdout flush");
}

#[test]
fn acknowledged_writes_survive_a_crash() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        child(&dir);
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .output()
        .expect("the child runs");
    assert!(
        !output.status.success(),
        "the child must crash, it exited with {}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let acks: BTreeSet<(String, usize, usize)> = stdout
        .lines()
        .filter_map(|line| {
            let mut parts = line.strip_prefix("ACK ")?.split(' ');
            let kind = parts.next()?.to_string();
            Some((
                kind,
                parts.next()?.parse().ok()?,
                parts.next()?.parse().ok()?,
            ))
        })
        .collect();
    let records = acks.iter().filter(|(kind, ..)| kind == "record").count();
    assert!(
        records >= ABORT_AFTER - WRITERS,
        "the child acknowledged only {records} records before crashing"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default())
            .expect("reopen after a crash");
        let stores = storage.stores();
        let mut per_writer = [0i64; WRITERS];
        for (kind, writer, i) in &acks {
            let data = payload(*writer, *i);
            match kind.as_str() {
                "blob" => {
                    let blob = stores
                        .blobs
                        .get(&BlobId::of(&data))
                        .await
                        .expect("blob get");
                    assert!(
                        blob.as_ref() == Some(&data),
                        "acknowledged blob {writer}/{i} lost in the crash"
                    );
                }
                "record" => {
                    per_writer[*writer] += 1;
                    let key = format!("{writer:02}-{i:06}").into_bytes();
                    let record = stores
                        .records
                        .get(ACKED, Scope::User(USER), &key)
                        .await
                        .expect("get");
                    assert!(
                        record.as_ref() == Some(&data),
                        "acknowledged record {writer}/{i} lost in the crash"
                    );
                }
                _ => {
                    let query = SearchQuery {
                        user: USER,
                        text: format!("w{writer}x{i}"),
                        kind: Some(DocKind::Message),
                        pi: None,
                        importance: None,
                        offset: 0,
                        limit: 1,
                    };
                    let found = stores.search.search(&query).await.expect("search");
                    assert_eq!(
                        found.messages.total, 1,
                        "acknowledged index update {writer}/{i} lost in the crash"
                    );
                }
            }
        }
        for (writer, acked) in per_writer.iter().enumerate() {
            let key = format!("writer-{writer}").into_bytes();
            let counter = stores
                .records
                .counter(COUNTS, Scope::User(USER), &key)
                .await
                .expect("counter");
            // A write may have landed without its acknowledgement reaching stdout.
            assert!(
                counter == *acked || counter == *acked + 1,
                "writer {writer}: {acked} acknowledged increments, counter {counter}"
            );
        }
        drop(stores);
        storage.close().await.expect("close");
    });
}
