//! Secrets against the raw pool and their peers, interleaved: every round runs each candidate
//! of a group once (a batch of operations, in a rotating order), and the per-round ratio to the
//! group's baseline is kept, so drift on a shared VM hits every candidate alike. Prints, per
//! group, the median time per operation and the median of the per-round ratios.
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/target-bench cargo run --release -p strongroom-bench --bin secrets-interleaved
//! CARGO_TARGET_DIR=/work/target-bench cargo run --release -p strongroom-bench --bin secrets-interleaved -- alloc secret
//! CARGO_TARGET_DIR=/work/target-bench cargo run --release -p strongroom-bench --bin secrets-interleaved -- --kdf-rounds 31 kdf
//! ```
//!
//! Groups (a group runs if its name starts with one of the arguments; none given: all):
//! - `alloc/32B`: raw pooled alloc+free (`Box`/`Vec` in `SecureAlloc`) against `SecretBox<[u8; 32]>`
//!   new+drop, the global allocator, libsodium, and OpenSSL's secure heap in two states:
//!   `openssl_secure_heap_empty` (nothing else allocated from it: every malloc splits the buddy
//!   tree from the top and every free merges it back) and `openssl_secure_heap_one_held` (one
//!   other 32 B block held for the whole batch, so the split levels stay split).
//! - `secret/1KiB`, `secret/64KiB`: `SecretVec<u8>` (new + `extend_from_slice` of N bytes + drop)
//!   and `SecretBox<[u8; N]>` (new, filled from N bytes, + drop) against
//!   `allocator_api2::vec::Vec<u8, SecureAlloc>` doing the same.
//! - `enclave/1KiB`, `aead/1KiB`, `aead/1MiB`, `kdf/argon2id_64MiB_t3`: through the sealed-secret
//!   APIs, in [`api`] below (the only part that depends on the enclave/AEAD/KDF signatures).

use std::hint::black_box;
use std::time::{Duration, Instant};

use allocator_api2::boxed::Box as ApiBox;
use allocator_api2::vec::Vec as ApiVec;
use strongroom::{SecretBox, SecretVec, SecureAlloc};
use strongroom_bench::{openssl_heap, sodium};

/// One candidate: runs `iters` operations and returns the time they took (setup and teardown
/// that should not count stay outside the returned duration).
struct Candidate {
    name: &'static str,
    run: Box<dyn FnMut(u64) -> Duration>,
}

impl Candidate {
    fn new(name: &'static str, run: impl FnMut(u64) -> Duration + 'static) -> Self {
        Candidate { name, run: Box::new(run) }
    }

    /// A candidate whose every operation is `op`, timed as one batch.
    fn each(name: &'static str, mut op: impl FnMut() + 'static) -> Self {
        Self::new(name, move |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                op();
            }
            start.elapsed()
        })
    }
}

