//! [`Enclave`]: a secret sealed under the process key.

use std::fmt;

use zeroize::Zeroize;

use allocator_api2::vec::Vec as SecureVec;

use super::coffer;
use crate::alloc::secure_alloc::SecureAlloc;
use crate::buffer::LockedBuffer;
use crate::crypto::aead::{self, NONCE_LEN, TAG_LEN};
use crate::error::{Error, FormatError, Result};
use crate::sys;

/// Binds every Enclave ciphertext to its purpose.
const AAD: &[u8] = b"strongroom enclave v1";

/// A secret encrypted with XChaCha20-Poly1305 under the process key (the
/// [`coffer`](crate::coffer)), with a fresh random nonce per seal.
///
/// **What it protects against.** At rest the secret is ciphertext, which may sit in ordinary
/// memory: a core dump, a swapped page or a read of the process's memory shows nothing
/// useful without the process key, and that key is itself split in guarded, locked memory.
/// [`open`](Self::open) decrypts into a fresh, frozen [`LockedBuffer`] for as long as you need
/// the plaintext, or [`with`](Self::with) lends it to a closure (faster: pooled memory, no
/// page-protection changes). Changing any byte of the ciphertext makes both fail; after
/// [`purge`](crate::purge), no Enclave can be opened again.
///
/// **What it does not.** The key and the plaintext exist while an Enclave is being sealed or
/// opened, and the plaintext for as long as you keep the buffer `open` returned (or inside
/// the closure you pass to `with`), and copies you make of it are yours. An Enclave
/// is only good within this process: the key dies with it.
///
/// ```
/// use strongroom::{Enclave, LockedBuffer};
///
/// let mut api_token = *b"tok_live_123";
/// let enclave = Enclave::new(&mut api_token)?;      // the source is wiped
/// assert_eq!(api_token, [0; 12]);
///
/// let plain = enclave.open()?;                        // frozen LockedBuffer
/// assert_eq!(&*plain.expose()?, b"tok_live_123");
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Clone)]
pub struct Enclave {
    /// `nonce ‖ ciphertext ‖ tag`.
    sealed: Box<[u8]>,
    /// The coffer epoch it was sealed under.
    epoch: u64,
}

impl Enclave {
    /// Seals a copy of `source`, then wipes `source` (even on error).
    ///
    /// ```
    /// let mut pin = *b"4321";
    /// let enclave = strongroom::Enclave::new(&mut pin)?;
    /// assert_eq!(enclave.size(), 4);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn new(source: &mut [u8]) -> Result<Self> {
        let sealed = Self::seal_bytes(source);
        source.zeroize();
        sealed
    }

    /// Seals `len` random bytes (drawn straight into protected memory first).
    ///
    /// ```
    /// let key = strongroom::Enclave::random(32)?;
    /// assert_eq!(key.open()?.len(), 32);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn random(len: usize) -> Result<Self> {
        LockedBuffer::random(len)?.seal()
    }

    pub(crate) fn seal_bytes(plaintext: &[u8]) -> Result<Self> {
        let total = plaintext.len().checked_add(NONCE_LEN + TAG_LEN).ok_or(Error::TooLarge)?;
        let mut sealed = vec![0u8; total].into_boxed_slice();
        let (nonce, body) = sealed.split_at_mut(NONCE_LEN);
        sys::fill_random(nonce).map_err(Error::Random)?;
        let nonce: &[u8; NONCE_LEN] =
            (&*nonce).try_into().map_err(|_| Error::Internal("an Enclave's nonce is not 24 bytes"))?;
        let epoch = coffer::with_process_key(|key, epoch| {
            aead::seal(key, nonce, AAD, plaintext, body)?;
            Ok(epoch)
        })?;
        Ok(Enclave { sealed, epoch })
    }

    /// Decrypts into a new frozen [`LockedBuffer`]. Fails with [`Error::Crypto`] if the
    /// ciphertext was altered, and [`Error::Destroyed`] after [`purge`](crate::purge).
    ///
    /// ```
    /// let enclave = strongroom::Enclave::new(&mut [1, 2, 3])?;
    /// let buf = enclave.open()?;
    /// assert!(buf.is_frozen());
    /// assert_eq!(&*buf.expose()?, &[1, 2, 3]);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn open(&self) -> Result<LockedBuffer> {
        self.parts()?; // malformed input is refused before any allocation
        let mut plain = LockedBuffer::new(self.size())?;
        self.decrypt_into(&mut plain.expose_mut()?)?;
        plain.freeze()?;
        Ok(plain)
    }

    /// Decrypts into pooled protected memory (a guarded region beyond 2 KiB), runs `f` on the
    /// plaintext, and wipes and frees it when `f` returns (or panics). Fails like
    /// [`open`](Self::open), and then `f` does not run.
    ///
    /// Cheaper than `open` (no region of its own, no `mprotect` to freeze and melt): use it
    /// when the plaintext is needed only for a moment. The closure runs on your thread's
    /// stack: it must not copy the bytes out (into a `Vec`, a `String`, a log line, a
    /// returned value) unless that copy goes into protected memory too, since strongroom
    /// cannot wipe copies it does not know about. Work that computes on the plaintext (a
    /// MAC, a key schedule) leaves traces on the stack: wrap it in [`crate::stack::run`].
    ///
    /// ```
    /// let mut token = *b"tok_live_123";
    /// let enclave = strongroom::Enclave::new(&mut token)?;
    /// let matches = enclave.with(|plain| plain == b"tok_live_123")?;
    /// assert!(matches);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
        let mut plain: SecureVec<u8, SecureAlloc> = SecureVec::new_in(SecureAlloc::new());
        plain.try_reserve_exact(self.size()).map_err(|_| SecureAlloc::last_error().unwrap_or(Error::TooLarge))?;
        plain.resize(self.size(), 0);
        self.decrypt_into(&mut plain)?;
        Ok(f(&plain)) // `plain` is wiped as it is freed, also when `f` panics
    }

    /// Opens the ciphertext into `out` (exactly [`size`](Self::size) bytes).
    fn decrypt_into(&self, out: &mut [u8]) -> Result<()> {
        let (nonce, body) = self.parts()?;
        coffer::with_process_key(|key, epoch| {
            if epoch != self.epoch {
                return Err(Error::Destroyed); // the key it was sealed under was purged
            }
            aead::open(key, nonce, AAD, body, out)
        })
    }

    /// The nonce and `ciphertext ‖ tag`, or a format error if too short to hold both.
    fn parts(&self) -> Result<(&[u8; NONCE_LEN], &[u8])> {
        if self.sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::Format(FormatError::TooShort));
        }
        let (nonce, body) = self.sealed.split_at(NONCE_LEN);
        let nonce = nonce.try_into().map_err(|_| Error::Internal("an Enclave's nonce is not 24 bytes"))?;
        Ok((nonce, body))
    }

    /// Length of the sealed plaintext in bytes.
    ///
    /// ```
    /// assert_eq!(strongroom::Enclave::random(48)?.size(), 48);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn size(&self) -> usize {
        self.sealed.len().saturating_sub(NONCE_LEN + TAG_LEN)
    }
}

