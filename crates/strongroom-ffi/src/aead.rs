//! XChaCha20-Poly1305 with keys in protected memory, named by a `strongroom_aead_key`.

use strongroom::LockedBuffer;
use strongroom::aead::{self, Key, NONCE_LEN, Nonce, TAG_LEN};

use crate::boundary::{bytes, bytes_mut, call, optional_out, out};
use crate::buffer::{Secret, publish, strongroom_buffer};
use crate::handles;
use crate::status::{
    Failure, STRONGROOM_E_BUFFER_TOO_SMALL, STRONGROOM_E_FORMAT, STRONGROOM_E_INVALID_ARGUMENT, strongroom_status,
};

/// A handle to an AEAD key. Copying it copies the name, not the key.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct strongroom_aead_key {
    /// The handle's number; 0 is never a live handle.
    pub id: u64,
}

/// Bytes in an AEAD key.
pub const STRONGROOM_AEAD_KEY_LEN: usize = 32;
/// Bytes [`strongroom_aead_seal`] adds to a plaintext: a 24-byte random nonce in front and a
/// 16-byte tag behind.
pub const STRONGROOM_AEAD_OVERHEAD: usize = 40;

/// Creates a random key. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_aead_key_random(out: *mut strongroom_aead_key) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        out.set(strongroom_aead_key { id: handles::insert(Box::new(Key::random()?))? });
        Ok(())
    })
}

/// Creates a key from a buffer of [`STRONGROOM_AEAD_KEY_LEN`] bytes (a KDF's output, a
/// KEM's shared secret). The buffer is left as it is. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_aead_key_from_buffer(
    buffer: strongroom_buffer,
    out: *mut strongroom_aead_key,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        let key = handles::with(buffer.id, |secret: &mut Secret| {
            if secret.len() != STRONGROOM_AEAD_KEY_LEN {
                return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "an AEAD key is 32 bytes"));
            }
            let mut staged = LockedBuffer::new(STRONGROOM_AEAD_KEY_LEN)?;
            secret.with(|bytes| staged.copy_from(bytes))??;
            Ok(Key::from_locked(&staged)?)
        })?;
        out.set(strongroom_aead_key { id: handles::insert(Box::new(key))? });
        Ok(())
    })
}

/// Frees the key, wiping it. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_aead_key_destroy(key: strongroom_aead_key) -> strongroom_status {
    call(|| {
        drop(handles::remove::<Box<Key>>(key.id)?);
        Ok(())
    })
}

/// Encrypts the buffer's bytes under `key` with a fresh random nonce, authenticating `aad`
/// too, into `out` as `nonce ‖ ciphertext ‖ tag` (the plaintext's length +
/// [`STRONGROOM_AEAD_OVERHEAD`] bytes, written to `*written` if not NULL). `out_len` below
/// that is `STRONGROOM_E_BUFFER_TOO_SMALL`. Thread-safe.
///
/// # Safety
/// `aad` must be NULL (only when `aad_len` is 0) or readable for `aad_len` bytes; `out` must
/// be writable for `out_len` bytes; `written` NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_aead_seal(
    key: strongroom_aead_key,
    plaintext: strongroom_buffer,
    aad: *const u8,
    aad_len: usize,
    out: *mut u8,
    out_len: usize,
    written: *mut usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: each pointer is valid for its length (or NULL) during this call (this
        // function's contract).
        let (aad, out, written) = unsafe {
            (bytes(aad, aad_len, "aad")?, bytes_mut(out, out_len, "out")?, optional_out(written, "written")?)
        };
        // Lock order: the key's slot, then the buffer's (handles.rs).
        let total = handles::with(key.id, |key: &mut Box<Key>| {
            handles::with(plaintext.id, |secret: &mut Secret| {
                let total =
                    secret.len().checked_add(STRONGROOM_AEAD_OVERHEAD).filter(|&n| n <= out_len).ok_or_else(|| {
                        Failure::new(
                            STRONGROOM_E_BUFFER_TOO_SMALL,
                            "out must hold the plaintext + STRONGROOM_AEAD_OVERHEAD bytes",
                        )
                    })?;
                let (nonce_out, body) = out[..total].split_at_mut(NONCE_LEN);
                let nonce = Nonce::random()?;
                nonce_out.copy_from_slice(nonce.as_bytes());
                secret.with(|bytes| aead::seal_into(key, nonce, aad, bytes, body))??;
                Ok(total)
            })
        })?;
        if let Some(written) = written {
            written.set(total);
        }
        Ok(())
    })
}

/// Decrypts `sealed` (`nonce ‖ ciphertext ‖ tag`, as [`strongroom_aead_seal`] writes it)
/// into a new buffer (`flags` as for `strongroom_buffer_new`). Any change to the key, nonce,
/// AAD, ciphertext or tag is `STRONGROOM_E_DECRYPT`, and no buffer is made. Thread-safe.
///
/// # Safety
/// `aad` and `sealed` must be NULL (only with length 0) or readable for their lengths; `out`
/// NULL or writable for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_aead_open(
    key: strongroom_aead_key,
    aad: *const u8,
    aad_len: usize,
    sealed: *const u8,
    sealed_len: usize,
    flags: u32,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: each pointer is valid for its length (or NULL) during this call (this
        // function's contract).
        let (aad, sealed, out) =
            unsafe { (bytes(aad, aad_len, "aad")?, bytes(sealed, sealed_len, "sealed")?, self::out(out, "out")?) };
        if sealed.len() < STRONGROOM_AEAD_OVERHEAD {
            return Err(Failure::new(STRONGROOM_E_FORMAT, "sealed is shorter than a nonce and a tag"));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Failure::new(STRONGROOM_E_FORMAT, "bad nonce"))?;
        let mut plain = Secret::zeroed(body.len() - TAG_LEN, flags)?;
        handles::with(key.id, |key: &mut Box<Key>| {
            let nonce = Nonce::assume_unique_for_key(nonce); // opening: the nonce was used once, to seal
            plain.with_mut(|dst| aead::open_into(key, nonce, aad, body, dst))??;
            Ok(())
        })?;
        publish(plain, out)
    })
}
