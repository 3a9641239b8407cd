//! After `fork`, a child must find no secret of its parent's (zeros or no mapping), must be
//! able to drop what it inherited without a false canary alarm, and must still be able to
//! make new secrets. Each test forks once and reports through the child's exit code.

use crate::sys;
use crate::{Error, LockedBuffer, SecretBox, SecretString, SecretVec};

/// Runs `child` in a forked child; returns its exit code (a signal counts as failure).
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the closures below only read memory, make atomic loads, and (in the last
    // test) allocate through the pool, whose locks a child never shares with its parent
    // (each fork generation gets its own); glibc makes malloc safe after fork.
    let status = unsafe { sys::fork_and_wait(child) }.expect("fork");
    status.code().unwrap_or_else(|| panic!("child died: {status}"))
}

#[test]
fn inherited_secrets_are_unusable_and_drop_quietly_in_the_child() {
    let pooled = SecretBox::new(|k: &mut [u8; 32]| k.fill(0xA5)).unwrap();
    let strict = SecretBox::strict(|k: &mut [u8; 32]| k.fill(0xA5)).unwrap();
    let mut vec = SecretVec::new();
    vec.extend_from_slice(&[0xA5u8; 100]).unwrap();
    let mut text = SecretString::new();
    text.push_str("parent's secret").unwrap();
    let buffer = LockedBuffer::random(64).unwrap();

    let code = in_child(move || {
        let lost = |r: Result<(), Error>| matches!(r, Err(Error::LostToFork));
        let all_lost = lost(pooled.expose().map(drop))
            && lost(strict.expose().map(drop))
            && lost(vec.expose().map(drop))
            && lost(text.expose().map(drop))
            && lost(buffer.expose().map(drop));
        // Dropping must neither abort (canary) nor fault (unmapped pages).
        drop((pooled, strict, vec, text, buffer));
        if all_lost { 0 } else { 1 }
    });
    assert_eq!(code, 0, "the child could still reach a parent's secret");
}

#[test]
fn a_child_can_make_new_secrets() {
    let _parent = SecretBox::new(|k: &mut [u8; 32]| k.fill(1)).unwrap();
    let code = in_child(|| {
        let fresh = SecretBox::new(|k: &mut [u8; 32]| k.fill(2));
        let ok = fresh.is_ok_and(|b| b.expose().is_ok_and(|k| k.iter().all(|&x| x == 2)));
        if ok { 0 } else { 1 }
    });
    assert_eq!(code, 0);
}
