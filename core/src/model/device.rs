//! Devices: the clients a user logs in from. Tokens are bound to a device.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Pi;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceStatus {
    /// The first device of a user, or one confirmed through the mailed token.
    Verified,
    /// A new device, until validated.
    Unverified,
    /// Revoked: its tokens no longer work.
    Revoked,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceLocation {
    pub address: String,
    pub country: String,
    /// `type` in the API.
    #[serde(alias = "type")]
    pub kind: String,
}

/// The device types the API knows.
pub const DEVICE_KINDS: &[&str] = &["other", "desktop", "laptop", "smartphone", "tablet"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Device {
    /// Chosen by the client.
    pub device_id: String,
    pub user_id: Uuid,
    pub name: String,
    /// `desktop`, `laptop`, `smartphone`, `tablet`, `other`.
    pub kind: String,
    pub status: DeviceStatus,
    pub ip_creation: String,
    pub user_agent: String,
    pub locations: Vec<DeviceLocation>,
    pub pi: Pi,
    pub date_insert: DateTime<Utc>,
    pub date_revoked: Option<DateTime<Utc>>,
}
