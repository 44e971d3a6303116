//! Rough timings of the embedded storage on this machine's disk:
//!
//! ```text
//! cargo run --release -p caliopen-storage-embedded --example ingest_bench [-- DIR]
//! ```
//!
//! - sequential single-record writes: the cost of one durable commit (one fsync);
//! - concurrent ingest: many tasks each storing a raw mail (blob) then a delivery
//!   record with a counter, as LMTP does; group commit lets them share fsyncs;
//! - search: applying batches of message documents, then querying.
//!
//! DIR defaults to a temporary directory (put it on the disk you want to measure).

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::search::{
    Document, IndexOp, IndexedParticipant, MessageDocument, SearchQuery,
};
use caliopen_storage_traits::{Batch, Scope, Stores, Table};
use uuid::Uuid;

const DELIVERIES: Table = Table::time_ordered("bench_deliveries");
const COUNTS: Table = Table::counter("bench_counts");

fn mail(i: usize) -> Vec<u8> {
    let body =
        format!("Hello {i}, this is line of a fairly ordinary message body.\r\n").repeat(300);
    format!(
        "From: sender{i}@example.org\r\nTo: user@example.net\r\nSubject: bench {i}\r\n\r\n{body}"
    )
    .into_bytes()
}

async fn sequential(stores: &Stores, n: usize) -> Duration {
    let user = Scope::User(Uuid::new_v4());
    let started = Instant::now();
    for i in 0..n {
        let mut batch = Batch::new();
        let mut key = Uuid::now_v7().as_bytes().to_vec();
        key.extend_from_slice(&i.to_be_bytes());
        batch.put(DELIVERIES, user, key, b"pending".to_vec());
        stores.records.write(batch).await.expect("write");
    }
    started.elapsed() / n as u32
}

async fn concurrent(stores: &Stores, tasks: usize, per_task: usize) -> f64 {
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let stores = stores.clone();
        handles.push(tokio::spawn(async move {
            let user = Scope::User(Uuid::new_v4());
            for i in 0..per_task {
                let raw = mail(t * per_task + i);
                let blob = stores.blobs.put(&raw).await.expect("blob put");
                let mut batch = Batch::new();
                let mut key = Uuid::now_v7().as_bytes().to_vec();
                key.extend_from_slice(blob.as_bytes());
                batch.put(DELIVERIES, user, key, blob.as_bytes().to_vec());
                batch.add(COUNTS, user, b"pending".to_vec(), 1);
                stores.records.write(batch).await.expect("record write");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task");
    }
    (tasks * per_task) as f64 / started.elapsed().as_secs_f64()
}

fn document(user: Uuid, i: usize) -> IndexOp {
    IndexOp::Upsert(Document::Message(MessageDocument {
        user,
        id: Uuid::new_v4(),
        discussion_id: format!("d{}", i % 50),
        date: i as i64,
        subject: format!("Quarterly report number {i}"),
        body: "Please find attached the figures for this quarter; the budget review is next week. "
            .repeat(20),
        participants: vec![IndexedParticipant {
            role: "From".into(),
            address: format!("sender{}@example.org", i % 30),
            label: "Some Sender".into(),
        }],
        tags: vec!["work".into()],
        attachment_names: vec!["figures.xlsx".into()],
        pi: (i % 100) as u8,
        importance_level: 0,
        is_unread: true,
        is_draft: false,
        language: Some("en".into()),
    }))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let temp = tempfile::tempdir().expect("temporary directory");
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| temp.path().to_path_buf(), Into::into);
    let storage = Arc::new(EmbeddedStorage::open(&dir, EmbeddedOptions::default()).expect("open"));
    let stores = storage.stores();
    println!("data directory: {}", dir.display());

    let per_commit = sequential(&stores, 200).await;
    println!("sequential durable writes: {per_commit:?} per write (one fsync each)");

    for tasks in [1, 8, 64, 256] {
        let per_task = 4000 / tasks.max(1);
        let rate = concurrent(&stores, tasks, per_task.max(8)).await;
        println!(
            "ingest with {tasks:>3} concurrent deliveries: {rate:>8.0} mails/s (20 KB blob + record + counter, durable)"
        );
    }

    let user = Uuid::new_v4();
    for size in [1, 100, 1000] {
        let ops: Vec<IndexOp> = (0..size).map(|i| document(user, i)).collect();
        let started = Instant::now();
        stores.search.apply(&ops).await.expect("apply");
        let elapsed = started.elapsed();
        println!(
            "search apply of {size:>4} documents: {elapsed:?} ({:.0} docs/s)",
            size as f64 / elapsed.as_secs_f64()
        );
    }
    let query = SearchQuery {
        user,
        text: "budget review".into(),
        kind: None,
        pi: None,
        importance: None,
        offset: 0,
        limit: 20,
    };
    let started = Instant::now();
    let rounds = 50;
    let mut total = 0;
    for _ in 0..rounds {
        total = stores
            .search
            .search(&query)
            .await
            .expect("search")
            .messages
            .total;
    }
    println!(
        "search over {total} matching documents: {:?} per query (20 hits with highlights)",
        started.elapsed() / rounds
    );

    drop(stores);
    let storage = Arc::into_inner(storage).expect("only handle");
    let started = Instant::now();
    storage.close().await.expect("close");
    println!("close: {:?}", started.elapsed());
}
