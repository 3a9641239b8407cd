//! The registry of live secret objects, and the [`Tracked`] handle each one is owned by.
//!
//! Every secret object (`LockedBuffer`, `SecretBox`, `SecretVec`, `SecretString`) keeps its
//! value in a block at a fixed address, and a row in a table of ordinary heap memory: an
//! atomic borrow count with purge flags, the value's address, and how to wipe it. The table
//! is never freed, so [`purge_all`] reaches every live value by walking it. Registering costs
//! a thread-local pop and three stores; unregistering a store, a load and a push: no lock, no
//! reference count, and no byte of locked memory beyond the value's own.
//!
//! **Wiping under borrows.** A purge wipes a secret at once if nobody is borrowing it;
//! otherwise it marks it pending, and the last borrow to end wipes it. Either way the wipe
//! happens while no reference into the value exists, and every later borrow fails with
//! [`Error::Destroyed`]. The wipe is the value's own [`Wipe::wipe`] (a `Zeroize`), so the
//! value stays valid and dropping it later is an ordinary drop.
//!
//! **Purging while owners drop.** A purge counts itself in `purges` before it reads the
//! table; an owner clears its row's value before it reads `purges`, and if a purge is running
//! it waits for it to end before freeing the value or giving the row back. A fence between
//! the store and the load on each side ([`AsymmetricFence`]: a compiler fence for the owner,
//! a process-wide barrier for the rare purge) means either the purge sees the row cleared, or
//! the owner sees the purge and waits: a purge never touches a freed value or a reused row.
//!
//! A forked child starts a table of its own ([`PerGeneration`]); what it inherited from its
//! parent is not in it (pooled values were wiped or withheld by the kernel at the fork).

use std::alloc::Layout;
use std::cell::{Cell as ThreadFlag, RefCell, UnsafeCell};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use allocator_api2::alloc::{Allocator, Global};
use zeroize::Zeroize;

use crate::alloc::secure_alloc;
use crate::borrow::EndBorrow;
use crate::error::{Error, Result};
use crate::exposed::{Exposed, ExposedMut};
use crate::purge::borrow_state::BorrowState;
use crate::sys::{AsymmetricFence, PerGeneration, Stamp};

/// How a secret object's contents are destroyed.
pub(crate) trait Wipe {
    /// Whether the value may still be used and dropped in a forked child: its block is
    /// ordinary heap memory (a copy in the child) and it copes on its own with protected
    /// pages the kernel wiped or withheld at the fork. If not, every use in a child is
    /// [`Error::LostToFork`] and a child leaks it untouched.
    const SURVIVES_FORK: bool;

    /// A purge: zeroizes the secret in place, leaving a valid value that is dropped later.
    fn wipe(&mut self);

    /// What the value needs before it is dropped for good. The memory that holds secret
    /// bytes is wiped by its allocator when freed, so plain bytes need nothing here; values
    /// that own other memory zeroize it.
    fn wipe_before_drop(&mut self);
}

/// A plain value whose wipe is its `Zeroize`: a `SecretBox`'s contents.
#[repr(transparent)]
pub(crate) struct Zeroizing<T>(pub(crate) T);

impl<T: Zeroize> Wipe for Zeroizing<T> {
    const SURVIVES_FORK: bool = false;

    fn wipe(&mut self) {
        self.0.zeroize();
    }

    fn wipe_before_drop(&mut self) {
        // Plain data (`[u8; N]`, integers) is wiped with the whole block by the allocator;
        // zeroizing it first would only wipe it twice.
        if std::mem::needs_drop::<T>() {
            self.0.zeroize();
        }
    }
}

// SAFETY: `Zeroizing<T>` is `repr(transparent)` over `T`, so all-zero bytes are a valid
// `Zeroizing<T>` exactly when they are a valid `T`, which `T: Zeroable` promises.
unsafe impl<T: bytemuck::Zeroable> bytemuck::Zeroable for Zeroizing<T> {}

