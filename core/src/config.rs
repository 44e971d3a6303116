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
    /// Failed logins allowed for one account from one client address within
    /// `login_window`; then that pair is blocked for `login_window` (see [`AuthConfig`]
    /// for the limits per address and per account).
    pub login_attempts: u64,
    #[serde(with = "secs")]
    pub login_window: Duration,
    /// Lifetime of a device validation token.
    #[serde(with = "secs")]
    pub device_validation_ttl: Duration,
    /// Lifetime of a password reset token.
    #[serde(with = "secs")]
    pub password_reset_ttl: Duration,
    /// Lifetime of the token mailed to a remote identity's address to prove it is
    /// the user's.
    #[serde(with = "secs")]
    pub identity_validation_ttl: Duration,
    pub auth: AuthConfig,
    pub send_limits: SendLimits,
    pub delivery: DeliveryConfig,
    pub index: IndexConfig,
    pub cluster: ClusterConfig,
    pub credentials: CredentialsConfig,
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
            identity_validation_ttl: Duration::from_secs(24 * 3600),
            auth: AuthConfig::default(),
            send_limits: SendLimits::default(),
            delivery: DeliveryConfig::default(),
            index: IndexConfig::default(),
            cluster: ClusterConfig::default(),
            credentials: CredentialsConfig::default(),
        }
    }
}

/// Throttles and switches of authentication and signup. Every counter is kept per
/// client address (an IPv6 address counts with its /64) in the ephemeral store; a
/// limit reached answers "too many attempts" with the time left.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Failed logins (and wrong current passwords) from one client address, whatever
    /// the account, within `login_window`; then the address is blocked for
    /// `login_window`.
    pub address_attempts: u64,
    /// Failed logins on one account from every address together within
    /// `login_window`; then, for `login_window`, only addresses that logged in to the
    /// account before (within `known_address_ttl`) may try. Much higher than
    /// `login_attempts`, so that one address cannot lock the owner out.
    pub account_attempts: u64,
    /// How long an address that logged in to an account stays known to it.
    #[serde(with = "secs")]
    pub known_address_ttl: Duration,
    /// Lifetime of a refresh token (each use gives a new one).
    #[serde(with = "secs")]
    pub refresh_token_ttl: Duration,
    /// Whether anyone may sign up (`POST /api/v1/users`); false: invite only, users
    /// are created by the operator (admin API or `caliopen user add`).
    pub signup_open: bool,
    /// Signups from one client address within `signup_window`.
    pub signups_per_address: u64,
    #[serde(with = "secs")]
    pub signup_window: Duration,
    /// Account lookups (username availability, password reset requests) from one
    /// client address within `login_window`.
    pub lookups_per_address: u64,
    /// Password hashes computed at once (Argon2id takes 19 MiB each); more wait.
    pub password_hashes_at_once: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            address_attempts: 50,
            account_attempts: 200,
            known_address_ttl: Duration::from_secs(30 * 24 * 3600),
            refresh_token_ttl: Duration::from_secs(14 * 24 * 3600),
            signup_open: true,
            signups_per_address: 5,
            signup_window: Duration::from_secs(3600),
            lookups_per_address: 300,
            password_hashes_at_once: 4,
        }
    }
}

/// How much mail one user may send: messages within `window` (identity
/// confirmation mails count too), each to at most `recipients` envelope recipients.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendLimits {
    pub messages: u64,
    pub recipients: usize,
    #[serde(with = "secs")]
    pub window: Duration,
}

impl Default for SendLimits {
    fn default() -> Self {
        Self {
            messages: 200,
            recipients: 100,
            window: Duration::from_secs(3600),
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

/// Where the key that seals remote identities' passwords comes from: a file
/// (outside the data directory) or an environment variable, each holding 64 hex
/// digits (32 bytes). The file wins when both are set. With neither, a remote
/// identity with a secret credential is refused (never stored in clear).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CredentialsConfig {
    pub key_file: Option<std::path::PathBuf>,
    /// Name of the environment variable holding the key.
    pub key_env: Option<String>,
}
