//! Tracked secrets: every secret object lives in a [`Tracked`] cell whose state counts its
//! borrows, and a registry of weak references lets [`purge_all`] reach every live one.
//!
//! A purge wipes a secret at once if nobody is borrowing it; otherwise it marks it pending,
//! and the last borrow to end wipes it. Either way the wipe happens while nobody holds a
//! reference into the secret, and every later borrow fails with `Error::Destroyed`. The
//! wipe is the value's own [`Wipe`] (a `Zeroize`), so the value stays valid: dropping it
//! later is an ordinary drop, with no false canary alarm.

use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use crate::error::{Error, Result};
use crate::exposed::Release;
use crate::sys;

/// How a purge wipes a secret's contents, leaving a valid value behind.
pub(crate) trait Wipe {
    fn wipe(&mut self);
}

const PURGED: u32 = 1 << 31;
const PENDING: u32 = 1 << 30;
const BORROWS: u32 = PENDING - 1;

pub(crate) struct Tracked<S> {
    state: AtomicU32,
    value: UnsafeCell<S>,
}

// SAFETY: the cell owns its S; moving the cell moves the S.
unsafe impl<S: Send> Send for Tracked<S> {}
// SAFETY: shared borrows hand `&S` to several threads (S: Sync), and a purge on another thread
// takes `&mut S` only when no borrow exists (S: Send), as the state protocol below ensures.
unsafe impl<S: Send + Sync> Sync for Tracked<S> {}

impl<S: Wipe> Tracked<S> {
    fn new(value: S) -> Self {
        Tracked { state: AtomicU32::new(0), value: UnsafeCell::new(value) }
    }

    /// Starts a borrow, or fails once a purge has begun.
    fn acquire(&self) -> Result<()> {
        let before = self.state.fetch_add(1, Ordering::Acquire);
        if before & (PURGED | PENDING) != 0 {
            self.end_borrow();
            return Err(Error::Destroyed);
        }
        Ok(())
    }

    /// Ends a borrow; the last one out of a secret with a purge pending wipes it.
    fn end_borrow(&self) {
        let before = self.state.fetch_sub(1, Ordering::Release);
        if before & BORROWS == 1 && before & PENDING != 0 {
            self.finish_purge();
        }
    }

    /// Wipes the value if a purge is pending and nobody borrows it; exactly one caller wins.
    fn finish_purge(&self) {
        if self.state.compare_exchange(PENDING, PURGED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            // SAFETY: the state went from "pending, no borrows" to "purged": no borrow exists
            // and none can start (acquire fails once PENDING or PURGED is set), so this is
            // the only access to the value.
            unsafe { (*self.value.get()).wipe() }
        }
    }

    /// Whether a purge has begun.
    fn purged(&self) -> bool {
        self.state.load(Ordering::Acquire) & (PURGED | PENDING) != 0
    }
}

impl<S: Wipe> Release for Tracked<S> {
    fn release(&self) {
        self.end_borrow();
    }
}

/// What the registry can do to any tracked secret, whatever its type.
trait Purgeable: Send + Sync {
    fn purge(&self);
}

impl<S: Wipe + Send + Sync> Purgeable for Tracked<S> {
    fn purge(&self) {
        let before = self.state.fetch_or(PENDING, Ordering::AcqRel);
        if before & (PURGED | PENDING) == 0 && before & BORROWS == 0 {
            self.finish_purge();
        }
        // Otherwise it was purged already, or the last borrow will wipe it.
    }
}

/// The owner's handle to a tracked secret.
pub(crate) struct Handle<S: Wipe + Send + Sync + 'static> {
    cell: Arc<Tracked<S>>,
}

impl<S: Wipe + Send + Sync + 'static> Handle<S> {
    /// Tracks `value` and registers it for purging.
    pub(crate) fn new(value: S) -> Self {
        let cell = Arc::new(Tracked::new(value));
        let weak: Weak<dyn Purgeable> = Arc::downgrade(&cell) as Weak<dyn Purgeable>;
        register(weak);
        Handle { cell }
    }

    /// Runs `f` on a shared view of the value, inside one borrow.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&S) -> R) -> Result<R> {
        self.cell.acquire()?;
        // SAFETY: a borrow is held (no purge can wipe meanwhile), and the owner's `&self`
        // rules out `&mut` access through this handle.
        let result = f(unsafe { &*self.cell.value.get() });
        self.cell.end_borrow();
        Ok(result)
    }

    /// Runs `f` on the value, mutably, inside one borrow.
    pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> Result<R> {
        self.cell.acquire()?;
        // SAFETY: a borrow is held (no purge can wipe meanwhile), and `&mut self` rules out
        // every other access through this handle, the only one that touches the value.
        let result = f(unsafe { &mut *self.cell.value.get() });
        self.cell.end_borrow();
        Ok(result)
    }

    /// Starts a borrow that outlives this call: returns the value and the release to call
    /// when the borrow ends (the guard types do).
    pub(crate) fn borrow(&self) -> Result<(&S, &dyn Release)> {
        self.cell.acquire()?;
        // SAFETY: as in `with`; the borrow lasts until the returned release runs, which the
        // caller's guard does when it drops (the guard also holds `&self`).
        Ok((unsafe { &*self.cell.value.get() }, &*self.cell))
    }

    /// Like [`borrow`](Self::borrow), mutably.
    pub(crate) fn borrow_mut(&mut self) -> Result<(&mut S, &dyn Release)> {
        self.cell.acquire()?;
        // SAFETY: as in `with_mut`; `&mut self` is held by the caller's guard for as long as
        // the `&mut S` lives, and the release only touches the atomic state, not the value.
        Ok((unsafe { &mut *self.cell.value.get() }, &*self.cell))
    }

    /// Whether a purge has reached this secret.
    pub(crate) fn purged(&self) -> bool {
        self.cell.purged()
    }
}

