//! Turning one job into key changes, against what the jobs before it in the same
//! group left (a [`View`]): record batches (with exact counter additions), blob puts
//! that skip existing blobs, and the ephemeral writes of [`crate::ephemeral`].

use std::collections::HashMap;

use caliopen_storage_traits::{Batch, BlobId, Op, StorageError, StorageResult};
use fjall::{Database, Keyspace};

use super::{Done, Work};
use crate::error::fjall_error;
use crate::{ephemeral, keys};

/// The keyspaces a change can touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Space {
    Records,
    Blobs,
    Ephemeral,
}

/// Handles to the database and its keyspaces.
#[derive(Clone)]
pub(crate) struct Spaces {
    pub db: Database,
    pub records: Keyspace,
    pub blobs: Keyspace,
    pub ephemeral: Keyspace,
}

impl std::fmt::Debug for Spaces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spaces(records, blobs, ephemeral)")
    }
}

impl Spaces {
    pub(crate) fn get(&self, space: Space) -> &Keyspace {
        match space {
            Space::Records => &self.records,
            Space::Blobs => &self.blobs,
            Space::Ephemeral => &self.ephemeral,
        }
    }
}

/// Final state of keys changed by the jobs of a group: a value, or deleted.
pub(crate) type Changes = HashMap<(Space, Vec<u8>), Option<Vec<u8>>>;

/// The state a job reads: its own changes, then the group's, then the database.
pub(crate) struct View<'a> {
    spaces: &'a Spaces,
    group: &'a Changes,
    own: Changes,
}

impl<'a> View<'a> {
    pub(crate) fn new(spaces: &'a Spaces, group: &'a Changes) -> Self {
        Self {
            spaces,
            group,
            own: Changes::new(),
        }
    }

    /// The changes this job made.
    pub(crate) fn into_changes(self) -> Changes {
        self.own
    }

    pub(crate) fn get(&self, space: Space, key: &[u8]) -> StorageResult<Option<Vec<u8>>> {
        let probe = (space, key.to_vec());
        if let Some(change) = self.own.get(&probe).or_else(|| self.group.get(&probe)) {
            return Ok(change.clone());
        }
        let value = self
            .spaces
            .get(space)
            .get(key)
            .map_err(|e| fjall_error("read before a write", e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    pub(crate) fn contains(&self, space: Space, key: &[u8]) -> StorageResult<bool> {
        let probe = (space, key.to_vec());
        if let Some(change) = self.own.get(&probe).or_else(|| self.group.get(&probe)) {
            return Ok(change.is_some());
        }
        self.spaces
            .get(space)
            .contains_key(key)
            .map_err(|e| fjall_error("read before a write", e))
    }

    pub(crate) fn set(&mut self, space: Space, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.own.insert((space, key), value);
    }
}

/// Turns one job into key changes in `view`.
pub(super) fn stage(view: &mut View<'_>, work: Work) -> StorageResult<Done> {
    match work {
        Work::Records(batch) => stage_records(view, batch),
        Work::PutBlob { id, data } => stage_blob(view, id, data),
        Work::BlobThenRecords { id, data, batch } => {
            // One job: when the batch fails, the blob is not written either.
            stage_blob(view, id, data)?;
            stage_records(view, batch)
        }
        // `ingest` turns these into record batches before staging.
        Work::SpooledBlobThenRecords { id, .. } => Err(StorageError::Invalid(format!(
            "the spooled blob {id} was not ingested"
        ))),
        Work::DeleteBlob(id) => {
            view.set(Space::Blobs, id.as_bytes().to_vec(), None);
            Ok(Done::Written)
        }
        Work::DeleteUnreferencedBlob { id, refs } => {
            // Read and decided in the committer: no batch can come in between.
            let count = match view.get(Space::Records, &refs)? {
                Some(stored) => keys::decode_counter("blob references", &stored)?,
                None => 0,
            };
            if count > 0 || !view.contains(Space::Blobs, id.as_bytes())? {
                return Ok(Done::Count(0));
            }
            view.set(Space::Blobs, id.as_bytes().to_vec(), None);
            Ok(Done::Count(1))
        }
        Work::PutEphemeral { key, value, ttl } => {
            ephemeral::stage_put(view, key, &value, ttl, ephemeral::now_millis());
            Ok(Done::Written)
        }
        Work::DeleteEphemeral { key } => {
            view.set(Space::Ephemeral, key, None);
            Ok(Done::Written)
        }
        Work::Increment { key, window } => {
            ephemeral::stage_increment(view, key, window, ephemeral::now_millis()).map(Done::Count)
        }
    }
}

fn stage_blob(view: &mut View<'_>, id: BlobId, data: Vec<u8>) -> StorageResult<Done> {
    if !view.contains(Space::Blobs, id.as_bytes())? {
        view.set(Space::Blobs, id.as_bytes().to_vec(), Some(data));
    }
    Ok(Done::Written)
}

fn stage_records(view: &mut View<'_>, batch: Batch) -> StorageResult<Done> {
    for op in batch.ops {
        match op {
            Op::Put {
                table,
                scope,
                key,
                value,
            } => {
                let key = keys::record(table, scope, &key)?;
                view.set(Space::Records, key, Some(value));
            }
            Op::Delete { table, scope, key } => {
                let key = keys::record(table, scope, &key)?;
                view.set(Space::Records, key, None);
            }
            Op::Add {
                table,
                scope,
                key,
                delta,
            } => {
                let key = keys::record(table, scope, &key)?;
                let current = match view.get(Space::Records, &key)? {
                    Some(stored) => keys::decode_counter(table.name, &stored)?,
                    None => 0,
                };
                let next = current.checked_add(delta).ok_or_else(|| {
                    StorageError::Invalid(format!(
                        "counter in table `{}` would overflow",
                        table.name
                    ))
                })?;
                view.set(Space::Records, key, Some(next.to_be_bytes().to_vec()));
            }
        }
    }
    Ok(Done::Written)
}
