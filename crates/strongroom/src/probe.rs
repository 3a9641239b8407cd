//! Deliberate violations that prove a protection is live, not just requested.
//!
//! Each [`Scenario`] breaks one rule — writes past a secret's end, before its start, over
//! its canary, or into it while frozen — and the protection must kill the process. Run
//! [`provoke`] in a child process (strongroom's `doctor` re-executes itself; the test suite
//! re-executes the test binary) and judge how the child died with [`judge`].
//!
//! The child tells the parent *why* it is still alive through its exit code: a child that
//! could not set the scenario up (no locked memory, say) exits with
//! [`SETUP_FAILED_EXIT_CODE`], and [`judge`] reports the probe as not run, with the child's
//! reason; one that committed the violation and survived exits with [`SURVIVED_EXIT_CODE`],
//! and the protection failed.
//!
//! ```no_run
//! use strongroom::probe::{self, Scenario};
//!
//! // In the child:
//! let code = match probe::provoke(Scenario::OverflowPastEnd) {
//!     // Only reached if the guard page did not fire.
//!     Ok(()) => probe::SURVIVED_EXIT_CODE,
//!     Err(e) => {
//!         eprintln!("{}{e}", probe::SETUP_FAILED_PREFIX);
//!         probe::SETUP_FAILED_EXIT_CODE
//!     }
//! };
//! std::process::exit(code.into());
//! ```

use std::fmt;

use crate::alloc::guarded::Poke;
use crate::buffer::LockedBuffer;
use crate::error::Result;

/// One deliberate violation of a guarded secret's bounds or protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Write one byte past the end of the data: the trailing guard page must fault.
    OverflowPastEnd,
    /// Write one byte before the page that holds the canary: the leading guard page must fault.
    UnderflowBeforeStart,
    /// Overwrite the canary in front of the data, then free it: the process must abort with
    /// a canary-breach message.
    CanaryCorruption,
    /// Write into a frozen (read-only) buffer: the write must fault.
    WriteToFrozen,
    /// Read a strict secret at rest (not borrowed): its no-access pages must fault.
    StrictReadAtRest,
    /// Overflow a pooled secret by one byte, then free it: the process must abort.
    PooledOverflow,
    /// Write into a freed pooled slot, then allocate: the process must abort.
    PooledWriteAfterFree,
    /// Free a pooled slot twice: the process must abort.
    PooledDoubleFree,
}

/// How a child running a [`Scenario`] must die.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Killed by `SIGSEGV`.
    Segfault,
    /// Killed by `SIGABRT` after printing a line that contains this text.
    Abort(&'static str),
}

/// The text a canary-breach abort prints.
pub const CANARY_MESSAGE: &str = "strongroom: canary breach";

/// The text a double-free abort prints.
pub const DOUBLE_FREE_MESSAGE: &str = "strongroom: a pooled slot was freed twice";

/// The exit code of a probe child that committed its violation and survived: the protection
/// did not fire.
///
/// ```
/// assert_ne!(strongroom::probe::SURVIVED_EXIT_CODE, strongroom::probe::SETUP_FAILED_EXIT_CODE);
/// ```
pub const SURVIVED_EXIT_CODE: u8 = 3;

/// The exit code of a probe child that could not set its scenario up ([`provoke`] returned
/// an error, e.g. no locked memory under `RLIMIT_MEMLOCK`): the protection was not tested.
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::unix::process::ExitStatusExt;
/// use strongroom::probe::{judge, Scenario, SETUP_FAILED_EXIT_CODE};
///
/// let status = std::process::ExitStatus::from_raw(i32::from(SETUP_FAILED_EXIT_CODE) << 8);
/// let verdict = judge(Scenario::PooledOverflow, status, b"strongroom: could not set up the probe: no room");
/// assert!(!verdict.passed);
/// assert_eq!(verdict.not_run.as_deref(), Some("no room"));
/// # }
/// ```
pub const SETUP_FAILED_EXIT_CODE: u8 = 4;

/// What a probe child prints to stderr in front of the reason it could not set up, so that
/// [`judge`] can quote the reason.
///
/// ```
/// assert!(strongroom::probe::SETUP_FAILED_PREFIX.ends_with(": "));
/// ```
pub const SETUP_FAILED_PREFIX: &str = "could not set up the probe: ";

impl Scenario {
    /// Every scenario, in the order `doctor` runs them.
    pub const ALL: [Scenario; 8] = [
        Scenario::OverflowPastEnd,
        Scenario::UnderflowBeforeStart,
        Scenario::CanaryCorruption,
        Scenario::WriteToFrozen,
        Scenario::StrictReadAtRest,
        Scenario::PooledOverflow,
        Scenario::PooledWriteAfterFree,
        Scenario::PooledDoubleFree,
    ];

