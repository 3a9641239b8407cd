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
//! - a 64 KiB stack each thread keeps for ML-KEM and X-Wing (`StackSize::Kem`, measured
//!   up to 30 KiB deep), whose polynomial matrices do not fit the small one; locked where
//!   the limit allows, so that a 64 KiB `RLIMIT_MEMLOCK` still runs them;
//! - a 256 KiB stack each thread keeps for ML-DSA (`sign`, Linux), whose
//!   signing goes 113 KiB deep; locked where the limit allows;
//! - a large stack mapped for the call, for key derivation and for [`run`] (256 KiB), deep
//!   enough for a panic with a full backtrace.
//!
//! Going deeper than a stack's size hits its guard page: the process dies of `SIGSEGV`,
//! never memory corruption. Nothing that may panic with a backtrace (which needs about
//! 20 KiB) runs on the small stack: only strongroom's own crypto calls do.
//!
//! Available on Unix (Linux, the BSDs). On Windows strongroom cannot switch stacks
//! yet, and Miri cannot either, so these calls run on the thread's own stack:
//! [`is_available`] says which. Not here: allocation of secrets (that is `alloc/`).

#[cfg(all(unix, not(miri)))]
mod switching;

use crate::error::Result;

/// Runs `f` on a fresh 32 KiB secure stack, wipes the stack, and returns `f`'s result. A
/// panic in `f` is carried back and resumed on the caller's stack (a panic printing a full
/// backtrace needs about 20 KiB). Mapping and locking the stack costs microseconds, so use it
/// around work that matters (deriving a key), not around every byte. Going deeper than the
/// stack hits its guard page: the process dies of `SIGSEGV`; for deeper code use
/// [`run_with_size`]. The stack is locked as the process-wide default
/// [`Policy`](crate::Policy) demands ([`protections`] says what stacks get).
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
    run_on(StackSize::Run, f)
}

/// Like [`run`], on a stack of `bytes` (rounded up to whole pages, at least one): more for
/// deep code, less where locked memory is scarce.
///
/// ```
/// let depth = strongroom::stack::run_with_size(256 * 1024, || {
///     let big = std::hint::black_box([0u8; 48 * 1024]); // deeper than `run` allows
///     big.len()
/// })?;
/// assert_eq!(depth, 48 * 1024);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn run_with_size<R>(bytes: usize, f: impl FnOnce() -> R) -> Result<R> {
    let bytes = crate::sys::round_up(bytes.max(1), crate::sys::page_size()).ok_or(crate::Error::TooLarge)?;
    run_on(StackSize::Bytes(bytes), f)
}

/// What a secure stack of this thread gets under the process-wide default policy: this
/// thread's crypto stack (made now if this thread has none), whose pages are mapped like
/// those of [`run`]'s stacks. Where stacks cannot be switched ([`is_available`] is false),
/// `None`.
///
/// ```
/// if let Some(got) = strongroom::stack::protections()? {
///     assert!(got.guard_pages);
///     println!("secure stacks are locked: {}", got.locked);
/// }
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn protections() -> Result<Option<crate::Protections>> {
    #[cfg(all(unix, not(miri)))]
    {
        switching::crypto_stack_protections().map(Some)
    }
    #[cfg(any(not(unix), miri))]
    {
        Ok(None)
    }
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
    /// 8 KiB, kept per thread: strongroom's own AEAD and hash calls, which do not panic.
    /// Deepest measured use, optimised: 1.6 KiB (aws-lc), 4 KiB (RustCrypto); unoptimised
    /// (aws-lc, and RustCrypto built with the workspace's `opt-level` for it): under 8 KiB.
    /// See the `crypto_calls_fit_the_crypto_stack` test.
    Crypto,
    /// 32 KiB, mapped for the call: [`run`], anything that may panic (a backtrace needs
    /// about 20 KiB).
    Run,
    /// 32 KiB (256 KiB unoptimised), mapped for the call: key derivation (measured 16 KiB
    /// deep with Argon2 optimised; one 77 KiB frame without). Locked where the limit allows,
    /// like the KDF's work memory, which holds the same state.
    Kdf,
    /// 64 KiB, kept per thread like `Crypto`: ML-KEM and X-Wing (`kem`), whose aws-lc
    /// (mlkem-native) calls keep the public matrix and the secret vectors on the stack.
    /// Deepest measured use (ML-KEM-1024 decapsulation): 30 KiB optimised, 28 KiB not;
    /// ML-KEM-768 24 KiB. The `kem_calls_fit_the_kem_stack` test keeps them within half.
    #[cfg_attr(any(not(target_os = "linux"), miri), allow(dead_code, reason = "ML-KEM is Linux-only (aws-lc)"))]
    Kem,
    /// 256 KiB, kept per thread like `Crypto`, locked where the limit allows like `Kdf`:
    /// ML-DSA key generation and signing (`sign`), whose aws-lc (mldsa-native) calls keep
    /// the matrix, the secret and masking vectors on the stack. Deepest measured use
    /// (ML-DSA-87 signing): 113 KiB, optimised or not (the C code is built optimised either
    /// way); the `signing_fits_the_sign_stack` test keeps every parameter set within half.
    #[cfg_attr(any(not(target_os = "linux"), miri), allow(dead_code, reason = "ML-DSA is Linux-only (aws-lc)"))]
    Sign,
    /// A size the caller chose ([`run_with_size`]).
    Bytes(usize),
}

impl StackSize {
    /// Whether a stack of this size is locked only where `RLIMIT_MEMLOCK` allows, when the
    /// default policy requires locking: the KDF's (its 64 MiB work memory, which holds the
    /// same state, is locked only where the limit allows too) and the post-quantum ones
    /// (64 and 256 KiB, which a 64 KiB limit cannot hold beside everything else). The others
    /// follow the default policy as it is.
    #[cfg_attr(any(not(unix), miri), allow(dead_code, reason = "closures run in place there"))]
    pub(crate) const fn lock_where_the_limit_allows(self) -> bool {
        matches!(self, StackSize::Kdf | StackSize::Sign | StackSize::Kem)
    }

    #[cfg_attr(any(not(unix), miri), allow(dead_code, reason = "closures run in place there"))]
    pub(crate) const fn bytes(self) -> usize {
        match self {
            // Unoptimised RustCrypto keeps every temporary in its own stack slot: ChaCha
            // alone then needs tens of KiB. It is the AEAD wherever aws-lc is not.
            StackSize::Crypto if cfg!(debug_assertions) && !cfg!(target_os = "linux") => 128 * 1024,
            StackSize::Crypto if cfg!(debug_assertions) => 16 * 1024,
            StackSize::Crypto => 8 * 1024,
            StackSize::Run => 32 * 1024,
            StackSize::Kem => 64 * 1024,
            StackSize::Sign => 256 * 1024,
            // Unoptimised, Argon2's BLAKE2b compression alone takes a 77 KiB frame (a
            // dependent's debug build, without the README's profile lines).
            StackSize::Kdf if cfg!(debug_assertions) => 256 * 1024,
            StackSize::Kdf => 32 * 1024,
            StackSize::Bytes(bytes) => bytes,
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
