//! The delivery workers: a dispatcher reads due deliveries, oldest first, into one
//! queue that N workers take from, so every worker stays busy whichever users the
//! mail is for. Deliveries of one user may run side by side: their component chains
//! are independent, and their stores are serialised by the user's lock
//! ([`Core::store_delivery`]), which also keeps (user, raw mail) to one message.
//! A delivery that fails, panics included, is retried with backoff and
//! quarantined after the last attempt; none is retried forever. In a cluster, a node dispatches only the deliveries
//! of the users it owns ([`Core::owns`]). Before each delivery in queue order, the
//! dispatcher hands over the newly accepted deliveries of users with nothing in the
//! workers' hands (`express`), so one user's backlog does not hold back the others.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use caliopen_storage_traits::blocking::blocking_allowed;
use caliopen_storage_traits::{Batch, Scan, Scope};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::express::{Claims, Expedited};
use super::quarantine::bounded_reason;
use super::store::Stored;
use super::{MailProcessor, PendingDelivery, ProcessingError};
use crate::blob_refs::Releases;
use crate::codec::{decode, encode};
use crate::context::UserContext;
use crate::error::{CoreError, CoreResult};
use crate::tables::DELIVERIES;
use crate::{Core, now};

/// The running pipeline; dropping it does not stop it, [`DeliveryWorkers::abort`] does.
/// Its tasks are critical: should one end otherwise, the node reports itself
/// unhealthy ([`crate::health`]).
#[derive(Debug)]
pub struct DeliveryWorkers {
    tasks: Vec<JoinHandle<()>>,
    /// Set before the tasks are aborted: their ends are then not failures.
    stopped: Arc<std::sync::atomic::AtomicBool>,
}

impl DeliveryWorkers {
    pub fn abort(&self) {
        self.stopped.store(true, Ordering::Release);
        for t in &self.tasks {
            t.abort();
        }
    }
}

type InFlight = Arc<Mutex<Claims>>;

/// Longest time between two full passes over the delivery queue.
const FULL_SCAN_EVERY: Duration = Duration::from_secs(1);

/// Where the dispatcher stands in the delivery queue.
struct Cursor {
    /// The greatest key read so far: a wake-up reads only past it.
    last_key: Option<Vec<u8>>,
    /// When the next pass must read the queue from the start.
    full_scan_at: Instant,
}

impl Default for Cursor {
    fn default() -> Self {
        Self {
            last_key: None,
            full_scan_at: Instant::now(),
        }
    }
}

impl Core {
    /// Starts the pipeline over the deliveries in the store (including those left
    /// by a previous run) and the ones accepted from now on.
    pub fn spawn_delivery_workers(&self, processor: &Arc<dyn MailProcessor>) -> DeliveryWorkers {
        let n = self.config().delivery.workers.max(1);
        let in_flight: InFlight = Arc::default();
        // Bounded so that a backlog stays in the store, not in memory: the
        // dispatcher reads ahead at most a couple of deliveries per worker.
        let (tx, rx) = mpsc::channel::<PendingDelivery>(2 * n);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let mut tasks = Vec::with_capacity(n + 1);
        let stopped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        for _ in 0..n {
            let guard = self
                .health()
                .guard_with("delivery workers", Arc::clone(&stopped));
            let rx = rx.clone();
            let core = self.clone();
            let processor = processor.clone();
            let in_flight = in_flight.clone();
            tasks.push(tokio::spawn(async move {
                let _guard = guard;
                loop {
                    // The lock is held only while waiting for the next delivery.
                    let Some(pending) = rx.lock().await.recv().await else {
                        break;
                    };
                    let id = pending.id;
                    // Read ahead before this node saw another join: that node has it now.
                    if !core.owns(pending.user_id) {
                        in_flight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .release(id);
                        continue;
                    }
                    // A delivery is mostly CPU work (the processor) and embedded-store
                    // reads: it runs on a blocking thread, where both may block, rather
                    // than hopping to the blocking pool for each read.
                    let attempt = pending.clone();
                    let (worker_core, processor) = (core.clone(), processor.clone());
                    let runtime = tokio::runtime::Handle::current();
                    let done = tokio::task::spawn_blocking(move || {
                        blocking_allowed(|| {
                            runtime.block_on(
                                worker_core.process_delivery(processor.as_ref(), pending),
                            );
                        });
                    })
                    .await;
                    match done {
                        Ok(()) => {}
                        // A panic is a failed attempt like any other: counted, retried
                        // with backoff, quarantined with its reason after the last.
                        Err(e) if e.is_panic() => {
                            let reason = panic_reason(e.into_panic());
                            if let Err(e) = core.record_crash(attempt, &reason).await {
                                tracing::error!(delivery = %id, error = %e, "could not record a crashed delivery");
                            }
                        }
                        Err(_) => tracing::warn!(delivery = %id, "delivery task cancelled"),
                    }
                    in_flight
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .release(id);
                }
            }));
        }
        let core = self.clone();
        let guard = self
            .health()
            .guard_with("delivery dispatcher", Arc::clone(&stopped));
        tasks.push(tokio::spawn(async move {
            let _guard = guard;
            core.dispatch(tx, in_flight).await;
        }));
        DeliveryWorkers { tasks, stopped }
    }

