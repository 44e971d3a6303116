//! Core's settings, filled by the runtime from the TOML configuration.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoreConfig {
    /// Domain of local identities: a user `alice` receives mail as `alice@<domain>`.
    pub default_domain: String,
    /// Lifetime of an access token.
    #[serde(with = "secs")]
    pub token_ttl: Duration,
    /// Failed logins allowed per username within `login_window`.
    pub login_attempts: u64,
    #[serde(with = "secs")]
    pub login_window: Duration,
    /// Lifetime of a device validation token.
    #[serde(with = "secs")]
    pub device_validation_ttl: Duration,
    /// Lifetime of a password reset token.
    #[serde(with = "secs")]
    pub password_reset_ttl: Duration,
    pub delivery: DeliveryConfig,
    pub index: IndexConfig,
    pub cluster: ClusterConfig,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            default_domain: "caliopen.local".into(),
            token_ttl: Duration::from_secs(24 * 3600),
            login_attempts: 10,
            login_window: Duration::from_secs(300),
            device_validation_ttl: Duration::from_secs(24 * 3600),
            password_reset_ttl: Duration::from_secs(3600),
            delivery: DeliveryConfig::default(),
            index: IndexConfig::default(),
            cluster: ClusterConfig::default(),
        }
    }
}

/// How the inbound pipeline retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeliveryConfig {
    /// Deliveries processed at once. More than the CPUs: a delivery spends part of
    /// its time waiting for the store's fsync, and the others use the CPU meanwhile.
    pub workers: usize,
    /// Attempts before a delivery is quarantined.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled at each attempt.
    #[serde(with = "millis")]
    pub retry_base: Duration,
    /// Longest delay between two attempts.
    #[serde(with = "millis")]
    pub retry_max: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            workers: 8,
            max_attempts: 5,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(300),
        }
    }
}

/// How the indexer feeds the search role.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexConfig {
    /// Shortest time between two search commits while mail keeps coming: entries
    /// that arrive meanwhile go into the next commit together. A message arriving
    /// after a quiet spell is indexed at once; under load, search trails the store
    /// by at most about this much.
    #[serde(with = "millis")]
    pub commit_interval: Duration,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            commit_interval: Duration::from_millis(1000),
        }
    }
}

/// How the nodes sharing a store divide users' background work (see `cluster`);
/// used only when the store is shared (Scylla).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// Time between two heartbeats of a node.
    #[serde(with = "millis")]
    pub heartbeat: Duration,
    /// A node whose heartbeat has not changed for this long is counted dead and
    /// its users move to the others. Several heartbeats long.
    #[serde(with = "millis")]
    pub lease: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_millis(1000),
            lease: Duration::from_millis(5000),
        }
    }
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
