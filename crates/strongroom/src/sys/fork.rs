//! The fork generation: how strongroom tells memory and state of this process from what a
//! forked child merely inherited.
//!
//! A `pthread_atfork` child handler bumps a counter in every forked child. Two types carry it:
//!
//! - [`Stamp`]: the generation something was made in. Memory stamped in an older generation
//!   was wiped or withheld by the kernel at `fork` (`MADV_WIPEONFORK`, `MADV_DONTFORK`), so
//!   its owner must neither read it, check its canary, nor hand it out again.
//! - [`PerGeneration`]: a process-wide singleton made afresh in each generation, because a
//!   child must not take a lock that a thread of its parent (which does not exist in the
//!   child) may have held at the moment of the fork. The old one is leaked on purpose.

use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::error::{Error, Result};

/// The fork generation something was made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stamp(u32);

impl Stamp {
    /// The generation of a process that has not forked from a strongroom user (usable in
    /// `const` initialisers; compare with [`Stamp::now`] before trusting it).
    pub(crate) const ORIGINAL: Stamp = Stamp(0);

    /// The generation this process is in now.
    #[inline]
    pub(crate) fn now() -> Stamp {
        Stamp(super::imp::fork_generation())
    }

    /// Whether this stamp is of the generation this process is in now.
    #[inline]
    pub(crate) fn is_current(self) -> bool {
        self == Stamp::now()
    }

    /// `Ok` in the generation of the stamp; [`Error::LostToFork`] in a forked child.
    pub(crate) fn ensure_current(self) -> Result<()> {
        if self.is_current() { Ok(()) } else { Err(Error::LostToFork) }
    }

    /// Whether this process is a forked child of a strongroom user (any later generation).
    pub(crate) fn in_forked_child() -> bool {
        Stamp::now() != Stamp::ORIGINAL
    }
}

/// One `T` per fork generation, made by `make` on first use in each generation and never
/// freed (a child abandons its parent's copy, locks and all).
pub(crate) struct PerGeneration<T: 'static> {
    current: AtomicPtr<Entry<T>>,
    make: fn() -> T,
}

struct Entry<T> {
    stamp: Stamp,
    value: T,
}

impl<T: Sync + 'static> PerGeneration<T> {
    /// A singleton that `make` creates lazily, once per generation.
    pub(crate) const fn new(make: fn() -> T) -> Self {
        PerGeneration { current: AtomicPtr::new(ptr::null_mut()), make }
    }

    /// This generation's value if it has been made, without making it.
    pub(crate) fn get_if_made(&self) -> Option<&'static T> {
        let current = self.current.load(Ordering::Acquire);
        // SAFETY: `current` only ever holds null or a pointer from `Box::leak` in `get`, whose
        // entry is never freed or written again, so it is valid and immutable for 'static.
        let entry: &'static Entry<T> = unsafe { current.as_ref() }?;
        (entry.stamp == Stamp::now()).then_some(&entry.value)
    }

    /// This generation's value, made now if this is the first use in this generation.
    #[inline]
    pub(crate) fn get(&self) -> &'static T {
        let stamp = Stamp::now();
        let current = self.current.load(Ordering::Acquire);
        // SAFETY: `current` only ever holds null or a pointer from `Box::leak` below, whose
        // entry is never freed or written again, so it is valid and immutable for 'static.
        if let Some(entry) = unsafe { current.as_ref() }
            && entry.stamp == stamp
        {
            return &entry.value;
        }
        let fresh: &'static mut Entry<T> = Box::leak(Box::new(Entry { stamp, value: (self.make)() }));
        match self.current.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => &fresh.value,
            Err(winner) => {
                // SAFETY: `fresh` came from `Box::leak` just above and was never published
                // (the exchange failed), so this is its only reference and it may be freed.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: `winner` was stored by another thread's successful exchange, so it
                // is non-null, leaked by `Box::leak` and never freed or written again. It is
                // of this generation: all threads of one process share one generation.
                unsafe { &(*winner).value }
            }
        }
    }
}
