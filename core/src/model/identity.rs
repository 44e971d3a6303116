//! Identities: the addresses a user owns. Every user has one local identity,
//! `username@<default domain>`; remote identities are accounts elsewhere.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityKind {
    Local,
    Remote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityStatus {
    Active,
    Inactive,
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: IdentityKind,
    /// `email` (or `twitter` for remote identities the original supported).
    pub protocol: String,
    /// The address, lower case.
    pub identifier: String,
    pub display_name: String,
    pub status: IdentityStatus,
    /// Remote accounts only: server settings and secrets, never shown back in full.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    #[serde(default)]
    pub infos: BTreeMap<String, String>,
    pub last_check: Option<DateTime<Utc>>,
    pub date_insert: DateTime<Utc>,
    /// Remote identities only: when the user showed the address is theirs (see
    /// `service::identity_validation`); none yet, it cannot send. Local identities
    /// are the user's by construction.
    #[serde(default)]
    pub verified_at: Option<DateTime<Utc>>,
    /// Remote identities only: the secret credentials (base64 of nonce and
    /// AES-256-GCM ciphertext of a JSON map), sealed with the key of
    /// `core.credentials`; `credentials` then holds each secret's name with the
    /// mask only. Never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_credentials: Option<String>,
}
