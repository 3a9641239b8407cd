//! The KDF for the crypto boundary: Argon2id v1.3 (64 MiB, t = 3, p = 1, 32-byte raw output)
//! followed by a sequential SHA3-256 chain (1000 rounds, as sedit v1/v2 use).
//!
//! Group `kdf/argon2id_64MiB_t3`: libsodium's `crypto_pwhash` (ALG_ARGON2ID13) against
//! RustCrypto's `argon2` (fresh memory each call, like libsodium; then a reused caller-provided
//! block buffer: plain heap, `MADV_HUGEPAGE`, and a strongroom `LockedBuffer`) and `argon2-rust`
//! (fresh arena each call, and a reused `Hasher`). Group `kdf/sha3_256_chain_1000`: RustCrypto's `sha3`, aws-lc and OpenSSL.
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/target-crypto cargo bench -p strongroom-bench --bench crypto_kdf
//! CARGO_TARGET_DIR=/work/target-crypto cargo run -p strongroom-bench --bin bench-ratios -- kdf/argon2id libsodium
//! CARGO_TARGET_DIR=/work/target-crypto cargo run -p strongroom-bench --bin bench-ratios -- kdf/sha3 openssl
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use sha3::{Digest, Sha3_256};
use strongroom_bench::{aws_lc, openssl_sha3, sodium_crypto as sodium};

const M_KIB: u32 = 64 * 1024;
const T: u32 = 3;
const ROUNDS: u64 = 1000;

/// `../shared/design/sedit-format.md`, vector v2_fixed_salt: password `password`, salt 00..0f.
const VECTOR_ARGON2: &str = "def6fd068289b9a0cf1114f8e978a2c4dab6faef377d895b9c2d59fc93fc5653";
const VECTOR_SHA3_ONCE: &str = "955e91ce865555386b0f915d00520087ca4a612848675c34d19ba8e641c3c4fa";
const VECTOR_KEY: &str = "8c9bb8da28241ca9d42807712aae2aea21986cd30133c0e2dc17cd5122563034";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rustcrypto(m_kib: u32, t: u32) -> argon2::Argon2<'static> {
    let params = argon2::Params::new(m_kib, t, 1, Some(32)).expect("argon2 params");
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

fn argon2_rust(m_kib: u32, t: u32) -> argon2_rust::Argon2 {
    use argon2_rust::params::{Memory, TagLen};
    let params = argon2_rust::Params::builder()
        .memory(Memory::kib(u64::from(m_kib)))
        .passes(t)
        .lanes(1)
        .threads(1)
        .tag_len(TagLen::bytes(32))
        .build()
        .expect("argon2-rust params");
    argon2_rust::Argon2::new(argon2_rust::Algorithm::Argon2id, argon2_rust::Version::V0x13, params)
}

/// `bytes` (page-aligned, a whole number of 1 KiB blocks) viewed as Argon2 blocks.
fn as_blocks(bytes: &mut [u8]) -> &mut [argon2::Block] {
    assert!(
        bytes.len().is_multiple_of(argon2::Block::SIZE) && bytes.as_ptr().addr().is_multiple_of(64),
        "misaligned block memory"
    );
    // SAFETY: the range is valid, exclusively borrowed, 64-byte aligned (Block's alignment) and a
    // whole number of blocks; a Block is plain u64 words, so any bytes are a valid value.
    unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr().cast(), bytes.len() / argon2::Block::SIZE) }
}

/// Anonymous memory with `MADV_HUGEPAGE` (transparent huge pages where the kernel has them),
/// as argon2-rust maps its own arena: shows how much of a gap is TLB misses on 4 KiB pages.
struct HugePages {
    ptr: *mut u8,
    len: usize,
}

