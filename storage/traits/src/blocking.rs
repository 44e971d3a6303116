//! Threads on which a storage operation may block instead of going to a blocking pool.
//!
//! Backends with synchronous engines (the embedded one) run their reads on tokio's
//! blocking pool so that async workers never block. A caller that is itself on a
//! thread made for blocking work (the runtime runs components on such threads, and
//! their host calls wait for core there) gains nothing from the hand-off to another
//! thread and pays two context switches for it: it wraps its work in
//! [`blocking_allowed`], and backends ask [`may_block`] before handing off.

use std::cell::Cell;

thread_local! {
    static MAY_BLOCK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with storage operations allowed to block this thread. Call it only on a
/// thread that is not an async worker (e.g. inside `tokio::task::spawn_blocking`).
pub fn blocking_allowed<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            MAY_BLOCK.with(|m| m.set(self.0));
        }
    }
    let _restore = Restore(MAY_BLOCK.with(|m| m.replace(true)));
    f()
}

/// Whether the current thread is inside [`blocking_allowed`].
pub fn may_block() -> bool {
    MAY_BLOCK.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_holds_inside_and_is_restored_after() {
        assert!(!may_block());
        let nested = blocking_allowed(|| {
            let inner = blocking_allowed(may_block);
            (may_block(), inner)
        });
        assert_eq!(nested, (true, true));
        assert!(!may_block());
        let other =
            std::thread::spawn(|| blocking_allowed(|| std::thread::spawn(may_block).join()))
                .join()
                .unwrap()
                .unwrap();
        assert!(!other, "the permission belongs to one thread");
    }

    #[test]
    fn a_panic_inside_restores_the_previous_state() {
        let caught = std::panic::catch_unwind(|| blocking_allowed(|| panic!("boom")));
        assert!(caught.is_err());
        assert!(!may_block());
    }
}
