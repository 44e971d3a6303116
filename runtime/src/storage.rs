//! Opening the configured storage: each role from its backend (`[storage]`), the
//! embedded store in `<data_dir>/store` when some role uses it.

use anyhow::Context;
use caliopen_storage_embedded::EmbeddedStorage;
use caliopen_storage_traits::Stores;

use crate::config::{Config, RecordsBackend, SearchBackend};

/// The stores of a node: each role from its configured backend, and the embedded
/// store when some role uses it (closed by [`Storage::close`]).
#[derive(Debug)]
pub struct Storage {
    stores: Stores,
    embedded: Option<EmbeddedStorage>,
}

impl Storage {
    /// One handle per role.
    pub fn stores(&self) -> Stores {
        self.stores.clone()
    }

    /// Registers the embedded store's committer (when one is open) as a part the
    /// node cannot live without (`caliopen_core::health`).
    pub fn watch_health(&self, health: &caliopen_core::health::Health) {
        if let Some(embedded) = &self.embedded {
            health.probe("embedded store", embedded.failure_probe());
        }
    }

    /// Flushes and releases the embedded store, when one is open. The distributed
    /// backends need no closing: their connections end with the last handle.
    pub async fn close(self) -> anyhow::Result<()> {
        let Self { stores, embedded } = self;
        drop(stores);
        if let Some(embedded) = embedded {
            embedded.close().await?;
        }
        Ok(())
    }
}

/// Opens the storage of a configuration (for CLI commands and `serve`): the embedded
/// store in `data_dir` for the roles configured `embedded`, Scylla for records,
/// blobs and ephemeral values when `storage.records = "scylla"`, Elasticsearch for
/// search when `storage.search = "elasticsearch"`.
pub async fn open_storage(config: &Config) -> anyhow::Result<Storage> {
    let storage = &config.storage;
    storage.validate()?;
    if storage.records == RecordsBackend::Scylla && storage.search == SearchBackend::Embedded {
        tracing::warn!(
            "storage.records = \"scylla\" with storage.search = \"embedded\": each node's \
             local index gets only part of the shared mail; use search = \"elasticsearch\" with several nodes"
        );
    }
    let embedded = if storage.uses_embedded() {
        Some(
            EmbeddedStorage::open(&config.data_dir.join("store"), storage.embedded).with_context(
                || {
                    format!(
                        "cannot open the store in {} (is another Caliopen process using it?)",
                        config.data_dir.display()
                    )
                },
            )?,
        )
    } else {
        None
    };
    let local = embedded.as_ref().map(EmbeddedStorage::stores);
    let result = remote_stores(config, local).await;
    match result {
        Ok(stores) => Ok(Storage { stores, embedded }),
        Err(e) => {
            if let Some(embedded) = embedded
                && let Err(close) = embedded.close().await
            {
                tracing::warn!(error = %close, "cannot close the embedded store");
            }
            Err(e)
        }
    }
}

/// Connects the distributed backends the configuration selects; the other roles
/// come from `local` (the embedded store, open when some role uses it).
async fn remote_stores(config: &Config, local: Option<Stores>) -> anyhow::Result<Stores> {
    let storage = &config.storage;
    let (records, blobs, ephemeral) = match (storage.records, &storage.scylla) {
        (RecordsBackend::Scylla, Some(scylla)) => scylla::connect(scylla).await?,
        (RecordsBackend::Scylla, None) => {
            anyhow::bail!("storage.records = \"scylla\" needs a [storage.scylla] table")
        }
        (RecordsBackend::Embedded, _) => {
            let local = local.as_ref().context("the embedded store is not open")?;
            (
                local.records.clone(),
                local.blobs.clone(),
                local.ephemeral.clone(),
            )
        }
    };
    let search = match (storage.search, &storage.elasticsearch) {
        (SearchBackend::Elasticsearch, Some(elastic)) => elasticsearch::connect(elastic).await?,
        (SearchBackend::Elasticsearch, None) => {
            anyhow::bail!(
                "storage.search = \"elasticsearch\" needs a [storage.elasticsearch] table"
            )
        }
        (SearchBackend::Embedded, _) => local
            .as_ref()
            .context("the embedded store is not open")?
            .search
            .clone(),
    };
    Ok(Stores {
        records,
        blobs,
        search,
        ephemeral,
    })
}

/// Records, blobs and ephemeral values on Scylla (the `scylla` feature).
mod scylla {
    use std::sync::Arc;