/// One thread's share of the registry, so threads do not meet on one lock to register.
struct Shard {
    entries: Mutex<Vec<Weak<dyn Purgeable>>>,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, Vec<Weak<dyn Purgeable>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// All shards of one fork generation (a forked child starts afresh, as the pool does).
struct Registry {
    generation: u32,
    shards: Mutex<Vec<Arc<Shard>>>,
}

static REGISTRY: AtomicPtr<Registry> = AtomicPtr::new(ptr::null_mut());

fn registry() -> &'static Registry {
    let generation = sys::fork_generation();
    let current = REGISTRY.load(Ordering::Acquire);
    // SAFETY: REGISTRY only ever holds null or a leaked, never-freed Registry.
    if let Some(registry) = unsafe { current.as_ref() }
        && registry.generation == generation
    {
        return registry;
    }
    let fresh: &'static mut Registry = Box::leak(Box::new(Registry { generation, shards: Mutex::new(Vec::new()) }));
    match REGISTRY.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => fresh,
        Err(winner) => {
            // SAFETY: `fresh` was never shared; `winner` is a leaked Registry.
            drop(unsafe { Box::from_raw(fresh) });
            // SAFETY: see above.
            unsafe { &*winner }
        }
    }
}

thread_local! {
    static SHARD: std::cell::RefCell<Option<(u32, Arc<Shard>)>> = const { std::cell::RefCell::new(None) };
}

fn new_shard(registry: &Registry) -> Arc<Shard> {
    let shard = Arc::new(Shard { entries: Mutex::new(Vec::new()) });
    registry.shards.lock().unwrap_or_else(PoisonError::into_inner).push(shard.clone());
    shard
}

fn register(entry: Weak<dyn Purgeable>) {
    let registry = registry();
    let shard = SHARD
        .try_with(|slot| {
            let mut slot = slot.borrow_mut();
            match &*slot {
                Some((generation, shard)) if *generation == registry.generation => shard.clone(),
                _ => {
                    let shard = new_shard(registry);
                    *slot = Some((registry.generation, shard.clone()));
                    shard
                }
            }
        })
        .unwrap_or_else(|_| new_shard(registry)); // the thread is exiting
    let mut entries = shard.lock();
    if entries.len() == entries.capacity() {
        entries.retain(|e| e.strong_count() > 0); // amortised: drop entries of dead secrets
    }
    entries.push(entry);
}

/// Purges every live tracked secret, waiting for every lock.
pub(crate) fn purge_all() {
    purge_registered(true);
}

/// Purges what it can without waiting for a lock or running a destructor: for the moment
/// before the process aborts on memory corruption, when any lock may be held by this thread.
pub(crate) fn purge_before_abort() {
    purge_registered(false);
}

fn purge_registered(wait: bool) {
    let registry = registry();
    let shards: Vec<Arc<Shard>> = match registry.shards.try_lock() {
        Ok(shards) => shards.clone(),
        Err(_) if wait => registry.shards.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        Err(_) => return,
    };
    for shard in shards {
        let entries: Vec<Weak<dyn Purgeable>> = match shard.entries.try_lock() {
            Ok(entries) => entries.clone(),
            Err(_) if wait => shard.lock().clone(),
            Err(_) => continue,
        };
        // Outside the shard's lock: a purged secret's last strong reference may be ours,
        // and dropping it must not deadlock against a thread registering a new secret.
        for entry in entries {
            if let Some(secret) = entry.upgrade() {
                secret.purge();
                if !wait {
                    // Dropping the last reference would free memory, taking allocator locks
                    // this thread may already hold. The process is about to abort: leak it.
                    std::mem::forget(secret);
                }
            }
        }
    }
}
