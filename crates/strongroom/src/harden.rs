//! Process hardening: what protected memory cannot do on its own.
//!
//! `memfd_secret` pages stop every *passive* read by another process — `/proc/PID/mem`,
//! `process_vm_readv`, `PTRACE_PEEKDATA`, `gcore`, kernel core dumps — but not a debugger
//! that attaches and makes the process read its own pages for it (injected code calling
//! `write(2)` on them, or `mprotect` first for strict secrets). That works for root, and for
//! any process of the same user unless the target is non-dumpable or the Yama LSM restricts
//! ptrace (`/proc/sys/kernel/yama/ptrace_scope` ≥ 1). [`harden`] closes the same-user path;
//! nothing in a process stops root.
//!
//! Libraries should not harden the processes they live in uninvited, so this is opt-in; the
//! `strongroom` tools call it themselves.

use std::fmt;

/// What [`harden_with`] should do beyond the default steps.
///
/// ```
/// let options = strongroom::HardenOptions::default().lock_all_memory(true);
/// assert!(options.locks_all_memory());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HardenOptions {
    lock_all_memory: bool,
}

impl HardenOptions {
    /// Also lock every page of the process, now and in future
    /// (`mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`), so that nothing it holds — not
    /// only strongroom's secrets — can reach swap. Applied only where locking is not limited
    /// (`CAP_IPC_LOCK`, or an unlimited `RLIMIT_MEMLOCK`): under a limit, every later
    /// allocation of the process would count against it and start failing.
    ///
    /// ```
    /// let options = strongroom::HardenOptions::default().lock_all_memory(false);
    /// assert!(!options.locks_all_memory());
    /// ```
    pub fn lock_all_memory(mut self, yes: bool) -> Self {
        self.lock_all_memory = yes;
        self
    }

    /// Whether these options ask for all memory to be locked.
    ///
    /// ```
    /// assert!(!strongroom::HardenOptions::default().locks_all_memory());
    /// ```
    pub fn locks_all_memory(&self) -> bool {
        self.lock_all_memory
    }
}

/// How one hardening step went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HardeningStep {
    /// The step is in force.
    Applied,
    /// The caller did not ask for it.
    NotRequested,
    /// It could not be applied; the text says why.
    NotApplied(String),
}

impl fmt::Display for HardeningStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HardeningStep::Applied => f.write_str("applied"),
            HardeningStep::NotRequested => f.write_str("not requested"),
            HardeningStep::NotApplied(why) => write!(f, "not applied: {why}"),
        }
    }
}

/// What [`harden`] applied, step by step.
///
/// ```no_run
/// let got = strongroom::harden();
/// assert_eq!(got.not_dumpable, strongroom::HardeningStep::Applied);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hardening {
    /// `PR_SET_DUMPABLE` 0: processes of the same user can no longer attach with ptrace or
    /// open `/proc/PID/mem`, and no core file is written. (It also makes `/proc/self/mem`
    /// root-owned, so a non-root process cannot open its own either.)
    pub not_dumpable: HardeningStep,
    /// `RLIMIT_CORE` 0 (soft and hard): a crash writes no core file, whatever
    /// `core_pattern` says.
    pub no_core_files: HardeningStep,
    /// `mlockall`, if [`HardenOptions::lock_all_memory`] asked for it.
    pub all_memory_locked: HardeningStep,
}

impl Hardening {
    /// Whether every step that was asked for is in force.
    ///
    /// ```no_run
    /// assert!(strongroom::harden().fully_applied());
    /// ```
    pub fn fully_applied(&self) -> bool {
        [&self.not_dumpable, &self.no_core_files, &self.all_memory_locked]
            .iter()
            .all(|o| matches!(o, HardeningStep::Applied | HardeningStep::NotRequested))
    }
}

/// Hardens this process with the default steps: non-dumpable, and no core files.
///
/// `memfd_secret` pages stop every passive read by another process, root's included, but
/// not a debugger that attaches and injects code to make this process read its own pages.
/// Once the process is non-dumpable, processes of the same user can no longer attach (or
/// open `/proc/PID/mem`); root still can, and nothing in a process stops root. Opt-in: a
/// library should not harden the process it lives in uninvited.
///
/// ```no_run
/// let got = strongroom::harden();
/// if !got.fully_applied() {
///     eprintln!("warning: process hardening incomplete: {got:?}");
/// }
/// ```
pub fn harden() -> Hardening {
    harden_with(HardenOptions::default())
}

/// Hardens this process with the default steps and what `options` add.
///
/// ```no_run
/// use strongroom::{HardenOptions, harden_with};
/// let got = harden_with(HardenOptions::default().lock_all_memory(true));
/// println!("mlockall: {}", got.all_memory_locked);
/// ```
pub fn harden_with(options: HardenOptions) -> Hardening {
    #[cfg(all(unix, not(miri)))]
    {
        use crate::sys;
        let step = |result: std::io::Result<()>| match result {
            Ok(()) => HardeningStep::Applied,
            Err(e) => HardeningStep::NotApplied(e.to_string()),
        };
        let all_memory_locked = if !options.lock_all_memory {
            HardeningStep::NotRequested
        } else if let Some(limit) = lock_limited() {
            HardeningStep::NotApplied(format!(
                "RLIMIT_MEMLOCK is {limit} bytes and the process lacks CAP_IPC_LOCK: with MCL_FUTURE every \
                 later allocation would count against it"
            ))
        } else {
            step(sys::lock_all_memory())
        };
        Hardening {
            not_dumpable: step(sys::set_not_dumpable()),
            no_core_files: step(sys::disable_core_dumps()),
            all_memory_locked,
        }
    }
    #[cfg(not(all(unix, not(miri))))]
    {
        let unsupported = || HardeningStep::NotApplied("not supported on this platform".into());
        Hardening {
            not_dumpable: unsupported(),
            no_core_files: unsupported(),
            all_memory_locked: if options.lock_all_memory { unsupported() } else { HardeningStep::NotRequested },
        }
    }
}

/// The `RLIMIT_MEMLOCK` limit when locking is limited for this process (no `CAP_IPC_LOCK`).
#[cfg(all(unix, not(miri)))]
fn lock_limited() -> Option<u64> {
    #[cfg(target_os = "linux")]
    if crate::sys::procfs::effective_capabilities()
        .is_some_and(|caps| caps & (1 << crate::sys::procfs::CAP_IPC_LOCK) != 0)
    {
        return None;
    }
    crate::sys::memlock_limit()
}

/// Whether this process is dumpable now (`None` where the OS does not say): `false` after
/// [`harden`].
///
/// ```
/// if let Some(dumpable) = strongroom::is_dumpable() {
///     println!("other processes of this user may attach: {dumpable}");
/// }
/// ```
pub fn is_dumpable() -> Option<bool> {
    #[cfg(all(unix, not(miri)))]
    {
        crate::sys::is_dumpable()
    }
    #[cfg(not(all(unix, not(miri))))]
    {
        None
    }
}
