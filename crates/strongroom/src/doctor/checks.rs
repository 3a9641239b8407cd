//! The live checks: allocate real secrets and verify their protections from the outside.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::process::Output;

use super::machine::{Machine, machine};
use crate::buffer::LockedBuffer;
use crate::error::Error;
use crate::probe::{self, ForkView, Scenario};
use crate::sys::procfs::{self, SmapsEntry};

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// The protection is live.
    Pass,
    /// The protection is missing or broken; see the remedy.
    Fail,
    /// Not applicable here (e.g. no `memfd_secret` in this kernel); not a failure.
    Skip,
}

/// One check, with what it saw and what to do when it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Its outcome.
    pub status: Status,
    /// What was observed.
    pub detail: String,
    /// What to do about a failure or skip.
    pub remedy: Option<String>,
}

impl Check {
    fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Self {
        Check { name: name.into(), status, detail: detail.into(), remedy: None }
    }

    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Pass, detail)
    }

    fn fail(name: impl Into<String>, detail: impl Into<String>, remedy: impl Into<String>) -> Self {
        Check { remedy: Some(remedy.into()), ..Self::new(name, Status::Fail, detail) }
    }

    fn skip(name: impl Into<String>, detail: impl Into<String>, remedy: impl Into<String>) -> Self {
        Check { remedy: Some(remedy.into()), ..Self::new(name, Status::Skip, detail) }
    }
}

/// The machine's facts and every check that ran.
#[derive(Clone, Debug)]
pub struct Report {
    /// What the machine offers.
    pub machine: Machine,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when no check failed (skips are not failures).
    ///
    /// ```
    /// use strongroom::doctor::{Report, machine};
    /// assert!(Report { machine: machine(), checks: vec![] }.passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }
}

/// Runs every check. `run_probe` must run [`probe::provoke`] for the given scenario in a
/// child process and return its output (the `strongroom` binary re-executes itself).
///
/// ```no_run
/// use std::process::Command;
/// let report = strongroom::doctor::run(|scenario| {
///     Command::new(std::env::current_exe()?).args(["__probe", scenario.name()]).output()
/// });
/// std::process::exit(if report.passed() { 0 } else { 1 });
/// ```
pub fn run(mut run_probe: impl FnMut(Scenario) -> io::Result<Output>) -> Report {
    let machine = machine();
    let mut checks = Vec::new();
    match LockedBuffer::new(32) {
        Ok(buf) => residence_checks(&buf, &machine, &mut checks),
        Err(e) => checks.push(allocation_failure(&e)),
    }
    checks.push(pool_check());
    checks.push(fork_check());
    for scenario in Scenario::ALL {
        checks.push(probe_check(scenario, &mut run_probe));
    }
    Report { machine, checks }
}

fn allocation_failure(e: &Error) -> Check {
    let remedy = match e {
        Error::LockLimit { .. } => "raise the locked-memory limit (`ulimit -l 65536`, LimitMEMLOCK= for services) \
                                   or grant CAP_IPC_LOCK"
            .to_owned(),
        other => format!("the default policy cannot be met here: {other}"),
    };
    Check::fail("allocate a guarded secret (default policy)", e.to_string(), remedy)
}

/// Checks where the secret lives: smaps flags, memfd_secret, and /proc/self/mem.
fn residence_checks(buf: &LockedBuffer, machine: &Machine, checks: &mut Vec<Check>) {
    let got = buf.protections();
    let backing = if got.secret_memory { "memfd_secret pages" } else { "anonymous pages" };
    checks.push(Check::pass("allocate a guarded secret (default policy)", backing));

    let addr = buf.address_range().start;
    let Some(entry) = procfs::smaps_entry(addr) else {
        checks.push(Check::fail("find the secret in /proc/self/smaps", "no mapping found", "report a bug"));
        return;
    };
    checks.push(smaps_check(
        "locked in RAM (no swap)",
        &entry,
        &["lo"],
        "raise `ulimit -l` or grant CAP_IPC_LOCK; without a lock the pages may be swapped out",
    ));
    checks.push(smaps_check(
        "excluded from core dumps",
        &entry,
        &["dd"],
        "the kernel ignored MADV_DONTDUMP; report a bug",
    ));
    checks.push(smaps_check(
        "kept from forked children",
        &entry,
        &["wf", "dc"],
        "the kernel lacks MADV_WIPEONFORK/MADV_DONTFORK (Linux ≥ 4.14 needed)",
    ));
    checks.push(secret_memory_check(buf, machine));
    if got.secret_memory {
        checks.push(proc_mem_check(addr));
    }
}