    /// A stable name, used on command lines.
    ///
    /// ```
    /// use strongroom::probe::Scenario;
    /// assert_eq!(Scenario::from_name(Scenario::WriteToFrozen.name()), Some(Scenario::WriteToFrozen));
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Scenario::OverflowPastEnd => "overflow-past-end",
            Scenario::UnderflowBeforeStart => "underflow-before-start",
            Scenario::CanaryCorruption => "canary-corruption",
            Scenario::WriteToFrozen => "write-to-frozen",
            Scenario::StrictReadAtRest => "strict-read-at-rest",
            Scenario::PooledOverflow => "pooled-overflow",
            Scenario::PooledWriteAfterFree => "pooled-write-after-free",
            Scenario::PooledDoubleFree => "pooled-double-free",
        }
    }

    /// The scenario called `name`, if any.
    ///
    /// ```
    /// assert!(strongroom::probe::Scenario::from_name("nonsense").is_none());
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// How the child must die.
    ///
    /// ```
    /// use strongroom::probe::{Expected, Scenario};
    /// assert_eq!(Scenario::OverflowPastEnd.expected(), Expected::Segfault);
    /// ```
    pub fn expected(self) -> Expected {
        match self {
            Scenario::CanaryCorruption | Scenario::PooledOverflow | Scenario::PooledWriteAfterFree => {
                Expected::Abort(CANARY_MESSAGE)
            }
            Scenario::PooledDoubleFree => Expected::Abort(DOUBLE_FREE_MESSAGE),
            Scenario::OverflowPastEnd
            | Scenario::UnderflowBeforeStart
            | Scenario::WriteToFrozen
            | Scenario::StrictReadAtRest => Expected::Segfault,
        }
    }

    /// What the scenario proves, in a few words.
    ///
    /// ```
    /// assert!(!strongroom::probe::Scenario::WriteToFrozen.describe().is_empty());
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            Scenario::OverflowPastEnd => "a 1-byte overflow hits the trailing guard page",
            Scenario::UnderflowBeforeStart => "an underflow hits the leading guard page",
            Scenario::CanaryCorruption => "a corrupted canary aborts the process when freed",
            Scenario::WriteToFrozen => "a write to a frozen buffer faults",
            Scenario::StrictReadAtRest => "a read of a strict secret at rest faults",
            Scenario::PooledOverflow => "a 1-byte overflow of a pooled secret aborts on free",
            Scenario::PooledWriteAfterFree => "a write to a freed pooled slot aborts on reuse",
            Scenario::PooledDoubleFree => "a pooled slot freed twice aborts",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a forked child finds where a secret was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForkView {
    /// Zeros: the kernel wiped the pages in the child (`MADV_WIPEONFORK`).
    Wiped,
    /// Nothing: reading faulted, the pages were not mapped into the child (`MADV_DONTFORK`).
    Unmapped,
    /// The secret itself: the child inherited a copy.
    Inherited,
}

/// Forks and reports what the child sees of `buf`'s bytes. The child also drops its copy of
/// the buffer, which must not be mistaken for a canary breach. `buf` should hold non-zero
/// bytes, so that [`ForkView::Wiped`] and [`ForkView::Inherited`] can be told apart.
///
/// ```
/// use strongroom::LockedBuffer;
/// use strongroom::probe::{observe_fork, ForkView};
///
/// let mut buf = LockedBuffer::new(16)?;
/// buf.copy_from(&[0xA5; 16])?;
/// assert_ne!(observe_fork(buf)?, ForkView::Inherited);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn observe_fork(buf: LockedBuffer) -> Result<ForkView> {
    use crate::alloc::guarded::{CHILD_SAW_DATA, CHILD_SAW_ZEROS};
    use std::os::unix::process::ExitStatusExt;

    let region = buf.into_region().ok_or(crate::Error::Destroyed)?;
    let status = region.inspect_in_forked_child().map_err(|e| crate::Error::os("fork", e))?;
    match (status.code(), status.signal()) {
        (Some(CHILD_SAW_ZEROS), _) => Ok(ForkView::Wiped),
        (Some(CHILD_SAW_DATA), _) => Ok(ForkView::Inherited),
        (_, Some(libc::SIGSEGV)) => Ok(ForkView::Unmapped),
        _ => Err(crate::Error::os("fork probe", std::io::Error::other(format!("child ended with {status}")))),
    }
}

