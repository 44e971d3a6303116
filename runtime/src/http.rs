//! The HTTP listeners (the REST API and the admin API): axum routers served by hyper, with
//! the bounds `axum::serve` does not have, set in `[http]` and `[admin]`:
//!
//! - a connection cap per listener. A place is taken before `accept`, so over the cap new
//!   connections wait in the kernel's listen backlog ([`bind`] makes it
//!   [`LISTEN_BACKLOG`] long) without a file descriptor, and are served in turn as places
//!   free up: a flood cannot take the descriptors LMTP and the store need.
//! - `header_read_timeout`: from the first byte of a request to the end of its header block
//!   (slowloris); enforced by [`Guarded`], around the socket.
//! - `idle_timeout`: a connection waiting for its first or next request (hyper's header
//!   timer, which starts as soon as a connection waits), and a response the client does not
//!   read (a write that makes no progress).
//!
//! Every request carries its client's address as axum's `ConnectInfo<SocketAddr>`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt as _;

/// Connections the kernel keeps waiting for a place (std and tokio listen with 128).
pub const LISTEN_BACKLOG: u32 = 1024;

/// Pause after a failed `accept` (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// On shutdown, how long requests in progress may take to finish.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// `[http]`: the bounds of both HTTP listeners (the REST API's connection cap too; the
/// admin API's is `[admin] max_connections`). Durations are whole seconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Seconds a client has to send a request's header block, from its first byte.
    pub header_read_timeout: u64,
    /// Seconds a connection may wait for its first or next request, and a response may wait
    /// for the client to read it.
    pub idle_timeout: u64,
    /// Most REST API connections served at once; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: 15,
            idle_timeout: 60,
            max_connections: 512,
        }
    }
}

impl HttpSettings {
    /// Refuses zero timeouts and caps.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.header_read_timeout == 0 || self.idle_timeout == 0 || self.max_connections == 0 {
            anyhow::bail!(
                "[http] header_read_timeout, idle_timeout and max_connections must be > 0"
            );
        }
        Ok(())
    }
}

