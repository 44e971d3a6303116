//! The indexer: drains the outbox into the search role.

use std::time::Duration;

use caliopen_storage_traits::search::IndexOp;
use caliopen_storage_traits::{Batch, Scan, Scope};
use tokio::task::JoinHandle;

use crate::Core;
use crate::codec::decode;
use crate::error::CoreResult;
use crate::tables::OUTBOX;

/// Outbox entries applied per search commit.
const BATCH: usize = 2_000;

/// A pause in new outbox entries this long ends the wait between two commits.
const QUIET: Duration = Duration::from_millis(50);

/// Whose search documents an entry changes.
fn op_user(op: &IndexOp) -> uuid::Uuid {
    match op {
        IndexOp::Upsert(doc) => doc.user(),
        IndexOp::Delete { user, .. } | IndexOp::DeleteUser { user } => *user,
    }
}

impl Core {
    /// Applies up to `max` outbox entries of the users this node owns to the search
    /// index, oldest first, and removes them from the outbox. Returns how many
    /// were applied. One node applies a user's entries, so they land in order.
    #[tracing::instrument(skip(self))]
    pub async fn index_pending(&self, max: usize) -> CoreResult<usize> {
        let records = &self.stores().records;
        let mut ops = Vec::new();
        let mut done = Batch::new();
        let mut taken = 0;
        let mut after = None;
        while taken < max {
            let page = records
                .scan(OUTBOX, Scope::Global, Scan::all(max - taken).after(after))
                .await?;
            for (key, value) in &page.items {
                match decode::<IndexOp>(OUTBOX.name, value) {
                    Ok(op) if !self.owns(op_user(&op)) => continue,
                    Ok(op) => ops.push(op),
                    // An entry we cannot read would block the outbox forever; the
                    // record it described is still there for `reindex`.
                    Err(e) => tracing::error!(error = %e, "dropping unreadable outbox entry"),
                }
                done.delete(OUTBOX, Scope::Global, key.clone());
                taken += 1;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        if taken == 0 {
            return Ok(0);
        }
        self.apply_or_skip(&ops).await?;
        records.write(done).await?;
        Ok(taken)
    }

    /// Applies `ops` to the search index. When the index refuses them for good (a
    /// document it cannot take), they are applied one by one and those refused for
    /// good are dropped with an error in the log, since one of them would
    /// otherwise hold back every later entry forever; `caliopen reindex` rebuilds
    /// from the records. A temporary failure is returned, to retry them all.
    async fn apply_or_skip(&self, ops: &[IndexOp]) -> CoreResult<()> {
        let search = &self.stores().search;
        match search.apply(ops).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                tracing::warn!(error = %e, "the search index refused a batch; applying it entry by entry");
            }
        }
        for op in ops {
            match search.apply(std::slice::from_ref(op)).await {
                Ok(()) => {}
                Err(e) if e.is_transient() => return Err(e.into()),
                Err(e) => tracing::error!(
                    error = %e,
                    user = %op_user(op),
                    "the search index refused an entry for good: dropped (`caliopen reindex` rebuilds the index)"
                ),
            }
        }
        Ok(())
    }

    /// Applies every pending outbox entry (tests and `reindex` use it to wait).
    pub async fn index_all_pending(&self) -> CoreResult<usize> {
        let mut total = 0;
        loop {
            let n = self.index_pending(BATCH).await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Waits until `interval` has passed, or until no outbox entry has been written
    /// for [`QUIET`]: while mail keeps coming, commits are `interval` apart; when it
    /// stops, what came last is indexed at once.
    async fn until_quiet(&self, interval: Duration) {
        let deadline = tokio::time::Instant::now() + interval;
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return;
            }
            let wait = QUIET.min(deadline - now);
            if tokio::time::timeout(wait, self.inner.index_wake.notified())
                .await
                .is_err()
            {
                return;
            }
        }
    }

    /// Runs the indexer until the task is aborted: woken by new outbox entries,
    /// and every second in case another node wrote some. After a partial batch it
    /// lets `commit_interval` pass while entries keep coming, so that a stream of
    /// mail makes a few large commits rather than one small commit (and index
    /// segment) per message. The task is critical ([`crate::health`]): should it
    /// end otherwise than by the node stopping, the node reports itself unhealthy.
    pub fn spawn_indexer(&self) -> JoinHandle<()> {
        let core = self.clone();
        let guard = self.health().guard("indexer");
        tokio::spawn(async move {
            let _guard = guard;
            let mut failures = 0u32;
            let interval = core.config().index.commit_interval;
            loop {
                match core.index_pending(BATCH).await {
                    Ok(n) if n >= BATCH => failures = 0,
                    Ok(n) if n > 0 => {
                        failures = 0;
                        core.until_quiet(interval).await;
                    }
                    Ok(_) => {
                        failures = 0;
                        let _ = tokio::time::timeout(
                            Duration::from_secs(1),
                            core.inner.index_wake.notified(),
                        )
                        .await;
                    }
                    Err(e) => {
                        failures = failures.saturating_add(1);
                        let delay = Duration::from_millis(100 * 2u64.pow(failures.min(8)));
                        tracing::warn!(error = %e, ?delay, "indexing failed, retrying");
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        })
    }
}
