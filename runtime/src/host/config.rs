//! `caliopen:platform/config`: the `[config]` table of the component's manifest.

use crate::wasm::bindings::config::Host;

use super::HostState;

impl Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.config.get(&key).cloned())
    }
}
