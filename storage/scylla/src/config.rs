//! The Scylla backend's configuration: contact points, credentials, TLS, consistency
//! and replication. Read from the runtime's TOML (`[storage.scylla]`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::ScyllaError;

/// How to reach and use a ScyllaDB (or Cassandra) cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScyllaConfig {
    /// `host:port` of one or more nodes; the driver discovers the others.
    pub contact_points: Vec<String>,
    /// The keyspace Caliopen owns; created (with [`Self::replication`]) when missing.
    #[serde(default = "default_keyspace")]
    pub keyspace: String,
    /// Plain-text authentication, when the cluster requires it.
    #[serde(default)]
    pub credentials: Option<Credentials>,
    /// TLS to the nodes; plain TCP when absent.
    #[serde(default)]
    pub tls: Option<TlsSettings>,
    /// Consistency of every read and write (no lightweight transactions are used).
    #[serde(default)]
    pub consistency: Consistency,
    /// Replication of the keyspace when Caliopen creates it.
    #[serde(default)]
    pub replication: Replication,
    /// Rows fetched per page by scans.
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Seconds to wait for a connection before giving up.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
}

/// A user name and password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// TLS settings: the certificate authority that signed the nodes' certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// PEM file of the certificate authorities to trust.
    pub ca_file: PathBuf,
}

/// Consistency levels that make sense for Caliopen (no serial levels: no LWT).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consistency {
    One,
    LocalOne,
    Quorum,
    #[default]
    LocalQuorum,
    EachQuorum,
    All,
}

impl From<Consistency> for scylla::statement::Consistency {
    fn from(value: Consistency) -> Self {
        use scylla::statement::Consistency as C;
        match value {
            Consistency::One => C::One,
            Consistency::LocalOne => C::LocalOne,
            Consistency::Quorum => C::Quorum,
            Consistency::LocalQuorum => C::LocalQuorum,
            Consistency::EachQuorum => C::EachQuorum,
            Consistency::All => C::All,
        }
    }
}

/// The keyspace's replication strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case", deny_unknown_fields)]
pub enum Replication {
    /// One replication factor, racks and datacenters ignored (development only).
    Simple { factor: u32 },
    /// A replication factor per datacenter (production).
    NetworkTopology { datacenters: BTreeMap<String, u32> },
}

impl Default for Replication {
    fn default() -> Self {
        Self::Simple { factor: 1 }
    }
}

impl Replication {
    /// The CQL map literal of `WITH replication = ...`.
    pub fn cql(&self) -> String {
        match self {
            Self::Simple { factor } => {
                format!("{{'class': 'SimpleStrategy', 'replication_factor': {factor}}}")
            }
            Self::NetworkTopology { datacenters } => {
                let mut out = String::from("{'class': 'NetworkTopologyStrategy'");
                for (dc, factor) in datacenters {
                    out.push_str(&format!(", '{}': {factor}", dc.replace('\'', "''")));
                }
                out.push('}');
                out
            }
        }
    }
}

impl ScyllaConfig {
    /// A configuration for one local node with every default.
    pub fn local(contact_point: impl Into<String>) -> Self {
        Self {
            contact_points: vec![contact_point.into()],
            keyspace: default_keyspace(),
            credentials: None,
            tls: None,
            consistency: Consistency::default(),
            replication: Replication::default(),
            page_size: default_page_size(),
            connect_timeout_secs: default_connect_timeout(),
        }
    }

    /// Checks what serde cannot: names used in CQL text, non-empty lists, ranges.
    pub fn validate(&self) -> Result<(), ScyllaError> {
        if self.contact_points.is_empty() {
            return Err(ScyllaError::Config("`contact_points` is empty".into()));
        }
        if !is_cql_identifier(&self.keyspace) {
            return Err(ScyllaError::Config(format!(
                "keyspace `{}` must be 1 to 48 ASCII letters, digits or `_`, starting with a letter",
                self.keyspace
            )));
        }
        if self.page_size == 0 || self.page_size > 100_000 {
            return Err(ScyllaError::Config(format!(
                "`page_size` must be in 1..=100000, not {}",
                self.page_size
            )));
        }
        match &self.replication {
            Replication::Simple { factor: 0 } => {
                Err(ScyllaError::Config("replication factor 0".into()))
            }
            Replication::NetworkTopology { datacenters } if datacenters.is_empty() => Err(
                ScyllaError::Config("`network_topology` replication names no datacenter".into()),
            ),
            _ => Ok(()),
        }
    }
}

/// Whether `name` can be used unquoted as a keyspace name.
pub(crate) fn is_cql_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 48
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn default_keyspace() -> String {
    "caliopen".into()
}
fn default_page_size() -> u32 {
    1000
}
fn default_connect_timeout() -> u64 {
    10
}
