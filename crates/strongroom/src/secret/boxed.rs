//! [`SecretBox`]: one value in protected memory.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use crate::alloc::secure_alloc::{self, SecureAlloc};
use crate::alloc::strict::StrictCell;
use crate::error::Result;
use crate::exposed::{Exposed, ExposedMut};
use crate::policy::{Policy, Protections};
use crate::purge::registry::{Tracked, Wipe, Zeroizing};

enum Storage<T: Zeroize> {
    /// In a [`SecureAlloc`] block (the pool for small values, a guarded region otherwise),
    /// together with its tracking state.
    Plain(Tracked<Zeroizing<T>, SecureAlloc>),
    /// In its own guarded region, inaccessible except while borrowed.
    Strict(Tracked<StrictCell<T>>),
}

impl<T: Zeroize> Wipe for StrictCell<T> {
    /// The cell copes with a forked child itself (its region reports the loss).
    const SURVIVES_FORK: bool = true;

    /// A purge zeroizes the value in place (opening the pages for the moment it takes).
    fn wipe(&mut self) {
        if let Ok((value, _end)) = self.open_mut() {
            value.zeroize();
        }
    }

    /// Values that own memory are zeroized; the region is wiped when the cell drops.
    fn wipe_before_drop(&mut self) {
        if std::mem::needs_drop::<T>() {
            self.wipe();
        }
    }
}

/// A single value of type `T` in protected memory.
///
/// **What it protects against.** The value never lives on the heap: it is built in place in
/// protected memory (a pool slot for small values — locked or `memfd_secret` pages, out of
/// dumps, out of forked children, canaries around it checked on free — or a guarded region
/// for larger ones), it is zeroized and the memory wiped when the box drops, `Debug` shows
/// nothing, and there is no `Clone`. [`SecretBox::strict`] goes further: the value's own
/// guarded pages are inaccessible except while an [`Exposed`] guard is alive.
///
/// **What it does not.** Copies you make through the guards, and anything `T` points to
/// outside itself (a `SecretBox<Vec<u8>>` protects the `Vec`'s pointer, not its bytes: use
/// [`SecretVec`](crate::SecretVec)).
///
/// ```
/// use strongroom::SecretBox;
///
/// let key = SecretBox::new(|k: &mut [u8; 32]| k.copy_from_slice(&[7; 32]))?;
/// assert_eq!(key.expose()?[0], 7);
/// # Ok::<(), strongroom::Error>(())
/// ```
///
/// There is no `Clone`: a copy is always explicit, through a guard.
///
/// ```compile_fail
/// let key = strongroom::SecretBox::new(|k: &mut [u8; 32]| k.fill(7))?;
/// let copy = key.clone(); // error: no method `clone`
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct SecretBox<T: Zeroize + Send + Sync + 'static> {
    storage: Storage<T>,
}

