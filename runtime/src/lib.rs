//! The Caliopen process.
//!
//! - [`wasm`]: the component engine: Wasmtime configuration, generated bindings,
//!   component manifests, loading, limits, invocation and typed errors.
//! - [`host`]: the WIT host interfaces, one file each, implemented over core's
//!   [`caliopen_core::context::UserContext`].
//! - [`pipeline`]: core's `MailProcessor` port, implemented by running the parser,
//!   broker and qualifier chain.
//! - [`authenticate`]: DKIM, SPF and DMARC at delivery, their results given to
//!   the chain as the first `Authentication-Results` header.
//! - [`parts`]: core's attachment reader port, implemented by the parser's
//!   `read-part` export.
//! - [`outbound`]: core's outbound renderer port, implemented by the broker's
//!   `outbound` export.
//! - [`convert`]: WIT types to core types and back; generated types stop there.
//! - [`cli`]: the `caliopen` command line (local, or through the admin API).
//! - [`import`]: reading mailbox exports (mbox, maildir, `.eml` folders) for `caliopen import`.
//! - [`config`]: the TOML configuration with `CALIOPEN_*` overrides.
//! - [`registry`]: deployments: deploy, activate, rollback, shadow, restore at start.
//! - [`admin`]: the admin HTTP API and `/metrics`.
//! - [`storage`]: the configured backends per storage role, opened and closed.
//! - [`node`]: a node without listeners: storage, core, components, delivery workers
//!   and indexer (what `serve` listens over, and what `import` runs on a stopped server).
//! - [`server`]: `caliopen serve`: a [`node`] with the LMTP and HTTP listeners.
//! - [`http`]: the HTTP listeners' accept loop: connection caps, header and idle timeouts.
//! - [`lmtp`]: the LMTP listener, `caliopen-smtp`'s inbound server with its spool in the
//!   data directory.
//! - [`trim`]: the allocator's settings, and handing the memory freed after a
//!   compilation back to the system.

pub mod admin;
pub mod authenticate;
#[allow(clippy::print_stdout)] // a command line answers on stdout
pub mod cli;
pub mod config;
pub mod convert;
pub mod host;
pub mod http;
pub mod import;
pub mod lmtp;
pub mod node;
pub mod outbound;
pub mod parts;
pub mod pipeline;
pub mod registry;
pub mod server;
pub mod storage;
pub mod trim;
pub mod wasm;
