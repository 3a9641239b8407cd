//! XChaCha20-Poly1305 with a key held in protected memory.
//!
//! The low-level companion of [`Enclave`](crate::Enclave) and [`stream`](crate::stream):
//! seal and open single messages. Keys and nonces are types, so the wrong thing does not
//! compile:
//!
//! - a [`Key`] lives in protected memory (a pooled [`SecretBox`]), is 32 bytes by
//!   construction, is used in place (never copied out), and cannot be cloned or printed;
//! - a [`Nonce`] cannot be cloned or copied, and [`seal_into`] consumes it. Make one with
//!   [`Nonce::random`] (24 random bytes: safe for any number of messages under one key), or
//!   with [`Nonce::assume_unique_for_key`] when you manage nonces yourself and can promise
//!   that none repeats under the same key.
//!
//! The cipher runs on a secure stack, and a failed open leaves its output zeroed.
//!
//! **What it does not protect.** The ciphertext and the plaintext you pass in are yours:
//! keep plaintext in protected memory (e.g. open into a [`LockedBuffer`]'s `expose_mut()`).
//!
//! ```
//! use strongroom::{aead, LockedBuffer};
//!
//! let key = aead::Key::random()?;
//! let nonce = aead::Nonce::random()?;
//! let nonce_bytes = *nonce.as_bytes(); // stored next to the ciphertext
//! let mut sealed = vec![0u8; 5 + aead::TAG_LEN];
//! aead::seal_into(&key, nonce, b"header", b"hello", &mut sealed)?;
//!
//! let mut plain = LockedBuffer::new(5)?;
//! let nonce = aead::Nonce::assume_unique_for_key(nonce_bytes);
//! aead::open_into(&key, nonce, b"header", &sealed, &mut plain.expose_mut()?)?;
//! assert_eq!(&*plain.expose()?, b"hello");
//! # Ok::<(), strongroom::Error>(())
//! ```

use std::fmt;

use zeroize::Zeroize;

use crate::buffer::LockedBuffer;
use crate::crypto::aead;
use crate::error::{Error, Result};
use crate::secret::SecretBox;

/// Key length: 32 bytes.
///
/// ```
/// assert_eq!(strongroom::aead::KEY_LEN, 32);
/// ```
pub const KEY_LEN: usize = aead::KEY_LEN;
/// Nonce length: 24 bytes.
///
/// ```
/// assert_eq!(strongroom::aead::Nonce::random()?.as_bytes().len(), strongroom::aead::NONCE_LEN);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub const NONCE_LEN: usize = aead::NONCE_LEN;
/// Tag length: 16 bytes, the difference between a sealed message and its plaintext.
///
/// ```
/// assert_eq!(strongroom::aead::TAG_LEN, 16);
/// ```
pub const TAG_LEN: usize = aead::TAG_LEN;

/// An XChaCha20-Poly1305 key: 32 bytes in protected memory (a pooled [`SecretBox`]: locked,
/// out of dumps and forked children, wiped on drop).
///
/// Its length is checked once, when it is made; it cannot be cloned, and its `Debug` output
/// shows nothing of it. It does not protect against code of yours that runs on it: the key
/// is only ever lent to strongroom's own cipher calls.
///
/// ```
/// let key = strongroom::aead::Key::random()?;
/// assert_eq!(format!("{key:?}"), "aead::Key(<redacted>)");
/// # Ok::<(), strongroom::Error>(())
/// ```
///
/// A key cannot be cloned, so no second copy of it exists outside protected memory:
///
/// ```compile_fail
/// let key = strongroom::aead::Key::random()?;
/// let copy = key.clone(); // error: no method `clone`
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct Key {
    bytes: SecretBox<[u8; KEY_LEN]>,
}

impl Key {
    /// A fresh random key, drawn straight into protected memory.
    ///
    /// ```
    /// let (a, b) = (strongroom::aead::Key::random()?, strongroom::aead::Key::random()?);
    /// let mut sealed = [[0u8; 16]; 2];
    /// for (key, out) in [&a, &b].into_iter().zip(&mut sealed) {
    ///     let nonce = strongroom::aead::Nonce::assume_unique_for_key([1; 24]); // once per key
    ///     strongroom::aead::seal_into(key, nonce, b"", b"", out)?;
    /// }
    /// assert_ne!(sealed[0], sealed[1]);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn random() -> Result<Key> {
        let mut drawn = Ok(());
        let bytes = SecretBox::new(|k: &mut [u8; KEY_LEN]| drawn = crate::sys::fill_random(k))?;
        drawn.map_err(Error::Random)?;
        Ok(Key { bytes })
    }

    /// Moves `source` (exactly [`KEY_LEN`] bytes) into a key and wipes `source`, also when
    /// its length is wrong ([`Error::InvalidParameters`]).
    ///
    /// ```
    /// let mut raw = [7u8; 32];
    /// let key = strongroom::aead::Key::from_bytes(&mut raw)?;
    /// assert_eq!(raw, [0; 32]);
    /// assert!(strongroom::aead::Key::from_bytes(&mut [7u8; 16]).is_err());
    /// # drop(key);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_bytes(source: &mut [u8]) -> Result<Key> {
        let key = Self::copied(source);
        source.zeroize();
        key
    }

    /// Copies a key from a [`LockedBuffer`] (exactly [`KEY_LEN`] bytes), protected memory to
    /// protected memory; the buffer stays as it is. For keys that come as a buffer, such as
    /// [`kdf::DerivedKey::key`](crate::kdf::DerivedKey::key).
    ///
    /// ```
    /// let buffer = strongroom::LockedBuffer::random(32)?;
    /// let key = strongroom::aead::Key::from_locked(&buffer)?;
    /// assert!(strongroom::aead::Key::from_locked(&strongroom::LockedBuffer::random(31)?).is_err());
    /// # drop(key);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_locked(buffer: &LockedBuffer) -> Result<Key> {
        Self::copied(&buffer.expose()?)
    }

    pub(crate) fn copied(source: &[u8]) -> Result<Key> {
        let wrong_length = |_| Error::InvalidParameters("an XChaCha20-Poly1305 key is 32 bytes");
        Ok(Key { bytes: SecretBox::copy_of(source, wrong_length)? })
    }

    /// Lends the key bytes, in place, to strongroom's own cipher calls: the one way a key is
    /// used, for [`seal_into`], [`open_into`] and [`stream`](crate::stream).
    pub(crate) fn with<R>(&self, f: impl FnOnce(&[u8; KEY_LEN]) -> Result<R>) -> Result<R> {
        self.bytes.with(f)?
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("aead::Key(<redacted>)")
    }
}

