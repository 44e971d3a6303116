//! Users and their settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Pi;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    /// Cannot log in (too many failures, or an operator's decision).
    Locked,
    /// Being deleted: unreachable already, its records are being purged.
    Deleting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    /// As chosen at signup; unique case-insensitively.
    pub username: String,
    pub name: String,
    pub given_name: String,
    pub family_name: String,
    pub recovery_email: String,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub status: UserStatus,
    /// `username@<default domain>`.
    pub local_identity: String,
    /// The contact card that describes the user.
    pub contact_id: Uuid,
    pub pi: Pi,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    pub date_insert: DateTime<Utc>,
    /// The zxcvbn score (0 weakest .. 4 strongest) of the password, computed when it
    /// is set; `None` for a user whose password was set before scores were kept.
    #[serde(default)]
    pub password_strength: Option<u8>,
}

impl User {
    /// What a password of this user is scored against: words a guesser of this
    /// user's password would try first (the original's user inputs).
    pub fn password_hints(&self) -> Vec<String> {
        [
            &self.username,
            &self.given_name,
            &self.family_name,
            &self.recovery_email,
            &self.local_identity,
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect()
    }
}

/// The user's preferences, with the original defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub default_locale: String,
    /// `rich_text` or `plain_text`: which body clients get as `body`.
    pub message_display_format: String,
    pub contact_display_order: String,
    pub contact_display_format: String,
    pub notification_enabled: bool,
    pub notification_message_preview: String,
    pub notification_sound_enabled: bool,
    pub notification_delay_disappear: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_locale: "fr-FR".into(),
            message_display_format: "rich_text".into(),
            contact_display_order: "given_name".into(),
            contact_display_format: "family_name, given_name".into(),
            notification_enabled: true,
            notification_message_preview: "always".into(),
            notification_sound_enabled: false,
            notification_delay_disappear: 10,
        }
    }
}