/// One row of the table: a tracked secret's borrow count and purge flags, where its value
/// is, and how to wipe it. Rows live in ordinary heap memory (nothing here is secret) and are
/// never freed, so a purge can always touch them; the value itself stays in its own block,
/// which costs no extra locked memory.
struct Entry {
    state: BorrowState,
    /// The value (an `UnsafeCell<S>`), type-erased; null while the row is free.
    value: AtomicPtr<()>,
    /// `finish_purge::<S>` for that value's `S`. Written only while the row is free and no
    /// purge is running (see `Registry::unregister`), read only after `value` was seen set.
    finish: UnsafeCell<Option<FinishPurge>>,
}

/// Wipes a row's value, of the type it was registered with: `finish_purge::<S>`.
type FinishPurge = unsafe fn(&Entry, NonNull<()>);

// SAFETY: `state` and `value` are atomics. `finish` is written only by the owner that is about to publish the row
// (before its Release store of `value`), when no purge can be reading it: purges read it only after an Acquire load of
// a non-null `value`, and the row is handed to a new owner only after its previous owner waited out every running
// purge.
unsafe impl Sync for Entry {}

impl Entry {
    /// Starts a borrow, or fails once a purge has begun.
    fn acquire(&self) -> Result<()> {
        self.state.acquire().map_err(|last_out| {
            if last_out {
                self.finish_current();
            }
            Error::Destroyed
        })
    }

    /// Ends a borrow; the last one out of a secret with a purge pending wipes it.
    fn end_borrow(&self) {
        if self.state.end_borrow() {
            self.finish_current();
        }
    }

    /// Wipes the row's value, as the last borrower out of a pending purge.
    fn finish_current(&self) {
        // The caller's borrow kept the owner from dropping, so the row still holds the
        // value's address.
        if let Some(value) = NonNull::new(self.value.load(Ordering::Acquire)) {
            self.finish(value);
        }
    }

    /// Marks the secret at `value` for a purge, and wipes it now if nobody borrows it.
    /// `value` is what the purge read from the row: by now its owner may have cleared the
    /// row on its way to dropping the value, but it waits for this purge before freeing it.
    fn purge(&self, value: NonNull<()>) {
        if self.state.mark() {
            self.finish(value);
        }
        // Otherwise it was purged already, or the last borrow will wipe it.
    }

    fn finish(&self, value: NonNull<()>) {
        // SAFETY: `finish` was written before `value` was published, which every caller saw
        // (an owner registered its row; a purge loaded `value` non-null), and it is not
        // rewritten while the row is in use (see the `Sync` impl).
        if let Some(finish) = unsafe { *self.finish.get() } {
            // SAFETY: the row is in use and `value` is its live value, of the type `finish`
            // was made for.
            unsafe { finish(self, value) }
        }
    }
}

/// Wipes the value of `entry` if a purge is pending and nobody borrows it; of all callers
/// racing here, exactly one wins.
///
/// # Safety
/// `entry` must be in use by a live `Tracked<S, _>`, and `value` must be its `UnsafeCell<S>`.
unsafe fn finish_purge<S: Wipe>(entry: &Entry, value: NonNull<()>) {
    if entry.state.claim() {
        let value = value.as_ptr().cast::<UnsafeCell<S>>();
        // SAFETY: `value` is the owner's live `UnsafeCell<S>` (caller). `claim` moved "pending, no borrows" to
        // "purged": no borrow exists or can start, and the owner is not dropping it (it waits out running purges),
        // so this `&mut` is the only access to the value.
        unsafe { (*UnsafeCell::raw_get(value)).wipe() }
    }
}

/// The owner's handle to a tracked secret: the value in a block from `A` (protected memory
/// for values that are secret bytes themselves, the ordinary heap for handles to memory
/// protected elsewhere), and its row in the registry.
///
/// `repr(C)` keeps the small fields in 8-byte words: with rustc's packing, moving a handle
/// through `Result` and the secret types copied a 7-byte tail with overlapping 4-byte moves,
/// and the store-forwarding stalls doubled the cost of a `SecretBox` (measured with perf).
#[repr(C)]
pub(crate) struct Tracked<S: Wipe, A: Allocator = Global> {
    value: NonNull<UnsafeCell<S>>,
    /// The row, once registered (always, after construction).
    entry: Option<NonNull<Entry>>,
    index: u32,
    stamp: Stamp,
    alloc: A,
    _owns: PhantomData<S>,
}

