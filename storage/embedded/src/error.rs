//! Turning engine errors (fjall, tantivy, I/O, task failures) into [`StorageError`].
//!
//! Out-of-space and read-only conditions become [`StorageError::NotWritable`] so that
//! callers can tell an operator problem from a bug; a lock held by another process
//! becomes [`StorageError::Unavailable`]; everything else is a
//! [`StorageError::Backend`] that keeps the engine's message.

use std::io;

use caliopen_storage_traits::StorageError;

/// The backend name carried by every error of this crate.
pub(crate) const BACKEND: &str = "embedded";

/// Why a write cannot succeed until an operator acts, if the I/O error says so
/// (`ENOSPC` 28, `EDQUOT` 122 and `EROFS` 30 are matched by code too).
fn not_writable_reason(err: &io::Error) -> Option<&'static str> {
    match err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Some("the disk is full"),
        io::ErrorKind::ReadOnlyFilesystem => Some("the file system is read-only"),
        _ => match err.raw_os_error() {
            Some(28) | Some(122) => Some("the disk is full"),
            Some(30) => Some("the file system is read-only"),
            _ => None,
        },
    }
}

/// Maps an I/O error met while doing `operation`.
pub(crate) fn io_error(operation: &'static str, err: &io::Error) -> StorageError {
    if let Some(reason) = not_writable_reason(err) {
        return StorageError::NotWritable {
            backend: BACKEND,
            message: format!("{reason} (while trying to {operation}): {err}"),
        };
    }
    if err.kind() == io::ErrorKind::PermissionDenied {
        return StorageError::NotWritable {
            backend: BACKEND,
            message: format!(
                "permission denied on the data directory (while trying to {operation}): {err}"
            ),
        };
    }
    backend(operation, err)
}

/// A generic engine failure.
pub(crate) fn backend(operation: &'static str, err: impl std::fmt::Display) -> StorageError {
    StorageError::Backend {
        backend: BACKEND,
        operation,
        message: err.to_string(),
    }
}

/// Maps a fjall error met while doing `operation`.
pub(crate) fn fjall_error(operation: &'static str, err: fjall::Error) -> StorageError {
    match &err {
        fjall::Error::Io(io) | fjall::Error::Storage(fjall::LsmError::Io(io)) => {
            io_error(operation, io)
        }
        fjall::Error::Poisoned => StorageError::NotWritable {
            backend: BACKEND,
            message: format!(
                "an earlier write to disk failed, so the engine refuses writes until the database \
                 is reopened, which happens once the disk accepts writes again \
                 (while trying to {operation}); check the disk and the logs"
            ),
        },
        fjall::Error::Locked => StorageError::Unavailable {
            backend: BACKEND,
            message:
                "the data directory is locked by another process (is another Caliopen running?)"
                    .into(),
        },
        _ => backend(operation, err),
    }
}

/// Maps a tantivy error met while doing `operation`.
pub(crate) fn tantivy_error(operation: &'static str, err: &tantivy::TantivyError) -> StorageError {
    use tantivy::TantivyError as T;
    use tantivy::directory::error::{LockError, OpenWriteError};
    match err {
        T::IoError(io) => io_error(operation, io),
        T::OpenWriteError(OpenWriteError::IoError { io_error: io, .. }) => io_error(operation, io),
        T::LockFailure(LockError::LockBusy, _) => StorageError::Unavailable {
            backend: BACKEND,
            message: "the search index is locked by another writer (is another Caliopen running?)"
                .into(),
        },
        _ => {
            // Some I/O failures only survive as text inside other variants.
            let text = err.to_string();
            let full = [
                "No space left",
                "Disk quota exceeded",
                "Read-only file system",
            ]
            .iter()
            .any(|needle| text.contains(needle));
            if full {
                StorageError::NotWritable {
                    backend: BACKEND,
                    message: format!(
                        "the search index cannot be written (while trying to {operation}): {text}"
                    ),
                }
            } else {
                backend(operation, text)
            }
        }
    }
}

/// The error answered once the storage has been closed.
pub(crate) fn closed() -> StorageError {
    StorageError::Unavailable {
        backend: BACKEND,
        message: "the embedded storage has been closed".into(),
    }
}

/// A blocking task that panicked or was cancelled.
pub(crate) fn task_failed(operation: &'static str, err: &tokio::task::JoinError) -> StorageError {
    backend(operation, format!("the worker task failed: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ENOSPC` and `EROFS` on Linux.
    const RAW_NOT_WRITABLE: [i32; 2] = [28, 30];

    #[test]
    fn disk_full_is_not_writable() {
        let err = io::Error::from_raw_os_error(RAW_NOT_WRITABLE[0]);
        let mapped = io_error("write a batch", &err);
        assert!(
            matches!(mapped, StorageError::NotWritable { .. }),
            "{mapped:?}"
        );
        assert!(mapped.to_string().contains("disk is full"), "{mapped}");
        assert!(mapped.is_transient());
    }

    #[test]
    fn read_only_is_not_writable() {
        let err = io::Error::from_raw_os_error(RAW_NOT_WRITABLE[1]);
        let mapped = fjall_error("write a batch", fjall::Error::Io(err));
        assert!(mapped.to_string().contains("read-only"), "{mapped}");
    }

    #[test]
    fn other_io_errors_stay_backend_errors() {
        let err = io::Error::other("boom");
        let mapped = io_error("read a record", &err);
        assert!(matches!(
            mapped,
            StorageError::Backend {
                operation: "read a record",
                ..
            }
        ));
    }
}
