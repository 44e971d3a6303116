//! Caliopen's embedded storage: every storage role on local disk, in one data
//! directory, with no service to run.
//!
//! - [`EmbeddedStorage`] opens `<dir>/kv` (a fjall database) and `<dir>/search` (a
//!   tantivy index), hands out [`Stores`], and closes both so the directory can be
//!   opened again.
//! - [`records`], [`blobs`], [`ephemeral`]: the three roles kept in fjall keyspaces
//!   (`records`, `blobs` with key-value separation, `ephemeral`); `keys` holds the
//!   byte layouts.
//! - `commit`: the group committer, the only writer to fjall; concurrent writes share
//!   one fsync and are answered only once durable ([`CommitStats`] counts groups);
//!   after a failed write it reopens the database once the disk accepts writes again.
//! - `engine`: opening, blocking reads on tokio's blocking pool, and shutdown.
//! - [`search`]: the tantivy index (schema, analyzer, query semantics, highlights).
//! - `error`: engine errors mapped to `StorageError` (disk full or read-only →
//!   `StorageError::NotWritable`).
//! - [`make_private`]: the data directory is its owner's only (folders 0700, files
//!   0600), applied to the store's directory at every open.
//!
//! Every role passes `caliopen-storage-conformance` (see `tests/conformance.rs`).

pub mod blobs;
mod commit;
mod engine;
pub mod ephemeral;
mod error;
mod keys;
mod private;
pub mod records;
pub mod search;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use caliopen_storage_traits::{StorageResult, Stores};
use serde::Deserialize;

pub use blobs::EmbeddedBlobs;
pub use commit::CommitStats;
pub use ephemeral::EmbeddedEphemeral;
pub use private::make_private;
pub use records::EmbeddedRecords;
pub use search::EmbeddedSearch;

use engine::Kv;
use search::SearchEngine;

/// Tuning of the embedded storage; the defaults suit a small server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedOptions {
    /// Block cache of the database, in bytes.
    pub cache_bytes: u64,
    /// Most writes committed (and fsynced) together.
    pub group_max_jobs: usize,
    /// A commit group stops taking writes once it holds this many bytes.
    pub group_max_bytes: usize,
    /// Seconds between purges of expired ephemeral values (reads never return an
    /// expired value, purged or not).
    pub purge_interval_secs: u64,
    /// Indexing threads of the search index writer.
    pub search_writer_threads: usize,
    /// Memory of the search index writer, in bytes (at least 15 MB per thread).
    pub search_writer_memory_bytes: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        Self {
            cache_bytes: 64 * 1024 * 1024,
            group_max_jobs: 1024,
            group_max_bytes: 32 * 1024 * 1024,
            purge_interval_secs: 60,
            search_writer_threads: 1,
            search_writer_memory_bytes: 50_000_000,
        }
    }
}

impl EmbeddedOptions {
    pub(crate) fn purge_interval(&self) -> Duration {
        Duration::from_secs(self.purge_interval_secs.max(1))
    }
}

/// Every storage role on local disk.
#[derive(Debug)]
pub struct EmbeddedStorage {
    dir: PathBuf,
    kv: Arc<Kv>,
    search: Arc<SearchEngine>,
}

impl EmbeddedStorage {
    /// Opens (creating it when missing) the storage in `dir`. This blocks while the
    /// engines recover; call it at startup, or from a blocking task.
    #[tracing::instrument(level = "debug", name = "embedded.open", skip(options))]
    pub fn open(dir: &Path, options: EmbeddedOptions) -> StorageResult<Self> {
        make_private(dir).map_err(|e| error::io_error("create the data directory", &e))?;
        let kv = Arc::new(Kv::open(&dir.join("kv"), &options)?);
        let search = Arc::new(SearchEngine::open(&dir.join("search"), &options)?);
        Ok(Self {
            dir: dir.to_path_buf(),
            kv,
            search,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One handle per role; they stay usable until [`EmbeddedStorage::close`], after
    /// which they answer `StorageError::Unavailable`.
    pub fn stores(&self) -> Stores {
        Stores {
            records: Arc::new(EmbeddedRecords {
                kv: Arc::clone(&self.kv),
            }),
            blobs: Arc::new(EmbeddedBlobs {
                kv: Arc::clone(&self.kv),
            }),
            search: Arc::new(EmbeddedSearch {
                engine: Arc::clone(&self.search),
            }),
            ephemeral: Arc::new(EmbeddedEphemeral {
                kv: Arc::clone(&self.kv),
            }),
        }
    }

    /// Why the storage cannot write any more although it is open: its one writer
    /// thread stopped (it never should). The process cannot serve without it, so the
    /// runtime reports it unhealthy and exits for its supervisor to restart it.
    pub fn failure(&self) -> Option<String> {
        self.kv.failure()
    }

    /// [`EmbeddedStorage::failure`] as a probe to call at any time, for a health
    /// check that outlives this handle's borrow.
    pub fn failure_probe(&self) -> impl Fn() -> Option<String> + Send + Sync + 'static {
        let kv = Arc::clone(&self.kv);
        move || kv.failure()
    }

    /// What the group committer did since the storage was opened.
    pub fn commit_stats(&self) -> CommitStats {
        self.kv.stats()
    }

    /// Finishes queued writes, syncs, and releases the directory, so that it can be
    /// opened again (in this process or another). Dropping the storage and every
    /// [`Stores`] taken from it does the same, without reporting errors.
    #[tracing::instrument(level = "debug", name = "embedded.close", skip_all, fields(dir = %self.dir.display()))]
    pub async fn close(self) -> StorageResult<()> {
        let Self { kv, search, .. } = self;
        tokio::task::spawn_blocking(move || {
            let records = kv.shutdown();
            let search = search.shutdown();
            records.and(search)
        })
        .await
        .map_err(|e| error::task_failed("close the storage", &e))?
    }
}
