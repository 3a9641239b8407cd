//! Short-lived access to a secret's bytes.
//!
//! Every secret type hands out its contents only through these guards (or through a
//! closure), so that access is visible in the code, bounded by a scope, and can be tracked.
//! Their `Debug` output is redacted like the secrets they expose.
//!
//! A guard holds a raw pointer to the value and the borrows it ends ([`EndBorrow`]), never a
//! reference: the last guard of a secret purged while it was being read wipes that secret as
//! it drops, and a reference held across that wipe (even one only passed to `drop`) would be
//! undefined behaviour.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

use crate::borrow::EndBorrow;

/// Read access to a secret, valid while the guard lives.
///
/// ```
/// let buf = strongroom::LockedBuffer::random(32)?;
/// let bytes = buf.expose()?;
/// assert_eq!(bytes.len(), 32);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct Exposed<'a, T: ?Sized> {
    value: NonNull<T>,
    /// Dropped in this order: an inner borrow (a strict secret's page access) ends before
    /// the outer one (the purge-tracking borrow, whose end may wipe the value).
    inner: Option<EndBorrow<'a>>,
    outer: EndBorrow<'a>,
    _reads: PhantomData<&'a T>,
}

impl<'a, T: ?Sized> Exposed<'a, T> {
    /// A guard over `value`, ending `outer` when it drops.
    ///
    /// # Safety
    /// `value` must be valid for shared reads, with no `&mut` to it, until `outer` ends.
    pub(crate) unsafe fn new(value: NonNull<T>, outer: EndBorrow<'a>) -> Self {
        Exposed { value, inner: None, outer, _reads: PhantomData }
    }

    /// A guard over a part or view of the value (e.g. `[u8]` as `str`), keeping the borrows;
    /// on error the borrows end here.
    pub(crate) fn try_map<U: ?Sized, E>(
        self,
        f: impl for<'b> FnOnce(&'b T) -> Result<&'b U, E>,
    ) -> Result<Exposed<'a, U>, E> {
        let Exposed { value, inner, outer, .. } = self;
        // SAFETY: the borrows in `inner`/`outer` are still held, so `value` is readable; the
        // reference lives only inside `f` (its lifetime is universally quantified).
        let mapped = NonNull::from(f(unsafe { value.as_ref() })?);
        Ok(Exposed { value: mapped, inner, outer, _reads: PhantomData })
    }

    /// A guard over what `open` reaches inside the value under a borrow of its own (a strict
    /// secret's pages), which ends before this guard's.
    pub(crate) fn try_open<U: ?Sized, E>(
        self,
        open: impl for<'b> FnOnce(&'b T) -> Result<(&'b U, EndBorrow<'b>), E>,
    ) -> Result<Exposed<'a, U>, E>
    where
        T: 'a,
    {
        debug_assert!(self.inner.is_none(), "guards nest two borrows at most");
        let Exposed { value, outer, .. } = self;
        // SAFETY: `outer` is held, so `value` is readable for `'a`; what `open` returns
        // borrows from it for `'a` and no longer (the reference itself is not kept).
        let (opened, inner) = open(unsafe { value.as_ref() })?;
        Ok(Exposed { value: NonNull::from(opened), inner: Some(inner), outer, _reads: PhantomData })
    }
}

impl<T: ?Sized> Deref for Exposed<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard's borrows are held for as long as it lives, so the value is valid
        // for reads and nobody holds `&mut` to it; the reference is tied to `&self`.
        unsafe { self.value.as_ref() }
    }
}

impl<T: ?Sized> fmt::Debug for Exposed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Exposed(<redacted>)")
    }
}

/// Write access to a secret, valid while the guard lives.
///
/// ```
/// let mut buf = strongroom::LockedBuffer::new(4)?;
/// buf.expose_mut()?.copy_from_slice(b"key!");
/// assert_eq!(&*buf.expose()?, b"key!");
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct ExposedMut<'a, T: ?Sized> {
    value: NonNull<T>,
    /// Dropped in this order, as in [`Exposed`].
    inner: Option<EndBorrow<'a>>,
    outer: EndBorrow<'a>,
    _writes: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> ExposedMut<'a, T> {
    /// A guard over `value`, ending `outer` when it drops.
    ///
    /// # Safety
    /// `value` must be valid for reads and writes, and accessed through nothing else, until
    /// `outer` ends.
    pub(crate) unsafe fn new(value: NonNull<T>, outer: EndBorrow<'a>) -> Self {
        ExposedMut { value, inner: None, outer, _writes: PhantomData }
    }

    /// A guard over a part or view of the value, keeping the borrows; on error the borrows
    /// end here.
    pub(crate) fn try_map<U: ?Sized, E>(
        self,
        f: impl for<'b> FnOnce(&'b mut T) -> Result<&'b mut U, E>,
    ) -> Result<ExposedMut<'a, U>, E> {
        let ExposedMut { mut value, inner, outer, .. } = self;
        // SAFETY: the borrows are held, so `value` is valid and exclusively ours; the
        // reference lives only inside `f`.
        let mapped = NonNull::from(f(unsafe { value.as_mut() })?);
        Ok(ExposedMut { value: mapped, inner, outer, _writes: PhantomData })
    }

    /// Like [`Exposed::try_open`], for writing.
    pub(crate) fn try_open<U: ?Sized, E>(
        self,
        open: impl for<'b> FnOnce(&'b mut T) -> Result<(&'b mut U, EndBorrow<'b>), E>,
    ) -> Result<ExposedMut<'a, U>, E>
    where
        T: 'a,
    {
        debug_assert!(self.inner.is_none(), "guards nest two borrows at most");
        let ExposedMut { mut value, outer, .. } = self;
        // SAFETY: `outer` is held, so `value` is valid and exclusively ours for `'a`.
        let (opened, inner) = open(unsafe { value.as_mut() })?;
        Ok(ExposedMut { value: NonNull::from(opened), inner: Some(inner), outer, _writes: PhantomData })
    }
}

impl<T: ?Sized> Deref for ExposedMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard's borrows are held for as long as it lives, and the value is
        // reached through this guard only; the reference is tied to `&self`.
        unsafe { self.value.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for ExposedMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard's borrows are held for as long as it lives, so the value is valid;
        // it is reached through this guard only, and `&mut self` makes this the only reference
        // for its lifetime.
        unsafe { self.value.as_mut() }
    }
}

impl<T: ?Sized> fmt::Debug for ExposedMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExposedMut(<redacted>)")
    }
}
