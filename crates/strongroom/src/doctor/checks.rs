//! The live checks: allocate real secrets and verify their protections from the outside.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::process::Output;

use super::budget::Budget;
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
    /// Not run, or not applicable here: the environment prevented it (e.g. no
    /// `memfd_secret` in this kernel, or too little room under `RLIMIT_MEMLOCK`). Not a
    /// failure, but not a proof either; the detail says why.
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

/// The machine's facts, its locked-memory budget, and every check.
#[derive(Clone, Debug)]
pub struct Report {
    /// What the machine offers.
    pub machine: Machine,
    /// How much locked memory is left, and what fits in it.
    pub budget: Budget,
    /// Every check, in the order they ran; the same list whatever the environment (a check
    /// that could not run is there as [`Status::Skip`]).
    pub checks: Vec<Check>,
}

/// What a report adds up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conclusion {
    /// Every check ran and passed: the protections are live here.
    AllPassed,
    /// At least one protection is missing or broken.
    SomeFailed,
    /// Nothing failed, but the environment kept some checks from running (or from applying):
    /// what they would have proven is unproven here.
    SomeSkipped,
}

impl Report {
    /// True when no check failed (skips are not failures).
    ///
    /// ```
    /// use strongroom::doctor::{Budget, Report, machine};
    /// let m = machine();
    /// assert!(Report { budget: Budget::of(&m), machine: m, checks: vec![] }.passed());
    /// ```
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// How many checks ended with `status`.
    ///
    /// ```
    /// use strongroom::doctor::{Budget, Report, Status, machine};
    /// let m = machine();
    /// assert_eq!(Report { budget: Budget::of(&m), machine: m, checks: vec![] }.count(Status::Skip), 0);
    /// ```
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// What the checks add up to: any failure decides, then any skip.
    ///
    /// ```
    /// use strongroom::doctor::{Budget, Conclusion, Report, machine};
    /// let m = machine();
    /// let empty = Report { budget: Budget::of(&m), machine: m, checks: vec![] };
    /// assert_eq!(empty.conclusion(), Conclusion::AllPassed);
    /// ```
    pub fn conclusion(&self) -> Conclusion {
        if self.count(Status::Fail) > 0 {
            Conclusion::SomeFailed
        } else if self.count(Status::Skip) > 0 {
            Conclusion::SomeSkipped
        } else {
            Conclusion::AllPassed
        }
    }
}

/// The names of the checks, in order: [`run`] reports each exactly once, whatever happens.
///
/// ```
/// let names = strongroom::doctor::check_names();
/// assert!(names.iter().any(|n| n.contains("secure stack")));
/// ```
pub fn check_names() -> Vec<String> {
    let mut names: Vec<String> = RESIDENCE.iter().map(|&n| n.to_owned()).collect();
    names.extend([FORK.to_owned(), POOL.to_owned()]);
    names.extend(Scenario::ALL.iter().map(|&s| probe_name(s)));
    names.extend([STACK.to_owned(), KDF.to_owned(), STREAM.to_owned()]);
    names
}

/// Runs every check. `run_probe` must run [`probe::provoke`] for the given scenario in a
/// child process and return its output (the `strongroom` binary re-executes itself); the
/// child must exit with [`probe::SETUP_FAILED_EXIT_CODE`] when `provoke` returns an error.
///
/// ```no_run
/// use std::process::Command;
/// use strongroom::doctor::Conclusion;
///
/// let report = strongroom::doctor::run(|scenario| {
///     Command::new(std::env::current_exe()?).args(["__probe", scenario.name()]).output()
/// });
/// assert_eq!(report.checks.len(), strongroom::doctor::check_names().len());
/// std::process::exit(match report.conclusion() {
///     Conclusion::AllPassed => 0,
///     Conclusion::SomeFailed => 1,
///     Conclusion::SomeSkipped => 3,
/// });
/// ```
pub fn run(mut run_probe: impl FnMut(Scenario) -> io::Result<Output>) -> Report {
    let machine = machine();
    let budget = Budget::of(&machine);
    let mut checks = Vec::new();
    match LockedBuffer::new(32) {
        Ok(buf) => residence_checks(&buf, &machine, &mut checks),
        Err(e) => {
            checks.push(stopped_by(RESIDENCE[0], &e));
            let reason = format!("not run: no guarded secret could be allocated ({})", kind(&e));
            for name in &RESIDENCE[1..] {
                checks.push(Check::skip(*name, reason.clone(), "see the allocation check above"));
            }
        }
    }
    // The fork check before the pool's: the pool keeps its arena (a locked page) once
    // mapped, which under a one-page limit would leave no room for the fork check's buffer.
    checks.push(fork_check());
    checks.push(pool_check());
    for scenario in Scenario::ALL {
        checks.push(probe_check(scenario, &mut run_probe));
    }
    checks.push(stack_check());
    checks.push(kdf_check());
    checks.push(stream_check());
    debug_assert_eq!(checks.iter().map(|c| c.name.clone()).collect::<Vec<_>>(), check_names());
    Report { machine, budget, checks }
}

