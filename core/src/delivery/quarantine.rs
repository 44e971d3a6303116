//! Deliveries that could not be processed: kept with their reason, for replay.

use caliopen_storage_traits::{Batch, Scan, Scope};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::PendingDelivery;
use crate::codec::{decode, encode};
use crate::error::{CoreError, CoreResult};
use crate::tables::{DELIVERIES, OUTBOX, QUARANTINE};
use crate::{Core, now};

/// Longest reason kept with a failed attempt, in bytes: a reason may quote the
/// mail (a trap message, a header), which is stored once, in the mail.
const MAX_REASON_BYTES: usize = 2048;

/// `reason`, cut to [`MAX_REASON_BYTES`] on a character boundary.
pub(crate) fn bounded_reason(reason: &str) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason.to_owned();
    }
    let mut end = MAX_REASON_BYTES;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &reason[..end], reason.len())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedDelivery {
    pub delivery: PendingDelivery,
    /// The stage that failed (`parser:email`, `storage`, ...).
    pub stage: String,
    pub reason: String,
    pub quarantined_at: DateTime<Utc>,
}

impl Core {
    /// Moves a pending delivery to quarantine, in one batch.
    pub(crate) async fn quarantine(
        &self,
        pending: PendingDelivery,
        stage: &str,
        reason: &str,
    ) -> CoreResult<()> {
        let reason = bounded_reason(reason);
        tracing::warn!(delivery = %pending.id, user = %pending.user_id, stage, reason, "delivery quarantined");
        let id = pending.id;
        let entry = QuarantinedDelivery {
            delivery: pending,
            stage: bounded_reason(stage),
            reason,
            quarantined_at: now(),
        };
        let mut batch = Batch::new();
        batch
            .put(
                QUARANTINE,
                Scope::Global,
                id.as_bytes().to_vec(),
                encode(&entry),
            )
            .delete(DELIVERIES, Scope::Global, id.as_bytes().to_vec());
        Ok(self.stores().records.write(batch).await?)
    }

    /// Every quarantined delivery, oldest first.
    pub async fn quarantined(&self) -> CoreResult<Vec<QuarantinedDelivery>> {
        self.scan_decoded(QUARANTINE, Scope::Global).await
    }

    /// Puts a quarantined delivery back in the queue, with its attempts reset.
    pub async fn replay(&self, delivery_id: Uuid) -> CoreResult<()> {
        let bytes = self
            .stores()
            .records
            .get(QUARANTINE, Scope::Global, delivery_id.as_bytes())
            .await?
            .ok_or_else(|| CoreError::not_found("quarantined delivery", delivery_id))?;
        let entry: QuarantinedDelivery = decode(QUARANTINE.name, &bytes)?;
        let mut pending = entry.delivery;
        pending.attempts = 0;
        pending.next_attempt_at = now();
        pending.last_error = Some(format!("replayed after: {}", entry.reason));
        let mut batch = Batch::new();
        batch
            .put(
                DELIVERIES,
                Scope::Global,
                delivery_id.as_bytes().to_vec(),
                encode(&pending),
            )
            .delete(QUARANTINE, Scope::Global, delivery_id.as_bytes().to_vec());
        self.stores().records.write(batch).await?;
        self.rescan_deliveries();
        Ok(())
    }
}

/// Queue sizes, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PipelineStats {
    pub pending: u64,
    pub quarantined: u64,
    /// Search-index operations written and not applied yet (the outbox).
    pub index_backlog: u64,
}

impl Core {
    /// How many deliveries wait, how many are quarantined, and how many index
    /// operations wait in the outbox.
    pub async fn pipeline_stats(&self) -> CoreResult<PipelineStats> {
        let count = |table| async move {
            let mut n = 0u64;
            let mut after = None;
            loop {
                let page = self
                    .stores()
                    .records
                    .scan(table, Scope::Global, Scan::all(4096).after(after))
                    .await?;
                n += page.items.len() as u64;
                match page.next {
                    Some(k) => after = Some(k),
                    None => return Ok::<u64, CoreError>(n),
                }
            }
        };
        Ok(PipelineStats {
            pending: count(DELIVERIES).await?,
            quarantined: count(QUARANTINE).await?,
            index_backlog: count(OUTBOX).await?,
        })
    }
}
