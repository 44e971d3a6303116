//! Caliopen's mail protocol servers, over `caliopen-core`: the inbound LMTP server (RFC 2033)
//! an MTA hands mail to, optionally speaking SMTP instead. Protocol decisions are taken by
//! the sans-I/O session of `caliopen-smtp-proto`; this crate owns the sockets, timeouts, TLS
//! and the calls to core, and never touches storage directly.
//!
//! Module map:
//! - [`inbound`]: [`serve`] / [`InboundServer`], the accept loop, connection caps (in all
//!   and per client) and graceful shutdown; `inbound/connection.rs` is the per-connection
//!   socket loop (STARTTLS), `inbound/deadline.rs` its deadlines, `inbound/spool.rs` where a
//!   message waits while it arrives (memory, then a spool file) and the bytes-in-flight cap,
//!   and `inbound/delivery.rs` the calls to core and the replies they give.
//! - [`outbound`]: the outbound SMTP client: the worker that hands core's outbound queue to
//!   the configured relay ([`outbound::OutboundSettings`]) and reports what it said.
//! - [`settings`]: [`InboundSettings`], the operator's knobs (serde, with loopback defaults).
//! - [`error`]: [`InboundError`], why the server could not start.
//! - `tls` (private): the rustls configuration for STARTTLS, loaded from PEM files.
//!
//! ```no_run
//! # async fn run(core: caliopen_core::Core) -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:2424").await?;
//! let settings = caliopen_smtp::InboundSettings::default(); // LMTP, no TLS
//! caliopen_smtp::serve(listener, core, settings, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await?;
//! # Ok(())
//! # }
//! ```

pub mod error;
pub mod inbound;
pub mod outbound;
pub mod settings;
mod tls;

pub use error::InboundError;
pub use inbound::{InboundServer, serve};
pub use settings::{InboundMode, InboundSettings};
