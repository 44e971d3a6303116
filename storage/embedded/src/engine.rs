//! The fjall side of the storage: opening the database, running reads off the async
//! threads, handing writes to the committer, and closing everything so that the same
//! directory can be opened again in the same process.

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use caliopen_storage_traits::StorageResult;
use fjall::{Database, KeyspaceCreateOptions, KvSeparationOptions};
use tokio::sync::oneshot;

use crate::EmbeddedOptions;
use crate::commit::{self, CommitLimits, CommitStats, Done, Job, Spaces, StatCounters, Work};
use crate::error::{closed, fjall_error, task_failed};

/// Values of at least this many bytes are kept out of the blob keyspace's LSM tree
/// (fjall key-value separation), so compactions do not rewrite raw mails.
const BLOB_SEPARATION_THRESHOLD: u32 = 4 * 1024;

/// Raw mails are written once and rarely read back soon: a small memtable moves them
/// to blob files early instead of holding 64 MiB of them in memory.
const BLOB_MEMTABLE_BYTES: u64 = 16 * 1024 * 1024;

/// What exists while the storage is open.
#[derive(Debug)]
pub(crate) struct Handles {
    pub spaces: Spaces,
    tx: mpsc::Sender<Job>,
}

/// The database, its committer thread, and the open/closed state shared by the
/// records, blobs and ephemeral roles.
#[derive(Debug)]
pub(crate) struct Kv {
    state: RwLock<Option<Arc<Handles>>>,
    committer: Mutex<Option<JoinHandle<StorageResult<()>>>>,
    stats: Arc<StatCounters>,
}

impl Kv {
    /// Identifies this database's commit log ([`RecordStore::commit_log`]): the
    /// address of the one `Kv` every role of an [`crate::EmbeddedStorage`] shares.
    ///
    /// [`RecordStore::commit_log`]: caliopen_storage_traits::RecordStore::commit_log
    pub(crate) fn log_id(&self) -> usize {
        std::ptr::from_ref(self) as usize
    }

    pub(crate) fn open(dir: &Path, options: &EmbeddedOptions) -> StorageResult<Self> {
        let db = Database::builder(dir)
            .cache_size(options.cache_bytes)
            .open()
            .map_err(|e| fjall_error("open the database", e))?;
        let records = db
            .keyspace("records", KeyspaceCreateOptions::default)
            .map_err(|e| fjall_error("open the records keyspace", e))?;
        let blobs = db
            .keyspace("blobs", || {
                KeyspaceCreateOptions::default()
                    .max_memtable_size(BLOB_MEMTABLE_BYTES)
                    .with_kv_separation(Some(
                        KvSeparationOptions::default()
                            .separation_threshold(BLOB_SEPARATION_THRESHOLD),
                    ))
            })
            .map_err(|e| fjall_error("open the blobs keyspace", e))?;
        let ephemeral = db
            .keyspace("ephemeral", KeyspaceCreateOptions::default)
            .map_err(|e| fjall_error("open the ephemeral keyspace", e))?;
        let spaces = Spaces {
            db,
            records,
            blobs,
            ephemeral,
        };
        let limits = CommitLimits {
            max_jobs: options.group_max_jobs.max(1),
            max_bytes: options.group_max_bytes.max(1),
            purge_interval: options.purge_interval(),
        };
        let stats = Arc::new(StatCounters::default());
        let (tx, committer) = commit::spawn(spaces.clone(), limits, Arc::clone(&stats))?;
        Ok(Self {
            state: RwLock::new(Some(Arc::new(Handles { spaces, tx }))),
            committer: Mutex::new(Some(committer)),
            stats,
        })
    }

    pub(crate) fn stats(&self) -> CommitStats {
        self.stats.snapshot()
    }

    fn handles(&self) -> StorageResult<Arc<Handles>> {
        self.state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(closed)
    }

    /// Hands a change to the committer and waits until it is written.
    pub(crate) async fn submit(&self, work: Work) -> StorageResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.handles()?
            .tx
            .send(Job { work, reply })
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Runs a read on the blocking pool, inside the caller's tracing span; on this
    /// thread when the caller allows it to block (`blocking::may_block`).
    pub(crate) async fn read<T, F>(&self, operation: &'static str, f: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Spaces) -> StorageResult<T> + Send + 'static,
    {
        let handles = self.handles()?;
        if caliopen_storage_traits::blocking::may_block() {
            return f(&handles.spaces);
        }
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| f(&handles.spaces)))
            .await
            .map_err(|e| task_failed(operation, &e))?
    }

    /// Stops accepting work, lets queued writes finish, syncs the journal and releases
    /// the database (and its directory lock). Later calls answer "closed".
    pub(crate) fn shutdown(&self) -> StorageResult<()> {
        let handles = self
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Reads in flight keep their own reference; the committer stops once the last
        // one (and with it the last sender) is gone and the queue is drained.
        drop(handles);
        let committer = self
            .committer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match committer.map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(crate::error::backend(
                "close the database",
                "the commit thread panicked",
            )),
        }
    }
}

impl Drop for Kv {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "closing the embedded database failed");
        }
    }
}
