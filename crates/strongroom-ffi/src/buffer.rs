//! Buffers: a secret of fixed length in protected memory, named by a `strongroom_buffer`.
//!
//! Small buffers live in the pool (as `SecretBox` does: locked or `memfd_secret` pages, out of
//! dumps and forked children, a canary checked on free); large ones, and any created with
//! [`STRONGROOM_BUFFER_GUARDED`], get a guarded region of their own (guard pages both sides,
//! and [`strongroom_buffer_freeze`] / [`strongroom_buffer_melt`]).

use std::ffi::{c_int, c_void};

use strongroom::{ForkSafety, LockedBuffer, Protections, SecretVec};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::boundary::{Outcome, bytes, bytes_mut, call, lend, lent, lent_mut, out};
use crate::handles;
use crate::status::{Failure, STRONGROOM_E_INVALID_ARGUMENT, STRONGROOM_E_UNSUPPORTED, strongroom_status};

/// A handle to a buffer. Copying it copies the name, not the secret; after
/// [`strongroom_buffer_destroy`] every copy is dead (calls get `STRONGROOM_E_INVALID_HANDLE`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct strongroom_buffer {
    /// The handle's number; 0 is never a live handle.
    pub id: u64,
}

/// Flag: give the buffer its own guarded region (guard pages, freeze and melt) whatever its
/// size. Without it, buffers up to 2 KiB come from the pool.
pub const STRONGROOM_BUFFER_GUARDED: u32 = 1;

/// Protection bit: the pages cannot be swapped out (mlock, or memfd_secret).
pub const STRONGROOM_PROTECTION_LOCKED: u32 = 1;
/// Protection bit: backed by memfd_secret, out of the kernel's direct map (unreadable through
/// /proc/PID/mem, process_vm_readv, ptrace and core dumps, even for root).
pub const STRONGROOM_PROTECTION_SECRET_MEMORY: u32 = 1 << 1;
/// Protection bit: excluded from core dumps.
pub const STRONGROOM_PROTECTION_DUMP_EXCLUDED: u32 = 1 << 2;
/// Protection bit: a forked child sees zeros or nothing (or cannot fork at all).
pub const STRONGROOM_PROTECTION_FORK_SAFE: u32 = 1 << 3;
/// Protection bit: guard pages on both sides.
pub const STRONGROOM_PROTECTION_GUARD_PAGES: u32 = 1 << 4;
/// Protection bit: a canary is checked on free.
pub const STRONGROOM_PROTECTION_CANARY: u32 = 1 << 5;
/// Protection bit: frozen (read-only) now.
pub const STRONGROOM_PROTECTION_FROZEN: u32 = 1 << 6;

/// Lends a secret's bytes to a callback for reading: `data` and `len` are valid only during
/// the call (`data` is NULL when `len` is 0). The return value is handed back to the caller
/// of the lending function.
#[allow(non_camel_case_types)]
pub type strongroom_read_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, data: *const u8, len: usize) -> c_int>;

/// Lends a secret's bytes to a callback for reading and writing: `data` and `len` are valid
/// only during the call (`data` is NULL when `len` is 0).
#[allow(non_camel_case_types)]
pub type strongroom_write_fn = Option<unsafe extern "C" fn(ctx: *mut c_void, data: *mut u8, len: usize) -> c_int>;

/// The functions the two callback types hold (cbindgen.toml keeps these out of the header).
pub(crate) type ReadFn = unsafe extern "C" fn(ctx: *mut c_void, data: *const u8, len: usize) -> c_int;
type WriteFn = unsafe extern "C" fn(ctx: *mut c_void, data: *mut u8, len: usize) -> c_int;

/// A buffer's storage.
pub(crate) enum Secret {
    /// In the pool when small (up to 2 KiB), in a guarded region beyond.
    Pooled(SecretVec<u8>),
    /// In a guarded region of its own, which can be frozen.
    Guarded(LockedBuffer),
}

// Zeros to extend from: one call per 4 KiB (each `extend_from_slice` opens the vector once).
const ZEROS: [u8; 4096] = [0; 4096];

