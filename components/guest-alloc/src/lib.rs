//! The global allocator of Caliopen's Rust components (wasm32 only; elsewhere this
//! crate is empty and the platform's allocator stays).
//!
//! A component instance lives for one call: the host makes a fresh one for every
//! message and throws it away after, memory and all. So the allocator need not
//! reuse freed memory; it hands blocks out in address order ("bump" allocation),
//! gives back only the last block when it is freed, and grows the last block in
//! place when it is reallocated (a growing `Vec` or `String`). That is a few
//! instructions per allocation where dlmalloc, Rust's standard allocator on
//! `wasm32-unknown-unknown`, keeps bins and headers (`caliopen-bench chain`: the
//! default chain 13-14% faster per message). The cost is memory for what is freed
//! and not reused: on the corpus, the peak linear memory of a call is unchanged
//! (the first megabyte is a static arena, below); on a mail at the size limit it is
//! the same as dlmalloc's, the large blocks dominating (runtime/tests/large_mail.rs).
//! A component that frees and allocates a lot in a loop should keep its buffers.
//!
//! The first [`ARENA_BYTES`] are zeroed static memory, part of the module's initial
//! memory (bss, so not in its data image); only what does not fit grows the memory,
//! by at least a mebibyte at a time. Growing on every call would cost the host two
//! changes of page protection per call (mprotect on growth, and again when the
//! pooled memory slot is reused, with a TLB flush on every CPU).
//!
//! A component links it with `use caliopen_guest_alloc as _;`.

#![no_std]

#[cfg(target_arch = "wasm32")]
mod wasm;

/// Size of the static arena served before the memory grows: most calls of the
/// default chain need less (`caliopen-bench runtime`: peak linear memory per call).
pub const ARENA_BYTES: usize = 1 << 20;
