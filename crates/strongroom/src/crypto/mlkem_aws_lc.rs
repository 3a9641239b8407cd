//! ML-KEM (FIPS 203), X25519 and SHAKE256 from aws-lc, through functions aws-lc-sys does not
//! bind: declared here, by their linked names.
//!
//! aws-lc bundles mlkem-native and exports caller-buffer functions for it
//! (`crypto/fipsmodule/ml_kem/ml_kem.h`); aws-lc-sys 0.47 links every symbol with the prefix
//! `aws_lc_0_47_0_`, which is why Cargo.toml pins aws-lc-sys to exactly that version. Every
//! function here checks each length before the call and the return code after, wipes its
//! secret outputs on failure, and hands aws-lc only pointers it borrows for the call: none
//! keeps one. Callers run these calls on a secure stack ([`StackSize::Kem`]), where
//! mlkem-native keeps its matrices and secret vectors.
//!
//! [`StackSize::Kem`]: crate::stack::StackSize::Kem

use std::ffi::c_int;

use crate::error::{Error, Result};

/// mlkem-native's return code for success (`ML_KEM_SUCCESS`); failure is 1. The reverse of
/// aws-lc's usual convention.
const ML_KEM_SUCCESS: c_int = 0;

/// `ml_kem_*_keypair_deterministic(pk, &pk_len, sk, &sk_len, seed[64])`.
type Keypair = unsafe extern "C" fn(*mut u8, *mut usize, *mut u8, *mut usize, *const u8) -> c_int;
/// `ml_kem_*_encapsulate_deterministic(ct, &ct_len, ss, &ss_len, pk, m[32])`.
type Encapsulate = unsafe extern "C" fn(*mut u8, *mut usize, *mut u8, *mut usize, *const u8, *const u8) -> c_int;
/// `ml_kem_*_decapsulate(ss, &ss_len, ct, sk)`.
type Decapsulate = unsafe extern "C" fn(*mut u8, *mut usize, *const u8, *const u8) -> c_int;

// SAFETY: each declaration copies its prototype from aws-lc-sys 0.47.0's bundled crypto/fipsmodule/ml_kem/ml_kem.h,
// curve25519 and digest headers (pointer and length types, `c_int` returns), under the version-prefixed name that crate
// links (pinned to =0.47.0 in Cargo.toml); a test calls each one against independent vectors.
unsafe extern "C" {
    // crypto/fipsmodule/ml_kem/ml_kem.h: 0 on success, 1 on failure. The length arguments
    // are in/out: at least the parameter set's size in, the size written out.
    fn aws_lc_0_47_0_ml_kem_512_keypair_deterministic(
        pk: *mut u8,
        pk_len: *mut usize,
        sk: *mut u8,
        sk_len: *mut usize,
        seed: *const u8,
    ) -> c_int;
    fn aws_lc_0_47_0_ml_kem_768_keypair_deterministic(
        pk: *mut u8,
        pk_len: *mut usize,
        sk: *mut u8,
        sk_len: *mut usize,
        seed: *const u8,
    ) -> c_int;
    fn aws_lc_0_47_0_ml_kem_1024_keypair_deterministic(
        pk: *mut u8,
        pk_len: *mut usize,
        sk: *mut u8,
        sk_len: *mut usize,
        seed: *const u8,
    ) -> c_int;
    fn aws_lc_0_47_0_ml_kem_512_encapsulate_deterministic(
        ct: *mut u8,
        ct_len: *mut usize,
        ss: *mut u8,
        ss_len: *mut usize,
        pk: *const u8,
        seed: *const u8,
    ) -> c_int;
    fn aws_lc_0_47_0_ml_kem_768_encapsulate_deterministic(
        ct: *mut u8,
        ct_len: *mut usize,
        ss: *mut u8,
        ss_len: *mut usize,
        pk: *const u8,
        seed: *const u8,
    ) -> c_int;
    fn aws_lc_0_47_0_ml_kem_1024_encapsulate_deterministic(
        ct: *mut u8,
        ct_len: *mut usize,
        ss: *mut u8,
        ss_len: *mut usize,
        pk: *const u8,
        seed: *const u8,
    ) -> c_int;
    fn aws_lc_0_47_0_ml_kem_512_decapsulate(ss: *mut u8, ss_len: *mut usize, ct: *const u8, sk: *const u8) -> c_int;
    fn aws_lc_0_47_0_ml_kem_768_decapsulate(ss: *mut u8, ss_len: *mut usize, ct: *const u8, sk: *const u8) -> c_int;
    fn aws_lc_0_47_0_ml_kem_1024_decapsulate(ss: *mut u8, ss_len: *mut usize, ct: *const u8, sk: *const u8) -> c_int;
    // include/openssl/curve25519.h: 1 unless the shared key is all zeros (small-order peer).
    fn aws_lc_0_47_0_X25519(out_shared_key: *mut u8, private_key: *const u8, peer_public_value: *const u8) -> c_int;
    fn aws_lc_0_47_0_X25519_public_from_private(out_public_value: *mut u8, private_key: *const u8);
    // include/openssl/digest.h (sha3.c): `out`, or null on failure.
    fn aws_lc_0_47_0_SHAKE256(data: *const u8, in_len: usize, out: *mut u8, out_len: usize) -> *mut u8;
}

