//! Where a message waits while it arrives, and the server's bounds on those bytes.
//!
//! A connection keeps the first `data_buffer` bytes of a message in memory, and writes the
//! rest to a spool file in `spool_dir` as it comes (unnamed, so the kernel removes it when
//! it is closed, crash included). Every byte received and not yet stored counts against the
//! server's `max_bytes_in_flight`: a message that would pass it is kept no further and
//! answered 452 4.3.1 at its end, so the MTA retries later. Reading a spooled message back
//! for storing is what needs it whole in memory: at most `max_message_size` bytes of
//! spooled mail are read back at once, the others wait their turn on disk.

use std::io;
use std::mem;
use std::path::PathBuf;
use std::sync::Arc;

use caliopen_core::delivery::accept::BlobSource;
use tokio::fs::File;
use tokio::io::AsyncWriteExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::settings::InboundSettings;

/// The server's spool: where files go and the bounds shared by every connection.
#[derive(Debug)]
pub(super) struct SpoolLimits {
    dir: PathBuf,
    memory: usize,
    /// One permit per byte received and not yet stored.
    in_flight: Arc<Semaphore>,
    /// One permit per KiB of spooled mail read back for storing.
    storing: Arc<Semaphore>,
    storing_kib: u32,
}

impl SpoolLimits {
    /// The bounds of `settings`, spooling to `dir` (created if need be, private).
    pub(super) fn new(settings: &InboundSettings, dir: PathBuf) -> io::Result<Self> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir)?;
        let storing_kib = kib(settings.max_message_size as u64, u32::MAX);
        Ok(Self {
            dir,
            memory: settings.data_buffer,
            in_flight: Arc::new(Semaphore::new(
                settings.max_bytes_in_flight.min(Semaphore::MAX_PERMITS),
            )),
            storing: Arc::new(Semaphore::new(storing_kib as usize)),
            storing_kib,
        })
    }
}

/// `bytes` in KiB, rounded up, at most `max`.
fn kib(bytes: u64, max: u32) -> u32 {
    u32::try_from(bytes.div_ceil(1024))
        .unwrap_or(u32::MAX)
        .min(max)
}

/// Why a received message cannot be stored.
#[derive(Debug)]
pub(super) enum Unspooled {
    /// Taking it would have passed `max_bytes_in_flight`.
    Full,
    /// Its spool file could not be written (disk full, say); the error is logged.
    Failed,
}

/// A whole message, ready for core, with its share of the bounds until it is stored.
#[derive(Debug)]
pub(super) struct SpooledMail {
    pub(super) source: BlobSource,
    _in_flight: Option<OwnedSemaphorePermit>,
    _storing: Option<OwnedSemaphorePermit>,
}

/// The message one connection is receiving.
#[derive(Debug)]
pub(super) struct Spool {
    limits: Arc<SpoolLimits>,
    memory: Vec<u8>,
    file: Option<File>,
    len: u64,
    reservation: Option<OwnedSemaphorePermit>,
    refused: Option<Unspooled>,
}

impl Spool {
    pub(super) fn new(limits: Arc<SpoolLimits>) -> Self {
        Self {
            limits,
            memory: Vec::new(),
            file: None,
            len: 0,
            reservation: None,
            refused: None,
        }
    }

    /// Keeps the next bytes of the message, unless it is already refused.
    pub(super) async fn write(&mut self, bytes: &[u8]) {
        if self.refused.is_some() {
            return;
        }
        let wanted = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        match Arc::clone(&self.limits.in_flight).try_acquire_many_owned(wanted) {
            Ok(permit) => match &mut self.reservation {
                Some(reservation) => reservation.merge(permit),
                None => self.reservation = Some(permit),
            },
            Err(_) => {
                tracing::warn!(
                    received = self.len,
                    "too many message bytes in flight, refusing this message"
                );
                return self.refuse(Unspooled::Full);
            }
        }
        self.memory.extend_from_slice(bytes);
        self.len += bytes.len() as u64;
        if self.memory.len() >= self.limits.memory
            && let Err(error) = self.spill().await
        {
            tracing::error!(%error, "cannot write the spool file, refusing this message");
            self.refuse(Unspooled::Failed);
        }
    }

    /// Forgets the message (the session refused it).
    pub(super) fn discard(&mut self) {
        self.reset();
        self.refused = None;
    }

    /// The whole message, or why it cannot be stored; the spool is then empty again. A
    /// spooled message waits here for its turn to be read back.
    pub(super) async fn finish(&mut self) -> Result<SpooledMail, Unspooled> {
        if let Some(refused) = self.refused.take() {
            self.reset();
            return Err(refused);
        }
        let len = self.len;
        let Some(mut file) = self.file.take() else {
            let source = BlobSource::Memory(mem::take(&mut self.memory));
            let reservation = self.reservation.take();
            self.reset();
            return Ok(SpooledMail {
                source,
                _in_flight: reservation,
                _storing: None,
            });
        };
        let spilled = async {
            file.write_all(&self.memory).await?;
            file.flush().await?;
            Ok::<_, io::Error>(file.into_std().await)
        }
        .await;
        let reservation = self.reservation.take();
        self.reset();
        let file = spilled.map_err(|error| {
            tracing::error!(%error, "cannot write the spool file, refusing this message");
            Unspooled::Failed
        })?;
        let storing = Arc::clone(&self.limits.storing)
            .acquire_many_owned(kib(len, self.limits.storing_kib))
            .await
            .ok();
        tracing::debug!(bytes = len, "spooled message ready for storing");
        Ok(SpooledMail {
            source: BlobSource::File { file, len },
            _in_flight: reservation,
            _storing: storing,
        })
    }

    /// Moves the bytes in memory to the spool file, made on first use.
    async fn spill(&mut self) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                let dir = self.limits.dir.clone();
                let std = tokio::task::spawn_blocking(move || tempfile::tempfile_in(dir))
                    .await
                    .map_err(io::Error::other)??;
                tracing::debug!("message spooled to disk");
                self.file.insert(File::from_std(std))
            }
        };
        file.write_all(&self.memory).await?;
        self.memory.clear();
        Ok(())
    }

    fn refuse(&mut self, why: Unspooled) {
        self.reset();
        self.refused = Some(why);
    }

    /// Drops the bytes and their share of the bounds; memory beyond one buffer goes back.
    fn reset(&mut self) {
        self.file = None;
        self.len = 0;
        self.reservation = None;
        self.memory.clear();
        if self.memory.capacity() > self.limits.memory {
            self.memory = Vec::new();
        }
    }
}