impl<T: Zeroize + bytemuck::Zeroable + Send + Sync + 'static> SecretBox<T> {
    /// Builds the value in place: starts from all-zero bytes inside protected memory and
    /// lets `init` fill it in, so the secret itself never passes through the stack.
    ///
    /// `T` must be valid as all zeros ([`bytemuck::Zeroable`]: integers, arrays of any size,
    /// and your own `#[derive(Zeroable)]` structs); for other types use
    /// [`new_default`](Self::new_default).
    ///
    /// ```
    /// let pin = strongroom::SecretBox::new(|p: &mut u32| *p = 1234)?;
    /// assert_eq!(*pin.expose()?, 1234);
    /// let key = strongroom::SecretBox::new(|k: &mut [u8; 64]| k.fill(0x42))?;
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    #[inline]
    pub fn new(init: impl FnOnce(&mut T)) -> Result<Self> {
        Self::new_in(SecureAlloc::new(), init)
    }

    /// Like [`new`](Self::new), with a chosen placement (e.g. [`SecureAlloc::guarded`]).
    ///
    /// ```
    /// use strongroom::{SecretBox, SecureAlloc};
    /// let key = SecretBox::new_in(SecureAlloc::guarded(), |k: &mut [u8; 16]| k.fill(1))?;
    /// assert!(key.protections().guard_pages);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    #[inline]
    pub fn new_in(alloc: SecureAlloc, init: impl FnOnce(&mut T)) -> Result<Self> {
        let tracked = Tracked::zeroed_in(alloc, |value: &mut Zeroizing<T>| init(&mut value.0))?;
        Ok(SecretBox { storage: Storage::Plain(tracked) })
    }

    /// Strict mode: the value gets its own guarded region whose pages are inaccessible
    /// (`PROT_NONE`) except while an [`Exposed`] or [`ExposedMut`] guard is alive. A stray
    /// read of the secret at rest faults. Each first borrow and last release costs an
    /// `mprotect`, and each box a page of locked memory.
    ///
    /// ```
    /// let key = strongroom::SecretBox::strict(|k: &mut [u8; 32]| k.fill(9))?;
    /// assert_eq!(key.with(|k| k[31])?, 9);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn strict(init: impl FnOnce(&mut T)) -> Result<Self> {
        let mut cell = StrictCell::zeroed(Policy::default())?;
        {
            let (value, _end) = cell.open_mut()?;
            init(value);
        }
        Ok(SecretBox { storage: Storage::Strict(Tracked::new(cell)?) })
    }
}

impl<const N: usize> SecretBox<[u8; N]> {
    /// A box holding a copy of `source`, which must be exactly `N` bytes (else the error
    /// `wrong_length` makes from its length). The one way keys and seeds of a fixed size
    /// enter protected memory from a slice: a caller's buffer it then wipes, or another
    /// secret's guard (protected memory to protected memory).
    pub(crate) fn copy_of(source: &[u8], wrong_length: impl FnOnce(usize) -> crate::Error) -> Result<Self> {
        if source.len() != N {
            return Err(wrong_length(source.len()));
        }
        SecretBox::new(|bytes: &mut [u8; N]| bytes.copy_from_slice(source))
    }
}

impl<T: Zeroize + Default + Send + Sync + 'static> SecretBox<T> {
    /// Like [`new`](SecretBox::new) for types that are not valid as all zeros: starts from
    /// `T::default()` (built on the stack, then moved in: default values hold no secret) and
    /// lets `init` fill it in place.
    ///
    /// ```
    /// #[derive(Default, PartialEq)]
    /// enum Role { #[default] Reader, Admin }
    ///
    /// #[derive(Default)]
    /// struct Session { token: [u8; 16], role: Role }
    ///
    /// impl zeroize::Zeroize for Session {
    ///     fn zeroize(&mut self) {
    ///         self.token.zeroize();
    ///         self.role = Role::Reader;
    ///     }
    /// }
    ///
    /// let session = strongroom::SecretBox::new_default(|s: &mut Session| {
    ///     s.token.fill(7);
    ///     s.role = Role::Admin;
    /// })?;
    /// assert!(session.expose()?.role == Role::Admin);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn new_default(init: impl FnOnce(&mut T)) -> Result<Self> {
        let mut tracked = Tracked::new_in(SecureAlloc::new(), Zeroizing(T::default()))?;
        tracked.with_mut(|value| init(&mut value.0))?;
        Ok(SecretBox { storage: Storage::Plain(tracked) })
    }
}

