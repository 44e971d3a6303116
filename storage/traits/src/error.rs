//! The error every storage backend answers with.

/// What went wrong in a storage operation. Backends map their engine's errors into
/// these kinds and keep the engine's message as context.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StorageError {
    /// The engine failed to read or write (I/O error, corruption, server error).
    #[error("storage backend `{backend}` failed to {operation}: {message}")]
    Backend {
        backend: &'static str,
        operation: &'static str,
        message: String,
    },
    /// The engine is out of space or its files are read-only: writes fail until that
    /// is cleared, reads still work.
    #[error("storage backend `{backend}` cannot write: {message}")]
    NotWritable {
        backend: &'static str,
        message: String,
    },
    /// The engine cannot be reached now (network, overload); retrying may work.
    #[error("storage backend `{backend}` is unavailable: {message}")]
    Unavailable {
        backend: &'static str,
        message: String,
    },
    /// A stored value could not be decoded.
    #[error("corrupt record in `{table}`: {message}")]
    Corrupt { table: String, message: String },
    /// The caller asked for something the contract forbids (empty key, batch too big).
    #[error("invalid storage request: {0}")]
    Invalid(String),
    /// A key, value or batch is longer than the contract or the backend allows (see
    /// [`crate::limits`]). It was refused before it reached the engine; sending it
    /// again cannot succeed.
    #[error("{what} in `{place}` is {len} bytes long, more than the {max} bytes allowed")]
    TooLarge {
        /// `"key"`, `"value"`, `"scan prefix"`, `"batch"`, ...
        what: &'static str,
        /// The table or namespace.
        place: String,
        len: usize,
        max: usize,
    },
}

impl StorageError {
    /// Whether retrying the same operation later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::NotWritable { .. })
    }
}

pub type StorageResult<T> = Result<T, StorageError>;
