//! Caliopen core: the domain model and the services every protocol server uses.
//! Protocol servers (REST, LMTP, SMTP) and the component runtime reach data only
//! through [`Core`]; core reaches storage only through the role traits of
//! `caliopen-storage-traits`, and knows nothing of Wasmtime or any database driver.
//!
//! - [`model`]: users, identities, contacts, messages, discussions, tags, devices,
//!   notifications, seen participants, the privacy index.
//! - [`service`]: the operations on them, one module per resource (`users`,
//!   `account`, `auth`, `devices`, `contacts`, `messages`, `drafts`, `attachments`,
//!   `discussions`, `tags`, `tagging`, `search`, `participants`, `notifications`,
//!   ...), all as methods of [`Core`]; PATCH operations share [`service::patch`]
//!   (RFC 7396 with the API's `current_state` check).
//! - [`delivery`]: the inbound pipeline: durable acceptance before any protocol
//!   acknowledges, then asynchronous, idempotent processing through the
//!   [`delivery::MailProcessor`] port (implemented by the runtime with components),
//!   retries with backoff, quarantine and replay.
//! - [`outbound`]: sending drafts: rendering through the [`outbound::OutboundRenderer`]
//!   port, the durable outbound queue and what the relay answered.
//! - [`index`]: the search outbox, the indexer that drains it, and reindexing.
//! - [`indexes`]: secondary indexes of records (messages by date, users by
//!   recovery address), kept in step with them and back-filled at start.
//! - [`blob_refs`]: reference counts of blobs, so that deleting mail (or an
//!   account) deletes the bytes nothing else points at.
//! - [`health`]: whether the tasks and threads a node cannot live without still
//!   run (the runtime serves it at `GET /health` and exits when one stopped).
//! - [`cluster`]: which node of a cluster does a user's background work
//!   (deliveries, outbound mail, search updates).
//! - [`context`]: [`context::UserContext`], the one-user view components get.
//! - [`openpgp`]: a bounded reader of OpenPGP public keys (fingerprint, size,
//!   user ids, armor) for contacts' keys.
//! - [`tables`], [`codec`]: how records are laid out and encoded; [`limits`]: how
//!   long each part of a key may be, and the digest keys of mail header values.
//! - [`error`]: [`CoreError`], typed so callers can tell bad input from failure.
//! - [`inline_reads`]: lets a request's reads run on its own worker (protocol
//!   servers wrap short requests in it).

pub mod blob_refs;
pub mod cluster;
pub mod codec;
pub mod config;
pub mod context;
pub mod delivery;
pub mod error;
pub mod health;
pub mod index;
pub mod indexes;
pub mod limits;
pub mod model;
pub mod openpgp;
pub mod outbound;
pub mod service;
pub mod tables;
pub mod text;

use std::fmt;
use std::sync::Arc;

use caliopen_storage_traits::Stores;
use tokio::sync::Notify;

pub use caliopen_storage_traits::blocking::inline_reads;
pub use config::CoreConfig;
pub use error::{CoreError, CoreResult};

/// The core of one Caliopen node: cheap to clone, shared by every server.
#[derive(Clone)]
pub struct Core {
    inner: Arc<Inner>,
}

struct Inner {
    stores: Stores,
    config: CoreConfig,
    /// Woken when a delivery is accepted.
    delivery_wake: Notify,
    /// Set when a delivery is put back behind the dispatcher's cursor (a replay):
    /// its next pass reads the whole queue.
    delivery_rescan: std::sync::atomic::AtomicBool,
    /// Deliveries accepted on this node, for the dispatcher's fairness between users.
    arrivals: delivery::express::Arrivals,
    /// Woken when an outbox entry is written.
    index_wake: Notify,
    /// Serialises signups so that a username is taken once.
    signup_lock: tokio::sync::Mutex<()>,
    /// Bounds the password hashes computed at once.
    hashing: service::passwords::Hashing,
    /// Serialise the read-modify-write operations of one user (flags, counters,
    /// discussion summaries), striped by user id; see [`Core::lock_user`].
    user_locks: Vec<tokio::sync::Mutex<()>>,
    /// Woken when an outbound job is queued.
    outbound_wake: Notify,
    /// Renders drafts for sending; set once by the runtime.
    renderer: std::sync::OnceLock<Arc<dyn outbound::OutboundRenderer>>,
    /// Reads received attachments out of their raw mail; set once by the runtime.
    part_reader: std::sync::OnceLock<Arc<dyn service::attachments::PartReader>>,
    /// Attachment reads in flight at once (each holds a raw mail and a decoded part).
    part_reads: tokio::sync::Semaphore,
    /// This node and the others sharing the store.
    membership: cluster::Membership,
    /// Whether the critical tasks still run.
    health: Arc<health::Health>,
    /// Set once every blob reference is counted: blobs may be deleted from then on.
    blob_refs_counted: std::sync::atomic::AtomicBool,
}

