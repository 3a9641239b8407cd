//! The guarded policy: one mapping per secret, laid out as
//!
//! ```text
//! | guard page | canary ... canary | data | guard page |
//!              ^ inner pages, read-write    ^ data ends exactly at the trailing guard
//! ```
//!
//! (the memguard / libsodium layout). An overflow of even one byte faults on the trailing
//! guard; an underflow first overwrites the canary, checked when the region is freed, and
//! then faults on the leading guard. The inner pages are `memfd_secret` pages where the
//! policy and kernel allow, else anonymous pages that are locked, kept out of dumps and
//! wiped on fork. Freed regions are wiped and may be kept for reuse ([`super::region_cache`]).

use std::mem::ManuallyDrop;
use std::ops::Range;
use std::ptr::NonNull;

use super::canary::{self, CANARY_LEN};
use super::mapping::Mapping;
use super::region_cache;
use crate::error::{Error, Result};
use crate::policy::{Policy, Protections};
use crate::sys::{self, Access};

/// Where [`GuardedRegion::poke`] writes.
#[cfg(all(unix, not(miri)))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Poke {
    /// The first byte after the data: the trailing guard page.
    PastEnd,
    /// The last byte before the inner pages: the leading guard page.
    BeforeInner,
    /// The byte just before the data: the canary.
    Canary,
    /// The first byte of the data.
    Data,
}

/// Where a guarded region of `len` data bytes puts everything, as offsets from the start of
/// its mapping (the leading guard page) for pages of `page` bytes:
///
/// ```text
/// 0 .. page                     leading guard
/// page .. page + gap            canary
/// page + gap .. page + inner    data (len bytes: gap + len == inner)
/// page + inner .. inner + 2page trailing guard
/// ```
///
/// Pure arithmetic, apart from the mapping, so that it can be checked exhaustively and
/// proved for every size (`layout_proofs`, `scripts/proofs/layout.smt2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GuardedLayout {
    /// Bytes between the guards: `len + CANARY_LEN` rounded up to whole pages.
    pub(crate) inner_len: usize,
    /// The canary gap in front of the data, `inner_len - len` (at least [`CANARY_LEN`]):
    /// also the data's offset into the inner pages.
    pub(crate) gap: usize,
}

impl GuardedLayout {
    /// The layout for `len` bytes, or `None` when the whole mapping, guards included, would
    /// not fit in `isize::MAX` bytes. `page` is a power of two.
    pub(crate) fn new(len: usize, page: usize) -> Option<Self> {
        let inner_len = len
            .checked_add(CANARY_LEN)
            .and_then(|n| sys::round_up(n, page))
            .filter(|n| n.checked_add(2 * page).is_some_and(|t| t <= isize::MAX as usize))?;
        Some(GuardedLayout { inner_len, gap: inner_len - len })
    }
}

/// One secret's guarded region: `len` bytes flush against the trailing guard.
#[derive(Debug)]
pub(crate) struct GuardedRegion {
    /// Handed to the region cache in `drop`, hence `ManuallyDrop`.
    mapping: ManuallyDrop<Mapping>,
    len: usize,
    access: Access,
}

// SAFETY: the region exclusively owns its pages; `&self` only permits reads of them.
unsafe impl Send for GuardedRegion {}
// SAFETY: shared references hand out only `&[u8]` of pages the region owns exclusively, and
// every change of access or contents takes `&mut self`, so sharing across threads is reads only.
unsafe impl Sync for GuardedRegion {}

