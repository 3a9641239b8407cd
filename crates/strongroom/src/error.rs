//! The one error type of strongroom.
//!
//! Every variant names something the caller can act on. None of them carries secret bytes;
//! sizes appear only where they are the caller's own request (an allocation size, a limit).
//! Memory corruption is not here: a broken canary aborts the process (see [`crate::LockedBuffer`]).

use std::fmt;
use std::io;

use crate::policy::Protection;

/// Shorthand for `Result<T, strongroom::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in strongroom, short of memory corruption.
///
/// ```
/// use strongroom::{Error, LockedBuffer};
///
/// match LockedBuffer::new(usize::MAX) {
///     Err(Error::TooLarge) => {} // a size that would overflow is refused, never wrapped
///     other => panic!("unexpected: {other:?}"),
/// }
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Locking `needed` more bytes would exceed `RLIMIT_MEMLOCK`.
    ///
    /// Raise the limit (`ulimit -l`, `LimitMEMLOCK=` in systemd, `memlock` in
    /// `/etc/security/limits.conf`), grant `CAP_IPC_LOCK`, hold fewer secrets, or choose a
    /// [`Policy`](crate::Policy) that accepts unlocked memory.
    #[error("{}", lock_limit_message(*needed, *limit, *locked))]
    LockLimit {
        /// Bytes the failed request tried to lock.
        needed: usize,
        /// The `RLIMIT_MEMLOCK` soft limit in bytes (`None`: unlimited or unknown).
        limit: Option<u64>,
        /// Bytes the process had locked already, where the OS reports it.
        locked: Option<u64>,
    },

    /// The policy requires a protection this platform or kernel cannot give. The message
    /// names the [`Policy`](crate::Policy) field that would accept going without it.
    #[error(
        "{0} is required by the policy but not available here; to accept running without it, \
         set `Policy {{ {field}: Need::Preferred, ..Policy::default() }}`",
        field = .0.policy_field()
    )]
    Unsupported(Protection),

    /// The requested size overflows the address space once guard pages and canaries are added.
    #[error("the requested size is too large to map")]
    TooLarge,

    /// The secret was destroyed (or purged); its memory is gone.
    #[error("the secret has been destroyed")]
    Destroyed,

    /// This is a forked child and the secret was created before the fork: the kernel wiped
    /// or withheld its pages in the child, by design.
    #[error("the secret does not exist in this forked child (its pages were wiped or withheld at fork)")]
    LostToFork,

    /// An index (a character position in a [`SecretString`](crate::SecretString), an element
    /// of a [`SecretVec`](crate::SecretVec)) lies past the end.
    #[error("index out of range")]
    OutOfRange,

    /// Bytes that must be UTF-8 (a passphrase read into a `SecretString`) are not.
    #[error("the text is not valid UTF-8")]
    InvalidUtf8,

    /// Reading input (a passphrase from the terminal) failed.
    #[error("reading input failed: {0}")]
    Io(#[source] io::Error),

    /// The buffer is frozen (read-only); melt it before writing.
    #[error("the buffer is frozen (read-only); melt it first")]
    Frozen,

    /// A copy's source and destination differ in length.
    #[error("length mismatch: the destination holds {expected} bytes, the source has {actual}")]
    LengthMismatch {
        /// Length of the destination.
        expected: usize,
        /// Length of the source.
        actual: usize,
    },

    /// The operating system refused a memory operation.
    #[error("{op} failed: {source}")]
    Os {
        /// What was attempted (`"mmap"`, `"mprotect"`, ...).
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// Decryption failed: the key is wrong, or the data (nonce, header, ciphertext or tag)
    /// was changed. Nothing was released.
    #[error("decryption failed: wrong key, or the data was altered or truncated")]
    Crypto,

    /// Input is malformed; [`FormatError`] says how. Nothing was released.
    #[error("malformed input: {0}")]
    Format(FormatError),

    /// Parameters (e.g. a KDF's memory or iteration counts) are invalid or beyond the limits;
    /// refused before any work is done.
    #[error("invalid parameters: {0}")]
    InvalidParameters(&'static str),

    /// The caller broke an API contract (an output buffer of the wrong length, an alignment
    /// larger than a page): a bug in the calling code, not in the input data.
    #[error("API misuse: {0}")]
    ApiMisuse(&'static str),

    /// An internal invariant of strongroom broke, or a primitive library failed in a way it
    /// documents as impossible. Please report it, with the message.
    #[error("internal error (please report this as a strongroom bug): {0}")]
    Internal(&'static str),

    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(#[source] io::Error),
}

/// Why input was refused as malformed: a cause a caller can match on.
///
/// ```
/// use std::io::Cursor;
/// use strongroom::{Error, FormatError, aead::Key, stream::Decryptor};
///
/// let key = Key::random()?;
/// match Decryptor::new(&key, Cursor::new([b'x'; 64])) {
///     Err(Error::Format(FormatError::NotAStream)) => {}
///     Err(other) => panic!("unexpected error: {other:?}"),
///     Ok(_) => panic!("garbage was accepted"),
/// }
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The input ends before a complete header (or, for sealed data, before its nonce and tag).
    #[error("the input is too short to hold a header")]
    TooShort,
    /// The input does not start with the magic bytes of the expected format.
    #[error("not a strongroom stream (wrong magic bytes)")]
    NotAStream,
    /// The header names a version this build does not read.
    #[error("unsupported format version")]
    UnsupportedVersion,
    /// A header parameter is out of the accepted range (e.g. a stream's chunk size).
    #[error("a header parameter is out of range")]
    ParameterOutOfRange,
    /// The data ends before its final, authenticated chunk: it was truncated.
    #[error("the data is truncated (its final chunk is missing)")]
    Truncated,
    /// The data runs past the longest length the format can authenticate.
    #[error("the data is longer than the format allows")]
    TooLong,
}

fn lock_limit_message(needed: usize, limit: Option<u64>, locked: Option<u64>) -> String {
    let mut msg = format!("cannot lock {} more into memory", Bytes(needed as u64));
    match limit {
        Some(limit) => msg += &format!(": RLIMIT_MEMLOCK is {}", Bytes(limit)),
        None => msg += ": the kernel refused although RLIMIT_MEMLOCK reads as unlimited",
    }
    if let Some(locked) = locked {
        msg += &format!(" and {} is locked already", Bytes(locked));
    }
    msg + "; raise `ulimit -l` (or LimitMEMLOCK=), grant CAP_IPC_LOCK, or accept unlocked memory where the API takes a Policy: `Policy { lock: Need::Preferred, ..Policy::default() }`"
}

/// A byte count printed the way people read them: `8 MiB (8388608 bytes)`.
pub(crate) struct Bytes(pub(crate) u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
        for (unit, size) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{} {unit} ({} bytes)", self.0 / size, self.0);
            }
        }
        write!(f, "{} bytes", self.0)
    }
}

/// `Debug` reads like `Display` (the variant's name, then its message and causes), because
/// `fn main() -> Result<(), strongroom::Error>` shows errors with `Debug`: a user should see
/// the remedy there, not a struct dump.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {self}", self.variant_name())?;
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            // `Display` of an io::Error already includes its own text; skip repeats.
            if !self.to_string().contains(&cause.to_string()) {
                write!(f, ": {cause}")?;
            }
            source = cause.source();
        }
        Ok(())
    }
}

