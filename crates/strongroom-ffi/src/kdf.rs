//! The KDF: a passphrase to a 32-byte key (Argon2id, then SHA3-256 rounds).

use strongroom::LockedBuffer;
use strongroom::kdf::{KdfParams, derive_key_combined};

use crate::boundary::{bytes, call, out};
use crate::buffer::{Secret, publish, strongroom_buffer};
use crate::handles;
use crate::status::strongroom_status;

/// The cost of a derivation. [`strongroom_kdf_params_default`] gives the defaults (64 MiB,
/// 3 passes, 1000 rounds).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct strongroom_kdf_params {
    /// Argon2id memory in KiB (at most 1 GiB).
    pub memory_kib: u32,
    /// Argon2id passes (at most 16).
    pub iterations: u32,
    /// SHA3-256 rounds after Argon2id (at most 10,000,000).
    pub rounds: u64,
}

/// The default KDF parameters. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_kdf_params_default() -> strongroom_kdf_params {
    let KdfParams { memory_kib, iterations, rounds } = KdfParams::DEFAULT;
    strongroom_kdf_params { memory_kib, iterations, rounds }
}

/// Derives a 32-byte key from the passphrase in a buffer and `salt` (8 to 64 bytes) into a
/// new guarded, frozen buffer. `params` NULL means the defaults; parameters beyond the limits,
/// and a salt shorter than 8 or longer than 64 bytes, are `STRONGROOM_E_LIMIT`, refused before
/// any work. The passphrase buffer is left as it
/// is. Thread-safe; the derivation takes its time and memory (64 MiB by default).
///
/// # Safety
/// `salt` must be readable for `salt_len` bytes; `params` NULL or readable; `out` NULL or
/// writable for one handle.
///
/// ```c
/// strongroom_buffer key;
/// strongroom_kdf_derive(passphrase, salt, 16, NULL, &key);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_kdf_derive(
    passphrase: strongroom_buffer,
    salt: *const u8,
    salt_len: usize,
    params: *const strongroom_kdf_params,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `salt` is readable for `salt_len` bytes, `out` NULL or writable (this
        // function's contract).
        let (salt, out) = unsafe { (bytes(salt, salt_len, "salt")?, self::out(out, "out")?) };
        let params = if params.is_null() {
            KdfParams::DEFAULT
        } else {
            // SAFETY: non-NULL, so readable for one strongroom_kdf_params (the contract);
            // read_unaligned asks nothing of alignment, and every bit pattern is valid.
            let p = unsafe { params.read_unaligned() };
            KdfParams { memory_kib: p.memory_kib, iterations: p.iterations, rounds: p.rounds }
        };
        let derived = handles::with(passphrase.id, |secret: &mut Secret| {
            Ok(secret.with(|pass| derive_key_combined(pass, salt, &params))??)
        })?;
        publish(Secret::Guarded(derived.key), out)
    })
}

/// Copies a buffer's bytes into a new LockedBuffer (for library calls that take one).
pub(crate) fn locked_copy(buffer: strongroom_buffer) -> Result<LockedBuffer, crate::status::Failure> {
    handles::with(buffer.id, |secret: &mut Secret| {
        let mut copy = LockedBuffer::new(secret.len())?;
        secret.with(|bytes| copy.copy_from(bytes))??;
        Ok(copy)
    })
}