impl GuardedRegion {
    /// A zeroed region of `len` bytes under `policy`.
    pub(crate) fn new(len: usize, policy: Policy) -> Result<Self> {
        let GuardedLayout { inner_len, gap } = GuardedLayout::new(len, sys::page_size()).ok_or(Error::TooLarge)?;
        let mapping = match region_cache::take(inner_len, policy) {
            Some(mapping) => mapping,
            None => Mapping::map(inner_len, policy)?,
        };
        let mut region = GuardedRegion { mapping: ManuallyDrop::new(mapping), len, access: Access::ReadWrite };
        let stale = region.mapping.canary_end;
        let inner = region.inner_bytes_mut();
        // A reused region's old canary may reach into the new data: zero that part.
        if stale > gap {
            inner[gap..stale].fill(0);
        }
        canary::fill(&mut inner[..gap]);
        region.mapping.canary_end = gap;
        Ok(region)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn protections(&self) -> Protections {
        self.mapping.protections()
    }

    /// True in a forked child when the kernel wiped or withheld these pages at `fork`.
    pub(crate) fn lost_to_fork(&self) -> bool {
        self.mapping.lost_to_fork()
    }

    pub(crate) fn access(&self) -> Access {
        self.access
    }

    pub(crate) fn data_ptr(&self) -> NonNull<u8> {
        // SAFETY: len + CANARY_LEN <= inner_len, so the data start lies inside the inner pages.
        unsafe { self.mapping.inner().add(self.mapping.inner_len() - self.len) }
    }

    /// All the inner pages: canary gap, then data. Callers ensure they are read-write.
    fn inner_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: the inner pages are ours, read-write (callers ensure it), and borrowed
        // mutably through `self`, so no other slice into them is alive.
        unsafe { std::slice::from_raw_parts_mut(self.mapping.inner().as_ptr(), self.mapping.inner_len()) }
    }

    /// The gap in front of the data that holds the canary.
    fn gap_mut(&mut self) -> &mut [u8] {
        let gap = self.mapping.inner_len() - self.len;
        &mut self.inner_bytes_mut()[..gap]
    }

    /// The data, unless the pages are currently inaccessible.
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        (self.access != Access::None).then(|| {
            // SAFETY: `len` readable bytes start at data_ptr; the shared borrow of `self`
            // keeps `set_access` (which takes `&mut self`) from revoking read access meanwhile.
            unsafe { std::slice::from_raw_parts(self.data_ptr().as_ptr(), self.len) }
        })
    }

    /// The data, mutably, unless the pages are read-only or inaccessible.
    pub(crate) fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        (self.access == Access::ReadWrite).then(|| {
            // SAFETY: `len` bytes starting at data_ptr are mapped inside the region and writable
            // (access is ReadWrite, checked above); `&mut self` makes this the only reference
            // to them for the slice's lifetime, which is tied to that borrow.
            unsafe { std::slice::from_raw_parts_mut(self.data_ptr().as_ptr(), self.len) }
        })
    }

    /// Changes the protection of the inner pages (freeze, melt, no-access).
    pub(crate) fn set_access(&mut self, access: Access) -> Result<()> {
        if access == self.access {
            return Ok(());
        }
        // SAFETY: the inner pages are ours; `&mut self` proves no slice into them is alive.
        unsafe { sys::protect(self.mapping.inner(), self.mapping.inner_len(), access) }
            .map_err(|e| Error::os("mprotect", e))?;
        self.access = access;
        Ok(())
    }

    /// The address range of the data, for diagnostics (smaps lookups); never dereferenced.
    pub(crate) fn address_range(&self) -> Range<usize> {
        let start = self.data_ptr().as_ptr() as usize;
        start..start + self.len
    }

    fn make_writable_or_abort(&mut self) {
        if let Err(e) = self.set_access(Access::ReadWrite) {
            // Without write access the secret cannot be wiped; carrying on would leave it behind.
            sys::abort_with(&format!("strongroom: cannot make a secret writable to wipe it: {e}"));
        }
    }

    /// Overwrites the data with zeros, whatever the current protection (it is restored).
    /// Wipes what unmapping would leave behind, without faulting in pages never touched:
    /// `memfd_secret` pages are zeroed by the kernel when it frees them, so nothing; of
    /// anonymous pages, those resident in RAM (all of them when locked). A 1 GiB buffer
    /// used for a few bytes then drops in microseconds, not seconds, and an untouched one
    /// cannot get the process OOM-killed on its way out.
    fn wipe_before_unmap(&mut self) {
        if self.mapping.protections().secret_memory {
            return;
        }
        #[cfg(all(unix, not(miri)))]
        {
            let page = sys::page_size();
            let inner = self.mapping.inner();
            // SAFETY: the inner pages are whole pages of our own mapping.
            if let Ok(resident) = unsafe { sys::resident_pages(inner, self.mapping.inner_len()) } {
                let start = self.mapping.inner_len() - self.len;
                let end = start + self.len;
                for (i, _) in resident.iter().enumerate().filter(|(_, r)| **r) {
                    let (from, to) = ((i * page).max(start), ((i + 1) * page).min(end));
                    if from < to {
                        // SAFETY: `from..to` lies within the data (`start..end` of the inner
                        // pages), which is ours and writable (access is ReadWrite here).
                        unsafe { sys::wipe(inner.add(from), to - from) };
                    }
                }
                return;
            }
        }
        self.wipe();
    }

    pub(crate) fn wipe(&mut self) {
        let restore = self.access;
        if restore != Access::ReadWrite {
            self.make_writable_or_abort();
        }
        let data = self.data_ptr();
        // SAFETY: the data is ours, writable now, and `&mut self` excludes other access.
        unsafe { sys::wipe(data, self.len) };
        if restore != Access::ReadWrite && self.set_access(restore).is_err() {
            sys::abort_with("strongroom: cannot restore the protection of a wiped secret");
        }
    }

    /// Writes one byte at `at` with a volatile store, to prove a protection fires.
    ///
    /// Targets outside the data fault by design (guard pages, read-only pages): this exists
    /// for `strongroom doctor` and the death tests, which run it in a child process.
    #[cfg(all(unix, not(miri)))]
    pub(crate) fn poke(&self, at: Poke) {
        let data = self.data_ptr().as_ptr();
        let inner = self.mapping.inner().as_ptr();
        // Every target lies inside this region's own mapping, guard pages included.
        let target = match at {
            Poke::PastEnd => data.wrapping_add(self.len),
            Poke::BeforeInner => inner.wrapping_sub(1),
            Poke::Canary => data.wrapping_sub(1),
            Poke::Data => data,
        };
        let value = match at {
            // SAFETY: the canary byte is in the read-write gap; read it so the write changes it.
            Poke::Canary => !unsafe { target.read_volatile() },
            _ => 0x5a,
        };
        // SAFETY: the address is inside our mapping. A store to a guard or read-only page
        // raises SIGSEGV, which is the point; it is never a store into another object.
        unsafe { target.write_volatile(value) };
    }
}

