//! The shared conformance suite on ScyllaDB, when `CALIOPEN_TEST_SCYLLA` names a node
//! (`127.0.0.1:9042`; `docker compose -f deploy/compose.yaml up scylla`). Search is
//! the embedded index in a temporary directory: this crate has no search role.
//! They are ignored by default, so every runner lists them as skipped; `cargo xtask
//! test` runs them when the variable is set, and without it they fail saying so.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use caliopen_storage_conformance::{Backend, run_all};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_scylla::{ScyllaConfig, connect};
use caliopen_storage_traits::{Batch, Scan, Scope, StorageResult, Stores, Table};
use tempfile::TempDir;

/// The node to test against: `CALIOPEN_TEST_SCYLLA`, which these tests need.
fn address() -> String {
    std::env::var("CALIOPEN_TEST_SCYLLA")
        .ok()
        .filter(|a| !a.is_empty())
        .expect("CALIOPEN_TEST_SCYLLA names no ScyllaDB node (host:port): this test needs one")
}

fn config(address: &str) -> ScyllaConfig {
    let mut config = ScyllaConfig::local(address);
    config.keyspace = std::env::var("CALIOPEN_TEST_SCYLLA_KEYSPACE")
        .unwrap_or_else(|_| "caliopen_conformance".into());
    config
}

#[derive(Debug)]
struct ScyllaBackend {
    config: ScyllaConfig,
    search_dir: TempDir,
    embedded: Mutex<Option<EmbeddedStorage>>,
}

#[async_trait]
impl Backend for ScyllaBackend {
    fn name(&self) -> &str {
        "scylla"
    }

    async fn open(&self) -> StorageResult<Stores> {
        let scylla = connect(&self.config).await?;
        let dir = self.search_dir.path().to_path_buf();
        let embedded = tokio::task::spawn_blocking(move || {
            EmbeddedStorage::open(&dir, EmbeddedOptions::default())
        })
        .await
        .expect("the open task runs")?;
        let search = embedded.stores().search;
        *self.embedded.lock().unwrap_or_else(PoisonError::into_inner) = Some(embedded);
        Ok(Stores {
            records: scylla.records(),
            blobs: scylla.blobs(),
            search,
            ephemeral: scylla.ephemeral(),
        })
    }

    async fn close(&self, stores: Stores) -> StorageResult<()> {
        drop(stores);
        let embedded = self
            .embedded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match embedded {
            Some(embedded) => embedded.close().await,
            None => Ok(()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a ScyllaDB node: set CALIOPEN_TEST_SCYLLA=host:port (`cargo xtask test` then runs it)"]
async fn conformance_suite_on_scylla() {
    let address = address();
    let backend = ScyllaBackend {
        config: config(&address),
        search_dir: tempfile::tempdir().expect("a temporary directory"),
        embedded: Mutex::new(None),
    };
    run_all(&backend).await;
}

/// Two Caliopen nodes (two sessions) on one keyspace: what one writes, the other
/// reads; counters from both add up; rate counters are shared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a ScyllaDB node: set CALIOPEN_TEST_SCYLLA=host:port (`cargo xtask test` then runs it)"]
async fn two_nodes_share_one_store() {
    let address = address();
    let config = config(&address);
    let (a, b) = tokio::join!(connect(&config), connect(&config));
    let (a, b) = (a.expect("node a connects"), b.expect("node b connects"));
    let table = Table::time_ordered("two_nodes_timeline");
    let counters = Table::counter("two_nodes_counters");
    let user = Scope::User(uuid::Uuid::new_v4());
    for (i, node) in [&a, &b, &a, &b].into_iter().enumerate() {
        let mut batch = Batch::new();
        let mut key = uuid::Uuid::now_v7().as_bytes().to_vec();
        key.push(i as u8);
        batch
            .put(table, user, key, vec![i as u8])
            .add(counters, user, b"n".to_vec(), 1);
        node.records().write(batch).await.expect("a write");
    }
    for node in [&a, &b] {
        let page = node
            .records()
            .scan(table, user, Scan::all(10))
            .await
            .expect("a scan");
        let values: Vec<u8> = page.items.iter().map(|(_, v)| v[0]).collect();
        assert_eq!(values, [0, 1, 2, 3], "both nodes see every write in order");
        let n = node.records().counter(counters, user, b"n").await;
        assert_eq!(n.expect("a counter"), 4);
    }
    let blob = a.blobs().put(b"raw mail").await.expect("a blob");
    assert_eq!(
        b.blobs().get(&blob).await.expect("read").as_deref(),
        Some(&b"raw mail"[..])
    );
    let key = uuid::Uuid::new_v4();
    let window = std::time::Duration::from_secs(60);
    let first = a
        .ephemeral()
        .increment("two-nodes", key.as_bytes(), window)
        .await;
    let second = b
        .ephemeral()
        .increment("two-nodes", key.as_bytes(), window)
        .await;
    assert_eq!((first.expect("inc"), second.expect("inc")), (1, 2));
}