// SAFETY: the handle owns its block and the S in it (like a Box); moving the handle moves
// that ownership. Its row is only used through atomics under the purge protocol, which is
// thread-safe. The allocator moves with it (A: Send).
unsafe impl<S: Wipe + Send, A: Allocator + Send> Send for Tracked<S, A> {}
// SAFETY: shared borrows hand `&S` to several threads (S: Sync), and a purge on another
// thread takes `&mut S` only when no borrow exists (S: Send), as the state protocol ensures.
unsafe impl<S: Wipe + Send + Sync, A: Allocator + Sync> Sync for Tracked<S, A> {}

impl<S: Wipe> Tracked<S> {
    /// Tracks `value` in a block on the ordinary heap (for handles to protected memory: the
    /// block holds no secret bytes itself) and registers it for purging.
    pub(crate) fn new(value: S) -> Result<Self> {
        Tracked::new_in(Global, value)
    }

    /// Like [`new`](Self::new), for constructors that cannot fail: the heap is the global
    /// allocator's (which aborts when exhausted) and the table holds 2^29 secret objects,
    /// so running out is a capacity overflow, like a `Vec`'s.
    pub(crate) fn new_infallible(value: S) -> Self {
        Tracked::new(value).unwrap_or_else(|e| panic!("strongroom cannot track another secret object: {e}"))
    }
}

impl<S: Wipe, A: Allocator> Tracked<S, A> {
    #[inline]
    fn allocate(alloc: A) -> Result<Self> {
        let block = alloc.allocate_zeroed(Layout::new::<S>()).map_err(|_| secure_alloc::take_last_error())?;
        let value = block.cast::<UnsafeCell<S>>();
        Ok(Tracked { value, entry: None, index: 0, stamp: Stamp::now(), alloc, _owns: PhantomData })
    }

    /// A pointer to the value, derived from the block's own pointer through the `UnsafeCell`.
    #[inline]
    fn value_ptr(&self) -> NonNull<S> {
        // SAFETY: `raw_get` on the block's pointer makes no reference, and the result is the
        // same non-null address.
        unsafe { NonNull::new_unchecked(UnsafeCell::raw_get(self.value.as_ptr())) }
    }

    /// Tracks `value` in a block from `alloc` and registers it for purging.
    pub(crate) fn new_in(alloc: A, value: S) -> Result<Self> {
        let mut tracked = Self::allocate(alloc)?;
        // SAFETY: the block is fresh, ours, and sized and aligned for S (its layout).
        unsafe { tracked.value_ptr().write(value) };
        tracked.register()?;
        Ok(tracked)
    }

    /// Builds the value in place: starts from all-zero bytes in a block from `alloc` and
    /// lets `init` fill it in (so a secret never passes through the stack on its way in),
    /// then registers it for purging.
    #[inline]
    pub(crate) fn zeroed_in(alloc: A, init: impl FnOnce(&mut S)) -> Result<Self>
    where
        S: bytemuck::Zeroable,
    {
        // Unregistered until `init` returns: if it panics, the drop frees the block as usual.
        let mut tracked = Self::allocate(alloc)?;
        // SAFETY: the block came zeroed and all-zero bytes are a valid S (S: Zeroable); it is
        // not registered yet, so this `&mut` is the only access to the value.
        init(unsafe { tracked.value_ptr().as_mut() });
        tracked.register()?;
        Ok(tracked)
    }

    #[inline]
    fn register(&mut self) -> Result<()> {
        let registry = REGISTRY.get();
        let index = registry.take_index()?;
        let entry = registry.entry(index);
        // SAFETY: the row is free (just taken) and no purge reads `finish` of a free row.
        unsafe { *entry.finish.get() = Some(finish_purge::<S>) };
        entry.state.reset();
        // Release: a purge that finds the value sees `finish`, the state and the value.
        entry.value.store(self.value.as_ptr().cast(), Ordering::Release);
        self.entry = Some(NonNull::from(entry));
        self.index = index;
        Ok(())
    }

