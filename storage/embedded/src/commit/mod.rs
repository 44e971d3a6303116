//! Group commit: the one thread that writes to fjall.
//!
//! Every change (record batches, blob puts and deletes, ephemeral values) is sent to
//! the committer as a [`Job`] and the caller awaits its reply. The committer takes the
//! first job waiting, drains whatever else queued up meanwhile (bounded by
//! [`CommitLimits`]), turns each job into its final key changes against the state
//! left by the jobs before it (so counters and ephemeral windows are exact without any
//! lock), and commits the whole group as ONE fjall write batch. fjall writes the batch
//! to its journal, fsyncs it, and only then makes it visible; then every waiter is
//! answered. So concurrent writers share one fsync, nothing is visible before it is
//! durable, and a job that fails (bad table name, corrupt counter) fails alone.
//!
//! Ephemeral-only groups are written to the OS without an fsync: losing a token or a
//! rate counter in a power cut is acceptable, paying an fsync for each is not. When
//! idle, and at least once per purge interval, the committer also deletes expired
//! ephemeral values (see [`crate::ephemeral::purge`]).
//!
//! A large blob is not staged: it is ingested into a blob file first (see `ingest`), and
//! the rest of its job staged as usual.
//!
//! A group that cannot be written (a full disk, a read-only file system) is answered
//! with the error, and fjall then refuses every write. The committer answers the jobs
//! that follow with a temporary error and, once a probe file can be written and synced
//! again, reopens the database in place, with no restart (see `recover`).
//!
//! Nothing a caller sends can stop this thread. Keys and values are checked against
//! the engine's limits before they get here (`keys`); should the engine panic anyway
//! (it asserts on what it cannot store), the panic is caught: a job that panics while
//! staged fails alone, a group that panics while built into a batch fails as a
//! group, and one that panics while committed is treated as a failed write (the
//! database is reopened, recovering its journal). Should the thread end all the
//! same, [`CommitterState`] says why, for the process's health check.

pub(crate) mod ingest;
mod recover;
mod stage;
mod write;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use caliopen_storage_traits::{Batch, BlobId, Op, StorageResult};
use fjall::PersistMode;
use tokio::sync::oneshot;

pub(crate) use stage::{Changes, Space, Spaces, View};
pub(crate) use write::panic_text;

use crate::engine::Reopen;
use crate::ephemeral;
use crate::error::{backend, fjall_error};
use recover::Failure;
use write::{Unwritten, engine_panic, write};

/// A change waiting for the committer.
#[derive(Debug)]
pub(crate) enum Work {
    /// A validated record batch.
    Records(Batch),
    PutBlob {
        id: BlobId,
        data: Vec<u8>,
    },
    /// A blob, then a validated record batch, in one job: the batch is never
    /// committed without the blob.
    BlobThenRecords {
        id: BlobId,
        data: Vec<u8>,
        batch: Batch,
    },
    /// The same with a large blob that waits in a file (its first `len` bytes), read
    /// when it is ingested (see `ingest`).
    SpooledBlobThenRecords {
        id: BlobId,
        file: std::fs::File,
        len: u64,
        batch: Batch,
    },
    DeleteBlob(BlobId),
    /// Deletes the blob when the counter at `refs` (an engine key) reads at most 0.
    DeleteUnreferencedBlob {
        id: BlobId,
        refs: Vec<u8>,
    },
    /// `key` as built by [`keys::ephemeral`].
    PutEphemeral {
        key: Vec<u8>,
        value: Vec<u8>,
        ttl: Duration,
    },
    DeleteEphemeral {
        key: Vec<u8>,
    },
    Increment {
        key: Vec<u8>,
        window: Duration,
    },
}

impl Work {
    /// Roughly how many bytes this job adds to the group.
    fn size(&self) -> usize {
        match self {
            Work::Records(batch) => batch_size(batch),
            Work::PutBlob { data, .. } => data.len(),
            Work::BlobThenRecords { data, batch, .. } => data.len() + batch_size(batch),
            Work::SpooledBlobThenRecords { len, batch, .. } => {
                usize::try_from(*len).unwrap_or(usize::MAX) + batch_size(batch)
            }
            Work::PutEphemeral { key, value, .. } => key.len() + value.len(),
            Work::DeleteUnreferencedBlob { refs, .. } => 32 + refs.len(),
            Work::DeleteBlob(_) | Work::DeleteEphemeral { .. } | Work::Increment { .. } => 64,
        }
    }

