//! Core's typed errors: what a caller did wrong, or what failed underneath.

use caliopen_storage_traits::StorageError;

/// Every error a core service answers with. Protocol servers map these to their
/// own status codes (HTTP 4xx/5xx, SMTP 4yz/5yz) and never show `Storage` details
/// to clients.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// An input does not satisfy the rules; `field` names it as the client sent it.
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The thing does not exist, or is not the caller's (the two are not told apart).
    #[error("{kind} `{id}` not found")]
    NotFound { kind: &'static str, id: String },
    /// The request conflicts with the current state (taken username, stale `current_state`).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Credentials or token are wrong, expired or revoked.
    #[error("authentication failed: {0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A point of contact (`<type>:<value>`) already belongs to another contact of
    /// the user (one address, one contact). Worded as the original, whose message
    /// clients parse.
    #[error("uri <{uri}> belongs to contact {contact_id}")]
    UriTaken { uri: String, contact_id: uuid::Uuid },
    /// Too many attempts; retry after the given number of seconds.
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// This installation has not configured what the operation needs.
    #[error("not available on this installation: {0}")]
    NotConfigured(String),

    /// A service core relies on could not answer now; retrying later may work.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// The storage layer failed.
    #[error(transparent)]
    Storage(StorageError),
    /// A stored record does not decode: a bug or corruption, never the client's fault.
    #[error("corrupt record in {table}: {message}")]
    Corrupt {
        table: &'static str,
        message: String,
    },
}

impl CoreError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
    #[allow(clippy::needless_pass_by_value)] // ids are small and passed by value at every call
    pub fn not_found(kind: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            kind,
            id: id.to_string(),
        }
    }
}

/// A storage error, except that a key or value the storage refused for its length
/// is the caller's input, not a failure: `Invalid` (a 400), so the last guard of
/// `crate::limits` answers a client the way core's own checks do.
impl From<StorageError> for CoreError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::TooLarge { what, len, max, .. } => Self::Invalid {
                field: "request".into(),
                reason: format!(
                    "holds a value too long to store ({what} of {len} bytes, at most {max})"
                ),
            },
            e => Self::Storage(e),
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
