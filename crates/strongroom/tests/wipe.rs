//! Freed secrets are wiped. What we can observe without undefined behaviour: a freed guarded
//! region goes to the reuse cache, so the next buffer of the same page count gets the very
//! same pages back, and they must read as zeros. Each test uses its own page count so that
//! tests running in parallel do not take each other's regions.

use strongroom::LockedBuffer;

const PAGE: usize = 4096;

/// Fills a buffer of `first` bytes with a marker, frees it with `free`, then allocates
/// `second` bytes (same page count) and returns it after checking it got the same pages.
fn reuse(first: usize, second: usize, free: impl FnOnce(LockedBuffer)) -> LockedBuffer {
    let mut old = LockedBuffer::new(first).unwrap();
    old.copy_from(&vec![0xEE; first]).unwrap();
    let old_end = old.address_range().end;
    free(old);
    let new = LockedBuffer::new(second).unwrap();
    assert_eq!(new.address_range().end, old_end, "the region was not reused, so this test observes nothing");
    new
}

fn assert_zero(buf: &LockedBuffer) {
    let bytes = buf.expose().unwrap();
    let dirty = bytes.iter().filter(|&&b| b != 0).count();
    assert_eq!(dirty, 0, "{dirty} of {} bytes survived the free", bytes.len());
}

#[test]
fn dropped_bytes_are_gone() {
    assert_zero(&reuse(3 * PAGE + 100, 3 * PAGE + 100, drop));
}

#[test]
fn destroyed_bytes_are_gone() {
    assert_zero(&reuse(4 * PAGE + 100, 4 * PAGE + 100, |mut b| b.destroy()));
}

#[test]
fn frozen_bytes_are_gone_after_drop() {
    assert_zero(&reuse(5 * PAGE + 100, 5 * PAGE + 100, |mut b| {
        b.freeze().unwrap();
        drop(b)
    }));
}

#[test]
fn a_longer_reuse_sees_no_old_canary_bytes() {
    // The old buffer's canary gap covered bytes that the longer new buffer now holds.
    assert_zero(&reuse(6 * PAGE + 10, 6 * PAGE + 4000, drop));
}

#[test]
fn a_shorter_reuse_sees_no_old_data() {
    assert_zero(&reuse(7 * PAGE + 4000, 7 * PAGE + 10, drop));
}

#[test]
fn wipe_zeroes_in_place() {
    let mut buf = LockedBuffer::random(1000).unwrap();
    assert!(buf.expose().unwrap().iter().any(|&b| b != 0));
    buf.wipe().unwrap();
    assert_zero(&buf);
}
