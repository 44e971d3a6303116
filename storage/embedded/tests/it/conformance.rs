//! The conformance suite on the embedded storage: one test per check, each on a fresh
//! temporary directory, plus the whole suite in sequence on one directory (which also
//! shows the checks do not disturb each other).

use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use caliopen_storage_conformance::{Backend, conformance_tests, run_all};
use caliopen_storage_embedded::{EmbeddedOptions, EmbeddedStorage};
use caliopen_storage_traits::{StorageResult, Stores};
use tempfile::TempDir;

/// The embedded storage in a temporary directory, opened and closed on demand.
#[derive(Debug)]
struct TempDirBackend {
    dir: TempDir,
    open: Mutex<Option<EmbeddedStorage>>,
}

impl TempDirBackend {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
            open: Mutex::new(None),
        }
    }
}

#[async_trait]
impl Backend for TempDirBackend {
    fn name(&self) -> &str {
        "embedded"
    }

    async fn open(&self) -> StorageResult<Stores> {
        let dir = self.dir.path().to_path_buf();
        let storage = tokio::task::spawn_blocking(move || {
            EmbeddedStorage::open(&dir, EmbeddedOptions::default())
        })
        .await
        .expect("the open task runs")?;
        let stores = storage.stores();
        let previous = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(storage);
        assert!(
            previous.is_none(),
            "the suite opened the backend twice without closing it"
        );
        Ok(stores)
    }

    async fn close(&self, stores: Stores) -> StorageResult<()> {
        drop(stores);
        let storage = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        storage
            .expect("the suite closed the backend without opening it")
            .close()
            .await
    }
}

conformance_tests!(TempDirBackend::new());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_suite_on_one_directory() {
    run_all(&TempDirBackend::new()).await;
}

/// The same suite from a thread that allows blocking (as the runtime's component
/// threads do): reads then run on the caller's thread instead of the blocking pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_suite_on_a_thread_that_may_block() {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        caliopen_storage_traits::blocking::blocking_allowed(|| {
            assert!(caliopen_storage_traits::blocking::may_block());
            handle.block_on(run_all(&TempDirBackend::new()));
        });
    })
    .await
    .expect("the suite ran");
}
