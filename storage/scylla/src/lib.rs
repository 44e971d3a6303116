//! Caliopen's records, blobs and ephemeral values on ScyllaDB (or Apache Cassandra),
//! for installations that outgrow one machine. Search lives elsewhere
//! (`caliopen-storage-elasticsearch`).
//!
//! - [`config`]: [`ScyllaConfig`], the serde configuration (contact points,
//!   credentials, TLS, consistency, replication).
//! - [`schema`]: the keyspace's versioned migrations, applied in order at start-up and
//!   recorded in `schema_migrations`; the module documentation lists the tables.
//! - [`bucket`]: time buckets of time-ordered tables, from the UUIDv7 keys.
//! - [`statements`]: CQL text and values (scans, batches, write timestamps), built
//!   without a session.
//! - [`records`]: [`ScyllaRecords`], the records role: logged batches, paged scans.
//! - [`blobs`]: [`ScyllaBlobs`], content-addressed blobs in chunks under 1 MB.
//! - [`ephemeral`]: [`ScyllaEphemeral`], values and rate counters with a TTL.
//! - [`error`]: [`ScyllaError`] and its translation into `StorageError`.
//! - [`limits`]: what is refused before it is sent (the contract's key limits,
//!   Scylla's mutation size).
//!
//! [`connect`] opens a session, applies pending migrations and returns
//! [`ScyllaStorage`], whose accessors give the role trait objects.

pub mod blobs;
pub mod bucket;
pub mod config;
pub mod ephemeral;
pub mod error;
pub mod limits;
pub mod records;
pub mod schema;
pub mod statements;

use std::sync::Arc;
use std::time::Duration;

use caliopen_storage_traits::{BlobStore, EphemeralStore, RecordStore};
use scylla::client::caching_session::CachingSession;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::Statement;
use tracing::{info, instrument};

pub use blobs::ScyllaBlobs;
pub use config::{Consistency, Credentials, Replication, ScyllaConfig, TlsSettings};
pub use ephemeral::ScyllaEphemeral;
pub use error::ScyllaError;
pub use records::ScyllaRecords;

/// Prepared statements kept per session.
const PREPARED_CACHE: usize = 256;

/// What every role shares: the session (with its prepared-statement cache), the
/// keyspace and the page size.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) session: CachingSession,
    pub(crate) keyspace: String,
    pub(crate) page_size: i32,
}

impl Shared {
    /// A statement to prepare (once, through the cache) with the configured page size.
    pub(crate) fn statement(&self, cql: String) -> Statement {
        Statement::new(cql).with_page_size(self.page_size)
    }
}

/// The roles backed by one Scylla session.
#[derive(Debug, Clone)]
pub struct ScyllaStorage {
    records: Arc<ScyllaRecords>,
    blobs: Arc<ScyllaBlobs>,
    ephemeral: Arc<ScyllaEphemeral>,
}

impl ScyllaStorage {
    pub fn records(&self) -> Arc<dyn RecordStore> {
        self.records.clone()
    }
    pub fn blobs(&self) -> Arc<dyn BlobStore> {
        self.blobs.clone()
    }
    pub fn ephemeral(&self) -> Arc<dyn EphemeralStore> {
        self.ephemeral.clone()
    }
}

/// Connects to the cluster, creates the keyspace when missing, applies pending schema
/// migrations and returns the roles.
#[instrument(skip(config), fields(contact_points = ?config.contact_points, keyspace = %config.keyspace), err)]
pub async fn connect(config: &ScyllaConfig) -> Result<ScyllaStorage, ScyllaError> {
    config.validate()?;
    let profile = ExecutionProfile::builder()
        .consistency(config.consistency.into())
        .build();
    let mut builder = SessionBuilder::new()
        .known_nodes(&config.contact_points)
        .connection_timeout(Duration::from_secs(config.connect_timeout_secs))
        .default_execution_profile_handle(profile.into_handle());
    if let Some(credentials) = &config.credentials {
        builder = builder.user(&credentials.username, &credentials.password);
    }
    if let Some(tls) = &config.tls {
        builder = builder.tls_context(Some(tls::client_config(tls)?));
    }
    let session = builder
        .build()
        .await
        .map_err(|source| ScyllaError::Connect {
            contact_points: config.contact_points.clone(),
            source: Box::new(source),
        })?;
    let session = CachingSession::from(session, PREPARED_CACHE);
    let applied = schema::migrate(&session, &config.keyspace, &config.replication).await?;
    info!(?applied, "Scylla storage ready");
    let shared = Arc::new(Shared {
        session,
        keyspace: config.keyspace.clone(),
        page_size: i32::try_from(config.page_size).unwrap_or(1000),
    });
    Ok(ScyllaStorage {
        records: Arc::new(ScyllaRecords::new(shared.clone())),
        blobs: Arc::new(ScyllaBlobs::new(shared.clone())),
        ephemeral: Arc::new(ScyllaEphemeral::new(shared)),
    })
}

mod tls {
    //! The rustls client configuration (ring provider) trusting the configured CA.

    use std::sync::Arc;

    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use crate::config::TlsSettings;
    use crate::error::ScyllaError;

    pub(crate) fn client_config(
        settings: &TlsSettings,
    ) -> Result<Arc<rustls::ClientConfig>, ScyllaError> {
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(&settings.ca_file)
            .map_err(|e| ScyllaError::Tls(format!("{}: {e}", settings.ca_file.display())))?;
        for cert in certs {
            let cert =
                cert.map_err(|e| ScyllaError::Tls(format!("{}: {e}", settings.ca_file.display())))?;
            roots
                .add(cert)
                .map_err(|e| ScyllaError::Tls(format!("{}: {e}", settings.ca_file.display())))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ScyllaError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}
