//! [`SecretVec`]: a growable sequence in protected memory.

use std::alloc::Layout;
use std::fmt;
use std::ptr::NonNull;

use allocator_api2::vec::Vec;
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use crate::alloc::secure_alloc::{self, SecureAlloc};
use crate::error::{Error, Result};
use crate::exposed::{Exposed, ExposedMut};
use crate::policy::Protections;
use crate::purge::registry::{Tracked, Wipe};

/// A growable vector of `T` in protected memory.
///
/// **What it protects against.** Elements live only in protected memory (pool slots up to
/// 2 KiB, guarded regions beyond). Growing copies into a new protected block and wipes the
/// old one, so no stale copy survives a reallocation; shrinking (`pop`, `truncate`,
/// `remove`, `clear`) zeroizes the vacated capacity at once; dropping zeroizes every element
/// and wipes the block. `Debug` shows nothing, there is no `Clone`, and comparison with
/// [`ConstantTimeEq`] takes time independent of the contents.
///
/// **What it does not.** Values you move out (`pop`, `remove`) or copy through the guards are
/// yours to protect.
///
/// ```
/// use strongroom::SecretVec;
///
/// let mut seed = SecretVec::new();
/// seed.extend_from_slice(b"abandon ability able")?;
/// seed.truncate(7);
/// assert_eq!(&*seed.expose()?, b"abandon");
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct SecretVec<T: Zeroize + Send + Sync + 'static> {
    handle: Tracked<Elements<T>>,
}

/// What a SecretVec tracks: its elements, in a [`SecureAlloc`] block.
struct Elements<T>(Vec<T, SecureAlloc>);

impl<T: Zeroize> Elements<T> {
    /// Zeroizes the first `n` slots of spare capacity, which just held elements.
    fn wipe_spare(&mut self, n: usize) {
        let spare = self.0.spare_capacity_mut();
        let n = n.min(spare.len());
        spare[..n].zeroize();
    }

    fn truncate(&mut self, len: usize) {
        if len >= self.0.len() {
            return;
        }
        let removed = self.0.len() - len;
        self.0[len..].iter_mut().for_each(Zeroize::zeroize);
        self.0.truncate(len);
        self.wipe_spare(removed);
    }

    fn reserve(&mut self, additional: usize) -> Result<()> {
        self.0.try_reserve(additional).map_err(|_| secure_alloc::take_last_error())
    }
}

impl<T: Zeroize> Wipe for Elements<T> {
    /// In a forked child the block is zeros or unmapped: its elements may not be valid
    /// values, so it must not be read or dropped there.
    const SURVIVES_FORK: bool = false;

    /// A purge zeroizes every element in place; the length stays, the values stay valid.
    fn wipe(&mut self) {
        self.0.iter_mut().for_each(Zeroize::zeroize);
    }

    /// Elements that own memory are zeroized; plain ones (`u8`) are left to the one wipe of
    /// the whole block that `SecureAlloc` does when the `Vec` frees it.
    fn wipe_before_drop(&mut self) {
        if std::mem::needs_drop::<T>() {
            self.wipe();
        }
    }
}

