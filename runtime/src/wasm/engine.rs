//! The Wasmtime engine: pooling allocation where the machine allows it, epoch
//! interruption driven by a ticker thread, optional fuel.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Deserialize;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::WasmError;
use super::metrics::Metrics;

/// Engine settings from the `[wasm]` section of the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Use the pooling allocator (falls back to on-demand when the machine refuses).
    pub pooling: bool,
    /// Instances the pool holds at once.
    pub pool_instances: u32,
    /// Largest linear memory a component may have, in MiB (also the pool's slot size).
    pub max_memory_mib: u32,
    /// Period of the epoch ticker, in milliseconds: the granularity of deadlines.
    pub epoch_tick_ms: u64,
    /// Count fuel, so that manifests may set a fuel budget.
    pub fuel: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            pooling: true,
            pool_instances: 128,
            max_memory_mib: 256,
            epoch_tick_ms: 5,
            fuel: false,
        }
    }
}

/// The engine and its epoch ticker.
#[derive(Debug)]
pub struct WasmEngine {
    engine: Engine,
    pooling: bool,
    /// `perf` may name guest functions: `CALIOPEN_WASM_PERFMAP` was set at start.
    perf_map: bool,
    tick: Duration,
    stop: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
    metrics: Metrics,
}

impl WasmEngine {
    pub fn new(settings: &EngineSettings) -> Result<Self, WasmError> {
        let perf_map = std::env::var_os("CALIOPEN_WASM_PERFMAP").is_some();
        let (engine, pooling) = if settings.pooling {
            match Engine::new(&config(settings, true, perf_map)) {
                Ok(engine) => (engine, true),
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "the pooling allocator is not available on this machine; \
                         using on-demand allocation (slower instantiation)"
                    );
                    (
                        Engine::new(&config(settings, false, perf_map))
                            .map_err(WasmError::engine)?,
                        false,
                    )
                }
            }
        } else {
            (
                Engine::new(&config(settings, false, perf_map)).map_err(WasmError::engine)?,
                false,
            )
        };
        let tick = Duration::from_millis(settings.epoch_tick_ms.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("wasm-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| WasmError::Engine(format!("cannot start the epoch ticker: {e}")))?
        };
        tracing::info!(
            pooling,
            tick_ms = tick.as_millis() as u64,
            fuel = settings.fuel,
            "wasm engine ready"
        );
        Ok(Self {
            engine,
            pooling,
            perf_map,
            tick,
            stop,
            ticker: Some(ticker),
            metrics: Metrics::default(),
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Per-component metrics of every component this engine runs.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Whether the pooling allocator is in use.
    pub fn pooling(&self) -> bool {
        self.pooling
    }

    /// Whether the engine writes a perf map (`CALIOPEN_WASM_PERFMAP`), so that
    /// precompiled artefacts must be loaded into anonymous memory for `perf`.
    pub fn perf_map(&self) -> bool {
        self.perf_map
    }

    /// Epoch ticks for a wall-clock deadline (at least one).
    pub fn ticks_for(&self, deadline: Duration) -> u64 {
        (deadline.as_nanos() / self.tick.as_nanos()).max(1) as u64
    }
}

impl Drop for WasmEngine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
    }
}

fn config(settings: &EngineSettings, pooling: bool, perf_map: bool) -> Config {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .epoch_interruption(true)
        .consume_fuel(settings.fuel)
        .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(32))
        .wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
    // `perf` can name guest functions when the engine writes /tmp/perf-<pid>.map.
    if perf_map {
        cfg.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    if pooling {
        let max_memory = settings.max_memory_mib as usize * 1024 * 1024;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(settings.pool_instances)
            .total_core_instances(settings.pool_instances * 4)
            .total_memories(settings.pool_instances * 2)
            .total_tables(settings.pool_instances * 4)
            .max_memory_size(max_memory)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_core_instances_per_component(32)
            .max_component_instance_size(1 << 20)
            .max_core_instance_size(1 << 20)
            // Tables are small: zeroing them in place when an instance ends costs less
            // than returning their pages to the kernel and faulting them in again
            // (instantiation of the test qualifier: 14 µs -> 6 µs, `caliopen-bench runtime`).
            .table_keep_resident(64 * 1024)
            // Linear memories too: on reuse, the pages a call dirtied (found with the
            // PAGEMAP_SCAN ioctl where the kernel has it, Linux 6.7+) are reset in
            // place up to 4 MiB instead of being given back and faulted in again
            // (`caliopen-bench chain`: 876 -> 784 µs per message in Wasm).
            .linear_memory_keep_resident(4 << 20)
            .pagemap_scan(wasmtime::Enabled::Auto);
        cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    cfg
}