impl Error {
    fn variant_name(&self) -> &'static str {
        match self {
            Error::LockLimit { .. } => "LockLimit",
            Error::Unsupported(_) => "Unsupported",
            Error::TooLarge => "TooLarge",
            Error::Destroyed => "Destroyed",
            Error::LostToFork => "LostToFork",
            Error::OutOfRange => "OutOfRange",
            Error::InvalidUtf8 => "InvalidUtf8",
            Error::Io(_) => "Io",
            Error::Frozen => "Frozen",
            Error::LengthMismatch { .. } => "LengthMismatch",
            Error::Os { .. } => "Os",
            Error::Crypto => "Crypto",
            Error::Format(_) => "Format",
            Error::InvalidParameters(_) => "InvalidParameters",
            Error::ApiMisuse(_) => "ApiMisuse",
            Error::Internal(_) => "Internal",
            Error::Random(_) => "Random",
        }
    }

    /// Wraps an OS error from `op`.
    pub(crate) fn os(op: &'static str, source: io::Error) -> Self {
        Error::Os { op, source }
    }

    /// A lock-limit error for `needed` bytes, with the current limit and usage filled in.
    pub(crate) fn lock_limit(needed: usize) -> Self {
        Error::LockLimit { needed, limit: crate::sys::memlock_limit(), locked: crate::sys::locked_bytes() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_limit_says_what_to_do_with_figures() {
        let e = Error::LockLimit { needed: 65536, limit: Some(8 << 20), locked: Some(8 << 20) };
        let msg = e.to_string();
        assert!(msg.contains("64 KiB (65536 bytes)"), "{msg}");
        assert!(msg.contains("RLIMIT_MEMLOCK is 8 MiB"), "{msg}");
        assert!(msg.contains("ulimit -l"), "{msg}");
    }

    #[test]
    fn debug_reads_like_display_with_the_remedy() {
        let e = Error::LockLimit { needed: 262_144, limit: Some(65_536), locked: Some(40_960) };
        let shown = format!("{e:?}");
        assert!(shown.starts_with("LockLimit: cannot lock 256 KiB"), "{shown}");
        assert!(shown.contains("ulimit -l"), "{shown}");
        let e = Error::Unsupported(Protection::SecretMemory);
        assert!(format!("{e:?}").contains("secret_memory: Need::Preferred"), "{e:?}");
    }

    #[test]
    fn bytes_prints_exact_units_only() {
        assert_eq!(Bytes(4096).to_string(), "4 KiB (4096 bytes)");
        assert_eq!(Bytes(4097).to_string(), "4097 bytes");
    }
}