/// Commits the violation in *this* process. It returns `Ok` only if the protection failed to
/// fire; an `Err` means the scenario could not be set up (the memory it needs could not be
/// allocated), so nothing was tested. A child exits with [`SURVIVED_EXIT_CODE`] or
/// [`SETUP_FAILED_EXIT_CODE`] accordingly.
pub fn provoke(scenario: Scenario) -> Result<()> {
    // The crash is the point; a core file would only litter the working directory.
    let _ = crate::sys::disable_core_dumps();
    match scenario {
        Scenario::OverflowPastEnd => guarded()?.poke(Poke::PastEnd),
        Scenario::UnderflowBeforeStart => guarded()?.poke(Poke::BeforeInner),
        Scenario::CanaryCorruption => {
            let mut buf = guarded()?;
            buf.poke(Poke::Canary);
            buf.destroy();
        }
        Scenario::WriteToFrozen => {
            let mut buf = guarded()?;
            buf.freeze()?;
            buf.poke(Poke::Data);
        }
        Scenario::StrictReadAtRest => {
            let secret = crate::SecretBox::strict(|k: &mut [u8; 32]| k.fill(0xA5))?;
            std::hint::black_box(secret.probe_read_at_rest());
        }
        Scenario::PooledOverflow => {
            pool_ready()?;
            crate::alloc::pool::probe_overflow();
        }
        Scenario::PooledWriteAfterFree => {
            pool_ready()?;
            crate::alloc::pool::probe_write_after_free();
        }
        Scenario::PooledDoubleFree => {
            pool_ready()?;
            crate::alloc::pool::probe_double_free();
        }
    }
    Ok(())
}

/// A guarded 32-byte secret of non-zero bytes, the target of the guard-page scenarios.
fn guarded() -> Result<LockedBuffer> {
    let mut buf = LockedBuffer::new(32)?;
    buf.copy_from(&[0xA5; 32])?;
    Ok(buf)
}

/// Makes sure the pool can hand out a 32-byte slot. The pool's own probes skip their
/// violation when their allocation fails, which would pass for a survival; allocating and
/// freeing one pooled secret first maps the arena (and leaves the slot in this thread's
/// cache), so a failure shows here, as a setup error.
fn pool_ready() -> Result<()> {
    drop(crate::SecretBox::new(|k: &mut [u8; 32]| k.fill(0xA5))?);
    Ok(())
}

/// The verdict on a child that ran [`provoke`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the child died the way the scenario requires.
    pub passed: bool,
    /// What actually happened, in words.
    pub observed: String,
    /// `Some(reason)` when the child could not set the scenario up (it exited with
    /// [`SETUP_FAILED_EXIT_CODE`]): the protection was not tested, so this is neither a pass
    /// nor evidence that the protection failed.
    pub not_run: Option<String>,
}

/// Judges how a child that ran `scenario` ended.
///
/// ```
/// # #[cfg(unix)] {
/// use std::os::unix::process::ExitStatusExt;
/// use std::process::ExitStatus;
/// use strongroom::probe::{judge, Scenario};
///
/// let segv = ExitStatus::from_raw(11); // killed by signal 11
/// assert!(judge(Scenario::OverflowPastEnd, segv, b"").passed);
/// assert!(!judge(Scenario::OverflowPastEnd, ExitStatus::from_raw(0), b"").passed);
/// # }
/// ```
#[cfg(unix)]
pub fn judge(scenario: Scenario, status: std::process::ExitStatus, stderr: &[u8]) -> Verdict {
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(stderr);
    if status.code() == Some(SETUP_FAILED_EXIT_CODE.into()) {
        let reason = stderr
            .lines()
            .find_map(|line| line.split_once(SETUP_FAILED_PREFIX).map(|(_, reason)| reason.trim()))
            .unwrap_or_else(|| stderr.trim());
        let reason = if reason.is_empty() { "the child gave no reason" } else { reason };
        return Verdict {
            passed: false,
            observed: format!("not run: the child could not set up the probe: {reason}"),
            not_run: Some(reason.to_owned()),
        };
    }
    let observed = match (status.signal(), status.code()) {
        (Some(sig), _) => format!("killed by {}", signal_name(sig)),
        (None, Some(code)) => format!("survived and exited with code {code}"),
        (None, None) => "ended in an unknown way".to_owned(),
    };
    let passed = match scenario.expected() {
        Expected::Segfault => status.signal() == Some(libc::SIGSEGV),
        Expected::Abort(text) => status.signal() == Some(libc::SIGABRT) && stderr.contains(text),
    };
    let observed = match scenario.expected() {
        Expected::Abort(text) if !stderr.contains(text) => {
            format!("{observed}, without printing {text:?}")
        }
        _ => observed,
    };
    Verdict { passed, observed, not_run: None }
}

#[cfg(unix)]
fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGSEGV => "SIGSEGV".to_owned(),
        libc::SIGABRT => "SIGABRT".to_owned(),
        libc::SIGBUS => "SIGBUS".to_owned(),
        other => format!("signal {other}"),
    }
}
