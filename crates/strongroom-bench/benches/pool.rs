//! Alloc+free of one secret: strongroom's pool and guarded policies against OpenSSL's secure
//! heap, libsodium, memsec and the plain allocator, side by side in one run; then pooled
//! throughput with one and two threads.
//!
//! OpenSSL's secure heap is measured in two states, named apart: `openssl_secure_heap_empty`
//! (nothing else allocated from it, so each malloc splits its buddy tree from the top and each
//! free merges it back: about 20 levels for 32 B in the 32 MiB heap) and
//! `openssl_secure_heap_one_held` (one other 32 B block held, so the levels above stay split).
//!
//! Groups `secret/1KiB` and `secret/64KiB`: `SecretVec<u8>` (new + `extend_from_slice` of N
//! bytes + drop) and `SecretBox<[u8; N]>` (new, filled with N bytes, + drop) against
//! `allocator_api2::vec::Vec<u8, SecureAlloc>` doing the same (`pooled_vec_raw`, element by
//! element as allocator_api2's `extend_from_slice` does, and `pooled_vec_raw_memcpy`).
//!
//! `cargo bench -p strongroom-bench --bench pool`, then
//! `cargo run -p strongroom-bench --bin bench-ratios -- alloc/32B pooled_box_raw openssl_secure_heap_one_held`
//! `cargo run -p strongroom-bench --bin bench-ratios -- secret/ pooled_vec_raw_memcpy`
//! (interleaved medians of per-round ratios: `--bin secrets-interleaved -- alloc secret`).

use std::alloc::Layout;
use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box as ApiBox;
use allocator_api2::vec::Vec as ApiVec;
use criterion::{Criterion, criterion_group, criterion_main};
use strongroom::{LockedBuffer, SecretBox, SecretVec, SecureAlloc};
use strongroom_bench::{memsec_peer, openssl_heap, sodium};

const SIZES: [usize; 3] = [32, 1024, 64 * 1024];

fn secure_alloc_free(size: usize) {
    let layout = Layout::from_size_align(size, 8).expect("layout");
    let block = SecureAlloc::new().allocate(layout).expect("allocation");
    black_box(block);
    // SAFETY: allocated just above with this layout, freed once.
    unsafe { SecureAlloc::new().deallocate(block.cast(), layout) };
}

fn alloc_free(c: &mut Criterion) {
    strongroom::tuning::set_region_cache_limit(1 << 20);
    for size in SIZES {
        let mut g = c.benchmark_group(format!("alloc/{size}B"));
        g.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300)).sample_size(30);
        g.bench_function("strongroom_secure_alloc", |b| b.iter(|| secure_alloc_free(black_box(size))));
        if size == 32 {
            // The raw pool through a Box, the baseline SecretBox's own cost is read against.
            g.bench_function("pooled_box_raw", |b| {
                b.iter(|| drop(black_box(ApiBox::new_in(black_box([1u8; 32]), SecureAlloc::new()))))
            });
            g.bench_function("strongroom_secret_box", |b| {
                b.iter(|| drop(black_box(SecretBox::new(|k: &mut [u8; 32]| k[0] = 1).expect("allocation"))))
            });
            g.bench_function("global_box", |b| b.iter(|| drop(black_box(Box::new(black_box([1u8; 32]))))));
        }
        g.bench_function("strongroom_guarded", |b| {
            b.iter(|| drop(black_box(LockedBuffer::new(black_box(size)).expect("allocation"))))
        });
        g.bench_function("openssl_secure_heap_empty", |b| b.iter(|| openssl_heap::alloc_free(black_box(size))));
        g.bench_function("openssl_secure_heap_one_held", |b| {
            let held = openssl_heap::Block::new(32);
            b.iter(|| openssl_heap::alloc_free(black_box(size)));
            drop(held);
        });
        g.bench_function("sodium_malloc", |b| b.iter(|| sodium::alloc_free(black_box(size))));
        g.bench_function("memsec_malloc", |b| b.iter(|| memsec_peer::alloc_free(black_box(size))));
        g.bench_function("box", |b| b.iter(|| drop(black_box(vec![0u8; black_box(size)].into_boxed_slice()))));
        g.finish();
    }
}

/// `SecretVec<u8>` and `SecretBox<[u8; N]>` made from N bytes and dropped, against the raw
/// pool doing the same through `allocator_api2::vec::Vec<u8, SecureAlloc>`.
fn secret_n<const N: usize>(c: &mut Criterion, label: &str) {
    let src = vec![0x5au8; N];
    let mut g = c.benchmark_group(format!("secret/{label}"));
    g.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300)).sample_size(30);
    g.bench_function("pooled_vec_raw", |b| {
        b.iter(|| {
            let mut v = ApiVec::<u8, SecureAlloc>::new_in(SecureAlloc::new());
            v.extend_from_slice(black_box(&src));
            drop(black_box(v));
        })
    });
    g.bench_function("pooled_vec_raw_memcpy", |b| {
        b.iter(|| {
            let mut v = ApiVec::<u8, SecureAlloc>::with_capacity_in(N, SecureAlloc::new());
            // SAFETY: the capacity is at least N; the N bytes are initialised by the copy
            // before `set_len` makes them part of the vector.
            unsafe {
                std::ptr::copy_nonoverlapping(black_box(&src).as_ptr(), v.as_mut_ptr(), N);
                v.set_len(N);
            }
            drop(black_box(v));
        })
    });
    g.bench_function("strongroom_secret_vec", |b| {
        b.iter(|| {
            let mut v = SecretVec::<u8>::new();
            v.extend_from_slice(black_box(&src)).expect("allocation");
            drop(black_box(v));
        })
    });
    g.bench_function("strongroom_secret_box", |b| {
        b.iter(|| {
            let s = SecretBox::new(|k: &mut [u8; N]| k.copy_from_slice(black_box(&src))).expect("allocation");
            drop(black_box(s));
        })
    });
    g.finish();
}

fn secrets(c: &mut Criterion) {
    strongroom::tuning::set_region_cache_limit(1 << 20);
    secret_n::<1024>(c, "1KiB");
    secret_n::<{ 64 * 1024 }>(c, "64KiB");
}

/// `threads` threads each run `per_thread` 32-byte alloc+free pairs; returns the wall time.
fn run_threads(threads: usize, per_thread: u64, op: fn(usize)) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                op(32); // warm this thread's cache before the clock starts
                barrier.wait();
                for _ in 0..per_thread {
                    op(black_box(32));
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    })
}

fn box_alloc_free(size: usize) {
    drop(black_box(vec![0u8; size].into_boxed_slice()));
}

/// Time per pair *per thread*: equal times at 1 and 2 threads mean throughput doubled.
/// glibc's malloc (per-thread caches, nothing shared) is the control: it shows how well this
/// machine lets two threads scale at all.
fn threads(c: &mut Criterion) {
    const PER_THREAD: u64 = 200_000;
    let mut g = c.benchmark_group("threads/32B");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    let candidates = [
        ("strongroom", secure_alloc_free as fn(usize)),
        ("openssl", openssl_heap::alloc_free),
        ("glibc_malloc", box_alloc_free),
    ];
    for (name, op) in candidates {
        for n in [1, 2] {
            g.bench_function(format!("{name}_{n}_threads"), |b| {
                b.iter_custom(|iters| {
                    (0..iters).map(|_| run_threads(n, PER_THREAD, op)).sum::<Duration>() / PER_THREAD as u32
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, alloc_free, secrets, threads);
criterion_main!(benches);
