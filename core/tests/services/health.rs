//! The node's health: a critical task that dies for real (the indexer, whose
//! search backend panics) turns the node unhealthy, naming it; stopping the
//! workers on purpose does not; and an entry the search index refuses for good
//! does not stop the indexer either.

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

/// The embedded index, refusing for good every message whose subject says
/// `refuse me` (as Elasticsearch refuses a document it cannot take).
#[derive(Debug)]
struct Refusing(Arc<dyn SearchIndex>);

#[async_trait]
impl SearchIndex for Refusing {
    async fn apply(&self, ops: &[IndexOp]) -> StorageResult<()> {
        use caliopen_storage_traits::search::Document;
        let refused = ops.iter().any(|op| {
            matches!(op, IndexOp::Upsert(Document::Message(m)) if m.subject.contains("refuse me"))
        });
        if refused {
            return Err(caliopen_storage_traits::StorageError::TooLarge {
                what: "document",
                place: "search".into(),
                len: 1,
                max: 0,
            });
        }
        self.0.apply(ops).await
    }
    async fn search(&self, query: &SearchQuery) -> StorageResult<SearchResults> {
        self.0.search(query).await
    }
    async fn clear(&self) -> StorageResult<()> {
        self.0.clear().await
    }
}

/// One entry the index refuses for good does not hold back the others forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_the_index_refuses_for_good_does_not_block_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let storage = EmbeddedStorage::open(dir.path(), EmbeddedOptions::default()).unwrap();
    let stores = storage.stores();
    let search: Arc<dyn SearchIndex> = Arc::new(Refusing(stores.search.clone()));
    let stores = Stores {
        search: search.clone(),
        ..stores
    };
    let core = Core::new(stores, CoreConfig::default());
    let user = core
        .create_user(NewUser {
            username: "alice".into(),
            password: "a long enough password".into(),
            recovery_email: "alice@example.org".into(),
            given_name: "Alice".into(),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let identity = core
        .identities(user.id, caliopen_core::model::IdentityKind::Local)
        .await
        .unwrap()[0]
        .id
        .to_string();
    for subject in ["please refuse me", "findable afterwards"] {
        core.create_draft(
            user.id,
            caliopen_core::service::drafts::NewDraft {
                user_identities: vec![identity.clone()],
                participants: vec![caliopen_core::service::drafts::DraftParticipant {
                    role: "To".into(),
                    address: "bob@example.org".into(),
                    ..Default::default()
                }],
                subject: subject.into(),
                body: "x".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let applied = tokio::time::timeout(Duration::from_secs(60), core.index_all_pending())
        .await
        .expect("the outbox drains")
        .expect("no error is left to retry");
    assert!(applied >= 3, "{applied}");
    assert_eq!(core.pipeline_stats().await.unwrap().index_backlog, 0);
    let found = search
        .search(&SearchQuery {
            user: user.id,
            text: "findable".into(),
            kind: None,
            pi: None,
            importance: None,
            offset: 0,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(
        found.messages.total, 1,
        "the entry after the refused one is indexed"
    );
}