    fn entry(&self) -> Result<&Entry> {
        let entry = self.entry.ok_or(Error::Internal("a secret was used before it was registered"))?;
        // SAFETY: rows are never freed (the table is leaked), even in a forked child, where
        // the parent's table is an inherited copy.
        Ok(unsafe { entry.as_ref() })
    }

    /// Fails in a forked child when the value lived in memory the kernel wiped or withheld
    /// at the fork (protected memory); a heap block is a plain copy there.
    fn check_alive(&self) -> Result<()> {
        if S::SURVIVES_FORK { Ok(()) } else { self.stamp.ensure_current() }
    }

    /// Runs `f` on a shared view of the value, inside one borrow.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&S) -> R) -> Result<R> {
        Ok(f(&*self.expose()?))
    }

    /// Runs `f` on the value, mutably, inside one borrow.
    pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> Result<R> {
        Ok(f(&mut *self.expose_mut()?))
    }

    /// Starts a borrow that a guard ends when it drops.
    pub(crate) fn expose(&self) -> Result<Exposed<'_, S>> {
        self.check_alive()?;
        let entry = self.entry()?;
        entry.acquire()?;
        // SAFETY: the row is never freed, and ending the borrow just started is what
        // `end_borrow` does.
        let end = unsafe { EndBorrow::new(NonNull::from(entry).cast(), end_borrow_erased) };
        // SAFETY: a borrow is held until `end` runs, so no purge wipes the value meanwhile;
        // `&self` rules out `&mut` access through this handle, the only other way in.
        Ok(unsafe { Exposed::new(self.value_ptr(), end) })
    }

    /// Like [`expose`](Self::expose), mutably.
    pub(crate) fn expose_mut(&mut self) -> Result<ExposedMut<'_, S>> {
        self.check_alive()?;
        let entry = self.entry()?;
        entry.acquire()?;
        // SAFETY: the row is never freed, and ending the borrow just started is what
        // `end_borrow` does.
        let end = unsafe { EndBorrow::new(NonNull::from(entry).cast(), end_borrow_erased) };
        // SAFETY: a borrow is held until `end` runs (no purge wipes meanwhile), and
        // `&mut self`, held by the guard, rules out every other access to the value.
        Ok(unsafe { ExposedMut::new(self.value_ptr(), end) })
    }

    /// The value's block and layout, as its allocator knows them (e.g. to ask which
    /// protections its memory got).
    pub(crate) fn block(&self) -> (NonNull<u8>, Layout) {
        (self.value.cast(), Layout::new::<S>())
    }

    /// What purges this one secret as [`purge_all`] would, without touching any other (for
    /// unit tests, which run in parallel in one process).
    #[cfg(test)]
    pub(crate) fn purger(&self) -> Purger {
        Purger(self.entry.expect("registered"))
    }

    /// Whether a purge has reached this secret.
    pub(crate) fn purged(&self) -> bool {
        match (self.check_alive(), self.entry()) {
            (Ok(()), Ok(entry)) => entry.state.purge_begun(),
            _ => true,
        }
    }
}

/// Purges one secret from outside its owner, the way [`purge_all`] reaches it: through its
/// row, never through a reference to the owner.
#[cfg(test)]
pub(crate) struct Purger(NonNull<Entry>);

#[cfg(test)]
impl Purger {
    /// Purges the secret.
    ///
    /// # Safety
    /// The secret this came from must still be alive (not dropped).
    pub(crate) unsafe fn purge(&self) {
        // SAFETY: rows are never freed, and the caller keeps the row's owner alive, so the
        // row still holds its value's address.
        let entry = unsafe { self.0.as_ref() };
        if let Some(value) = NonNull::new(entry.value.load(Ordering::Acquire)) {
            entry.purge(value);
        }
    }
}

/// [`Entry::end_borrow`] for an [`EndBorrow`].
///
/// # Safety
/// `entry` must be a row (type-erased) whose borrow the caller ends, once.
unsafe fn end_borrow_erased(entry: NonNull<()>) {
    // SAFETY: the caller (an `EndBorrow` made in `expose`/`expose_mut`) passes a row of the
    // leaked, never-freed table.
    unsafe { entry.cast::<Entry>().as_ref() }.end_borrow();
}