/// One ML-KEM parameter set: its sizes and its three aws-lc functions.
pub(crate) struct MlKem {
    pub(crate) encapsulation_key_len: usize,
    pub(crate) decapsulation_key_len: usize,
    pub(crate) ciphertext_len: usize,
    keypair: Keypair,
    encapsulate: Encapsulate,
    decapsulate: Decapsulate,
}

/// Seed `d ‖ z` length.
pub(crate) const SEED_LEN: usize = 64;
/// Encapsulation randomness `m` length.
pub(crate) const MESSAGE_LEN: usize = 32;
/// Shared secret length.
pub(crate) const SHARED_SECRET_LEN: usize = 32;

/// ML-KEM-512 (k = 2).
pub(crate) static ML_KEM_512: MlKem = MlKem {
    encapsulation_key_len: 800,
    decapsulation_key_len: 1632,
    ciphertext_len: 768,
    keypair: aws_lc_0_47_0_ml_kem_512_keypair_deterministic,
    encapsulate: aws_lc_0_47_0_ml_kem_512_encapsulate_deterministic,
    decapsulate: aws_lc_0_47_0_ml_kem_512_decapsulate,
};
/// ML-KEM-768 (k = 3).
pub(crate) static ML_KEM_768: MlKem = MlKem {
    encapsulation_key_len: 1184,
    decapsulation_key_len: 2400,
    ciphertext_len: 1088,
    keypair: aws_lc_0_47_0_ml_kem_768_keypair_deterministic,
    encapsulate: aws_lc_0_47_0_ml_kem_768_encapsulate_deterministic,
    decapsulate: aws_lc_0_47_0_ml_kem_768_decapsulate,
};
/// ML-KEM-1024 (k = 4).
pub(crate) static ML_KEM_1024: MlKem = MlKem {
    encapsulation_key_len: 1568,
    decapsulation_key_len: 3168,
    ciphertext_len: 1568,
    keypair: aws_lc_0_47_0_ml_kem_1024_keypair_deterministic,
    encapsulate: aws_lc_0_47_0_ml_kem_1024_encapsulate_deterministic,
    decapsulate: aws_lc_0_47_0_ml_kem_1024_decapsulate,
};

