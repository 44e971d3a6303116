//! One connection: the socket loop around a `caliopen_smtp_proto::Session`.
//!
//! The loop only moves bytes and waits: it pushes what it read into the session, acts on the
//! session's events (core lookups through [`Mailroom`], TLS upgrade, close), and flushes the
//! queued replies each time it needs more input, so pipelined replies leave together. Every
//! protocol decision is the session's.
//!
//! Waiting is bounded by the connection's deadlines (`inbound/deadline.rs`: a whole command
//! line, a message between idle periods, each DATA read, a whole transaction), a write or TLS
//! handshake by `command_timeout`; a deadline that passes is answered 421 4.4.2 and the
//! connection closes. Message bytes go to the connection's spool (`inbound/spool.rs`) as the
//! session hands them over. When the server shuts down, a session waiting for a command is
//! answered 421 4.3.2 at once, while one inside DATA keeps reading until its message is
//! stored and answered (the server bounds that wait).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use caliopen_smtp_proto::{Event, Reply, Session, UsageError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::{Instant, timeout, timeout_at};
use tracing::Instrument;

use super::Shared;
use super::deadline::{Deadlines, Expired};
use super::delivery::Mailroom;
use super::peers::ClientSlot;
use super::spool::Spool;

/// Bytes read from the socket at once.
const READ_BUFFER: usize = 16 << 10;

/// Longest wait for a clean close (TLS close_notify, FIN) once the session is over.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a connection ended early. Logged, never returned to the server.
#[derive(Debug, thiserror::Error)]
enum ConnectionError {
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
    #[error("the client did not read our replies in time")]
    WriteTimeout,
    #[error("TLS handshake failed: {0}")]
    Handshake(io::Error),
    #[error("TLS handshake timed out")]
    HandshakeTimeout,
    /// A bug: the session took no input although it had no event pending.
    #[error("the session takes no more input")]
    Stalled,
    /// A bug in this loop: it answered the session out of turn.
    #[error("session protocol misuse: {0}")]
    Usage(#[from] UsageError),
}

/// How [`Connection::drive`] stopped.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    /// The session is over or the client left: close the socket.
    Closed,
    /// The client asked for STARTTLS and the 220 is flushed: upgrade, then drive again.
    StartTls,
}

/// What waiting for input gave.
enum Input {
    Bytes(usize),
    Eof,
    TimedOut(Expired),
    ShuttingDown,
}

/// The places an accepted connection holds until it ends (given back when dropped).
pub(super) struct Slots {
    pub(super) _server: OwnedSemaphorePermit,
    pub(super) _client: ClientSlot,
}

/// Serves one accepted connection until it ends; `_slots` holds its places.
pub(super) async fn run(
    tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
    _slots: Slots,
) {
    let span = tracing::info_span!(
        "connection",
        %peer,
        mode = ?shared.settings.mode,
        tls = false,
    );
    async move {
        tracing::debug!("connection opened");
        let connection = Connection::new(&shared, shutdown, peer);
        match connection.serve(tcp, &shared).await {
            Ok(()) => tracing::debug!("connection closed"),
            Err(error) => tracing::info!(%error, "connection ended"),
        }
    }
    .instrument(span)
    .await;
}

struct Connection {
    session: Session,
    mailroom: Mailroom,
    shutdown: watch::Receiver<bool>,
    command_timeout: Duration,
    deadlines: Deadlines,
    /// The message being received.
    spool: Spool,
    /// Read bytes; `start..end` are not yet taken by the session.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Replies not yet written.
    out: Vec<u8>,
}

impl Connection {
    fn new(shared: &Shared, shutdown: watch::Receiver<bool>, peer: SocketAddr) -> Self {
        let settings = &shared.settings;
        let session = Session::new(settings.session_config(shared.tls.is_some()));
        let mailroom = Mailroom::new(
            shared.core.clone(),
            settings.mode.into(),
            settings.max_recipients,
        )
        .with_peer(peer.ip());
        Self {
            session,
            mailroom,
            shutdown,
            command_timeout: settings.command_timeout,
            deadlines: Deadlines::new(settings, Instant::now()),
            spool: Spool::new(Arc::clone(&shared.spool)),
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            out: Vec::new(),
        }
    }

    /// Greets, runs the session in clear, and again over TLS after STARTTLS.
    async fn serve(mut self, mut tcp: TcpStream, shared: &Shared) -> Result<(), ConnectionError> {
        self.session.greeting().write_to(&mut self.out);
        let ended = self.drive(&mut tcp).await?;
        let Some(acceptor) = shared.tls.as_ref().filter(|_| ended == Ended::StartTls) else {
            close(&mut tcp).await;
            return Ok(());
        };
        let mut tls = timeout(self.command_timeout, acceptor.accept(tcp))
            .await
            .map_err(|_| ConnectionError::HandshakeTimeout)?
            .map_err(ConnectionError::Handshake)?;
        tracing::Span::current().record("tls", true);
        tracing::debug!("TLS started");
        self.session.tls_started()?;
        // The session refuses a second STARTTLS, so this ends with `Closed`.
        self.drive(&mut tls).await?;
        close(&mut tls).await;
        Ok(())
    }

