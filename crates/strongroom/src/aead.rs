//! XChaCha20-Poly1305 with a key held in protected memory.
//!
//! The low-level companion of [`Enclave`](crate::Enclave) and [`stream`](crate::stream):
//! seal and open single messages under a key you hold in a [`LockedBuffer`]. The key is
//! used in place (never copied out), the cipher runs on a secure stack, and a failed open
//! leaves the output zeroed. Nonces are 24 random bytes: draw a fresh one for every message
//! ([`random_nonce`]); never reuse one with the same key.
//!
//! ```
//! use strongroom::{aead, LockedBuffer};
//!
//! let key = LockedBuffer::random(aead::KEY_LEN)?;
//! let nonce = aead::random_nonce()?;
//! let mut sealed = vec![0u8; 5 + aead::TAG_LEN];
//! aead::seal_into(&key, &nonce, b"header", b"hello", &mut sealed)?;
//!
//! let mut plain = LockedBuffer::new(5)?;
//! aead::open_into(&key, &nonce, b"header", &sealed, &mut plain.expose_mut()?)?;
//! assert_eq!(&*plain.expose()?, b"hello");
//! # Ok::<(), strongroom::Error>(())
//! ```

use crate::buffer::LockedBuffer;
use crate::crypto::aead;
use crate::error::{Error, Result};

/// Key length: 32 bytes.
pub const KEY_LEN: usize = aead::KEY_LEN;
/// Nonce length: 24 bytes.
pub const NONCE_LEN: usize = aead::NONCE_LEN;
/// Tag length: 16 bytes.
pub const TAG_LEN: usize = aead::TAG_LEN;

/// A fresh random nonce from the operating system's CSPRNG.
///
/// ```
/// assert_ne!(strongroom::aead::random_nonce()?, strongroom::aead::random_nonce()?);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn random_nonce() -> Result<[u8; NONCE_LEN]> {
    let mut nonce = [0u8; NONCE_LEN];
    crate::sys::fill_random(&mut nonce).map_err(Error::Random)?;
    Ok(nonce)
}

fn with_key<R>(key: &LockedBuffer, f: impl FnOnce(&[u8; KEY_LEN]) -> Result<R>) -> Result<R> {
    let key = key.expose()?;
    f((&*key).try_into().map_err(|_| Error::InvalidParameters("an XChaCha20-Poly1305 key is 32 bytes"))?)
}

/// Seals `plaintext` into `out` as `ciphertext ‖ tag` (`out.len() == plaintext.len() + 16`).
///
/// ```
/// let key = strongroom::LockedBuffer::random(32)?;
/// let mut out = [0u8; 3 + 16];
/// strongroom::aead::seal_into(&key, &[0; 24], b"", b"abc", &mut out)?;
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn seal_into(
    key: &LockedBuffer,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<()> {
    with_key(key, |key| aead::seal(key, nonce, aad, plaintext, out))
}

/// Opens `sealed` (`ciphertext ‖ tag`) into `out` (`sealed.len() - 16` bytes; pass protected
/// memory, e.g. a [`LockedBuffer`]'s `expose_mut()`). Any change to the key, nonce, AAD,
/// ciphertext or tag is [`Error::Crypto`], and `out` is left zeroed.
///
/// ```
/// let key = strongroom::LockedBuffer::random(32)?;
/// let mut out = [0u8; 3];
/// let forged = [0u8; 19];
/// assert!(strongroom::aead::open_into(&key, &[0; 24], b"", &forged, &mut out).is_err());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn open_into(key: &LockedBuffer, nonce: &[u8; NONCE_LEN], aad: &[u8], sealed: &[u8], out: &mut [u8]) -> Result<()> {
    with_key(key, |key| aead::open(key, nonce, aad, sealed, out))
}
