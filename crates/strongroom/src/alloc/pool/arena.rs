//! One arena: a guarded [`Mapping`] carved into equal slots of one size class.
//!
//! ```text
//! | guard | hdr | slot 0 | hdr | slot 1 | ... | hdr | slot n-1 | hdr | (unused) | guard |
//! ```
//!
//! Every header is a 16-byte canary and is never written after the arena is made, so a
//! write running off the end of one slot (or the start of the next) breaks a header, which
//! the free of either neighbour (or [`super::verify`]) notices. Free slots are all zeros.
//! Which slots are free is kept here, out of band, never inside the secret memory.

use std::ptr::NonNull;

use super::super::canary::{self, CANARY_LEN};
use super::super::mapping::Mapping;
use crate::error::Result;
use crate::policy::{Policy, Protections};

/// Bytes of canary in front of every slot (and after the last).
pub(in crate::alloc) const HEADER: usize = CANARY_LEN;

/// How an arena of `inner_len` bytes is carved into slots of `class_size` bytes: the stride
/// from one header (or slot) to the next, and how many slots fit with a header in front of
/// each and one after the last. Header `k` sits at `k * stride` (`k` in `0..=slots`), slot
/// `i` at `i * stride + HEADER`.
pub(in crate::alloc) fn carve(class_size: usize, inner_len: usize) -> (usize, usize) {
    let stride = HEADER + class_size;
    (stride, (inner_len - HEADER) / stride)
}

pub(super) struct Arena {
    mapping: Mapping,
    /// Slot 0, just past its header.
    first: NonNull<u8>,
    stride: usize,
    slots: usize,
    /// Indices of slots not handed out, used last-in first-out.
    free: Vec<u32>,
    /// One bit per slot, set while the slot is in `free`: catches a slot given back twice.
    is_free: Vec<u64>,
}

// SAFETY: an Arena owns its mapping; `first` points into it and is never shared.
unsafe impl Send for Arena {}

impl Arena {
    /// Maps `inner_len` bytes under `policy` and carves them into `class_size` slots.
    pub(super) fn new(class_size: usize, inner_len: usize, policy: Policy) -> Result<Self> {
        let mapping = Mapping::map(inner_len, policy)?;
        let (stride, slots) = carve(class_size, inner_len);
        let inner = mapping.inner();
        // SAFETY: the inner pages are ours, read-write and referenced by nothing else yet.
        let bytes = unsafe { std::slice::from_raw_parts_mut(inner.as_ptr(), inner_len) };
        for i in 0..=slots {
            canary::fill(&mut bytes[i * stride..i * stride + HEADER]);
        }
        let free = (0..slots as u32).rev().collect();
        let is_free = vec![u64::MAX; slots.div_ceil(64)];
        // SAFETY: HEADER bytes into the inner pages is still inside them.
        let first = unsafe { inner.add(HEADER) };
        Ok(Arena { mapping, first, stride, slots, free, is_free })
    }

    /// Address of the first slot; arenas are kept sorted by it.
    pub(super) fn start(&self) -> usize {
        self.first.as_ptr().addr()
    }

    /// Bytes of protected memory the arena holds.
    pub(super) fn bytes(&self) -> usize {
        self.mapping.inner_len()
    }

    /// What a slot of this arena gets: the mapping's protections, except guard pages — the
    /// arena has them, but a slot's neighbours are other slots, separated by canaries.
    pub(super) fn protections(&self) -> Protections {
        Protections { guard_pages: false, ..self.mapping.protections() }
    }

    pub(super) fn slot_count(&self) -> usize {
        self.slots
    }

    pub(super) fn free_count(&self) -> usize {
        self.free.len()
    }

    /// Whether no slot of this arena is handed out.
    pub(super) fn is_unused(&self) -> bool {
        self.free.len() == self.slots
    }

    /// The index of the slot at `addr`, if it is one of ours.
    pub(super) fn index_of(&self, addr: usize) -> Option<u32> {
        let offset = addr.checked_sub(self.start())?;
        (offset % self.stride == 0 && offset / self.stride < self.slots).then(|| (offset / self.stride) as u32)
    }

    /// Hands out a free slot.
    pub(super) fn take(&mut self) -> Option<NonNull<u8>> {
        let i = self.free.pop()? as usize;
        self.is_free[i / 64] &= !(1 << (i % 64));
        // SAFETY: a slot index is below `slots`, so its offset lies inside the mapping.
        Some(unsafe { self.first.add(i * self.stride) })
    }

    /// Takes back a slot, which must be one of ours and zeroed.
    pub(super) fn give(&mut self, slot: NonNull<u8>) {
        let index = self.index_of(slot.as_ptr().addr()).expect("the slot belongs to this arena");
        let (word, bit) = (index as usize / 64, 1u64 << (index % 64));
        if self.is_free[word] & bit != 0 {
            crate::sys::abort_with("strongroom: a pooled slot was freed twice (double free)");
        }
        self.is_free[word] |= bit;
        self.free.push(index);
    }

    /// Checks every header, and that every free slot still reads as zeros (a write to a
    /// freed secret would not). Aborts on a breach; returns the number of slots checked.
    pub(super) fn verify(&self) -> usize {
        let inner = self.mapping.inner();
        // SAFETY: headers and free slots are never written by anyone while the arena is
        // borrowed (callers hold the class lock); live slots are not read here.
        let headers_and_free = |offset: usize, n: usize| unsafe { slot_bytes(inner, offset, n) };
        for i in 0..=self.slots {
            if !canary::intact(headers_and_free(i * self.stride, HEADER)) {
                canary::breached("between pooled secrets");
            }
        }
        for &i in &self.free {
            let offset = i as usize * self.stride + HEADER;
            if !canary::is_zero(headers_and_free(offset, self.stride - HEADER)) {
                canary::breached("inside a freed pooled slot (write after free)");
            }
        }
        self.slots
    }
}

/// `n` bytes at `offset` into the arena's inner pages.
///
/// # Safety
/// The range must lie within the inner pages of a live arena, and nobody may write it while
/// the returned slice (of the caller's chosen lifetime `'a`) is in use.
unsafe fn slot_bytes<'a>(inner: NonNull<u8>, offset: usize, n: usize) -> &'a [u8] {
    // SAFETY: the caller guarantees `offset..offset + n` lies inside the arena's mapped,
    // readable inner pages (so the `add` stays in bounds and the slice is valid memory),
    // and that nothing writes it during `'a`, which the caller ties to its use of the slice.
    unsafe { std::slice::from_raw_parts(inner.as_ptr().add(offset), n) }
}
