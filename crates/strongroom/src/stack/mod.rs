//! Run code that handles key material on a secure stack.
//!
//! strongroom runs every call of its own that touches keys (AEAD, the Coffer, the KDF) on a
//! secure stack: locked into RAM, out of core dumps and forked children, with a guard page
//! below it, and wiped after the call, so no key, subkey or cipher state is left on the
//! thread's ordinary stack. [`run`] offers the same to your code.
//!
//! Stacks are sized to the call, because the wipe after each call costs time in proportion
//! to the size:
//!
//! - a small stack each thread keeps for the AEAD and hash calls (`StackSize::Crypto`, 8 KiB
//!   in optimised builds: they measured 1.6 KiB with aws-lc and 4 KiB with RustCrypto, and a
//!   unit test keeps them within half of it), so a 1 KiB seal costs an 8 KiB wipe, not a
//!   32 KiB one;
//! - a large stack mapped for the call, for key derivation and for [`run`] (256 KiB), deep
//!   enough for a panic with a full backtrace.
//!
//! Going deeper than a stack's size hits its guard page: the process dies of `SIGSEGV`,
//! never memory corruption. Nothing that may panic with a backtrace (which needs about
//! 20 KiB) runs on the small stack: only strongroom's own crypto calls do.
//!
//! Available on Unix (Linux, the BSDs, macOS). On Windows strongroom cannot switch stacks
//! yet, and Miri cannot either, so these calls run on the thread's own stack:
//! [`is_available`] says which. Not here: allocation of secrets (that is `alloc/`).

#[cfg(all(unix, not(miri)))]
mod switching;

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
/// assert_ne!(&*mac.expose()?, &[0u8; 32]);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn run<R>(f: impl FnOnce() -> R) -> Result<R> {
    run_on(StackSize::Large, f)
}

/// Whether this build really switches to a secure stack (Unix), or runs closures on the
/// thread's own stack (Windows, Miri).
///
/// ```
/// assert_eq!(strongroom::stack::is_available(), cfg!(unix));
/// ```
pub const fn is_available() -> bool {
    AVAILABLE
}

/// Whether closures really run on a secure stack here: on Unix, yes; elsewhere (Windows, where
/// `psm` cannot switch stacks, and under Miri) they run on the thread's own stack.
pub(crate) const AVAILABLE: bool = cfg!(all(unix, not(miri)));

/// How much stack a closure gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StackSize {
    /// 8 KiB (128 KiB unoptimised), kept per thread: strongroom's own AEAD and hash calls,
    /// which do not panic. Deepest measured use, optimised: 1.6 KiB (aws-lc), 4 KiB
    /// (RustCrypto); see the `crypto_calls_fit_the_crypto_stack` test.
    Crypto,
    /// 256 KiB, mapped for the call: key derivation, [`run`], anything that may panic.
    Large,
}

impl StackSize {
    #[cfg_attr(any(not(unix), miri), allow(dead_code, reason = "closures run in place there"))]
    pub(crate) const fn bytes(self) -> usize {
        match self {
            // Unoptimised builds keep every temporary in its own stack slot: RustCrypto's
            // ChaCha alone then needs tens of KiB.
            StackSize::Crypto if cfg!(debug_assertions) => 128 * 1024,
            StackSize::Crypto => 8 * 1024,
            StackSize::Large => 256 * 1024,
        }
    }
}

/// Runs `f` on a secure stack of `size` (in place where stacks cannot be switched, see
/// [`AVAILABLE`]) and wipes the stack afterwards. A panic in `f` is resumed on the caller's
/// stack.
pub(crate) fn run_on<R>(size: StackSize, f: impl FnOnce() -> R) -> Result<R> {
    #[cfg(all(unix, not(miri)))]
    {
        switching::run(size, f)
    }
    #[cfg(any(not(unix), miri))]
    {
        let _ = size;
        Ok(f())
    }
}

#[cfg(all(test, unix, not(miri)))]
pub(crate) use switching::tests::last_depth;
