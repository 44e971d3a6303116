//! A node without listeners: the store, core, the deployed components, the delivery
//! workers and the indexer. `caliopen serve` puts its listeners on one
//! ([`crate::server`]); `caliopen import` runs one while the server is stopped, so
//! imported mail takes the same pipeline as delivered mail.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use caliopen_core::Core;
use caliopen_core::delivery::DeliveryWorkers;
use tokio::task::JoinHandle;

use crate::config::{Config, RecordsBackend};
use crate::outbound::BrokerRenderer;
use crate::pipeline::{ComponentPipeline, Slots};
use crate::registry::Registry;
use crate::storage::{Storage, open_storage};
use crate::wasm::{Manifest, WasmEngine};

/// The store, core and the pipeline over them, running.
#[derive(Debug)]
pub struct Node {
    pub core: Core,
    pub registry: Arc<Registry>,
    pub engine: Arc<WasmEngine>,
    pub slots: Arc<Slots>,
    storage: Storage,
    workers: DeliveryWorkers,
    indexer: JoinHandle<()>,
    membership: Option<JoinHandle<()>>,
}

impl Node {
    /// Makes sure the data directory is writable and its owner's only.
    pub fn prepare_data_dir(config: &Config) -> anyhow::Result<()> {
        check_writable(&config.data_dir)?;
        // Files written from now on are the owner's only (the `caliopen` binary sets
        // umask 077); those of an older install are made so here.
        caliopen_storage_embedded::make_private(&config.data_dir).with_context(|| {
            format!(
                "cannot make {} readable by its owner only",
                config.data_dir.display()
            )
        })
    }

    /// Opens the store, restores (or deploys) the components and starts the
    /// delivery workers and the indexer.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        Self::prepare_data_dir(config)?;
        let storage = open_storage(config).await?;
        let core = Core::new(storage.stores(), config.core.clone());
        storage.watch_health(core.health());
        // Before anything adds or drops a blob reference.
        core.prepare_blob_references()
            .await
            .context("cannot count the blob references")?;
        // Before any request or delivery reads or writes the indexes.
        core.prepare_indexes()
            .await
            .context("cannot back-fill the message and recovery indexes")?;
        let engine = Arc::new(WasmEngine::new(&config.wasm)?);
        let slots = Arc::new(Slots::default());
        let registry = Arc::new(
            Registry::new(
                core.clone(),
                engine.clone(),
                slots.clone(),
                config.data_dir.join("component-cache"),
            )
            .with_max_message_size(config.lmtp.max_message_size),
        );
        for restored in registry.restore().await? {
            tracing::info!(slot = %restored, "component restored");
        }
        bootstrap_components(config, &core, &registry).await?;
        // The component files were read and deployed on this thread: give back what
        // that held (the compilations gave back theirs, see `trim`).
        crate::trim::release_free_memory();
        warn_if_too_small(&slots, config.lmtp.max_message_size);

        // Results are named after this server (RFC 8601's authserv-id).
        let verifier = caliopen_mail_auth::Verifier::new(&config.lmtp.hostname, &config.mail_auth)
            .context("mail_auth")?;
        tracing::info!(enabled = config.mail_auth.enabled, "mail authentication");
        let pipeline: Arc<dyn caliopen_core::delivery::MailProcessor> = Arc::new(
            ComponentPipeline::new(engine.clone(), slots.clone()).with_verifier(Arc::new(verifier)),
        );
        // Nodes sharing a store divide users' background work; the embedded store
        // has one process, which owns every user.
        let membership =
            (config.storage.records != RecordsBackend::Embedded).then(|| core.spawn_membership());
        let workers = core.spawn_delivery_workers(&pipeline);
        core.set_outbound_renderer(Arc::new(BrokerRenderer::new(engine.clone(), slots.clone())));
        core.set_part_reader(Arc::new(crate::parts::ParserPartReader::new(
            engine.clone(),
            slots.clone(),
        )));
        let indexer = core.spawn_indexer();
        Ok(Self {
            core,
            registry,
            engine,
            slots,
            storage,
            workers,
            indexer,
            membership,
        })
    }

    /// Stops the pipeline and closes the store. Deliveries not processed yet stay
    /// in the store for the next start.
    pub async fn close(self) -> anyhow::Result<()> {
        self.core.health().stopping();
        self.workers.abort();
        self.indexer.abort();
        if let Some(membership) = self.membership {
            membership.abort();
            if let Err(e) = self.core.leave_cluster().await {
                tracing::warn!(error = %e, "cannot remove this node from the cluster");
            }
        }
        drop(self.core);
        drop(self.registry);
        drop(self.slots);
        self.storage.close().await
    }
}

/// Fails with a clear message when the data directory cannot be written: the store,
/// the delivery queue and the component cache live there, so nothing could be accepted.
fn check_writable(dir: &Path) -> anyhow::Result<()> {
    let probe = dir.join(".caliopen-write-check");
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&probe, b"ok"))
        .and_then(|()| std::fs::File::open(&probe)?.sync_all())
        .and_then(|()| std::fs::remove_file(&probe));
    written.map_err(|e| {
        anyhow::anyhow!(
            "the data directory {} is not writable ({e}): Caliopen keeps its store, delivery \
             queue and component cache there; make it writable (e.g. remount it read-write, \
             free space) and start again",
            dir.display()
        )
    })
}

/// Deploys the configured components whose slot has no active version yet.
async fn bootstrap_components(
    config: &Config,
    core: &Core,
    registry: &Registry,
) -> anyhow::Result<()> {
    for source in &config.components {
        let text = std::fs::read_to_string(&source.manifest)
            .with_context(|| format!("cannot read {}", source.manifest.display()))?;
        let manifest = Manifest::parse(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", source.manifest.display()))?;
        if core.slot(&manifest.slot).await?.active.is_some() {
            continue;
        }
        let wasm = std::fs::read(&source.wasm).with_context(|| {
            format!(
                "cannot read component {} for {manifest}: build the components with `cargo xtask components`",
                source.wasm.display()
            )
        })?;
        let report = registry.deploy(&text, wasm, false).await?;
        tracing::info!(component = %report.component, slot = %report.slot, load_ms = report.load_ms, "configured component deployed");
    }
    Ok(())
}

/// Warns about an active parser or broker whose limits are too small for the
/// largest mail the listener acknowledges (see [`Manifest::too_small_for`]).
fn warn_if_too_small(slots: &Slots, max_message_size: usize) {
    let chain = slots.snapshot();
    for component in [&chain.parser, &chain.broker].into_iter().flatten() {
        if let Some(problem) = component.manifest.too_small_for(max_message_size) {
            tracing::warn!(slot = %component.manifest.slot, "{problem}");
        }
    }
}
