//! aws-lc through `aws-lc-sys`'s raw C API: XChaCha20-Poly1305 (`EVP_aead_xchacha20_poly1305`)
//! and SHA3-256 (`EVP_sha3_256`), for the crypto-boundary benchmarks. aws-lc has no Argon2.
//!
//! aws-lc-sys prefixes every symbol (`aws_lc_0_NN_0_…`), so it links next to the system
//! libcrypto that this crate also uses without clashing.

use std::ptr::NonNull;

use aws_lc_sys as sys;

/// An `EVP_AEAD_CTX` for XChaCha20-Poly1305 with a 16-byte tag. aws-lc copies the key into the
/// context (on aws-lc's heap) and wipes it in `EVP_AEAD_CTX_free`.
pub struct XChaCha {
    ctx: NonNull<sys::EVP_AEAD_CTX>,
}

impl XChaCha {
    /// A context keyed with `key`.
    ///
    /// # Panics
    /// If aws-lc refuses the key.
    pub fn new(key: &[u8; 32]) -> Self {
        // SAFETY: EVP_aead_xchacha20_poly1305 returns a static descriptor; the key pointer is
        // valid for 32 bytes; tag_len 16 is the default and always accepted.
        let ctx = unsafe { sys::EVP_AEAD_CTX_new(sys::EVP_aead_xchacha20_poly1305(), key.as_ptr(), key.len(), 16) };
        Self { ctx: NonNull::new(ctx).expect("EVP_AEAD_CTX_new failed") }
    }

    /// Seals `msg` into `out` (`ciphertext ‖ tag`, `out.len() == msg.len() + 16`).
    ///
    /// # Panics
    /// If the lengths do not fit or aws-lc reports an error.
    pub fn seal(&self, nonce: &[u8; 24], aad: &[u8], msg: &[u8], out: &mut [u8]) {
        assert_eq!(out.len(), msg.len() + 16, "output must be message + tag");
        let mut out_len = 0usize;
        // SAFETY: ctx is a live context; every pointer is valid for the length passed with it
        // and `out` (max_out_len bytes) does not overlap `msg`.
        let ok = unsafe {
            sys::EVP_AEAD_CTX_seal(
                self.ctx.as_ptr(),
                out.as_mut_ptr(),
                &mut out_len,
                out.len(),
                nonce.as_ptr(),
                nonce.len(),
                msg.as_ptr(),
                msg.len(),
                aad.as_ptr(),
                aad.len(),
            )
        };
        assert!(ok == 1 && out_len == out.len(), "EVP_AEAD_CTX_seal failed");
    }

    /// Opens `sealed` (`ciphertext ‖ tag`) into `out` (`out.len() == sealed.len() - 16`).
    /// Returns false when the tag does not verify.
    ///
    /// # Panics
    /// If the lengths do not fit.
    #[must_use]
    pub fn open(&self, nonce: &[u8; 24], aad: &[u8], sealed: &[u8], out: &mut [u8]) -> bool {
        assert!(sealed.len() >= 16 && out.len() == sealed.len() - 16, "output must be sealed - tag");
        let mut out_len = 0usize;
        // SAFETY: ctx is a live context; every pointer is valid for the length passed with it
        // and `out` (max_out_len bytes) does not overlap `sealed`.
        let ok = unsafe {
            sys::EVP_AEAD_CTX_open(
                self.ctx.as_ptr(),
                out.as_mut_ptr(),
                &mut out_len,
                out.len(),
                nonce.as_ptr(),
                nonce.len(),
                sealed.as_ptr(),
                sealed.len(),
                aad.as_ptr(),
                aad.len(),
            )
        };
        ok == 1 && out_len == out.len()
    }
}

impl Drop for XChaCha {
    fn drop(&mut self) {
        // SAFETY: ctx came from EVP_AEAD_CTX_new and is freed once.
        unsafe { sys::EVP_AEAD_CTX_free(self.ctx.as_ptr()) };
    }
}

/// `h = SHA3-256(h)`, `rounds` times, in place.
///
/// # Panics
/// If aws-lc reports an error.
pub fn sha3_256_chain(h: &mut [u8; 32], rounds: u64) {
    // SAFETY: EVP_sha3_256 returns a static descriptor.
    let md = unsafe { sys::EVP_sha3_256() };
    for _ in 0..rounds {
        let input = *h;
        let mut len = 0u32;
        // SAFETY: `input` is valid for 32 bytes, `h` has room for the 32-byte digest.
        let ok = unsafe {
            sys::EVP_Digest(input.as_ptr().cast(), input.len(), h.as_mut_ptr(), &mut len, md, std::ptr::null_mut())
        };
        assert!(ok == 1 && len == 32, "EVP_Digest(SHA3-256) failed");
    }
}
