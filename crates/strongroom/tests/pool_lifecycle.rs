//! The pool's life cycle, seen through its public figures. One test per binary, so that no
//! other test's allocations blur the counts.

use strongroom::SecretVec;
use strongroom::pool::stats;

#[test]
fn arenas_grow_on_demand_and_are_returned_when_empty() {
    let before = stats();
    let peak = std::thread::spawn(|| {
        // 4,000 blocks of 1,500 bytes: several arenas of the 1,536-byte class.
        let held: Vec<SecretVec<u8>> = (0..4000).map(|_| SecretVec::with_capacity(1500).unwrap()).collect();
        let peak = stats();
        drop(held);
        peak
    })
    .join()
    .unwrap();
    let after = stats();
    assert!(peak.arenas >= before.arenas + 3, "{before:?} -> {peak:?}: arenas did not grow");
    assert!(peak.slots_out >= before.slots_out + 4000);
    assert!(peak.locked_bytes == peak.bytes, "some arena is not locked: {peak:?}");
    // The thread's exit flushed its cache; empty arenas were unmapped but for one spare.
    assert!(after.slots_out <= before.slots_out, "{before:?} -> {after:?}: slots still out");
    assert!(after.arenas <= before.arenas + 1, "{before:?} -> {after:?}: empty arenas kept");
    assert!(strongroom::pool::verify() > 0);
}