/// A listener on `addr` whose backlog holds [`LISTEN_BACKLOG`] waiting connections.
pub fn bind(addr: std::net::SocketAddr) -> io::Result<TcpListener> {
    let socket = match addr {
        std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` with at most `max_connections` connections at once, until
/// `stopped` turns true; then lets requests in progress finish (bounded) and returns.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    settings: &HttpSettings,
    max_connections: usize,
    mut stopped: watch::Receiver<bool>,
    what: &'static str,
) {
    let slots = Arc::new(Semaphore::new(max_connections));
    let header_timeout = Duration::from_secs(settings.header_read_timeout);
    let idle_timeout = Duration::from_secs(settings.idle_timeout);
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new());
    builder.header_read_timeout(idle_timeout);
    let graceful = GracefulShutdown::new();
    let mut full = false;
    loop {
        if slots.available_permits() == 0 && !full {
            tracing::warn!(
                max_connections,
                "{what}: connection cap reached, new ones wait"
            );
        }
        full = slots.available_permits() == 0;
        let permit = tokio::select! {
            biased;
            () = stopping(&mut stopped) => break,
            permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (tcp, peer) = tokio::select! {
            biased;
            () = stopping(&mut stopped) => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "{what}: accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let phase = Arc::new(Phase::default());
        let io = TokioIo::new(Guarded::new(
            tcp,
            Arc::clone(&phase),
            header_timeout,
            idle_timeout,
        ));
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = Busy::enter(&phase);
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await;
                drop(busy);
                response
            }
        });
        let connection = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "{what}: connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("{what}: requests still running after the shutdown timeout, dropped");
    }
}

/// Resolves once `stopped` turns true (or its sender is gone).
async fn stopping(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

/// Where a connection is in its request cycle, shared by its socket and its service.
#[derive(Debug, Default)]
struct Phase(AtomicU8);

/// Waiting for a request: hyper's own timer bounds the wait.
const WAITING: u8 = 0;
/// The first bytes of a request came: its header block must follow in time.
const HEADING: u8 = 1;
/// The request reached the router.
const BUSY: u8 = 2;

/// The router is handling a request; back to waiting when dropped.
struct Busy(Arc<Phase>);

impl Busy {
    fn enter(phase: &Arc<Phase>) -> Self {
        phase.0.store(BUSY, Ordering::Release);
        Self(Arc::clone(phase))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.0.store(WAITING, Ordering::Release);
    }
}

/// A socket that fails (TimedOut) when a request's header block is too slow or a write
/// makes no progress for too long.
struct Guarded<IO> {
    io: IO,
    phase: Arc<Phase>,
    header_timeout: Duration,
    write_timeout: Duration,
    /// When the request being read sent its first byte.
    heading_since: Option<Instant>,
    header_timer: Option<Pin<Box<Sleep>>>,
    /// When the write in progress started waiting.
    blocked_since: Option<Instant>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<IO> Guarded<IO> {
    fn new(io: IO, phase: Arc<Phase>, header_timeout: Duration, write_timeout: Duration) -> Self {
        Self {
            io,
            phase,
            header_timeout,
            write_timeout,
            heading_since: None,
            header_timer: None,
            blocked_since: None,
            write_timer: None,
        }
    }

    /// Follows a read: the first bytes of a request start its header clock, which stops when
    /// the request reaches the router.
    fn after_read(
        &mut self,
        cx: &mut Context<'_>,
        got_bytes: bool,
        pending: bool,
    ) -> io::Result<()> {
        if got_bytes
            && self
                .phase
                .0
                .compare_exchange(WAITING, HEADING, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.heading_since = Some(Instant::now());
        }
        if self.phase.0.load(Ordering::Acquire) != HEADING {
            self.heading_since = None;
            return Ok(());
        }
        let Some(since) = self.heading_since else {
            return Ok(());
        };
        expire(
            cx,
            &mut self.header_timer,
            since + self.header_timeout,
            pending,
            "request header not received in time",
        )
    }

    /// Follows a write (or flush): one that waits too long on the client fails.
    fn after_write(&mut self, cx: &mut Context<'_>, pending: bool) -> io::Result<()> {
        if !pending {
            self.blocked_since = None;
            return Ok(());
        }
        let since = *self.blocked_since.get_or_insert_with(Instant::now);
        expire(
            cx,
            &mut self.write_timer,
            since + self.write_timeout,
            true,
            "the client does not read the response",
        )
    }
}

/// Fails once `deadline` has passed; while the operation waits, arms `timer` so that the
/// task is woken at the deadline.
fn expire(
    cx: &mut Context<'_>,
    timer: &mut Option<Pin<Box<Sleep>>>,
    deadline: Instant,
    pending: bool,
    what: &str,
) -> io::Result<()> {
    if Instant::now() >= deadline {
        return Err(io::Error::new(io::ErrorKind::TimedOut, what.to_owned()));
    }
    if pending {
        let sleep = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.deadline() != deadline {
            sleep.as_mut().reset(deadline);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, what.to_owned()));
        }
    }
    Ok(())
}

impl<IO: AsyncRead + Unpin> AsyncRead for Guarded<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        let got_bytes = buf.filled().len() > before;
        if let Err(error) = self.after_read(cx, got_bytes, polled.is_pending()) {
            return Poll::Ready(Err(error));
        }
        polled
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Guarded<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        match self.after_write(cx, polled.is_pending()) {
            Err(error) => Poll::Ready(Err(error)),
            Ok(()) => polled,
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        match self.after_write(cx, polled.is_pending()) {
            Err(error) => Poll::Ready(Err(error)),
            Ok(()) => polled,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        match self.after_write(cx, polled.is_pending()) {
            Err(error) => Poll::Ready(Err(error)),
            Ok(()) => polled,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
