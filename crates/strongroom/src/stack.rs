//! Run your own code that handles key material on a secure stack.
//!
//! strongroom runs every call of its own that touches keys (AEAD, the Coffer, the KDF) on a
//! secure stack: locked into RAM, out of core dumps and forked children, with a guard page
//! below it, and wiped after the call, so no key, subkey or cipher state is left on the
//! thread's ordinary stack. [`run`] offers the same to your code.
//!
//! Available on Unix (Linux, the BSDs, macOS). On Windows strongroom cannot switch stacks
//! yet, so these calls run on the thread's own stack: [`is_available`] says which.

use crate::alloc::stack::{self, StackSize};
use crate::error::Result;

/// Runs `f` on a fresh 256 KiB secure stack, wipes the stack, and returns `f`'s result. A
/// panic in `f` is carried back and resumed on the caller's stack. Mapping and locking the
/// stack costs tens of microseconds, so use it around work that matters (deriving a key),
/// not around every byte. Going deeper than 256 KiB hits the guard page: the process dies.
///
/// ```
/// use strongroom::LockedBuffer;
///
/// let key = LockedBuffer::random(32)?;
/// let mut mac = LockedBuffer::new(32)?;
/// strongroom::stack::run(|| -> strongroom::Result<()> {
///     // Whatever copies of the key this computation makes on its stack are wiped after.
///     let key = key.expose()?;
///     let mut out = mac.expose_mut()?;
///     for (o, k) in out.iter_mut().zip(key.iter()) {
///         *o = k.rotate_left(3);
///     }
///     Ok(())
/// })??;
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn run<R>(f: impl FnOnce() -> R) -> Result<R> {
    stack::run(StackSize::Large, f)
}

/// Whether this build really switches to a secure stack (Unix), or runs closures on the
/// thread's own stack (Windows).
///
/// ```
/// assert_eq!(strongroom::stack::is_available(), cfg!(unix));
/// ```
pub const fn is_available() -> bool {
    stack::AVAILABLE
}
