//! The pool state shared by all threads: per size class, a lock and the arenas behind it.
//!
//! Threads reach it only to refill or flush their caches, a batch at a time, so the locks
//! are rarely contended. Each `fork` generation gets a fresh set: a child process must not
//! touch locks that a thread of its parent (which does not exist in the child) may have held
//! at the moment of the fork, nor hand out slots whose pages the kernel wiped or withheld.

use std::collections::HashMap;
use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::super::guarded::GuardedRegion;
use super::arena::Arena;
use super::class::{CLASS_SIZES, CLASSES};
use crate::error::{Error, Result};
use crate::policy::Policy;
use crate::sys::{self, PerGeneration};

/// The first arena of a class; each new one doubles, up to [`MAX_ARENA`].
/// One page: a program that uses a few size classes under a small `RLIMIT_MEMLOCK` (64 KiB
/// in many containers) must not spend it on empty slots.
const MIN_ARENA: usize = 4 * 1024;
/// Large enough that a million 32-byte secrets need only ~50 arenas.
const MAX_ARENA: usize = 1024 * 1024;

/// One size class: its arenas, sorted by address.
pub(super) struct ClassState {
    class_size: usize,
    arenas: Vec<Arena>,
    next_arena: usize,
}

impl ClassState {
    const fn new(class_size: usize) -> Self {
        ClassState { class_size, arenas: Vec::new(), next_arena: MIN_ARENA }
    }

    /// Moves up to `out.len()` free slots into `out`, growing the class if it has none.
    /// Returns how many it moved (at least one), or the error that prevented growth.
    pub(super) fn take_batch(&mut self, out: &mut [*mut u8]) -> Result<usize> {
        let mut n = 0;
        for arena in &mut self.arenas {
            while n < out.len() {
                match arena.take() {
                    Some(slot) => {
                        out[n] = slot.as_ptr();
                        n += 1;
                    }
                    None => break,
                }
            }
        }
        if n == 0 {
            self.grow()?;
            return self.take_batch(out);
        }
        Ok(n)
    }

    /// Takes back a zeroed slot. An arena left entirely unused is unmapped, unless it is the
    /// class's only spare (keeping one avoids mapping and unmapping on every cycle).
    pub(super) fn give(&mut self, slot: NonNull<u8>) {
        let Some(i) = self.arena_of(slot.as_ptr().addr()) else {
            crate::sys::abort_with("strongroom: a pointer freed into the pool is not one of its slots");
        };
        self.arenas[i].give(slot);
        if self.arenas[i].is_unused() && self.arenas.iter().filter(|a| a.is_unused()).count() > 1 {
            // Release the smaller of the spare arenas.
            let smallest = (0..self.arenas.len())
                .filter(|&j| self.arenas[j].is_unused())
                .min_by_key(|&j| self.arenas[j].bytes())
                .expect("two unused arenas exist");
            self.arenas.remove(smallest);
        }
    }

    /// The protections of the arena that holds `slot`.
    pub(super) fn protections_of(&self, slot: usize) -> Option<crate::policy::Protections> {
        self.arena_of(slot).map(|i| self.arenas[i].protections())
    }

    /// Whether `slot` is a slot of this generation's arenas.
    pub(super) fn owns(&self, slot: usize) -> bool {
        self.arena_of(slot).is_some()
    }

    fn arena_of(&self, slot: usize) -> Option<usize> {
        let i = self.arenas.partition_point(|a| a.start() <= slot).checked_sub(1)?;
        self.arenas[i].index_of(slot).map(|_| i)
    }

    /// Maps one more arena. Over the locked-memory limit it tries smaller arenas (each
    /// attempt first empties the guarded-region cache: see `Mapping::map`) before giving up
    /// with `LockLimit`.
    fn grow(&mut self) -> Result<()> {
        let policy = Policy::default();
        let page = sys::page_size();
        let mut len = self.next_arena.max(page);
        let arena = loop {
            match Arena::new(self.class_size, len, policy) {
                Ok(arena) => break arena,
                Err(Error::LockLimit { .. }) if len / 2 >= MIN_ARENA.max(page) => len /= 2,
                Err(e) => return Err(e),
            }
        };
        self.next_arena = (self.next_arena * 2).min(MAX_ARENA);
        let at = self.arenas.partition_point(|a| a.start() < arena.start());
        self.arenas.insert(at, arena);
        Ok(())
    }

    /// Verifies every arena; returns the number of slots checked.
    pub(super) fn verify(&self) -> usize {
        self.arenas.iter().map(Arena::verify).sum()
    }

    pub(super) fn arenas(&self) -> &[Arena] {
        &self.arenas
    }
}

/// All allocator state of one fork generation.
pub(super) struct Shared {
    classes: [Mutex<ClassState>; CLASSES],
    /// Guarded regions handed out by `SecureAlloc` for layouts too large for the pool,
    /// keyed by the address it returned.
    large: Mutex<HashMap<usize, GuardedRegion>>,
}

impl Shared {
    fn new() -> Self {
        Shared { classes: CLASS_SIZES.map(|size| Mutex::new(ClassState::new(size))), large: Mutex::new(HashMap::new()) }
    }

    /// The registry of large `SecureAlloc` blocks.
    pub(super) fn large(&self) -> MutexGuard<'_, HashMap<usize, GuardedRegion>> {
        self.large.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks one class. A panic while holding the lock cannot leave the state half-updated
    /// (every update is a single push or pop), so a poisoned lock is still usable.
    pub(super) fn class(&self, class: usize) -> MutexGuard<'_, ClassState> {
        self.classes[class].lock().unwrap_or_else(PoisonError::into_inner)
    }
}

static SHARED: PerGeneration<Shared> = PerGeneration::new(Shared::new);

/// The pool state of this process's fork generation, created on first use (in a forked
/// child, afresh: the parent's state and its possibly-held locks are abandoned).
pub(super) fn shared() -> &'static Shared {
    SHARED.get()
}
