//! XChaCha20-Poly1305 (strongroom's AEAD) and ChaCha20-Poly1305 (age's) from aws-lc,
//! through aws-lc-sys's C API.
//!
//! The cipher context (which holds a copy of the key) and the XChaCha subkey aws-lc derives
//! on its own stack both live on the secure stack our callers run us on, so they are wiped
//! with it; the context is also cleaned up explicitly.

use std::mem::MaybeUninit;
use std::ptr;

use aws_lc_sys as ffi;

use super::aead::{Backend, Call, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::error::{Error, Result};

/// Which of aws-lc's two ChaCha20-Poly1305 AEADs.
#[derive(Clone, Copy)]
enum Cipher {
    /// XChaCha20-Poly1305: 24-byte nonces.
    XChaCha,
    /// ChaCha20-Poly1305 (RFC 8439): 12-byte nonces.
    ChaCha,
}

impl Cipher {
    fn nonce_len(self) -> usize {
        match self {
            Cipher::XChaCha => NONCE_LEN,
            Cipher::ChaCha => 12,
        }
    }
}

/// Runs `f` with a context of `cipher` keyed with `key`, then cleans the context up.
fn with_context<R>(cipher: Cipher, key: &[u8; KEY_LEN], f: impl FnOnce(*const ffi::EVP_AEAD_CTX) -> R) -> Result<R> {
    let mut ctx = MaybeUninit::<ffi::EVP_AEAD_CTX>::zeroed();
    // SAFETY: `ctx` is writable memory for one EVP_AEAD_CTX; the AEAD descriptors are static aws-lc objects returned by
    // functions without arguments; the key pointer is valid for KEY_LEN bytes; TAG_LEN is the default tag length both
    // AEADs accept; a null ENGINE is the documented default.
    let ok = unsafe {
        let aead = match cipher {
            Cipher::XChaCha => ffi::EVP_aead_xchacha20_poly1305(),
            Cipher::ChaCha => ffi::EVP_aead_chacha20_poly1305(),
        };
        ffi::EVP_AEAD_CTX_init(ctx.as_mut_ptr(), aead, key.as_ptr(), KEY_LEN, TAG_LEN, ptr::null_mut())
    };
    if ok != 1 {
        return Err(Error::Internal("aws-lc refused a 32-byte ChaCha20-Poly1305 key (EVP_AEAD_CTX_init)"));
    }
    let result = f(ctx.as_ptr());
    // SAFETY: the context was initialised above and is cleaned up exactly once.
    unsafe { ffi::EVP_AEAD_CTX_cleanup(ctx.as_mut_ptr()) };
    // The cleanup zeroes aws-lc's state; make sure of the key copy regardless.
    // SAFETY: `ctx` is ours and no longer used by aws-lc.
    unsafe { ptr::write_bytes(ctx.as_mut_ptr(), 0, 1) };
    Ok(result)
}

/// `EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` share this C signature.
type Operation = unsafe extern "C" fn(
    *const ffi::EVP_AEAD_CTX,
    *mut u8,
    *mut usize,
    usize,
    *const u8,
    usize,
    *const u8,
    usize,
    *const u8,
    usize,
) -> std::ffi::c_int;

/// Runs `operation` of `cipher` from `call.input` into all of `call.out`. A return code other
/// than 1 is `refused`; a success that wrote another length than `call.out.len()` is
/// internal.
fn run(cipher: Cipher, operation: Operation, call: Call<'_>, refused: Error) -> Result<()> {
    let Call { key, nonce, aad, input, out } = call;
    run_with(cipher, operation, key, nonce, aad, input, out, refused)
}

#[allow(clippy::too_many_arguments, reason = "the C call's own arguments, each checked by the callers")]
fn run_with(
    cipher: Cipher,
    operation: Operation,
    key: &[u8; KEY_LEN],
    nonce: &[u8],
    aad: &[u8],
    input: &[u8],
    out: &mut [u8],
    refused: Error,
) -> Result<()> {
    if nonce.len() != cipher.nonce_len() {
        return Err(Error::Internal("a nonce of the wrong length reached aws-lc's AEAD"));
    }
    let mut written = 0usize;
    let ok = with_context(cipher, key, |ctx| {
        // SAFETY: `ctx` is an initialised context; every pointer is valid for the length passed with it; `out` has room
        // for `out.len()` bytes (the front door checked it is the input plus or minus the tag) and, being a `&mut`,
        // does not overlap the inputs; `written` is a valid out-pointer for the call's duration.
        unsafe {
            operation(
                ctx,
                out.as_mut_ptr(),
                &mut written,
                out.len(),
                nonce.as_ptr(),
                nonce.len(),
                input.as_ptr(),
                input.len(),
                aad.as_ptr(),
                aad.len(),
            )
        }
    })?;
    match (ok, written == out.len()) {
        (1, true) => Ok(()),
        (1, false) => Err(Error::Internal("aws-lc wrote another length than ChaCha20-Poly1305's")),
        _ => Err(refused),
    }
}

/// XChaCha20-Poly1305 from aws-lc (`EVP_aead_xchacha20_poly1305`).
pub(crate) struct AwsLc;

impl Backend for AwsLc {
    fn seal(call: Call<'_>) -> Result<()> {
        run(
            Cipher::XChaCha,
            ffi::EVP_AEAD_CTX_seal,
            call,
            Error::Internal("aws-lc failed to seal a message of a valid length"),
        )
    }

    fn open(call: Call<'_>) -> Result<()> {
        run(Cipher::XChaCha, ffi::EVP_AEAD_CTX_open, call, Error::Crypto)
    }
}

/// ChaCha20-Poly1305 (RFC 8439) seal without associated data, for [`super::chacha_ietf`],
/// whose front door checked the lengths and runs this on a secure stack.
pub(crate) fn chacha_seal(key: &[u8; KEY_LEN], nonce: &[u8; 12], plaintext: &[u8], out: &mut [u8]) -> Result<()> {
    let refused = Error::Internal("aws-lc failed to seal a message of a valid length");
    run_with(Cipher::ChaCha, ffi::EVP_AEAD_CTX_seal, key, nonce, b"", plaintext, out, refused)
}

/// ChaCha20-Poly1305 (RFC 8439) open without associated data: [`Error::Crypto`] if the tag
/// does not verify.
pub(crate) fn chacha_open(key: &[u8; KEY_LEN], nonce: &[u8; 12], sealed: &[u8], out: &mut [u8]) -> Result<()> {
    run_with(Cipher::ChaCha, ffi::EVP_AEAD_CTX_open, key, nonce, b"", sealed, out, Error::Crypto)
}
