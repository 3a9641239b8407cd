//! Sizes the machine cannot hold fail at allocation, with a clear error, not later; and a
//! large buffer that was barely touched drops without faulting in its pages.
#![cfg(target_os = "linux")]

mod common;

use std::time::{Duration, Instant};

use strongroom::{Error, LockedBuffer, SecretVec};

const ONE_TIB: usize = 1 << 40;

#[test]
fn a_tebibyte_of_locked_memory_is_refused_at_once() {
    let err = LockedBuffer::new(ONE_TIB).unwrap_err();
    assert!(matches!(err, Error::MoreThanMemory { .. }), "{err:?}");
    assert!(err.to_string().contains("must stay in RAM"), "{err}");
    let err = SecretVec::<u8>::with_capacity(ONE_TIB).unwrap_err();
    assert!(matches!(err, Error::MoreThanMemory { .. }), "{err:?}");
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
