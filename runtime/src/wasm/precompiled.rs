//! Loading precompiled artefacts: the one place the runtime uses `unsafe`.

#![allow(unsafe_code)]

use std::path::Path;

use wasmtime::component::Component;

use super::engine::WasmEngine;

/// Loads an artefact written by `Engine::precompile_component` into the cache.
pub fn load(engine: &WasmEngine, path: &Path) -> wasmtime::Result<Component> {
    // `perf` reads /tmp/perf-<pid>.map only for code in anonymous memory: code mapped
    // from the file would be named after the file, not after the guest's functions.
    let bytes = if engine.perf_map() {
        Some(std::fs::read(path)?)
    } else {
        None
    };
    // SAFETY: the file was produced by `precompile_component` of an engine with the
    // same compatibility hash (it is part of the file name), written by this
    // process to a temporary name and renamed into place, in a directory only the
    // Caliopen process writes. Wasmtime additionally checks the header and
    // engine settings of the artefact before using it.
    unsafe {
        match &bytes {
            Some(bytes) => Component::deserialize(engine.engine(), bytes),
            None => Component::deserialize_file(engine.engine(), path),
        }
    }
}
