//! The C boundary: where every exported function's body runs ([`call`]: panics caught,
//! errors turned into codes) and where raw pointers from C become Rust references, each
//! after a check. The exported functions reach C's memory only through these helpers.

use std::ffi::{CStr, c_char, c_int};
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::status::{
    Failure, STRONGROOM_E_INVALID_ARGUMENT, STRONGROOM_E_NULL_POINTER, STRONGROOM_E_PANIC, STRONGROOM_OK, record,
    strongroom_status,
};

/// What a function body returns: nothing, or the failure to report.
pub(crate) type Outcome = Result<(), Failure>;

/// Runs an exported function's body: a panic never crosses into C (it becomes
/// [`STRONGROOM_E_PANIC`](crate::status::STRONGROOM_E_PANIC)), and a failure is recorded as
/// the thread's last error.
pub(crate) fn call(body: impl FnOnce() -> Outcome) -> strongroom_status {
    // AssertUnwindSafe: after a caught panic, every object reached is still memory-safe (the
    // handle table recovers poisoned slots; secret types wipe on drop whatever state they are
    // in), so observing one half-updated is a logic error at worst, reported as a bug.
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => STRONGROOM_OK,
        Ok(Err(failure)) => record(failure),
        Err(payload) => {
            // Dropping a payload can itself panic: that one is caught too (and its own payload
            // leaked, a few bytes once per double fault).
            if let Err(second) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
                std::mem::forget(second);
            }
            record(Failure::new(
                STRONGROOM_E_PANIC,
                "a panic inside strongroom was caught at the C boundary (a bug: please report it)",
            ))
        }
    }
}

fn null(what: &str) -> Failure {
    Failure::new(STRONGROOM_E_NULL_POINTER, format!("{what} is NULL"))
}

fn check_range(ptr: usize, len: usize, what: &str) -> Outcome {
    // A slice may not span more than isize::MAX bytes, nor wrap around the address space.
    if len > isize::MAX as usize || ptr.checked_add(len).is_none() {
        return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, format!("{what}: the length is out of range")));
    }
    Ok(())
}

/// `len` bytes at `ptr`, read-only. `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// If `ptr` is not NULL, it must point to `len` readable bytes that nothing writes while the
/// returned slice lives (the exported function's call).
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    check_range(ptr as usize, len, what)?;
    // SAFETY: non-NULL, within isize::MAX and the address space (checked above); readable
    // and unaliased by writes for 'a by this function's contract; u8 needs no alignment.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// `len` writable bytes at `ptr`. `ptr` may be NULL only when `len` is 0.
///
/// # Safety
/// If `ptr` is not NULL, it must point to `len` writable bytes that nothing else reads or
/// writes while the returned slice lives (the exported function's call).
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut u8, len: usize, what: &str) -> Result<&'a mut [u8], Failure> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(null(what));
    }
    check_range(ptr as usize, len, what)?;
    // SAFETY: non-NULL and in range (checked above); writable and not otherwise accessed for
    // 'a by this function's contract; u8 needs no alignment.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// An out-parameter: a place the caller gave for one `T`, written once on success.
pub(crate) struct Out<'a, T>(&'a mut MaybeUninit<T>);

impl<T> Out<'_, T> {
    /// Stores the result.
    pub(crate) fn set(self, value: T) {
        self.0.write(value);
    }
}

/// The out-parameter at `ptr`, checked for NULL and alignment before any work is done.
///
/// # Safety
/// If `ptr` is not NULL, it must point to memory valid for writing a `T` that nothing else
/// accesses during the exported function's call.
pub(crate) unsafe fn out<'a, T>(ptr: *mut T, what: &str) -> Result<Out<'a, T>, Failure> {
    if ptr.is_null() {
        return Err(null(what));
    }
    if !ptr.is_aligned() {
        return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, format!("{what} is misaligned")));
    }
    // SAFETY: non-NULL and aligned (checked above), writable and unshared during the call by
    // this function's contract; MaybeUninit<T> has T's layout and asks nothing of the bytes.
    Ok(Out(unsafe { &mut *ptr.cast::<MaybeUninit<T>>() }))
}

/// An optional out-parameter: `None` when `ptr` is NULL.
///
/// # Safety
/// As for [`out`].
pub(crate) unsafe fn optional_out<'a, T>(ptr: *mut T, what: &str) -> Result<Option<Out<'a, T>>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract is out's.
    unsafe { out(ptr, what) }.map(Some)
}

/// A NUL-terminated UTF-8 string at `ptr`.
///
/// # Safety
/// If `ptr` is not NULL, it must point to a NUL-terminated string that stays valid and
/// unmodified during the exported function's call.
pub(crate) unsafe fn text<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL; NUL-terminated, valid and unmodified for 'a by this function's contract.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|_| Failure::new(STRONGROOM_E_INVALID_ARGUMENT, format!("{what} is not UTF-8")))
}

/// A lending call's frame: checks the callback `f` (not NULL) and the optional `result`
/// out-parameter before anything is lent, runs `lend` (which hands the secret to `f`), and
/// stores what `f` returned.
///
/// # Safety
/// As for [`optional_out`], for `result`.
pub(crate) unsafe fn lend<F>(
    f: Option<F>,
    result: *mut c_int,
    lend: impl FnOnce(F) -> Result<c_int, Failure>,
) -> Outcome {
    // SAFETY: the caller's contract is optional_out's.
    let result = unsafe { optional_out(result, "result") }?;
    let f = f.ok_or_else(|| null("f"))?;
    let returned = lend(f)?;
    if let Some(result) = result {
        result.set(returned);
    }
    Ok(())
}

/// The pointer a callback gets: NULL for an empty secret (Rust's dangling pointer for an
/// empty slice is no address a C or Go caller should see).
pub(crate) fn lent(bytes: &[u8]) -> *const u8 {
    if bytes.is_empty() { std::ptr::null() } else { bytes.as_ptr() }
}

/// As [`lent`], writable.
pub(crate) fn lent_mut(bytes: &mut [u8]) -> *mut u8 {
    if bytes.is_empty() { std::ptr::null_mut() } else { bytes.as_mut_ptr() }
}
