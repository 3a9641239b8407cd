//! Key encapsulation: ML-KEM-768 and X-Wing, with decapsulation keys and shared secrets in
//! protected memory. A `strongroom_kem_key` names a decapsulation key of either algorithm.

use strongroom::kem::{self, MlKem768, SharedSecret, x_wing};

use crate::boundary::{Out, bytes, bytes_mut, call, optional_out, out};
use crate::buffer::{Secret, publish, strongroom_buffer};
use crate::handles;
use crate::kdf::locked_copy;
use crate::status::{Failure, STRONGROOM_E_BUFFER_TOO_SMALL, STRONGROOM_E_INVALID_ARGUMENT, strongroom_status};

/// A handle to a KEM decapsulation (private) key.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct strongroom_kem_key {
    /// The handle's number; 0 is never a live handle.
    pub id: u64,
}

/// Algorithm: ML-KEM-768 (FIPS 203).
pub const STRONGROOM_KEM_ML_KEM_768: u32 = 1;
/// Algorithm: X-Wing (ML-KEM-768 + X25519 hybrid).
pub const STRONGROOM_KEM_X_WING: u32 = 2;
/// Bytes in a shared secret, for both algorithms.
pub const STRONGROOM_KEM_SHARED_SECRET_LEN: usize = 32;
/// Bytes in an ML-KEM-768 public (encapsulation) key.
pub const STRONGROOM_ML_KEM_768_PUBLIC_KEY_LEN: usize = 1184;
/// Bytes in an ML-KEM-768 ciphertext.
pub const STRONGROOM_ML_KEM_768_CIPHERTEXT_LEN: usize = 1088;
/// Bytes in an ML-KEM seed (`d ‖ z`), the form a key is exported and imported in.
pub const STRONGROOM_ML_KEM_SEED_LEN: usize = 64;
/// Bytes in an X-Wing public key.
pub const STRONGROOM_X_WING_PUBLIC_KEY_LEN: usize = 1216;
/// Bytes in an X-Wing ciphertext.
pub const STRONGROOM_X_WING_CIPHERTEXT_LEN: usize = 1120;
/// Bytes in an X-Wing seed.
pub const STRONGROOM_X_WING_SEED_LEN: usize = 32;

/// A decapsulation key of either algorithm.
pub(crate) enum KemKey {
    MlKem768(kem::DecapsulationKey<MlKem768>),
    XWing(x_wing::DecapsulationKey),
}

fn unknown_algorithm() -> Failure {
    Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "unknown KEM algorithm")
}

fn publish_key(key: KemKey, out: Out<'_, strongroom_kem_key>) -> crate::boundary::Outcome {
    out.set(strongroom_kem_key { id: handles::insert(Box::new(key))? });
    Ok(())
}

fn publish_shared(shared: SharedSecret, out: Out<'_, strongroom_buffer>) -> crate::boundary::Outcome {
    let mut secret = Secret::zeroed(STRONGROOM_KEM_SHARED_SECRET_LEN, 0)?;
    shared.with(|bytes| secret.with_mut(|dst| dst.copy_from_slice(bytes)))??;
    publish(secret, out)
}

/// Copies `public` into `out` (`*written` = its length), or `STRONGROOM_E_BUFFER_TOO_SMALL`.
pub(crate) fn copy_out(public: &[u8], out: &mut [u8], written: Option<Out<'_, usize>>) -> crate::boundary::Outcome {
    let dst = out.get_mut(..public.len()).ok_or_else(|| {
        Failure::new(STRONGROOM_E_BUFFER_TOO_SMALL, "the output buffer is smaller than the key or ciphertext")
    })?;
    dst.copy_from_slice(public);
    if let Some(written) = written {
        written.set(public.len());
    }
    Ok(())
}

/// Generates a key pair of `algorithm`. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_kem_keygen(algorithm: u32, out: *mut strongroom_kem_key) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        let key = match algorithm {
            STRONGROOM_KEM_ML_KEM_768 => KemKey::MlKem768(kem::DecapsulationKey::generate()?),
            STRONGROOM_KEM_X_WING => KemKey::XWing(x_wing::DecapsulationKey::generate()?),
            _ => return Err(unknown_algorithm()),
        };
        publish_key(key, out)
    })
}

