//! The global allocator of Caliopen's Rust components (wasm32 only; elsewhere this
//! crate is empty and the platform's allocator stays).
//!
//! Rust's standard allocator on `wasm32-unknown-unknown` is dlmalloc fed by
//! `memory.grow`, so every call of a component grows its linear memory past the
//! initial size at its first allocation. Each instance is fresh, so that happens on
//! every call, and the host pays for it twice: Wasmtime makes the grown pages
//! accessible with `mprotect`, and when the pooled memory slot is reused it makes
//! them inaccessible again, a change of protection that flushes the TLB of every
//! CPU running the process (`caliopen-bench chain`, `perf`).
//!
//! Here dlmalloc's first region is [`ARENA_BYTES`] of zeroed static memory, part of
//! the module's initial memory (bss, so not in its data image), and only what does
//! not fit grows the memory. The allocation algorithm is unchanged.
//!
//! A component links it with `use caliopen_guest_alloc as _;`.

#![no_std]

#[cfg(target_arch = "wasm32")]
mod wasm;

/// Size of the static arena served before the memory grows: most calls of the
/// default chain need less (`caliopen-bench runtime`: peak linear memory per call).
pub const ARENA_BYTES: usize = 1 << 20;
