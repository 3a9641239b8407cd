//! [`WipeOnFree`]: a global allocator that zeroes every heap block before it is freed.
//!
//! **Why.** The document lives in protected memory, but text still passes through ordinary
//! heap memory on its way to and from the screen: crossterm's event parser (a bracketed paste
//! is gathered in a growing `Vec<u8>`, then copied into a `String`), the `String` of a paste
//! event, ratatui's frame buffers (grapheme clusters longer than 24 bytes spill to the heap,
//! and the cell vectors are reallocated on resize), the `Line`s and `Span`s the interface
//! builds for each frame, and any other temporary that briefly saw text. The allocator cannot
//! keep such copies from existing, but it makes each one die with its allocation: a freed
//! block is zeroed before the system allocator may hand it to anyone else, and a reallocated
//! block's old copy is zeroed too. It is defence in depth; the primary protection is keeping
//! those copies few and short-lived.
//!
//! **What it does not reach.** Memory that is never freed while the program runs: a `Vec`'s
//! or `String`'s spare capacity after `clear` or `truncate` (the bytes stay in the live block),
//! buffers held in statics (crossterm's input reader keeps its read buffer, parser buffer and
//! event queue for the life of the process), stack copies, and registers. Memory still
//! allocated at exit is not freed at all; the kernel zeroes those pages before reusing them.
//! The system allocator writes its own bookkeeping into a freed block's first bytes, over our
//! zeros, which reveals nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;
use std::sync::atomic::{Ordering, compiler_fence};

/// The system allocator, with every block zeroed before it is freed and every reallocation
/// done as allocate, copy, zero the old block, free it.
///
/// Installed in `main.rs` with `#[global_allocator]`.
pub struct WipeOnFree;

// SAFETY: every method forwards to `System`, which upholds `GlobalAlloc`'s contract, with the
// same layouts it was given; `dealloc` only adds a wipe of the block the caller is giving up
// (valid for `layout.size()` bytes and no longer used by anyone, by `dealloc`'s contract), and
// `realloc` is built from `alloc`, a copy of the bytes both blocks hold, and `dealloc`, which
// returns either a block fitting the new layout holding the old contents, or null with the old
// block untouched, as `realloc` must.
unsafe impl GlobalAlloc for WipeOnFree {
    /// Forwards to the system allocator.
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: our caller upholds `alloc`'s contract (a non-zero size), which is `System`'s.
        unsafe { System.alloc(layout) }
    }

    /// Forwards to the system allocator (which may get zeroed pages cheaply from the kernel).
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    /// Zeroes the block, then frees it: what it held never reaches the free lists.
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `dealloc`'s contract: `ptr` is a live block of ours of `layout.size()`
        // bytes, and the caller no longer uses it, so nothing else touches it meanwhile.
        unsafe { wipe(ptr, layout.size()) };
        // SAFETY: the same block and layout, given by our caller, were allocated by `System`.
        unsafe { System.dealloc(ptr, layout) }
    }

    /// Allocates the new block, copies, then wipes and frees the old one. Never the system's
    /// own `realloc`: moving a block frees the old one unwiped, and shrinking in place would
    /// leave the cut tail unwiped (and it may move anyway), so the old block is always ours
    /// to wipe whole.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `realloc`'s contract: `new_size` is non-zero and, rounded up to
        // `layout.align()` (already a valid alignment), does not overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: `ptr` is valid for `layout.size()` bytes, `new` for `new_size`, both for
            // at least the smaller of the two; they are distinct live blocks, so no overlap.
            unsafe { ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            // SAFETY: `ptr` is our live block of `layout`, which the caller gives up on success.
            unsafe { self.dealloc(ptr, layout) };
        }
        new
    }
}

