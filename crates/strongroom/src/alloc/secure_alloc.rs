//! [`SecureAlloc`]: an `allocator_api2::Allocator` that puts any collection in protected
//! memory — small blocks in the pool, larger (or over-aligned) ones in guarded regions.

use std::alloc::Layout;
use std::cell::RefCell;
use std::io;
use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator};

use super::guarded::GuardedRegion;
use super::pool::{self, MAX_POOLED};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::sys;

/// Where [`SecureAlloc`] puts a block.
// A whole word, not a byte: an allocator held next to pointers then leaves no padding, and
// values that hold one (the secret types' handles) move as whole words. With a byte, moving
// `Result<SecretBox<_>>` copied the 7 padding bytes with overlapping 4-byte moves, and the
// store-forwarding stalls cost ~20 ns per SecretBox (perf). Collections stay the same size
// (a pointer-sized field is padded to a word anyway).
#[repr(u64)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Blocks up to 2 KiB (aligned to at most 16) in the pool, larger ones guarded.
    #[default]
    Auto,
    /// Every block in its own guarded region: guard pages of its own, at a page of locked
    /// memory per block.
    Guarded,
}

/// An allocator whose every block lives in protected memory and is wiped when freed (so a
/// growing `Vec` never leaves a copy of its old contents behind).
///
/// Blocks of up to 2 KiB come from the pool (locked or `memfd_secret` arenas, canaries
/// between slots, per-thread caches); larger ones get a guarded region each. Memory comes
/// zeroed. It implements `allocator_api2::alloc::Allocator` (re-exported as
/// [`crate::allocator_api2`], so the versions match), so any collection can use it:
///
/// ```
/// use strongroom::SecureAlloc;
/// use strongroom::allocator_api2::vec::Vec;
///
/// let mut token: Vec<u8, SecureAlloc> = Vec::new_in(SecureAlloc::new());
/// token.extend_from_slice(b"ghp_example");
/// assert_eq!(&token[..4], b"ghp_");
/// ```
///
/// Collections you build this way are protected memory, but the secret types
/// ([`SecretVec`](crate::SecretVec), [`SecretString`](crate::SecretString)) also wipe spare
/// capacity when they shrink and redact their `Debug` output; prefer them for plain data.
/// An allocation failure is an `AllocError`; [`SecureAlloc::last_error`] says why (for
/// instance `LockLimit`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecureAlloc {
    placement: Placement,
}

impl SecureAlloc {
    /// The default: pooled small blocks, guarded large ones.
    ///
    /// ```
    /// assert_eq!(strongroom::SecureAlloc::new().placement(), strongroom::Placement::Auto);
    /// ```
    pub const fn new() -> Self {
        SecureAlloc { placement: Placement::Auto }
    }

    /// Every block in its own guarded region.
    ///
    /// ```
    /// use strongroom::{Placement, SecureAlloc};
    /// assert_eq!(SecureAlloc::guarded().placement(), Placement::Guarded);
    /// ```
    pub const fn guarded() -> Self {
        SecureAlloc { placement: Placement::Guarded }
    }

    /// Where this allocator puts blocks.
    ///
    /// ```
    /// assert_eq!(strongroom::SecureAlloc::default().placement(), strongroom::Placement::Auto);
    /// ```
    pub const fn placement(&self) -> Placement {
        self.placement
    }

    /// Why this thread's last failed allocation failed, if one has failed since the last call.
    ///
    /// ```
    /// assert!(strongroom::SecureAlloc::last_error().is_none());
    /// ```
    pub fn last_error() -> Option<Error> {
        LAST_ERROR.with(|e| e.borrow_mut().take())
    }

    fn pooled(&self, layout: Layout) -> bool {
        self.placement == Placement::Auto && layout.size() <= MAX_POOLED && layout.align() <= 16
    }

    fn allocate_block(&self, layout: Layout) -> Result<NonNull<u8>> {
        if self.pooled(layout) {
            return pool::allocate(layout.size());
        }
        if layout.align() > sys::page_size() {
            return Err(Error::ApiMisuse("SecureAlloc cannot align a block to more than a page"));
        }
        // The region's data ends at its trailing guard page; rounding the length up to the
        // alignment makes the data start aligned too.
        let len = sys::round_up(layout.size(), layout.align()).ok_or(Error::TooLarge)?;
        let region = GuardedRegion::new(len, Policy::default())?;
        let ptr = region.data_ptr();
        pool::keep_large(ptr.as_ptr() as usize, region);
        Ok(ptr)
    }
}