impl Secret {
    /// `len` zero bytes, pooled when small unless `flags` ask for a guarded region.
    pub(crate) fn zeroed(len: usize, flags: u32) -> Result<Secret, Failure> {
        if flags & !STRONGROOM_BUFFER_GUARDED != 0 {
            return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "unknown buffer flags"));
        }
        if flags & STRONGROOM_BUFFER_GUARDED != 0 {
            return Ok(Secret::Guarded(LockedBuffer::new(len)?));
        }
        let mut vec = SecretVec::with_capacity(len)?;
        let mut filled = 0; // counted here: each `vec.len()` is a borrow of the secret
        while filled < len {
            let more = ZEROS.len().min(len - filled);
            vec.extend_from_slice(&ZEROS[..more])?;
            filled += more;
        }
        Ok(Secret::Pooled(vec))
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Secret::Pooled(vec) => vec.len(),
            Secret::Guarded(buffer) => buffer.len(),
        }
    }

    /// Runs `f` on the bytes.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R, Failure> {
        Ok(match self {
            Secret::Pooled(vec) => vec.with(f)?,
            Secret::Guarded(buffer) => buffer.with(f)?,
        })
    }

    /// Runs `f` on the bytes, writable (an error if frozen).
    pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> Result<R, Failure> {
        Ok(match self {
            Secret::Pooled(vec) => vec.with_mut(f)?,
            Secret::Guarded(buffer) => buffer.with_mut(f)?,
        })
    }

    fn guarded(&mut self) -> Result<&mut LockedBuffer, Failure> {
        match self {
            Secret::Guarded(buffer) => Ok(buffer),
            Secret::Pooled(_) => Err(Failure::new(
                STRONGROOM_E_UNSUPPORTED,
                "a pooled buffer shares its pages and cannot be frozen; create it with STRONGROOM_BUFFER_GUARDED",
            )),
        }
    }

    fn protections(&self) -> u32 {
        let (got, frozen) = match self {
            Secret::Pooled(vec) => (vec.protections(), false),
            Secret::Guarded(buffer) => (Some(buffer.protections()), buffer.is_frozen()),
        };
        let Some(got) = got else { return 0 };
        let Protections { locked, secret_memory, dump_excluded, fork, guard_pages, canary } = got;
        let fork_safe = !matches!(fork, ForkSafety::Inherited);
        [
            (locked, STRONGROOM_PROTECTION_LOCKED),
            (secret_memory, STRONGROOM_PROTECTION_SECRET_MEMORY),
            (dump_excluded, STRONGROOM_PROTECTION_DUMP_EXCLUDED),
            (fork_safe, STRONGROOM_PROTECTION_FORK_SAFE),
            (guard_pages, STRONGROOM_PROTECTION_GUARD_PAGES),
            (canary, STRONGROOM_PROTECTION_CANARY),
            (frozen, STRONGROOM_PROTECTION_FROZEN),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(0, |bits, (_, bit)| bits | bit)
    }
}

/// Puts a new secret in the table and writes its handle.
pub(crate) fn publish(secret: Secret, out: crate::boundary::Out<'_, strongroom_buffer>) -> Outcome {
    out.set(strongroom_buffer { id: handles::insert(secret)? });
    Ok(())
}

fn range(offset: usize, count: usize, len: usize) -> Result<std::ops::Range<usize>, Failure> {
    match offset.checked_add(count) {
        Some(end) if end <= len => Ok(offset..end),
        _ => Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "offset + count is past the end of the buffer")),
    }
}

/// Creates a buffer of `len` zero bytes. `flags`: 0, or [`STRONGROOM_BUFFER_GUARDED`].
/// Thread-safe.
///
/// # Safety
/// `out` must be NULL or point to writable memory for one handle.
///
/// ```c
/// strongroom_buffer key;
/// if (strongroom_buffer_new(32, 0, &key) != STRONGROOM_OK) { /* see strongroom_last_error() */ }
/// strongroom_buffer_destroy(key);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_new(
    len: usize,
    flags: u32,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        publish(Secret::zeroed(len, flags)?, out)
    })
}