/// Overwrites `len` bytes at `ptr` with zeros by volatile stores, which the optimiser may not
/// remove even though the block is freed right after: a word at a time over the aligned
/// middle (eight times fewer stores than bytewise zeroing), a byte at a time at the ends.
///
/// # Safety
/// `ptr..ptr + len` must be valid for writes, and nothing else may access it during the call.
pub unsafe fn wipe(ptr: *mut u8, len: usize) {
    const WORD: usize = size_of::<usize>();
    // `align_offset` may give up (usize::MAX); then everything goes bytewise.
    let head = ptr.align_offset(align_of::<usize>()).min(len);
    let words = (len - head) / WORD;
    for i in 0..head {
        // SAFETY: `i < head <= len`: inside the range the caller vouches for.
        unsafe { ptr.add(i).write_volatile(0) };
    }
    // SAFETY: `head <= len`, so this stays inside (or one past the end of) the range.
    let middle = unsafe { ptr.add(head) }.cast::<usize>();
    for i in 0..words {
        // SAFETY: `middle` is word-aligned (that is what `head` bytes bought) and word `i`
        // ends at `head + (i + 1) * WORD <= len` bytes: inside the range.
        unsafe { middle.add(i).write_volatile(0) };
    }
    for i in head + words * WORD..len {
        // SAFETY: `i < len`: inside the range.
        unsafe { ptr.add(i).write_volatile(0) };
    }
    // Keeps the zeroing ordered before the free that follows, for the compiler as well.
    compiler_fence(Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    //! The allocator's methods called on a local `WipeOnFree` (freed memory cannot be read
    //! soundly, so the wipe itself is tested on live memory), and its cost.

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::hint::black_box;
    use std::time::Instant;

    use super::{WipeOnFree, wipe};

    #[test]
    fn wipe_zeroes_exactly_the_range() {
        let mut block = vec![0xaau8; 96];
        for start in 0..10 {
            for len in 0..70 {
                block.fill(0xaa);
                // SAFETY: `start + len < 96`: inside `block`, which nothing else uses.
                unsafe { wipe(block.as_mut_ptr().add(start), len) };
                assert!(block[..start].iter().all(|&b| b == 0xaa), "before {start}+{len}");
                assert!(block[start..start + len].iter().all(|&b| b == 0), "inside {start}+{len}");
                assert!(block[start + len..].iter().all(|&b| b == 0xaa), "after {start}+{len}");
            }
        }
    }

    #[test]
    fn alloc_write_dealloc_and_alloc_zeroed() {
        let layout = Layout::from_size_align(1000, 8).unwrap();
        // SAFETY: a non-zero size.
        let p = unsafe { WipeOnFree.alloc(layout) };
        assert!(!p.is_null());
        // SAFETY: `p` is a live block of 1000 bytes.
        unsafe { p.write_bytes(0x5a, 1000) };
        // SAFETY: `p` was allocated by this allocator with `layout`, and is not used again.
        unsafe { WipeOnFree.dealloc(p, layout) };

        // SAFETY: a non-zero size.
        let z = unsafe { WipeOnFree.alloc_zeroed(layout) };
        assert!(!z.is_null());
        // SAFETY: `z` is a live, initialised (zeroed) block of 1000 bytes.
        assert!(unsafe { std::slice::from_raw_parts(z, 1000) }.iter().all(|&b| b == 0));
        // SAFETY: allocated here with `layout`, not used again.
        unsafe { WipeOnFree.dealloc(z, layout) };
    }

    #[test]
    fn realloc_grow_and_shrink_keep_the_contents() {
        for align in [1, 8, 64, 4096] {
            let layout = Layout::from_size_align(100, align).unwrap();
            // SAFETY: a non-zero size.
            let p = unsafe { WipeOnFree.alloc(layout) };
            assert!(!p.is_null());
            let pattern = |i: usize| (i * 7 + 3) as u8;
            for i in 0..100 {
                // SAFETY: `i < 100`, inside the live block.
                unsafe { p.add(i).write(pattern(i)) };
            }
            // SAFETY: `p` is ours with `layout`; 5000 rounded up to `align` fits `isize`.
            let grown = unsafe { WipeOnFree.realloc(p, layout, 5000) };
            assert!(!grown.is_null());
            assert_eq!(grown.align_offset(align), 0, "alignment kept");
            // SAFETY: the first 100 bytes of the grown block are initialised (copied).
            let kept = unsafe { std::slice::from_raw_parts(grown, 100) };
            assert!(kept.iter().enumerate().all(|(i, &b)| b == pattern(i)), "grown, align {align}");

            let grown_layout = Layout::from_size_align(5000, align).unwrap();
            // SAFETY: `grown` is ours with `grown_layout`; 40 is non-zero.
            let shrunk = unsafe { WipeOnFree.realloc(grown, grown_layout, 40) };
            assert!(!shrunk.is_null());
            assert_eq!(shrunk.align_offset(align), 0, "alignment kept");
            // SAFETY: the 40 bytes of the shrunk block are initialised (copied).
            let kept = unsafe { std::slice::from_raw_parts(shrunk, 40) };
            assert!(kept.iter().enumerate().all(|(i, &b)| b == pattern(i)), "shrunk, align {align}");
            // SAFETY: `shrunk` is ours with this layout, and not used again.
            unsafe { WipeOnFree.dealloc(shrunk, Layout::from_size_align(40, align).unwrap()) };
        }
    }

    /// Allocates, writes and frees a 1 KiB block a million times through `alloc`.
    fn churn(alloc: &impl GlobalAlloc) -> std::time::Duration {
        let layout = Layout::from_size_align(1024, 8).unwrap();
        let start = Instant::now();
        for i in 0..1_000_000u32 {
            // SAFETY: a non-zero size.
            let p = black_box(unsafe { alloc.alloc(layout) });
            assert!(!p.is_null());
            // SAFETY: `p` is a live block of 1024 bytes.
            unsafe { p.write_bytes(i as u8, 1024) };
            // SAFETY: allocated just above with `layout`, not used again.
            unsafe { alloc.dealloc(black_box(p), layout) };
        }
        start.elapsed()
    }

    /// Grows a block from 8 bytes to 1 MiB by doubling, a hundred times, through `alloc`.
    fn growth(alloc: &impl GlobalAlloc) -> std::time::Duration {
        let start = Instant::now();
        for _ in 0..100 {
            let mut layout = Layout::from_size_align(8, 8).unwrap();
            // SAFETY: a non-zero size.
            let mut p = unsafe { alloc.alloc(layout) };
            while layout.size() < 1 << 20 {
                assert!(!p.is_null());
                // SAFETY: `p` is a live block of `layout.size()` bytes.
                unsafe { p.write_bytes(1, layout.size()) };
                // SAFETY: `p` is ours with `layout`; twice its size is far below `isize::MAX`.
                p = black_box(unsafe { alloc.realloc(p, layout, layout.size() * 2) });
                layout = Layout::from_size_align(layout.size() * 2, 8).unwrap();
            }
            // SAFETY: `p` is ours with `layout`, not used again.
            unsafe { alloc.dealloc(p, layout) };
        }
        start.elapsed()
    }

    /// The allocator's cost against the system allocator alone. Run optimised:
    /// `cargo test --release -p strongroom-cli --bin sedit -- --ignored --nocapture wipe_cost`.
    #[test]
    #[ignore = "a timing, not a test"]
    fn wipe_cost() {
        for round in 0..2 {
            let (system, wiping) = (churn(&System), churn(&WipeOnFree));
            println!("round {round}: 1e6 x 1 KiB alloc+write+free: System {system:?}, WipeOnFree {wiping:?}");
            let (system, wiping) = (growth(&System), growth(&WipeOnFree));
            println!("round {round}: 100 x grow 8 B -> 1 MiB by realloc: System {system:?}, WipeOnFree {wiping:?}");
        }
    }
}
