//! Errors of the Elasticsearch backend, and their translation into [`StorageError`].

use caliopen_storage_traits::StorageError;

/// The backend name used in [`StorageError`]s.
pub(crate) const BACKEND: &str = "elasticsearch";

/// What can go wrong while setting up or using the index.
#[derive(Debug, thiserror::Error)]
pub enum ElasticError {
    /// The configuration cannot be used as is.
    #[error("invalid Elasticsearch configuration: {0}")]
    Config(String),
    /// The client could not be built (bad URL, TLS material).
    #[error("cannot build the Elasticsearch client: {0}")]
    Client(String),
    /// A request could not be sent or its answer read.
    #[error("Elasticsearch request to {operation} failed: {message}")]
    Transport {
        operation: &'static str,
        message: String,
    },
    /// Elasticsearch answered with an error status.
    #[error("Elasticsearch refused to {operation} (HTTP {status}): {body}")]
    Status {
        operation: &'static str,
        status: u16,
        body: String,
    },
    /// Some operations of a bulk request failed for good.
    #[error("Elasticsearch bulk request failed for {failed} operation(s), first: {first}")]
    Bulk { failed: usize, first: String },
    /// An answer did not have the expected shape.
    #[error("unexpected Elasticsearch answer to {operation}: {message}")]
    Answer {
        operation: &'static str,
        message: String,
    },
}

impl ElasticError {
    pub(crate) fn transport(operation: &'static str, error: &elasticsearch::Error) -> Self {
        Self::Transport {
            operation,
            message: error.to_string(),
        }
    }

    /// Whether retrying later may succeed (overload, unavailable shards, network).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => is_retryable_status(*status),
            _ => false,
        }
    }
}

/// HTTP statuses worth retrying: too many requests, and the server-side 5xx of an
/// overloaded or recovering cluster.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

impl From<ElasticError> for StorageError {
    fn from(error: ElasticError) -> Self {
        if error.is_transient() {
            return StorageError::Unavailable {
                backend: BACKEND,
                message: error.to_string(),
            };
        }
        let operation = match &error {
            ElasticError::Transport { operation, .. }
            | ElasticError::Status { operation, .. }
            | ElasticError::Answer { operation, .. } => operation,
            ElasticError::Bulk { .. } => "update the index",
            ElasticError::Config(_) | ElasticError::Client(_) => "start",
        };
        StorageError::Backend {
            backend: BACKEND,
            operation,
            message: error.to_string(),
        }
    }
}
