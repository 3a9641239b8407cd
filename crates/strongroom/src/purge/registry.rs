//! The registry of live secret objects, and the [`Tracked`] cell each one lives in.
//!
//! Every secret object (`LockedBuffer`, `SecretBox`, `SecretVec`, `SecretString`) keeps its
//! state in a cell at a fixed address: a header (an atomic borrow count and purge flags, and
//! how to wipe the value) followed by the value. The registry is a table of pointers to
//! those headers, so [`purge_all`] reaches every live one. Registering costs a thread-local
//! pop and one store; unregistering a store, a load and a push: no lock, no reference count.
//!
//! **Wiping under borrows.** A purge wipes a secret at once if nobody is borrowing it;
//! otherwise it marks it pending, and the last borrow to end wipes it. Either way the wipe
//! happens while no reference into the value exists, and every later borrow fails with
//! [`Error::Destroyed`]. The wipe is the value's own [`Wipe::wipe`] (a `Zeroize`), so the
//! value stays valid and dropping it later is an ordinary drop.
//!
//! **Purging while owners drop.** A purge counts itself in `purges` before it reads the
//! table; an owner clears its entry before it reads `purges`, and if a purge is running it
//! waits for it to end before freeing the cell. Both sides use sequentially consistent
//! operations, so either the purge sees the entry cleared, or the owner sees the purge and
//! waits: a purge never touches a freed cell.
//!
//! A forked child starts a registry of its own ([`PerGeneration`]); what it inherited from
//! its parent is not in it (pooled cells were wiped or withheld by the kernel at the fork).

use std::alloc::Layout;
use std::cell::{Cell as ThreadFlag, RefCell, UnsafeCell};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use allocator_api2::alloc::{Allocator, Global};
use zeroize::Zeroize;

use crate::alloc::secure_alloc;
use crate::borrow::EndBorrow;
use crate::error::{Error, Result};
use crate::exposed::{Exposed, ExposedMut};
use crate::sys::{PerGeneration, Stamp};

