//! The end of a counted borrow: what a guard ([`crate::Exposed`]) carries and runs when it
//! drops. It sits below the allocators and the purge registry, which both count borrows,
//! so neither depends on the public guard types.

use std::marker::PhantomData;
use std::ptr::NonNull;

/// Something that counts its borrows and must hear when one ends (e.g. a strict secret,
/// whose pages become inaccessible again when its last borrow ends).
pub(crate) trait Release {
    /// Ends one borrow that the caller started.
    fn release(&self);
}

/// One borrow to end exactly once, when this value drops, during `'a`.
///
/// It holds a raw pointer, not a reference: ending a borrow may wipe the very value it
/// guarded (a purge deferred to the last reader), and a live reference to that value must
/// not exist while that happens.
pub(crate) struct EndBorrow<'a> {
    target: NonNull<()>,
    end: unsafe fn(NonNull<()>),
    _during: PhantomData<&'a ()>,
}

impl<'a> EndBorrow<'a> {
    /// Ends `end(target)` when dropped.
    ///
    /// # Safety
    /// `target` must stay valid until the end of `'a`, and calling `end(target)` once,
    /// at any moment during `'a`, must be sound: it ends a borrow the caller started.
    pub(crate) unsafe fn new(target: NonNull<()>, end: unsafe fn(NonNull<()>)) -> Self {
        EndBorrow { target, end, _during: PhantomData }
    }

    /// Calls `target.release()` when dropped.
    pub(crate) fn release_of<T: Release>(target: &'a T) -> Self {
        /// # Safety
        /// `target` must point to a live `T`.
        unsafe fn release<T: Release>(target: NonNull<()>) {
            // SAFETY: `target` was made from a `&'a T` in `release_of`, and this runs during
            // `'a` (the `EndBorrow` cannot outlive it), so the `T` is alive; the shared
            // reference made here lives only for this call.
            unsafe { target.cast::<T>().as_ref() }.release();
        }
        // SAFETY: `target` comes from a reference valid for `'a`, and `release` only calls
        // `T::release` through it, which is how a borrow of a `T` ends.
        unsafe { EndBorrow::new(NonNull::from(target).cast(), release::<T>) }
    }
}

impl Drop for EndBorrow<'_> {
    fn drop(&mut self) {
        // SAFETY: `new`'s contract: during `'a` (this value cannot outlive it) the call is
        // sound, and `drop` runs once.
        unsafe { (self.end)(self.target) }
    }
}
