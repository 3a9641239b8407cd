//! Deliberate violations that prove a protection is live, not just requested.
//!
//! Each [`Scenario`] breaks one rule — writes past a secret's end, before its start, over
//! its canary, or into it while frozen — and the protection must kill the process. Run
//! [`provoke`] in a child process (strongroom's `doctor` re-executes itself; the test suite
//! re-executes the test binary) and judge how the child died with [`judge`].
//!
//! ```no_run
//! use strongroom::probe::{self, Scenario};
//!
//! // In the child:
//! probe::provoke(Scenario::OverflowPastEnd)?;
//! // Only reached if the guard page did not fire.
//! std::process::exit(1);
//! # Ok::<(), strongroom::Error>(())
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

/// Commits the violation in *this* process. It returns only if the protection failed to
/// fire (or the buffer could not be allocated): callers treat a return as a failed check.
pub fn provoke(scenario: Scenario) -> Result<()> {
    // The crash is the point; a core file would only litter the working directory.
    let _ = crate::sys::disable_core_dumps();
    let mut buf = LockedBuffer::new(32)?;
    buf.copy_from(&[0xA5; 32])?;
    match scenario {
        Scenario::OverflowPastEnd => buf.poke(Poke::PastEnd),
        Scenario::UnderflowBeforeStart => buf.poke(Poke::BeforeInner),
        Scenario::CanaryCorruption => {
            buf.poke(Poke::Canary);
            buf.destroy();
        }
        Scenario::WriteToFrozen => {
            buf.freeze()?;
            buf.poke(Poke::Data);
        }
        Scenario::StrictReadAtRest => {
            let secret = crate::SecretBox::strict(|k: &mut [u8; 32]| k.fill(0xA5))?;
            std::hint::black_box(secret.probe_read_at_rest());
        }
        Scenario::PooledOverflow => crate::alloc::pool::probe_overflow(),
        Scenario::PooledWriteAfterFree => crate::alloc::pool::probe_write_after_free(),
        Scenario::PooledDoubleFree => crate::alloc::pool::probe_double_free(),
    }
    Ok(())
}

/// The verdict on a child that ran [`provoke`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the child died the way the scenario requires.
    pub passed: bool,
    /// What actually happened, in words.
    pub observed: String,
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
    Verdict { passed, observed }
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
