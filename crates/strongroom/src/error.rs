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

    /// Memory that must stay in RAM (locked, or `memfd_secret`) was asked for beyond what this
    /// process may have (the machine's RAM, or its cgroup's memory limit if lower). The
    /// kernel would grant it lazily and fail later, at a touch or with the OOM killer.
    #[error(
        "{} must stay in RAM, but this process may have {} (the machine's RAM or its cgroup limit)",
        Bytes(*requested),
        Bytes(*physical)
    )]
    MoreThanMemory {
        /// Bytes asked for (rounded to whole pages).
        requested: u64,
        /// Bytes of RAM the process may have.
        physical: u64,
    },

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

    /// Parameters (e.g. a key of the wrong length) are invalid; refused before any work is
    /// done.
    #[error("invalid parameters: {0}")]
    InvalidParameters(&'static str),

    /// A KDF parameter asks for more than its limit (Argon2id memory or passes, SHA3-256
    /// rounds, salt length); refused before any work is done. The message gives both figures
    /// and the [`KdfLimits`](crate::kdf::KdfLimits) field to raise if the input is trusted.
    ///
    /// ```
    /// use strongroom::{Error, kdf::{KdfLimits, KdfParams, Parameter}};
    ///
    /// let hostile = KdfParams { memory_kib: 2 << 20, ..KdfParams::DEFAULT };
    /// let err = KdfLimits::DEFAULT.check(&hostile).unwrap_err();
    /// assert!(matches!(err, Error::LimitExceeded { what: Parameter::Memory, requested: 2097152, limit: 1048576 }));
    /// assert!(err.to_string().contains("2 GiB (2097152 KiB) exceeds the limit of 1 GiB"), "{err}");
    /// ```
    #[error("{}", limit_exceeded_message(*what, *requested, *limit))]
    LimitExceeded {
        /// Which parameter.
        what: crate::kdf::Parameter,
        /// What the input asked for, in the parameter's unit.
        requested: u64,
        /// The largest value allowed.
        limit: u64,
    },

    /// A KDF parameter is below its minimum (Argon2id memory under 8 KiB, no pass at all, a
    /// salt under 8 bytes): the parameters are malformed, not merely expensive.
    ///
    /// ```
    /// use strongroom::{Error, kdf::{KdfLimits, KdfParams, Parameter}};
    ///
    /// let err = KdfLimits::DEFAULT.check(&KdfParams { iterations: 0, ..KdfParams::DEFAULT }).unwrap_err();
    /// assert!(matches!(err, Error::BelowMinimum { what: Parameter::Passes, requested: 0, minimum: 1 }));
    /// ```
    #[error("{}", below_minimum_message(*what, *requested, *minimum))]
    BelowMinimum {
        /// Which parameter.
        what: crate::kdf::Parameter,
        /// What the input asked for, in the parameter's unit.
        requested: u64,
        /// The smallest value allowed.
        minimum: u64,
    },

    /// There is no terminal to read a passphrase from
    /// ([`SecretString::read_passphrase`](crate::SecretString::read_passphrase) in CI, under a
    /// service manager, or in any process without a controlling terminal). Read it from
    /// another source with [`SecretString::read_line_from`](crate::SecretString::read_line_from),
    /// which takes any reader, e.g. `std::io::stdin().lock()`.
    #[error(
        "there is no terminal to read a passphrase from (the process has no controlling terminal: \
         {0}); to read it from standard input or another reader, use \
         `SecretString::read_line_from(std::io::stdin().lock())`"
    )]
    NoTerminal(#[source] io::Error),

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

    /// A signature does not verify: it was not made by the key matching this public key over
    /// this message and context, or any of them was altered.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use strongroom::{Error, sign::{MlDsa65, SigningKey}};
    ///
    /// let key = SigningKey::<MlDsa65>::generate()?;
    /// let signature = key.sign(b"message", b"")?;
    /// let got = key.verifying_key().verify(b"massage", b"", &signature);
    /// assert!(matches!(got, Err(Error::InvalidSignature)));
    /// # }
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    #[error("the signature is not valid for this public key, message and context")]
    InvalidSignature,

    /// None of the identities (private keys, passphrases) given opens any of the file's
    /// recipient stanzas: the file was encrypted to someone else, or with another passphrase.
    #[error("no identity given matches any recipient of this file (wrong key or passphrase)")]
    NoMatchingIdentity,

    /// A signature context string is longer than the 255 bytes FIPS 204 allows (its length is
    /// encoded in one byte).
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use strongroom::{Error, sign::{MlDsa44, SigningKey}};
    ///
    /// let key = SigningKey::<MlDsa44>::generate()?;
    /// let err = key.sign(b"message", &[0; 256]).unwrap_err();
    /// assert!(matches!(err, Error::ContextTooLong { len: 256 }));
    /// # }
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    #[error("a signature context is at most 255 bytes, this one is {len}")]
    ContextTooLong {
        /// The length of the context given.
        len: usize,
    },
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
    /// A key or ciphertext of a fixed-size format (e.g. an ML-KEM-768 ciphertext, 1088
    /// bytes) has another length.
    ///
    /// ```
    /// use strongroom::{Error, FormatError, kem::{EncapsulationKey, MlKem768}};
    ///
    /// let err = EncapsulationKey::<MlKem768>::from_bytes(&[0; 5]).unwrap_err();
    /// assert!(matches!(err, Error::Format(FormatError::WrongLength { expected: 1184, actual: 5, .. })));
    /// assert_eq!(err.to_string(), "malformed input: an ML-KEM-768 encapsulation key is 1184 bytes, not 5");
    /// ```
    #[error("{what} is {expected} bytes, not {actual}")]
    WrongLength {
        /// What was expected, with its article: `"an ML-KEM-768 ciphertext"`.
        what: &'static str,
        /// The format's length.
        expected: usize,
        /// The input's length.
        actual: usize,
    },
    /// An ML-KEM encapsulation key encodes a coefficient that is not reduced modulo
    /// q = 3329: FIPS 203's modulus check refuses it, since no key generation makes one.
    ///
    /// ```
    /// use strongroom::{Error, FormatError, kem::{EncapsulationKey, MlKem512}};
    ///
    /// let err = EncapsulationKey::<MlKem512>::from_bytes(&[0xFF; 800]).unwrap_err();
    /// assert!(matches!(err, Error::Format(FormatError::UnreducedCoefficient { index: 0, value: 4095 })));
    /// ```
    #[error(
        "not an ML-KEM encapsulation key: coefficient {index} is {value}, not below q = 3329 (FIPS 203 modulus check)"
    )]
    UnreducedCoefficient {
        /// The coefficient's position among the key's coefficients (256 per polynomial).
        index: usize,
        /// Its 12-bit value (3329 to 4095).
        value: u16,
    },
    /// An expanded ML-KEM decapsulation key whose stored hash `H(ek)` is not the hash of the
    /// encapsulation key inside it: FIPS 203's hash check refuses it (a corrupted or
    /// spliced key).
    ///
    /// ```
    /// use strongroom::{Error, FormatError, LockedBuffer, kem::{DecapsulationKey, MlKem512}};
    ///
    /// let err = DecapsulationKey::<MlKem512>::from_expanded(&LockedBuffer::new(1632)?).unwrap_err();
    /// assert!(matches!(err, Error::Format(FormatError::KeyHashMismatch)));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    #[error(
        "not an ML-KEM decapsulation key: the hash it stores is not that of its encapsulation key (FIPS 203 hash check)"
    )]
    KeyHashMismatch,
    /// A file header breaks a rule of its format's encoding; the rule is named. For age:
    /// every line ends in a lone `\n`, stanza arguments are non-empty ASCII 33-126, bodies
    /// and the MAC are canonical unpadded base64 in 64-column lines, and the header has
    /// bounds (8 KiB lines, 1 MiB, 1024 stanzas).
    #[error("malformed header: {0}")]
    InvalidHeader(&'static str),
    /// ASCII armor (age's PEM-like text form) that breaks one of its rules; the rule is named.
    #[error("malformed armor: {0}")]
    InvalidArmor(&'static str),
    /// The last chunk of a chunked payload is empty although chunks came before it: only an
    /// empty payload may end with an empty chunk (age's STREAM rule).
    #[error("the payload's last chunk is empty, which only an empty payload may have")]
    EmptyLastChunk,
    /// Text that should hold a key or a value in some encoding (Bech32, base64, decimal)
    /// does not; the rule is named.
    #[error("malformed encoding: {0}")]
    InvalidEncoding(&'static str),
    /// Data follows a payload's last chunk.
    #[error("data follows the payload's last chunk")]
    TrailingData,
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
    msg + "; raise `ulimit -l` (or LimitMEMLOCK=), grant CAP_IPC_LOCK, or accept unlocked memory (still guarded, out of dumps and forks): `Policy::set_default(Policy { lock: Need::Preferred, ..Policy::STANDARD })` for the whole process, or that Policy where an API takes one"
}

fn limit_exceeded_message(what: crate::kdf::Parameter, requested: u64, limit: u64) -> String {
    let (name, unit) = (what.description(), what.unit());
    let msg = format!("{name} of {} exceeds the limit of {}", Amount(requested, unit), Amount(limit, unit).short());
    match what.limits_field() {
        Some(field) => msg + &format!("; raise `KdfLimits::{field}` if you trust the input"),
        None if what == crate::kdf::Parameter::WorkFactor => {
            msg + "; the file asks for more work than this reader allows: raise the maximum if you trust it"
        }
        None => msg + "; the input is malformed or not meant for this format",
    }
}

fn below_minimum_message(what: crate::kdf::Parameter, requested: u64, minimum: u64) -> String {
    let (name, unit) = (what.description(), what.unit());
    format!(
        "{name} of {} is below the minimum of {}; the parameters are malformed (check where they come from)",
        Amount(requested, unit),
        Amount(minimum, unit).short()
    )
}

/// A figure in a parameter's unit, read the way people read them: `2 GiB (2097152 KiB)`,
/// `3 passes`, `5 bytes`.
struct Amount(u64, crate::kdf::Unit);

impl Amount {
    /// Without the exact figure in brackets: `1 GiB`.
    fn short(&self) -> String {
        let full = self.to_string();
        match full.find(" (") {
            Some(at) => full[..at].to_string(),
            None => full,
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::kdf::Unit;
        match self.1 {
            Unit::Kib => {
                for (unit, size) in [("GiB", 1u64 << 20), ("MiB", 1 << 10)] {
                    if self.0 >= size && self.0.is_multiple_of(size) {
                        return write!(f, "{} {unit} ({} KiB)", self.0 / size, self.0);
                    }
                }
                write!(f, "{} KiB", self.0)
            }
            Unit::Bytes => write!(f, "{} {}", self.0, if self.0 == 1 { "byte" } else { "bytes" }),
            Unit::Count => write!(f, "{}", self.0),
        }
    }
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
            Error::MoreThanMemory { .. } => "MoreThanMemory",
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
            Error::LimitExceeded { .. } => "LimitExceeded",
            Error::BelowMinimum { .. } => "BelowMinimum",
            Error::NoTerminal(_) => "NoTerminal",
            Error::ApiMisuse(_) => "ApiMisuse",
            Error::Internal(_) => "Internal",
            Error::Random(_) => "Random",
            Error::InvalidSignature => "InvalidSignature",
            Error::NoMatchingIdentity => "NoMatchingIdentity",
            Error::ContextTooLong { .. } => "ContextTooLong",
        }
    }

    /// The error a reader reported: the strongroom error inside an `io::Error` that one of
    /// strongroom's own readers made (an armor rule, a chunk that did not authenticate),
    /// else [`Error::Io`].
    pub(crate) fn from_reader(e: io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            if let Some(inner) = e.into_inner().and_then(|inner| inner.downcast::<Error>().ok()) {
                return *inner;
            }
            return Error::Internal("an io::Error lost the error it held");
        }
        Error::Io(e)
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
    fn kdf_limit_errors_carry_both_figures_and_the_field_to_raise() {
        use crate::kdf::Parameter;
        let e = Error::LimitExceeded { what: Parameter::Memory, requested: 2 << 20, limit: 1 << 20 };
        assert_eq!(
            e.to_string(),
            "Argon2id memory of 2 GiB (2097152 KiB) exceeds the limit of 1 GiB; \
             raise `KdfLimits::max_memory_kib` if you trust the input"
        );
        assert!(format!("{e:?}").starts_with("LimitExceeded: Argon2id memory"), "{e:?}");
        let e = Error::LimitExceeded { what: Parameter::Rounds, requested: 1 << 40, limit: 10_000_000 };
        assert!(e.to_string().contains("of 1099511627776 exceeds the limit of 10000000"), "{e}");
        assert!(e.to_string().contains("KdfLimits::max_rounds"), "{e}");
        let e = Error::BelowMinimum { what: Parameter::Salt, requested: 5, minimum: 8 };
        assert_eq!(
            e.to_string(),
            "salt length of 5 bytes is below the minimum of 8 bytes; the parameters are malformed \
             (check where they come from)"
        );
        let e = Error::BelowMinimum { what: Parameter::Memory, requested: 4, minimum: 8 };
        assert!(e.to_string().contains("memory of 4 KiB is below the minimum of 8 KiB"), "{e}");
    }

    #[test]
    fn no_terminal_points_to_read_line_from() {
        let e = Error::NoTerminal(io::Error::from_raw_os_error(6));
        let msg = format!("{e:?}");
        assert!(msg.starts_with("NoTerminal: there is no terminal to read a passphrase from"), "{msg}");
        assert!(msg.contains("SecretString::read_line_from"), "{msg}");
    }

    #[test]
    fn bytes_prints_exact_units_only() {
        assert_eq!(Bytes(4096).to_string(), "4 KiB (4096 bytes)");
        assert_eq!(Bytes(4097).to_string(), "4097 bytes");
    }
}
