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

#[test]
fn doctor_json_reports_every_check_and_exits_by_the_result() {
    let out = strongroom(&["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let checks = report["checks"].as_array().expect("a list of checks");
    let failed: Vec<_> = checks.iter().filter(|c| c["status"] == "fail").collect();
    assert_eq!(out.status.success(), failed.is_empty(), "exit code disagrees with the checks");
    assert!(failed.is_empty(), "failing checks on this machine: {failed:#?}");
    assert_eq!(report["passed"], true);
    // A check the machine cannot run (no memfd_secret) is a skip, not a failure: say so where
    // `cargo test` shows it (libtest captures only the `print!` family), and fail in CI,
    // whose kernel has everything.
    let skipped: Vec<_> = checks.iter().filter(|c| c["status"] == "skip").collect();
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
fn a_probe_that_survives_fails_loudly() {
    let out = strongroom(&["__probe", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown probe scenario"));
}
