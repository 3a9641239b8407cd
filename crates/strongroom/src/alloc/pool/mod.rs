//! The pooled policy: small secrets share large protected arenas, so a 32-byte key costs
//! 48 bytes of locked memory and a few nanoseconds instead of a locked page, two guard pages
//! and five system calls.
//!
//! What each pooled secret keeps: `memfd_secret` or locked, no-dump, wipe-on-fork pages (the
//! arena's); guard pages around the arena; a canary header between every two slots and
//! canary padding around the data inside its slot, all checked when the slot is freed (a
//! breach aborts); data flush against the next header, so a one-byte overflow is caught; and
//! a wipe of the whole slot on every free. What it gives up against the guarded policy: no
//! guard page of its own (a long overflow runs into the neighbour's slot before the canary
//! check catches it, at free time) and no per-secret read-only or no-access toggle.

mod arena;
pub(crate) mod class;
mod shared;
mod thread_cache;

use std::ptr::NonNull;

use class::{CLASS_SIZES, class_of, granule_round};

use super::canary;
use crate::error::Result;
use crate::policy::Protections;
use crate::sys::{self, Stamp};

#[cfg(test)]
pub(super) use arena::{HEADER, carve};
pub(crate) use class::MAX_POOLED;

/// How far into its slot an allocation of `size` bytes starts: the data sits flush against
/// the slot's end (and so against the next header), on a 16-byte boundary.
pub(super) fn data_offset(class_size: usize, size: usize) -> usize {
    class_size - granule_round(size)
}

/// A whole slot, mutably.
///
/// # Safety
/// `slot` must be a slot handed out to the caller (so nobody else touches it), of `len`
/// bytes, in a live arena, and stay so while the returned slice (of the caller's chosen
/// lifetime `'a`) is in use.
unsafe fn slot_bytes<'a>(slot: *mut u8, len: usize) -> &'a mut [u8] {
    // SAFETY: the caller guarantees `len` bytes at `slot` are mapped read-write in a live
    // arena and accessed by nothing else during `'a`: a valid, unique mutable slice.
    unsafe { std::slice::from_raw_parts_mut(slot, len) }
}

/// A canary header, read-only: it sits between two slots, so two threads may read it at
/// once, and nobody ever writes it after the arena is made.
///
/// # Safety
/// `header` must be a header of an arena that stays mapped while the returned slice (of the
/// caller's chosen lifetime `'a`) is in use.
unsafe fn header<'a>(header: *const u8) -> &'a [u8] {
    // SAFETY: the caller guarantees `HEADER` bytes at `header` are a mapped canary header for
    // all of `'a`; headers are never written after the arena is made, so shared reads by any
    // number of threads are fine.
    unsafe { std::slice::from_raw_parts(header, arena::HEADER) }
}

/// Allocates `size` bytes (1 ..= [`MAX_POOLED`]), zeroed, 16-byte aligned.
pub(crate) fn allocate(size: usize) -> Result<NonNull<u8>> {
    debug_assert!((1..=MAX_POOLED).contains(&size));
    let class = class_of(size).expect("callers route larger sizes to the guarded policy");
    let class_size = CLASS_SIZES[class];
    let slot = thread_cache::take(class)?;
    let offset = data_offset(class_size, size);
    // SAFETY: the slot was just handed to us; it is read-write and nobody else uses it.
    let whole = unsafe { slot_bytes(slot.as_ptr(), class_size) };
    // Every free slot was wiped; anything else means a stray write after it was freed.
    if !canary::is_zero(whole) {
        canary::breached("inside a freed pooled slot (write after free)");
    }
    let (front, rest) = whole.split_at_mut(offset);
    canary::fill(front);
    canary::fill(&mut rest[size..]);
    // Derived from the slot pointer (not from `rest`) so that its provenance covers the whole
    // slot and its headers, which `deallocate` reaches back to.
    // SAFETY: `offset < class_size`, so the data pointer lies inside the slot.
    Ok(unsafe { slot.add(offset) })
}

/// Frees what [`allocate`] returned: checks the canaries around it (aborting on a breach),
/// wipes the whole slot, and returns it to this thread's cache.
///
/// # Safety
/// `ptr` must come from `allocate(size)` with this same `size`, and not be used afterwards.
pub(crate) unsafe fn deallocate(ptr: NonNull<u8>, size: usize) {
    let class = class_of(size).expect("callers route larger sizes to the guarded policy");
    let class_size = CLASS_SIZES[class];
    let offset = data_offset(class_size, size);
    // The slot starts `offset` bytes before the data; the pointer keeps the arena's provenance.
    let slot = ptr.as_ptr().wrapping_sub(offset);
    if Stamp::in_forked_child() && !shared::shared().class(class).owns(slot.addr()) {
        // A forked child freeing a slot inherited from its parent: the kernel wiped or
        // withheld those pages at fork, and their pool was abandoned. Leave them alone.
        return;
    }
    // SAFETY: the headers on either side of a handed-out slot belong to its live arena.
    let (before, after) = unsafe { (header(slot.wrapping_sub(arena::HEADER)), header(slot.wrapping_add(class_size))) };
    // SAFETY: the caller gives the slot up, so it is ours alone.
    let whole = unsafe { slot_bytes(slot, class_size) };
    let (front, rest) = whole.split_at_mut(offset);
    if !(canary::intact(before) && canary::intact(after) && canary::intact(front) && canary::intact(&rest[size..])) {
        canary::breached("around a pooled secret");
    }
    // The slot goes back as the raw pointer, whose provenance covers its headers too.
    let slot = NonNull::new(slot).expect("a slot is never at address 0");
    // SAFETY: the caller gives the slot up, so its `class_size` bytes, mapped read-write in
    // a live arena, are ours alone to wipe (the slices made from it above are no longer used).
    unsafe { sys::wipe(slot, class_size) };
    thread_cache::give(class, slot);
}

