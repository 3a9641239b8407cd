//! How many live 32-byte secrets a process can hold. One-page-per-secret designs stop at
//! 2,048 under the default 8 MiB RLIMIT_MEMLOCK, and near 16,000 as root (the kernel's
//! map-count limit); the pool must reach 100,000 and 1,000,000. Each runs in a child.
#![cfg(target_os = "linux")]

mod common;

use std::process::Output;

use strongroom::SecretBox;

const DONE: &str = "scale child finished";

/// Holds `n` live secrets, checks each kept its value, prints the figures.
fn hold(n: usize) {
    let secrets: Vec<SecretBox<[u8; 32]>> =
        (0..n).map(|i| SecretBox::new(|k: &mut [u8; 32]| k.fill(i as u8)).expect("allocation")).collect();
    for (i, s) in secrets.iter().enumerate().step_by(997) {
        assert!(s.expose().unwrap().iter().all(|&b| b == i as u8));
    }
    let stats = strongroom::pool::stats();
    assert_eq!(stats.locked_bytes, stats.bytes, "some arena is unlocked");
    println!(
        "{n} live secrets: {} arenas, {} bytes locked, {:.1} locked bytes per secret",
        stats.arenas,
        stats.locked_bytes,
        stats.locked_bytes as f64 / n as f64
    );
    println!("{DONE}");
}

/// Checks the child finished and shows its figures.
fn report(out: &Output) {
    common::assert_finished(out, DONE);
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{}", stdout.lines().find(|l| l.contains("live secrets")).unwrap_or(""));
}

#[test]
fn a_hundred_thousand_secrets_fit_in_the_default_8_mib_without_privilege() {
    const TEST: &str = "a_hundred_thousand_secrets_fit_in_the_default_8_mib_without_privilege";
    if common::is_child("scale-100k") {
        assert!(!common::has_cap_ipc_lock(), "the child must not hold CAP_IPC_LOCK");
        hold(100_000);
        return;
    }
    let Some(out) = common::run_child_under_memlock(TEST, "scale-100k", 8 * 1024 * 1024) else { return };
    report(&out);
}

#[test]
fn a_million_secrets_fit_as_root() {
    const TEST: &str = "a_million_secrets_fit_as_root";
    if common::is_child("scale-1m") {
        hold(1_000_000);
        return;
    }
    if !common::has_cap_ipc_lock() {
        common::missing(TEST, "holding 1,000,000 locked secrets needs CAP_IPC_LOCK (run as root)");
        return;
    }
    report(&common::run_child(TEST, "scale-1m", &[]));
}