/// The checks on one guarded secret, in order.
const RESIDENCE: [&str; 6] = [
    "allocate a guarded secret (default policy)",
    "locked in RAM (no swap)",
    "excluded from core dumps",
    "kept from forked children",
    "backed by memfd_secret (out of the kernel's direct map)",
    "unreadable through /proc/self/mem",
];
const POOL: &str = "pooled secrets sit in locked, no-dump, no-fork arenas";
const FORK: &str = "a forked child sees zeros or nothing";
const STACK: &str = "code runs on a locked, no-dump secure stack";
const KDF: &str = "a key derivation (Argon2id + SHA3) runs and repeats";
const STREAM: &str = "a Stream round trip decrypts, and a flipped bit fails";

fn probe_name(scenario: Scenario) -> String {
    format!("child dies when {}", scenario.describe())
}

const LOCK_REMEDY: &str = "the environment's limit, not a broken protection: raise `ulimit -l` (LimitMEMLOCK= \
                           for services) or grant CAP_IPC_LOCK; the Budget section shows the room left";

/// The error's variant name, for short mentions.
fn kind(e: &Error) -> String {
    format!("{e:?}").split(':').next().unwrap_or("error").to_owned()
}

/// A check that `e` stopped. The environment's doing (a skip) when the request needed more
/// locked memory than `RLIMIT_MEMLOCK` left, or a protection this kernel lacks; a failure
/// when the request fitted and the library should have managed.
fn stopped_by(name: &str, e: &Error) -> Check {
    match e {
        Error::LockLimit { needed, limit: Some(limit), locked } => {
            let room = limit.saturating_sub(locked.unwrap_or(0));
            if *needed as u64 > room {
                Check::skip(name, format!("not run: {e}"), LOCK_REMEDY)
            } else {
                Check::fail(
                    name,
                    e.to_string(),
                    format!(
                        "the request ({needed} bytes) fitted the {room} bytes RLIMIT_MEMLOCK left, so the \
                         library should have managed; meanwhile {LOCK_REMEDY}"
                    ),
                )
            }
        }
        Error::LockLimit { .. } => Check::fail(name, e.to_string(), LOCK_REMEDY),
        Error::Unsupported(_) => {
            Check::skip(name, format!("not run: {e}"), "this kernel lacks a protection the default policy requires")
        }
        other => Check::fail(name, other.to_string(), "the default policy cannot be met here; see the error"),
    }
}

/// Checks where the secret lives: smaps flags, memfd_secret, and /proc/self/mem. Pushes one
/// check for each name of [`RESIDENCE`].
fn residence_checks(buf: &LockedBuffer, machine: &Machine, checks: &mut Vec<Check>) {
    let got = buf.protections();
    let backing = if got.secret_memory { "memfd_secret pages" } else { "anonymous pages" };
    checks.push(Check::pass(RESIDENCE[0], backing));

    let addr = buf.address_range().start;
    match procfs::smaps_entry(addr) {
        Some(entry) => {
            checks.push(smaps_check(
                RESIDENCE[1],
                &entry,
                &["lo"],
                "raise `ulimit -l` or grant CAP_IPC_LOCK; without a lock the pages may be swapped out",
            ));
            checks.push(smaps_check(RESIDENCE[2], &entry, &["dd"], "the kernel ignored MADV_DONTDUMP; report a bug"));
            checks.push(smaps_check(
                RESIDENCE[3],
                &entry,
                &["wf", "dc"],
                "the kernel lacks MADV_WIPEONFORK/MADV_DONTFORK (Linux ≥ 4.14 needed)",
            ));
        }
        None => {
            for name in &RESIDENCE[1..4] {
                checks.push(Check::fail(*name, "the secret's mapping is not in /proc/self/smaps", "report a bug"));
            }
        }
    }
    checks.push(secret_memory_check(buf, machine));
    if got.secret_memory {
        checks.push(proc_mem_check(addr));
    } else {
        checks.push(Check::skip(
            RESIDENCE[5],
            "not run: the secret is not in memfd_secret pages (see the check above)",
            "only memfd_secret pages are out of the kernel's direct map",
        ));
    }
}

