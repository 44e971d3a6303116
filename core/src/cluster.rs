//! Which node of a cluster does a user's background work.
//!
//! Nodes that share a store (Scylla and Elasticsearch) all see the delivery queue,
//! the outbound queue and the search outbox. Each user's entries are handled by one
//! node at a time, its *owner*, so that a mail is not processed, sent or indexed by
//! two nodes at once (the per-user lock of [`Core::lock_user`] holds within one
//! process only). Without compare-and-set on the hot path:
//!
//! - every node writes a heartbeat row in [`NODES`] (its id and a sequence number
//!   that grows at each beat) every `heartbeat`;
//! - a node counts another as live while that node's sequence has changed within
//!   `lease`, measured on its own monotonic clock (so clocks need not agree);
//! - the owner of a user is the live node with the highest rendezvous hash of
//!   (node, user): when a node joins or leaves, only its share of users moves;
//! - a node that finds others when it starts waits a lease before taking any
//!   work, so that they have seen it and finished what they had started for its
//!   users (each checks [`Core::owns`] again before every delivery and send); one that could
//!   not write its heartbeat for half a lease stops taking work, before the others
//!   count it dead and take its users over;
//! - a node leaving cleanly deletes its row, so its users move at once.
//!
//! Without [`Core::spawn_membership`] (one process on the embedded store) the node
//! owns every user.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Instant;

use caliopen_storage_traits::{Batch, Scope};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::codec::encode;
use crate::error::CoreResult;
use crate::tables::NODES;
use crate::{Core, config::ClusterConfig};

/// One node's heartbeat row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Beat {
    node: Uuid,
    seq: u64,
}

/// This node's view of the cluster.
#[derive(Debug)]
pub(crate) struct Membership {
    node: Uuid,
    view: RwLock<View>,
}

#[derive(Debug)]
struct View {
    /// Set by [`Core::spawn_membership`]; until then the node is alone.
    enabled: bool,
    /// Live nodes, sorted, this one included.
    live: Vec<Uuid>,
    /// Each node seen: its last sequence and when it last changed.
    seen: HashMap<Uuid, (u64, Instant)>,
    /// When this node's heartbeat was last written.
    last_beat: Option<Instant>,
    /// Before this, the node takes no work (its join is not yet seen by all).
    ready_at: Option<Instant>,
}

impl Membership {
    pub(crate) fn new() -> Self {
        let node = Uuid::now_v7();
        Self {
            node,
            view: RwLock::new(View {
                enabled: false,
                live: vec![node],
                seen: HashMap::new(),
                last_beat: None,
                ready_at: None,
            }),
        }
    }
}

/// A stable 64-bit mix (SplitMix64's finaliser): every node, whatever its build,
/// ranks the nodes for a user the same way.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn rank(node: Uuid, user: Uuid) -> u64 {
    let (n, u) = (node.as_u64_pair(), user.as_u64_pair());
    mix(n.0 ^ mix(n.1 ^ mix(u.0 ^ mix(u.1))))
}

/// The node, among `live`, that owns `user`.
pub fn owner(live: &[Uuid], user: Uuid) -> Option<Uuid> {
    live.iter().copied().max_by_key(|n| (rank(*n, user), *n))
}

impl Core {
    /// This node's id in the cluster (new at each start).
    pub fn node_id(&self) -> Uuid {
        self.inner.membership.node
    }

    /// The nodes this one counts as live, itself included.
    pub fn live_nodes(&self) -> Vec<Uuid> {
        self.view().live.clone()
    }

    /// Whether this node does `user`'s background work now: its deliveries, its
    /// outbound mail and its search updates.
    pub fn owns(&self, user: Uuid) -> bool {
        let view = self.view();
        if !view.enabled {
            return true;
        }
        let cfg = &self.config().cluster;
        let fresh = view
            .last_beat
            .is_some_and(|at| at.elapsed() < cfg.lease / 2);
        let ready = view.ready_at.is_some_and(|at| Instant::now() >= at);
        fresh && ready && owner(&view.live, user) == Some(self.node_id())
    }

