//! Helpers shared by the CLI's integration tests: the binary run with input, and temporary
//! directories. Each test file compiles this module on its own and uses a part of it.

#![allow(dead_code, reason = "each test binary uses a different subset")]

pub(crate) mod tmux;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Runs `strongroom args` in `dir` with `stdin` as its standard input, to the end.
pub(crate) fn strongroom(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin); // a command that fails early stops reading
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

/// `out`, after asserting it exited successfully (else its stderr is the failure message).
pub(crate) fn ok(out: &Output) -> &Output {
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    out
}

/// A fresh, empty directory for one test.
pub(crate) fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strongroom-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `len` bytes of a fixed pattern.
pub(crate) fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 1) as u8).collect()
}

/// Whether `program` can be found on PATH.
pub(crate) fn have(program: &str) -> bool {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

/// Whether CI promises the environment (`CI=true`, running as root), so that a missing tool
/// is a failure there rather than a skip (as `strongroom/tests/common`).
pub(crate) fn ci_promises_environment() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true") && is_root()
}

/// Whether this process runs as root (effective user id 0).
pub(crate) fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    // `Uid:` lists the real, effective, saved and filesystem ids.
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1)) == Some("0")
}

/// Reports that `test` did not run, and why, where `cargo test` shows it (straight to
/// stderr: libtest captures only the `print!` family), in one write.
pub(crate) fn skip(test: &str, reason: &str) {
    let line = format!("SKIPPED {test}: {reason}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A prerequisite of `test` is missing: a failure where CI promises the environment
/// ([`ci_promises_environment`]), a visible skip elsewhere. The caller returns after this.
#[track_caller]
pub(crate) fn missing(test: &str, what: &str) {
    assert!(!ci_promises_environment(), "{test}: {what}, but CI (CI=true, running as root) promises it");
    skip(test, what);
}