impl<T: Zeroize + Send + Sync + 'static> SecretBox<T> {
    /// Read access to the value.
    ///
    /// ```
    /// let n = strongroom::SecretBox::new(|n: &mut u64| *n = 42)?;
    /// assert_eq!(*n.expose()?, 42);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose(&self) -> Result<Exposed<'_, T>> {
        match &self.storage {
            Storage::Plain(tracked) => tracked.expose()?.try_map(|value| Ok(&value.0)),
            Storage::Strict(tracked) => tracked.expose()?.try_open(|cell| cell.open()),
        }
    }

    /// Write access to the value.
    ///
    /// ```
    /// let mut n = strongroom::SecretBox::new(|n: &mut u64| *n = 1)?;
    /// *n.expose_mut()? += 1;
    /// assert_eq!(*n.expose()?, 2);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose_mut(&mut self) -> Result<ExposedMut<'_, T>> {
        match &mut self.storage {
            Storage::Plain(tracked) => tracked.expose_mut()?.try_map(|value| Ok(&mut value.0)),
            Storage::Strict(tracked) => tracked.expose_mut()?.try_open(|cell| cell.open_mut()),
        }
    }

    /// Runs `f` on the value.
    ///
    /// ```
    /// let key = strongroom::SecretBox::new(|k: &mut [u8; 4]| k.copy_from_slice(b"abcd"))?;
    /// assert_eq!(key.with(|k| k.len())?, 4);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Result<R> {
        Ok(f(&*self.expose()?))
    }

    /// Runs `f` on the value, mutably.
    ///
    /// ```
    /// let mut key = strongroom::SecretBox::new(|k: &mut [u8; 4]| k.fill(0))?;
    /// key.with_mut(|k| k[0] = 1)?;
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with_mut<R>(&mut self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        Ok(f(&mut *self.expose_mut()?))
    }

    /// What protection the value's memory really got.
    ///
    /// ```
    /// let key = strongroom::SecretBox::new(|k: &mut [u8; 32]| k.fill(1))?;
    /// assert!(key.protections().canary);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn protections(&self) -> Protections {
        let got = match &self.storage {
            Storage::Plain(tracked) => {
                let (block, layout) = tracked.block();
                secure_alloc::protections_of(block, layout)
            }
            Storage::Strict(tracked) => tracked.with(StrictCell::protections).ok(),
        };
        got.unwrap_or(crate::policy::NONE)
    }
}

impl<T: Zeroize + Send + Sync + 'static> SecretBox<T> {
    /// For probes: reads a strict box's first byte without borrowing it (which must fault).
    #[cfg(all(unix, not(miri)))]
    pub(crate) fn probe_read_at_rest(&self) -> Option<u8> {
        match &self.storage {
            Storage::Strict(tracked) => tracked.with(StrictCell::probe_read_at_rest).ok(),
            Storage::Plain(_) => None,
        }
    }
}

#[cfg(test)]
impl<T: Zeroize + Send + Sync + 'static> SecretBox<T> {
    /// What purges this box alone, as `purge()` would (for unit tests).
    pub(crate) fn purger(&self) -> crate::purge::registry::Purger {
        match &self.storage {
            Storage::Plain(tracked) => tracked.purger(),
            Storage::Strict(tracked) => tracked.purger(),
        }
    }
}

impl<T: Zeroize + Send + Sync + 'static> Zeroize for SecretBox<T> {
    fn zeroize(&mut self) {
        if let Ok(mut value) = self.expose_mut() {
            value.zeroize();
        }
    }
}

/// Dropping wipes the value's memory (zeroizing first a value that owns memory of its own).
impl<T: Zeroize + Send + Sync + 'static> zeroize::ZeroizeOnDrop for SecretBox<T> {}

/// Compares the values' bytes in constant time (`T` has no padding, so every byte counts).
impl<T: Zeroize + bytemuck::NoUninit + Send + Sync + 'static> ConstantTimeEq for SecretBox<T> {
    fn ct_eq(&self, other: &Self) -> Choice {
        match (self.expose(), other.expose()) {
            (Ok(a), Ok(b)) => bytemuck::bytes_of(&*a).ct_eq(bytemuck::bytes_of(&*b)),
            _ => Choice::from(0),
        }
    }
}

impl<T: Zeroize + Send + Sync + 'static> fmt::Debug for SecretBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBox<{}>(<redacted>)", std::any::type_name::<T>())
    }
}