#[cfg(test)]
thread_local! {
    /// Test-only fault injection: when set, the next backend call on this thread does not
    /// reach aws-lc but scribbles on its outputs and reports failure, as a failing call could.
    pub(crate) static FAIL_NEXT_CALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether fault injection claims this call (never outside tests).
fn injected_failure(outputs: &mut [&mut [u8]]) -> bool {
    #[cfg(test)]
    if FAIL_NEXT_CALL.with(|fail| fail.replace(false)) {
        outputs.iter_mut().for_each(|out| out.fill(0xA5));
        return true;
    }
    let _ = outputs;
    false
}

/// The check every call makes before passing a slice to aws-lc as a fixed-size array.
fn check_len(actual: usize, expected: usize, what: &'static str) -> Result<()> {
    if actual == expected { Ok(()) } else { Err(Error::Internal(what)) }
}

impl MlKem {
    /// `ML-KEM.KeyGen_internal(d, z)`: writes the encapsulation key to `ek` and the expanded
    /// decapsulation key to `dk` (protected memory, by the caller's contract). On failure
    /// both are zeroed.
    pub(crate) fn keypair(&self, seed: &[u8; SEED_LEN], ek: &mut [u8], dk: &mut [u8]) -> Result<()> {
        check_len(ek.len(), self.encapsulation_key_len, "ML-KEM keypair: wrong encapsulation key buffer")?;
        check_len(dk.len(), self.decapsulation_key_len, "ML-KEM keypair: wrong decapsulation key buffer")?;
        let (mut ek_len, mut dk_len) = (ek.len(), dk.len());
        let rc = if injected_failure(&mut [&mut *ek, &mut *dk]) {
            1
        } else {
            // SAFETY: `ek` and `dk` are writable for exactly the parameter set's key sizes (checked above), which the
            // function writes and no more; `ek_len` and `dk_len` are valid in/out pointers holding those sizes; `seed`
            // is readable for the 64 bytes the function reads. aws-lc keeps none of the pointers after returning.
            unsafe { (self.keypair)(ek.as_mut_ptr(), &mut ek_len, dk.as_mut_ptr(), &mut dk_len, seed.as_ptr()) }
        };
        if rc != ML_KEM_SUCCESS || ek_len != ek.len() || dk_len != dk.len() {
            ek.fill(0);
            dk.fill(0);
            return Err(Error::Internal("aws-lc failed to generate an ML-KEM key pair from a 64-byte seed"));
        }
        Ok(())
    }

    /// `ML-KEM.Encaps_internal(ek, m)`: writes the ciphertext to `ct` and the shared secret
    /// to `ss`. `ek` must have passed the modulus check. On failure both are zeroed.
    pub(crate) fn encapsulate(
        &self,
        ek: &[u8],
        m: &[u8; MESSAGE_LEN],
        ct: &mut [u8],
        ss: &mut [u8; SHARED_SECRET_LEN],
    ) -> Result<()> {
        check_len(ek.len(), self.encapsulation_key_len, "ML-KEM encapsulate: wrong encapsulation key length")?;
        check_len(ct.len(), self.ciphertext_len, "ML-KEM encapsulate: wrong ciphertext buffer")?;
        let (mut ct_len, mut ss_len) = (ct.len(), ss.len());
        let rc = if injected_failure(&mut [&mut *ct, &mut ss[..]]) {
            1
        } else {
            // SAFETY: `ct` is writable for exactly the parameter set's ciphertext size and `ss` for 32 bytes (checked
            // above and by its type); the length pointers are valid and hold those sizes; `ek` is readable for exactly
            // the encapsulation key size (checked above) and `m` for the 32 bytes read. No pointer is kept.
            unsafe {
                (self.encapsulate)(ct.as_mut_ptr(), &mut ct_len, ss.as_mut_ptr(), &mut ss_len, ek.as_ptr(), m.as_ptr())
            }
        };
        if rc != ML_KEM_SUCCESS || ct_len != ct.len() || ss_len != ss.len() {
            ct.fill(0);
            ss.fill(0);
            return Err(Error::Internal("aws-lc failed to encapsulate to a checked ML-KEM encapsulation key"));
        }
        Ok(())
    }

    /// `ML-KEM.Decaps(dk, c)` on an expanded decapsulation key: writes the shared secret
    /// (the implicit-rejection secret for a tampered ciphertext) to `ss`. aws-lc refuses a
    /// `dk` whose embedded hash of `ek` does not match; then `ss` is zeroed.
    pub(crate) fn decapsulate(&self, dk: &[u8], ct: &[u8], ss: &mut [u8; SHARED_SECRET_LEN]) -> Result<()> {
        check_len(dk.len(), self.decapsulation_key_len, "ML-KEM decapsulate: wrong decapsulation key length")?;
        check_len(ct.len(), self.ciphertext_len, "ML-KEM decapsulate: wrong ciphertext length")?;
        let mut ss_len = ss.len();
        let rc = if injected_failure(&mut [&mut ss[..]]) {
            1
        } else {
            // SAFETY: `ss` is writable for 32 bytes (its type) and `ss_len` holds that size;
            // `ct` and `dk` are readable for exactly the parameter set's ciphertext and
            // decapsulation key sizes (checked above). No pointer is kept.
            unsafe { (self.decapsulate)(ss.as_mut_ptr(), &mut ss_len, ct.as_ptr(), dk.as_ptr()) }
        };
        if rc != ML_KEM_SUCCESS || ss_len != ss.len() {
            ss.fill(0);
            return Err(Error::Internal("aws-lc refused to decapsulate with an ML-KEM decapsulation key"));
        }
        Ok(())
    }
}

/// X25519 key and point length.
pub(crate) const X25519_LEN: usize = 32;

/// `X25519(private, peer)` into `out`. An all-zero result (a small-order peer point) is not
/// refused: X-Wing, the one caller, specifies no such check (its security rests on ML-KEM
/// there), and the combiner still hashes in the ciphertext and public key.
pub(crate) fn x25519(private: &[u8; X25519_LEN], peer: &[u8; X25519_LEN], out: &mut [u8; X25519_LEN]) {
    // SAFETY: all three pointers are valid for the 32 bytes X25519 reads or writes (their
    // types); `out` is a `&mut`, so it overlaps neither input. No pointer is kept.
    let _nonzero = unsafe { aws_lc_0_47_0_X25519(out.as_mut_ptr(), private.as_ptr(), peer.as_ptr()) };
}

/// The X25519 public key of `private` into `out`.
pub(crate) fn x25519_public(private: &[u8; X25519_LEN], out: &mut [u8; X25519_LEN]) {
    // SAFETY: both pointers are valid for the 32 bytes read or written (their types), and
    // `out`, a `&mut`, does not overlap `private`. No pointer is kept.
    unsafe { aws_lc_0_47_0_X25519_public_from_private(out.as_mut_ptr(), private.as_ptr()) };
}

/// `SHAKE256(input)` into all of `out` (protected memory, by the caller's contract). On
/// failure `out` is zeroed.
pub(crate) fn shake256(input: &[u8], out: &mut [u8]) -> Result<()> {
    let written = if injected_failure(&mut [&mut *out]) {
        std::ptr::null_mut()
    } else {
        // SAFETY: `input` is readable for `input.len()` bytes and `out` writable for
        // `out.len()` bytes, the lengths passed; `out` is a `&mut`, so it overlaps nothing.
        // aws-lc's hash state lives on the (secure) stack of this call and is cleansed.
        unsafe { aws_lc_0_47_0_SHAKE256(input.as_ptr(), input.len(), out.as_mut_ptr(), out.len()) }
    };
    if written != out.as_mut_ptr() {
        out.fill(0);
        return Err(Error::Internal("aws-lc failed to compute SHAKE256"));
    }
    Ok(())
}

/// SHAKE-128 as a stream (absorb, then squeeze any number of times), from aws-lc's EVP
/// interface: the deterministic source and the accumulator of the CCTV accumulated ML-KEM
/// tests. Test-only; public data only.
#[cfg(test)]
pub(crate) struct Shake128 {
    ctx: std::ptr::NonNull<aws_lc_sys::EVP_MD_CTX>,
}

#[cfg(test)]
impl Shake128 {
    pub(crate) fn new() -> Shake128 {
        // SAFETY: EVP_MD_CTX_new takes no arguments and returns an owned context or null.
        let ctx = std::ptr::NonNull::new(unsafe { aws_lc_sys::EVP_MD_CTX_new() }).expect("EVP_MD_CTX_new");
        // SAFETY: EVP_shake128 takes no arguments and returns aws-lc's static descriptor.
        let md = unsafe { aws_lc_sys::EVP_shake128() };
        // SAFETY: `ctx` is a fresh context; `md` is aws-lc's static SHAKE128 descriptor; a
        // null ENGINE is the documented default.
        let ok = unsafe { aws_lc_sys::EVP_DigestInit_ex(ctx.as_ptr(), md, std::ptr::null_mut()) };
        assert_eq!(ok, 1, "EVP_DigestInit_ex(SHAKE128)");
        Shake128 { ctx }
    }

    pub(crate) fn absorb(&mut self, data: &[u8]) {
        // SAFETY: `ctx` is an initialised SHAKE128 context owned by `self`; `data` is
        // readable for `data.len()` bytes.
        let ok = unsafe { aws_lc_sys::EVP_DigestUpdate(self.ctx.as_ptr(), data.as_ptr().cast(), data.len()) };
        assert_eq!(ok, 1, "EVP_DigestUpdate");
    }

    pub(crate) fn squeeze(&mut self, out: &mut [u8]) {
        // SAFETY: `ctx` is an initialised SHAKE128 context owned by `self`; `out` is
        // writable for `out.len()` bytes.
        let ok = unsafe { aws_lc_sys::EVP_DigestSqueeze(self.ctx.as_ptr(), out.as_mut_ptr(), out.len()) };
        assert_eq!(ok, 1, "EVP_DigestSqueeze");
    }
}

#[cfg(test)]
impl Drop for Shake128 {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from EVP_MD_CTX_new, is owned by `self` and freed once, here.
        unsafe { aws_lc_sys::EVP_MD_CTX_free(self.ctx.as_ptr()) };
    }
}
