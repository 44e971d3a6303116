//! The allocator itself: bump allocation over the arena, then over regions got
//! from `memory.grow`.
// A global allocator and its regions are raw memory by nature.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

use crate::ARENA_BYTES;

const PAGE: usize = 64 * 1024;

/// The memory grows by at least this many pages at a time.
const GROW_PAGES: usize = 16;

#[repr(C, align(65536))]
struct Arena(UnsafeCell<[u8; ARENA_BYTES]>);

// SAFETY: wasm32 components are single-threaded.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_BYTES]));

/// Where the next block goes and where the current region ends.
struct Region {
    next: usize,
    end: usize,
}

impl Region {
    fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        if self.end == 0 {
            self.next = ARENA.0.get() as usize;
            self.end = self.next + ARENA_BYTES;
        }
        let mut start = (self.next + align - 1) & !(align - 1);
        if start.checked_add(size).is_none_or(|stop| stop > self.end) {
            let Some(need) = size.checked_add(align) else {
                return ptr::null_mut();
            };
            if !self.grow(need) {
                return ptr::null_mut();
            }
            start = (self.next + align - 1) & !(align - 1);
        }
        self.next = start + size;
        start as *mut u8
    }

    /// Grows the memory by at least `need` bytes; the region continues there.
    fn grow(&mut self, need: usize) -> bool {
        let pages = need.div_ceil(PAGE).max(GROW_PAGES);
        let previous = core::arch::wasm32::memory_grow(0, pages);
        if previous == usize::MAX {
            return false;
        }
        let base = previous * PAGE;
        if base != self.end {
            self.next = base;
        }
        self.end = base + pages * PAGE;
        true
    }
}

struct Bump(UnsafeCell<Region>);

// SAFETY: single-threaded, see above.
unsafe impl Sync for Bump {}

#[global_allocator]
static ALLOCATOR: Bump = Bump(UnsafeCell::new(Region { next: 0, end: 0 }));

// SAFETY: hands out disjoint, aligned blocks; single-threaded.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let r = unsafe { &mut *self.0.get() };
        r.alloc(layout.size(), layout.align())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let r = unsafe { &mut *self.0.get() };
        // Only the last block comes back; the rest goes with the instance.
        if ptr as usize + layout.size() == r.next {
            r.next = ptr as usize;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let r = unsafe { &mut *self.0.get() };
        let p = ptr as usize;
        // The last block grows or shrinks in place when the region has room.
        if p + layout.size() == r.next && p.checked_add(new_size).is_some_and(|s| s <= r.end) {
            r.next = p + new_size;
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        let new = r.alloc(new_size, layout.align());
        if !new.is_null() {
            unsafe { ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        }
        new
    }
}
