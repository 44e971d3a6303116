//! `caliopen:platform/log`: into the host's structured logs, capped per call.

use crate::wasm::bindings::log::{Host, Level};

use super::HostState;

impl Host for HostState {
    fn log(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        if self.log_lines_left == 0 {
            self.log_lines_dropped += 1;
            return Ok(());
        }
        self.log_lines_left -= 1;
        let message: String = message.chars().take(2048).collect();
        let (name, version) = (&*self.label.name, &*self.label.version);
        match level {
            Level::Trace => tracing::trace!(component = name, version, "{message}"),
            Level::Debug => tracing::debug!(component = name, version, "{message}"),
            Level::Info => tracing::info!(component = name, version, "{message}"),
            Level::Warn => tracing::warn!(component = name, version, "{message}"),
            Level::Error => tracing::error!(component = name, version, "{message}"),
        }
        Ok(())
    }
}