impl<T: Zeroize + Send + Sync + 'static> SecretVec<T> {
    /// An empty vector; nothing is allocated until the first element.
    ///
    /// ```
    /// let v: strongroom::SecretVec<u8> = strongroom::SecretVec::new();
    /// assert!(v.is_empty());
    /// ```
    pub fn new() -> Self {
        Self::new_in(SecureAlloc::new())
    }

    /// An empty vector whose blocks come from `alloc` (e.g. [`SecureAlloc::guarded`]).
    ///
    /// ```
    /// use strongroom::{SecretVec, SecureAlloc};
    /// let v: SecretVec<u8> = SecretVec::new_in(SecureAlloc::guarded());
    /// # drop(v);
    /// ```
    pub fn new_in(alloc: SecureAlloc) -> Self {
        SecretVec { handle: Tracked::new_infallible(Elements(Vec::new_in(alloc))) }
    }

    /// An empty vector with room for `capacity` elements.
    ///
    /// ```
    /// let v: strongroom::SecretVec<u8> = strongroom::SecretVec::with_capacity(64)?;
    /// assert!(v.capacity() >= 64);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with_capacity(capacity: usize) -> Result<Self> {
        // Reserved before the vector is tracked: nothing can purge it yet, so no borrow.
        let mut elements = Elements(Vec::new_in(SecureAlloc::new()));
        elements.reserve(capacity)?;
        Ok(SecretVec { handle: Tracked::new(elements)? })
    }

    /// Runs a mutation inside one tracked borrow.
    fn mutate<R>(&mut self, f: impl FnOnce(&mut Elements<T>) -> Result<R>) -> Result<R> {
        self.handle.with_mut(f)?
    }

    /// Reads a fact; `default` once purged or in a forked child.
    fn query<R>(&self, default: R, f: impl FnOnce(&Elements<T>) -> R) -> R {
        self.handle.with(f).unwrap_or(default)
    }

    /// Makes room for `additional` more elements (growth moves to a new protected block and
    /// wipes the old one).
    ///
    /// ```
    /// let mut v: strongroom::SecretVec<u8> = strongroom::SecretVec::new();
    /// v.reserve(10)?;
    /// assert!(v.capacity() >= 10);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) -> Result<()> {
        self.mutate(|e| e.reserve(additional))
    }

    /// Appends one element.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.push(1u8)?;
    /// assert_eq!(v.len(), 1);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn push(&mut self, value: T) -> Result<()> {
        self.mutate(|e| {
            e.reserve(1)?;
            e.0.push(value);
            Ok(())
        })
    }

    /// Appends copies of `values`.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.extend_from_slice(b"key")?;
    /// assert_eq!(v.len(), 3);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn extend_from_slice(&mut self, values: &[T]) -> Result<()>
    where
        T: Clone,
    {
        self.mutate(|e| secure_alloc::extend_cloned(&mut e.0, values))
    }

    /// Inserts `value` at `index`, shifting the rest right.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.extend_from_slice(b"ac")?;
    /// v.insert(1, b'b')?;
    /// assert_eq!(&*v.expose()?, b"abc");
    /// assert!(v.insert(9, b'x').is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn insert(&mut self, index: usize, value: T) -> Result<()> {
        self.mutate(|e| {
            if index > e.0.len() {
                return Err(Error::OutOfRange);
            }
            e.reserve(1)?;
            e.0.insert(index, value);
            Ok(())
        })
    }

    /// Removes the element at `index` and returns it; the freed capacity is wiped.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.extend_from_slice(b"abc")?;
    /// assert_eq!(v.remove(1)?, b'b');
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn remove(&mut self, index: usize) -> Result<T> {
        self.mutate(|e| {
            if index >= e.0.len() {
                return Err(Error::OutOfRange);
            }
            let value = e.0.remove(index);
            e.wipe_spare(1);
            Ok(value)
        })
    }

    /// Removes the last element and returns it; the freed capacity is wiped.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.push(5u8)?;
    /// assert_eq!(v.pop(), Some(5));
    /// assert_eq!(v.pop(), None);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn pop(&mut self) -> Option<T> {
        self.mutate(|e| {
            let value = e.0.pop();
            e.wipe_spare(1);
            Ok(value)
        })
        .ok()
        .flatten()
    }

    /// Shortens to `len` elements, zeroizing the rest.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.extend_from_slice(b"abcdef")?;
    /// v.truncate(2);
    /// assert_eq!(v.len(), 2);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn truncate(&mut self, len: usize) {
        let _ = self.mutate(|e| {
            e.truncate(len);
            Ok(())
        });
    }

    /// Removes every element, zeroizing them.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.push(1u8)?;
    /// v.clear();
    /// assert!(v.is_empty());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn clear(&mut self) {
        self.truncate(0);
    }

    /// Number of elements (0 once purged).
    ///
    /// ```
    /// assert_eq!(strongroom::SecretVec::<u8>::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.query(0, |e| e.0.len())
    }

    /// Whether there are no elements.
    ///
    /// ```
    /// assert!(strongroom::SecretVec::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements it can hold without moving.
    ///
    /// ```
    /// assert_eq!(strongroom::SecretVec::<u8>::new().capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.query(0, |e| e.0.capacity())
    }

    /// Read access to the elements.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.push(3u8)?;
    /// assert_eq!(v.expose()?[0], 3);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose(&self) -> Result<Exposed<'_, [T]>> {
        self.handle.expose()?.try_map(|elements| Ok(&elements.0[..]))
    }

    /// Write access to the elements (not to the length: use the methods above, which wipe).
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.push(3u8)?;
    /// v.expose_mut()?[0] = 4;
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose_mut(&mut self) -> Result<ExposedMut<'_, [T]>> {
        self.handle.expose_mut()?.try_map(|elements| Ok(&mut elements.0[..]))
    }

    /// Runs `f` on the elements.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.extend_from_slice(&[1u8, 2])?;
    /// assert_eq!(v.with(|s| s.iter().map(|&b| b as u32).sum::<u32>())?, 3);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&[T]) -> R) -> Result<R> {
        Ok(f(&self.expose()?))
    }

    /// Runs `f` on the elements, mutably.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// v.extend_from_slice(&[1u8, 2])?;
    /// v.with_mut(|s| s.reverse())?;
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with_mut<R>(&mut self, f: impl FnOnce(&mut [T]) -> R) -> Result<R> {
        Ok(f(&mut self.expose_mut()?))
    }

    /// What protection the current block really got; `None` while nothing is allocated.
    ///
    /// ```
    /// let mut v = strongroom::SecretVec::new();
    /// assert!(v.protections().is_none());
    /// v.push(1u8)?;
    /// assert!(v.protections().unwrap().canary);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn protections(&self) -> Option<Protections> {
        self.query(None, |e| {
            let layout = Layout::array::<T>(e.0.capacity()).ok()?;
            secure_alloc::protections_of(NonNull::new(e.0.as_ptr().cast_mut().cast())?, layout)
        })
    }
}

