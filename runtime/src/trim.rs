//! Giving the memory a compilation used back to the system.
//!
//! Compiling a component (Cranelift, on several threads) allocates and frees a lot;
//! glibc keeps what was freed in per-thread arenas, so a process that compiled the
//! interpreted qualifiers at start-up would sit on hundreds of MB it no longer uses.

/// Returns the allocator's free memory to the system (glibc only; elsewhere a no-op).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[allow(unsafe_code)]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no
    // pointers from us and is safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
