//! Errors of the Scylla backend, and their translation into [`StorageError`].

use caliopen_storage_traits::StorageError;
use scylla::errors::{
    DbError, ExecutionError, NewSessionError, PagerExecutionError, RequestAttemptError,
};

/// The backend name used in [`StorageError`]s.
pub(crate) const BACKEND: &str = "scylla";

/// What can go wrong while connecting to, migrating or querying ScyllaDB.
#[derive(Debug, thiserror::Error)]
pub enum ScyllaError {
    /// The configuration cannot be used as is.
    #[error("invalid Scylla configuration: {0}")]
    Config(String),
    /// TLS material could not be loaded.
    #[error("TLS setup for Scylla failed: {0}")]
    Tls(String),
    /// No session could be opened with the contact points.
    #[error("cannot connect to Scylla at {contact_points:?}: {source}")]
    Connect {
        contact_points: Vec<String>,
        #[source]
        source: Box<NewSessionError>,
    },
    /// A schema migration failed; later migrations were not applied.
    #[error("schema migration {version} ({name}) failed: {message}")]
    Migration {
        version: u32,
        name: &'static str,
        message: String,
    },
    /// A statement failed.
    #[error("Scylla failed to {operation}: {message}")]
    Query {
        operation: &'static str,
        message: String,
        transient: bool,
    },
}

impl ScyllaError {
    /// A failed statement, classified as transient (retry may work) or not.
    pub(crate) fn query(operation: &'static str, error: &ExecutionError) -> Self {
        Self::Query {
            operation,
            message: error.to_string(),
            transient: is_transient(error),
        }
    }

    /// A failed paged statement.
    pub(crate) fn pager(operation: &'static str, error: &PagerExecutionError) -> Self {
        Self::Query {
            operation,
            message: error.to_string(),
            transient: false,
        }
    }

    /// A row that does not decode as expected.
    pub(crate) fn decode(operation: &'static str, error: impl std::fmt::Display) -> Self {
        Self::Query {
            operation,
            message: format!("unexpected rows: {error}"),
            transient: false,
        }
    }
}

fn is_transient(error: &ExecutionError) -> bool {
    match error {
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, _)) => matches!(
            db,
            DbError::Unavailable { .. }
                | DbError::Overloaded
                | DbError::IsBootstrapping
                | DbError::ReadTimeout { .. }
                | DbError::WriteTimeout { .. }
                | DbError::RateLimitReached { .. }
        ),
        ExecutionError::ConnectionPoolError(_)
        | ExecutionError::RequestTimeout(_)
        | ExecutionError::EmptyPlan => true,
        _ => false,
    }
}

impl From<ScyllaError> for StorageError {
    fn from(error: ScyllaError) -> Self {
        match error {
            ScyllaError::Query {
                message,
                transient: true,
                ..
            } => StorageError::Unavailable {
                backend: BACKEND,
                message,
            },
            ScyllaError::Query {
                operation, message, ..
            } => StorageError::Backend {
                backend: BACKEND,
                operation,
                message,
            },
            ScyllaError::Connect { .. } => StorageError::Unavailable {
                backend: BACKEND,
                message: error.to_string(),
            },
            other => StorageError::Backend {
                backend: BACKEND,
                operation: "start",
                message: other.to_string(),
            },
        }
    }
}

/// A stored value that breaks the backend's own invariants.
pub(crate) fn corrupt(table: &str, message: impl Into<String>) -> StorageError {
    StorageError::Corrupt {
        table: table.to_string(),
        message: message.into(),
    }
}