#[cfg(test)]
impl<T: Zeroize + Send + Sync + 'static> SecretVec<T> {
    /// What purges this vector alone, as `purge()` would (for unit tests).
    pub(crate) fn purger(&self) -> crate::purge::registry::Purger {
        self.handle.purger()
    }
}

impl<T: Zeroize + Send + Sync + 'static> Default for SecretVec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Zeroize + Send + Sync + 'static> Zeroize for SecretVec<T> {
    /// Zeroizes the elements in place (the length is kept).
    fn zeroize(&mut self) {
        let _ = self.mutate(|e| {
            e.wipe();
            Ok(())
        });
    }
}

/// Dropping wipes the memory (zeroizing first the elements that own memory of their own).
impl<T: Zeroize + Send + Sync + 'static> zeroize::ZeroizeOnDrop for SecretVec<T> {}

impl<T: Zeroize + ConstantTimeEq + Send + Sync + 'static> ConstantTimeEq for SecretVec<T> {
    /// Equal lengths and contents; the time depends only on the lengths.
    fn ct_eq(&self, other: &Self) -> Choice {
        match (self.expose(), other.expose()) {
            (Ok(a), Ok(b)) => a.ct_eq(&*b),
            _ => Choice::from(0),
        }
    }
}

impl<T: Zeroize + Send + Sync + 'static> fmt::Debug for SecretVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretVec<{}>(<redacted>)", std::any::type_name::<T>())
    }
}

#[cfg(test)]
#[allow(unsafe_code, reason = "reads freed capacity to prove it was wiped")]
mod tests {
    use super::*;

    /// Reads bytes of the vector's block that no guard reaches any more.
    fn peek(ptr: *const u8, len: usize) -> std::vec::Vec<u8> {
        // SAFETY: every caller passes bytes inside the block of a live `SecretVec` that has
        // not reallocated since `ptr` was taken (the allocator keeps it mapped and readable),
        // and nothing else writes it during these single-threaded checks.
        unsafe { crate::testing::peek(ptr, len) }
    }

    fn filled(n: usize) -> SecretVec<u8> {
        let mut v = SecretVec::new();
        v.extend_from_slice(&vec![0xEE; n]).unwrap();
        v
    }

    #[test]
    fn shrinking_wipes_the_vacated_bytes_at_once() {
        let mut v = filled(100);
        // The Vec's own raw pointer (not one derived from a guard's reference), which stays
        // valid across the mutations below as long as nothing reallocates.
        let base = v.handle.with(|e| e.0.as_ptr()).unwrap();
        v.truncate(40);
        assert!(peek(base.wrapping_add(40), 60).iter().all(|&b| b == 0), "truncate left bytes behind");
        v.pop();
        assert_eq!(peek(base.wrapping_add(39), 1), [0], "pop left its byte behind");
        v.remove(0).unwrap();
        assert_eq!(peek(base.wrapping_add(38), 1), [0], "remove left the shifted-out byte behind");
        v.clear();
        assert!(peek(base, 100).iter().all(|&b| b == 0), "clear left bytes behind");
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        let mut v = filled(3);
        assert!(matches!(v.insert(4, 0), Err(Error::OutOfRange)));
        assert!(matches!(v.remove(3), Err(Error::OutOfRange)));
        v.truncate(10); // longer than the vector: nothing happens
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn growth_keeps_contents_and_protection() {
        let mut v = SecretVec::new();
        for i in 0..5000u32 {
            v.push(i as u8).unwrap();
        }
        assert!(v.expose().unwrap().iter().enumerate().all(|(i, &b)| b == i as u8));
        let got = v.protections().unwrap();
        assert!(got.canary && got.satisfy(&crate::Policy::default()));
    }

    #[test]
    fn debug_and_eq() {
        let (a, b, c) = (filled(8), filled(8), filled(9));
        assert!(bool::from(a.ct_eq(&b)) && !bool::from(a.ct_eq(&c)));
        // Neither the contents nor the length (a password's length is a secret too).
        assert_eq!(format!("{a:?}"), "SecretVec<u8>(<redacted>)");
    }
}
