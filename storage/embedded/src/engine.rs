//! The fjall side of the storage: opening the database, running reads off the async
//! threads, handing writes to the committer, and closing everything so that the same
//! directory can be opened again in the same process. Readers take the database's
//! handles from a [`SpacesSlot`], which the committer refills when it reopens the
//! database after a failed write.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use caliopen_storage_traits::{StorageError, StorageResult};
use fjall::{Database, KeyspaceCreateOptions, KvSeparationOptions};
use tokio::sync::oneshot;

use crate::EmbeddedOptions;
use crate::commit::{
    self, CommitLimits, CommitStats, CommitterState, Done, Job, Spaces, StatCounters, Work,
};
use crate::error::{BACKEND, closed, fjall_error, task_failed};

/// Values of at least this many bytes are kept out of the blob keyspace's LSM tree
/// (fjall key-value separation), so compactions do not rewrite raw mails.
const BLOB_SEPARATION_THRESHOLD: u32 = 4 * 1024;

/// Raw mails are written once and rarely read back soon: a small memtable moves them
/// to blob files early instead of holding 64 MiB of them in memory.
pub(crate) const BLOB_MEMTABLE_BYTES: u64 = 16 * 1024 * 1024;

/// The database handles that readers and the committer share. The committer replaces
/// them when it reopens the database after a failed write (see `commit::recover`).
#[derive(Debug)]
pub(crate) struct SpacesSlot(RwLock<Slot>);

#[derive(Debug)]
enum Slot {
    Open(Spaces),
    /// The old database is released and the new one not open yet.
    Reopening,
    Closed,
}

impl SpacesSlot {
    fn new(spaces: Spaces) -> Self {
        Self(RwLock::new(Slot::Open(spaces)))
    }

    /// The current handles: a read holds them while it runs.
    pub(crate) fn get(&self) -> StorageResult<Spaces> {
        match &*self.0.read().unwrap_or_else(PoisonError::into_inner) {
            Slot::Open(spaces) => Ok(spaces.clone()),
            Slot::Reopening => Err(reopening()),
            Slot::Closed => Err(closed()),
        }
    }

    /// Lets go of the handles so that the database can be opened again.
    pub(crate) fn set_reopening(&self) {
        self.set(Slot::Reopening);
    }

    pub(crate) fn set_open(&self, spaces: Spaces) {
        self.set(Slot::Open(spaces));
    }

    fn close(&self) {
        self.set(Slot::Closed);
    }

    fn set(&self, slot: Slot) {
        let old = std::mem::replace(
            &mut *self.0.write().unwrap_or_else(PoisonError::into_inner),
            slot,
        );
        // Dropped outside the lock: dropping the last handle stops fjall's workers.
        drop(old);
    }
}

fn reopening() -> StorageError {
    StorageError::Unavailable {
        backend: BACKEND,
        message: "the database is being reopened after a failed write; try again shortly".into(),
    }
}

/// Opens the database in `dir` and its three keyspaces.
pub(crate) fn open_spaces(dir: &Path, options: &EmbeddedOptions) -> StorageResult<Spaces> {
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
                    KvSeparationOptions::default().separation_threshold(BLOB_SEPARATION_THRESHOLD),
                ))
        })
        .map_err(|e| fjall_error("open the blobs keyspace", e))?;
    let ephemeral = db
        .keyspace("ephemeral", KeyspaceCreateOptions::default)
        .map_err(|e| fjall_error("open the ephemeral keyspace", e))?;
    Ok(Spaces {
        db,
        records,
        blobs,
        ephemeral,
    })
}

/// The database, its committer thread, and the open/closed state shared by the
/// records, blobs and ephemeral roles.
#[derive(Debug)]
pub(crate) struct Kv {
    /// The way to the committer; none once the storage is shut down.
    tx: RwLock<Option<mpsc::Sender<Job>>>,
    spaces: Arc<SpacesSlot>,
    committer: Mutex<Option<JoinHandle<StorageResult<()>>>>,
    /// Why the committer stopped, should it stop before the shutdown.
    committer_state: Arc<CommitterState>,
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
        let spaces = open_spaces(dir, options)?;
        let slot = Arc::new(SpacesSlot::new(spaces.clone()));
        let limits = CommitLimits {
            max_jobs: options.group_max_jobs.max(1),
            max_bytes: options.group_max_bytes.max(1),
            purge_interval: options.purge_interval(),
        };
        let stats = Arc::new(StatCounters::default());
        let reopen = Reopen {
            dir: dir.to_path_buf(),
            options: *options,
            slot: Arc::clone(&slot),
        };
        let committer_state = Arc::new(CommitterState::default());
        let (tx, committer) = commit::spawn(
            spaces,
            reopen,
            limits,
            Arc::clone(&stats),
            Arc::clone(&committer_state),
        )?;
        Ok(Self {
            tx: RwLock::new(Some(tx)),
            spaces: slot,
            committer: Mutex::new(Some(committer)),
            committer_state,
            stats,
        })
    }

    /// Why the store cannot write any more, when its committer thread stopped while
    /// the store is open; none while it runs (or once the store is closed).
    pub(crate) fn failure(&self) -> Option<String> {
        if let Some(why) = self.committer_state.stopped() {
            return Some(why);
        }
        let open = self
            .tx
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        let finished = self
            .committer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(JoinHandle::is_finished);
        (open && finished).then(|| "the commit thread stopped".to_owned())
    }

    pub(crate) fn stats(&self) -> CommitStats {
        self.stats.snapshot()
    }

    /// Hands a change to the committer and waits until it is written.
    pub(crate) async fn submit(&self, work: Work) -> StorageResult<Done> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .ok_or_else(closed)?
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
        let spaces = self.spaces.get()?;
        if caliopen_storage_traits::blocking::may_block() {
            // The caller's thread: an engine panic must not unwind through it.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&spaces)));
            return read.unwrap_or_else(|panic| {
                Err(crate::error::backend(
                    operation,
                    format!(
                        "the engine refused it (panicked: {})",
                        commit::panic_text(&*panic)
                    ),
                ))
            });
        }
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| f(&spaces)))
            .await
            .map_err(|e| task_failed(operation, &e))?
    }

    /// Stops accepting work, lets queued writes finish, syncs the journal and releases
    /// the database (and its directory lock, once the reads in flight are done). Later
    /// calls answer "closed".
    pub(crate) fn shutdown(&self) -> StorageResult<()> {
        // The committer stops once the queue is drained and this last sender is gone.
        drop(
            self.tx
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let committer = self
            .committer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let result = match committer.map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(crate::error::backend(
                "close the database",
                "the commit thread panicked",
            )),
        };
        self.spaces.close();
        result
    }
}

/// What the committer needs to open the database again after a failed write.
#[derive(Debug)]
pub(crate) struct Reopen {
    pub dir: PathBuf,
    pub options: EmbeddedOptions,
    pub slot: Arc<SpacesSlot>,
}

impl Drop for Kv {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "closing the embedded database failed");
        }
    }
}
