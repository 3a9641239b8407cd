//! [`SharedSecret`]: the 32 bytes a KEM agrees on, in protected memory.

use std::fmt;

use subtle::{Choice, ConstantTimeEq};

use super::SHARED_SECRET_LEN;
use crate::error::Result;
use crate::exposed::Exposed;
use crate::secret::SecretBox;

/// A shared secret: 32 bytes in protected memory (a pooled [`SecretBox`]: locked, out of
/// dumps and forked children, wiped on drop), written there by the KEM itself.
///
/// It cannot be cloned, `Debug` shows nothing of it, and `==` compares in constant time.
/// It does not protect the copies you make through [`expose`](Self::expose); derive keys from
/// it in place, e.g. with [`to_aead_key`](Self::to_aead_key).
///
/// ```
/// use strongroom::kem::{DecapsulationKey, MlKem512};
///
/// let key = DecapsulationKey::<MlKem512>::generate()?;
/// let (ciphertext, secret) = key.encapsulation_key().encapsulate()?;
/// assert_eq!(format!("{secret:?}"), "kem::SharedSecret(<redacted>)");
/// assert!(key.decapsulate(&ciphertext)? == secret);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct SharedSecret {
    bytes: SecretBox<[u8; SHARED_SECRET_LEN]>,
}

impl SharedSecret {
    /// An all-zero secret in protected memory, for a KEM to write into.
    pub(crate) fn zeroed() -> Result<SharedSecret> {
        Ok(SharedSecret { bytes: SecretBox::new(|_: &mut [u8; SHARED_SECRET_LEN]| {})? })
    }

    /// Lends the bytes mutably to the KEM writing them.
    pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut [u8; SHARED_SECRET_LEN]) -> R) -> Result<R> {
        self.bytes.with_mut(f)
    }

    /// Borrows the secret's bytes, in place, for as long as the guard lives.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768};
    ///
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// let (_ciphertext, secret) = key.encapsulation_key().encapsulate()?;
    /// assert_eq!(secret.expose()?.len(), 32);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose(&self) -> Result<Exposed<'_, [u8; SHARED_SECRET_LEN]>> {
        self.bytes.expose()
    }

    /// Lends the secret's bytes to `f`, in place.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768};
    ///
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// let (_ciphertext, secret) = key.encapsulation_key().encapsulate()?;
    /// assert!(secret.with(|bytes| bytes.iter().any(|&b| b != 0))?);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&[u8; SHARED_SECRET_LEN]) -> R) -> Result<R> {
        self.bytes.with(f)
    }

    /// An XChaCha20-Poly1305 key holding these 32 bytes, copied protected memory to
    /// protected memory. Use it when the protocol takes the KEM secret as its key directly;
    /// otherwise derive the key from the secret and a context first.
    ///
    /// ```
    /// use strongroom::{aead, kem::{DecapsulationKey, MlKem768}};
    ///
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// let (_ciphertext, secret) = key.encapsulation_key().encapsulate()?;
    /// let aead_key = secret.to_aead_key()?;
    /// aead::seal_into(&aead_key, aead::Nonce::random()?, b"", b"", &mut [0u8; aead::TAG_LEN])?;
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn to_aead_key(&self) -> Result<crate::aead::Key> {
        self.bytes.with(|bytes| crate::aead::Key::copied(bytes))?
    }
}

impl ConstantTimeEq for SharedSecret {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.bytes.ct_eq(&other.bytes)
    }
}

impl PartialEq for SharedSecret {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for SharedSecret {}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("kem::SharedSecret(<redacted>)")
    }
}