    /// Runs the session over `stream` until it closes, the client leaves, or STARTTLS.
    async fn drive<S>(&mut self, stream: &mut S) -> Result<Ended, ConnectionError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        loop {
            while let Some(event) = self.session.next_event() {
                self.deadlines.progress(Instant::now());
                match event {
                    Event::Reply(reply) => reply.write_to(&mut self.out),
                    Event::Recipient { address, .. } => {
                        let reply = self.mailroom.recipient(&address).await;
                        self.session.answer_recipient(reply)?;
                    }
                    Event::Data(bytes) => self.spool.write(&bytes).await,
                    Event::DataDropped => self.spool.discard(),
                    Event::Message(envelope) => {
                        let mail = self.spool.finish().await;
                        let replies = self.mailroom.message(envelope, mail).await;
                        self.session.answer_message(replies)?;
                    }
                    Event::StartTls => {
                        self.flush(stream).await?;
                        // Bytes pipelined after STARTTLS must not be read as commands over
                        // TLS (RFC 3207 §4.2).
                        self.start = self.end;
                        return Ok(Ended::StartTls);
                    }
                    Event::Close => {
                        self.flush(stream).await?;
                        return Ok(Ended::Closed);
                    }
                }
            }
            let (in_transaction, in_data) = (self.session.in_transaction(), self.session.in_data());
            self.deadlines
                .follow(in_transaction, in_data, Instant::now());
            if self.start < self.end {
                // After draining the events the session always takes at least one byte.
                let taken = self.session.push_input(&self.buf[self.start..self.end]);
                if taken == 0 {
                    return Err(ConnectionError::Stalled);
                }
                self.start += taken;
                continue;
            }
            self.flush(stream).await?;
            match self.wait_for_input(stream).await? {
                Input::Bytes(n) => (self.start, self.end) = (0, n),
                Input::Eof => {
                    if self.session.in_data() {
                        tracing::info!("client left during DATA, message discarded");
                    } else {
                        tracing::debug!("client left");
                    }
                    return Ok(Ended::Closed);
                }
                Input::TimedOut(expired) => {
                    tracing::info!(?expired, "client too slow, closing");
                    let hostname = &self.session.config().hostname;
                    Reply::timeout(hostname).write_to(&mut self.out);
                    self.flush(stream).await?;
                    return Ok(Ended::Closed);
                }
                Input::ShuttingDown => {
                    let hostname = &self.session.config().hostname;
                    Reply::shutting_down(hostname, "Service shutting down, try again later")
                        .write_to(&mut self.out);
                    self.flush(stream).await?;
                    return Ok(Ended::Closed);
                }
            }
        }
    }

    /// Reads more input, unless a deadline passes or (outside DATA) the server stops.
    async fn wait_for_input<S>(&mut self, stream: &mut S) -> Result<Input, ConnectionError>
    where
        S: AsyncRead + Unpin,
    {
        let in_data = self.session.in_data();
        let (deadline, expired) = self.deadlines.next(Instant::now());
        let shutdown = &mut self.shutdown;
        let buf = &mut self.buf;
        tokio::select! {
            biased;
            () = shutting_down(shutdown), if !in_data => Ok(Input::ShuttingDown),
            read = timeout_at(deadline, stream.read(buf)) => match read {
                Err(_) => Ok(Input::TimedOut(expired)),
                Ok(Ok(0)) => Ok(Input::Eof),
                Ok(Ok(n)) => Ok(Input::Bytes(n)),
                Ok(Err(error)) => Err(error.into()),
            },
        }
    }

    /// Writes the queued replies.
    async fn flush<S>(&mut self, stream: &mut S) -> Result<(), ConnectionError>
    where
        S: AsyncWrite + Unpin,
    {
        if self.out.is_empty() {
            return Ok(());
        }
        let write = async {
            stream.write_all(&self.out).await?;
            stream.flush().await
        };
        timeout(self.command_timeout, write)
            .await
            .map_err(|_| ConnectionError::WriteTimeout)??;
        self.out.clear();
        Ok(())
    }
}

/// Ends the stream cleanly (TLS close_notify, then FIN), without waiting long.
async fn close<S: AsyncWrite + Unpin>(stream: &mut S) {
    let _ = timeout(CLOSE_TIMEOUT, stream.shutdown()).await;
}

/// Resolves once the server asked to stop; never if the server is gone without asking.
async fn shutting_down(shutdown: &mut watch::Receiver<bool>) {
    if shutdown.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}
