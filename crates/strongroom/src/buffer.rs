//! [`LockedBuffer`]: a fixed-size secret in its own guarded region.

use std::fmt;
use std::ops::Range;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use crate::alloc::guarded::GuardedRegion;
#[cfg(all(unix, not(miri)))]
use crate::alloc::guarded::Poke;
use crate::enclave::Enclave;
use crate::error::{Error, Result};
use crate::exposed::{Exposed, ExposedMut};
use crate::policy::{Policy, Protections};
use crate::purge::registry::{Tracked, Wipe};
use crate::sys::Access;

/// A fixed-size byte buffer in its own guarded region of protected memory.
///
/// **What it protects against.** The bytes sit between two inaccessible guard pages, flush
/// against the trailing one, with a canary in front: a linear overflow faults at once, an
/// underflow is caught when the buffer is freed (the process aborts). The pages are backed by
/// `memfd_secret` where the kernel allows (no passive read reaches them: `/proc/PID/mem`,
/// `process_vm_readv`, `PTRACE_PEEKDATA`, core dumps, even by root; a debugger that injects
/// code still can, see [`harden`](crate::harden)), else locked into RAM, excluded from core dumps and wiped in forked children — as
/// the [`Policy`] demands, and [`protections`](Self::protections) says what was applied.
/// [`freeze`](Self::freeze) makes the pages read-only, so a stray write faults. Dropping or
/// [`destroy`](Self::destroy)ing wipes the bytes.
///
/// **What it does not protect against.** Copies you make of the exposed bytes, a compromised
/// kernel, and hardware side channels. Each buffer costs at least one page of locked memory
/// plus two guard pages of address space; for many small secrets use the pooled types.
///
/// ```
/// use strongroom::LockedBuffer;
///
/// let mut key = LockedBuffer::random(32)?;
/// key.freeze()?;                         // read-only from here on
/// let first = key.expose()?[0];
/// key.destroy();                         // wiped and unmapped
/// assert!(key.expose().is_err());        // later access is an error, never UB
/// # let _ = first;
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct LockedBuffer {
    handle: Tracked<Slot>,
}

/// What a LockedBuffer tracks: its region, until destroyed.
struct Slot(Option<GuardedRegion>);

impl Wipe for Slot {
    /// The region's own drop copes with a forked child (it touches nothing the kernel wiped
    /// or withheld), and the handle is ordinary heap memory, intact in the child.
    const SURVIVES_FORK: bool = true;

    /// A purge wipes the bytes (whatever their protection) and leaves the region in place,
    /// canary intact, for the owner's drop to release as usual.
    fn wipe(&mut self) {
        if let Some(region) = self.0.as_mut().filter(|r| !r.lost_to_fork()) {
            region.wipe();
        }
    }

    /// Nothing: dropping the region checks its canary, wipes it and releases it.
    fn wipe_before_drop(&mut self) {}
}

fn region(slot: &Slot) -> Result<&GuardedRegion> {
    match &slot.0 {
        None => Err(Error::Destroyed),
        Some(region) if region.lost_to_fork() => Err(Error::LostToFork),
        Some(region) => Ok(region),
    }
}

fn region_mut(slot: &mut Slot) -> Result<&mut GuardedRegion> {
    match &mut slot.0 {
        None => Err(Error::Destroyed),
        Some(region) if region.lost_to_fork() => Err(Error::LostToFork),
        Some(region) => Ok(region),
    }
}