    fn view(&self) -> std::sync::RwLockReadGuard<'_, View> {
        self.inner
            .membership
            .view
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Joins the cluster of nodes sharing this store: beats every `heartbeat`
    /// until aborted (see [`Core::leave_cluster`] for a clean exit).
    pub fn spawn_membership(&self) -> JoinHandle<()> {
        self.inner
            .membership
            .view
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .enabled = true;
        let core = self.clone();
        let guard = self.health().guard("cluster heartbeat");
        tokio::spawn(async move {
            let _guard = guard;
            let mut seq = 0u64;
            loop {
                seq += 1;
                if let Err(e) = core.beat(seq).await {
                    tracing::warn!(error = %e, "cluster heartbeat failed");
                }
                tokio::time::sleep(core.config().cluster.heartbeat).await;
            }
        })
    }

    /// Removes this node's heartbeat, so that the others take its users over at
    /// once. Call after its workers have stopped.
    pub async fn leave_cluster(&self) -> CoreResult<()> {
        let mut batch = Batch::new();
        batch.delete(NODES, Scope::Global, self.node_id().as_bytes().to_vec());
        self.stores().records.write(batch).await?;
        Ok(())
    }

    /// Writes this node's heartbeat, then reads everyone's and updates the view.
    #[tracing::instrument(skip(self))]
    async fn beat(&self, seq: u64) -> CoreResult<()> {
        let me = self.node_id();
        let ClusterConfig { lease, .. } = self.config().cluster;
        let mut batch = Batch::new();
        let row = Beat { node: me, seq };
        batch.put(NODES, Scope::Global, me.as_bytes().to_vec(), encode(&row));
        self.stores().records.write(batch).await?;
        let written = Instant::now();

        let beats: Vec<Beat> = self.scan_decoded(NODES, Scope::Global).await?;

        let mut stale = Batch::new();
        let changed = {
            let mut view = self
                .inner
                .membership
                .view
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let first = view.last_beat.is_none();
            let mut seen = HashMap::with_capacity(beats.len());
            for b in beats {
                let since = match view.seen.get(&b.node) {
                    Some(&(s, at)) if s == b.seq => at,
                    _ => now,
                };
                // A row unchanged for many leases is a node that died: forget it.
                if b.node != me && now.duration_since(since) > lease * 10 {
                    stale.delete(NODES, Scope::Global, b.node.as_bytes().to_vec());
                    continue;
                }
                seen.insert(b.node, (b.seq, since));
            }
            let mut live: Vec<Uuid> = seen
                .iter()
                .filter(|(n, (_, at))| **n == me || now.duration_since(*at) < lease)
                .map(|(n, _)| *n)
                .collect();
            if !live.contains(&me) {
                live.push(me);
            }
            live.sort();
            if first {
                let alone = live.len() == 1;
                view.ready_at = Some(if alone { now } else { now + lease });
            }
            view.seen = seen;
            view.last_beat = Some(written);
            let changed = view.live != live;
            if changed {
                tracing::info!(nodes = live.len(), "cluster membership changed");
                view.live = live;
            }
            changed || first
        };
        if !stale.is_empty() {
            self.stores().records.write(stale).await?;
        }
        if changed {
            // Users may have moved to this node: look at the whole queues again.
            self.rescan_deliveries();
            self.inner.outbound_wake.notify_one();
            self.wake_indexer();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_has_one_owner_and_few_move_when_a_node_joins() {
        let nodes: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        let users: Vec<Uuid> = (0..3000).map(|_| Uuid::new_v4()).collect();
        let mut shares = HashMap::new();
        for u in &users {
            *shares.entry(owner(&nodes, *u).unwrap()).or_insert(0) += 1;
        }
        // Each of three nodes gets roughly a third.
        for n in &nodes {
            let share = shares[n];
            assert!((700..1300).contains(&share), "share {share}");
        }
        let mut four = nodes.clone();
        four.push(Uuid::new_v4());
        let moved = users
            .iter()
            .filter(|u| owner(&nodes, **u) != owner(&four, **u))
            .count();
        // Only the newcomer's quarter moves, and every moved user goes to it.
        assert!((500..1000).contains(&moved), "moved {moved}");
        for u in &users {
            let after = owner(&four, *u).unwrap();
            assert!(after == owner(&nodes, *u).unwrap() || after == four[3]);
        }
        assert_eq!(owner(&[], users[0]), None);
    }

    #[test]
    fn the_ranking_does_not_depend_on_the_build() {
        // Fixed inputs, fixed outputs: a change of hash would split a cluster
        // running two builds during an upgrade.
        let node = Uuid::from_u128(1);
        let user = Uuid::from_u128(2);
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rank(node, user), rank(node, user));
        assert_ne!(rank(node, user), rank(user, node));
    }
}