impl fmt::Debug for Enclave {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enclave(<sealed>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_at_many_sizes() {
        for len in [0, 1, 31, 32, 33, 1000, 5000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
            let enclave = Enclave::new(&mut data.clone()).unwrap();
            assert_eq!(enclave.size(), len);
            assert_eq!(&*enclave.open().unwrap().expose().unwrap(), &data[..]);
        }
    }

    #[test]
    fn with_lends_the_plaintext_at_many_sizes() {
        for len in [0, 1, 32, 1024, 2048, 2049, 5000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let enclave = Enclave::new(&mut data.clone()).unwrap();
            assert!(enclave.with(|plain| plain == &data[..]).unwrap(), "len {len}");
        }
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let a = Enclave::new(&mut [7; 16]).unwrap();
        let b = Enclave::new(&mut [7; 16]).unwrap();
        assert_ne!(a.sealed, b.sealed);
    }

    #[test]
    fn every_bit_flip_and_every_truncation_is_refused() {
        let enclave = Enclave::new(&mut b"a secret worth keeping".to_vec()).unwrap();
        let step = if cfg!(miri) { 61 } else { 1 };
        for bit in (0..enclave.sealed.len() * 8).step_by(step) {
            let mut tampered = enclave.clone();
            tampered.sealed[bit / 8] ^= 1 << (bit % 8);
            assert!(matches!(tampered.open(), Err(Error::Crypto)), "bit {bit}");
            assert!(matches!(tampered.with(|_| unreachable!("ran on forged data")), Err(Error::Crypto)), "bit {bit}");
        }
        for len in (0..enclave.sealed.len()).step_by(step) {
            let truncated = Enclave { sealed: enclave.sealed[..len].into(), epoch: enclave.epoch };
            // Too short for a nonce and tag is malformed; otherwise authentication fails.
            let expected = if len < NONCE_LEN + TAG_LEN { "Format" } else { "Crypto" };
            match truncated.open() {
                Err(Error::Format(_)) if expected == "Format" => {}
                Err(Error::Crypto) if expected == "Crypto" => {}
                other => panic!("truncation to {len} bytes: {other:?}"),
            }
            match truncated.with(|_| ()) {
                Err(Error::Format(_)) if expected == "Format" => {}
                Err(Error::Crypto) if expected == "Crypto" => {}
                other => panic!("truncation to {len} bytes, with: {other:?}"),
            }
        }
    }

    #[test]
    fn rekeying_keeps_enclaves_openable() {
        let enclave = Enclave::random(32).unwrap();
        let before = enclave.open().unwrap().expose().unwrap().to_vec();
        for _ in 0..3 {
            coffer::rekey().unwrap();
        }
        assert_eq!(&*enclave.open().unwrap().expose().unwrap(), &before[..]);
    }
}
