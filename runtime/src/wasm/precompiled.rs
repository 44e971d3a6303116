//! Loading precompiled artefacts: the one place the runtime uses `unsafe`.

#![allow(unsafe_code)]

use std::path::Path;

use wasmtime::component::Component;

use super::engine::WasmEngine;

/// Loads an artefact written by `Engine::precompile_component` into the cache.
pub fn load(engine: &WasmEngine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: the file was produced by `precompile_component` of an engine with the
    // same compatibility hash (it is part of the file name), written by this
    // process to a temporary name and renamed into place, in a directory only the
    // Caliopen process writes. Wasmtime additionally checks the header and
    // engine settings of the artefact before using it.
    unsafe { Component::deserialize_file(engine.engine(), path) }
}
