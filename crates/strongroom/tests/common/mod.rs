//! Helpers shared by the integration tests: this test binary re-run as a child process, what
//! `/proc` says about this process, and skips that show.
//!
//! Each test file compiles this module on its own and uses a different part of it.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::fs;
use std::io::Write;
use std::process::{Command, Output};

// Child processes ------------------------------------------------------------------------------

/// The environment variable that tells a re-executed test binary it is the child.
pub(crate) const CHILD_ENV: &str = "STRONGROOM_TEST_CHILD";

/// Whether this process is the child for `role`.
pub(crate) fn is_child(role: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == role)
}

/// A command that re-runs exactly `test` of the current test binary, prefixed by `wrapper`
/// (e.g. `setpriv` and its arguments), with the child marker set to `role`.
pub(crate) fn child_command(test: &str, role: &str, wrapper: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(&exe);
            cmd
        }
        None => Command::new(&exe),
    };
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"]).env(CHILD_ENV, role);
    cmd
}

/// Runs [`child_command`] to the end and returns what it printed.
pub(crate) fn run_child(test: &str, role: &str, wrapper: &[&str]) -> Output {
    child_command(test, role, wrapper).output().expect("the child test process starts")
}

/// Runs [`child_command`] under an `RLIMIT_MEMLOCK` of `limit` bytes and, when this process
/// holds `CAP_IPC_LOCK` (which lifts the limit), without that capability. `None` when
/// `prlimit` or `setpriv` (util-linux) is missing: then the test was reported [`missing`].
#[track_caller]
pub(crate) fn run_child_under_memlock(test: &str, role: &str, limit: u64) -> Option<Output> {
    if !have("prlimit") {
        missing(test, "prlimit (util-linux) is not installed");
        return None;
    }
    let limit = format!("--memlock={limit}:{limit}");
    let mut wrapper = vec!["prlimit", limit.as_str()];
    if has_cap_ipc_lock() {
        if !have("setpriv") {
            missing(test, "setpriv (util-linux) is needed to drop CAP_IPC_LOCK");
            return None;
        }
        wrapper.extend(["setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock"]);
    }
    Some(run_child(test, role, &wrapper))
}

/// Whether `program` can be found on PATH.
pub(crate) fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// Asserts that a child ran to the end: it exited successfully and printed `done`.
pub(crate) fn assert_finished(out: &Output, done: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(done),
        "child failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

// Skips ----------------------------------------------------------------------------------------

/// Whether CI promises this test environment: `CI=true` and running as root. `.ci/run`
/// installs util-linux (`prlimit`, `setpriv`), CI's kernel has `memfd_secret`, and root
/// holds `CAP_IPC_LOCK`; there, a missing prerequisite is a failure, not a skip.
/// Under qemu-user ([`under_qemu`]) it promises nothing: qemu stands between the tests and
/// the kernel, and lacks some of what the kernel has (`memfd_secret`).
pub(crate) fn ci_promises_environment() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true") && is_root() && !under_qemu()
}

