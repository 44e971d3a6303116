//! Fairness between users: one user's backlog does not hold back everyone else's mail.
//!
//! The dispatcher reads the delivery queue oldest first, so a flood for one user (a
//! mailing-list blast, a spam run) would otherwise make every other user's new mail
//! wait until the whole flood is processed. Each accepted delivery is also announced
//! here ([`Arrivals`]); before handing the workers the next delivery in queue order,
//! the dispatcher first hands them the announced deliveries of users who have nothing
//! in the workers' hands ([`Claims::busy`]). A busy user's announcement is dropped:
//! their mail keeps its place in the queue, in order. Announcements only shorten
//! waits: the queue in the store stays the truth, and one that is lost (the list is
//! bounded, another node accepted the mail) leaves the delivery to the queue order.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use caliopen_storage_traits::Scope;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::PendingDelivery;
use crate::codec::decode;
use crate::error::CoreResult;
use crate::tables::DELIVERIES;
use crate::{Core, now};

/// Most announcements kept; the oldest are dropped beyond.
const MAX_ARRIVALS: usize = 4096;

/// Most deliveries handed over ahead of each one in queue order: under a steady
/// stream of new mail for many users, the older queue still moves.
const MAX_AHEAD: usize = 4;

/// A delivery just accepted: its id and its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrival {
    pub id: Uuid,
    pub user: Uuid,
}

/// Deliveries accepted on this node and not looked at by the dispatcher yet.
#[derive(Debug, Default)]
pub(crate) struct Arrivals(Mutex<VecDeque<Arrival>>);

impl Arrivals {
    pub(crate) fn announce(&self, arrivals: impl IntoIterator<Item = Arrival>) {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        queue.extend(arrivals);
        let over = queue.len().saturating_sub(MAX_ARRIVALS);
        queue.drain(..over);
    }

    /// The oldest announcement whose user has nothing in the workers' hands; the
    /// announcements of busy users before it are dropped.
    pub(crate) fn next_idle(&self, claims: &Claims) -> Option<Arrival> {
        let mut queue = self.0.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(arrival) = queue.pop_front() {
            if !claims.busy(arrival.user) && !claims.holds(arrival.id) {
                return Some(arrival);
            }
        }
        None
    }
}

/// The deliveries in the workers' hands (queued for them or being processed), and
/// how many each user has.
#[derive(Debug, Default)]
pub(crate) struct Claims {
    users: HashMap<Uuid, Uuid>,
    per_user: HashMap<Uuid, usize>,
}

impl Claims {
    /// Takes delivery `id` of `user`; false when it is taken already.
    pub(crate) fn claim(&mut self, id: Uuid, user: Uuid) -> bool {
        if self.users.contains_key(&id) {
            return false;
        }
        self.users.insert(id, user);
        *self.per_user.entry(user).or_default() += 1;
        true
    }

    /// Gives delivery `id` back (processed, retried later, or not this node's).
    pub(crate) fn release(&mut self, id: Uuid) {
        let Some(user) = self.users.remove(&id) else {
            return;
        };
        if let Some(n) = self.per_user.get_mut(&user) {
            *n -= 1;
            if *n == 0 {
                self.per_user.remove(&user);
            }
        }
    }

    pub(crate) fn holds(&self, id: Uuid) -> bool {
        self.users.contains_key(&id)
    }

    pub(crate) fn busy(&self, user: Uuid) -> bool {
        self.per_user.contains_key(&user)
    }
}

/// Deliveries the dispatcher handed over ahead of their turn during one pass over
/// the queue: the pass skips them if it reaches them (they may be done by then, and
/// released, but the page the pass read still lists them).
pub(crate) type Expedited = HashSet<Uuid>;

impl Core {
    /// Hands the workers up to [`MAX_AHEAD`] announced deliveries of users with
    /// nothing in their hands, noting them in `expedited`; false once the workers
    /// are gone.
    pub(super) async fn expedite(
        &self,
        queue: &mpsc::Sender<PendingDelivery>,
        claims: &Mutex<Claims>,
        expedited: &mut Expedited,
    ) -> CoreResult<bool> {
        for _ in 0..MAX_AHEAD {
            let next = {
                let claims = claims.lock().unwrap_or_else(|e| e.into_inner());
                self.inner.arrivals.next_idle(&claims)
            };
            let Some(arrival) = next else {
                return Ok(true);
            };
            if !self.owns(arrival.user) {
                continue;
            }
            let key = arrival.id.as_bytes();
            let Some(value) = self
                .stores()
                .records
                .get(DELIVERIES, Scope::Global, key)
                .await?
            else {
                continue; // processed already
            };
            // A record that does not decode is the queue order's to report.
            let Ok(pending) = decode::<PendingDelivery>(DELIVERIES.name, &value) else {
                continue;
            };
            if pending.next_attempt_at > now()
                || !claims
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .claim(pending.id, pending.user_id)
            {
                continue;
            }
            expedited.insert(pending.id);
            if queue.send(pending).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn claims_count_per_user_and_release_once() {
        let mut c = Claims::default();
        assert!(c.claim(id(1), id(100)));
        assert!(!c.claim(id(1), id(100)), "a delivery is claimed once");
        assert!(c.claim(id(2), id(100)));
        assert!(c.busy(id(100)) && c.holds(id(2)));
        c.release(id(1));
        c.release(id(1));
        assert!(c.busy(id(100)), "one of the user's two is still held");
        c.release(id(2));
        assert!(!c.busy(id(100)) && !c.holds(id(2)));
    }

    #[test]
    fn busy_users_announcements_are_dropped_and_idle_ones_come_in_order() {
        let arrivals = Arrivals::default();
        let mut claims = Claims::default();
        claims.claim(id(9), id(100));
        arrivals.announce([
            Arrival {
                id: id(1),
                user: id(100),
            },
            Arrival {
                id: id(2),
                user: id(200),
            },
            Arrival {
                id: id(3),
                user: id(300),
            },
        ]);
        assert_eq!(arrivals.next_idle(&claims).map(|a| a.id), Some(id(2)));
        assert_eq!(arrivals.next_idle(&claims).map(|a| a.id), Some(id(3)));
        assert_eq!(arrivals.next_idle(&claims), None, "user 100's was dropped");
    }

    #[test]
    fn the_announcements_are_bounded() {
        let arrivals = Arrivals::default();
        arrivals.announce((0..MAX_ARRIVALS as u128 + 10).map(|n| Arrival {
            id: id(n),
            user: id(n),
        }));
        let claims = Claims::default();
        assert_eq!(
            arrivals.next_idle(&claims).map(|a| a.id),
            Some(id(10)),
            "the oldest went first"
        );
    }
}
