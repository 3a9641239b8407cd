//! XChaCha20-Poly1305 from aws-lc, through aws-lc-sys's C API.
//!
//! The cipher context (which holds a copy of the key) and the XChaCha subkey aws-lc derives
//! on its own stack both live on the secure stack our callers run us on, so they are wiped
//! with it; the context is also cleaned up explicitly.

use std::mem::MaybeUninit;
use std::ptr;

use aws_lc_sys as ffi;

use super::aead::{KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::error::{Error, Result};

/// Runs `f` with a context keyed with `key`, then cleans the context up.
fn with_context<R>(key: &[u8; KEY_LEN], f: impl FnOnce(*const ffi::EVP_AEAD_CTX) -> R) -> Result<R> {
    let mut ctx = MaybeUninit::<ffi::EVP_AEAD_CTX>::zeroed();
    // SAFETY: `ctx` is writable memory for one EVP_AEAD_CTX; the AEAD descriptor is a static
    // aws-lc object; the key pointer is valid for KEY_LEN bytes; TAG_LEN is the default tag
    // length this AEAD accepts; a null ENGINE is the documented default.
    let ok = unsafe {
        ffi::EVP_AEAD_CTX_init(
            ctx.as_mut_ptr(),
            ffi::EVP_aead_xchacha20_poly1305(),
            key.as_ptr(),
            KEY_LEN,
            TAG_LEN,
            ptr::null_mut(),
        )
    };
    if ok != 1 {
        return Err(Error::Crypto);
    }
    let result = f(ctx.as_ptr());
    // SAFETY: the context was initialised above and is cleaned up exactly once.
    unsafe { ffi::EVP_AEAD_CTX_cleanup(ctx.as_mut_ptr()) };
    // The cleanup zeroes aws-lc's state; make sure of the key copy regardless.
    // SAFETY: `ctx` is ours and no longer used by aws-lc.
    unsafe { ptr::write_bytes(ctx.as_mut_ptr(), 0, 1) };
    Ok(result)
}

pub(super) fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let mut written = 0usize;
    let ok = with_context(key, |ctx| {
        // SAFETY: every pointer is valid for the length passed with it; `out` has room for
        // `out.len()` bytes (checked by the caller to be plaintext + tag) and, being a
        // `&mut`, does not overlap the inputs.
        unsafe {
            ffi::EVP_AEAD_CTX_seal(
                ctx,
                out.as_mut_ptr(),
                &mut written,
                out.len(),
                nonce.as_ptr(),
                NONCE_LEN,
                plaintext.as_ptr(),
                plaintext.len(),
                aad.as_ptr(),
                aad.len(),
            )
        }
    })?;
    if ok == 1 && written == out.len() { Ok(()) } else { Err(Error::Crypto) }
}

pub(super) fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let mut written = 0usize;
    let ok = with_context(key, |ctx| {
        // SAFETY: as in `seal`; `out` has room for `out.len()` bytes (the caller checked it is
        // the ciphertext's length) and does not overlap the inputs.
        unsafe {
            ffi::EVP_AEAD_CTX_open(
                ctx,
                out.as_mut_ptr(),
                &mut written,
                out.len(),
                nonce.as_ptr(),
                NONCE_LEN,
                sealed.as_ptr(),
                sealed.len(),
                aad.as_ptr(),
                aad.len(),
            )
        }
    })?;
    if ok == 1 && written == out.len() { Ok(()) } else { Err(Error::Crypto) }
}