impl<S: Wipe, A: Allocator> Drop for Tracked<S, A> {
    fn drop(&mut self) {
        let current = self.stamp.is_current();
        if !current && !S::SURVIVES_FORK {
            // A forked child: the block is zeros or unmapped; no valid S to drop, no block to
            // return to this generation's allocator. The child's exit releases everything.
            return;
        }
        // In a forked child the row is one of the parent's table: nothing to undo.
        if current && self.entry.is_some() {
            REGISTRY.get().unregister(self.index);
        }
        let value = self.value_ptr();
        // SAFETY: the row is free and no purge is running (`unregister` waited), no borrow
        // exists (`&mut self`), so the value is ours alone; it is dropped exactly once, and
        // the block is returned to the allocator it came from with the layout it had.
        unsafe {
            (*value.as_ptr()).wipe_before_drop();
            value.drop_in_place();
            self.alloc.deallocate(self.value.cast(), Layout::new::<S>());
        }
    }
}

/// Entries per chunk of the table; chunks are allocated as the table grows.
const CHUNK: usize = 8192;
/// Chunks at most: 2^29 live secret objects (the table of chunk pointers is 512 KiB of
/// address space, allocated zeroed, so its untouched pages cost nothing).
const CHUNKS: usize = 65536;
/// Indices a thread takes from, or hands back to, the shared supply at once.
const BATCH: usize = 64;

/// The table of one fork generation.
struct Registry {
    /// Each chunk is `CHUNK` rows (its first row here), null until made.
    chunks: Box<[AtomicPtr<Entry>]>,
    /// Indices never handed out start here.
    fresh: AtomicUsize,
    /// Indices given back by threads that held too many, or that exited.
    spare: Mutex<Vec<u32>>,
    /// Purges running now.
    purges: AtomicUsize,
    /// Orders an owner's clearing of its row against a purge's reading of the table.
    fence: AsymmetricFence,
}

static REGISTRY: PerGeneration<Registry> = PerGeneration::new(Registry::new);

thread_local! {
    /// This thread's free indices, and the generation they belong to.
    static INDICES: RefCell<Indices> = const { RefCell::new(Indices { stamp: Stamp::ORIGINAL, free: Vec::new() }) };
    /// Set while this thread runs a purge: a secret dropped by a wipe on this thread (a
    /// `Zeroize` that drops what it owns) must not wait for its own purge to end.
    static PURGING_HERE: ThreadFlag<bool> = const { ThreadFlag::new(false) };
}

struct Indices {
    stamp: Stamp,
    free: Vec<u32>,
}

impl Drop for Indices {
    /// A thread's exit hands its indices back.
    fn drop(&mut self) {
        if self.stamp.is_current() && !self.free.is_empty() {
            REGISTRY.get().spare_lock().append(&mut self.free);
        }
    }
}

impl Registry {
    fn new() -> Self {
        crate::alloc::canary::on_breach(purge_all);
        Registry {
            chunks: zeroed_atomics(CHUNKS),
            fresh: AtomicUsize::new(0),
            spare: Mutex::new(Vec::new()),
            purges: AtomicUsize::new(0),
            fence: AsymmetricFence::new(),
        }
    }