/// Creates a buffer of `len` bytes from the system's random generator, drawn straight into
/// protected memory. Thread-safe.
///
/// # Safety
/// As for [`strongroom_buffer_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_random(
    len: usize,
    flags: u32,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `out` is NULL or writable for one handle (this function's contract).
        let out = unsafe { self::out(out, "out") }?;
        let mut secret = Secret::zeroed(len, flags)?;
        // getrandom(2) writes straight into the protected bytes, pooled or guarded.
        secret.with_mut(getrandom::fill)?.map_err(|e| {
            Failure::new(crate::status::STRONGROOM_E_OS, format!("the system random generator failed: {e}"))
        })?;
        publish(secret, out)
    })
}

/// Creates a buffer holding a copy of `len` bytes at `src`, then wipes `src` (also on
/// failure, so the plaintext is never left behind). Thread-safe.
///
/// # Safety
/// `src` must be NULL (only when `len` is 0) or point to `len` writable bytes; `out` as for
/// [`strongroom_buffer_new`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_from_bytes(
    src: *mut u8,
    len: usize,
    flags: u32,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `src` is writable for `len` bytes and `out` for one handle during this call
        // (this function's contract).
        let (src, out) = unsafe { (bytes_mut(src, len, "src")?, self::out(out, "out")?) };
        let made = Secret::zeroed(len, flags).and_then(|mut secret| {
            secret.with_mut(|dst| dst.copy_from_slice(src))?;
            Ok(secret)
        });
        src.zeroize();
        publish(made?, out)
    })
}

/// Writes the buffer's length to `*len`. Thread-safe.
///
/// # Safety
/// `len` must be NULL or point to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_len(buffer: strongroom_buffer, len: *mut usize) -> strongroom_status {
    call(|| {
        // SAFETY: `len` is NULL or writable (this function's contract).
        let len = unsafe { out(len, "len") }?;
        len.set(handles::with(buffer.id, |secret: &mut Secret| Ok(secret.len()))?);
        Ok(())
    })
}

/// Copies `count` bytes from offset `offset` of the buffer into `dst`. The copy is the
/// caller's to protect and wipe: prefer [`strongroom_buffer_with`]. Thread-safe.
///
/// # Safety
/// `dst` must be NULL (only when `count` is 0) or point to `count` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_read(
    buffer: strongroom_buffer,
    offset: usize,
    dst: *mut u8,
    count: usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: `dst` is writable for `count` bytes during this call (this function's contract).
        let dst = unsafe { bytes_mut(dst, count, "dst") }?;
        handles::with(buffer.id, |secret: &mut Secret| {
            // The range is checked inside: a purged secret is an error of its own.
            secret.with(|bytes| {
                let at = range(offset, count, bytes.len())?;
                dst.copy_from_slice(&bytes[at]);
                Ok(())
            })?
        })
    })
}

/// Copies `count` bytes from `src` into the buffer at offset `offset`. Fails with
/// `STRONGROOM_E_FROZEN` on a frozen buffer. `src` is left as it is. Thread-safe.
///
/// # Safety
/// `src` must be NULL (only when `count` is 0) or point to `count` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_write(
    buffer: strongroom_buffer,
    offset: usize,
    src: *const u8,
    count: usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: `src` is readable for `count` bytes during this call (this function's contract).
        let src = unsafe { bytes(src, count, "src") }?;
        handles::with(buffer.id, |secret: &mut Secret| {
            secret.with_mut(|bytes| {
                let at = range(offset, count, bytes.len())?;
                bytes[at].copy_from_slice(src);
                Ok(())
            })?
        })
    })
}

