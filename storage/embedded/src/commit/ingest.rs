//! Large blobs (raw mails of megabytes) go straight to a blob file through fjall's
//! ingestion instead of through the journal and the memtable.
//!
//! Through a write batch, a 40 MB mail would be copied into the journal writer's buffer
//! (which fjall keeps at that size afterwards), sit in a memtable until it is flushed, and
//! stay referenced by the version that held that memtable until the next rotation: about
//! four times its size in memory, for a while, per mail. Ingestion writes it to a new blob
//! file, syncs it, and registers it with its index table in a new version (both synced
//! too) before returning, so the blob is durable before the record batch that follows it
//! in the same job, as `put_then_write` promises. A blob spooled to a file is read from it
//! here, straight into the value fjall writes: one copy of it in memory, for the time of
//! the ingestion.

use std::io::{Read, Seek, SeekFrom};

use caliopen_storage_traits::{BlobId, StorageError, StorageResult};
use fjall::Slice;

use super::{Spaces, Work};
use crate::error::{fjall_error, io_error};

/// Blobs at least this large are ingested: what would fill the blob memtable anyway, so
/// ingesting them adds no flush that the memtable would not have forced.
pub(crate) const INGEST_BYTES: usize = crate::engine::BLOB_MEMTABLE_BYTES as usize;

/// What remains of a job once its large blob is ingested.
pub(super) enum Remaining {
    /// The job still has to be staged.
    Stage(Work),
    /// The job is done (a blob put that was ingested, or already stored).
    Done,
}

/// Ingests the job's blob when it is large and not stored yet; returns what is left to do.
pub(super) fn large_blob(spaces: &Spaces, work: Work) -> StorageResult<Remaining> {
    match work {
        Work::PutBlob { id, data } if data.len() >= INGEST_BYTES => {
            ingest(spaces, id, || Ok(Slice::from(data)))?;
            Ok(Remaining::Done)
        }
        Work::BlobThenRecords { id, data, batch } if data.len() >= INGEST_BYTES => {
            ingest(spaces, id, || Ok(Slice::from(data)))?;
            Ok(Remaining::Stage(Work::Records(batch)))
        }
        Work::SpooledBlobThenRecords {
            id,
            file,
            len,
            batch,
        } => {
            ingest(spaces, id, || read(file, len))?;
            Ok(Remaining::Stage(Work::Records(batch)))
        }
        work => Ok(Remaining::Stage(work)),
    }
}

/// The first `len` bytes of `file`, in one value.
fn read(mut file: std::fs::File, len: u64) -> StorageResult<Slice> {
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| u32::try_from(len).is_ok())
        .ok_or_else(|| StorageError::Invalid(format!("a {len}-byte blob is too large")))?;
    file.seek(SeekFrom::Start(0))
        .and_then(|_| byteview::ByteView::from_reader(&mut file.take(len as u64), len))
        .map(Slice::from)
        .map_err(|e| io_error("read a spooled blob", &e))
}

#[tracing::instrument(level = "debug", name = "blobs.ingest", skip_all, fields(blob = %id))]
fn ingest(
    spaces: &Spaces,
    id: BlobId,
    value: impl FnOnce() -> StorageResult<Slice>,
) -> StorageResult<()> {
    let blobs = &spaces.blobs;
    if blobs
        .contains_key(id.as_bytes())
        .map_err(|e| fjall_error("look up a blob", e))?
    {
        return Ok(());
    }
    let value = value()?;
    let mut ingestion = blobs
        .start_ingestion()
        .map_err(|e| fjall_error("start a blob ingestion", e))?;
    ingestion
        .write(id.as_bytes().to_vec(), value)
        .map_err(|e| fjall_error("write a large blob", e))?;
    ingestion
        .finish()
        .map_err(|e| fjall_error("register a large blob", e))
}
