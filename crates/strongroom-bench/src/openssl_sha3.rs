//! The system OpenSSL's SHA3-256 (`EVP_Digest` with `EVP_sha3_256`), a third reference for the
//! sequential SHA3-256 chain of the KDF (`benches/crypto_kdf.rs`).

use std::ffi::c_void;

// SAFETY: these declarations copy their C prototypes from OpenSSL's <openssl/evp.h> (the system
// library the bench links); the benches call each one with buffers of the lengths passed.
unsafe extern "C" {
    fn EVP_sha3_256() -> *const c_void;
    fn EVP_Digest(
        data: *const c_void,
        count: usize,
        md: *mut u8,
        size: *mut u32,
        kind: *const c_void,
        engine: *mut c_void,
    ) -> i32;
}

/// `h = SHA3-256(h)`, `rounds` times, in place.
///
/// # Panics
/// If OpenSSL reports an error.
pub fn sha3_256_chain(h: &mut [u8; 32], rounds: u64) {
    // SAFETY: EVP_sha3_256 returns a static descriptor.
    let md = unsafe { EVP_sha3_256() };
    for _ in 0..rounds {
        let input = *h;
        let mut len = 0u32;
        // SAFETY: `input` is valid for 32 bytes, `h` has room for the 32-byte digest.
        let ok = unsafe {
            EVP_Digest(input.as_ptr().cast(), input.len(), h.as_mut_ptr(), &mut len, md, std::ptr::null_mut())
        };
        assert!(ok == 1 && len == 32, "EVP_Digest(SHA3-256) failed");
    }
}
