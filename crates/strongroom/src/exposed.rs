//! Short-lived access to a secret's bytes.
//!
//! Every secret type hands out its contents only through these guards (or through a
//! closure), so that access is visible in the code, bounded by a scope, and can be tracked.
//! Their `Debug` output is redacted like the secrets they expose.

use std::fmt;
use std::ops::{Deref, DerefMut};

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
}

impl<'a, T: ?Sized> Exposed<'a, T> {
    pub(crate) fn new(value: &'a T) -> Self {
        Exposed { value }
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
}

impl<'a, T: ?Sized> ExposedMut<'a, T> {
    pub(crate) fn new(value: &'a mut T) -> Self {
        ExposedMut { value }
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
