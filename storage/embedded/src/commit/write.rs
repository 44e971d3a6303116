//! Writing one group as one fjall batch, and the guard around the engine: a
//! panic while the batch is built fails the group and leaves the database as it
//! was; one while it is committed is a failed write (the database is reopened).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use caliopen_storage_traits::StorageError;
use fjall::PersistMode;

use super::{Changes, Spaces};
use crate::error::{backend, fjall_error};

/// The text of a caught panic.
pub(crate) fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The error a caught engine panic answers.
pub(super) fn engine_panic(operation: &'static str, panic: &(dyn Any + Send)) -> StorageError {
    backend(
        operation,
        format!("the engine refused it (panicked: {})", panic_text(panic)),
    )
}

/// Why a group was not written.
#[derive(Debug)]
pub(super) enum Unwritten {
    /// Refused before anything reached the journal (the engine panicked on a key or
    /// value while the batch was built): the database is as it was.
    Refused(StorageError),
    /// The commit failed (or panicked) on its way to disk: fjall refuses writes
    /// until the database is reopened.
    Failed(StorageError),
}

/// Writes one group as one fjall batch; an engine panic is an error, never the end
/// of the thread.
pub(super) fn write(spaces: &Spaces, changes: Changes, mode: PersistMode) -> Result<(), Unwritten> {
    let batch = catch_unwind(AssertUnwindSafe(|| {
        let mut batch = spaces.db.batch().durability(Some(mode));
        for ((space, key), value) in changes {
            let keyspace = spaces.get(space);
            match value {
                Some(value) => batch.insert(keyspace, key, value),
                None => batch.remove(keyspace, key),
            }
        }
        batch
    }))
    .map_err(|panic| Unwritten::Refused(engine_panic("build a group of writes", &*panic)))?;
    match catch_unwind(AssertUnwindSafe(|| batch.commit())) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Unwritten::Failed(fjall_error(
            "commit a group of writes",
            e,
        ))),
        Err(panic) => Err(Unwritten::Failed(engine_panic(
            "commit a group of writes",
            &*panic,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EmbeddedOptions;
    use crate::commit::Space;
    use crate::engine::open_spaces;

    /// The last guard: a key the engine asserts on, were one to get past the checks,
    /// fails its group with an error and leaves the database writable.
    #[test]
    fn an_engine_panic_fails_the_group_not_the_thread() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spaces = open_spaces(dir.path(), &EmbeddedOptions::default()).expect("open");
        let mut changes = Changes::new();
        changes.insert((Space::Records, vec![b'k'; 70_000]), Some(b"v".to_vec()));
        let err = write(&spaces, changes, PersistMode::SyncAll).unwrap_err();
        let Unwritten::Refused(err) = err else {
            panic!("a panic while building the batch wrote nothing: {err:?}");
        };
        assert!(err.to_string().contains("panicked"), "{err}");

        let mut changes = Changes::new();
        changes.insert((Space::Records, b"k".to_vec()), Some(b"v".to_vec()));
        write(&spaces, changes, PersistMode::SyncAll).expect("the next group is written");
        let read = spaces.records.get(b"k").expect("read");
        assert_eq!(read.as_deref(), Some(&b"v"[..]));
    }
}
