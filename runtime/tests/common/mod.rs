//! Helpers shared by the runtime's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A component built by `cargo xtask components`; fails with the command to run
/// when it is missing, rather than skipping.
pub fn component(artefact: &str) -> Vec<u8> {
    let path = root()
        .join("target/components")
        .join(format!("{artefact}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. Build the components first: `cargo xtask components` (the README's test command does it)",
            path.display()
        )
    })
}

pub fn manifest(dir: &str) -> caliopen_runtime::wasm::Manifest {
    caliopen_runtime::wasm::Manifest::load(
        &root().join("components").join(dir).join("component.toml"),
    )
    .unwrap()
}

pub mod inproc;
pub mod node;
pub mod relay;