#[cfg(all(unix, not(miri)))]
impl GuardedRegion {
    /// Forks; the child reads the data, drops its inherited copy of the region and exits
    /// with [`CHILD_SAW_ZEROS`] or [`CHILD_SAW_DATA`]. A child that cannot read the pages at
    /// all dies of `SIGSEGV`. Returns how the child ended.
    pub(crate) fn inspect_in_forked_child(self) -> std::io::Result<std::process::ExitStatus> {
        let child = move || {
            let code = match self.bytes() {
                Some(bytes) if bytes.iter().all(|&b| b == 0) => CHILD_SAW_ZEROS,
                _ => CHILD_SAW_DATA,
            };
            drop(self); // must not report a canary breach for pages the kernel wiped
            code
        };
        // SAFETY: the child only reads our own pages, makes one atomic load (the fork
        // generation, whose registration finished when the region was mapped) and exits:
        // no locks, no allocation.
        unsafe { sys::fork_and_wait(child) }
    }
}

/// Exit code of [`GuardedRegion::inspect_in_forked_child`]'s child that saw only zeros.
#[cfg(all(unix, not(miri)))]
pub(crate) const CHILD_SAW_ZEROS: i32 = 10;
/// Exit code of [`GuardedRegion::inspect_in_forked_child`]'s child that saw the data.
#[cfg(all(unix, not(miri)))]
pub(crate) const CHILD_SAW_DATA: i32 = 11;

impl Drop for GuardedRegion {
    fn drop(&mut self) {
        if self.mapping.lost_to_fork() {
            return; // see `Mapping::drop`; the ManuallyDrop mapping is deliberately left alone
        }
        if self.access != Access::ReadWrite {
            self.make_writable_or_abort();
        }
        if !canary::intact(self.gap_mut()) {
            canary::breached("in front of a guarded secret");
        }
        let cached = region_cache::may_keep(&self.mapping);
        if cached {
            self.wipe(); // cached regions must come back writable: the access is ReadWrite here
        } else {
            self.wipe_before_unmap();
        }
        // SAFETY: this is the last use of `self.mapping`; it is moved out exactly once.
        let mapping = unsafe { ManuallyDrop::take(&mut self.mapping) };
        if cached {
            region_cache::put(mapping); // unmaps it if the cache has no room
        }
    }
}
