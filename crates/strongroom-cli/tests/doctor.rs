//! `strongroom doctor` end to end, as a user runs it.
#![cfg(target_os = "linux")]

use std::io::Write;
use std::process::Command;

fn strongroom(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strongroom")).args(args).output().expect("the binary runs")
}

/// Whether CI promises the environment (`CI=true`, running as root: a kernel with
/// `memfd_secret`), as in `strongroom/tests/common`, which another crate's tests cannot share.
fn ci_promises_environment() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1));
    std::env::var("CI").is_ok_and(|v| v == "true") && euid == Some("0")
}

/// The exit code a report must end with: 0 all passed, 1 a failure, 3 skips only.
fn expected_exit_code(report: &serde_json::Value) -> i32 {
    let count = |status: &str| report["checks"].as_array().unwrap().iter().filter(|c| c["status"] == status).count();
    match (count("fail"), count("skip")) {
        (0, 0) => 0,
        (0, _) => 3,
        _ => 1,
    }
}

/// Reports that `test` did not run, and why, where `cargo test` shows it (as
/// `strongroom/tests/common::skip`, which another crate's tests cannot share).
fn skip(test: &str, reason: &str) {
    let line = format!("SKIPPED {test}: {reason}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// A prerequisite of `test` is missing: a failure where CI promises the environment, a
/// visible skip elsewhere (as `strongroom/tests/common::missing`).
#[track_caller]
fn missing(test: &str, what: &str) {
    assert!(!ci_promises_environment(), "{test}: {what}, but CI (CI=true, running as root) promises it");
    skip(test, what);
}

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1)) == Some("0")
}

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

/// Runs `strongroom doctor --json` as nobody (uid 65534, no capabilities) under an
/// `RLIMIT_MEMLOCK` of `limit` bytes; `None` (after a visible skip) when not root or when
/// `prlimit`/`setpriv` are missing.
fn doctor_as_nobody(test: &str, limit: u64, table: bool) -> Option<std::process::Output> {
    if !is_root() {
        missing(test, "needs root to drop to nobody without CAP_IPC_LOCK");
        return None;
    }
    for program in ["prlimit", "setpriv"] {
        if !have(program) {
            missing(test, &format!("{program} (util-linux) is not installed"));
            return None;
        }
    }
    let limit = format!("--memlock={limit}:{limit}");
    let mut cmd = Command::new("prlimit");
    cmd.args([limit.as_str(), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]).args([
        "--inh-caps=-all",
        "--bounding-set=-all",
        env!("CARGO_BIN_EXE_strongroom"),
        "doctor",
    ]);
    if !table {
        cmd.arg("--json");
    }
    Some(cmd.output().expect("prlimit runs"))
}

/// Under a small or zero limit, a check that cannot run is a skip that says why: never a
/// "report a bug" failure, never missing from the report.
fn doctor_under_limit_reports_every_check(test: &str, limit: u64) {
    let Some(out) = doctor_as_nobody(test, limit, false) else { return };
    let text = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: not JSON:\n{text}\n{}", String::from_utf8_lossy(&out.stderr)));
    assert!(!text.contains("report a bug"), "a check blames a bug under a {limit}-byte limit:\n{text}");
    let checks = report["checks"].as_array().expect("a list of checks");
    let baseline: serde_json::Value = serde_json::from_slice(&strongroom(&["doctor", "--json"]).stdout).unwrap();
    let names = |checks: &[serde_json::Value]| checks.iter().map(|c| c["name"].clone()).collect::<Vec<_>>();
    assert_eq!(names(checks), names(baseline["checks"].as_array().unwrap()), "checks vanished or moved");
    let counts = &report["counts"];
    let sum = ["pass", "fail", "skip"].iter().map(|s| counts[s].as_u64().unwrap()).sum::<u64>();
    assert_eq!(sum, checks.len() as u64, "{counts}");
    assert!(counts["skip"].as_u64().unwrap() > 0, "a {limit}-byte limit must keep some checks from running:\n{text}");
    for check in checks.iter().filter(|c| c["status"] != "pass") {
        assert!(check["remedy"].is_string(), "no remedy: {check}");
    }
    for check in checks.iter().filter(|c| c["status"] == "skip") {
        assert!(!check["detail"].as_str().unwrap().is_empty(), "a skip without its reason: {check}");
    }
    assert_eq!(out.status.code(), Some(expected_exit_code(&report)), "{text}");
    // The budget: no room beyond the limit.
    assert_eq!(report["budget"]["memlock_limit_bytes"], limit);
    assert!(report["budget"]["room_bytes"].as_u64().unwrap() <= limit);
}

