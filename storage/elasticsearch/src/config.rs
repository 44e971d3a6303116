//! The Elasticsearch backend's configuration: nodes, credentials, TLS, index names and
//! indexing behaviour. Read from the runtime's TOML (`[storage.elasticsearch]`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::ElasticError;

/// How to reach and use an Elasticsearch cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticConfig {
    /// Base URLs of one or more nodes (`http://127.0.0.1:9200`); requests go round-robin.
    pub nodes: Vec<String>,
    /// Prefix of every index, template and alias Caliopen creates (lower case).
    #[serde(default = "default_prefix")]
    pub index_prefix: String,
    #[serde(default)]
    pub credentials: Option<ElasticCredentials>,
    /// TLS: the certificate authority of the nodes' certificates (https URLs).
    #[serde(default)]
    pub tls: Option<ElasticTls>,
    /// Primary shards of each index (set when the index is created).
    #[serde(default = "default_shards")]
    pub shards: u32,
    /// Replicas of each shard.
    #[serde(default)]
    pub replicas: u32,
    /// Attempts of a bulk request whose operations were rejected for overload.
    #[serde(default = "default_retries")]
    pub bulk_retries: u32,
    /// First pause between attempts, doubled at each retry.
    #[serde(default = "default_backoff")]
    pub bulk_backoff_ms: u64,
    /// Request timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

/// How to authenticate.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ElasticCredentials {
    Basic { username: String, password: String },
    ApiKey { id: String, secret: String },
}

impl std::fmt::Debug for ElasticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Self::ApiKey { id, .. } => write!(f, "ApiKey({id}, <redacted>)"),
        }
    }
}

/// TLS settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElasticTls {
    /// PEM file of the certificate authority to trust.
    pub ca_file: PathBuf,
}

impl ElasticConfig {
    /// One local node, every default.
    pub fn local(url: impl Into<String>) -> Self {
        Self {
            nodes: vec![url.into()],
            index_prefix: default_prefix(),
            credentials: None,
            tls: None,
            shards: default_shards(),
            replicas: 0,
            bulk_retries: default_retries(),
            bulk_backoff_ms: default_backoff(),
            timeout_secs: default_timeout(),
        }
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ElasticError> {
        if self.nodes.is_empty() {
            return Err(ElasticError::Config("`nodes` is empty".into()));
        }
        let valid_prefix = !self.index_prefix.is_empty()
            && self.index_prefix.len() <= 64
            && self
                .index_prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && !self.index_prefix.starts_with(['-', '_']);
        if !valid_prefix {
            return Err(ElasticError::Config(format!(
                "`index_prefix` `{}` must be lower-case letters, digits, `-` or `_`",
                self.index_prefix
            )));
        }
        if self.shards == 0 {
            return Err(ElasticError::Config("`shards` must be at least 1".into()));
        }
        Ok(())
    }
}

fn default_prefix() -> String {
    "caliopen".into()
}
fn default_shards() -> u32 {
    1
}
fn default_retries() -> u32 {
    5
}
fn default_backoff() -> u64 {
    100
}
fn default_timeout() -> u64 {
    30
}
