//! Short-lived access to a secret's bytes.
//!
//! Every secret type hands out its contents only through these guards (or through a
//! closure), so that access is visible in the code, bounded by a scope, and can be tracked.
//! Their `Debug` output is redacted like the secrets they expose.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// Something to do when a tracked borrow ends (e.g. make strict pages inaccessible again).
pub(crate) trait Release {
    fn release(&self);
}

/// Read access to a secret, valid while the guard lives.
///
/// ```
/// let buf = strongroom::LockedBuffer::random(32)?;
/// let bytes = buf.expose()?;
/// assert_eq!(bytes.len(), 32);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct Exposed<'a, T: ?Sized> {
    value: &'a T,
    release: Releases<'a>,
}

/// The borrows a guard ends when it drops, innermost first (e.g. a strict secret's page
/// protection, then the purge-tracking borrow around it).
#[derive(Clone, Copy, Default)]
struct Releases<'a> {
    inner: Option<&'a dyn Release>,
    outer: Option<&'a dyn Release>,
}

impl Releases<'_> {
    fn run(self) {
        for release in [self.inner, self.outer].into_iter().flatten() {
            release.release();
        }
    }
}

impl<'a, T: ?Sized> Exposed<'a, T> {
    /// A guard that calls `release` when dropped, ending a tracked borrow.
    pub(crate) fn tracked(value: &'a T, release: &'a dyn Release) -> Self {
        Exposed { value, release: Releases { inner: Some(release), outer: None } }
    }

    /// A guard that ends two nested borrows when dropped, `inner` first.
    pub(crate) fn tracked_twice(value: &'a T, inner: &'a dyn Release, outer: &'a dyn Release) -> Self {
        Exposed { value, release: Releases { inner: Some(inner), outer: Some(outer) } }
    }

    /// A guard over a part or view of the value (e.g. `[u8]` as `str`), keeping the borrow.
    pub(crate) fn try_map<U: ?Sized, E>(self, f: impl FnOnce(&'a T) -> Result<&'a U, E>) -> Result<Exposed<'a, U>, E> {
        // The borrow moves to the new guard (or is released here on error), never twice.
        let this = std::mem::ManuallyDrop::new(self);
        let (value, release) = (this.value, this.release);
        match f(value) {
            Ok(value) => Ok(Exposed { value, release }),
            Err(e) => {
                release.run();
                Err(e)
            }
        }
    }
}

impl<T: ?Sized> Drop for Exposed<'_, T> {
    fn drop(&mut self) {
        self.release.run();
    }
}

impl<T: ?Sized> Deref for Exposed<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
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
    value: &'a mut T,
    release: Releases<'a>,
}

impl<'a, T: ?Sized> ExposedMut<'a, T> {
    /// A guard that calls `release` when dropped, ending a tracked borrow.
    pub(crate) fn tracked(value: &'a mut T, release: &'a dyn Release) -> Self {
        ExposedMut { value, release: Releases { inner: Some(release), outer: None } }
    }

    /// A guard that ends two nested borrows when dropped, `inner` first.
    pub(crate) fn tracked_twice(value: &'a mut T, inner: &'a dyn Release, outer: &'a dyn Release) -> Self {
        ExposedMut { value, release: Releases { inner: Some(inner), outer: Some(outer) } }
    }
}

impl<T: ?Sized> Drop for ExposedMut<'_, T> {
    fn drop(&mut self) {
        self.release.run();
    }
}

impl<T: ?Sized> Deref for ExposedMut<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
    }
}

impl<T: ?Sized> DerefMut for ExposedMut<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
    }
}

impl<T: ?Sized> fmt::Debug for ExposedMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExposedMut(<redacted>)")
    }
}
