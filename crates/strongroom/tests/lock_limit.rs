//! Over `RLIMIT_MEMLOCK`, allocation fails with `LockLimit` (with figures), leaks no mapping
//! and no locked page, and later allocations still work. The body runs in a child process
//! with a 128 KiB limit and, when we are privileged, without `CAP_IPC_LOCK` (dropped by
//! `setpriv`), because a process with that capability is not limited at all.
#![cfg(target_os = "linux")]

mod common;

use std::fs;

use strongroom::{Error, LockedBuffer, Need, Policy, SecretBox};

const LIMIT: u64 = 128 * 1024;
const ROLE: &str = "lock-limit";
const DONE: &str = "lock-limit child finished";
const TEST: &str = "exceeding_memlock_is_a_lock_limit_error_that_leaks_nothing";

/// (locked KiB, number of mappings): what a leak would change.
fn footprint() -> (String, usize) {
    (common::status_field("VmLck"), fs::read_to_string("/proc/self/maps").unwrap().lines().count())
}

fn exhaust(policy: Policy) {
    let mut held = Vec::new();
    loop {
        let before = footprint();
        match LockedBuffer::with_policy(4096, policy) {
            Ok(buf) => {
                assert!(buf.protections().locked, "a buffer came back unlocked under {policy:?}");
                held.push(buf);
                assert!(held.len() <= 64, "{LIMIT} bytes of RLIMIT_MEMLOCK never ran out");
            }
            Err(Error::LockLimit { needed, limit, locked }) => {
                assert_eq!(limit, Some(LIMIT));
                assert!(needed >= 4096, "needed = {needed}");
                assert!(locked.is_some());
                assert_eq!(footprint(), before, "the failed allocation left a mapping or a lock behind");
                let msg = Error::LockLimit { needed, limit, locked }.to_string();
                assert!(msg.contains("RLIMIT_MEMLOCK is 128 KiB") && msg.contains("ulimit -l"), "{msg}");
                break;
            }
            Err(other) => panic!("expected LockLimit, got {other}"),
        }
    }
    assert!(held.len() >= 4, "only {} buffers fit under {LIMIT} bytes", held.len());
    // Free one and the next allocation succeeds again.
    held.pop();
    held.push(LockedBuffer::with_policy(4096, policy).expect("allocation after freeing one"));
    // Over the limit, a policy that allows it downgrades visibly instead of failing.
    let relaxed = Policy { lock: Need::Preferred, ..policy };
    let unlocked = LockedBuffer::with_policy(4096, relaxed).expect("a relaxed policy never fails for want of a lock");
    let got = unlocked.protections();
    assert!(!got.locked && !got.secret_memory, "{got:?}");
}

/// `memfd_secret` pages count against `RLIMIT_MEMLOCK` too. Where they are required, running
/// out is `LockLimit`, even when locking itself is only preferred: never a quiet fall back to
/// anonymous pages, and never a bare OS error.
fn exhaust_required_secret_memory() {
    for policy in [Policy::STRICT, Policy { lock: Need::Preferred, ..Policy::STRICT }] {
        let mut held = Vec::new();
        let error = loop {
            match LockedBuffer::with_policy(4096, policy) {
                Ok(buf) => {
                    let got = buf.protections();
                    assert!(got.secret_memory && got.locked, "{got:?} under {policy:?}");
                    held.push(buf);
                    assert!(held.len() <= 64, "{LIMIT} bytes of RLIMIT_MEMLOCK never ran out");
                }
                Err(e) => break e,
            }
        };
        assert!(
            matches!(error, Error::LockLimit { limit: Some(LIMIT), .. }),
            "{policy:?}: expected LockLimit, got {error}"
        );
        assert!(held.len() >= 4, "only {} buffers fit under {LIMIT} bytes", held.len());
    }
}

/// Pooled secrets share arenas, but the arenas are locked too: running out is `LockLimit`.
fn exhaust_pool() {
    let mut held = Vec::new();
    let error = loop {
        match SecretBox::new(|k: &mut [u8; 1024]| k.fill(1)) {
            Ok(secret) => {
                assert!(secret.protections().locked, "a pooled secret came back unlocked");
                held.push(secret);
                assert!(held.len() <= 1000, "{LIMIT} bytes of RLIMIT_MEMLOCK never ran out");
            }
            Err(e) => break e,
        }
    };
    assert!(matches!(error, Error::LockLimit { limit: Some(LIMIT), .. }), "expected LockLimit, got {error}");
    assert!(held.len() >= 16, "only {} pooled secrets fit", held.len());
    drop(held);
    SecretBox::new(|k: &mut [u8; 1024]| k.fill(1)).expect("allocation after freeing");
}

#[test]
fn exceeding_memlock_is_a_lock_limit_error_that_leaks_nothing() {
    if common::is_child(ROLE) {
        assert!(!common::has_cap_ipc_lock(), "the child still holds CAP_IPC_LOCK: the limit would not apply");
        strongroom::tuning::set_region_cache_limit(0);
        exhaust(Policy::default());
        exhaust(Policy { secret_memory: Need::Off, ..Policy::default() });
        if common::kernel_has_memfd_secret() {
            exhaust_required_secret_memory();
        } else {
            common::missing(TEST, "memfd_secret is not available on this kernel");
        }
        exhaust_pool(); // last: the pool keeps its arenas, and their locked pages
        println!("{DONE}");
        return;
    }
    let Some(out) = common::run_child_under_memlock(TEST, ROLE, LIMIT) else { return };
    common::assert_finished(&out, DONE);
}
