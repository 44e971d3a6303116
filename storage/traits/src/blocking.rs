//! Threads on which a storage operation may block instead of going to a blocking pool.
//!
//! Backends with synchronous engines (the embedded one) run their reads on tokio's
//! blocking pool so that async workers never block. A caller that is itself on a
//! thread made for blocking work (the runtime runs components on such threads, and
//! their host calls wait for core there) gains nothing from the hand-off to another
//! thread and pays two context switches for it: it wraps its work in
//! [`blocking_allowed`], and backends ask [`may_block`] before handing off.
//!
//! A future can carry the same permission into each of its polls, on whatever
//! async worker runs it: [`inline_reads`]. That trades a worker blocked for the
//! length of a read against two thread hand-offs per read, which is right for
//! request handlers whose reads are short point reads and page scans answered
//! from the engine's caches.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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

/// Wraps a future so that every poll of it runs inside [`blocking_allowed`].
pub fn inline_reads<F: Future>(future: F) -> InlineReads<F> {
    InlineReads {
        inner: Box::pin(future),
    }
}

/// The future of [`inline_reads`].
#[derive(Debug)]
pub struct InlineReads<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> Future for InlineReads<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        blocking_allowed(|| self.inner.as_mut().poll(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inline_reads_future_may_block_in_its_polls_only() {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let mut polled = Box::pin(inline_reads(std::future::poll_fn(|_| {
            Poll::Ready(may_block())
        })));
        assert_eq!(polled.as_mut().poll(&mut cx), Poll::Ready(true));
        assert!(!may_block(), "the permission ends with the poll");
    }

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
