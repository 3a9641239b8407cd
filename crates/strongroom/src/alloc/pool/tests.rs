//! The pool's own tests. They read slot memory directly, which only this layer may do.
//! They also run under Miri (on the heap-backed `sys` fallback), with smaller counts.

use std::collections::HashSet;
use std::ptr::NonNull;
use std::sync::mpsc;

use super::class::{CLASS_SIZES, MAX_POOLED};
use super::{allocate, deallocate};

fn read(ptr: NonNull<u8>, len: usize) -> &'static [u8] {
    // SAFETY: tests only read blocks they allocated and have not freed.
    unsafe { std::slice::from_raw_parts(ptr.as_ptr(), len) }
}

fn write(ptr: NonNull<u8>, len: usize, byte: u8) {
    // SAFETY: tests only write blocks they allocated and have not freed.
    unsafe { ptr.as_ptr().write_bytes(byte, len) }
}

fn free(ptr: NonNull<u8>, size: usize) {
    // SAFETY: every caller frees a block it allocated with this size, exactly once.
    unsafe { deallocate(ptr, size) }
}

/// A block pointer handed to another thread to free.
struct InFlight(NonNull<u8>, usize, u8);

// SAFETY: the sending thread gives the block up; only the receiver touches it afterwards.
unsafe impl Send for InFlight {}

#[test]
fn blocks_are_zeroed_aligned_and_distinct() {
    let sizes: Vec<usize> =
        if cfg!(miri) { vec![1, 15, 16, 17, 100, 1024, MAX_POOLED] } else { (1..=MAX_POOLED).collect() };
    let mut live = Vec::new();
    for &size in &sizes {
        let ptr = allocate(size).unwrap();
        assert_eq!(ptr.as_ptr() as usize % 16, 0, "size {size} misaligned");
        assert!(read(ptr, size).iter().all(|&b| b == 0), "size {size} not zeroed");
        write(ptr, size, 0xAB);
        live.push((ptr, size));
    }
    let addresses: HashSet<usize> = live.iter().map(|(p, _)| p.as_ptr() as usize).collect();
    assert_eq!(addresses.len(), live.len(), "two live blocks share an address");
    for (ptr, size) in live {
        assert!(read(ptr, size).iter().all(|&b| b == 0xAB), "a neighbour overwrote size {size}");
        free(ptr, size);
    }
}

#[test]
fn a_freed_slot_comes_back_wiped() {
    for &class in &CLASS_SIZES {
        let ptr = allocate(class).unwrap();
        write(ptr, class, 0xEE);
        free(ptr, class);
        // The thread cache is LIFO, so the same slot comes straight back.
        let again = allocate(class).unwrap();
        assert_eq!(again, ptr, "class {class}: the slot was not reused; the test observes nothing");
        assert!(read(again, class).iter().all(|&b| b == 0), "class {class}: old bytes survived the free");
        free(again, class);
    }
}

#[test]
fn a_shorter_reuse_sees_neither_old_data_nor_old_padding() {
    // 17 bytes use the 32-byte class with a 15-byte canary pad; a 32-byte reuse of the same
    // slot must see zeros where that pad was.
    let ptr = allocate(17).unwrap();
    write(ptr, 17, 0x11);
    free(ptr, 17);
    let again = allocate(32).unwrap();
    assert!(read(again, 32).iter().all(|&b| b == 0));
    free(again, 32);
}

#[test]
fn verify_passes_on_a_healthy_pool() {
    let blocks: Vec<_> = (1..=8).map(|i| (allocate(i * 100).unwrap(), i * 100)).collect();
    assert!(super::verify() >= blocks.len());
    blocks.into_iter().for_each(|(p, s)| free(p, s));
}

#[test]
fn stats_count_live_slots() {
    let before = super::stats();
    let ptr = allocate(48).unwrap();
    let after = super::stats();
    assert!(after.arenas >= 1 && after.bytes >= after.slots * 16);
    assert!(after.slots_out >= 1 && before.arenas <= after.arenas);
    free(ptr, 48);
}

/// Threads allocate, fill with their own pattern, pass some blocks to another thread to
/// free, and check on every free that nobody else wrote into their block (a slot handed out
/// twice would be) and on every allocation that the block is zero (freed slots are wiped).
#[test]
fn threads_never_share_a_slot_and_always_get_zeroed_memory() {
    const THREADS: u8 = 4;
    let rounds = if cfg!(miri) { 40 } else { 10_000 };
    // Under Miri every byte access is checked: keep blocks small there.
    let max_size = if cfg!(miri) { 128 } else { MAX_POOLED };
    let (send, recv) = mpsc::channel::<InFlight>();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let send = send.clone();
            std::thread::spawn(move || {
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ u64::from(t);
                let mut held: Vec<(NonNull<u8>, usize, u8)> = Vec::new();
                for round in 0..rounds {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let size = 1 + (rng as usize % max_size);
                    let ptr = allocate(size).unwrap();
                    assert!(read(ptr, size).iter().all(|&b| b == 0), "fresh block not zeroed");
                    let mark = t.wrapping_mul(61).wrapping_add(round as u8) | 1;
                    write(ptr, size, mark);
                    held.push((ptr, size, mark));
                    if rng.is_multiple_of(3) {
                        let (p, s, m) = held.swap_remove((rng as usize / 3) % held.len());
                        if rng.is_multiple_of(2) {
                            send.send(InFlight(p, s, m)).unwrap(); // freed elsewhere
                        } else {
                            assert!(read(p, s).iter().all(|&b| b == m), "another thread wrote into our slot");
                            free(p, s);
                        }
                    }
                }
                for (p, s, m) in held {
                    assert!(read(p, s).iter().all(|&b| b == m), "another thread wrote into our slot");
                    free(p, s);
                }
            })
        })
        .collect();
    drop(send);
    let collector = std::thread::spawn(move || {
        for InFlight(p, size, mark) in recv {
            assert!(read(p, size).iter().all(|&b| b == mark), "a slot changed while in flight");
            free(p, size);
        }
    });
    workers.into_iter().for_each(|w| w.join().unwrap());
    collector.join().unwrap();
    assert!(super::verify() > 0);
}