    /// Whether the caller is promised durability when the job is answered.
    fn durable(&self) -> bool {
        matches!(
            self,
            Work::Records(_)
                | Work::PutBlob { .. }
                | Work::BlobThenRecords { .. }
                | Work::SpooledBlobThenRecords { .. }
                | Work::DeleteBlob(_)
                | Work::DeleteUnreferencedBlob { .. }
        )
    }
}

fn batch_size(batch: &Batch) -> usize {
    batch
        .ops
        .iter()
        .map(|op| match op {
            Op::Put { key, value, .. } => key.len() + value.len(),
            Op::Delete { key, .. } | Op::Add { key, .. } => key.len() + 8,
        })
        .sum()
}

/// What a job answers on success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    Written,
    Count(u64),
}

/// A change and where to send its outcome.
#[derive(Debug)]
pub(crate) struct Job {
    pub work: Work,
    pub reply: oneshot::Sender<StorageResult<Done>>,
}

/// How big a group may grow, and how often expired ephemeral values are purged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CommitLimits {
    pub max_jobs: usize,
    pub max_bytes: usize,
    pub purge_interval: Duration,
}

/// What the committer did so far, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Groups written (one fjall batch each).
    pub groups: u64,
    /// Of those, groups that were fsynced (they held a record or blob write).
    pub synced_groups: u64,
    /// Jobs answered with success (record batches, blob and ephemeral writes).
    pub jobs: u64,
}

/// The live counters behind [`CommitStats`].
#[derive(Debug, Default)]
pub(crate) struct StatCounters {
    groups: AtomicU64,
    synced_groups: AtomicU64,
    jobs: AtomicU64,
}

impl StatCounters {
    pub(crate) fn snapshot(&self) -> CommitStats {
        CommitStats {
            groups: self.groups.load(Ordering::Relaxed),
            synced_groups: self.synced_groups.load(Ordering::Relaxed),
            jobs: self.jobs.load(Ordering::Relaxed),
        }
    }
}

/// Why the committer thread ended, when it ended before the storage was closed.
#[derive(Debug, Default)]
pub(crate) struct CommitterState(Mutex<Option<String>>);