/// A 24-byte nonce, used for one message. It is neither `Clone` nor `Copy`, and
/// [`seal_into`] consumes it, so one value cannot seal two messages.
///
/// ```
/// let nonce = strongroom::aead::Nonce::random()?;
/// let key = strongroom::aead::Key::random()?;
/// strongroom::aead::seal_into(&key, nonce, b"", b"", &mut [0u8; 16])?;
/// # Ok::<(), strongroom::Error>(())
/// ```
///
/// A nonce can be used once: it is neither `Clone` nor `Copy`, and sealing consumes it.
///
/// ```compile_fail
/// use strongroom::aead::{self, Key, Nonce};
/// let key = Key::random()?;
/// let nonce = Nonce::random()?;
/// let mut out = [0u8; 1 + aead::TAG_LEN];
/// aead::seal_into(&key, nonce, b"", b"a", &mut out)?;
/// aead::seal_into(&key, nonce, b"", b"b", &mut out)?; // error: use of moved value
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Debug, PartialEq, Eq)]
pub struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// 24 bytes from the operating system's CSPRNG: with XChaCha20's 192-bit nonces, random
    /// nonces never repeat in practice, whatever the number of messages.
    ///
    /// ```
    /// use strongroom::aead::Nonce;
    /// assert_ne!(Nonce::random()?, Nonce::random()?);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn random() -> Result<Nonce> {
        let mut bytes = [0u8; NONCE_LEN];
        crate::sys::fill_random(&mut bytes).map_err(Error::Random)?;
        Ok(Nonce(bytes))
    }

    /// A nonce you manage yourself (a counter, or the nonce stored with a ciphertext you are
    /// about to open). The name is the promise: this nonce is never used to seal a second
    /// message under the same key. Breaking it reveals the XOR of the two plaintexts and
    /// lets an attacker forge messages.
    ///
    /// ```
    /// use strongroom::aead::Nonce;
    /// let mut counter = 41u64;
    /// counter += 1; // advanced and persisted before every seal
    /// let mut bytes = [0u8; 24];
    /// bytes[..8].copy_from_slice(&counter.to_le_bytes());
    /// let nonce = Nonce::assume_unique_for_key(bytes);
    /// assert_eq!(nonce.as_bytes()[0], 42);
    /// ```
    pub fn assume_unique_for_key(bytes: [u8; NONCE_LEN]) -> Nonce {
        Nonce(bytes)
    }

    /// The nonce's bytes, to store or send with the ciphertext (a nonce is not secret).
    ///
    /// ```
    /// let nonce = strongroom::aead::Nonce::assume_unique_for_key([3; 24]);
    /// assert_eq!(nonce.as_bytes(), &[3; 24]);
    /// ```
    pub fn as_bytes(&self) -> &[u8; NONCE_LEN] {
        &self.0
    }
}

/// Seals `plaintext` into `out` as `ciphertext ‖ tag`; `out` must be exactly
/// `plaintext.len() + `[`TAG_LEN`] bytes (else [`Error::ApiMisuse`]). Consumes the nonce.
///
/// ```
/// use strongroom::aead::{self, Key, Nonce};
///
/// let key = Key::random()?;
/// let mut out = [0u8; 3 + aead::TAG_LEN];
/// aead::seal_into(&key, Nonce::random()?, b"", b"abc", &mut out)?;
/// assert!(aead::seal_into(&key, Nonce::random()?, b"", b"abc", &mut [0u8; 3]).is_err());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn seal_into(key: &Key, nonce: Nonce, aad: &[u8], plaintext: &[u8], out: &mut [u8]) -> Result<()> {
    key.with(|key| aead::seal(key, &nonce.0, aad, plaintext, out))
}

/// Opens `sealed` (`ciphertext ‖ tag`) into `out`, which must be exactly
/// `sealed.len() - `[`TAG_LEN`] bytes; pass protected memory, e.g. a [`LockedBuffer`]'s
/// `expose_mut()`. Any change to the key, nonce, AAD, ciphertext or tag is [`Error::Crypto`],
/// and `out` is left zeroed.
///
/// ```
/// use strongroom::aead::{self, Key, Nonce};
///
/// let key = Key::random()?;
/// let mut out = [0xAAu8; 3];
/// let forged = [0u8; 3 + aead::TAG_LEN];
/// let nonce = Nonce::assume_unique_for_key([5; 24]); // as stored with the message
/// assert!(matches!(aead::open_into(&key, nonce, b"", &forged, &mut out), Err(strongroom::Error::Crypto)));
/// assert_eq!(out, [0; 3]);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn open_into(key: &Key, nonce: Nonce, aad: &[u8], sealed: &[u8], out: &mut [u8]) -> Result<()> {
    key.with(|key| aead::open(key, &nonce.0, aad, sealed, out))
}