/// Rebuilds a key from its seed, held in a buffer (64 bytes for ML-KEM, 32 for X-Wing). The
/// buffer is left as it is. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_kem_from_seed(
    algorithm: u32,
    seed: strongroom_buffer,
    out: *mut strongroom_kem_key,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        let seed = locked_copy(seed)?;
        let key = match algorithm {
            STRONGROOM_KEM_ML_KEM_768 => KemKey::MlKem768(kem::DecapsulationKey::from_locked(&seed)?),
            STRONGROOM_KEM_X_WING => KemKey::XWing(x_wing::DecapsulationKey::from_locked(&seed)?),
            _ => return Err(unknown_algorithm()),
        };
        publish_key(key, out)
    })
}

/// Exports the key's seed into a new buffer (to store it encrypted). Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_kem_seed(
    key: strongroom_kem_key,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        let seed = handles::with(key.id, |key: &mut Box<KemKey>| {
            let copy = |seed: &[u8]| -> Result<Secret, Failure> {
                let mut secret = Secret::zeroed(seed.len(), 0)?;
                secret.with_mut(|dst| dst.copy_from_slice(seed))?;
                Ok(secret)
            };
            match &**key {
                KemKey::MlKem768(key) => copy(&key.seed()?[..]),
                KemKey::XWing(key) => copy(&key.seed()?[..]),
            }
        })?;
        publish(seed, out)
    })
}

/// Copies the key's public (encapsulation) key into `out` (`*written` = its length).
/// Thread-safe.
///
/// # Safety
/// `out` must be writable for `out_len` bytes; `written` NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_kem_public_key(
    key: strongroom_kem_key,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is writable for `out_len` bytes, `written` NULL or writable (the contract).
        let (out, written) = unsafe { (bytes_mut(out, out_len, "out")?, optional_out(written, "written")?) };
        handles::with(key.id, |key: &mut Box<KemKey>| match &**key {
            KemKey::MlKem768(key) => copy_out(key.encapsulation_key().as_bytes(), out, written),
            KemKey::XWing(key) => copy_out(key.encapsulation_key().as_bytes(), out, written),
        })
    })
}

/// Encapsulates to the public key `public`: writes the ciphertext to `ciphertext`
/// (`*written` = its length) and the shared secret to a new buffer. A public key of the
/// wrong length or form is `STRONGROOM_E_FORMAT`. Thread-safe.
///
/// # Safety
/// `public` must be readable for `public_len` bytes; `ciphertext` writable for
/// `ciphertext_len` bytes; `written` NULL or a writable `size_t`; `shared` NULL or writable
/// for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_kem_encapsulate(
    algorithm: u32,
    public: *const u8,
    public_len: usize,
    ciphertext: *mut u8,
    ciphertext_len: usize,
    written: *mut usize,
    shared: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: each pointer is valid for its length (or NULL) during this call (the contract).
        let (public, ciphertext, written, shared) = unsafe {
            (
                bytes(public, public_len, "public")?,
                bytes_mut(ciphertext, ciphertext_len, "ciphertext")?,
                optional_out(written, "written")?,
                out(shared, "shared")?,
            )
        };
        let (ct, secret) = match algorithm {
            STRONGROOM_KEM_ML_KEM_768 => kem::EncapsulationKey::<MlKem768>::from_bytes(public)?.encapsulate()?,
            STRONGROOM_KEM_X_WING => x_wing::EncapsulationKey::from_bytes(public)?.encapsulate()?,
            _ => return Err(unknown_algorithm()),
        };
        copy_out(&ct, ciphertext, written)?;
        publish_shared(secret, shared)
    })
}

/// Decapsulates `ciphertext` with the key into a new buffer holding the shared secret. A
/// ciphertext of the wrong length is `STRONGROOM_E_FORMAT`; a tampered one gives an
/// unrelated secret (implicit rejection), never an error. Thread-safe.
///
/// # Safety
/// `ciphertext` must be readable for `ciphertext_len` bytes; `shared` NULL or writable for
/// one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_kem_decapsulate(
    key: strongroom_kem_key,
    ciphertext: *const u8,
    ciphertext_len: usize,
    shared: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `ciphertext` is readable for its length, `shared` NULL or writable (the contract).
        let (ciphertext, shared) =
            unsafe { (bytes(ciphertext, ciphertext_len, "ciphertext")?, out(shared, "shared")?) };
        let secret = handles::with(key.id, |key: &mut Box<KemKey>| {
            Ok(match &**key {
                KemKey::MlKem768(key) => key.decapsulate(ciphertext)?,
                KemKey::XWing(key) => key.decapsulate(ciphertext)?,
            })
        })?;
        publish_shared(secret, shared)
    })
}

/// Frees the key, wiping it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_kem_key_destroy(key: strongroom_kem_key) -> strongroom_status {
    call(|| {
        drop(handles::remove::<Box<KemKey>>(key.id)?);
        Ok(())
    })
}
