//! Per-thread caches of free slots, so that two threads allocating at once do not meet on
//! one lock: each thread pops and pushes its own bins and visits the shared class state only
//! to refill or flush a batch.
//!
//! A cached slot is free and already zeroed; its arena counts it as handed out until the
//! cache flushes it (when the bin overflows, or when the thread exits).

use std::cell::RefCell;
use std::ptr::{self, NonNull};

use super::class::CLASSES;
use super::shared::shared;
use crate::error::Result;
use crate::sys::Stamp;

/// Slots a bin holds before it flushes.
const BIN_CAPACITY: usize = 32;
/// Slots moved per refill or flush.
const BATCH: usize = BIN_CAPACITY / 2;

#[derive(Clone, Copy)]
struct Bin {
    len: usize,
    slots: [*mut u8; BIN_CAPACITY],
}

struct ThreadCache {
    /// The fork generation the cached slots belong to.
    stamp: Stamp,
    bins: [Bin; CLASSES],
}

impl ThreadCache {
    const fn new() -> Self {
        ThreadCache { stamp: Stamp::ORIGINAL, bins: [Bin { len: 0, slots: [ptr::null_mut(); BIN_CAPACITY] }; CLASSES] }
    }

    /// Forgets slots cached before a `fork`: in this child they belong to an abandoned pool.
    fn check_generation(&mut self) {
        if !self.stamp.is_current() {
            self.bins.iter_mut().for_each(|bin| bin.len = 0);
            self.stamp = Stamp::now();
        }
    }

    fn take(&mut self, class: usize) -> Result<NonNull<u8>> {
        self.check_generation();
        let bin = &mut self.bins[class];
        if bin.len == 0 {
            bin.len = shared().class(class).take_batch(&mut bin.slots[..BATCH])?;
        }
        bin.len -= 1;
        Ok(NonNull::new(bin.slots[bin.len]).expect("bins hold only slots"))
    }

    fn give(&mut self, class: usize, slot: NonNull<u8>) {
        self.check_generation();
        let bin = &mut self.bins[class];
        if bin.len == BIN_CAPACITY {
            // Flush the oldest half; the most recently freed slots are the warmest.
            let mut state = shared().class(class);
            bin.slots[..BATCH].iter().for_each(|&s| state.give(NonNull::new(s).expect("bins hold only slots")));
            drop(state);
            bin.slots.copy_within(BATCH.., 0);
            bin.len -= BATCH;
        }
        bin.slots[bin.len] = slot.as_ptr();
        bin.len += 1;
    }
}

impl ThreadCache {
    /// Returns every cached slot to its arena.
    fn flush(&mut self) {
        if !self.stamp.is_current() {
            return;
        }
        let shared = shared();
        for (class, bin) in self.bins.iter_mut().enumerate() {
            if bin.len > 0 {
                let mut state = shared.class(class);
                bin.slots[..bin.len].iter().for_each(|&s| state.give(NonNull::new(s).expect("bins hold only slots")));
                bin.len = 0;
            }
        }
    }
}

impl Drop for ThreadCache {
    /// A thread's exit returns its cached slots, so arenas can empty and be unmapped.
    fn drop(&mut self) {
        self.flush();
    }
}

/// Returns this thread's cached slots to their arenas now.
#[cfg(all(unix, not(miri)))]
pub(super) fn flush() {
    let _ = CACHE.try_with(|cache| cache.try_borrow_mut().map(|mut cache| cache.flush()));
}

thread_local! {
    static CACHE: RefCell<ThreadCache> = const { RefCell::new(ThreadCache::new()) };
}

/// Checks that every slot in this thread's cache still reads as zeros (aborting if not);
/// returns how many it checked.
pub(super) fn verify_cached() -> usize {
    let check = |cache: &ThreadCache| {
        if !cache.stamp.is_current() {
            return 0;
        }
        let mut n = 0;
        for (class, bin) in cache.bins.iter().enumerate() {
            for &slot in &bin.slots[..bin.len] {
                // SAFETY: a cached slot is free, owned by this thread's cache, and mapped.
                let bytes = unsafe { std::slice::from_raw_parts(slot, super::class::CLASS_SIZES[class]) };
                if !super::canary::is_zero(bytes) {
                    super::canary::breached("inside a freed pooled slot (write after free)");
                }
                n += 1;
            }
        }
        n
    };
    CACHE.try_with(|cache| cache.try_borrow().map_or(0, |c| check(&c))).unwrap_or(0)
}

/// A free, zeroed slot of `class`.
pub(super) fn take(class: usize) -> Result<NonNull<u8>> {
    let cached = CACHE.try_with(|cache| cache.try_borrow_mut().ok().map(|mut cache| cache.take(class)));
    match cached {
        Ok(Some(result)) => result,
        // The thread is exiting (or re-entered us): go to the shared state directly.
        _ => {
            let mut one = [ptr::null_mut(); 1];
            shared().class(class).take_batch(&mut one)?;
            Ok(NonNull::new(one[0]).expect("take_batch fills at least one"))
        }
    }
}

/// Returns a zeroed slot of `class`.
pub(super) fn give(class: usize, slot: NonNull<u8>) {
    let cached = CACHE.try_with(|cache| cache.try_borrow_mut().ok().map(|mut cache| cache.give(class, slot)));
    if !matches!(cached, Ok(Some(()))) {
        shared().class(class).give(slot);
    }
}
