//! The node's health: a critical task that dies for real (the indexer, whose
//! search backend panics) turns the node unhealthy, naming it; stopping the
//! workers on purpose does not.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caliopen_core::service::users::NewUser;
use caliopen_core::{Core, CoreConfig};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::search::{IndexOp, SearchIndex, SearchQuery, SearchResults};
use caliopen_storage_traits::{StorageResult, Stores};

/// A search role with a bug: it panics on every write.
#[derive(Debug)]
struct PanickingSearch;

#[async_trait]
impl SearchIndex for PanickingSearch {
    async fn apply(&self, _ops: &[IndexOp]) -> StorageResult<()> {
        panic!("a bug in the search backend");
    }
    async fn search(&self, _query: &SearchQuery) -> StorageResult<SearchResults> {
        Ok(SearchResults::default())
    }
    async fn clear(&self) -> StorageResult<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indexer_that_dies_makes_the_node_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).unwrap();
    let stores = Stores {
        search: Arc::new(PanickingSearch),
        ..storage.stores()
    };
    let core = Core::new(stores, CoreConfig::default());
    assert!(core.health().report().is_healthy());
    let _indexer = core.spawn_indexer();
    // A signup writes the user's contact card to the search outbox.
    core.create_user(NewUser {
        username: "alice".into(),
        password: "a long enough password".into(),
        recovery_email: "alice@example.org".into(),
        ..NewUser::default()
    })
    .await
    .unwrap();
    for _ in 0..600 {
        let report = core.health().report();
        if !report.is_healthy() {
            assert_eq!(report.unhealthy[0].component, "indexer");
            assert!(
                report.unhealthy[0].reason.contains("panicked"),
                "{report:?}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the indexer died and the node still says it is healthy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_stopped_on_purpose_are_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).unwrap();
    let core = Core::new(storage.stores(), CoreConfig::default());
    #[derive(Debug)]
    struct Never;
    #[async_trait]
    impl caliopen_core::delivery::MailProcessor for Never {
        async fn process_inbound(
            &self,
            _: caliopen_core::context::UserContext,
            _: Arc<Vec<u8>>,
            _: chrono::DateTime<chrono::Utc>,
        ) -> Result<caliopen_core::delivery::ProcessedMail, caliopen_core::delivery::ProcessingError>
        {
            Err(caliopen_core::delivery::ProcessingError::Transient {
                stage: "test".into(),
                reason: "never".into(),
            })
        }
    }
    let processor: Arc<dyn caliopen_core::delivery::MailProcessor> = Arc::new(Never);
    let workers = core.spawn_delivery_workers(&processor);
    tokio::time::sleep(Duration::from_millis(100)).await;
    workers.abort();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        core.health().report().is_healthy(),
        "{:?}",
        core.health().report()
    );
}
