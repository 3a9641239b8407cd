//! [`StrictCell`]: one value in its own guarded region whose pages are inaccessible except
//! while borrowed (the `secrets` crate's model). Reading it at rest — through a stray
//! pointer, a heap overread in the same process — faults instead of leaking.
//!
//! Every transition between "no borrows" and "borrowed" costs an `mprotect`; borrows are
//! counted under a lock so that two threads reading at once never race the protection.

use std::marker::PhantomData;
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::{Mutex, PoisonError};

use super::guarded::GuardedRegion;
use crate::borrow::{EndBorrow, Release};
use crate::error::{Error, Result};
use crate::policy::{Policy, Protections};
use crate::sys::{self, Access};

struct State {
    region: GuardedRegion,
    borrows: usize,
}

pub(crate) struct StrictCell<T> {
    /// Where the value lives; fixed for the cell's life, so readers never touch `state`.
    value: NonNull<T>,
    state: Mutex<State>,
    _owns: PhantomData<T>,
}

// SAFETY: the cell owns its T (like a Box) and its region; moving it moves ownership.
unsafe impl<T: Send> Send for StrictCell<T> {}
// SAFETY: shared access hands out only `&T` (so T must be Sync), and every protection
// change happens under the `state` lock, counted so no reader is left on revoked pages.
unsafe impl<T: Sync> Sync for StrictCell<T> {}

impl<T> StrictCell<T> {
    /// A cell holding all-zero bytes (a valid `T`), inaccessible until borrowed.
    pub(crate) fn zeroed(policy: Policy) -> Result<Self>
    where
        T: bytemuck::Zeroable,
    {
        if align_of::<T>() > sys::page_size() {
            return Err(Error::ApiMisuse("a strict secret cannot be aligned to more than a page"));
        }
        // Data ends at the trailing guard page; a length that is a multiple of T's alignment
        // makes its start aligned too (the guard page is page-aligned).
        let len = sys::round_up(size_of::<T>().max(1), align_of::<T>()).ok_or(Error::TooLarge)?;
        let mut region = GuardedRegion::new(len, policy)?;
        // The region's data is `len >= size_of::<T>()` zeroed bytes, aligned for T (above):
        // already a valid T, since T: Zeroable.
        let value_ptr = region.data_ptr().cast::<T>();
        region.set_access(Access::None)?;
        Ok(StrictCell { value: value_ptr, state: Mutex::new(State { region, borrows: 0 }), _owns: PhantomData })
    }

    pub(crate) fn protections(&self) -> Protections {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).region.protections()
    }

    /// Opens the pages for reading; the borrow ends when the returned [`EndBorrow`] drops.
    pub(crate) fn open(&self) -> Result<(&T, EndBorrow<'_>)> {
        let value = self.open_shared()?;
        Ok((value, EndBorrow::release_of(self)))
    }

    /// Opens the pages for writing; the borrow ends when the returned [`EndBorrow`] drops.
    pub(crate) fn open_mut(&mut self) -> Result<(&mut T, EndBorrow<'_>)> {
        let value = self.open_exclusive()?;
        let this: &Self = self;
        // SAFETY: `value` points into the region, not into `self`, so the `&mut T` and the `&Self` kept for the release
        // never alias. The pages are read-write until the release runs, and `&mut self`, held by the caller for as long
        // as both returned values live, rules out any other borrow of the value.
        let value = unsafe { &mut *value.as_ptr() };
        Ok((value, EndBorrow::release_of(this)))
    }

    fn open_shared(&self) -> Result<&T> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.region.lost_to_fork() {
            return Err(Error::LostToFork);
        }
        if state.borrows == 0 {
            state.region.set_access(Access::Read)?;
        }
        state.borrows += 1;
        // SAFETY: the value is initialised and readable until the count returns to zero,
        // which only `release` does; `&self` keeps the cell alive that long.
        Ok(unsafe { self.value.as_ref() })
    }

    fn open_exclusive(&mut self) -> Result<NonNull<T>> {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if state.region.lost_to_fork() {
            return Err(Error::LostToFork);
        }
        state.region.set_access(Access::ReadWrite)?;
        state.borrows = 1;
        Ok(self.value)
    }
}

#[cfg(all(unix, not(miri)))]
impl<T> StrictCell<T> {
    /// Reads the value's first byte without borrowing it: the no-access pages must fault.
    pub(crate) fn probe_read_at_rest(&self) -> u8 {
        // SAFETY: the address is inside our own mapping; the pages are PROT_NONE at rest, so
        // the read faults (SIGSEGV), which is the point of the probe.
        unsafe { self.value.cast::<u8>().as_ptr().read_volatile() }
    }
}

impl<T> Release for StrictCell<T> {
    fn release(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.borrows -= 1;
        if state.borrows == 0 && state.region.set_access(Access::None).is_err() {
            sys::abort_with("strongroom: cannot make a strict secret inaccessible again");
        }
    }
}

impl<T> Drop for StrictCell<T> {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        if state.region.lost_to_fork() {
            return; // the pages are zeros or gone in this forked child: no T to drop
        }
        if state.region.set_access(Access::ReadWrite).is_err() {
            sys::abort_with("strongroom: cannot open a strict secret to drop it");
        }
        // SAFETY: the value is initialised, writable, and this is its last use; the region
        // (dropped right after) wipes the bytes.
        unsafe { self.value.as_ptr().drop_in_place() };
    }
}
