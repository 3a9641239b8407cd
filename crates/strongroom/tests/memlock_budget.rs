//! Every feature under the locked-memory limits real deployments have, as an unprivileged
//! user without `CAP_IPC_LOCK`: 64 KiB (the kernel default before 5.16, and what many
//! containers and systemd services get) must just work with the default policy; 0 must fail
//! with an error that names the limit, the need and the remedy, or work with the visible
//! downgrade the caller chose (`Policy::set_default`). The program is
//! `examples/every_feature.rs`, which `cargo test` builds.
#![cfg(target_os = "linux")]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The example binary `cargo test` built next to this test's own binary.
fn every_feature() -> PathBuf {
    // Beside `deps/` in the profile's directory (target/<profile>/examples); cargo's newer
    // build-dir layout puts the test deeper, so look upwards for it.
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let found = exe.ancestors().skip(1).map(|dir| dir.join("examples").join("every_feature")).find(|p| p.exists());
    found.unwrap_or_else(|| {
        exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps").join("examples/every_feature")
    })
}

/// Runs the program as nobody, without capabilities, under `limit` bytes of RLIMIT_MEMLOCK.
fn run(test: &str, limit: u64, args: &[&str]) -> Option<Output> {
    if !common::is_root() {
        common::missing(test, "switching to an unprivileged user (setpriv) needs root");
        return None;
    }
    if !common::have("prlimit") || !common::have("setpriv") {
        common::missing(test, "prlimit and setpriv (util-linux) are needed");
        return None;
    }
    let program = every_feature();
    assert!(program.exists(), "{} is missing: `cargo test` builds the examples", program.display());
    let limit = format!("--memlock={limit}:{limit}");
    let out = Command::new("prlimit")
        .args([limit.as_str(), "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        .args(["--inh-caps=-all", "--bounding-set=-all"])
        .arg(&program)
        .args(args)
        .output()
        .expect("prlimit starts");
    Some(out)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_feature_works_under_64_kib_with_the_default_policy() {
    let Some(out) = run("every_feature_works_under_64_kib_with_the_default_policy", 64 * 1024, &[]) else { return };
    let text = stdout(&out);
    assert!(
        out.status.success() && text.contains("10 worked, 0 failed"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("locked: false") || text.lines().all(|l| !l.contains("locked: false") || l.contains("kdf")),
        "only the KDF's work memory (64 MiB, locked where the limit allows) may go unlocked by default:\n{text}"
    );
}

#[test]
fn under_a_zero_limit_every_feature_says_which_limit_what_it_needs_and_what_to_do() {
    let Some(out) = run("under_a_zero_limit_every_feature_says_which_limit_what_it_needs_and_what_to_do", 0, &[])
    else {
        return;
    };
    let text = stdout(&out);
    assert!(!out.status.success(), "{text}");
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error")).collect();
    assert!(!errors.is_empty(), "{text}");
    for line in errors {
        assert!(line.contains("LockLimit: cannot lock"), "not a lock-limit error: {line}");
        assert!(line.contains("RLIMIT_MEMLOCK is 0 bytes"), "the limit is not named: {line}");
        assert!(line.contains("Policy::set_default"), "no remedy the caller can apply: {line}");
    }
}

#[test]
fn under_a_zero_limit_the_chosen_downgrade_works_and_shows() {
    let Some(out) = run("under_a_zero_limit_the_chosen_downgrade_works_and_shows", 0, &["--allow-unlocked"]) else {
        return;
    };
    let text = stdout(&out);
    assert!(out.status.success() && text.contains("10 worked, 0 failed"), "{text}");
    assert!(text.contains("locked: false"), "the downgrade is not visible:\n{text}");
}
