//! Whether the parts a node cannot live without still run.
//!
//! Some work of a node is done by one task or thread that nothing restarts: the
//! delivery dispatcher and its workers, the indexer, the cluster heartbeat (these
//! in core), the protocol listeners and the embedded store's committer (started by
//! the runtime). Should one of them stop, the node would go on answering while
//! mail waits forever. So each reports here:
//!
//! - a task holds a [`CriticalGuard`]; when the task ends (a panic unwinds it, or
//!   its loop returns) the guard marks its part failed, unless the node is
//!   stopping ([`Health::stopping`]) or the task was stopped on purpose;
//! - a part that is not a task registers a probe ([`Health::probe`]), asked at each
//!   [`Health::report`];
//! - anything can also mark a part failed with [`Health::fail`].
//!
//! The runtime serves the report at `GET /health` (REST and admin listeners) and,
//! once a part has failed, exits non-zero so that its supervisor restarts it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A probe: why the part cannot work any more, or none.
type Probe = Box<dyn Fn() -> Option<String> + Send + Sync>;

/// The health of one node's critical parts.
#[derive(Default)]
pub struct Health {
    failed: Mutex<BTreeMap<String, String>>,
    probes: Mutex<Vec<(String, Probe)>>,
    stopping: AtomicBool,
}

impl fmt::Debug for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Health")
            .field("report", &self.report())
            .finish_non_exhaustive()
    }
}

/// A part that stopped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unhealthy {
    pub component: String,
    pub reason: String,
}

/// The answer of [`Health::report`]: healthy when `unhealthy` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthReport {
    pub unhealthy: Vec<Unhealthy>,
}

impl HealthReport {
    pub fn is_healthy(&self) -> bool {
        self.unhealthy.is_empty()
    }
}

impl Health {
    /// Marks `component` failed (the first reason given is kept). Ignored once the
    /// node is stopping.
    pub fn fail(&self, component: &str, reason: &str) {
        if self.is_stopping() {
            return;
        }
        tracing::error!(
            component,
            reason,
            "a part this node cannot live without stopped"
        );
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(component.to_owned())
            .or_insert_with(|| reason.to_owned());
    }

    /// Registers a probe of `component`, asked at every report.
    pub fn probe(
        &self,
        component: &str,
        probe: impl Fn() -> Option<String> + Send + Sync + 'static,
    ) {
        self.probes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((component.to_owned(), Box::new(probe)));
    }

    /// The parts that failed, by name; empty when the node is healthy.
    pub fn report(&self) -> HealthReport {
        let mut failed = self
            .failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if !self.is_stopping() {
            for (component, probe) in self
                .probes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
            {
                if let Some(reason) = probe() {
                    failed.entry(component.clone()).or_insert(reason);
                }
            }
        }
        HealthReport {
            unhealthy: failed
                .into_iter()
                .map(|(component, reason)| Unhealthy { component, reason })
                .collect(),
        }
    }

    /// The node is shutting down: parts that stop from now on are not failures.
    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// A guard for a task running `component`: see [`CriticalGuard`].
    pub fn guard(self: &Arc<Self>, component: &'static str) -> CriticalGuard {
        self.guard_with(component, Arc::default())
    }

    /// A guard for a task running `component` that says nothing once `stopped` is
    /// set (the task was stopped on purpose).
    pub fn guard_with(
        self: &Arc<Self>,
        component: &'static str,
        stopped: Arc<AtomicBool>,
    ) -> CriticalGuard {
        CriticalGuard {
            health: Arc::clone(self),
            component,
            disarmed: stopped,
        }
    }
}

/// Held by a task a node cannot live without: when it is dropped (the task ended,
/// by a panic or otherwise), the part is marked failed, unless the node is
/// stopping or the guard was disarmed (the task was stopped on purpose).
#[derive(Debug)]
pub struct CriticalGuard {
    health: Arc<Health>,
    component: &'static str,
    disarmed: Arc<AtomicBool>,
}

impl Drop for CriticalGuard {
    fn drop(&mut self) {
        if self.disarmed.load(Ordering::Acquire) {
            return;
        }
        let reason = if std::thread::panicking() {
            "its task panicked"
        } else {
            "its task stopped"
        };
        self.health.fail(self.component, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_dropped_by_a_panic_marks_its_part_failed() {
        let health = Arc::new(Health::default());
        let guard = health.guard("indexer");
        let thread = std::thread::spawn(move || {
            let _guard = guard;
            panic!("boom");
        });
        assert!(thread.join().is_err());
        let report = health.report();
        assert_eq!(
            report.unhealthy,
            vec![Unhealthy {
                component: "indexer".into(),
                reason: "its task panicked".into()
            }]
        );
    }

    #[test]
    fn a_disarmed_guard_or_a_stopping_node_reports_nothing() {
        let health = Arc::new(Health::default());
        let stopped = Arc::new(AtomicBool::new(false));
        let guards: Vec<_> = (0..2)
            .map(|_| health.guard_with("delivery workers", Arc::clone(&stopped)))
            .collect();
        stopped.store(true, Ordering::Release);
        drop(guards);
        assert!(health.report().is_healthy());

        let guard = health.guard("indexer");
        health.stopping();
        drop(guard);
        assert!(health.report().is_healthy());
    }

    #[test]
    fn probes_are_asked_at_each_report() {
        let health = Health::default();
        let broken = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&broken);
        health.probe("embedded store", move || {
            seen.load(Ordering::Acquire)
                .then(|| "the commit thread stopped".to_owned())
        });
        assert!(health.report().is_healthy());
        broken.store(true, Ordering::Release);
        let report = health.report();
        assert_eq!(report.unhealthy[0].component, "embedded store");
        assert_eq!(report.unhealthy[0].reason, "the commit thread stopped");
    }
}