fn pool_check() -> Check {
    const NAME: &str = "pooled secrets sit in locked, no-dump, no-fork arenas";
    let secret = match crate::SecretBox::new(|k: &mut [u8; 32]| k.fill(0xA5)) {
        Ok(secret) => secret,
        Err(e) => return Check::fail(NAME, e.to_string(), "raise `ulimit -l` or grant CAP_IPC_LOCK"),
    };
    let addr = secret.with(|k| k.as_ptr() as usize).unwrap_or(0);
    let Some(entry) = procfs::smaps_entry(addr) else {
        return Check::fail(NAME, "no mapping found", "report a bug");
    };
    let wanted = [("lo", "locked"), ("dd", "no dump")];
    let missing: Vec<&str> = wanted.iter().filter(|(flag, _)| !entry.has_flag(flag)).map(|(_, what)| *what).collect();
    let forks = entry.has_flag("wf") || entry.has_flag("dc");
    if missing.is_empty() && forks {
        let detail = format!("arena {:#x}-{:#x}: VmFlags {}", entry.start, entry.end, entry.flags.join(" "));
        Check::pass(NAME, detail)
    } else {
        let detail = format!("arena VmFlags lack {:?} (fork excluded: {forks})", missing);
        Check::fail(NAME, detail, "report a bug: the pool's arena did not get its protections")
    }
}

fn fork_check() -> Check {
    const NAME: &str = "a forked child sees zeros or nothing";
    let observed = LockedBuffer::new(32).and_then(|mut buf| {
        buf.copy_from(&[0xA5; 32])?;
        probe::observe_fork(buf)
    });
    match observed {
        Ok(ForkView::Wiped) => Check::pass(NAME, "the child read zeros (MADV_WIPEONFORK)"),
        Ok(ForkView::Unmapped) => Check::pass(NAME, "the child faulted: the pages were not mapped (MADV_DONTFORK)"),
        Ok(ForkView::Inherited) => {
            Check::fail(NAME, "the child read the secret", "report a bug: fork exclusion did not apply")
        }
        Err(e) => Check::fail(NAME, e.to_string(), "see the allocation check above"),
    }
}

fn smaps_check(name: &str, entry: &SmapsEntry, any_of: &[&str], remedy: &str) -> Check {
    let found: Vec<&str> = any_of.iter().copied().filter(|f| entry.has_flag(f)).collect();
    if found.is_empty() {
        let detail = format!("smaps VmFlags lack {}: {}", any_of.join("/"), entry.flags.join(" "));
        Check::fail(name, detail, remedy)
    } else {
        let detail = format!("smaps VmFlags has {} (Locked: {} kB)", found.join(" "), entry.locked_kib);
        Check::pass(name, detail)
    }
}

fn secret_memory_check(buf: &LockedBuffer, machine: &Machine) -> Check {
    const NAME: &str = "backed by memfd_secret (out of the kernel's direct map)";
    let kernel = machine.kernel.as_deref().unwrap_or("unknown kernel");
    match (machine.secret_memory, buf.protections().secret_memory) {
        (true, true) => Check::pass(NAME, format!("memfd_secret works on {kernel}")),
        (true, false) => Check::fail(
            NAME,
            "memfd_secret is available but the secret did not get it",
            "memfd_secret pages count against RLIMIT_MEMLOCK: raise `ulimit -l`",
        ),
        (false, _) => Check::skip(
            NAME,
            format!("memfd_secret is not available on {kernel}; secrets use locked anonymous pages"),
            "use Linux ≥ 5.14 (before 6.5, boot with secretmem.enable=1) to keep secrets from passive reads, root's too",
        ),
    }
}

fn proc_mem_check(addr: usize) -> Check {
    const NAME: &str = "unreadable through /proc/self/mem";
    let mut byte = [0u8; 1];
    let read = File::open("/proc/self/mem").and_then(|mem| mem.read_exact_at(&mut byte, addr as u64));
    match read {
        Err(e) if matches!(e.raw_os_error(), Some(libc::EIO | libc::EFAULT)) => {
            Check::pass(NAME, format!("read refused: {e}"))
        }
        // A non-dumpable process (after `harden()`) may not open its own /proc/self/mem
        // unless it is root: the check cannot run, which says nothing about memfd_secret.
        Err(e) if e.raw_os_error() == Some(libc::EACCES) && crate::is_dumpable() == Some(false) => Check::skip(
            NAME,
            format!("not run: the process is hardened (non-dumpable), so /proc/self/mem is root's: {e}"),
            "run `strongroom doctor` without --harden to see this check",
        ),
        Err(e) => Check::fail(NAME, format!("unexpected error: {e}"), "report a bug"),
        Ok(()) => Check::fail(
            NAME,
            "the secret's page was readable",
            "the kernel does not remove memfd_secret pages from its direct map; report a bug",
        ),
    }
}

fn probe_check(scenario: Scenario, run_probe: &mut impl FnMut(Scenario) -> io::Result<Output>) -> Check {
    let name = format!("child dies when {}", scenario.describe());
    match run_probe(scenario) {
        Ok(output) => {
            let verdict = probe::judge(scenario, output.status, &output.stderr);
            if verdict.passed {
                Check::pass(name, verdict.observed)
            } else {
                Check::fail(name, verdict.observed, "the protection did not fire: report a bug with this output")
            }
        }
        Err(e) => {
            Check::fail(name, format!("could not start the child: {e}"), "check that the binary can re-execute itself")
        }
    }
}
