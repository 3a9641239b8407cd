//! Helpers shared by the integration tests: run one test of this binary in a child process.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::process::{Command, Output};

/// The environment variable that tells a re-executed test binary it is the child.
pub(crate) const CHILD_ENV: &str = "STRONGROOM_TEST_CHILD";

/// Whether this process is the child for `role`.
pub(crate) fn is_child(role: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == role)
}

/// Re-runs exactly `test` of the current test binary, prefixed by `wrapper` (e.g. `setpriv`
/// and its arguments), with the child marker set to `role`.
pub(crate) fn run_child(test: &str, role: &str, wrapper: &[&str]) -> Output {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = Command::new(program);
            cmd.args(args).arg(&exe);
            cmd
        }
        None => Command::new(&exe),
    };
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, role)
        .output()
        .expect("the child test process starts")
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
