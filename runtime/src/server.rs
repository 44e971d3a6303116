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

/// The admin token: configured, or read from (or generated once into) the data directory.
pub fn admin_token(config: &Config) -> anyhow::Result<String> {
    if !config.admin.token.is_empty() {
        return Ok(config.admin.token.clone());
    }
    let path = config.data_dir.join("admin.token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_owned());
    }
    let token = {
        use base64::Engine as _;
        use rand::RngCore as _;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    std::fs::create_dir_all(&config.data_dir)?;
    write_private(&path, &token).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
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

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

/// Starts a node; it runs until [`Running::shutdown`].
pub async fn start(config: Config) -> anyhow::Result<Running> {
    check_writable(&config.data_dir)?;
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

    let pipeline: Arc<dyn caliopen_core::delivery::MailProcessor> =
        Arc::new(ComponentPipeline::new(engine.clone(), slots.clone()));
    // Nodes sharing a store divide users' background work; the embedded store
    // has one process, which owns every user.
    let membership =
        (config.storage.records != RecordsBackend::Embedded).then(|| core.spawn_membership());
    let workers = core.spawn_delivery_workers(&pipeline);
    core.set_outbound_renderer(Arc::new(BrokerRenderer::new(engine.clone(), slots.clone())));
    let indexer = core.spawn_indexer();
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();

    check_descriptors(&config);
    let (http, task) = serve_http(
        config.listen.http,
        caliopen_rest::router(caliopen_rest::AppState::new(core.clone())),
        (&config.http, config.http.max_connections),
        stopped.clone(),
        "REST API",
    )
    .await?;
    tasks.push(task);
    let admin_state = AdminState {
        core: core.clone(),
        registry: registry.clone(),
        engine: engine.clone(),
        token: admin_token(&config)?.into(),
    };
    let (admin, task) = serve_http(
        config.listen.admin,
        admin::router(admin_state),
        (&config.http, config.admin.max_connections),
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

/// Binds `addr` and serves `app` there with the `[http]` bounds and a connection cap.
async fn serve_http(
    addr: SocketAddr,
    app: axum::Router,
    (settings, max_connections): (&crate::http::HttpSettings, usize),
    stopped: watch::Receiver<bool>,
    what: &'static str,
) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = crate::http::bind(addr)
        .with_context(|| format!("cannot listen for the {what} on {addr}"))?;
    let local = listener.local_addr()?;
    let settings = settings.clone();
    let task = tokio::spawn(async move {
        crate::http::serve(listener, app, &settings, max_connections, stopped, what).await;
    });
    Ok((local, task))
}

/// File descriptors kept for the store, the component cache and the spool, beyond the
/// listeners' caps.
const RESERVED_DESCRIPTORS: u64 = 256;

/// Raises the soft limit on open files to the hard one, and warns when the listeners'
/// caps could still pass it: past it, `accept` and the store's own files fail.
fn check_descriptors(config: &Config) {
    let limit = raise_open_files_limit();
    let wanted = (config.http.max_connections
        + config.admin.max_connections
        + config.lmtp.max_connections) as u64
        + RESERVED_DESCRIPTORS;
    match limit {
        Some(limit) if limit < wanted => tracing::warn!(
            limit,
            wanted,
            "the open files limit is lower than the connection caps need: lower \
             [http] max_connections, [admin] max_connections or [lmtp] max_connections, \
             or raise the limit (ulimit -n, LimitNOFILE=)"
        ),
        Some(limit) => tracing::debug!(limit, wanted, "open files limit"),
        None => tracing::warn!("cannot read the open files limit"),
    }
}

/// Raises this process's soft limit on open files to its hard limit (many systems start
/// services at 1024 with far more allowed); the soft limit after that, if it can be read.
fn raise_open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    #[allow(unsafe_code)]
    // SAFETY: getrlimit writes one rlimit through a pointer to a local that lives for
    // the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        #[allow(unsafe_code)]
        // SAFETY: setrlimit reads one rlimit through a pointer to a local that lives for
        // the call.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
    Some(limit.rlim_cur as u64)
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
