//! Argon2id (64 MiB, t = 3) through strongroom's KDF against libsodium's `crypto_pwhash`,
//! interleaved: each repeat runs both, in alternating order, and the ratio of the pair is
//! kept, so drift on a noisy VM hits both sides alike. Prints the median ratio.
//!
//! `cargo run --release -p strongroom-bench --bin kdf-interleaved -- [repeats=15] [cold]`
//!
//! `cold`: strongroom releases its work memory before each derivation
//! (`kdf::release_work_memory()`, outside the timing), so every derivation maps and faults
//! in fresh memory, as libsodium's does on every call.

use std::hint::black_box;
use std::time::Instant;

use strongroom::kdf::{KdfParams, derive_key_combined, release_work_memory};
use strongroom_bench::sodium_crypto as sodium;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(15);
    let cold = std::env::args().any(|a| a == "cold");
    let salt = [3u8; sodium::SALT_LEN];
    let params = KdfParams { memory_kib: 64 * 1024, iterations: 3, rounds: 0 };
    let ours = || {
        if cold {
            release_work_memory();
        }
        let t = Instant::now();
        black_box(derive_key_combined(b"passphrase", &salt, &params).expect("kdf"));
        t.elapsed().as_secs_f64() * 1e3
    };
    let theirs = || {
        let mut out = [0u8; 32];
        let t = Instant::now();
        sodium::argon2id(&mut out, black_box(b"passphrase"), &salt, 3, 64 * 1024);
        t.elapsed().as_secs_f64() * 1e3
    };
    ours();
    theirs(); // warm up: map the work memory, fault in the pages
    let (mut a, mut b, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..repeats {
        let (x, y) = if i % 2 == 0 {
            let x = ours();
            (x, theirs())
        } else {
            let y = theirs();
            (ours(), y)
        };
        a.push(x);
        b.push(y);
        ratio.push(x / y);
    }
    println!(
        "argon2id 64 MiB t=3, {repeats} interleaved pairs ({}): strongroom {:.1} ms, libsodium {:.1} ms (medians); median ratio {:.3}",
        if cold { "cold" } else { "warm" },
        median(a),
        median(b),
        median(ratio)
    );
}
