//! Heap-backed stand-in used only under Miri, which cannot make foreign calls.
//!
//! It hands out zeroed, page-aligned heap memory and applies no protection at all: locking,
//! dump and fork exclusion report `Unsupported`, guard pages are ordinary bytes, and
//! `protect` changes nothing. Its only purpose is to let Miri check the bookkeeping of the
//! layers above (the policy under Miri accepts these downgrades, and `protections()` reports
//! them honestly).

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::io;
use std::ptr::NonNull;

use super::{Access, Backing, ForkExclusion};

const PAGE: usize = 4096;

pub(crate) fn page_size() -> usize {
    PAGE
}

fn layout(inner_len: usize) -> io::Result<Layout> {
    inner_len
        .checked_add(2 * PAGE)
        .and_then(|total| Layout::from_size_align(total, PAGE).ok())
        .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))
}

pub(crate) fn map_guarded(inner_len: usize, backing: Backing) -> io::Result<NonNull<u8>> {
    if backing == Backing::SecretMemory {
        return Err(io::Error::from(io::ErrorKind::Unsupported));
    }
    let layout = layout(inner_len)?;
    // SAFETY: the layout has a non-zero size (at least two pages).
    NonNull::new(unsafe { alloc_zeroed(layout) }).ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))
}

/// # Safety
/// `base` must come from `map_guarded(inner_len, ..)` and not be used afterwards.
pub(crate) unsafe fn unmap_guarded(base: NonNull<u8>, inner_len: usize) {
    let layout = layout(inner_len).expect("layout was valid when mapped");
    // SAFETY: allocated by `map_guarded` with this very layout.
    unsafe { dealloc(base.as_ptr(), layout) };
}

/// # Safety
/// Nothing to uphold: no protection is applied.
pub(crate) unsafe fn protect(_ptr: NonNull<u8>, _len: usize, _access: Access) -> io::Result<()> {
    Ok(())
}

/// # Safety
/// Nothing to uphold: nothing is locked.
pub(crate) unsafe fn lock(_ptr: NonNull<u8>, _len: usize) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// # Safety
/// Nothing to uphold.
pub(crate) unsafe fn exclude_from_dumps(_ptr: NonNull<u8>, _len: usize) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// # Safety
/// Nothing to uphold.
pub(crate) unsafe fn exclude_from_fork(_ptr: NonNull<u8>, _len: usize, _backing: Backing) -> io::Result<ForkExclusion> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

pub(crate) fn fork_generation() -> u32 {
    0
}

pub(crate) fn secret_memory_available() -> bool {
    false
}

pub(crate) fn memlock_limit() -> Option<u64> {
    None
}