impl LockedBuffer {
    /// A zero-filled buffer of `len` bytes under the default [`Policy`].
    ///
    /// ```
    /// let buf = strongroom::LockedBuffer::new(64)?;
    /// assert!(buf.expose()?.iter().all(|&b| b == 0));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn new(len: usize) -> Result<Self> {
        Self::with_policy(len, Policy::default())
    }

    /// A zero-filled buffer of `len` bytes under `policy`.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, Need, Policy};
    /// let policy = Policy { secret_memory: Need::Off, ..Policy::default() };
    /// let buf = LockedBuffer::with_policy(16, policy)?;
    /// assert!(!buf.protections().secret_memory);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with_policy(len: usize, policy: Policy) -> Result<Self> {
        Self::filled(len, policy, |_| Ok(()))
    }

    /// A buffer whose bytes `fill` writes before it is tracked, so that a purge running on
    /// another thread meanwhile cannot turn a constructor into an `Error::Destroyed`.
    fn filled(len: usize, policy: Policy, fill: impl FnOnce(&mut [u8]) -> Result<()>) -> Result<Self> {
        let mut region = GuardedRegion::new(len, policy)?;
        fill(region.bytes_mut().ok_or(Error::Internal("a fresh region is not writable"))?)?;
        Ok(LockedBuffer { handle: Tracked::new(Slot(Some(region)))? })
    }

    /// A buffer of `len` bytes from the operating system's CSPRNG, written straight into
    /// protected memory.
    ///
    /// ```
    /// let key = strongroom::LockedBuffer::random(32)?;
    /// assert_eq!(key.len(), 32);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn random(len: usize) -> Result<Self> {
        Self::filled(len, Policy::default(), |bytes| crate::sys::fill_random(bytes).map_err(Error::Random))
    }

    /// A buffer holding a copy of `src`; `src` is wiped (zeroed) afterwards, even on error.
    ///
    /// ```
    /// let mut password = *b"hunter2";
    /// let buf = strongroom::LockedBuffer::from_bytes(&mut password)?;
    /// assert_eq!(password, [0; 7]);
    /// assert_eq!(&*buf.expose()?, b"hunter2");
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_bytes(src: &mut [u8]) -> Result<Self> {
        let result = Self::filled(src.len(), Policy::default(), |bytes| {
            bytes.copy_from_slice(src);
            Ok(())
        });
        src.zeroize();
        result
    }

    /// Copies `src`, which must have exactly [`len`](Self::len) bytes, into the buffer.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(3)?;
    /// buf.copy_from(b"abc")?;
    /// assert!(buf.copy_from(b"too long").is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn copy_from(&mut self, src: &[u8]) -> Result<()> {
        let mut dst = self.expose_mut()?;
        if dst.len() != src.len() {
            return Err(Error::LengthMismatch { expected: dst.len(), actual: src.len() });
        }
        dst.copy_from_slice(src);
        Ok(())
    }

    /// Like [`copy_from`](Self::copy_from), then wipes `src`.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(2)?;
    /// let mut src = *b"hi";
    /// buf.move_from(&mut src)?;
    /// assert_eq!(src, [0, 0]);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn move_from(&mut self, src: &mut [u8]) -> Result<()> {
        let result = self.copy_from(src);
        src.zeroize();
        result
    }

    /// Runs `f` on the region inside one tracked borrow.
    fn with_region<R>(&mut self, f: impl FnOnce(&mut GuardedRegion) -> Result<R>) -> Result<R> {
        self.handle.with_mut(|slot| f(region_mut(slot)?))?
    }

    /// Reads a fact about the region; `default` once destroyed or purged.
    fn query<R>(&self, default: R, f: impl FnOnce(&GuardedRegion) -> R) -> R {
        self.handle.with(|slot| slot.0.as_ref().map(f)).ok().flatten().unwrap_or(default)
    }

    /// Read access to the bytes.
    ///
    /// ```
    /// let buf = strongroom::LockedBuffer::new(8)?;
    /// assert_eq!(buf.expose()?.len(), 8);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose(&self) -> Result<Exposed<'_, [u8]>> {
        self.handle.expose()?.try_map(|slot| region(slot)?.bytes().ok_or(Error::Destroyed))
    }

    /// Write access to the bytes; fails while the buffer is frozen.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(1)?;
    /// buf.expose_mut()?[0] = 7;
    /// buf.freeze()?;
    /// assert!(buf.expose_mut().is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose_mut(&mut self) -> Result<ExposedMut<'_, [u8]>> {
        self.handle.expose_mut()?.try_map(|slot| region_mut(slot)?.bytes_mut().ok_or(Error::Frozen))
    }

    /// Runs `f` on the bytes and returns its result.
    ///
    /// ```
    /// let buf = strongroom::LockedBuffer::new(4)?;
    /// let sum: u32 = buf.with(|b| b.iter().map(|&x| u32::from(x)).sum())?;
    /// assert_eq!(sum, 0);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        Ok(f(&self.expose()?))
    }

    /// Runs `f` on the bytes, mutably, and returns its result.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(4)?;
    /// buf.with_mut(|b| b.fill(1))?;
    /// assert_eq!(&*buf.expose()?, &[1, 1, 1, 1]);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        Ok(f(&mut self.expose_mut()?))
    }

    /// Makes the pages read-only: any write faults (SIGSEGV) until [`melt`](Self::melt).
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::random(16)?;
    /// buf.freeze()?;
    /// assert!(buf.is_frozen());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn freeze(&mut self) -> Result<()> {
        self.with_region(|r| r.set_access(Access::Read))
    }

    /// Makes the pages writable again.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(16)?;
    /// buf.freeze()?;
    /// buf.melt()?;
    /// buf.expose_mut()?[0] = 1;
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn melt(&mut self) -> Result<()> {
        self.with_region(|r| r.set_access(Access::ReadWrite))
    }

    /// Whether the buffer is frozen (read-only). A destroyed buffer is not frozen.
    ///
    /// ```
    /// assert!(!strongroom::LockedBuffer::new(1)?.is_frozen());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn is_frozen(&self) -> bool {
        self.query(false, |r| r.access() == Access::Read)
    }

    /// Overwrites the bytes with zeros; fails while frozen.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::random(8)?;
    /// buf.wipe()?;
    /// assert!(buf.expose()?.iter().all(|&b| b == 0));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn wipe(&mut self) -> Result<()> {
        self.with_region(|r| {
            if r.access() != Access::ReadWrite {
                return Err(Error::Frozen);
            }
            r.wipe();
            Ok(())
        })
    }

    /// Overwrites the bytes with fresh random bytes; fails while frozen.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(32)?;
    /// buf.scramble()?;
    /// assert!(buf.expose()?.iter().any(|&b| b != 0));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn scramble(&mut self) -> Result<()> {
        let mut bytes = self.expose_mut()?;
        crate::sys::fill_random(&mut bytes).map_err(Error::Random)
    }

    /// Wipes the bytes, checks the canary (aborting on a breach) and releases the region.
    /// Calling it again does nothing; every later access returns [`Error::Destroyed`].
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(8)?;
    /// buf.destroy();
    /// buf.destroy();
    /// assert!(buf.is_destroyed());
    /// assert_eq!(buf.len(), 0);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn destroy(&mut self) {
        // Taken out under the borrow, dropped (checked, wiped, released) after it.
        let region = self.handle.with_mut(|slot| slot.0.take());
        drop(region);
    }

    /// Whether [`destroy`](Self::destroy) has run.
    ///
    /// ```
    /// assert!(!strongroom::LockedBuffer::new(1)?.is_destroyed());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn is_destroyed(&self) -> bool {
        self.handle.purged() || self.handle.with(|slot| slot.0.is_none()).unwrap_or(true)
    }

    /// Length in bytes; 0 once destroyed.
    ///
    /// ```
    /// assert_eq!(strongroom::LockedBuffer::new(5)?.len(), 5);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.query(0, GuardedRegion::len)
    }

    /// Whether the buffer holds no bytes (or is destroyed).
    ///
    /// ```
    /// assert!(strongroom::LockedBuffer::new(0)?.is_empty());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Compares with `other` in time that depends only on the lengths. A destroyed buffer
    /// equals nothing.
    ///
    /// ```
    /// let mut buf = strongroom::LockedBuffer::new(3)?;
    /// buf.copy_from(b"abc")?;
    /// assert!(buf.ct_eq(b"abc"));
    /// assert!(!buf.ct_eq(b"abd"));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        self.expose().is_ok_and(|bytes| bool::from(bytes.ct_eq(other)))
    }

    /// What protection this buffer really got.
    ///
    /// ```
    /// let got = strongroom::LockedBuffer::new(32)?.protections();
    /// assert!(got.guard_pages);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn protections(&self) -> Protections {
        self.query(crate::policy::NONE, GuardedRegion::protections)
    }

    /// The addresses the bytes occupy, for diagnostics such as looking the mapping up in
    /// `/proc/self/smaps`. Empty once destroyed.
    ///
    /// ```
    /// let buf = strongroom::LockedBuffer::new(32)?;
    /// assert_eq!(buf.address_range().len(), 32);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn address_range(&self) -> Range<usize> {
        self.query(0..0, GuardedRegion::address_range)
    }

    /// Seals the bytes into an [`Enclave`] (encrypted under the process key, plaintext
    /// nowhere) and destroys the buffer.
    ///
    /// ```
    /// let key = strongroom::LockedBuffer::random(32)?;
    /// let enclave = key.seal()?;
    /// assert_eq!(enclave.size(), 32);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn seal(mut self) -> Result<Enclave> {
        let enclave = Enclave::seal_bytes(&self.expose()?);
        self.destroy();
        enclave
    }

    /// Hands the region over (for probes that consume it); `None` once destroyed.
    #[cfg(all(unix, not(miri)))]
    pub(crate) fn into_region(mut self) -> Option<GuardedRegion> {
        self.handle.with_mut(|slot| slot.0.take()).ok().flatten()
    }

    /// What purges this buffer alone, as `purge()` would (for unit tests).
    #[cfg(test)]
    pub(crate) fn purger(&self) -> crate::purge::registry::Purger {
        self.handle.purger()
    }

    #[cfg(all(unix, not(miri)))]
    pub(crate) fn poke(&self, at: Poke) {
        self.query((), |region| region.poke(at));
    }
}

