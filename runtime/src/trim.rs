//! The allocator: mimalloc, tuned to give memory back, and giving back what a
//! compilation used.
//!
//! The `caliopen` binary allocates with mimalloc (see its `main.rs`): message pages
//! and parsed mail are many short-lived buffers, which glibc's malloc serves with
//! arena locks and consolidation on free. By default mimalloc keeps freed memory
//! for a second and commits whole arenas eagerly, which would leave a process that
//! compiled components at start-up holding memory it no longer uses: [`configure`]
//! shortens the first to 10 ms, and the workspace's `.cargo/config.toml` builds
//! mimalloc with lazily committed arenas (the first one exists before `main`).
//! Side by side (`caliopen-bench api`, 5000 messages): purging at once made search
//! 0.83x as fast as glibc's malloc; after 10 ms it is 1.3x, with idle memory the
//! same. Compiling a component (Cranelift, on several threads) allocates and frees
//! a lot, so the registry calls [`release_free_memory`] after one.

/// mimalloc's `mi_option_purge_delay`, in milliseconds (`mi_option_e` of mimalloc 3,
/// which `libmimalloc-sys` builds by default).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets mimalloc's options: free memory is returned to the system after 10 ms.
/// Call it first thing in `main`.
pub fn configure() {
    #[allow(unsafe_code)]
    // SAFETY: mi_option_set only stores an integer in mimalloc's option table; the
    // option ids are checked against mimalloc's defaults by the tests below.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 10);
    }
}

/// Returns the allocators' free memory to the system: mimalloc's, and glibc's for
/// what C code allocates there.
pub fn release_free_memory() {
    #[allow(unsafe_code)]
    // SAFETY: mi_collect walks mimalloc's own heaps and takes no pointers from us;
    // malloc_trim does the same for glibc's free lists. Both are safe to call at any
    // time from any thread.
    unsafe {
        libmimalloc_sys::mi_collect(true);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        libc::malloc_trim(0);
    }
    // Cranelift compiles on the threads of rayon's global pool, and mimalloc keeps
    // each thread's freed pages with that thread until it allocates again: idle pool
    // threads would hold the compilation's memory for good.
    rayon::broadcast(|_| {
        #[allow(unsafe_code)]
        // SAFETY: as above, on each thread of the pool.
        unsafe {
            libmimalloc_sys::mi_collect(true);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// mimalloc's `mi_option_arena_eager_commit`.
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

    #[test]
    fn the_option_ids_are_the_ones_mimalloc_documents() {
        #[allow(unsafe_code)]
        // SAFETY: mi_option_get only reads mimalloc's option table.
        let (purge, eager) = unsafe {
            (
                libmimalloc_sys::mi_option_get(PURGE_DELAY),
                libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT),
            )
        };
        // mimalloc 3's defaults (1000 ms, 2) unless `configure` ran in this process.
        assert!(matches!(purge, 1000 | 10), "purge_delay reads {purge}");
        assert_eq!(
            eager, 0,
            "mimalloc was built without the CFLAGS of the workspace's .cargo/config.toml"
        );
        configure();
        release_free_memory();
        #[allow(unsafe_code)]
        // SAFETY: as above.
        let after = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(after, 10);
    }
}