/// Keeps `region` until [`release_large`] is called with `addr`.
pub(crate) fn keep_large(addr: usize, region: super::guarded::GuardedRegion) {
    shared::shared().large().insert(addr, region);
}

/// Releases (checks, wipes and frees) the region kept under `addr`. In a forked child,
/// regions inherited from the parent are not found and are left alone.
pub(crate) fn release_large(addr: usize) {
    let region = shared::shared().large().remove(&addr);
    if region.is_none() && !Stamp::in_forked_child() {
        sys::abort_with("strongroom: SecureAlloc was asked to free memory it did not allocate");
    }
    drop(region); // outside the lock: checking and wiping may take a while
}

/// Checks every canary of every pool arena, and that every free slot still reads as zeros
/// (a write to freed memory would not). Aborts the process on a breach, like a free would.
/// Returns the number of slots checked.
///
/// ```
/// let key = strongroom::SecretBox::new(|k: &mut [u8; 32]| k.fill(7))?;
/// assert!(strongroom::pool::verify() > 0);
/// # drop(key);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn verify() -> usize {
    let shared = shared::shared();
    let cached = thread_cache::verify_cached();
    cached + (0..CLASS_SIZES.len()).map(|class| shared.class(class).verify()).sum::<usize>()
}

/// Overflows a pooled block by one byte and frees it: the free must abort.
#[cfg(all(unix, not(miri)))]
pub(crate) fn probe_overflow() {
    if let Ok(ptr) = allocate(32) {
        // SAFETY: the byte after a 32-byte block is the next slot's canary header, inside
        // the same live arena; flipping it is the point of the probe.
        let past_end = unsafe { ptr.as_ptr().add(32) };
        // The canary is random: a fixed value would match its byte 1 time in 256 and leave it
        // intact, so write the complement of what is there.
        // SAFETY: `past_end` is the mapped, readable and writable header byte named above.
        unsafe { past_end.write_volatile(!past_end.read_volatile()) };
        // SAFETY: allocated just above with this size.
        unsafe { deallocate(ptr, 32) };
    }
}

/// Frees a pooled block twice, then hands the thread's cache back to the arenas: the arena
/// must notice the slot coming back twice and abort.
#[cfg(all(unix, not(miri)))]
pub(crate) fn probe_double_free() {
    if let Ok(ptr) = allocate(32) {
        // SAFETY: allocated just above with this size.
        unsafe { deallocate(ptr, 32) };
        // This breaks `deallocate`'s contract on purpose, in a process meant to die. The slot is
        // still mapped and owned by the pool (this thread's cache holds it).
        // SAFETY: so the second call touches only pool memory; the arena's bitmap aborts below.
        unsafe { deallocate(ptr, 32) };
        thread_cache::flush();
    }
}

/// Writes into a freed pooled block, then allocates again: the allocation must abort.
#[cfg(all(unix, not(miri)))]
pub(crate) fn probe_write_after_free() {
    if let Ok(ptr) = allocate(32) {
        // SAFETY: allocated just above with this size.
        unsafe { deallocate(ptr, 32) };
        // SAFETY: the freed slot stays mapped in its arena (and cached by this thread); the
        // stray write is the point of the probe.
        unsafe { ptr.as_ptr().write_volatile(0x5a) };
        let _ = allocate(32); // the same slot comes back from the LIFO cache
    }
}

/// What the pool holds right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Arenas mapped.
    pub arenas: usize,
    /// Bytes of protected (locked, or `memfd_secret`) memory the arenas hold.
    pub bytes: usize,
    /// Of those, bytes that are locked (all of them, unless the policy allowed a downgrade).
    pub locked_bytes: usize,
    /// Slots in all arenas.
    pub slots: usize,
    /// Slots handed out: live secrets, plus free slots cached by threads.
    pub slots_out: usize,
}

/// Counts what the pool's arenas hold.
///
/// ```
/// let key = strongroom::SecretBox::new(|k: &mut [u8; 32]| k.fill(1))?;
/// let stats = strongroom::pool::stats();
/// assert!(stats.slots_out >= 1 && stats.locked_bytes <= stats.bytes);
/// # drop(key);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn stats() -> PoolStats {
    let shared = shared::shared();
    let mut stats = PoolStats::default();
    for class in 0..CLASS_SIZES.len() {
        for arena in shared.class(class).arenas() {
            let Protections { locked, .. } = arena.protections();
            stats.arenas += 1;
            stats.bytes += arena.bytes();
            stats.locked_bytes += if locked { arena.bytes() } else { 0 };
            stats.slots += arena.slot_count();
            stats.slots_out += arena.slot_count() - arena.free_count();
        }
    }
    stats
}

/// The protections of the arena holding the pooled block at `ptr` of `size` bytes, or of
/// the large block kept under that address.
pub(crate) fn protections_of(ptr: NonNull<u8>, size: usize) -> Option<Protections> {
    let shared = shared::shared();
    let addr = ptr.as_ptr().addr();
    match class_of(size) {
        Some(class) => {
            let slot = addr - data_offset(CLASS_SIZES[class], size);
            shared.class(class).protections_of(slot)
        }
        None => None,
    }
    .or_else(|| shared.large().get(&addr).map(super::guarded::GuardedRegion::protections))
}

#[cfg(test)]
mod tests;