impl ConstantTimeEq for LockedBuffer {
    fn ct_eq(&self, other: &Self) -> Choice {
        match (self.expose(), other.expose()) {
            (Ok(a), Ok(b)) => a.ct_eq(&*b),
            _ => Choice::from(0),
        }
    }
}

impl Zeroize for LockedBuffer {
    /// Wipes the bytes, even while frozen (the protection is restored afterwards).
    fn zeroize(&mut self) {
        let _ = self.handle.with_mut(|slot| slot.wipe());
    }
}

/// Dropping wipes the bytes, so the buffer never leaves its secret behind.
impl zeroize::ZeroizeOnDrop for LockedBuffer {}

impl fmt::Debug for LockedBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match (self.is_destroyed(), self.is_frozen()) {
            (true, _) => "destroyed",
            (false, true) => "frozen",
            (false, false) => "writable",
        };
        write!(f, "LockedBuffer(<redacted>, {state})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_is_zeroed_and_sized() {
        for len in [0, 1, 15, 16, 17, 4079, 4080, 4081, 4096, 10_000] {
            let buf = LockedBuffer::new(len).unwrap();
            assert_eq!(buf.len(), len);
            assert!(buf.expose().unwrap().iter().all(|&b| b == 0), "len {len}");
        }
    }

    #[test]
    fn sizes_that_overflow_are_errors_not_wrapped_pointers() {
        for len in [usize::MAX, usize::MAX - 15, usize::MAX - 4096, isize::MAX as usize] {
            assert!(matches!(LockedBuffer::new(len), Err(Error::TooLarge)), "len {len:#x}");
        }
    }

    #[test]
    fn zero_length_buffer_supports_every_operation() {
        let mut buf = LockedBuffer::new(0).unwrap();
        assert!(buf.is_empty());
        buf.scramble().unwrap();
        buf.freeze().unwrap();
        buf.melt().unwrap();
        buf.wipe().unwrap();
        assert!(buf.ct_eq(b""));
        buf.destroy();
    }

    #[test]
    fn from_bytes_copies_then_wipes_the_source() {
        let mut src = *b"correct horse battery staple";
        let buf = LockedBuffer::from_bytes(&mut src).unwrap();
        assert_eq!(src, [0; 28]);
        assert_eq!(&*buf.expose().unwrap(), b"correct horse battery staple");
    }

    #[test]
    fn copy_from_refuses_other_lengths() {
        let mut buf = LockedBuffer::new(4).unwrap();
        assert!(matches!(buf.copy_from(b"abc"), Err(Error::LengthMismatch { expected: 4, actual: 3 })));
        assert!(matches!(buf.copy_from(b"abcde"), Err(Error::LengthMismatch { expected: 4, actual: 5 })));
        let mut src = *b"abc";
        assert!(buf.move_from(&mut src).is_err());
        assert_eq!(src, [0; 3], "move_from wipes its source even when it fails");
    }

    #[test]
    fn freeze_blocks_writes_until_melted() {
        let mut buf = LockedBuffer::random(32).unwrap();
        buf.freeze().unwrap();
        assert!(buf.is_frozen());
        assert!(matches!(buf.expose_mut(), Err(Error::Frozen)));
        assert!(matches!(buf.wipe(), Err(Error::Frozen)));
        assert!(matches!(buf.scramble(), Err(Error::Frozen)));
        assert!(buf.expose().is_ok(), "reads still work while frozen");
        buf.melt().unwrap();
        buf.expose_mut().unwrap()[0] = 1;
    }

    #[test]
    fn zeroize_works_on_a_frozen_buffer_and_keeps_it_frozen() {
        let mut buf = LockedBuffer::random(32).unwrap();
        buf.freeze().unwrap();
        buf.zeroize();
        assert!(buf.is_frozen());
        assert!(buf.expose().unwrap().iter().all(|&b| b == 0));
    }

    #[test]
    fn destroy_is_idempotent_and_later_access_is_an_error() {
        let mut buf = LockedBuffer::random(32).unwrap();
        buf.freeze().unwrap();
        buf.destroy();
        buf.destroy();
        assert!(buf.is_destroyed() && !buf.is_frozen());
        assert_eq!(buf.len(), 0);
        assert!(matches!(buf.expose(), Err(Error::Destroyed)));
        assert!(matches!(buf.expose_mut(), Err(Error::Destroyed)));
        assert!(matches!(buf.freeze(), Err(Error::Destroyed)));
        assert!(matches!(buf.melt(), Err(Error::Destroyed)));
        assert!(matches!(buf.wipe(), Err(Error::Destroyed)));
        assert!(matches!(buf.copy_from(b""), Err(Error::Destroyed)));
        assert!(!buf.ct_eq(b""));
        assert_eq!(buf.address_range(), 0..0);
    }

    #[test]
    fn random_buffers_differ() {
        let a = LockedBuffer::random(32).unwrap();
        let b = LockedBuffer::random(32).unwrap();
        assert!(!bool::from(ConstantTimeEq::ct_eq(&a, &b)));
        assert!(bool::from(ConstantTimeEq::ct_eq(&a, &a)));
    }

    #[test]
    fn ct_eq_compares_content_and_length() {
        let mut buf = LockedBuffer::new(3).unwrap();
        buf.copy_from(b"abc").unwrap();
        assert!(buf.ct_eq(b"abc"));
        assert!(!buf.ct_eq(b"abd"));
        assert!(!buf.ct_eq(b"ab"));
    }

    #[test]
    fn debug_output_is_redacted() {
        let mut buf = LockedBuffer::new(6).unwrap();
        buf.copy_from(b"SECRET").unwrap();
        let mut shown = format!("{buf:?} {:?}", buf.expose().unwrap());
        shown += &format!("{:?}", buf.expose_mut().unwrap());
        assert!(!shown.contains("SECRET") && !shown.contains("83"), "{shown}");
        assert!(!shown.contains('6'), "the length may leak a password's length: {shown}");
    }

    #[test]
    fn default_policy_protections_are_reported_and_satisfied() {
        let buf = LockedBuffer::new(32).unwrap();
        let got = buf.protections();
        assert!(got.satisfy(&Policy::default()), "{got:?}");
        assert!(got.canary);
        if !cfg!(miri) {
            assert!(got.guard_pages && got.locked, "{got:?}");
            // Windows has no per-region exclusion from crash dumps (sys/windows.rs).
            assert_eq!(got.dump_excluded, !cfg!(windows), "{got:?}");
        }
    }
}