fn pool_check() -> Check {
    const NAME: &str = POOL;
    let secret = match crate::SecretBox::new(|k: &mut [u8; 32]| k.fill(0xA5)) {
        Ok(secret) => secret,
        Err(e) => return stopped_by(NAME, &e),
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
    const NAME: &str = FORK;
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
        Err(e) => stopped_by(NAME, &e),
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
    const NAME: &str = RESIDENCE[4];
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
    const NAME: &str = RESIDENCE[5];
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
    let name = probe_name(scenario);
    match run_probe(scenario) {
        Ok(output) => {
            let verdict = probe::judge(scenario, output.status, &output.stderr);
            if verdict.passed {
                Check::pass(name, verdict.observed)
            } else if let Some(reason) = &verdict.not_run {
                let remedy = if reason.contains("RLIMIT_MEMLOCK") || reason.contains("ulimit") {
                    LOCK_REMEDY
                } else {
                    "the child could not allocate what the probe needs; see its reason"
                };
                Check::skip(name, verdict.observed, remedy)
            } else {
                Check::fail(name, verdict.observed, "the protection did not fire: report a bug with this output")
            }
        }
        Err(e) => {
            Check::fail(name, format!("could not start the child: {e}"), "check that the binary can re-execute itself")
        }
    }
}

/// Runs a closure on the secure stack and looks at the stack from /proc/self/smaps.
fn stack_check() -> Check {
    if !crate::stack::is_available() {
        return Check::skip(STACK, "not run: this build cannot switch stacks", "secure stacks need Unix");
    }
    let ran = crate::stack::run(|| {
        let local = std::hint::black_box(0u8);
        procfs::smaps_entry(std::ptr::from_ref(&local) as usize)
    });
    match ran {
        Ok(Some(entry)) => {
            let missing: Vec<&str> = ["lo", "dd"].into_iter().filter(|f| !entry.has_flag(f)).collect();
            if missing.is_empty() {
                Check::pass(STACK, format!("the closure's locals sit in pages with VmFlags {}", entry.flags.join(" ")))
            } else {
                Check::fail(
                    STACK,
                    format!("the stack's VmFlags lack {}: {}", missing.join(" "), entry.flags.join(" ")),
                    "report a bug: the secure stack did not get its protections",
                )
            }
        }
        Ok(None) => Check::fail(STACK, "the stack's mapping is not in /proc/self/smaps", "report a bug"),
        Err(e) => stopped_by(STACK, &e),
    }
}

/// Derives a key twice with small, fast parameters: both must succeed, agree, and be frozen.
fn kdf_check() -> Check {
    use crate::kdf::{KdfParams, derive_key_combined};
    let params = KdfParams { memory_kib: 64, iterations: 1, rounds: 16 };
    let derive = || derive_key_combined(b"strongroom doctor", b"doctor-salt-16by", &params);
    let derived = derive().and_then(|a| Ok((a, derive()?)));
    // The KDF keeps its work memory for the next derivation; the checks after this one need
    // that room under a small RLIMIT_MEMLOCK.
    crate::kdf::release_work_memory();
    let (a, b) = match derived {
        Ok(pair) => pair,
        Err(e) => return stopped_by(KDF, &e),
    };
    let same = match (a.key.expose(), b.key.expose()) {
        (Ok(x), Ok(y)) => *x == *y,
        (Err(e), _) | (_, Err(e)) => return Check::fail(KDF, format!("could not read the key: {e}"), "report a bug"),
    };
    let work = if a.work_memory.locked { "locked" } else { "not locked (no room under RLIMIT_MEMLOCK)" };
    if same && a.key.is_frozen() {
        Check::pass(KDF, format!("Argon2id 64 KiB x1 + 16 SHA3 rounds: equal frozen 32-byte keys; work memory {work}"))
    } else {
        Check::fail(KDF, format!("equal keys: {same}, frozen: {}", a.key.is_frozen()), "report a bug")
    }
}

/// Encrypts a few chunks with a random key and decrypts them; a flipped bit must be refused.
fn stream_check() -> Check {
    use crate::stream::{Decryptor, Encryptor};
    let key = match crate::aead::Key::random() {
        Ok(key) => key,
        Err(e) => return stopped_by(STREAM, &e),
    };
    let plain: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
    let mut enc = match Encryptor::new(&key, Vec::new()) {
        Ok(enc) => enc,
        Err(e) => return stopped_by(STREAM, &e),
    };
    if let Err(e) = enc.write_all(&plain) {
        return Check::fail(STREAM, format!("encrypting failed: {e}"), "see the error");
    }
    let sealed = match enc.finish() {
        Ok(sealed) => sealed,
        Err(e) => return stopped_by(STREAM, &e),
    };
    let open = |bytes: &[u8]| -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Decryptor::new(&key, bytes).map_err(io::Error::other)?.read_to_end(&mut out)?;
        Ok(out)
    };
    let mut tampered = sealed.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 1;
    match (open(&sealed), open(&tampered)) {
        (Ok(round), Err(_)) if round == plain => Check::pass(
            STREAM,
            format!("{} bytes in {} sealed bytes came back; the flipped bit was refused", plain.len(), sealed.len()),
        ),
        (Ok(_), Ok(_)) => Check::fail(STREAM, "a tampered stream decrypted", "report a bug"),
        (Ok(_), Err(_)) => Check::fail(STREAM, "the decrypted bytes differ from the plaintext", "report a bug"),
        (Err(e), _) => Check::fail(STREAM, format!("decrypting failed: {e}"), "see the error"),
    }
}