/// How a secret object's contents are destroyed.
pub(crate) trait Wipe {
    /// Whether the value may still be used and dropped in a forked child: its cell is
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

const PURGED: u32 = 1 << 31;
const PENDING: u32 = 1 << 30;
const BORROWS: u32 = PENDING - 1;

/// The start of every cell: all a purge needs, whatever the value's type.
#[repr(C)]
struct Header {
    state: AtomicU32,
    /// `finish_purge::<S>` for the cell's `S`: wipes the value if a purge is pending and
    /// nobody borrows it.
    finish_purge: unsafe fn(NonNull<Header>),
}

#[repr(C)]
struct Cell<S> {
    header: Header,
    value: UnsafeCell<S>,
}

/// Starts a borrow, or fails once a purge has begun.
///
/// # Safety
/// `header` must be the header of a live cell.
unsafe fn acquire(header: NonNull<Header>) -> Result<()> {
    // SAFETY: the caller guarantees the header is live; `state` is an atomic.
    let state = unsafe { &header.as_ref().state };
    let before = state.fetch_add(1, Ordering::Acquire);
    if before & (PURGED | PENDING) != 0 {
        // SAFETY: the borrow just counted is ours to end; the header is live (above).
        unsafe { end_borrow(header) };
        return Err(Error::Destroyed);
    }
    Ok(())
}

/// Ends a borrow; the last one out of a secret with a purge pending wipes it.
///
/// # Safety
/// `header` must be the header of a live cell, and the caller must hold a borrow of it that
/// it gives up here (no reference into the value made under it may be used afterwards).
unsafe fn end_borrow(header: NonNull<Header>) {
    // SAFETY: the header is live (caller); `state` is an atomic and `finish_purge` was
    // written before the cell was shared and never changes.
    let (state, finish) = unsafe { (&header.as_ref().state, header.as_ref().finish_purge) };
    let before = state.fetch_sub(1, Ordering::Release);
    if before & BORROWS == 1 && before & PENDING != 0 {
        // SAFETY: the cell is live, and the caller's was the last borrow.
        unsafe { finish(header) };
    }
}

/// Wipes the value behind `header` if a purge is pending and nobody borrows it; of all
/// callers racing here, exactly one wins.
///
/// # Safety
/// `header` must be the header of a live `Cell<S>`.
unsafe fn finish_purge<S: Wipe>(header: NonNull<Header>) {
    // SAFETY: the header is live (caller).
    let state = unsafe { &header.as_ref().state };
    if state.compare_exchange(PENDING, PURGED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
        let cell = header.cast::<Cell<S>>();
        // SAFETY: `Cell` is `repr(C)` with the header first, so `cell` is the `Cell<S>`
        // (caller). The state went from "pending, no borrows" to "purged": no borrow exists
        // and none can start (`acquire` fails once PENDING or PURGED is set), and the owner
        // is not dropping it (it waits for running purges, and a deferred wipe runs inside a
        // borrow the owner gave out), so this `&mut` is the only access to the value. It is
        // reached through `UnsafeCell::raw_get`, never through a reference to the cell.
        unsafe { (*UnsafeCell::raw_get(&raw const (*cell.as_ptr()).value)).wipe() }
    }
}

/// Marks the cell behind `header` for a purge, and wipes it now if nobody borrows it.
///
/// # Safety
/// `header` must be the header of a live cell.
unsafe fn purge_one(header: NonNull<Header>) {
    // SAFETY: the header is live (caller).
    let (state, finish) = unsafe { (&header.as_ref().state, header.as_ref().finish_purge) };
    let before = state.fetch_or(PENDING, Ordering::AcqRel);
    if before & (PURGED | PENDING) == 0 && before & BORROWS == 0 {
        // SAFETY: the header is live (caller).
        unsafe { finish(header) };
    }
    // Otherwise it was purged already, or the last borrow will wipe it.
}

/// Sentinel index of a cell not (yet) in the registry.
const UNREGISTERED: u32 = u32::MAX;

/// The owner's handle to a tracked secret: the cell, allocated from `A` (protected memory
/// for values that are secret bytes themselves, the ordinary heap for handles to memory
/// protected elsewhere), and its entry in the registry.
pub(crate) struct Tracked<S: Wipe, A: Allocator = Global> {
    cell: NonNull<Cell<S>>,
    alloc: A,
    index: u32,
    stamp: Stamp,
    _owns: PhantomData<S>,
}

// SAFETY: the handle owns its cell and the S in it (like a Box); moving the handle moves
// that ownership. The registry's pointer to the header is only used under the purge
// protocol, which is thread-safe (atomics). The allocator moves with it (A: Send).
unsafe impl<S: Wipe + Send, A: Allocator + Send> Send for Tracked<S, A> {}
// SAFETY: shared borrows hand `&S` to several threads (S: Sync), and a purge on another
// thread takes `&mut S` only when no borrow exists (S: Send), as the state protocol ensures.
unsafe impl<S: Wipe + Send + Sync, A: Allocator + Sync> Sync for Tracked<S, A> {}

impl<S: Wipe> Tracked<S> {
    /// Tracks `value` in a cell on the ordinary heap (for handles to protected memory: the
    /// cell holds no secret bytes itself) and registers it for purging.
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
    fn allocate(alloc: &A) -> Result<NonNull<Cell<S>>> {
        let block = alloc.allocate_zeroed(Layout::new::<Cell<S>>()).map_err(|_| secure_alloc::take_last_error())?;
        let cell = block.cast::<Cell<S>>();
        // SAFETY: the block is fresh, sized and aligned for a `Cell<S>` (its layout), and
        // ours alone; writing the header through a raw field pointer creates no reference.
        unsafe {
            (&raw mut (*cell.as_ptr()).header)
                .write(Header { state: AtomicU32::new(0), finish_purge: finish_purge::<S> });
        }
        Ok(cell)
    }

    /// A pointer to the value, derived from the cell's own pointer through the `UnsafeCell`.
    fn value_ptr(&self) -> NonNull<S> {
        // SAFETY: `self.cell` is live while the handle exists; `raw_get` on a raw field
        // pointer makes no reference to the cell, and the result is non-null (inside it).
        unsafe { NonNull::new_unchecked(UnsafeCell::raw_get(&raw const (*self.cell.as_ptr()).value)) }
    }

    fn header(&self) -> NonNull<Header> {
        self.cell.cast()
    }

    /// Tracks `value` in a cell from `alloc` and registers it for purging.
    pub(crate) fn new_in(alloc: A, value: S) -> Result<Self> {
        let cell = Self::allocate(&alloc)?;
        // SAFETY: the cell is fresh and ours; its value field is sized and aligned for S.
        unsafe { UnsafeCell::raw_get(&raw const (*cell.as_ptr()).value).write(value) };
        let mut tracked = Tracked { cell, alloc, index: UNREGISTERED, stamp: Stamp::now(), _owns: PhantomData };
        tracked.register()?;
        Ok(tracked)
    }

    /// Builds the value in place: starts from all-zero bytes in a cell from `alloc` and
    /// lets `init` fill it in (so a secret never passes through the stack on its way in),
    /// then registers it for purging.
    pub(crate) fn zeroed_in(alloc: A, init: impl FnOnce(&mut S)) -> Result<Self>
    where
        S: bytemuck::Zeroable,
    {
        let cell = Self::allocate(&alloc)?;
        // Unregistered until `init` returns: if it panics, the drop frees the cell as usual.
        let mut tracked = Tracked { cell, alloc, index: UNREGISTERED, stamp: Stamp::now(), _owns: PhantomData };
        // SAFETY: the block came zeroed and all-zero bytes are a valid S (S: Zeroable); the
        // cell is not registered yet, so this `&mut` is the only access to the value.
        init(unsafe { tracked.value_ptr().as_mut() });
        tracked.register()?;
        Ok(tracked)
    }

