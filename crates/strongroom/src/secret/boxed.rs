//! [`SecretBox`]: one value in protected memory.

use std::alloc::Layout;
use std::fmt;
use std::ptr::NonNull;

use allocator_api2::boxed::Box;
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use crate::alloc::secure_alloc::{self, SecureAlloc};
use crate::alloc::strict::StrictCell;
use crate::alloc::tracked::{Handle, Wipe};
use crate::error::{Error, Result};
use crate::exposed::{Exposed, ExposedMut};
use crate::policy::{Policy, Protections};
use crate::sys;

enum Storage<T> {
    /// In a [`SecureAlloc`] block: the pool for small values, a guarded region otherwise.
    Alloc(Box<T, SecureAlloc>),
    /// In its own guarded region, inaccessible except while borrowed.
    Strict(StrictCell<T>),
    /// Only while dropping.
    Gone,
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
pub struct SecretBox<T: Zeroize + Send + Sync + 'static> {
    handle: Handle<Storage<T>>,
    /// The fork generation it was made in; in a later one (a forked child) it is gone.
    generation: u32,
}

impl<T: Zeroize> Wipe for Storage<T> {
    /// A purge zeroizes the value in place; it stays a valid `T`, dropped as usual later.
    fn wipe(&mut self) {
        match self {
            Storage::Alloc(boxed) => boxed.zeroize(),
            Storage::Strict(cell) => {
                if let Ok(mut value) = cell.expose_mut() {
                    value.zeroize();
                }
            }
            Storage::Gone => {}
        }
    }
}

impl<T: Zeroize + Send + Sync + 'static> SecretBox<T> {
    fn from_storage(storage: Storage<T>) -> Self {
        SecretBox { handle: Handle::new(storage), generation: sys::fork_generation() }
    }
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
    pub fn new_in(alloc: SecureAlloc, init: impl FnOnce(&mut T)) -> Result<Self> {
        let mut boxed = secure_alloc::zeroed_box::<T>(alloc)?;
        init(&mut boxed);
        Ok(Self::from_storage(Storage::Alloc(boxed)))
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
        init(&mut *cell.expose_mut()?);
        Ok(Self::from_storage(Storage::Strict(cell)))
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
        let mut boxed =
            Box::try_new_in(T::default(), SecureAlloc::new()).map_err(|_| secure_alloc::take_last_error())?;
        init(&mut boxed);
        Ok(Self::from_storage(Storage::Alloc(boxed)))
    }
}

impl<T: Zeroize + Send + Sync + 'static> SecretBox<T> {
    fn check(&self) -> Result<()> {
        if self.generation != sys::fork_generation() { Err(Error::LostToFork) } else { Ok(()) }
    }

    /// Read access to the value.
    ///
    /// ```
    /// let n = strongroom::SecretBox::new(|n: &mut u64| *n = 42)?;
    /// assert_eq!(*n.expose()?, 42);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose(&self) -> Result<Exposed<'_, T>> {
        self.check()?;
        let (storage, outer) = self.handle.borrow()?;
        let opened = match storage {
            Storage::Alloc(boxed) => return Ok(Exposed::tracked(boxed, outer)),
            Storage::Strict(cell) => cell.open(),
            Storage::Gone => Err(Error::Destroyed),
        };
        match opened {
            Ok((value, inner)) => Ok(Exposed::tracked_twice(value, inner, outer)),
            Err(e) => {
                outer.release();
                Err(e)
            }
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
        self.check()?;
        let (storage, outer) = self.handle.borrow_mut()?;
        let opened = match storage {
            Storage::Alloc(boxed) => return Ok(ExposedMut::tracked(boxed, outer)),
            Storage::Strict(cell) => cell.open_mut(),
            Storage::Gone => Err(Error::Destroyed),
        };
        match opened {
            Ok((value, inner)) => Ok(ExposedMut::tracked_twice(value, inner, outer)),
            Err(e) => {
                outer.release();
                Err(e)
            }
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
        let got = self.handle.with(|storage| match storage {
            Storage::Alloc(boxed) => {
                let ptr = NonNull::from(&**boxed).cast::<u8>();
                secure_alloc::protections_of(ptr, Layout::new::<T>())
            }
            Storage::Strict(cell) => Some(cell.protections()),
            Storage::Gone => None,
        });
        got.ok().flatten().unwrap_or(crate::policy::NONE)
    }
}

impl<T: Zeroize + Send + Sync + 'static> SecretBox<T> {
    /// For probes: reads a strict box's first byte without borrowing it (which must fault).
    #[cfg(all(unix, not(miri)))]
    pub(crate) fn probe_read_at_rest(&self) -> Option<u8> {
        let read = self.handle.with(|storage| match storage {
            Storage::Strict(cell) => Some(cell.probe_read_at_rest()),
            _ => None,
        });
        read.ok().flatten()
    }
}

impl<T: Zeroize + Send + Sync + 'static> Zeroize for SecretBox<T> {
    fn zeroize(&mut self) {
        if let Ok(mut value) = self.expose_mut() {
            value.zeroize();
        }
    }
}

impl<T: Zeroize + Send + Sync + 'static> Drop for SecretBox<T> {
    fn drop(&mut self) {
        if self.check().is_ok() {
            self.zeroize(); // then the handle drops T, and SecureAlloc wipes and frees the block
            return;
        }
        // A forked child: the bytes are zeros or unmapped, so there is no valid T to drop and
        // no slot to return. Leak it; the child's exit releases everything.
        let _ = self.handle.with_mut(|storage| {
            if let Storage::Alloc(boxed) = std::mem::replace(storage, Storage::Gone) {
                let _ = Box::into_raw(boxed);
            }
        });
    }
}

/// Dropping zeroizes the value and wipes its memory.
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
