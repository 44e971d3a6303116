//! The allocator itself: dlmalloc over a [`System`] whose first region is the arena.
// A global allocator and its system region are raw memory by nature.
#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;

use dlmalloc::Dlmalloc;

use crate::ARENA_BYTES;

const PAGE: usize = 64 * 1024;

#[repr(C, align(65536))]
struct Arena(UnsafeCell<[u8; ARENA_BYTES]>);

// SAFETY: wasm32 components are single-threaded; the arena is handed out once.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_BYTES]));

/// dlmalloc's source of regions: the arena first, then `memory.grow`.
struct System {
    arena_taken: UnsafeCell<bool>,
}

// SAFETY: as for `Arena`, single-threaded.
unsafe impl Send for System {}

/// dlmalloc must not merge or release the arena (it is not grown memory).
const EXTERN_BIT: u32 = 1;

// SAFETY: regions handed out are valid, zeroed, page-aligned, and never handed twice.
unsafe impl dlmalloc::Allocator for System {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        // SAFETY: single-threaded, see above.
        let taken = unsafe { &mut *self.arena_taken.get() };
        if !*taken && size <= ARENA_BYTES {
            *taken = true;
            return (ARENA.0.get().cast(), ARENA_BYTES, EXTERN_BIT);
        }
        let pages = size.div_ceil(PAGE);
        let previous = core::arch::wasm32::memory_grow(0, pages);
        if previous == usize::MAX {
            return (ptr::null_mut(), 0, 0);
        }
        ((previous * PAGE) as *mut u8, pages * PAGE, 0)
    }

    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        ptr::null_mut()
    }

    fn free_part(&self, _ptr: *mut u8, _old: usize, _new: usize) -> bool {
        false
    }

    fn free(&self, _ptr: *mut u8, _size: usize) -> bool {
        false
    }

    fn can_release_part(&self, _flags: u32) -> bool {
        false
    }

    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        PAGE
    }
}

struct GuestAlloc(UnsafeCell<Dlmalloc<System>>);

// SAFETY: single-threaded, see above.
unsafe impl Sync for GuestAlloc {}

#[global_allocator]
static ALLOCATOR: GuestAlloc = GuestAlloc(UnsafeCell::new(Dlmalloc::new_with_allocator(System {
    arena_taken: UnsafeCell::new(false),
})));

// SAFETY: forwards to dlmalloc, whose contract is GlobalAlloc's; single-threaded.
unsafe impl GlobalAlloc for GuestAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).malloc(layout.size(), layout.align()) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { (*self.0.get()).calloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { (*self.0.get()).free(ptr, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { (*self.0.get()).realloc(ptr, layout.size(), layout.align(), new_size) }
    }
}