/// Appends clones of `src` to `v` in one pass over its spare capacity.
///
/// `allocator_api2`'s `extend_from_slice` pushes one element at a time, checking capacity on
/// each, which keeps the loop from vectorising: about a nanosecond per byte. Written into
/// reserved capacity, a slice of plain bytes is a `memcpy`.
pub(crate) fn extend_cloned<T: Clone, A: Allocator>(v: &mut allocator_api2::vec::Vec<T, A>, src: &[T]) -> Result<()> {
    v.try_reserve(src.len()).map_err(|_| take_last_error())?;
    let len = v.len();
    let spare = &mut v.spare_capacity_mut()[..src.len()];
    for (slot, value) in spare.iter_mut().zip(src) {
        slot.write(value.clone());
    }
    // SAFETY: the first `src.len()` slots past `len` were just initialised above (the loop ran to the end: a panicking
    // `clone` leaves before this line, leaking the clones made so far in capacity the allocator wipes when the block is
    // freed), and they lie within the capacity reserved above.
    unsafe { v.set_len(len + src.len()) };
    Ok(())
}

/// What a block this allocator handed out at `ptr` with `layout` really got.
pub(crate) fn protections_of(ptr: NonNull<u8>, layout: Layout) -> Option<crate::policy::Protections> {
    if layout.size() == 0 {
        return None;
    }
    pool::protections_of(ptr, layout.size())
}

thread_local! {
    static LAST_ERROR: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// Takes this thread's last allocation error, or a generic out-of-memory error.
pub(crate) fn take_last_error() -> Error {
    SecureAlloc::last_error().unwrap_or_else(|| Error::os("allocate", io::ErrorKind::OutOfMemory.into()))
}

// SAFETY: blocks stay valid until deallocated (pool slots and guarded regions are only released by `deallocate`), are
// at least `layout.size()` bytes, aligned as asked (pool data sits on 16-byte boundaries; guarded data as argued in
// `allocate_block`), and a copied allocator value routes every layout to the same place, so any copy may free them.
unsafe impl Allocator for SecureAlloc {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if layout.size() == 0 {
            let dangling = NonNull::new(std::ptr::without_provenance_mut(layout.align())).ok_or(AllocError)?;
            return Ok(NonNull::slice_from_raw_parts(dangling, 0));
        }
        match self.allocate_block(layout) {
            Ok(ptr) => Ok(NonNull::slice_from_raw_parts(ptr, layout.size())),
            Err(e) => {
                LAST_ERROR.with(|last| *last.borrow_mut() = Some(e));
                Err(AllocError)
            }
        }
    }

    /// Blocks always come zeroed: fresh pages are, and freed slots and regions are wiped.
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        self.allocate(layout)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        if self.pooled(layout) {
            // SAFETY: the caller passes a block this allocator (or a copy, which routes the
            // same way) allocated from the pool with this layout.
            unsafe { pool::deallocate(ptr, layout.size()) };
        } else {
            pool::release_large(ptr.as_ptr() as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use allocator_api2::vec::Vec;

    use super::*;

    /// Reads bytes of a block that no live value reaches any more.
    fn peek(ptr: *const u8, len: usize) -> std::vec::Vec<u8> {
        // SAFETY: every caller passes a freed pool slot or a block it still owns: the pool
        // keeps freed slots mapped and readable, and these tests are single-threaded over it.
        unsafe { crate::testing::peek(ptr, len) }
    }

    #[test]
    fn growth_wipes_the_old_block() {
        for (start, placement) in [(16, SecureAlloc::new()), (3000, SecureAlloc::new()), (16, SecureAlloc::guarded())] {
            let mut v: Vec<u8, SecureAlloc> = Vec::with_capacity_in(start, placement);
            v.extend(std::iter::repeat_n(0xCC, start));
            let old = v.as_ptr();
            v.push(0xCC); // forces a move to a bigger block
            assert_ne!(v.as_ptr(), old, "no reallocation happened");
            if placement == SecureAlloc::guarded() && !cfg!(miri) {
                continue; // the old region went to the reuse cache or was unmapped: covered by tests/wipe.rs
            }
            assert!(peek(old, start).iter().all(|&b| b == 0), "{start} bytes: the old block still holds the data");
        }
    }

    #[test]
    fn blocks_come_zeroed_and_aligned_for_every_placement() {
        for alloc in [SecureAlloc::new(), SecureAlloc::guarded()] {
            for (size, align) in [(1, 1), (24, 8), (100, 16), (100, 64), (5000, 8), (0, 4)] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let block = alloc.allocate(layout).unwrap();
                let ptr = block.cast::<u8>();
                assert_eq!(ptr.as_ptr().addr() % align, 0, "{layout:?} misaligned");
                assert_eq!(block.len(), size);
                assert!(peek(ptr.as_ptr(), size).iter().all(|&b| b == 0));
                // SAFETY: allocated just above with this layout.
                unsafe { alloc.deallocate(ptr, layout) };
            }
        }
    }

    #[test]
    fn over_page_alignment_is_a_clear_error() {
        let layout = Layout::from_size_align(64, 1 << 20).unwrap();
        assert!(SecureAlloc::new().allocate(layout).is_err());
        assert!(matches!(SecureAlloc::last_error(), Some(Error::ApiMisuse(_))));
        assert!(SecureAlloc::last_error().is_none(), "last_error takes the error");
    }
}