/// Lends the buffer's bytes to `f` for reading, without copying them: `f(ctx, data, len)`
/// runs once, and `data` is valid only until it returns. `f`'s return value goes to
/// `*result` (if `result` is not NULL). Calls from `f` on this same buffer get
/// `STRONGROOM_E_BUSY`; other threads' calls on it wait until `f` returns.
///
/// # Safety
/// `f` must be a function of this signature that returns normally (no `longjmp`, no
/// exception through this frame); `result` must be NULL or point to a writable `int`.
///
/// ```c
/// static int check(void *ctx, const uint8_t *data, size_t len) { return len == 32; }
/// int ok = 0;
/// strongroom_buffer_with(key, check, NULL, &ok);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_with(
    buffer: strongroom_buffer,
    f: strongroom_read_fn,
    ctx: *mut c_void,
    result: *mut c_int,
) -> strongroom_status {
    let run = |f: ReadFn| {
        handles::with(buffer.id, |secret: &mut Secret| {
            // SAFETY: `f` has this signature and returns normally (the contract); `data` is
            // valid for `len` bytes until it returns, as the slot stays locked meanwhile.
            secret.with(|bytes| unsafe { f(ctx, lent(bytes), bytes.len()) })
        })
    };
    // SAFETY: `result` is NULL or a writable int (this function's contract).
    call(|| unsafe { lend(f, result, run) })
}

/// Lends the buffer's bytes to `f` for reading and writing, as [`strongroom_buffer_with`]
/// does. Fails with `STRONGROOM_E_FROZEN` (and `f` does not run) on a frozen buffer.
///
/// # Safety
/// As for [`strongroom_buffer_with`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_with_mut(
    buffer: strongroom_buffer,
    f: strongroom_write_fn,
    ctx: *mut c_void,
    result: *mut c_int,
) -> strongroom_status {
    let run = |f: WriteFn| {
        handles::with(buffer.id, |secret: &mut Secret| {
            // SAFETY: as in strongroom_buffer_with, and the bytes are writable and lent to
            // nobody else while the slot is locked.
            secret.with_mut(|bytes| unsafe { f(ctx, lent_mut(bytes), bytes.len()) })
        })
    };
    // SAFETY: `result` is NULL or a writable int (this function's contract).
    call(|| unsafe { lend(f, result, run) })
}

/// Makes a guarded buffer read-only (a stray write faults). A pooled buffer cannot be
/// frozen: `STRONGROOM_E_UNSUPPORTED`. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_buffer_freeze(buffer: strongroom_buffer) -> strongroom_status {
    call(|| handles::with(buffer.id, |secret: &mut Secret| Ok(secret.guarded()?.freeze()?)))
}

/// Makes a frozen buffer writable again. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_buffer_melt(buffer: strongroom_buffer) -> strongroom_status {
    call(|| handles::with(buffer.id, |secret: &mut Secret| Ok(secret.guarded()?.melt()?)))
}

/// Compares the buffer with `len` bytes at `other` in constant time (for equal lengths) and
/// writes 1 (equal) or 0 to `*equal`. Thread-safe.
///
/// # Safety
/// `other` must be NULL (only when `len` is 0) or point to `len` readable bytes; `equal`
/// must point to a writable `int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_ct_eq(
    buffer: strongroom_buffer,
    other: *const u8,
    len: usize,
    equal: *mut c_int,
) -> strongroom_status {
    call(|| {
        // SAFETY: `other` is readable for `len` bytes, `equal` writable (this function's contract).
        let (other, equal) = unsafe { (bytes(other, len, "other")?, out(equal, "equal")?) };
        let same = handles::with(buffer.id, |secret: &mut Secret| secret.with(|bytes| bool::from(bytes.ct_eq(other))))?;
        equal.set(c_int::from(same));
        Ok(())
    })
}

/// Writes the `STRONGROOM_PROTECTION_*` bits the buffer really got to `*bits`.
/// Thread-safe.
///
/// # Safety
/// `bits` must point to a writable `uint32_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_buffer_protections(buffer: strongroom_buffer, bits: *mut u32) -> strongroom_status {
    call(|| {
        // SAFETY: `bits` is NULL or writable (this function's contract).
        let bits = unsafe { out(bits, "bits") }?;
        bits.set(handles::with(buffer.id, |secret: &mut Secret| Ok(secret.protections()))?);
        Ok(())
    })
}

/// Wipes and frees the buffer. Every copy of the handle is dead afterwards; destroying it
/// again is `STRONGROOM_E_INVALID_HANDLE`, never undefined behaviour. Thread-safe (waits for
/// other threads' calls on the buffer to finish).
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_buffer_destroy(buffer: strongroom_buffer) -> strongroom_status {
    call(|| {
        drop(handles::remove::<Secret>(buffer.id)?);
        Ok(())
    })
}