struct Group {
    name: String,
    /// Names of the candidates ratios are taken against (the first one orders the table).
    baselines: Vec<&'static str>,
    candidates: Vec<Candidate>,
    /// Wall time one candidate's batch aims at.
    batch: Duration,
    rounds: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn human(ns: f64) -> String {
    match ns {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

impl Group {
    fn run(mut self) {
        // Calibrate: the number of operations that makes each candidate's batch about `batch`
        // long (and warms each one up).
        let iters: Vec<u64> = self
            .candidates
            .iter_mut()
            .map(|c| {
                let mut n = 1u64;
                loop {
                    let t = (c.run)(n);
                    if t >= self.batch / 4 || n >= 1 << 30 {
                        let per = t.as_secs_f64() / n as f64;
                        break ((self.batch.as_secs_f64() / per) as u64).max(1);
                    }
                    n *= 4;
                }
            })
            .collect();
        let k = self.candidates.len();
        let mut per_op: Vec<Vec<f64>> = vec![Vec::new(); k];
        for round in 0..self.rounds {
            for j in 0..k {
                let i = (round + j) % k; // rotate who goes first
                let t = (self.candidates[i].run)(iters[i]);
                per_op[i].push(t.as_secs_f64() * 1e9 / iters[i] as f64);
            }
        }
        let find = |name: &str| self.candidates.iter().position(|c| c.name == name);
        let bases: Vec<Option<usize>> = self.baselines.iter().map(|b| find(b)).collect();
        let mut header =
            format!("\n### {} ({} interleaved rounds)\n\n| candidate | median/op |", self.name, self.rounds);
        for b in &self.baselines {
            header += &format!(" × {b} (median of per-round ratios) |");
        }
        println!("{header}\n|{}", "---|".repeat(2 + self.baselines.len()));
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| median(per_op[a].clone()).total_cmp(&median(per_op[b].clone())));
        for i in order {
            let mut line = format!("| {} | {} |", self.candidates[i].name, human(median(per_op[i].clone())));
            for base in &bases {
                line += &match base {
                    Some(b) => {
                        let ratios = per_op[i].iter().zip(&per_op[*b]).map(|(x, y)| x / y).collect();
                        format!(" {:.3} |", median(ratios))
                    }
                    None => " – |".to_owned(),
                };
            }
            println!("{line}");
        }
    }
}

// ---- allocation: stable API (SecureAlloc, SecretBox::new, SecretVec) ------------------------

fn alloc_32(rounds: usize) -> Group {
    strongroom::tuning::set_region_cache_limit(1 << 20);
    openssl_heap::init();
    let candidates = vec![
        Candidate::each("pooled_box_raw", || drop(black_box(ApiBox::new_in(black_box([1u8; 32]), SecureAlloc::new())))),
        Candidate::each("pooled_vec_raw", || {
            let mut v = ApiVec::<u8, SecureAlloc>::with_capacity_in(black_box(32), SecureAlloc::new());
            v.push(1);
            drop(black_box(v));
        }),
        Candidate::each("secret_box", || {
            drop(black_box(SecretBox::new(|k: &mut [u8; 32]| k[0] = black_box(1)).expect("allocation")))
        }),
        Candidate::each("global_box", || drop(black_box(Box::new(black_box([1u8; 32]))))),
        Candidate::each("sodium_malloc", || sodium::alloc_free(black_box(32))),
        Candidate::each("openssl_secure_heap_empty", || openssl_heap::alloc_free(black_box(32))),
        Candidate::new("openssl_secure_heap_one_held", |iters| {
            let held = openssl_heap::Block::new(32); // outside the timing, freed after it
            let start = Instant::now();
            for _ in 0..iters {
                openssl_heap::alloc_free(black_box(32));
            }
            let t = start.elapsed();
            drop(held);
            t
        }),
    ];
    Group {
        name: "alloc/32B".into(),
        baselines: vec!["pooled_box_raw", "openssl_secure_heap_one_held"],
        candidates,
        batch: Duration::from_millis(20),
        rounds,
    }
}

fn secret<const N: usize>(label: &str, rounds: usize) -> Group {
    let src: &'static [u8] = vec![0x5au8; N].leak();
    let candidates = vec![
        Candidate::each("pooled_vec_raw", move || {
            let mut v = ApiVec::<u8, SecureAlloc>::new_in(SecureAlloc::new());
            v.extend_from_slice(black_box(src));
            drop(black_box(v));
        }),
        // The same with one memcpy: allocator_api2's `extend_from_slice` has no `Copy`
        // specialisation and pushes element by element (about 1.5 ns a byte), so this is the
        // raw pool's real floor for "a vector holding these N bytes".
        Candidate::each("pooled_vec_raw_memcpy", move || {
            let mut v = ApiVec::<u8, SecureAlloc>::with_capacity_in(N, SecureAlloc::new());
            // SAFETY: the capacity is at least N; the N bytes are initialised by the copy
            // before `set_len` makes them part of the vector.
            unsafe {
                std::ptr::copy_nonoverlapping(black_box(src).as_ptr(), v.as_mut_ptr(), N);
                v.set_len(N);
            }
            drop(black_box(v));
        }),
        Candidate::each("secret_vec", move || {
            let mut v = SecretVec::<u8>::new();
            v.extend_from_slice(black_box(src)).expect("allocation");
            drop(black_box(v));
        }),
        Candidate::each("secret_box", move || {
            let b = SecretBox::new(|k: &mut [u8; N]| k.copy_from_slice(black_box(src))).expect("allocation");
            drop(black_box(b));
        }),
        Candidate::each("global_vec", move || {
            let mut v = Vec::<u8>::new();
            v.extend_from_slice(black_box(src));
            drop(black_box(v));
        }),
    ];
    Group {
        name: format!("secret/{label}"),
        baselines: vec!["pooled_vec_raw", "pooled_vec_raw_memcpy"],
        candidates,
        batch: Duration::from_millis(20),
        rounds,
    }
}

// ---- sealed secrets: the enclave, AEAD and KDF APIs, which are being reshaped ----------------

/// Everything that touches `Enclave`, `aead` and `kdf` lives here, so an API change means
/// editing this module only.
mod api {
    use std::hint::black_box;
    use std::time::{Duration, Instant};

    use strongroom::kdf::{KdfParams, derive_key_combined, release_work_memory};
    use strongroom::{Enclave, LockedBuffer, aead};
    use strongroom_bench::{sodium, sodium_crypto};

    use super::{Candidate, Group};

    /// `Enclave::open` of 1 KiB alone (the buffers are dropped after the clock stops), and
    /// open + drop; the peer does what an open does with libsodium: `sodium_malloc` the
    /// plaintext, XChaCha20-Poly1305-open 1 KiB into it, `sodium_free`.
    pub(super) fn enclave_1k(rounds: usize) -> Group {
        let enclave: &'static Enclave = Box::leak(Box::new(Enclave::random(1024).expect("enclave")));
        let key = [7u8; 32];
        let nonce = [9u8; 24];
        let mut sealed = vec![0u8; 1024 + sodium_crypto::TAG_LEN];
        sodium_crypto::xchacha_seal(&key, &nonce, b"", &[0x5a; 1024], &mut sealed);
        let candidates = vec![
            // `open` alone, one at a time: each buffer is dropped after its own clock stops,
            // so the next open reuses the region just released, as in real use.
            Candidate::new("strongroom_open", move |iters| {
                let mut t = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let plain = enclave.open().expect("open");
                    t += start.elapsed();
                    drop(black_box(plain));
                }
                t
            }),
            // `open` with K buffers alive at once (dropped, K at a time, after the clock stops):
            // once K outgrows the region cache (1 MiB by default), opens map, lock and guard
            // fresh regions.
            Candidate::new("strongroom_open_64_alive", move |iters| open_k_alive(enclave, iters, 64)),
            Candidate::new("strongroom_open_1024_alive", move |iters| open_k_alive(enclave, iters, 1024)),
            Candidate::each("strongroom_open_and_drop", move || drop(black_box(enclave.open().expect("open")))),
            // The closure API: decrypt into a pooled slot, lend it, wipe it.
            Candidate::each("strongroom_with", move || {
                black_box(enclave.with(|plain| black_box(plain[0])).expect("with"));
            }),
            Candidate::each("libsodium_malloc_open_free", move || {
                sodium::with_block(1024, |plain| {
                    assert!(sodium_crypto::xchacha_open(&key, &nonce, b"", black_box(&sealed), plain));
                })
            }),
        ];
        Group {
            name: "enclave/1KiB".into(),
            baselines: vec!["strongroom_open_and_drop", "libsodium_malloc_open_free"],
            candidates,
            batch: Duration::from_millis(20),
            rounds,
        }
    }

    /// `iters` opens, `k` at a time kept alive; only the opens are timed.
    fn open_k_alive(enclave: &Enclave, iters: u64, k: u64) -> Duration {
        let mut t = Duration::ZERO;
        let mut left = iters;
        let mut kept: Vec<LockedBuffer> = Vec::with_capacity(k as usize);
        while left > 0 {
            let n = left.min(k);
            let start = Instant::now();
            for _ in 0..n {
                kept.push(enclave.open().expect("open"));
            }
            t += start.elapsed();
            kept.clear();
            left -= n;
        }
        t
    }

    /// XChaCha20-Poly1305 seal + open of `size` bytes: strongroom's `aead` (an `aead::Key`,
    /// plaintext opened into one) against libsodium with a plain key and buffers.
    pub(super) fn aead(label: &str, size: usize, rounds: usize) -> Group {
        let key = aead::Key::random().expect("key");
        let sodium_key = [7u8; 32];
        let nonce = [9u8; 24];
        // A benchmark only: every round seals the same message under the same nonce, as on
        // libsodium's side (a real caller draws `aead::Nonce::random()` per message).
        let same = move || aead::Nonce::assume_unique_for_key(nonce);
        let msg = vec![0x5au8; size];
        let msg2 = msg.clone();
        let mut sealed = vec![0u8; size + aead::TAG_LEN];
        let mut sealed2 = sealed.clone();
        let mut plain = LockedBuffer::new(size).expect("buffer");
        let mut sodium_plain = vec![0u8; size];
        let candidates = vec![
            Candidate::each("strongroom", move || {
                aead::seal_into(&key, same(), b"", black_box(&msg), &mut sealed).expect("seal");
                aead::open_into(&key, same(), b"", &sealed, &mut plain.expose_mut().expect("plain")).expect("open");
            }),
            Candidate::each("libsodium", move || {
                sodium_crypto::xchacha_seal(&sodium_key, &nonce, b"", black_box(&msg2), &mut sealed2);
                assert!(sodium_crypto::xchacha_open(&sodium_key, &nonce, b"", &sealed2, &mut sodium_plain));
            }),
        ];
        Group {
            name: format!("aead/{label}"),
            baselines: vec!["libsodium"],
            candidates,
            batch: Duration::from_millis(if size > 64 * 1024 { 60 } else { 20 }),
            rounds,
        }
    }

    /// Argon2id 64 MiB, t = 3, p = 1 (no SHA3 rounds): strongroom warm (the work memory kept
    /// from the previous derivation) and cold (`release_work_memory` after each derivation,
    /// inside the timing, so every derivation maps, faults in and unmaps 64 MiB, as libsodium's
    /// `crypto_pwhash` does on every call) against libsodium.
    pub(super) fn kdf(rounds: usize) -> Group {
        const M_KIB: u32 = 64 * 1024;
        const T: u32 = 3;
        let salt = [3u8; sodium_crypto::SALT_LEN];
        let params = KdfParams { memory_kib: M_KIB, iterations: T, rounds: 0 };
        let candidates = vec![
            Candidate::each("strongroom_warm", move || {
                black_box(derive_key_combined(b"passphrase", &salt, &params).expect("kdf"));
            }),
            Candidate::new("strongroom_cold", move |iters| {
                release_work_memory(); // start cold, outside the timing
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(derive_key_combined(b"passphrase", &salt, &params).expect("kdf"));
                    release_work_memory();
                }
                start.elapsed()
            }),
            Candidate::each("libsodium", move || {
                let mut out = [0u8; 32];
                sodium_crypto::argon2id(&mut out, black_box(b"passphrase"), &salt, T, M_KIB);
                black_box(out);
            }),
        ];
        Group {
            name: "kdf/argon2id_64MiB_t3".into(),
            baselines: vec!["libsodium", "strongroom_warm"],
            candidates,
            batch: Duration::from_millis(1), // one derivation per batch
            rounds,
        }
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take = |flag: &str, default: usize| match args.iter().position(|a| a == flag) {
        Some(i) => {
            let n = args.get(i + 1).and_then(|r| r.parse().ok()).unwrap_or_else(|| panic!("{flag} N"));
            args.drain(i..i + 2);
            n
        }
        None => default,
    };
    let rounds = take("--rounds", 31);
    let kdf_rounds = take("--kdf-rounds", 15); // each round derives three 64 MiB keys
    let wanted = |name: &str| args.is_empty() || args.iter().any(|a| name.starts_with(a.as_str()));
    type MakeGroup = Box<dyn Fn(usize) -> Group>;
    let groups: Vec<(&str, MakeGroup)> = vec![
        ("alloc/32B", Box::new(alloc_32)),
        ("secret/1KiB", Box::new(|r| secret::<1024>("1KiB", r))),
        ("secret/64KiB", Box::new(|r| secret::<{ 64 * 1024 }>("64KiB", r))),
        ("enclave/1KiB", Box::new(api::enclave_1k)),
        ("aead/1KiB", Box::new(|r| api::aead("1KiB", 1024, r))),
        ("aead/1MiB", Box::new(|r| api::aead("1MiB", 1 << 20, r))),
        ("kdf/argon2id_64MiB_t3", Box::new(move |_| api::kdf(kdf_rounds))),
    ];
    println!("strongroom secrets-interleaved: medians per operation, ratios are medians of per-round ratios");
    for (name, make) in groups {
        if wanted(name) {
            make(rounds).run();
        }
    }
}
