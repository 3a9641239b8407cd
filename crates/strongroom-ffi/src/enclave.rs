//! Enclaves: a secret kept encrypted under the process key, named by a `strongroom_enclave`.

use std::ffi::{c_int, c_void};

use strongroom::{Enclave, SecretVec};

use crate::boundary::{call, lend, lent, out};
use crate::buffer::{ReadFn, Secret, publish, strongroom_buffer, strongroom_read_fn};
use crate::handles;
use crate::status::strongroom_status;

/// A handle to an enclave. Copying it copies the name, not the secret.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct strongroom_enclave {
    /// The handle's number; 0 is never a live handle.
    pub id: u64,
}

/// Seals the buffer's bytes into a new enclave and destroys the buffer (as memguard's
/// `Seal` does). On failure the buffer is left as it was. Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
///
/// ```c
/// strongroom_enclave sealed;
/// strongroom_enclave_seal(key, &sealed); /* key is gone; its bytes are in `sealed` */
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_enclave_seal(
    buffer: strongroom_buffer,
    out: *mut strongroom_enclave,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        // The enclave is made and published, and the buffer taken, under the buffer's lock:
        // no other thread can destroy or seal the buffer in between (which would leave an
        // enclave nobody holds). Taking a fresh enclave slot meanwhile cannot deadlock: no
        // call waits on a slot that is not yet handed out.
        let (consumed, id) = handles::remove_after(buffer.id, |secret: &mut Secret| {
            // A protected copy to seal from (Enclave::new wipes its source), so the buffer
            // stays whole if sealing fails and a frozen buffer can be sealed too.
            let mut copy = SecretVec::with_capacity(secret.len())?;
            secret.with(|bytes| copy.extend_from_slice(bytes))??;
            let enclave = copy.with_mut(Enclave::new)??;
            handles::insert(enclave)
        })?;
        drop(consumed);
        out.set(strongroom_enclave { id });
        Ok(())
    })
}

/// Decrypts the enclave into a new guarded, frozen buffer. Fails with `STRONGROOM_E_DECRYPT`
/// if its ciphertext was altered and `STRONGROOM_E_DESTROYED` after `strongroom_purge`.
/// Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_enclave_open(
    enclave: strongroom_enclave,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        let opened = handles::with(enclave.id, |enclave: &mut Enclave| Ok(enclave.open()?))?;
        publish(Secret::Guarded(opened), out)
    })
}

/// Decrypts the enclave into pooled protected memory, lends the plaintext to `f` as
/// `strongroom_buffer_with` does, and wipes it when `f` returns: the cheapest way to use an
/// enclave's secret for a moment. Thread-safe.
///
/// # Safety
/// `f` must be a function of this signature that returns normally; `result` must be NULL or
/// point to a writable `int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_enclave_with(
    enclave: strongroom_enclave,
    f: strongroom_read_fn,
    ctx: *mut c_void,
    result: *mut c_int,
) -> strongroom_status {
    let run = |f: ReadFn| {
        handles::with(enclave.id, |enclave: &mut Enclave| {
            // SAFETY: `f` has this signature and returns normally (the contract); the
            // plaintext is valid for `len` bytes until it returns.
            Ok(enclave.with(|bytes| unsafe { f(ctx, lent(bytes), bytes.len()) })?)
        })
    };
    // SAFETY: `result` is NULL or a writable int (this function's contract).
    call(|| unsafe { lend(f, result, run) })
}

/// Writes the length of the enclave's plaintext to `*len`. Thread-safe.
///
/// # Safety
/// `len` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_enclave_len(enclave: strongroom_enclave, len: *mut usize) -> strongroom_status {
    call(|| {
        // SAFETY: `len` is NULL or writable (this function's contract).
        let len = unsafe { out(len, "len") }?;
        len.set(handles::with(enclave.id, |enclave: &mut Enclave| Ok(enclave.size()))?);
        Ok(())
    })
}

/// Frees the enclave (its ciphertext). Destroying it again is `STRONGROOM_E_INVALID_HANDLE`.
/// Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_enclave_destroy(enclave: strongroom_enclave) -> strongroom_status {
    call(|| {
        drop(handles::remove::<Enclave>(enclave.id)?);
        Ok(())
    })
}
