//! `caliopen serve`: opens the store, builds core, restores the deployed components
//! (deploying the configured ones into empty slots), starts the pipeline, the
//! indexer and the listeners, and stops them in order on shutdown.
//!
//! It also watches the parts the node cannot live without (`caliopen_core::health`:
//! the embedded store's committer, the delivery dispatcher and workers, the
//! indexer, the cluster heartbeat, and here the listeners and the outbound sender).
//! Once one has stopped, `GET /health` says so, and after [`EXIT_GRACE`] the node
//! shuts down and [`Running::run_until`] answers an error, so the process exits
//! non-zero and its supervisor restarts it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use caliopen_core::Core;
use caliopen_core::health::{Health, HealthReport};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::{self, AdminState};
use crate::config::{Config, RecordsBackend};
use crate::node::Node;
use crate::registry::Registry;
pub use crate::storage::{Storage, open_storage};
use crate::wasm::WasmEngine;

/// A running node.
#[derive(Debug)]
pub struct Running {
    pub core: Core,
    pub http: SocketAddr,
    pub lmtp: SocketAddr,
    pub admin: SocketAddr,
    pub registry: Arc<Registry>,
    pub engine: Arc<WasmEngine>,
    node: Node,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts a node; it runs until [`Running::shutdown`].
pub async fn start(config: Config) -> anyhow::Result<Running> {
    Node::prepare_data_dir(&config)?;
    // Refused before anything listens.
    let admin_token = admin::admin_token(&config)?;
    let node = Node::open(&config).await?;
    let (core, registry, engine) = (
        node.core.clone(),
        node.registry.clone(),
        node.engine.clone(),
    );
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();

    check_descriptors(&config);
    let (http, task) = serve_http(
        config.listen.http,
        caliopen_rest::router(caliopen_rest::AppState::with_settings(
            core.clone(),
            config.rest.clone(),
        )),
        (&config.http, config.http.max_connections),
        stopped.clone(),
        "REST API",
    )
    .await?;
    tasks.push(critical(core.health(), "REST listener", task));
    let admin_state = AdminState {
        core: core.clone(),
        registry: registry.clone(),
        engine: engine.clone(),
        token: admin_token.into(),
        max_message_size: config.lmtp.max_message_size,
    };
    let (admin, task) = serve_http(
        config.listen.admin,
        admin::router(admin_state),
        (&config.http, config.admin.max_connections),
        stopped.clone(),
        "admin API",
    )
    .await?;
    tasks.push(critical(core.health(), "admin listener", task));

    let lmtp_listener = TcpListener::bind(config.listen.lmtp)
        .await
        .with_context(|| format!("cannot listen for LMTP on {}", config.listen.lmtp))?;
    let lmtp = lmtp_listener.local_addr()?;
    let lmtp_task = crate::lmtp::spawn(lmtp_listener, core.clone(), &config, stopped.clone());
    tasks.push(critical(core.health(), "LMTP listener", lmtp_task));

    let mut outbound_stopped = stopped.clone();
    let outbound = caliopen_smtp::outbound::spawn(core.clone(), &config.outbound, async move {
        let _ = outbound_stopped.wait_for(|s| *s).await;
    })
    .context("invalid [outbound] settings")?;
    tasks.push(critical(core.health(), "outbound sender", outbound));
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
        node,
        stop,
        tasks,
    })
}

/// How often [`Running::failed`] reads the node's health.
const HEALTH_EVERY: Duration = Duration::from_millis(250);

/// How long a node whose critical part stopped keeps answering (`/health` saying
/// unhealthy) before it shuts down: long enough for a health check to see why.
pub const EXIT_GRACE: Duration = Duration::from_secs(2);

/// The longest a failed node waits for its orderly shutdown before it exits anyway.
const FAILED_SHUTDOWN_LIMIT: Duration = Duration::from_secs(20);

/// Awaits `task` in a task of its own, marking `component` failed when it ends while
/// the node is not stopping. Awaiting the answer awaits `task`.
fn critical(health: &Arc<Health>, component: &'static str, task: JoinHandle<()>) -> JoinHandle<()> {
    let health = Arc::clone(health);
    tokio::spawn(async move {
        let outcome = task.await;
        if !health.is_stopping() {
            let reason = match outcome {
                Ok(()) => "its task stopped".to_owned(),
                Err(e) => format!("its task failed: {e}"),
            };
            health.fail(component, &reason);
        }
    })
}

/// The failed parts of a report, for a log line or an error.
fn describe(report: &HealthReport) -> String {
    report
        .unhealthy
        .iter()
        .map(|u| format!("{}: {}", u.component, u.reason))
        .collect::<Vec<_>>()
        .join("; ")
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
    /// Serves until `stop` completes (then shuts down in order), or until a part
    /// the node cannot live without stops: then, after [`EXIT_GRACE`], it shuts
    /// down and answers an error naming the part, for the process to exit
    /// non-zero and its supervisor to restart it.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> anyhow::Result<()> {
        let failed = tokio::select! {
            () = stop => None,
            report = self.failed() => Some(report),
        };
        let Some(report) = failed else {
            return self.shutdown().await;
        };
        let what = describe(&report);
        tracing::error!(
            unhealthy = %what,
            grace_secs = EXIT_GRACE.as_secs(),
            "a part this node cannot live without stopped: exiting so that the supervisor restarts it"
        );
        tokio::time::sleep(EXIT_GRACE).await;
        match tokio::time::timeout(FAILED_SHUTDOWN_LIMIT, self.shutdown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the shutdown of a failed node did not finish cleanly");
            }
            Err(_) => tracing::warn!("the shutdown of a failed node took too long"),
        }
        Err(anyhow::anyhow!(
            "a part this node cannot live without stopped ({what}); exiting for the supervisor to restart the node"
        ))
    }

    /// Completes once a critical part of the node has stopped, with the report.
    pub async fn failed(&self) -> HealthReport {
        loop {
            let report = self.core.health().report();
            if !report.is_healthy() {
                return report;
            }
            tokio::time::sleep(HEALTH_EVERY).await;
        }
    }

    /// Stops accepting, lets the listeners finish, stops the pipeline, closes the
    /// store. Deliveries not processed yet stay in the store for the next start.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        // Parts stopping from now on are not failures.
        self.core.health().stopping();
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        drop(self.core);
        drop(self.registry);
        self.node.close().await?;
        tracing::info!("caliopen stopped");
        Ok(())
    }
}