impl HugePages {
    fn new(len: usize) -> Self {
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED, "mmap failed");
        // SAFETY: advice on the mapping made just above; failure only means no huge pages.
        unsafe { libc::madvise(ptr, len, libc::MADV_HUGEPAGE) };
        Self { ptr: ptr.cast(), len }
    }

    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is live, readable and writable for `len` bytes, borrowed through &mut self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for HugePages {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, once.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

fn rustcrypto_sha3_chain(h: &mut [u8; 32], rounds: u64) {
    for _ in 0..rounds {
        *h = Sha3_256::digest(*h).into();
    }
}

/// Every Argon2id candidate gives libsodium's raw output (the sedit vector at 64 MiB, t = 3,
/// and a cheap second case), and the three SHA3-256 chains give the vector's key.
fn check() {
    let salt: [u8; 16] = std::array::from_fn(|i| i as u8);
    let mut want = [0u8; 32];
    sodium::argon2id(&mut want, b"password", &salt, T, M_KIB);
    assert_eq!(hex(&want), VECTOR_ARGON2, "libsodium disagrees with the sedit vector");
    for (m_kib, t, pwd, salt) in [(M_KIB, T, &b"password"[..], salt), (1024, 1, b"p\xc3\xa4ss", [0xa5; 16])] {
        let mut want = [0u8; 32];
        sodium::argon2id(&mut want, pwd, &salt, t, m_kib);
        let mut got = [0u8; 32];
        rustcrypto(m_kib, t).hash_password_into(pwd, &salt, &mut got).expect("argon2");
        assert_eq!(got, want, "RustCrypto argon2 differs from libsodium at m={m_kib} t={t}");
        let mut blocks = vec![argon2::Block::default(); m_kib as usize];
        got = [0; 32];
        rustcrypto(m_kib, t).hash_password_into_with_memory(pwd, &salt, &mut got, &mut blocks).expect("argon2");
        assert_eq!(got, want, "RustCrypto argon2 (caller memory) differs from libsodium at m={m_kib} t={t}");
        got = [0; 32];
        argon2_rust(m_kib, t).hash_into(pwd, &salt, &mut got).expect("argon2-rust");
        assert_eq!(got, want, "argon2-rust differs from libsodium at m={m_kib} t={t}");
    }
    let mut once = want;
    rustcrypto_sha3_chain(&mut once, 1);
    assert_eq!(hex(&once), VECTOR_SHA3_ONCE);
    for chain in [rustcrypto_sha3_chain, aws_lc::sha3_256_chain, openssl_sha3::sha3_256_chain] {
        let mut h = want;
        chain(&mut h, ROUNDS);
        assert_eq!(hex(&h), VECTOR_KEY, "a SHA3-256 chain misses the sedit vector's key");
    }
    eprintln!(
        "crypto_kdf: libsodium, RustCrypto argon2 and argon2-rust ({:?} backend) agree; sha3 chains match",
        argon2_rust::detected_backend()
    );
}

fn kdf(c: &mut Criterion) {
    check();
    let pwd = b"correct horse battery staple";
    let salt = [0x5au8; 16];
    let mut out = [0u8; 32];

    let mut g = c.benchmark_group("kdf/argon2id_64MiB_t3");
    g.sampling_mode(SamplingMode::Flat).sample_size(10);
    g.measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    g.bench_function("libsodium", |b| b.iter(|| sodium::argon2id(&mut out, black_box(pwd), &salt, T, M_KIB)));
    let a = rustcrypto(M_KIB, T);
    g.bench_function("rustcrypto", |b| {
        b.iter(|| a.hash_password_into(black_box(pwd), &salt, &mut out).expect("argon2"));
    });
    let mut blocks = vec![argon2::Block::default(); M_KIB as usize];
    g.bench_function("rustcrypto_reused_memory", |b| {
        b.iter(|| a.hash_password_into_with_memory(black_box(pwd), &salt, &mut out, &mut blocks).expect("argon2"));
    });
    drop(blocks);
    let mut huge = HugePages::new(M_KIB as usize * 1024);
    g.bench_function("rustcrypto_hugepage_memory", |b| {
        let blocks = as_blocks(huge.bytes());
        b.iter(|| a.hash_password_into_with_memory(black_box(pwd), &salt, &mut out, &mut *blocks).expect("argon2"));
    });
    drop(huge);
    // strongroom's own protected memory (default policy: memfd_secret where the kernel has it,
    // locked, guarded): where the crypto boundary would put Argon2's state.
    match strongroom::LockedBuffer::new(M_KIB as usize * 1024) {
        Ok(mut locked) => {
            eprintln!("crypto_kdf: locked Argon2 memory has {:?}", locked.protections());
            g.bench_function("rustcrypto_locked_memory", |b| {
                locked
                    .with_mut(|bytes| {
                        let blocks = as_blocks(bytes);
                        b.iter(|| {
                            a.hash_password_into_with_memory(black_box(pwd), &salt, &mut out, &mut *blocks)
                                .expect("argon2");
                        });
                    })
                    .expect("locked buffer");
            });
        }
        Err(e) => eprintln!("crypto_kdf: skipping rustcrypto_locked_memory: 64 MiB LockedBuffer failed: {e}"),
    }
    // The same with a fresh LockedBuffer per call (map, lock, first touch, wipe, unmap), as
    // libsodium and `rustcrypto` pay for their fresh heap memory.
    if strongroom::LockedBuffer::new(M_KIB as usize * 1024).is_ok() {
        g.bench_function("rustcrypto_locked_memory_fresh", |b| {
            b.iter(|| {
                let mut locked = strongroom::LockedBuffer::new(M_KIB as usize * 1024).expect("locked buffer");
                locked
                    .with_mut(|bytes| {
                        a.hash_password_into_with_memory(black_box(pwd), &salt, &mut out, as_blocks(bytes))
                            .expect("argon2");
                    })
                    .expect("locked buffer");
            });
        });
    }
    // Fresh per call again, but locked anonymous memory (no memfd_secret): what the fresh cost is
    // without memfd_secret's slow first touch.
    let anonymous = strongroom::Policy { secret_memory: strongroom::Need::Off, ..strongroom::Policy::STANDARD };
    if strongroom::LockedBuffer::with_policy(M_KIB as usize * 1024, anonymous).is_ok() {
        g.bench_function("rustcrypto_locked_anonymous_fresh", |b| {
            b.iter(|| {
                let mut locked =
                    strongroom::LockedBuffer::with_policy(M_KIB as usize * 1024, anonymous).expect("locked buffer");
                locked
                    .with_mut(|bytes| {
                        a.hash_password_into_with_memory(black_box(pwd), &salt, &mut out, as_blocks(bytes))
                            .expect("argon2");
                    })
                    .expect("locked buffer");
            });
        });
    }
    let r = argon2_rust(M_KIB, T);
    g.bench_function("argon2_rust", |b| b.iter(|| r.hash_into(black_box(pwd), &salt, &mut out).expect("argon2-rust")));
    let mut hasher = r.hasher();
    g.bench_function("argon2_rust_reused_memory", |b| {
        b.iter(|| hasher.hash_into(black_box(pwd), &salt, &mut out).expect("argon2-rust"));
    });
    drop(hasher);
    g.finish();

    let mut g = c.benchmark_group("kdf/sha3_256_chain_1000");
    g.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500)).sample_size(30);
    let mut h = [0x11u8; 32];
    g.bench_function("rustcrypto", |b| b.iter(|| rustcrypto_sha3_chain(black_box(&mut h), ROUNDS)));
    g.bench_function("aws_lc", |b| b.iter(|| aws_lc::sha3_256_chain(black_box(&mut h), ROUNDS)));
    g.bench_function("openssl", |b| b.iter(|| openssl_sha3::sha3_256_chain(black_box(&mut h), ROUNDS)));
    g.finish();
}

criterion_group!(benches, kdf);
criterion_main!(benches);