/// Stripes of [`Inner::user_locks`].
const USER_LOCK_STRIPES: usize = 64;

impl fmt::Debug for Core {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Core")
            .field("default_domain", &self.inner.config.default_domain)
            .finish_non_exhaustive()
    }
}

impl Core {
    pub fn new(stores: Stores, config: CoreConfig) -> Self {
        let hashing = service::passwords::Hashing::new(&config);
        Self {
            inner: Arc::new(Inner {
                stores,
                config,
                delivery_wake: Notify::new(),
                delivery_rescan: std::sync::atomic::AtomicBool::new(false),
                arrivals: delivery::express::Arrivals::default(),
                index_wake: Notify::new(),
                signup_lock: tokio::sync::Mutex::new(()),
                hashing,
                user_locks: (0..USER_LOCK_STRIPES)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect(),
                outbound_wake: Notify::new(),
                renderer: std::sync::OnceLock::new(),
                part_reader: std::sync::OnceLock::new(),
                part_reads: tokio::sync::Semaphore::new(service::attachments::PART_READS),
                membership: cluster::Membership::new(),
                health: Arc::default(),
                blob_refs_counted: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    pub fn config(&self) -> &CoreConfig {
        &self.inner.config
    }

    /// Sets what reads received attachments out of their raw mail (the runtime's
    /// parser component). Only the first call has an effect.
    pub fn set_part_reader(&self, reader: Arc<dyn service::attachments::PartReader>) {
        let _ = self.inner.part_reader.set(reader);
    }

    /// The health of this node's critical parts (see [`health`]).
    pub fn health(&self) -> &Arc<health::Health> {
        &self.inner.health
    }

    /// Sets what renders drafts for sending (the runtime's broker component).
    /// Only the first call has an effect.
    pub fn set_outbound_renderer(&self, renderer: Arc<dyn outbound::OutboundRenderer>) {
        let _ = self.inner.renderer.set(renderer);
    }

    pub(crate) fn stores(&self) -> &Stores {
        &self.inner.stores
    }

    /// Serialises the operations that read a user's records and write what they
    /// derive from them (counters, discussion summaries, seen participants), so
    /// two of them never interleave on this node. Not reentrant: a method holding
    /// it calls only helpers that do not take it.
    pub(crate) async fn lock_user(&self, user_id: uuid::Uuid) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = (user_id.as_u128() % USER_LOCK_STRIPES as u128) as usize;
        self.inner.user_locks[stripe].lock().await
    }

    /// Makes the dispatcher's next pass read the whole delivery queue, and wakes it.
    pub(crate) fn rescan_deliveries(&self) {
        self.inner
            .delivery_rescan
            .store(true, std::sync::atomic::Ordering::Release);
        self.inner.delivery_wake.notify_one();
    }

    /// Calls `f` on every (key, value) that `scan` selects in `table` and `scope`,
    /// reading page after page.
    pub(crate) async fn visit_records(
        &self,
        table: caliopen_storage_traits::Table,
        scope: caliopen_storage_traits::Scope,
        scan: caliopen_storage_traits::Scan,
        mut f: impl FnMut(&[u8], &[u8]) -> CoreResult<()>,
    ) -> CoreResult<()> {
        let mut after = None;
        loop {
            let page = self
                .stores()
                .records
                .scan(table, scope, scan.clone().after(after))
                .await?;
            for (key, value) in &page.items {
                f(key, value)?;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(()),
            }
        }
    }

    /// Every record of `table` in `scope`, decoded, in key order.
    pub(crate) async fn scan_decoded<T: serde::de::DeserializeOwned>(
        &self,
        table: caliopen_storage_traits::Table,
        scope: caliopen_storage_traits::Scope,
    ) -> CoreResult<Vec<T>> {
        let mut out = Vec::new();
        let all = caliopen_storage_traits::Scan::all(1000);
        self.visit_records(table, scope, all, |_, v| {
            out.push(codec::decode(table.name, v)?);
            Ok(())
        })
        .await?;
        Ok(out)
    }

    /// Wakes the indexer after writing outbox entries.
    pub(crate) fn wake_indexer(&self) {
        self.inner.index_wake.notify_one();
    }
}

/// The current time; one place so that tests and records agree on the clock.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
