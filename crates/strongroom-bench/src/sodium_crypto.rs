//! libsodium's XChaCha20-Poly1305 (`crypto_aead_xchacha20poly1305_ietf_*`) and Argon2id
//! (`crypto_pwhash` with `crypto_pwhash_ALG_ARGON2ID13`): the baseline for the crypto-boundary
//! benchmarks (`benches/crypto_aead.rs`, `benches/crypto_kdf.rs`).

use std::ffi::c_char;
use std::sync::Once;

/// XChaCha20-Poly1305 key length.
pub const KEY_LEN: usize = 32;
/// XChaCha20-Poly1305 nonce length.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// `crypto_pwhash_SALTBYTES`.
pub const SALT_LEN: usize = 16;

/// `crypto_pwhash_ALG_ARGON2ID13`.
const ALG_ARGON2ID13: i32 = 2;

// SAFETY: these declarations copy their C prototypes from libsodium's <sodium.h> (the system
// library the bench links); the benches call each one with buffers of the lengths passed.
unsafe extern "C" {
    fn sodium_init() -> i32;
    fn crypto_aead_xchacha20poly1305_ietf_encrypt(
        c: *mut u8,
        clen_p: *mut u64,
        m: *const u8,
        mlen: u64,
        ad: *const u8,
        adlen: u64,
        nsec: *const u8,
        npub: *const u8,
        k: *const u8,
    ) -> i32;
    fn crypto_aead_xchacha20poly1305_ietf_decrypt(
        m: *mut u8,
        mlen_p: *mut u64,
        nsec: *mut u8,
        c: *const u8,
        clen: u64,
        ad: *const u8,
        adlen: u64,
        npub: *const u8,
        k: *const u8,
    ) -> i32;
    fn crypto_pwhash(
        out: *mut u8,
        outlen: u64,
        passwd: *const c_char,
        passwdlen: u64,
        salt: *const u8,
        opslimit: u64,
        memlimit: usize,
        alg: i32,
    ) -> i32;
}

fn init() {
    static INIT: Once = Once::new();
    // SAFETY: sodium_init is thread-safe and idempotent.
    INIT.call_once(|| assert!(unsafe { sodium_init() } >= 0, "sodium_init failed"));
}

/// Seals `msg` into `out` (`ciphertext ‖ tag`, so `out.len() == msg.len() + TAG_LEN`).
///
/// # Panics
/// If `out` has the wrong length or libsodium reports an error.
pub fn xchacha_seal(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], aad: &[u8], msg: &[u8], out: &mut [u8]) {
    init();
    assert_eq!(out.len(), msg.len() + TAG_LEN, "output must be message + tag");
    let mut clen = 0u64;
    // SAFETY: every pointer is valid for the length passed with it; `out` holds mlen + 16 bytes,
    // as libsodium requires; nsec is unused and may be null.
    let rc = unsafe {
        crypto_aead_xchacha20poly1305_ietf_encrypt(
            out.as_mut_ptr(),
            &mut clen,
            msg.as_ptr(),
            msg.len() as u64,
            aad.as_ptr(),
            aad.len() as u64,
            std::ptr::null(),
            nonce.as_ptr(),
            key.as_ptr(),
        )
    };
    assert!(rc == 0 && clen == out.len() as u64, "crypto_aead_xchacha20poly1305_ietf_encrypt failed");
}

/// Opens `sealed` (`ciphertext ‖ tag`) into `out` (`out.len() == sealed.len() - TAG_LEN`).
/// Returns false when the tag does not verify.
///
/// # Panics
/// If the lengths do not fit.
#[must_use]
pub fn xchacha_open(key: &[u8; KEY_LEN], nonce: &[u8; NONCE_LEN], aad: &[u8], sealed: &[u8], out: &mut [u8]) -> bool {
    init();
    assert!(sealed.len() >= TAG_LEN && out.len() == sealed.len() - TAG_LEN, "output must be sealed - tag");
    let mut mlen = 0u64;
    // SAFETY: every pointer is valid for the length passed with it; `out` holds clen - 16 bytes,
    // as libsodium requires; nsec is unused and may be null.
    let rc = unsafe {
        crypto_aead_xchacha20poly1305_ietf_decrypt(
            out.as_mut_ptr(),
            &mut mlen,
            std::ptr::null_mut(),
            sealed.as_ptr(),
            sealed.len() as u64,
            aad.as_ptr(),
            aad.len() as u64,
            nonce.as_ptr(),
            key.as_ptr(),
        )
    };
    rc == 0 && mlen == out.len() as u64
}

/// Argon2id v1.3 (p = 1, libsodium's only choice) with `t` passes over `m_kib` KiB, raw output
/// into `out`.
///
/// # Panics
/// If libsodium refuses the parameters (for example out of memory).
pub fn argon2id(out: &mut [u8], password: &[u8], salt: &[u8; SALT_LEN], t: u32, m_kib: u32) {
    init();
    // SAFETY: `out`, `password` and `salt` are valid for the lengths passed (the salt is
    // crypto_pwhash_SALTBYTES long); crypto_pwhash writes only `out.len()` bytes into `out`.
    let rc = unsafe {
        crypto_pwhash(
            out.as_mut_ptr(),
            out.len() as u64,
            password.as_ptr().cast(),
            password.len() as u64,
            salt.as_ptr(),
            u64::from(t),
            m_kib as usize * 1024,
            ALG_ARGON2ID13,
        )
    };
    assert_eq!(rc, 0, "crypto_pwhash failed (out of memory or parameters out of range)");
}
