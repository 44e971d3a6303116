//! `caliopen serve`: opens the store, builds core, restores the deployed components
//! (deploying the configured ones into empty slots), starts the pipeline, the
//! indexer and the listeners, and stops them in order on shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use caliopen_core::Core;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::{self, AdminState};
use crate::config::{Config, RecordsBackend};
use crate::outbound::BrokerRenderer;
use crate::pipeline::{ComponentPipeline, Slots};
use crate::registry::Registry;
pub use crate::storage::{Storage, open_storage};
use crate::wasm::{Manifest, WasmEngine};

/// A running node.
#[derive(Debug)]
pub struct Running {
    pub core: Core,
    pub http: SocketAddr,
    pub lmtp: SocketAddr,
    pub admin: SocketAddr,
    pub registry: Arc<Registry>,
    pub engine: Arc<WasmEngine>,
    storage: Storage,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    workers: caliopen_core::delivery::DeliveryWorkers,
    indexer: JoinHandle<()>,
    membership: Option<JoinHandle<()>>,
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

/// Starts a node; it runs until [`Running::shutdown`].
pub async fn start(config: Config) -> anyhow::Result<Running> {
    check_writable(&config.data_dir)?;
    // Files written from now on are the owner's only (the `caliopen` binary sets
    // umask 077); those of an older install are made so here.
    caliopen_storage_embedded::make_private(&config.data_dir).with_context(|| {
        format!(
            "cannot make {} readable by its owner only",
            config.data_dir.display()
        )
    })?;
    // Refused before anything listens.
    let admin_token = admin::admin_token(&config)?;
    let storage = open_storage(&config).await?;
    let core = Core::new(storage.stores(), config.core.clone());
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
    bootstrap_components(&config, &core, &registry).await?;
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
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();

    let (http, task) = serve_http(
        config.listen.http,
        caliopen_rest::router(caliopen_rest::AppState::with_settings(
            core.clone(),
            config.rest.clone(),
        )),
        stopped.clone(),
        "REST API",
    )
    .await?;
    tasks.push(task);
    let admin_state = AdminState {
        core: core.clone(),
        registry: registry.clone(),
        engine: engine.clone(),
        token: admin_token.into(),
    };
    let (admin, task) = serve_http(
        config.listen.admin,
        admin::router(admin_state),
        stopped.clone(),
        "admin API",
    )
    .await?;
    tasks.push(task);

    let lmtp_listener = TcpListener::bind(config.listen.lmtp)
        .await
        .with_context(|| format!("cannot listen for LMTP on {}", config.listen.lmtp))?;
    let lmtp = lmtp_listener.local_addr()?;
    tasks.push(crate::lmtp::spawn(
        lmtp_listener,
        core.clone(),
        &config,
        stopped.clone(),
    ));

    let mut outbound_stopped = stopped.clone();
    tasks.push(
        caliopen_smtp::outbound::spawn(core.clone(), &config.outbound, async move {
            let _ = outbound_stopped.wait_for(|s| *s).await;
        })
        .context("invalid [outbound] settings")?,
    );
    if config.outbound.relay.is_empty() {
        tracing::warn!("no [outbound] relay is configured: sent mail waits in the queue");
    }

    if config.storage.records != RecordsBackend::Embedded {
        tasks.push(spawn_registry_sync(registry.clone(), stopped.clone()));
    }

    tracing::info!(%http, %lmtp, %admin, data_dir = %config.data_dir.display(), "caliopen is serving");
    Ok(Running {
        core,
        http,
        lmtp,
        admin,
        registry,
        engine,
        storage,
        stop,
        tasks,
        workers,
        indexer,
        membership,
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

/// How often a node with a shared records store looks for deployments made by others.
const REGISTRY_SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Periodically loads the component versions other nodes activated, until `stopped`.
fn spawn_registry_sync(
    registry: Arc<Registry>,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REGISTRY_SYNC_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = stopped.wait_for(|s| *s) => return,
                _ = tick.tick() => {}
            }
            match registry.sync().await {
                Ok(changed) => {
                    for slot in changed {
                        tracing::info!(%slot, "component activated by another node loaded");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot check the deployed components"),
            }
        }
    })
}

async fn serve_http(
    addr: SocketAddr,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
    what: &'static str,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for the {what} on {addr}"))?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.wait_for(|s| *s).await;
        };
        // The peer's address reaches the handlers (`ConnectInfo`): the REST API
        // throttles logins and signups by it.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "{what} server failed");
        }
    });
    Ok((local, task))
}

impl Running {
    /// Stops accepting, lets the listeners finish, stops the pipeline, closes the
    /// store. Deliveries not processed yet stay in the store for the next start.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
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
        self.storage.close().await?;
        tracing::info!("caliopen stopped");
        Ok(())
    }
}
