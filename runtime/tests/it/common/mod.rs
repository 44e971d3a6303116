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

/// The compiled-component cache the tests share, across tests and runs: artefacts are
/// keyed by the component's digest and the engine's settings, so a changed component or
/// engine never loads a stale one, and each component is compiled once per build.
pub fn shared_cache() -> PathBuf {
    root().join("target/test-component-cache")
}

/// The shared cache, locked: tests in other processes that need a component compiled
/// wait for this one to write it instead of compiling it at the same time. Unlocked when
/// the returned file is dropped.
pub fn lock_shared_cache() -> std::fs::File {
    let dir = shared_cache();
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.join(".lock")).unwrap();
    lock.lock().unwrap();
    lock
}

/// One component's entry in the shared cache, locked the same way, so that tests in
/// several processes compile several components side by side instead of one after
/// another. `Ok` when locked, `Err(file)` when another process holds it (`blocking`
/// false); wait for it with `file.lock()`.
pub fn lock_cache_entry(artefact: &str, blocking: bool) -> Result<std::fs::File, std::fs::File> {
    let dir = shared_cache();
    std::fs::create_dir_all(&dir).unwrap();
    let lock = std::fs::File::create(dir.join(format!(".lock-{artefact}"))).unwrap();
    if blocking {
        lock.lock().unwrap();
        return Ok(lock);
    }
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(lock),
        Err(std::fs::TryLockError::Error(e)) => panic!("locking the cache entry {artefact}: {e}"),
    }
}

pub fn manifest(dir: &str) -> caliopen_runtime::wasm::Manifest {
    caliopen_runtime::wasm::Manifest::load(
        &root().join("components").join(dir).join("component.toml"),
    )
    .unwrap()
}

pub mod drills;
pub mod inproc;
pub mod mailbox;
pub mod node;
pub mod relay;
