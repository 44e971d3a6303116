//! Caliopen's search index on Elasticsearch, for installations that outgrow one
//! machine; same query semantics as the embedded tantivy index.
//!
//! - [`config`]: [`ElasticConfig`], the serde configuration (nodes, credentials, TLS,
//!   shards, bulk retries).
//! - [`mapping`]: index names, index templates (analyzers, mappings for messages and
//!   contacts, participants nested), per-user filtered aliases.
//! - [`document`]: our documents as Elasticsearch sources, and index operations as
//!   ordered bulk steps.
//! - [`bulk`]: reading bulk answers: done, retry from an operation, or failed.
//! - [`query`]: search bodies and the reading of hits, totals and highlights.
//! - `index`: [`ElasticIndex`], the `SearchIndex` implementation (the only module
//!   doing I/O).
//! - [`error`]: [`ElasticError`] and its translation into `StorageError`.
//!
//! [`connect`] builds the client, installs the templates and indices, and returns the
//! index as the search role.

pub mod bulk;
pub mod config;
pub mod document;
pub mod error;
mod index;
pub mod mapping;
pub mod query;

use std::sync::Arc;
use std::time::Duration;

use caliopen_storage_traits::SearchIndex;
use elasticsearch::Elasticsearch;
use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
use elasticsearch::http::Url;
use elasticsearch::http::transport::{MultiNodeConnectionPool, TransportBuilder};
use tracing::instrument;

pub use config::{ElasticConfig, ElasticCredentials, ElasticTls};
pub use error::ElasticError;
pub use index::ElasticIndex;

/// Connects to the cluster, puts the index templates, creates missing indices and
/// returns the search role.
#[instrument(skip(config), fields(nodes = ?config.nodes, prefix = %config.index_prefix), err)]
pub async fn connect(config: &ElasticConfig) -> Result<Arc<dyn SearchIndex>, ElasticError> {
    Ok(Arc::new(connect_index(config).await?))
}

/// [`connect`], returning the concrete type.
pub async fn connect_index(config: &ElasticConfig) -> Result<ElasticIndex, ElasticError> {
    config.validate()?;
    let urls = config
        .nodes
        .iter()
        .map(|node| {
            Url::parse(node).map_err(|e| ElasticError::Config(format!("node `{node}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut builder = TransportBuilder::new(MultiNodeConnectionPool::round_robin(urls, None))
        .timeout(Duration::from_secs(config.timeout_secs));
    builder = match &config.credentials {
        Some(ElasticCredentials::Basic { username, password }) => {
            builder.auth(Credentials::Basic(username.clone(), password.clone()))
        }
        Some(ElasticCredentials::ApiKey { id, secret }) => {
            builder.auth(Credentials::ApiKey(id.clone(), secret.clone()))
        }
        None => builder,
    };
    if let Some(tls) = &config.tls {
        let pem = std::fs::read(&tls.ca_file)
            .map_err(|e| ElasticError::Client(format!("{}: {e}", tls.ca_file.display())))?;
        let ca = Certificate::from_pem(&pem)
            .map_err(|e| ElasticError::Client(format!("{}: {e}", tls.ca_file.display())))?;
        builder = builder.cert_validation(CertificateValidation::Full(ca));
    }
    let transport = builder
        .build()
        .map_err(|e| ElasticError::Client(e.to_string()))?;
    let index = ElasticIndex::new(
        Elasticsearch::new(transport),
        mapping::Names::new(&config.index_prefix),
        config.bulk_retries,
        config.bulk_backoff_ms,
    );
    index.set_up(config.shards, config.replicas).await?;
    Ok(index)
}
