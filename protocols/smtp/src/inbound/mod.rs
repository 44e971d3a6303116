//! The inbound server: LMTP (RFC 2033), or SMTP for a setup without an MTA in front, on the
//! same session code.
//!
//! - this file: [`InboundServer`] and [`serve`], the accept loop, the connection caps and
//!   graceful shutdown;
//! - `connection`: the socket loop of one connection (STARTTLS, the spool, the deadlines);
//! - `deadline`: the deadlines that keep slow clients from holding a connection;
//! - `peers`: the per-client connection cap;
//! - `spool`: where a message waits while it arrives, and the bytes-in-flight cap;
//! - `delivery`: the calls to core (recipient lookup, durable acceptance) and the replies
//!   they give.
//!
//! A 250 after DATA means core has the message durably; a storage failure is a 451 so the
//! MTA retries. The raw message is stored as received (dot-unstuffed), with no header added.

mod connection;
mod deadline;
mod delivery;
mod peers;
mod spool;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use caliopen_core::Core;
use caliopen_smtp_proto::Reply;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinError, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::error::InboundError;
use crate::settings::InboundSettings;
use crate::tls::load_acceptor;
use connection::Slots;
use peers::Clients;
use spool::SpoolLimits;

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves LMTP or SMTP on `listener` until `shutdown` resolves, then stops gracefully (see
/// [`InboundServer::serve`]). Fails only at start-up, on invalid settings or TLS files.
pub async fn serve(
    listener: TcpListener,
    core: Core,
    settings: InboundSettings,
    shutdown: impl Future<Output = ()>,
) -> Result<(), InboundError> {
    InboundServer::new(core, settings)?
        .serve(listener, shutdown)
        .await;
    Ok(())
}

/// A configured inbound server, ready to serve a listener.
#[derive(Debug)]
pub struct InboundServer {
    shared: Arc<Shared>,
}

/// What every connection of a server shares.
struct Shared {
    core: Core,
    settings: InboundSettings,
    /// Set when TLS files are configured: STARTTLS is then offered.
    tls: Option<TlsAcceptor>,
    spool: Arc<SpoolLimits>,
    clients: Arc<Clients>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("core", &self.core)
            .field("settings", &self.settings)
            .field("tls", &self.tls.is_some())
            .field("spool", &self.spool)
            .finish_non_exhaustive()
    }
}

impl InboundServer {
    /// Checks the settings, makes the spool folder and loads the TLS certificate and key
    /// when both are set. A TLS file that does not load is an error rather than a silent
    /// fallback to clear text.
    pub fn new(core: Core, settings: InboundSettings) -> Result<Self, InboundError> {
        settings.validate()?;
        let tls = match (&settings.tls_cert, &settings.tls_key) {
            (Some(cert), Some(key)) => Some(load_acceptor(cert, key)?),
            _ => None,
        };
        let dir = settings
            .spool_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let spool = SpoolLimits::new(&settings, dir.clone())
            .map_err(|source| InboundError::Spool { path: dir, source })?;
        let clients = Clients::new(settings.max_connections_per_ip);
        Ok(Self {
            shared: Arc::new(Shared {
                core,
                settings,
                tls,
                spool: Arc::new(spool),
                clients,
            }),
        })
    }

    /// Whether STARTTLS is offered.
    pub fn tls_enabled(&self) -> bool {
        self.shared.tls.is_some()
    }

    /// Accepts connections until `shutdown` resolves, serving at most `max_connections` at
    /// once and `max_connections_per_ip` from one client (the others are answered 421 and
    /// closed).
    ///
    /// On shutdown the listener is closed at once; sessions waiting for a command are
    /// answered 421, sessions inside DATA finish their message (stored and answered) and are
    /// then answered 421. Sessions still busy after `shutdown_timeout` are dropped without a
    /// reply: nothing of their message was acknowledged, so the MTA retries. Returns when
    /// every session has ended.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let settings = &self.shared.settings;
        let (stop, stopped) = watch::channel(false);
        let slots = Arc::new(Semaphore::new(settings.max_connections));
        let mut sessions = JoinSet::new();
        tracing::info!(
            addr = ?listener.local_addr().ok(),
            mode = ?settings.mode,
            tls = self.tls_enabled(),
            "inbound server listening"
        );
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(joined) = sessions.join_next(), if !sessions.is_empty() => log_end(joined),
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let Some(slots) = self.admit(&slots, &tcp, peer) else {
                            continue;
                        };
                        let _ = tcp.set_nodelay(true);
                        let shared = Arc::clone(&self.shared);
                        sessions.spawn(connection::run(tcp, peer, shared, stopped.clone(), slots));
                    }
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                },
            }
        }
        drop(listener);
        let _ = stop.send(true);
        tracing::info!(sessions = sessions.len(), "inbound server stopping");
        let drain = async {
            while let Some(joined) = sessions.join_next().await {
                log_end(joined);
            }
        };
        if tokio::time::timeout(settings.shutdown_timeout, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                sessions = sessions.len(),
                "sessions still busy after the shutdown timeout, dropping them"
            );
            sessions.shutdown().await;
        }
        tracing::info!("inbound server stopped");
    }

    /// A place for a new connection under both caps, or a 421 for it.
    fn admit(&self, slots: &Arc<Semaphore>, tcp: &TcpStream, peer: SocketAddr) -> Option<Slots> {
        let settings = &self.shared.settings;
        let Ok(server) = Arc::clone(slots).try_acquire_owned() else {
            tracing::warn!(
                max_connections = settings.max_connections,
                "too many connections, refusing one"
            );
            self.refuse(tcp, "Too many connections, try again later");
            return None;
        };
        let Some(client) = self.shared.clients.admit(peer.ip()) else {
            tracing::warn!(
                %peer,
                max_connections_per_ip = settings.max_connections_per_ip,
                "too many connections from one client, refusing one"
            );
            self.refuse(
                tcp,
                "Too many connections from your address, try again later",
            );
            return None;
        };
        Some(Slots {
            _server: server,
            _client: client,
        })
    }

    /// Answers a connection over a cap with 421 without waiting on the client.
    fn refuse(&self, tcp: &TcpStream, text: &str) {
        let reply = Reply::new(
            421,
            caliopen_smtp_proto::EnhancedCode(4, 7, 0),
            format!("{} {text}", self.shared.settings.hostname),
        );
        // A fresh socket's send buffer takes a short reply; if not, the client gets a close.
        let _ = tcp.try_write(&reply.to_bytes());
    }
}

/// Logs a session task that did not end normally (a panic is a bug).
fn log_end(joined: Result<(), JoinError>) {
    if let Err(error) = joined
        && error.is_panic()
    {
        tracing::error!(%error, "a session panicked");
    }
}
