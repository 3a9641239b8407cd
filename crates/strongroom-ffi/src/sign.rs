//! ML-DSA-65 signatures, with signing keys in protected memory.

use strongroom::sign::{MlDsa65, ParameterSet, VerifyingKey};

use crate::boundary::{bytes, bytes_mut, call, optional_out, out};
use crate::buffer::{Secret, publish, strongroom_buffer};
use crate::handles;
use crate::kdf::locked_copy;
use crate::kem::copy_out;
use crate::status::{Failure, STRONGROOM_E_BUFFER_TOO_SMALL, strongroom_status};

/// An ML-DSA-65 signing key.
pub(crate) type MlDsa65Key = strongroom::sign::SigningKey<MlDsa65>;

/// A handle to an ML-DSA-65 signing (private) key.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct strongroom_signing_key {
    /// The handle's number; 0 is never a live handle.
    pub id: u64,
}

/// Bytes in an ML-DSA-65 public (verifying) key.
pub const STRONGROOM_ML_DSA_65_PUBLIC_KEY_LEN: usize = 1952;
/// Bytes in an ML-DSA-65 signature.
pub const STRONGROOM_ML_DSA_65_SIGNATURE_LEN: usize = 3309;
/// Bytes in an ML-DSA seed, the form a signing key is exported and imported in.
pub const STRONGROOM_ML_DSA_SEED_LEN: usize = 32;
/// The longest signing context, in bytes.
pub const STRONGROOM_ML_DSA_MAX_CONTEXT_LEN: usize = 255;

fn publish_key(key: MlDsa65Key, out: crate::boundary::Out<'_, strongroom_signing_key>) -> crate::boundary::Outcome {
    out.set(strongroom_signing_key { id: handles::insert(Box::new(key))? });
    Ok(())
}

/// Generates an ML-DSA-65 key pair. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_ml_dsa_65_keygen(out: *mut strongroom_signing_key) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        publish_key(MlDsa65Key::generate()?, out)
    })
}

/// Rebuilds a signing key from its 32-byte seed, held in a buffer (left as it is).
/// Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_ml_dsa_65_from_seed(
    seed: strongroom_buffer,
    out: *mut strongroom_signing_key,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        publish_key(MlDsa65Key::from_locked_seed(&locked_copy(seed)?)?, out)
    })
}

/// Exports the signing key's seed into a new buffer. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_ml_dsa_65_seed(
    key: strongroom_signing_key,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        let seed = handles::with(key.id, |key: &mut Box<MlDsa65Key>| {
            let mut secret = Secret::zeroed(STRONGROOM_ML_DSA_SEED_LEN, 0)?;
            key.with_seed(|seed| secret.with_mut(|dst| dst.copy_from_slice(seed)))??;
            Ok(secret)
        })?;
        publish(seed, out)
    })
}

/// Copies the public (verifying) key into `out` (`*written` = its length). Thread-safe.
///
/// # Safety
/// `out` must be writable for `out_len` bytes; `written` NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_ml_dsa_65_public_key(
    key: strongroom_signing_key,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is writable for `out_len` bytes, `written` NULL or writable (the contract).
        let (out, written) = unsafe { (bytes_mut(out, out_len, "out")?, optional_out(written, "written")?) };
        handles::with(key.id, |key: &mut Box<MlDsa65Key>| copy_out(key.verifying_key().as_bytes(), out, written))
    })
}

/// Signs `message` under `context` (at most 255 bytes; may be empty) into `signature`
/// ([`STRONGROOM_ML_DSA_65_SIGNATURE_LEN`] bytes, `*written` = that). Hedged (randomised)
/// signing, as FIPS 204 recommends. Thread-safe.
///
/// # Safety
/// `message` and `context` must be readable for their lengths (or NULL with length 0);
/// `signature` writable for `signature_len` bytes; `written` NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_ml_dsa_65_sign(
    key: strongroom_signing_key,
    message: *const u8,
    message_len: usize,
    context: *const u8,
    context_len: usize,
    signature: *mut u8,
    signature_len: usize,
    written: *mut usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: each pointer is valid for its length (or NULL) during this call (the contract).
        let (message, context, signature, written) = unsafe {
            (
                bytes(message, message_len, "message")?,
                bytes(context, context_len, "context")?,
                bytes_mut(signature, signature_len, "signature")?,
                optional_out(written, "written")?,
            )
        };
        if signature.len() < MlDsa65::SIGNATURE_LEN {
            return Err(Failure::new(
                STRONGROOM_E_BUFFER_TOO_SMALL,
                "a signature needs STRONGROOM_ML_DSA_65_SIGNATURE_LEN bytes",
            ));
        }
        let made = handles::with(key.id, |key: &mut Box<MlDsa65Key>| Ok(key.sign(message, context)?))?;
        copy_out(made.as_bytes(), signature, written)
    })
}

/// Verifies `signature` on `message` under `context` with the public key `public`:
/// `STRONGROOM_OK` if it is valid, `STRONGROOM_E_BAD_SIGNATURE` if not, `STRONGROOM_E_FORMAT`
/// for a public key or signature of the wrong length. Needs no handle. Thread-safe.
///
/// # Safety
/// Each pointer must be readable for its length (or NULL with length 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_ml_dsa_65_verify(
    public: *const u8,
    public_len: usize,
    message: *const u8,
    message_len: usize,
    context: *const u8,
    context_len: usize,
    signature: *const u8,
    signature_len: usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: each pointer is readable for its length (or NULL with 0) during this call.
        let (public, message, context, signature) = unsafe {
            (
                bytes(public, public_len, "public")?,
                bytes(message, message_len, "message")?,
                bytes(context, context_len, "context")?,
                bytes(signature, signature_len, "signature")?,
            )
        };
        Ok(VerifyingKey::<MlDsa65>::from_bytes(public)?.verify(message, context, signature)?)
    })
}

/// Frees the signing key, wiping it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_signing_key_destroy(key: strongroom_signing_key) -> strongroom_status {
    call(|| {
        drop(handles::remove::<Box<MlDsa65Key>>(key.id)?);
        Ok(())
    })
}
