//! Status codes, their messages, and the calling thread's last error.
//!
//! Every function returns a `strongroom_status`: [`STRONGROOM_OK`] (0) or a negative code.
//! [`strongroom_strerror`] names a code; [`strongroom_last_error`] says what went wrong in
//! the calling thread's last failed call, in words that never contain secret bytes or a
//! secret's length (a lock-limit message gives the limit, not the size asked for).

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};

use strongroom::Error;

/// What every function returns: [`STRONGROOM_OK`] or one of the negative `STRONGROOM_E_*`
/// codes.
#[allow(non_camel_case_types)]
pub type strongroom_status = i32;

/// Success.
pub const STRONGROOM_OK: strongroom_status = 0;
/// A required pointer argument was NULL.
pub const STRONGROOM_E_NULL_POINTER: strongroom_status = -1;
/// An argument is out of range: a length, an offset, a flag, an algorithm.
pub const STRONGROOM_E_INVALID_ARGUMENT: strongroom_status = -2;
/// The caller's output buffer is too small; the required size is in the function's docs.
pub const STRONGROOM_E_BUFFER_TOO_SMALL: strongroom_status = -3;
/// The handle was destroyed, or never existed.
pub const STRONGROOM_E_INVALID_HANDLE: strongroom_status = -4;
/// The handle is live but names another kind of object (an enclave where a buffer was due).
pub const STRONGROOM_E_WRONG_HANDLE_TYPE: strongroom_status = -5;
/// The handle is in use by this thread: a callback called back into its own handle.
pub const STRONGROOM_E_BUSY: strongroom_status = -6;
/// Locking the memory would exceed `RLIMIT_MEMLOCK`.
pub const STRONGROOM_E_LOCK_LIMIT: strongroom_status = -7;
/// A protection the policy requires is not available here, or the operation does not apply
/// to this object (freezing a pooled buffer).
pub const STRONGROOM_E_UNSUPPORTED: strongroom_status = -8;
/// Not enough memory (or address space) for the request.
pub const STRONGROOM_E_OUT_OF_MEMORY: strongroom_status = -9;
/// The secret was wiped by `strongroom_purge`, or lost in a forked child.
pub const STRONGROOM_E_DESTROYED: strongroom_status = -10;
/// The buffer is frozen (read-only); melt it first.
pub const STRONGROOM_E_FROZEN: strongroom_status = -11;
/// Decryption failed: wrong key or passphrase, or the data was altered or truncated.
pub const STRONGROOM_E_DECRYPT: strongroom_status = -12;
/// The input (a key, a ciphertext, a file) is malformed.
pub const STRONGROOM_E_FORMAT: strongroom_status = -13;
/// The signature does not verify.
pub const STRONGROOM_E_BAD_SIGNATURE: strongroom_status = -14;
/// A KDF or file parameter asks for more than its limit (or less than its minimum).
pub const STRONGROOM_E_LIMIT: strongroom_status = -15;
/// No identity or passphrase given matches the file.
pub const STRONGROOM_E_NO_IDENTITY: strongroom_status = -16;
/// Reading or writing a file descriptor failed.
pub const STRONGROOM_E_IO: strongroom_status = -17;
/// The operating system refused a memory operation, or its random generator failed.
pub const STRONGROOM_E_OS: strongroom_status = -18;
/// A panic inside the library was caught at the boundary (a bug: please report it). The
/// library stays usable.
pub const STRONGROOM_E_PANIC: strongroom_status = -19;
/// An internal error (a bug: please report it).
pub const STRONGROOM_E_INTERNAL: strongroom_status = -20;
/// Every live handle is taken (16,777,216 at once).
pub const STRONGROOM_E_TOO_MANY_HANDLES: strongroom_status = -21;

/// A failed call: its status code and the message [`strongroom_last_error`] gives.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: strongroom_status,
    pub(crate) message: String,
}

impl Failure {
    /// A failure with a message of the boundary's own (a bad argument).
    pub(crate) fn new(status: strongroom_status, message: impl Into<String>) -> Self {
        Failure { status, message: message.into() }
    }
}

