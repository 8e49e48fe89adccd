//! A live-heap counter: bytes an allocator has handed out and not had back.
//! Wasm memory only grows, so its size mixes what is in use with what
//! fragmentation left unused; the live heap falls when things are freed,
//! so it is the figure in which a leak shows. The page's worker installs
//! [`CountingAllocator`] as its global allocator and reports the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting the bytes it has out.
pub struct CountingAllocator {
    in_use: AtomicUsize,
}

impl Default for CountingAllocator {
    fn default() -> Self {
        Self::new()
    }
}

impl CountingAllocator {
    /// An allocator with nothing out yet.
    pub const fn new() -> Self {
        Self {
            in_use: AtomicUsize::new(0),
        }
    }

    /// Bytes handed out and not yet freed.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    fn handed_out(&self, bytes: usize) {
        self.in_use.fetch_add(bytes, Ordering::Relaxed);
    }

    fn given_back(&self, bytes: usize) {
        self.in_use.fetch_sub(bytes, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on unchanged to `System`, which upholds
// `GlobalAlloc`'s contract; the counter only observes the sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = System.alloc(layout);
        if !block.is_null() {
            self.handed_out(layout.size());
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let block = System.alloc_zeroed(layout);
        if !block.is_null() {
            self.handed_out(layout.size());
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        System.dealloc(block, layout);
        self.given_back(layout.size());
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let moved = System.realloc(block, layout, new_size);
        if !moved.is_null() {
            self.given_back(layout.size());
            self.handed_out(new_size);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_out_through_alloc_realloc_and_free() {
        let heap = CountingAllocator::new();
        let layout = Layout::from_size_align(1000, 8).unwrap();
        // SAFETY: each block is freed once, with the layout it has.
        unsafe {
            let a = heap.alloc(layout);
            let b = heap.alloc_zeroed(layout);
            assert!(!a.is_null() && !b.is_null());
            assert_eq!(*b.add(999), 0);
            assert_eq!(heap.in_use(), 2000);
            let a = heap.realloc(a, layout, 5000);
            assert!(!a.is_null());
            assert_eq!(heap.in_use(), 6000);
            heap.dealloc(a, Layout::from_size_align(5000, 8).unwrap());
            assert_eq!(heap.in_use(), 1000);
            heap.dealloc(b, layout);
        }
        assert_eq!(heap.in_use(), 0);
    }
}
