//! Notifications: events a user's clients poll for (new mail, bounce, ...).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    pub expires_at: DateTime<Utc>,
}