    /// The spare indices. A panic cannot leave the list half-updated (each update is one
    /// `Vec` call), so a poisoned lock is still usable.
    fn spare_lock(&self) -> std::sync::MutexGuard<'_, Vec<u32>> {
        self.spare.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The row for `index`, whose chunk exists (indices are handed out only after their
    /// chunk is made).
    #[inline]
    fn entry(&self, index: u32) -> &Entry {
        let index = index as usize;
        let chunk = self.chunks[index / CHUNK].load(Ordering::Acquire);
        debug_assert!(!chunk.is_null(), "an index is handed out only once its chunk exists");
        // SAFETY: the chunk exists (above) and is `CHUNK` rows, leaked and never freed;
        // `index % CHUNK` is inside it.
        unsafe { &*chunk.add(index % CHUNK) }
    }

    /// Makes chunk `n` if it does not exist yet.
    fn ensure_chunk(&self, n: usize) {
        if !self.chunks[n].load(Ordering::Acquire).is_null() {
            return;
        }
        let fresh: Box<[Entry]> = zeroed_rows(CHUNK);
        let fresh = Box::leak(fresh).as_mut_ptr();
        if self.chunks[n].compare_exchange(ptr::null_mut(), fresh, Ordering::AcqRel, Ordering::Acquire).is_err() {
            // SAFETY: `fresh` was leaked just above from a boxed slice of `CHUNK` entries
            // and never published (the exchange failed), so we may take it back and free it.
            drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(fresh, CHUNK)) });
        }
    }

    /// Moves a batch of free indices into `out`.
    fn refill(&self, out: &mut Vec<u32>) -> Result<()> {
        {
            let mut spare = self.spare_lock();
            let take = spare.len().min(BATCH);
            let from = spare.len() - take;
            out.extend(spare.drain(from..));
        }
        if !out.is_empty() {
            return Ok(());
        }
        let start = self.fresh.fetch_add(BATCH, Ordering::Relaxed);
        if start + BATCH > CHUNK * CHUNKS {
            self.fresh.fetch_sub(BATCH, Ordering::Relaxed);
            let msg = "more than 2^29 live secret objects";
            return Err(Error::os("register a secret", std::io::Error::new(std::io::ErrorKind::OutOfMemory, msg)));
        }
        // BATCH divides CHUNK, so the batch lies in one chunk.
        self.ensure_chunk(start / CHUNK);
        out.extend((start..start + BATCH).rev().map(|i| i as u32));
        Ok(())
    }

    /// A free row: this thread's last freed one if it has any (a pop), else a batch from
    /// the shared supply (the cold path).
    #[inline]
    fn take_index(&self) -> Result<u32> {
        let cached = INDICES.try_with(|indices| {
            let mut indices = indices.borrow_mut();
            if indices.stamp.is_current() { indices.free.pop() } else { None }
        });
        match cached {
            Ok(Some(index)) => Ok(index),
            _ => self.take_index_slow(),
        }
    }

    #[cold]
    fn take_index_slow(&self) -> Result<u32> {
        let from_thread = INDICES.try_with(|indices| -> Result<u32> {
            let mut indices = indices.borrow_mut();
            if !indices.stamp.is_current() {
                // Indices of the parent's registry mean nothing in this forked child.
                indices.free.clear();
                indices.stamp = Stamp::now();
            }
            if indices.free.is_empty() {
                self.refill(&mut indices.free)?;
            }
            Ok(indices.free.pop().expect("refill adds at least one index"))
        });
        match from_thread {
            Ok(index) => index,
            Err(_) => {
                // The thread is exiting and its cache is gone: take one, give the rest back.
                let mut batch = Vec::new();
                self.refill(&mut batch)?;
                let index = batch.pop().expect("refill adds at least one index");
                self.spare_lock().append(&mut batch);
                Ok(index)
            }
        }
    }

    /// Gives a row back to this thread's cache (a push), or to the shared supply when the
    /// cache is full or gone (the cold path).
    #[inline]
    fn give_index(&self, index: u32) {
        let kept = INDICES.try_with(|indices| {
            let mut indices = indices.borrow_mut();
            if !indices.stamp.is_current() || indices.free.len() >= 4 * BATCH {
                return false;
            }
            indices.free.push(index);
            true
        });
        if kept != Ok(true) {
            self.give_index_slow(index);
        }
    }

    #[cold]
    fn give_index_slow(&self, index: u32) {
        let kept = INDICES.try_with(|indices| {
            let mut indices = indices.borrow_mut();
            if !indices.stamp.is_current() {
                return false;
            }
            // Keep half, hand the older half to other threads.
            let from = indices.free.len().saturating_sub(2 * BATCH);
            self.spare_lock().extend(indices.free.drain(..from));
            indices.free.push(index);
            true
        });
        if kept != Ok(true) {
            self.spare_lock().push(index);
        }
    }

    /// Takes a value out of the table; returns once no purge can still be touching it.
    #[inline]
    fn unregister(&self, index: u32) {
        // Store, fence, load; paired with `purge`'s (module docs). Acquire: if a purge has
        // just ended, its wipes happen before the caller frees the value.
        self.entry(index).value.store(ptr::null_mut(), Ordering::Release);
        self.fence.light();
        if self.purges.load(Ordering::Acquire) != 0 && !PURGING_HERE.try_with(ThreadFlag::get).unwrap_or(false) {
            while self.purges.load(Ordering::Acquire) != 0 {
                std::thread::yield_now();
            }
        }
        self.give_index(index);
    }

    /// Purges every value in the table. Takes no lock and runs no destructor of ours, so it
    /// may run on a thread that holds any lock, just before an abort.
    fn purge(&self) {
        let _ = PURGING_HERE.try_with(|flag| flag.set(true));
        self.purges.fetch_add(1, Ordering::SeqCst);
        self.fence.heavy();
        let end = self.fresh.load(Ordering::Acquire).min(CHUNK * CHUNKS);
        for chunk in &self.chunks[..end.div_ceil(CHUNK)] {
            let chunk = chunk.load(Ordering::Acquire);
            if chunk.is_null() {
                continue;
            }
            for i in 0..CHUNK {
                // SAFETY: a non-null chunk is `CHUNK` leaked rows, never freed.
                let entry = unsafe { &*chunk.add(i) };
                // The value was registered when we read it, and its owner, having cleared
                // it, waits for `purges` to fall back before freeing it or reusing the row
                // (module docs), so the row describes a live value until we are done.
                if let Some(value) = NonNull::new(entry.value.load(Ordering::Acquire)) {
                    entry.purge(value);
                }
            }
        }
        self.purges.fetch_sub(1, Ordering::Release);
        let _ = PURGING_HERE.try_with(|flag| flag.set(false));
    }
}