impl From<Error> for Failure {
    /// Maps a library error to its code. The message is the library's own, except where
    /// that names a secret's size (lock limits, memory, length mismatches): those get words
    /// without the figure.
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::LockLimit { .. } => STRONGROOM_E_LOCK_LIMIT,
            Error::Unsupported(_) => STRONGROOM_E_UNSUPPORTED,
            Error::TooLarge | Error::MoreThanMemory { .. } => STRONGROOM_E_OUT_OF_MEMORY,
            Error::Os { source, .. } if source.kind() == std::io::ErrorKind::OutOfMemory => STRONGROOM_E_OUT_OF_MEMORY,
            Error::Destroyed | Error::LostToFork => STRONGROOM_E_DESTROYED,
            Error::Frozen => STRONGROOM_E_FROZEN,
            Error::Crypto => STRONGROOM_E_DECRYPT,
            Error::Format(_) | Error::InvalidUtf8 => STRONGROOM_E_FORMAT,
            Error::InvalidSignature => STRONGROOM_E_BAD_SIGNATURE,
            Error::LimitExceeded { .. } | Error::BelowMinimum { .. } => STRONGROOM_E_LIMIT,
            Error::NoMatchingIdentity => STRONGROOM_E_NO_IDENTITY,
            Error::Io(_) | Error::NoTerminal(_) => STRONGROOM_E_IO,
            Error::Os { .. } | Error::Random(_) => STRONGROOM_E_OS,
            Error::OutOfRange
            | Error::LengthMismatch { .. }
            | Error::InvalidParameters(_)
            | Error::ApiMisuse(_)
            | Error::ContextTooLong { .. } => STRONGROOM_E_INVALID_ARGUMENT,
            _ => STRONGROOM_E_INTERNAL,
        };
        let message = match &error {
            Error::LockLimit { limit, .. } => format!(
                "locking this secret would exceed RLIMIT_MEMLOCK ({}); raise the limit (ulimit -l, \
                 LimitMEMLOCK= in systemd), grant CAP_IPC_LOCK, or hold fewer secrets",
                limit.map_or("unlimited or unknown".to_string(), |l| format!("{l} bytes"))
            ),
            Error::TooLarge | Error::MoreThanMemory { .. } => {
                "the requested size is more than this process may map or keep in RAM".to_string()
            }
            Error::LengthMismatch { .. } => "the source and destination lengths differ".to_string(),
            Error::ContextTooLong { .. } => "a signature context is at most 255 bytes".to_string(),
            other => other.to_string(),
        };
        Failure { status, message }
    }
}

thread_local! {
    /// The calling thread's last failure message, NUL-terminated for C.
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Records `failure` as this thread's last error and returns its code.
pub(crate) fn record(failure: Failure) -> strongroom_status {
    // A message with an interior NUL (none of ours has one) is cut there.
    let bytes: Vec<u8> = failure.message.into_bytes().into_iter().take_while(|&b| b != 0).collect();
    let message = CString::new(bytes).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = Some(message));
    failure.status
}

/// The name and meaning of a status code, as a static NUL-terminated string. Unknown codes
/// give "unknown status code". Thread-safe; never NULL.
///
/// ```c
/// puts(strongroom_strerror(STRONGROOM_E_FROZEN)); /* "the buffer is frozen (read-only)..." */
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_strerror(status: strongroom_status) -> *const c_char {
    let text: &'static CStr = match status {
        STRONGROOM_OK => c"success",
        STRONGROOM_E_NULL_POINTER => c"a required pointer argument was NULL",
        STRONGROOM_E_INVALID_ARGUMENT => c"an argument is out of range (a length, offset, flag or algorithm)",
        STRONGROOM_E_BUFFER_TOO_SMALL => c"the output buffer is too small",
        STRONGROOM_E_INVALID_HANDLE => c"the handle was destroyed, or never existed",
        STRONGROOM_E_WRONG_HANDLE_TYPE => c"the handle names another kind of object",
        STRONGROOM_E_BUSY => c"the handle is in use by this thread (a callback called back into it)",
        STRONGROOM_E_LOCK_LIMIT => c"locking the memory would exceed RLIMIT_MEMLOCK",
        STRONGROOM_E_UNSUPPORTED => c"a required protection is not available here, or the operation does not apply",
        STRONGROOM_E_OUT_OF_MEMORY => c"not enough memory or address space",
        STRONGROOM_E_DESTROYED => c"the secret was purged, or lost in a forked child",
        STRONGROOM_E_FROZEN => c"the buffer is frozen (read-only); melt it first",
        STRONGROOM_E_DECRYPT => c"decryption failed: wrong key, or the data was altered or truncated",
        STRONGROOM_E_FORMAT => c"the input is malformed",
        STRONGROOM_E_BAD_SIGNATURE => c"the signature does not verify",
        STRONGROOM_E_LIMIT => c"a parameter exceeds its limit",
        STRONGROOM_E_NO_IDENTITY => c"no identity or passphrase given matches the file",
        STRONGROOM_E_IO => c"reading or writing failed",
        STRONGROOM_E_OS => c"the operating system refused a memory operation or random bytes",
        STRONGROOM_E_PANIC => c"a panic inside strongroom was caught (a bug: please report it)",
        STRONGROOM_E_INTERNAL => c"internal error (a bug: please report it)",
        STRONGROOM_E_TOO_MANY_HANDLES => c"every handle is taken",
        _ => c"unknown status code",
    };
    text.as_ptr()
}

/// What went wrong in the calling thread's last failed call, as a NUL-terminated string
/// ("" before any failure). It stays valid until this thread's next failing call; copy it to
/// keep it. Successful calls leave it unchanged. Never NULL; never contains secret bytes or
/// sizes.
///
/// ```c
/// if (strongroom_buffer_freeze(b) != STRONGROOM_OK) fprintf(stderr, "%s\n", strongroom_last_error());
/// ```
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_last_error() -> *const c_char {
    // The pointer stays valid after `with` returns: the CString's heap buffer lives in this
    // thread's slot until the next `record` replaces it, which the contract above states.
    LAST_ERROR.with(|last| last.borrow().as_deref().unwrap_or(c"").as_ptr())
}
