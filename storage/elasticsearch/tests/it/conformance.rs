//! The shared conformance suite with Elasticsearch as the search role, when
//! `CALIOPEN_TEST_ELASTICSEARCH` gives a node's URL (`http://127.0.0.1:9200`;
//! `docker compose -f deploy/compose.yaml up elasticsearch`). Records, blobs and
//! ephemeral values are the embedded backend's in a temporary directory. Without the
//! variable the test prints that it skipped and passes: it proves nothing then.
//! `search_clear` empties the indices under the test prefix.

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use caliopen_storage_conformance::{Backend, run_all};
use caliopen_storage_elasticsearch::{ElasticConfig, connect};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::{StorageError, StorageResult, Stores};
use tempfile::TempDir;

#[derive(Debug)]
struct ElasticBackend {
    config: ElasticConfig,
    dir: TempDir,
    embedded: Mutex<Option<EmbeddedStorage>>,
}

#[async_trait]
impl Backend for ElasticBackend {
    fn name(&self) -> &str {
        "elasticsearch"
    }

    async fn open(&self) -> StorageResult<Stores> {
        let search = connect(&self.config).await.map_err(StorageError::from)?;
        let dir = self.dir.path().to_path_buf();
        let embedded = tokio::task::spawn_blocking(move || {
            EmbeddedStorage::open(&dir, EmbeddedOptions::default())
        })
        .await
        .expect("the open task runs")?;
        let mut stores = embedded.stores();
        stores.search = search;
        *self.embedded.lock().unwrap_or_else(PoisonError::into_inner) = Some(embedded);
        Ok(stores)
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
#[ignore = "needs an Elasticsearch node: set CALIOPEN_TEST_ELASTICSEARCH=http://host:port (`cargo xtask test` then runs it)"]
async fn conformance_suite_on_elasticsearch() {
    let url = std::env::var("CALIOPEN_TEST_ELASTICSEARCH")
        .ok()
        .filter(|u| !u.is_empty())
        .expect(
            "CALIOPEN_TEST_ELASTICSEARCH names no Elasticsearch node (a URL): this test needs one",
        );
    let mut config = ElasticConfig::local(url);
    config.index_prefix = std::env::var("CALIOPEN_TEST_ELASTICSEARCH_PREFIX")
        .unwrap_or_else(|_| "caliopen-conformance".into());
    let backend = ElasticBackend {
        config,
        dir: tempfile::tempdir().expect("a temporary directory"),
        embedded: Mutex::new(None),
    };
    run_all(&backend).await;
}