/// `len` null pointers, from zeroed memory (calloc): pages are touched only when used.
fn zeroed_atomics<T>(len: usize) -> Box<[AtomicPtr<T>]> {
    let zeroed = Box::<[AtomicPtr<T>]>::new_zeroed_slice(len);
    // SAFETY: an `AtomicPtr<T>` has the representation of a `*mut T`, and all-zero bytes
    // are the null pointer, a valid value.
    unsafe { zeroed.assume_init() }
}

/// `len` free rows, from zeroed memory.
fn zeroed_rows(len: usize) -> Box<[Entry]> {
    let zeroed = Box::<[Entry]>::new_zeroed_slice(len);
    // SAFETY: all-zero bytes are a valid free row: a zero `BorrowState` (transparent over an
    // `AtomicU32`), a null `AtomicPtr`, and `None` for the `Option` of a function pointer.
    unsafe { zeroed.assume_init() }
}

/// Purges every live tracked secret of this generation.
pub(crate) fn purge_all() {
    if let Some(registry) = REGISTRY.get_if_made() {
        registry.purge();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes([u8; 8]);

    impl Wipe for Bytes {
        const SURVIVES_FORK: bool = true;
        fn wipe(&mut self) {
            self.0 = [0; 8];
        }
        fn wipe_before_drop(&mut self) {}
    }

    #[test]
    fn rows_are_reused_after_drop_and_start_clean() {
        let first = Tracked::new(Bytes([1; 8])).unwrap();
        let index = first.index;
        // SAFETY: `first` is alive.
        unsafe { first.purger().purge() };
        assert!(first.purged());
        drop(first);
        let again = Tracked::new(Bytes([2; 8])).unwrap();
        assert_eq!(again.index, index, "a freed row is the next one handed out");
        assert!(!again.purged(), "a reused row starts unpurged");
        assert_eq!(again.with(|b| b.0).unwrap(), [2; 8]);
    }

    #[test]
    fn a_purge_waits_for_no_borrow_and_the_last_borrow_wipes() {
        let tracked = Tracked::new(Bytes([7; 8])).unwrap();
        let (a, b) = (tracked.expose().unwrap(), tracked.expose().unwrap());
        // SAFETY: `tracked` is alive.
        unsafe { tracked.purger().purge() };
        assert_eq!(a.0, [7; 8], "a borrowed secret is intact until its last guard drops");
        drop(a);
        assert_eq!(b.0, [7; 8]);
        drop(b);
        assert!(tracked.purged());
        assert!(matches!(tracked.expose(), Err(Error::Destroyed)));
    }
}
