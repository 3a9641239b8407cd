//! Sizes the machine cannot hold fail at allocation, with a clear error, not later; and a
//! large buffer that was barely touched drops without faulting in its pages.
#![cfg(target_os = "linux")]

mod common;

use std::time::{Duration, Instant};

use strongroom::{Error, LockedBuffer, Need, Policy, SecretVec};

const ONE_TIB: usize = 1 << 40;

#[test]
fn a_tebibyte_of_locked_memory_is_refused_at_once() {
    let err = LockedBuffer::new(ONE_TIB).unwrap_err();
    assert!(matches!(err, Error::MoreThanMemory { .. }), "{err:?}");
    assert!(err.to_string().contains("must stay in RAM"), "{err}");
    let err = SecretVec::<u8>::with_capacity(ONE_TIB).unwrap_err();
    assert!(matches!(err, Error::MoreThanMemory { .. }), "{err:?}");
}

/// Only memory that must stay in RAM is measured against RAM: locking alone, or
/// `memfd_secret` alone, makes a tebibyte `MoreThanMemory`; with neither, the request is the
/// kernel's to grant or refuse (the check must not refuse what could be swapped).
#[test]
fn only_memory_that_must_stay_in_ram_is_measured_against_it() {
    let lock_only = Policy { secret_memory: Need::Off, ..Policy::STANDARD };
    let secret_only = Policy { lock: Need::Off, ..Policy::STANDARD };
    for policy in [lock_only, secret_only] {
        let err = LockedBuffer::with_policy(ONE_TIB, policy).unwrap_err();
        assert!(matches!(err, Error::MoreThanMemory { .. }), "{policy:?}: {err:?}");
    }
    let neither = Policy { secret_memory: Need::Off, lock: Need::Off, ..Policy::STANDARD };
    match LockedBuffer::with_policy(ONE_TIB, neither) {
        Err(err @ Error::MoreThanMemory { .. }) => panic!("refused as if it had to stay in RAM: {err:?}"),
        Err(_) => {} // the kernel refused the reservation (heuristic overcommit)
        // Granted and untouched: leave it mapped rather than have the drop scan a tebibyte.
        Ok(granted) => std::mem::forget(granted),
    }
}

#[test]
fn a_large_barely_touched_secret_drops_quickly() {
    // memfd_secret pages are zeroed by the kernel when freed; the wipe on drop must not fault
    // in the pages that were never touched (that took seconds per GiB, and could OOM).
    let mut big = match LockedBuffer::new(256 << 20) {
        Ok(big) => big,
        Err(Error::LockLimit { .. }) => {
            return common::missing(
                "a_large_barely_touched_secret_drops_quickly",
                "256 MiB cannot be locked here (not root)",
            );
        }
        Err(e) => panic!("{e:?}"),
    };
    if !big.protections().secret_memory {
        // Anonymous locked pages are all resident, so all of them are wiped.
        return common::missing("a_large_barely_touched_secret_drops_quickly", "memfd_secret is not available");
    }
    big.expose_mut().unwrap()[12345] = 1;
    let start = Instant::now();
    drop(big);
    assert!(start.elapsed() < Duration::from_millis(50), "drop took {:?}", start.elapsed());
}
