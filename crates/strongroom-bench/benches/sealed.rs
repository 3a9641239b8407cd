//! Sealed secrets through strongroom's public API, against libsodium in the same run:
//! XChaCha20-Poly1305 seal+open (secure stack and key handling included), Enclave open and
//! `with`,
//! and the KDF's Argon2id against `crypto_pwhash`.
//!
//! The enclave, AEAD and KDF APIs are being reshaped: each is benched in its own function
//! below (`aead_round_trip`, `enclave_open`, `kdf`), nothing else here touches them.
//!
//! `cargo bench -p strongroom-bench --bench sealed`, then
//! `cargo run -p strongroom-bench --bin bench-ratios -- sealed libsodium`
//! (interleaved medians of per-round ratios: `--bin secrets-interleaved -- enclave aead kdf`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use strongroom::kdf::{KdfParams, derive_key_combined, release_work_memory};
use strongroom::{Enclave, LockedBuffer, aead};
use strongroom_bench::sodium_crypto as sodium;

fn aead_round_trip(c: &mut Criterion) {
    let key = aead::Key::random().expect("key");
    let sodium_key = [7u8; 32];
    let nonce = [9u8; 24];
    // A benchmark only: every round seals the same message under the same nonce, as on
    // libsodium's side (a real caller draws `aead::Nonce::random()` per message).
    let same = move || aead::Nonce::assume_unique_for_key(nonce);
    for (name, size) in [("1KiB", 1024), ("64KiB", 64 * 1024), ("1MiB", 1 << 20)] {
        let msg = vec![0x5au8; size];
        let mut sealed = vec![0u8; size + aead::TAG_LEN];
        let mut plain = LockedBuffer::new(size).expect("buffer");
        let mut sodium_plain = vec![0u8; size];
        let mut g = c.benchmark_group(format!("sealed/aead/{name}"));
        g.throughput(Throughput::Bytes(size as u64)).measurement_time(Duration::from_secs(2)).sample_size(30);
        g.bench_function("strongroom", |b| {
            b.iter(|| {
                aead::seal_into(&key, same(), b"", black_box(&msg), &mut sealed).expect("seal");
                aead::open_into(&key, same(), b"", &sealed, &mut plain.expose_mut().expect("plain")).expect("open");
            })
        });
        g.bench_function("libsodium", |b| {
            b.iter(|| {
                sodium::xchacha_seal(&sodium_key, &nonce, b"", black_box(&msg), &mut sealed);
                assert!(sodium::xchacha_open(&sodium_key, &nonce, b"", &sealed, &mut sodium_plain));
            })
        });
        g.finish();
    }
}

fn enclave_open(c: &mut Criterion) {
    let enclave = Enclave::random(1024).expect("enclave");
    let mut g = c.benchmark_group("sealed/enclave_open/1KiB");
    g.measurement_time(Duration::from_secs(3));
    // `open` alone, one at a time: each buffer's drop (melt, wipe, release) happens after its
    // own clock stops, so the next open reuses the region just released, as in real use.
    g.bench_function("strongroom_open", |b| {
        b.iter_custom(|iters| {
            let mut t = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let plain = enclave.open().expect("open");
                t += start.elapsed();
                drop(black_box(plain));
            }
            t
        })
    });
    // What `iter_with_large_drop` measures: a batch (a tenth of the sample) stays alive until
    // the clock stops. Opens beyond what the region cache holds (1 MiB by default) map, lock
    // and guard a fresh region: about 27 µs against 4 µs (secrets-interleaved's
    // `strongroom_open_1024_alive` against `strongroom_open_64_alive`), so this figure depends on
    // criterion's batch size; read `strongroom_open` for the cost of one open.
    g.bench_function("strongroom_open_all_alive", |b| b.iter_with_large_drop(|| enclave.open().expect("open")));
    g.bench_function("strongroom_open_and_drop", |b| b.iter(|| drop(black_box(enclave.open().expect("open")))));
    // The closure API: decrypt into a pooled slot, lend it, wipe it.
    g.bench_function("strongroom_with", |b| b.iter(|| enclave.with(|plain| black_box(plain[0])).expect("with")));
    g.bench_function("strongroom_seal_1KiB", |b| {
        b.iter(|| black_box(Enclave::new(&mut [0x42u8; 1024]).expect("seal")))
    });
    g.finish();
}

fn kdf(c: &mut Criterion) {
    const M_KIB: u32 = 64 * 1024;
    const T: u32 = 3;
    let salt = [3u8; sodium::SALT_LEN];
    let mut out = [0u8; 32];
    let mut g = c.benchmark_group("sealed/kdf/argon2id_64MiB_t3");
    g.sample_size(10).sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(10));
    let argon2_only = KdfParams { memory_kib: M_KIB, iterations: T, rounds: 0 };
    g.bench_function("strongroom", |b| {
        b.iter(|| black_box(derive_key_combined(b"passphrase", &salt, &argon2_only).expect("kdf")))
    });
    // Cold: fresh work memory each derivation (mapped, faulted in, and unmapped inside the
    // timing), as libsodium's `crypto_pwhash` gets on every call; `strongroom` above is warm
    // (the work memory kept from the previous derivation).
    g.bench_function("strongroom_cold", |b| {
        release_work_memory();
        b.iter(|| {
            black_box(derive_key_combined(b"passphrase", &salt, &argon2_only).expect("kdf"));
            release_work_memory();
        })
    });
    g.bench_function("strongroom_with_1000_sha3_rounds", |b| {
        b.iter(|| black_box(derive_key_combined(b"passphrase", &salt, &KdfParams::DEFAULT).expect("kdf")))
    });
    g.bench_function("libsodium", |b| b.iter(|| sodium::argon2id(&mut out, black_box(b"passphrase"), &salt, T, M_KIB)));
    g.finish();
}

criterion_group!(benches, aead_round_trip, enclave_open, kdf);
criterion_main!(benches);
