//! Guarded alloc+free: strongroom's guarded policy against the raw system-call floors,
//! libsodium's `sodium_malloc`, and the plain allocator, side by side in one run.
//!
//! `cargo bench -p strongroom-bench --bench guarded`, then
//! `cargo run -p strongroom-bench --bin bench-ratios -- guarded floor_anonymous sodium_malloc`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use strongroom::{LockedBuffer, Need, Policy};
use strongroom_bench::{floor, sodium};

const SIZES: [usize; 3] = [32, 1024, 64 * 1024];
const ANONYMOUS: Policy = Policy { secret_memory: Need::Off, ..Policy::STANDARD };

fn strongroom_alloc_free(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    size: usize,
    policy: Policy,
    cache: usize,
) {
    c.bench_function(name, |b| {
        strongroom::tuning::set_region_cache_limit(cache);
        b.iter(|| drop(black_box(LockedBuffer::with_policy(size, policy).expect("allocation"))));
    });
}

fn guarded(c: &mut Criterion) {
    let secret = floor::secret_memory_available();
    for size in SIZES {
        let mut g = c.benchmark_group(format!("guarded/{size}B"));
        g.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300)).sample_size(30);
        g.bench_function("floor_anonymous", |b| b.iter(|| floor::anonymous(black_box(size))));
        if secret {
            g.bench_function("floor_memfd_secret", |b| b.iter(|| floor::secret_memory(black_box(size))));
        }
        strongroom_alloc_free(&mut g, "strongroom_anonymous_uncached", size, ANONYMOUS, 0);
        strongroom_alloc_free(&mut g, "strongroom_default_uncached", size, Policy::STANDARD, 0);
        strongroom_alloc_free(&mut g, "strongroom_anonymous", size, ANONYMOUS, 1 << 20);
        strongroom_alloc_free(&mut g, "strongroom_default", size, Policy::STANDARD, 1 << 20);
        g.bench_function("sodium_malloc", |b| b.iter(|| sodium::alloc_free(black_box(size))));
        g.bench_function("box", |b| b.iter(|| drop(black_box(vec![0u8; black_box(size)].into_boxed_slice()))));
        g.finish();
    }
}

criterion_group!(benches, guarded);
criterion_main!(benches);
