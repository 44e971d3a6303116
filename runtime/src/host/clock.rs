//! `caliopen:platform/clock`.

use crate::wasm::bindings::clock::Host;

use super::HostState;

impl Host for HostState {
    fn now(&mut self) -> wasmtime::Result<i64> {
        Ok(chrono::Utc::now().timestamp_millis())
    }
}