    fn register(&mut self) -> Result<()> {
        let registry = REGISTRY.get();
        let index = registry.take_index()?;
        // Release: a purge that finds the entry sees the header and value written above.
        registry.entry(index).store(self.header().as_ptr(), Ordering::Release);
        self.index = index;
        Ok(())
    }

    /// Fails in a forked child when the cell itself lived in memory the kernel wiped or
    /// withheld at the fork (protected memory); a heap cell is a plain copy there.
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
        // SAFETY: the cell is live while `self` is.
        unsafe { acquire(self.header()) }?;
        // SAFETY: the cell outlives the guard (which borrows `self`), and ending the borrow
        // just started is what `end_borrow` does.
        let end = unsafe { EndBorrow::new(self.header().cast(), end_borrow_erased) };
        // SAFETY: a borrow is held until `end` runs, so no purge wipes the value meanwhile;
        // `&self` rules out `&mut` access through this handle, the only other way in.
        Ok(unsafe { Exposed::new(self.value_ptr(), end) })
    }

    /// Like [`expose`](Self::expose), mutably.
    pub(crate) fn expose_mut(&mut self) -> Result<ExposedMut<'_, S>> {
        self.check_alive()?;
        // SAFETY: the cell is live while `self` is.
        unsafe { acquire(self.header()) }?;
        // SAFETY: the cell outlives the guard (which borrows `self` mutably), and ending the
        // borrow just started is what `end_borrow` does.
        let end = unsafe { EndBorrow::new(self.header().cast(), end_borrow_erased) };
        // SAFETY: a borrow is held until `end` runs (no purge wipes meanwhile), and
        // `&mut self`, held by the guard, rules out every other access to the value.
        Ok(unsafe { ExposedMut::new(self.value_ptr(), end) })
    }

    /// The cell's block and layout, as its allocator knows them (e.g. to ask which
    /// protections its memory got).
    pub(crate) fn block(&self) -> (NonNull<u8>, Layout) {
        (self.cell.cast(), Layout::new::<Cell<S>>())
    }

    /// What purges this one secret as [`purge_all`] would, without touching any other (for
    /// unit tests, which run in parallel in one process).
    #[cfg(test)]
    pub(crate) fn purger(&self) -> Purger {
        Purger(self.header())
    }

    /// Whether a purge has reached this secret.
    pub(crate) fn purged(&self) -> bool {
        if self.check_alive().is_err() {
            return true;
        }
        // SAFETY: the cell is live while `self` is; `state` is an atomic.
        let state = unsafe { &self.header().as_ref().state };
        state.load(Ordering::Acquire) & (PURGED | PENDING) != 0
    }
}

/// Purges one secret from outside its owner, the way [`purge_all`] reaches it: through the
/// cell's raw address, never through a reference to the owner.
#[cfg(test)]
pub(crate) struct Purger(NonNull<Header>);

#[cfg(test)]
impl Purger {
    /// Purges the secret.
    ///
    /// # Safety
    /// The secret this came from must still be alive (not dropped).
    pub(crate) unsafe fn purge(&self) {
        // SAFETY: the caller keeps the secret, and so its cell, alive.
        unsafe { purge_one(self.0) }
    }
}

/// [`end_borrow`] for an [`EndBorrow`].
///
/// # Safety
/// As for `end_borrow`, with `header` type-erased.
unsafe fn end_borrow_erased(header: NonNull<()>) {
    // SAFETY: the caller (an `EndBorrow` made in `expose`/`expose_mut`) passes the erased
    // header of a cell that is live for the guard's lifetime, whose borrow it ends once.
    unsafe { end_borrow(header.cast()) }
}

impl<S: Wipe, A: Allocator> Drop for Tracked<S, A> {
    fn drop(&mut self) {
        let current = self.stamp.is_current();
        if !current && !S::SURVIVES_FORK {
            // A forked child: the cell is zeros or unmapped; no valid S to drop, no block to
            // return to this generation's allocator. The child's exit releases everything.
            return;
        }
        // In a forked child the index is one of the parent's registry: nothing to undo.
        if current && self.index != UNREGISTERED {
            REGISTRY.get().unregister(self.index);
        }
        let value = self.value_ptr();
        // SAFETY: the entry is gone and no purge is running (`unregister` waited), no borrow
        // exists (`&mut self`), so the value is ours alone; it is dropped exactly once, and
        // the block is returned to the allocator it came from with the layout it had.
        unsafe {
            (*value.as_ptr()).wipe_before_drop();
            value.drop_in_place();
            self.alloc.deallocate(self.cell.cast(), Layout::new::<Cell<S>>());
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
    /// Each chunk is `CHUNK` entries, null where no live secret is registered.
    chunks: Box<[AtomicPtr<AtomicPtr<Header>>]>,
    /// Indices never handed out start here.
    fresh: AtomicUsize,
    /// Indices given back by threads that held too many, or that exited.
    spare: Mutex<Vec<u32>>,
    /// Purges running now.
    purges: AtomicUsize,
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
        }
    }