/// Reports that `test` did not run, and why, where `cargo test` shows it: libtest captures
/// only the `print!` family, so this writes to the process's stderr directly.
pub(crate) fn skip(test: &str, reason: &str) {
    let line = format!("SKIPPED {test}: {reason}\n");
    // One write, so that parallel tests do not interleave within the line. If stderr itself
    // is gone there is nowhere left to report to.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A prerequisite of `test` is missing: a failure where CI promises the environment
/// ([`ci_promises_environment`]), a visible skip elsewhere. The caller returns after this.
#[track_caller]
pub(crate) fn missing(test: &str, what: &str) {
    assert!(!ci_promises_environment(), "{test}: {what}, but CI (CI=true, running as root) promises it");
    if under_qemu() {
        skip(test, &format!("{what} (under qemu-user, which lacks some of what the kernel has)"));
    } else {
        skip(test, what);
    }
}

// qemu-user ------------------------------------------------------------------------------------

/// Set by `scripts/cross-test arm64`, which runs the test binaries (and the children they
/// start) under qemu-user; never set natively.
pub(crate) const QEMU_ENV: &str = "STRONGROOM_TEST_QEMU";

/// qemu-user 7.2 (Debian 12) applies only `MADV_DONTNEED` and returns success for the rest.
pub(crate) const QEMU_IGNORES_MADVISE: &str =
    "ignores madvise(MADV_DONTDUMP, MADV_WIPEONFORK) though it returns success";

/// Whether this test binary runs under qemu-user ([`QEMU_ENV`]).
pub(crate) fn under_qemu() -> bool {
    std::env::var_os(QEMU_ENV).is_some()
}

/// Under qemu-user, reports `test` skipped because qemu-user `lacks` something the test
/// needs, and returns true: the caller returns. Natively it returns false and the test runs.
pub(crate) fn skip_under_qemu(test: &str, lacks: &str) -> bool {
    if under_qemu() {
        skip(test, &format!("under qemu-user, which {lacks}"));
    }
    under_qemu()
}

// What /proc says about this process -----------------------------------------------------------

/// The value of `key` in `/proc/self/status`, trimmed.
pub(crate) fn status_field(key: &str) -> String {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {key} in /proc/self/status"));
    value.trim().to_owned()
}

/// Whether this process holds `CAP_IPC_LOCK` (capability 14), which lifts `RLIMIT_MEMLOCK`.
pub(crate) fn has_cap_ipc_lock() -> bool {
    u64::from_str_radix(&status_field("CapEff"), 16).expect("CapEff is hexadecimal") & (1 << 14) != 0
}

/// Whether this process runs as root (effective user id 0).
pub(crate) fn is_root() -> bool {
    // `Uid:` lists the real, effective, saved and filesystem ids.
    status_field("Uid").split_whitespace().nth(1) == Some("0")
}

/// Reads `range` of this process's memory from outside, through `/proc/self/mem`: the kernel
/// reads the pages, so unreadable pages (memfd_secret, unmapped) are an error, never a fault.
#[cfg(unix)]
pub(crate) fn read_proc_self_mem(range: std::ops::Range<usize>) -> std::io::Result<Vec<u8>> {
    use std::fs::File;
    use std::os::unix::fs::FileExt;
    let mut bytes = vec![0u8; range.len()];
    File::open("/proc/self/mem")?.read_exact_at(&mut bytes, range.start as u64)?;
    Ok(bytes)
}

/// The `VmFlags` and `Locked:` (kB) of the `/proc/self/smaps` entry holding `addr`.
pub(crate) fn smaps(addr: usize) -> (Vec<String>, u64) {
    let smaps = fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps is readable");
    let mut inside = false;
    let mut locked = 0;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            inside = (lo..hi).contains(&addr);
            continue;
        }
        if !inside {
            continue;
        }
        match first {
            "Locked:" => locked = fields.next().unwrap().parse().unwrap(),
            "VmFlags:" => return (fields.map(str::to_owned).collect(), locked),
            _ => {}
        }
    }
    panic!("no smaps entry holds {addr:#x}");
}

/// Whether this kernel gives this process `memfd_secret(2)`, asked directly rather than
/// through strongroom, whose own probe is among the things under test.
#[cfg(target_os = "linux")]
pub(crate) fn kernel_has_memfd_secret() -> bool {
    // SAFETY: memfd_secret takes one flags word and touches none of our memory; it returns a
    // new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC) };
    if fd >= 0 {
        // SAFETY: the kernel just gave us this descriptor; nothing else knows of it.
        unsafe { libc::close(fd as i32) };
    }
    fd >= 0
}

/// The line of `/proc/self/maps` whose range holds `addr`.
pub(crate) fn maps_line(addr: usize) -> String {
    let maps = fs::read_to_string("/proc/self/maps").expect("/proc/self/maps is readable");
    let holds = |line: &&str| {
        let range = line.split_whitespace().next().and_then(|r| r.split_once('-'));
        range.is_some_and(|(lo, hi)| {
            let parse = |s| usize::from_str_radix(s, 16).unwrap_or(0);
            (parse(lo)..parse(hi)).contains(&addr)
        })
    };
    maps.lines().find(holds).unwrap_or_else(|| panic!("no mapping holds {addr:#x}")).to_owned()
}
