//! Notifications: events a user's clients poll for (new mail, bounce, ...).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a notification is kept: clients poll, so what they have not fetched
/// within its class's lifetime is dropped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TtlClass {
    /// One day: transient events (a device asks to be validated, ...).
    Short,
    /// Seven days: new mail and the like.
    #[default]
    Medium,
    /// Thirty days: what a user must not miss (a bounce, a security alert).
    Long,
}

impl TtlClass {
    /// The lifetime of a notification of this class.
    pub fn duration(self) -> chrono::Duration {
        match self {
            Self::Short => chrono::Duration::days(1),
            Self::Medium => chrono::Duration::days(7),
            Self::Long => chrono::Duration::days(30),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Time-ordered (UUIDv7).
    pub id: Uuid,
    pub user_id: Uuid,
    /// Which part of Caliopen emitted it (`delivery`, `outbound`, ...).
    pub emitter: String,
    /// `event`, `info`, `alert`, ...
    pub kind: String,
    /// What it is about (a message id, ...).
    pub reference: String,
    pub body: String,
    pub date_insert: DateTime<Utc>,
    /// `date_insert` plus the lifetime of `ttl_class`.
    pub expires_at: DateTime<Utc>,
    /// Records written before the class existed decode as [`TtlClass::Medium`].
    #[serde(default)]
    pub ttl_class: TtlClass,
}
