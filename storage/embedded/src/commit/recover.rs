//! Getting writes back after a failed one, without a restart.
//!
//! When fjall fails to write its journal (a full disk, a file system remounted
//! read-only) it refuses every later write, since the journal's tail may be torn. The
//! committer then answers every job with a temporary error ([`refusal`]) and, every
//! [`PROBE_INTERVAL`], writes and syncs a probe file beside the database. Once the
//! probe succeeds it releases the database (the readers' handles with it: reads are
//! refused for the moment the reopening takes), opens it again, which recovers the
//! journal as a restart would, and carries on. Everything answered as written before
//! the failure was synced before its answer, so nothing acknowledged is lost.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use caliopen_storage_traits::{StorageError, StorageResult};

use super::Committer;
use crate::engine::open_spaces;
use crate::error::{BACKEND, io_error};

/// How often the disk is probed while writes fail.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// Size of the probe: small beside the free space a mail needs, large enough that a
/// disk with only a few blocks left does not pass.
const PROBE_BYTES: usize = 1 << 20;

/// How long to wait for the old database to be released (reads in flight hold it).
const RELEASE_WAIT: Duration = Duration::from_secs(10);

/// How often a still-failing probe is logged.
const LOG_EVERY: Duration = Duration::from_secs(30);

/// Why writes are refused, and when the committer tries again.
#[derive(Debug)]
pub(crate) struct Failure {
    since: Instant,
    error: String,
    next_attempt: Instant,
    last_logged: Instant,
}

impl Failure {
    /// Notes the failed write `error`.
    pub(crate) fn start(error: &StorageError) -> Self {
        tracing::error!(
            error = %error,
            "a write to the database failed: writes are refused with a temporary error until \
             the disk accepts writes again, then the database is reopened"
        );
        let now = Instant::now();
        Self {
            since: now,
            error: error.to_string(),
            next_attempt: now + PROBE_INTERVAL,
            last_logged: now,
        }
    }

    pub(crate) fn until_next_attempt(&self) -> Duration {
        self.next_attempt.saturating_duration_since(Instant::now())
    }
}

/// The answer to a job while writes fail.
pub(crate) fn refusal(failure: Option<&Failure>) -> StorageError {
    let message = match failure {
        Some(f) => format!(
            "writes are refused since a write failed {}s ago ({}); the database is reopened \
             as soon as the disk accepts writes again",
            f.since.elapsed().as_secs(),
            f.error
        ),
        None => "writes are refused until the database is reopened".into(),
    };
    StorageError::NotWritable {
        backend: BACKEND,
        message,
    }
}

impl Committer {
    /// Probes the disk and reopens the database when a failure's next attempt is due.
    pub(super) fn recover_when_due(&mut self) {
        let Some(failure) = &mut self.failure else {
            return;
        };
        let now = Instant::now();
        if now < failure.next_attempt {
            return;
        }
        failure.next_attempt = now + PROBE_INTERVAL;
        let outcome = probe(&probe_path(&self.reopen.dir)).and_then(|()| self.reopen_database());
        let Some(failure) = &mut self.failure else {
            return;
        };
        match outcome {
            Ok(()) => {
                tracing::info!(
                    after_secs = failure.since.elapsed().as_secs(),
                    "the database is reopened after a failed write; writes are accepted again"
                );
                self.failure = None;
            }
            Err(e) => {
                if failure.last_logged.elapsed() >= LOG_EVERY {
                    failure.last_logged = Instant::now();
                    tracing::warn!(
                        error = %e,
                        since_secs = failure.since.elapsed().as_secs(),
                        "writes are still refused: the disk does not accept writes yet \
                         (probed every second)"
                    );
                }
            }
        }
    }

    /// Releases the database and opens it again, recovering its journal.
    fn reopen_database(&mut self) -> StorageResult<()> {
        self.reopen.slot.set_reopening();
        self.spaces = None;
        let deadline = Instant::now() + RELEASE_WAIT;
        let spaces = loop {
            match open_spaces(&self.reopen.dir, &self.reopen.options) {
                Ok(spaces) => break spaces,
                // Locked: a read in flight still holds the old database.
                Err(StorageError::Unavailable { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(e),
            }
        };
        self.reopen.slot.set_open(spaces.clone());
        self.spaces = Some(spaces);
        Ok(())
    }
}

/// The probe file: beside the database directory, in the data directory.
fn probe_path(db_dir: &Path) -> PathBuf {
    let mut name = db_dir.file_name().unwrap_or_default().to_os_string();
    name.push(".write-probe");
    db_dir.with_file_name(name)
}

/// Writes, syncs and removes [`PROBE_BYTES`] at `path`.
fn probe(path: &Path) -> StorageResult<()> {
    let written = std::fs::File::create(path).and_then(|mut file| {
        file.write_all(&[0u8; PROBE_BYTES])?;
        file.sync_all()
    });
    let removed = std::fs::remove_file(path);
    written
        .and(removed)
        .map_err(|e| io_error("write a probe file", &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_sits_beside_the_database_directory() {
        assert_eq!(
            probe_path(Path::new("/var/lib/caliopen/kv")),
            Path::new("/var/lib/caliopen/kv.write-probe")
        );
    }

    #[test]
    fn a_probe_leaves_nothing_behind_and_reports_what_stopped_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kv.write-probe");
        probe(&path).expect("a writable directory passes");
        assert!(!path.exists(), "the probe file is removed");

        let missing = dir.path().join("gone").join("kv.write-probe");
        let err = probe(&missing).expect_err("a missing directory fails");
        assert!(err.to_string().contains("probe"), "{err}");
    }

    #[test]
    fn a_refusal_is_temporary_and_says_why() {
        let failure = Failure::start(&StorageError::NotWritable {
            backend: BACKEND,
            message: "the disk is full".into(),
        });
        let err = refusal(Some(&failure));
        assert!(err.is_transient(), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("the disk is full"), "{text}");
        assert!(text.contains("reopened"), "{text}");
    }
}