    async fn dispatch(&self, queue: mpsc::Sender<PendingDelivery>, in_flight: InFlight) {
        let mut cursor = Cursor::default();
        loop {
            let wait = match self.dispatch_due(&queue, &in_flight, &mut cursor).await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = %e, "reading the delivery queue failed");
                    cursor.full_scan_at = Instant::now();
                    Duration::from_secs(1)
                }
            };
            if wait > Duration::ZERO {
                let _ = tokio::time::timeout(wait, self.inner.delivery_wake.notified()).await;
            }
        }
    }

    /// Queues every due delivery for the workers; returns how long to wait before
    /// looking again (zero when there may be more right away).
    ///
    /// Accepted deliveries have time-ordered keys, so a wake-up by a new one only
    /// reads past the last key seen: a backlog is not read again (and decoded again)
    /// for each new mail. A full pass, from the start, runs when a retry is due and at
    /// least every [`FULL_SCAN_EVERY`], for retries and for entries another node (or
    /// a slower writer) committed behind the cursor.
    async fn dispatch_due(
        &self,
        queue: &mpsc::Sender<PendingDelivery>,
        in_flight: &InFlight,
        cursor: &mut Cursor,
    ) -> CoreResult<Duration> {
        let rescan = self.inner.delivery_rescan.swap(false, Ordering::AcqRel);
        let full = rescan || Instant::now() >= cursor.full_scan_at;
        let mut after = if full { None } else { cursor.last_key.clone() };
        if full {
            cursor.full_scan_at = Instant::now() + FULL_SCAN_EVERY;
        }
        let mut dispatched = 0usize;
        let mut expedited = Expedited::new();
        if !self.expedite(queue, in_flight, &mut expedited).await? {
            return Ok(Duration::ZERO);
        }
        loop {
            let page = self
                .stores()
                .records
                .scan(DELIVERIES, Scope::Global, Scan::all(512).after(after))
                .await?;
            for (key, v) in &page.items {
                if cursor.last_key.as_ref().is_none_or(|last| key > last) {
                    cursor.last_key = Some(key.clone());
                }
                let busy = |id: Uuid| {
                    expedited.contains(&id)
                        || in_flight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .holds(id)
                };
                if Uuid::from_slice(key).is_ok_and(busy) {
                    continue;
                }
                let pending: PendingDelivery = decode(DELIVERIES.name, v)?;
                // Another node's, while it lives; a membership change rescans.
                if !self.owns(pending.user_id) {
                    continue;
                }
                let wait = (pending.next_attempt_at - now())
                    .to_std()
                    .unwrap_or(Duration::ZERO);
                if wait > Duration::ZERO {
                    cursor.full_scan_at = cursor.full_scan_at.min(Instant::now() + wait);
                    continue;
                }
                if !in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .claim(pending.id, pending.user_id)
                {
                    continue;
                }
                // Other users' new mail first, then this one in its turn.
                if !self.expedite(queue, in_flight, &mut expedited).await?
                    || queue.send(pending).await.is_err()
                {
                    return Ok(Duration::ZERO);
                }
                dispatched += 1;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Ok(if dispatched > 0 || !expedited.is_empty() {
            Duration::ZERO
        } else {
            cursor
                .full_scan_at
                .saturating_duration_since(Instant::now())
        })
    }

    /// Processes one delivery to its end: stored, retried later, or quarantined.
    #[tracing::instrument(skip_all, fields(delivery = %pending.id, user = %pending.user_id, attempt = pending.attempts + 1))]
    async fn process_delivery(&self, processor: &dyn MailProcessor, pending: PendingDelivery) {
        let outcome = self.try_delivery(processor, &pending).await;
        let result = match outcome {
            Ok(Stored::New(id)) => {
                tracing::debug!(message = %id, "delivered");
                Ok(())
            }
            Ok(Stored::Duplicate(id)) => {
                tracing::info!(message = %id, "duplicate delivery folded into the existing message");
                Ok(())
            }
            Err(DeliveryFailure::Permanent { stage, reason }) => {
                self.quarantine(pending, &stage, &reason).await
            }
            Err(DeliveryFailure::Transient { stage, reason }) => {
                self.retry_later(pending, &stage, &reason).await
            }
        };
        if let Err(e) = result {
            // The delivery is still in the queue; the dispatcher will see it again.
            tracing::error!(error = %e, "could not record the outcome of a delivery");
        }
    }

    async fn try_delivery(
        &self,
        processor: &dyn MailProcessor,
        pending: &PendingDelivery,
    ) -> Result<Stored, DeliveryFailure> {
        if let Some(existing) = self.message_for_raw(pending).await? {
            let mut batch = Batch::new();
            let mut releases = Releases::default();
            batch.delete(DELIVERIES, Scope::Global, pending.id.as_bytes().to_vec());
            releases.drop_ref(&mut batch, pending.raw.0);
            self.stores()
                .records
                .write(batch)
                .await
                .map_err(CoreError::from)?;
            releases.release(self).await;
            return Ok(Stored::Duplicate(existing));
        }
        let raw = self
            .stores()
            .blobs
            .get(&pending.raw.0)
            .await
            .map_err(CoreError::from)?
            .ok_or_else(|| DeliveryFailure::Permanent {
                stage: "storage".into(),
                reason: format!("raw mail {} is missing", pending.raw.0),
            })?;
        let user = match UserContext::for_user(self, pending.user_id).await {
            Ok(u) => u,
            Err(CoreError::NotFound { .. }) => {
                return Err(DeliveryFailure::Permanent {
                    stage: "recipient".into(),
                    reason: format!("user {} no longer exists", pending.user_id),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let processed = processor
            .process_arrival(user, Arc::new(raw), &pending.arrival())
            .await
            .map_err(|e| match e {
                ProcessingError::Transient { stage, reason } => {
                    DeliveryFailure::Transient { stage, reason }
                }
                ProcessingError::Permanent { stage, reason } => {
                    DeliveryFailure::Permanent { stage, reason }
                }
            })?;
        Ok(self.store_delivery(pending, processed).await?)
    }

    /// Counts a delivery whose processing panicked as a failed attempt. The
    /// delivery is read again first: the panic may have come after it was stored
    /// (then nothing is left to do), and its record is the one to count on.
    #[tracing::instrument(skip_all, fields(delivery = %attempt.id, user = %attempt.user_id))]
    async fn record_crash(&self, attempt: PendingDelivery, reason: &str) -> CoreResult<()> {
        tracing::error!(
            reason,
            "processing a delivery panicked; it counts as a failed attempt"
        );
        let Some(stored) = self
            .stores()
            .records
            .get(DELIVERIES, Scope::Global, attempt.id.as_bytes())
            .await?
        else {
            return Ok(());
        };
        let pending: PendingDelivery = decode(DELIVERIES.name, &stored)?;
        self.retry_later(
            pending,
            "delivery",
            &format!("processing panicked: {reason}"),
        )
        .await
    }

    async fn retry_later(
        &self,
        mut pending: PendingDelivery,
        stage: &str,
        reason: &str,
    ) -> CoreResult<()> {
        let reason = &bounded_reason(reason);
        let cfg = &self.config().delivery;
        pending.attempts += 1;
        if pending.attempts >= cfg.max_attempts {
            let reason = format!("{reason} (gave up after {} attempts)", pending.attempts);
            return self.quarantine(pending, stage, &reason).await;
        }
        let delay = cfg
            .retry_base
            .saturating_mul(2u32.saturating_pow(pending.attempts - 1))
            .min(cfg.retry_max);
        tracing::warn!(stage, reason, ?delay, "delivery failed, will retry");
        pending.next_attempt_at =
            now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::seconds(1));
        pending.last_error = Some(format!("{stage}: {reason}"));
        let mut batch = Batch::new();
        batch.put(
            DELIVERIES,
            Scope::Global,
            pending.id.as_bytes().to_vec(),
            encode(&pending),
        );
        Ok(self.stores().records.write(batch).await?)
    }
}

/// The text of a panic.
fn panic_reason(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(text) => *text,
        Err(panic) => panic.downcast_ref::<&str>().map_or_else(
            || "a panic without a message".to_owned(),
            |s| (*s).to_owned(),
        ),
    }
}

/// Why one attempt failed.
enum DeliveryFailure {
    Transient { stage: String, reason: String },
    Permanent { stage: String, reason: String },
}

impl From<CoreError> for DeliveryFailure {
    fn from(e: CoreError) -> Self {
        match e {
            // Retrying cannot help: a damaged record, or something in the mail the
            // store refuses (a value too long to store).
            CoreError::Corrupt { .. } | CoreError::Invalid { .. } => Self::Permanent {
                stage: "storage".into(),
                reason: e.to_string(),
            },
            e => Self::Transient {
                stage: "storage".into(),
                reason: e.to_string(),
            },
        }
    }
}
