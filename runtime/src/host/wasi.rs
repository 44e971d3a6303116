//! WASI for interpreted guests (Python via componentize-py, JavaScript via
//! componentize-js): linked only for manifests with `wasi = true`, and granting
//! nothing: no preopened directory, no network, no environment, no arguments.
//! What the guest writes to stdout and stderr is captured (capped) and logged
//! under the component's name after the call.

use wasmtime::component::Linker;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::HostState;

/// Bytes of stdout/stderr kept per call.
const OUTPUT_CAP: usize = 64 * 1024;

/// The WASI state of one store, created on first use.
pub struct WasiState {
    ctx: WasiCtx,
    table: ResourceTable,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

impl std::fmt::Debug for WasiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WasiState")
    }
}

impl WasiState {
    fn new() -> Self {
        let stdout = MemoryOutputPipe::new(OUTPUT_CAP);
        let stderr = MemoryOutputPipe::new(OUTPUT_CAP);
        // The builder grants nothing by default (no preopens, env, args, stdin, and
        // every socket address refused); say so explicitly for the network, so that
        // a change of default upstream cannot open it.
        let ctx = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .allow_blocking_current_thread(true)
            .build();
        Self {
            ctx,
            table: ResourceTable::new(),
            stdout,
            stderr,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let state = self.wasi.get_or_insert_with(WasiState::new);
        WasiCtxView {
            ctx: &mut state.ctx,
            table: &mut state.table,
        }
    }
}

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)
}

impl HostState {
    /// Logs what a WASI guest printed during the call. Printed lines share the
    /// call's log budget (`limits.max_log_lines`) with the `log` interface; lines
    /// beyond it are counted as dropped.
    pub(crate) fn flush_wasi_output(&mut self) {
        let Some(state) = &self.wasi else { return };
        let (name, version) = (&*self.label.name, &*self.label.version);
        for (stream, pipe) in [("stdout", &state.stdout), ("stderr", &state.stderr)] {
            let bytes = pipe.contents();
            for line in String::from_utf8_lossy(&bytes)
                .lines()
                .filter(|l| !l.trim().is_empty())
            {
                if self.log_lines_left == 0 {
                    self.log_lines_dropped += 1;
                    continue;
                }
                self.log_lines_left -= 1;
                tracing::info!(component = name, version, stream, "{line}");
            }
        }
    }
}