#[test]
fn doctor_under_a_4_kib_memlock_limit_skips_what_cannot_run() {
    let test = "doctor_under_a_4_kib_memlock_limit_skips_what_cannot_run";
    doctor_under_limit_reports_every_check(test, 4096);
}

#[test]
fn doctor_under_a_zero_memlock_limit_skips_every_check_and_exits_3() {
    let test = "doctor_under_a_zero_memlock_limit_skips_every_check_and_exits_3";
    doctor_under_limit_reports_every_check(test, 0);
    let Some(out) = doctor_as_nobody(test, 0, true) else { return };
    let text = String::from_utf8_lossy(&out.stdout);
    // Nothing can be locked, so nothing is proven, and nothing is blamed.
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("0 passed, 0 failed"), "{text}");
    assert!(text.contains("not run: the child could not set up the probe"), "{text}");
    assert!(text.contains("Budget") && text.contains("guarded buffers  0 more"), "{text}");
}

#[test]
fn doctor_json_reports_every_check_and_exits_by_the_result() {
    let out = strongroom(&["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let checks = report["checks"].as_array().expect("a list of checks");
    let failed: Vec<_> = checks.iter().filter(|c| c["status"] == "fail").collect();
    let skipped: Vec<_> = checks.iter().filter(|c| c["status"] == "skip").collect();
    assert_eq!(out.status.code(), Some(expected_exit_code(&report)), "exit code disagrees with the checks");
    assert!(failed.is_empty(), "failing checks on this machine: {failed:#?}");
    assert_eq!(report["passed"], true);
    assert_eq!(report["counts"]["total"], checks.len());
    // A check the machine cannot run (no memfd_secret) is a skip, not a failure: say so where
    // `cargo test` shows it (libtest captures only the `print!` family), and fail in CI,
    // whose kernel has everything.
    for check in &skipped {
        let line = format!("SKIPPED doctor check {}: {}\n", check["name"], check["detail"]);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    assert!(!ci_promises_environment() || skipped.is_empty(), "CI promises every check, but: {skipped:#?}");
    for name in ["SIGSEGV", "SIGABRT"] {
        assert!(checks.iter().any(|c| c["detail"].as_str().unwrap().contains(name)), "no child died of {name}");
    }
    assert!(report["machine"]["page_size"].as_u64().unwrap() >= 4096);
}

#[test]
fn doctor_table_names_each_check() {
    let out = strongroom(&["doctor"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in ["Machine", "RLIMIT_MEMLOCK", "locked in RAM", "excluded from core dumps", "overflow", "passed"] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn an_unknown_probe_scenario_is_a_usage_error() {
    let out = strongroom(&["__probe", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown probe scenario"));
}

#[test]
fn a_usage_error_exits_2_and_help_documents_the_exit_codes() {
    assert_eq!(strongroom(&["doctor", "--no-such-flag"]).status.code(), Some(2));
    let help = strongroom(&["doctor", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in ["Exit status", "0  every check", "1  a protection failed", "2  usage error", "3  nothing failed"] {
        assert!(help.contains(needle), "missing {needle:?} in:\n{help}");
    }
}

/// A probe child that cannot set up exits with its own code (the doctor shows a skip), one
/// that survives with another (the doctor shows a failure): the control for the "not run" path.
#[test]
fn a_probe_child_that_cannot_set_up_says_so_in_its_exit_code() {
    let test = "a_probe_child_that_cannot_set_up_says_so_in_its_exit_code";
    if !have("prlimit") {
        missing(test, "prlimit (util-linux) is not installed");
        return;
    }
    let mut cmd = Command::new("prlimit");
    cmd.arg("--memlock=0:0");
    if is_root() {
        if !have("setpriv") {
            missing(test, "setpriv (util-linux) is needed to drop CAP_IPC_LOCK");
            return;
        }
        cmd.args(["setpriv", "--inh-caps=-all", "--bounding-set=-all"]);
    }
    let out = cmd.args([env!("CARGO_BIN_EXE_strongroom"), "__probe", "overflow-past-end"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("could not set up the probe") && stderr.contains("RLIMIT_MEMLOCK"), "{stderr}");
}
