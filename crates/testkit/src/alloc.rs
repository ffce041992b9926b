//! A counting global allocator, so tests can prove that `process` never allocates.
//!
//! Install it once per test binary with [`install_counting_allocator!`](crate::install_counting_allocator),
//! then measure with [`count_allocations`]. Counting is per thread, so tests running in parallel
//! do not disturb each other.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// A global allocator that forwards to [`System`] and counts allocations made by the current
/// thread while counting is on.
pub struct CountingAllocator;

impl CountingAllocator {
    fn note(&self) {
        // `try_with` so that allocations during thread teardown never panic.
        let _ = COUNTING.try_with(|on| {
            if on.get() {
                let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            }
        });
    }
}

// SAFETY: only forwards to `System` and touches thread-local `Cell`s (which never allocate,
// thanks to `const` initialisation).
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Installs [`CountingAllocator`] as the global allocator of the current test binary.
#[macro_export]
macro_rules! install_counting_allocator {
    () => {
        #[global_allocator]
        static LATHE_COUNTING_ALLOCATOR: $crate::alloc::CountingAllocator =
            $crate::alloc::CountingAllocator;
    };
}

/// Runs `f` and returns how many heap allocations the current thread made inside it, and
/// `f`'s result.
pub fn count_allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    COUNT.with(|c| c.set(0));
    COUNTING.with(|on| on.set(true));
    let r = f();
    COUNTING.with(|on| on.set(false));
    (COUNT.with(Cell::get), r)
}

/// True when the counting allocator is the global allocator of this binary.
pub fn is_installed() -> bool {
    let (n, _) = count_allocations(|| std::hint::black_box(Box::new(1u64)));
    n > 0
}
