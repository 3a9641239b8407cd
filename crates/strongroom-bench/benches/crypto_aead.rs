//! XChaCha20-Poly1305 for the crypto boundary: RustCrypto's `chacha20poly1305` and aws-lc
//! (`aws-lc-sys`, `EVP_aead_xchacha20_poly1305`) against libsodium's
//! `crypto_aead_xchacha20poly1305_ietf_*`, side by side in one run.
//!
//! Each iteration of `aead/SIZE` seals SIZE bytes (ciphertext ‖ tag into a separate buffer) and
//! opens them again (into a third buffer); criterion's throughput is SIZE per round trip.
//! `aead_seal/SIZE` seals only. Every candidate is keyed once outside the loop (libsodium has no
//! key schedule; RustCrypto and aws-lc only copy the key), 16 bytes of AAD, fixed nonce.
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/target-crypto cargo bench -p strongroom-bench --bench crypto_aead
//! CARGO_TARGET_DIR=/work/target-crypto cargo run -p strongroom-bench --bin bench-ratios -- aead libsodium
//! ```

use std::hint::black_box;
use std::time::Duration;

use chacha20poly1305::aead::inout::InOutBuf;
use chacha20poly1305::{AeadInOut, Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use strongroom_bench::{aws_lc, sodium_crypto as sodium};

const SIZES: [(usize, &str); 3] = [(1024, "1KiB"), (64 * 1024, "64KiB"), (1024 * 1024, "1MiB")];
const KEY: [u8; 32] = [0x42; 32];
const NONCE: [u8; 24] = [0x24; 24];
const AAD: &[u8] = b"strongroom-bench";
const TAG: usize = sodium::TAG_LEN;

/// RustCrypto, out of place: ciphertext straight into `out[..n]`, the tag after it.
fn rustcrypto_seal(cipher: &XChaCha20Poly1305, nonce: &XNonce, msg: &[u8], out: &mut [u8]) {
    let (ct, tag) = out.split_at_mut(msg.len());
    let buf = InOutBuf::new(msg, ct).expect("equal lengths");
    let t = cipher.encrypt_inout_detached(nonce, AAD, buf).expect("message too long");
    tag.copy_from_slice(&t);
}

/// RustCrypto, out of place: plaintext straight into `out`; false if the tag does not verify.
fn rustcrypto_open(cipher: &XChaCha20Poly1305, nonce: &XNonce, sealed: &[u8], out: &mut [u8]) -> bool {
    let (ct, tag) = sealed.split_at(sealed.len() - TAG);
    let tag = Tag::try_from(tag).expect("16-byte tag");
    let buf = InOutBuf::new(ct, out).expect("equal lengths");
    cipher.decrypt_inout_detached(nonce, AAD, buf, &tag).is_ok()
}

/// Same key, nonce and AAD: all three produce the same bytes, each opens the others' output,
/// and each refuses a flipped tag bit.
fn check() {
    let rc = XChaCha20Poly1305::new(&Key::from(KEY));
    let nonce = XNonce::from(NONCE);
    let aws = aws_lc::XChaCha::new(&KEY);
    for len in [0, 1, 63, 64, 65, 1000, 4096 + 7, 70_000] {
        let msg: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let mut sealed = [vec![0u8; len + TAG], vec![0u8; len + TAG], vec![0u8; len + TAG]];
        sodium::xchacha_seal(&KEY, &NONCE, AAD, &msg, &mut sealed[0]);
        rustcrypto_seal(&rc, &nonce, &msg, &mut sealed[1]);
        aws.seal(&NONCE, AAD, &msg, &mut sealed[2]);
        assert_eq!(sealed[0], sealed[1], "rustcrypto ciphertext differs from libsodium's at {len} B");
        assert_eq!(sealed[0], sealed[2], "aws-lc ciphertext differs from libsodium's at {len} B");
        for s in &mut sealed {
            let mut out = vec![0u8; len];
            assert!(sodium::xchacha_open(&KEY, &NONCE, AAD, s, &mut out) && out == msg);
            out.fill(0);
            assert!(rustcrypto_open(&rc, &nonce, s, &mut out) && out == msg);
            out.fill(0);
            assert!(aws.open(&NONCE, AAD, s, &mut out) && out == msg);
            s[len] ^= 1;
            assert!(!sodium::xchacha_open(&KEY, &NONCE, AAD, s, &mut out));
            assert!(!rustcrypto_open(&rc, &nonce, s, &mut out));
            assert!(!aws.open(&NONCE, AAD, s, &mut out));
        }
    }
    eprintln!("crypto_aead: libsodium, rustcrypto and aws-lc agree (same ciphertexts, cross-open, tamper refused)");
}

fn aead(c: &mut Criterion) {
    check();
    let rc = XChaCha20Poly1305::new(&Key::from(KEY));
    let nonce = XNonce::from(NONCE);
    let aws = aws_lc::XChaCha::new(&KEY);
    for (size, label) in SIZES {
        let msg = vec![0x5au8; size];
        let mut sealed = vec![0u8; size + TAG];
        let mut opened = vec![0u8; size];

        let mut g = c.benchmark_group(format!("aead/{label}"));
        g.throughput(Throughput::Bytes(size as u64));
        g.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500)).sample_size(50);
        g.bench_function("libsodium", |b| {
            b.iter(|| {
                sodium::xchacha_seal(&KEY, &NONCE, AAD, black_box(&msg), &mut sealed);
                assert!(sodium::xchacha_open(&KEY, &NONCE, AAD, black_box(&sealed), &mut opened));
            });
        });
        g.bench_function("rustcrypto", |b| {
            b.iter(|| {
                rustcrypto_seal(&rc, &nonce, black_box(&msg), &mut sealed);
                assert!(rustcrypto_open(&rc, &nonce, black_box(&sealed), &mut opened));
            });
        });
        g.bench_function("aws_lc", |b| {
            b.iter(|| {
                aws.seal(&NONCE, AAD, black_box(&msg), &mut sealed);
                assert!(aws.open(&NONCE, AAD, black_box(&sealed), &mut opened));
            });
        });
        g.finish();

        let mut g = c.benchmark_group(format!("aead_seal/{label}"));
        g.throughput(Throughput::Bytes(size as u64));
        g.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(50);
        g.bench_function("libsodium", |b| {
            b.iter(|| sodium::xchacha_seal(&KEY, &NONCE, AAD, black_box(&msg), &mut sealed));
        });
        g.bench_function("rustcrypto", |b| b.iter(|| rustcrypto_seal(&rc, &nonce, black_box(&msg), &mut sealed)));
        g.bench_function("aws_lc", |b| b.iter(|| aws.seal(&NONCE, AAD, black_box(&msg), &mut sealed)));
        g.finish();
    }
}

criterion_group!(benches, aead);
criterion_main!(benches);