    /// The spare indices. A panic cannot leave the list half-updated (each update is one
    /// `Vec` call), so a poisoned lock is still usable.
    fn spare_lock(&self) -> std::sync::MutexGuard<'_, Vec<u32>> {
        self.spare.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry for `index`, whose chunk exists (indices are handed out only after their
    /// chunk is made).
    #[inline]
    fn entry(&self, index: u32) -> &AtomicPtr<Header> {
        let index = index as usize;
        let chunk = self.chunks[index / CHUNK].load(Ordering::Acquire);
        debug_assert!(!chunk.is_null(), "an index is handed out only once its chunk exists");
        // SAFETY: the chunk exists (above) and is `CHUNK` atomics, leaked and never freed;
        // `index % CHUNK` is inside it.
        unsafe { &*chunk.add(index % CHUNK) }
    }

    /// Makes chunk `n` if it does not exist yet.
    fn ensure_chunk(&self, n: usize) {
        if !self.chunks[n].load(Ordering::Acquire).is_null() {
            return;
        }
        let fresh: Box<[AtomicPtr<Header>]> = zeroed_atomics(CHUNK);
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

    fn take_index(&self) -> Result<u32> {
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

    fn give_index(&self, index: u32) {
        let kept = INDICES.try_with(|indices| {
            let mut indices = indices.borrow_mut();
            if !indices.stamp.is_current() {
                return false;
            }
            indices.free.push(index);
            if indices.free.len() > 4 * BATCH {
                let from = indices.free.len() - 2 * BATCH;
                self.spare_lock().extend(indices.free.drain(from..));
            }
            true
        });
        if kept != Ok(true) {
            self.spare_lock().push(index);
        }
    }

    /// Takes a cell out of the table; returns once no purge can still be touching it.
    fn unregister(&self, index: u32) {
        // SeqCst, paired with `purge`: see the module docs.
        self.entry(index).store(ptr::null_mut(), Ordering::SeqCst);
        if self.purges.load(Ordering::SeqCst) != 0 && !PURGING_HERE.try_with(ThreadFlag::get).unwrap_or(false) {
            while self.purges.load(Ordering::Acquire) != 0 {
                std::thread::yield_now();
            }
        }
        self.give_index(index);
    }

    /// Purges every cell in the table. Takes no lock and runs no destructor of ours, so it
    /// may run on a thread that holds any lock, just before an abort.
    fn purge(&self) {
        let _ = PURGING_HERE.try_with(|flag| flag.set(true));
        self.purges.fetch_add(1, Ordering::SeqCst);
        let end = self.fresh.load(Ordering::Acquire).min(CHUNK * CHUNKS);
        for chunk in &self.chunks[..end.div_ceil(CHUNK)] {
            let chunk = chunk.load(Ordering::Acquire);
            if chunk.is_null() {
                continue;
            }
            for i in 0..CHUNK {
                // SAFETY: a non-null chunk is `CHUNK` leaked atomics, never freed.
                let entry = unsafe { &*chunk.add(i) };
                if let Some(header) = NonNull::new(entry.load(Ordering::SeqCst)) {
                    // SAFETY: the entry was set when we read it, and its owner, having
                    // cleared it, waits for `purges` to fall back before freeing the cell
                    // (module docs), so the cell stays live until we are done.
                    unsafe { purge_one(header) };
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
    fn indices_are_reused_after_drop() {
        let first = Tracked::new(Bytes([1; 8])).unwrap();
        let index = first.index;
        drop(first);
        let again = Tracked::new(Bytes([2; 8])).unwrap();
        assert_eq!(again.index, index, "a freed index is the next one handed out");
    }

    #[test]
    fn a_guard_dropped_by_value_after_a_purge_wipes_without_undefined_behaviour() {
        // Miri checks this one: the deferred wipe runs while the guard is being dropped.
        let tracked = Tracked::new(Bytes([7; 8])).unwrap();
        let guard = tracked.expose().unwrap();
        // SAFETY: `tracked` is alive.
        unsafe { tracked.purger().purge() };
        assert_eq!(guard.0, [7; 8], "a borrowed secret is intact until its guard drops");
        drop(guard);
        assert!(tracked.purged());
        assert!(matches!(tracked.expose(), Err(Error::Destroyed)));
    }
}