impl CommitterState {
    /// Why the thread stopped, if it did.
    pub(crate) fn stopped(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_stopped(&self, why: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
    }
}

/// Starts the committer thread; it stops once every sender is dropped and the queue
/// is drained. `state` learns why, should it stop otherwise.
pub(crate) fn spawn(
    spaces: Spaces,
    reopen: Reopen,
    limits: CommitLimits,
    stats: Arc<StatCounters>,
    state: Arc<CommitterState>,
) -> StorageResult<(mpsc::Sender<Job>, JoinHandle<StorageResult<()>>)> {
    let (tx, rx) = mpsc::channel();
    let committer = Committer {
        spaces: Some(spaces),
        reopen,
        failure: None,
        rx,
        limits,
        last_purge: Instant::now(),
        stats,
    };
    let handle = std::thread::Builder::new()
        .name("caliopen-commit".into())
        .spawn(
            move || match catch_unwind(AssertUnwindSafe(|| committer.run())) {
                Ok(result) => result,
                Err(panic) => {
                    let why = format!("the commit thread panicked: {}", panic_text(&*panic));
                    tracing::error!(reason = %why, "the embedded store cannot write any more");
                    state.set_stopped(why.clone());
                    Err(backend("commit writes", why))
                }
            },
        )
        .map_err(|e| crate::error::io_error("start the commit thread", &e))?;
    Ok((tx, handle))
}

struct Committer {
    /// None only while a failed reopen waits for its next attempt.
    spaces: Option<Spaces>,
    reopen: Reopen,
    /// Set from a failed write until the database is reopened.
    failure: Option<Failure>,
    rx: mpsc::Receiver<Job>,
    limits: CommitLimits,
    last_purge: Instant,
    stats: Arc<StatCounters>,
}

impl Committer {
    /// Commits groups until every sender is gone, then syncs the journal one last time.
    fn run(mut self) -> StorageResult<()> {
        loop {
            match self.rx.recv_timeout(self.idle_wait()) {
                Ok(first) => {
                    // A job that arrives after space came back is written, not refused.
                    self.recover_when_due();
                    let group = self.gather(first);
                    self.commit(group);
                }
                Err(RecvTimeoutError::Timeout) => self.recover_when_due(),
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if self.failure.is_none() && self.last_purge.elapsed() >= self.limits.purge_interval {
                self.purge();
            }
        }
        match (&self.spaces, &self.failure) {
            (Some(spaces), None) => spaces
                .db
                .persist(PersistMode::SyncAll)
                .map_err(|e| fjall_error("sync the journal while closing", e)),
            // Everything answered as written was synced before its answer.
            _ => Ok(()),
        }
    }

    /// How long to wait for a job before the next purge or recovery attempt.
    fn idle_wait(&self) -> Duration {
        match &self.failure {
            Some(failure) => failure.until_next_attempt(),
            None => self
                .limits
                .purge_interval
                .saturating_sub(self.last_purge.elapsed()),
        }
    }

    /// The first job plus whatever is already queued, within the limits.
    fn gather(&self, first: Job) -> Vec<Job> {
        let mut bytes = first.work.size();
        let mut group = vec![first];
        while group.len() < self.limits.max_jobs && bytes < self.limits.max_bytes {
            match self.rx.try_recv() {
                Ok(job) => {
                    bytes += job.work.size();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        group
    }

    fn commit(&mut self, jobs: Vec<Job>) {
        let spaces = match (&self.spaces, &self.failure) {
            (Some(spaces), None) => spaces,
            (_, failure) => {
                for job in jobs {
                    let _ = job.reply.send(Err(recover::refusal(failure.as_ref())));
                }
                return;
            }
        };
        let span = tracing::debug_span!(
            "group_commit",
            jobs = jobs.len(),
            durable = tracing::field::Empty
        );
        let _entered = span.enter();
        let mut group = Changes::new();
        let mut waiting = Vec::with_capacity(jobs.len());
        let mut durable = false;
        for Job { work, reply } in jobs {
            let is_durable = work.durable();
            let work = match ingest::large_blob(spaces, work) {
                Ok(ingest::Remaining::Stage(work)) => work,
                Ok(ingest::Remaining::Done) => {
                    waiting.push((reply, Done::Written));
                    continue;
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                    continue;
                }
            };
            let mut view = View::new(spaces, &group);
            let staged = catch_unwind(AssertUnwindSafe(|| stage::stage(&mut view, work)))
                .unwrap_or_else(|panic| Err(engine_panic("stage a write", &*panic)));
            match staged {
                Ok(done) => {
                    let own = view.into_changes();
                    group.extend(own);
                    durable |= is_durable;
                    waiting.push((reply, done));
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            }
        }
        if waiting.is_empty() {
            return;
        }
        span.record("durable", durable);
        let mode = if durable {
            PersistMode::SyncAll
        } else {
            PersistMode::Buffer
        };
        let started = Instant::now();
        let result = write(spaces, group, mode);
        tracing::debug!(
            micros = started.elapsed().as_micros() as u64,
            ok = result.is_ok(),
            "group written"
        );
        let result = match result {
            Ok(()) => Ok(()),
            // Nothing reached the journal: the group fails, the database is fine.
            Err(Unwritten::Refused(e)) => Err(e),
            Err(Unwritten::Failed(e)) => {
                self.failure = Some(Failure::start(&e));
                Err(e)
            }
        };
        if result.is_ok() {
            self.stats.groups.fetch_add(1, Ordering::Relaxed);
            self.stats
                .synced_groups
                .fetch_add(u64::from(durable), Ordering::Relaxed);
            self.stats
                .jobs
                .fetch_add(waiting.len() as u64, Ordering::Relaxed);
        }
        for (reply, done) in waiting {
            let _ = reply.send(match &result {
                Ok(()) => Ok(done),
                Err(e) => Err(e.clone()),
            });
        }
    }

    fn purge(&mut self) {
        self.last_purge = Instant::now();
        let Some(spaces) = &self.spaces else {
            return;
        };
        let mut changes = Changes::new();
        match ephemeral::purge(&spaces.ephemeral, ephemeral::now_millis(), &mut changes) {
            Ok(0) => {}
            Ok(purged) => {
                tracing::debug!(purged, "purging expired ephemeral values");
                match write(spaces, changes, PersistMode::Buffer) {
                    Ok(()) => {}
                    Err(Unwritten::Refused(e)) => {
                        tracing::warn!(error = %e, "purging expired ephemeral values failed");
                    }
                    Err(Unwritten::Failed(e)) => {
                        tracing::warn!(error = %e, "purging expired ephemeral values failed");
                        self.failure = Some(Failure::start(&e));
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "scanning expired ephemeral values failed"),
        }
    }
}