    use caliopen_storage_traits::{BlobStore, EphemeralStore, RecordStore};

    use crate::config::ScyllaConfig;

    type Roles = (
        Arc<dyn RecordStore>,
        Arc<dyn BlobStore>,
        Arc<dyn EphemeralStore>,
    );

    #[cfg(feature = "scylla")]
    pub async fn connect(config: &ScyllaConfig) -> anyhow::Result<Roles> {
        use anyhow::Context as _;
        let connected = caliopen_storage_scylla::connect(config)
            .await
            .with_context(|| {
                format!(
                    "storage.records = \"scylla\": cannot use the cluster at \
                     storage.scylla.contact_points {:?} (keyspace `{}`)",
                    config.contact_points, config.keyspace
                )
            })?;
        Ok((
            connected.records(),
            connected.blobs(),
            connected.ephemeral(),
        ))
    }

    #[cfg(not(feature = "scylla"))]
    pub async fn connect(config: &ScyllaConfig) -> anyhow::Result<Roles> {
        use anyhow::Context as _;
        config.validate().context("[storage.scylla]")?;
        unreachable!("validate refuses a backend that is not built in")
    }
}

/// The search index on Elasticsearch (the `elasticsearch` feature).
mod elasticsearch {
    use std::sync::Arc;

    use caliopen_storage_traits::SearchIndex;

    use crate::config::ElasticConfig;

    #[cfg(feature = "elasticsearch")]
    pub async fn connect(config: &ElasticConfig) -> anyhow::Result<Arc<dyn SearchIndex>> {
        use anyhow::Context as _;
        caliopen_storage_elasticsearch::connect(config)
            .await
            .with_context(|| {
                format!(
                    "storage.search = \"elasticsearch\": cannot use the cluster at \
                     storage.elasticsearch.nodes {:?}",
                    config.nodes
                )
            })
    }

    #[cfg(not(feature = "elasticsearch"))]
    pub async fn connect(config: &ElasticConfig) -> anyhow::Result<Arc<dyn SearchIndex>> {
        use anyhow::Context as _;
        config.validate().context("[storage.elasticsearch]")?;
        unreachable!("validate refuses a backend that is not built in")
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// A loopback port nothing listens on (bound, then released).
    fn closed_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    fn config(dir: &Path, storage: &str) -> Config {
        let text = format!("data_dir = {:?}\n{storage}", dir.display().to_string());
        Config::parse(&text, std::iter::empty()).unwrap()
    }

    #[cfg(feature = "scylla")]
    #[tokio::test]
    async fn unreachable_scylla_names_the_config_key_and_address() {
        let dir = tempfile::tempdir().unwrap();
        let address = format!("127.0.0.1:{}", closed_port());
        let config = config(
            dir.path(),
            &format!(
                "[storage]\nrecords = \"scylla\"\n[storage.scylla]\ncontact_points = [\"{address}\"]\nconnect_timeout_secs = 2"
            ),
        );
        let err = open_storage(&config).await.unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("storage.scylla.contact_points"), "{msg}");
        assert!(msg.contains(&address), "{msg}");
        // The embedded store (search) was closed again: it opens.
        let reopened = EmbeddedStorage::open(&dir.path().join("store"), Default::default());
        reopened.unwrap().close().await.unwrap();
    }

    #[cfg(feature = "elasticsearch")]
    #[tokio::test]
    async fn unreachable_elasticsearch_names_the_config_key_and_address() {
        let dir = tempfile::tempdir().unwrap();
        let address = format!("http://127.0.0.1:{}", closed_port());
        let config = config(
            dir.path(),
            &format!(
                "[storage]\nsearch = \"elasticsearch\"\n[storage.elasticsearch]\nnodes = [\"{address}\"]\ntimeout_secs = 2"
            ),
        );
        let err = open_storage(&config).await.unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("storage.elasticsearch.nodes"), "{msg}");
        assert!(msg.contains(&address), "{msg}");
    }

    #[tokio::test]
    async fn the_default_config_opens_and_closes_the_embedded_store() {
        let dir = tempfile::tempdir().unwrap();
        let storage = open_storage(&config(dir.path(), "")).await.unwrap();
        let stores = storage.stores();
        drop(stores);
        storage.close().await.unwrap();
        // Released: it opens again.
        open_storage(&config(dir.path(), ""))
            .await
            .unwrap()
            .close()
            .await
            .unwrap();
    }
}
