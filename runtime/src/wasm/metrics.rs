//! Per-component metrics, rendered in the Prometheus text format: invocations,
//! errors by kind, call latency (histogram), peak memory and fuel.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::InvokeError;
use super::invoke::CallStats;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
];
const ERROR_KINDS: [&str; 7] = [
    "deadline",
    "memory",
    "fuel",
    "trap",
    "invalid_output",
    "component_error",
    "instantiate",
];

/// The counters of one component version.
#[derive(Debug, Default)]
pub struct CallMetrics {
    invocations: AtomicU64,
    errors: [AtomicU64; ERROR_KINDS.len()],
    buckets: [AtomicU64; BUCKETS.len()],
    latency_nanos: AtomicU64,
    memory_peak: AtomicU64,
    fuel: AtomicU64,
    logs_dropped: AtomicU64,
}

impl CallMetrics {
    pub fn record(&self, elapsed: Duration, stats: &CallStats, error: Option<&InvokeError>) {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
        self.memory_peak
            .fetch_max(stats.memory_peak as u64, Ordering::Relaxed);
        self.fuel.fetch_add(stats.fuel_used, Ordering::Relaxed);
        self.logs_dropped
            .fetch_add(u64::from(stats.logs_dropped), Ordering::Relaxed);
        if let Some(e) = error
            && let Some(i) = ERROR_KINDS.iter().position(|k| *k == e.kind())
        {
            self.errors[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::Relaxed)
    }

    pub fn errors(&self, kind: &str) -> u64 {
        ERROR_KINDS
            .iter()
            .position(|k| *k == kind)
            .map_or(0, |i| self.errors[i].load(Ordering::Relaxed))
    }
}

/// Every component version's metrics, for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    entries: Mutex<Vec<(String, String, Arc<CallMetrics>)>>,
}

impl Metrics {
    /// The metrics of a component version (created on first use).
    pub fn component(&self, name: &str, version: &str) -> Arc<CallMetrics> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, _, m)) = entries.iter().find(|(n, v, _)| n == name && v == version) {
            return m.clone();
        }
        let m = Arc::new(CallMetrics::default());
        entries.push((name.to_owned(), version.to_owned(), m.clone()));
        m
    }

    /// The Prometheus text exposition of every component's metrics.
    pub fn render(&self, out: &mut String) {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let series = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        series(
            out,
            "caliopen_component_invocations_total",
            "counter",
            "Calls into a component version.",
        );
        for (n, v, m) in &entries {
            let _ = writeln!(
                out,
                "caliopen_component_invocations_total{{component=\"{n}\",version=\"{v}\"}} {}",
                m.invocations()
            );
        }
        series(
            out,
            "caliopen_component_errors_total",
            "counter",
            "Failed calls by kind.",
        );
        for (n, v, m) in &entries {
            for (i, kind) in ERROR_KINDS.iter().enumerate() {
                let c = m.errors[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "caliopen_component_errors_total{{component=\"{n}\",version=\"{v}\",kind=\"{kind}\"}} {c}"
                );
            }
        }
        series(
            out,
            "caliopen_component_call_seconds",
            "histogram",
            "Wall time of a call, instantiation included.",
        );
        for (n, v, m) in &entries {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let c = m.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "caliopen_component_call_seconds_bucket{{component=\"{n}\",version=\"{v}\",le=\"{bound}\"}} {c}"
                );
            }
            let count = m.invocations();
            let sum = m.latency_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "caliopen_component_call_seconds_bucket{{component=\"{n}\",version=\"{v}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "caliopen_component_call_seconds_sum{{component=\"{n}\",version=\"{v}\"}} {sum}"
            );
            let _ = writeln!(
                out,
                "caliopen_component_call_seconds_count{{component=\"{n}\",version=\"{v}\"}} {count}"
            );
        }
        series(
            out,
            "caliopen_component_memory_peak_bytes",
            "gauge",
            "Largest linear memory a call reached.",
        );
        for (n, v, m) in &entries {
            let _ = writeln!(
                out,
                "caliopen_component_memory_peak_bytes{{component=\"{n}\",version=\"{v}\"}} {}",
                m.memory_peak.load(Ordering::Relaxed)
            );
        }
        series(
            out,
            "caliopen_component_fuel_consumed_total",
            "counter",
            "Fuel consumed (when fuel is on).",
        );
        for (n, v, m) in &entries {
            let _ = writeln!(
                out,
                "caliopen_component_fuel_consumed_total{{component=\"{n}\",version=\"{v}\"}} {}",
                m.fuel.load(Ordering::Relaxed)
            );
        }
        series(
            out,
            "caliopen_component_log_lines_dropped_total",
            "counter",
            "Log lines over the per-call cap.",
        );
        for (n, v, m) in &entries {
            let _ = writeln!(
                out,
                "caliopen_component_log_lines_dropped_total{{component=\"{n}\",version=\"{v}\"}} {}",
                m.logs_dropped.load(Ordering::Relaxed)
            );
        }
    }
}
