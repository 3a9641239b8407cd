//! ML-DSA (FIPS 204) from aws-lc, which bundles mldsa-native.
//!
//! aws-lc exports caller-buffer functions for ML-DSA that aws-lc-sys's generated bindings do
//! not declare; they are declared here, under their linked names (aws-lc-sys prefixes every
//! symbol with its version: `aws_lc_0_47_0_`). The C declarations are in aws-lc's
//! `crypto/fipsmodule/ml_dsa/ml_dsa.h`; each returns 1 on success and 0 on failure.
//!
//! Three functions per parameter set are used:
//!
//! - `ml_dsa_NN_keypair_internal(pk, sk, seed)`: ML-DSA.KeyGen_internal(ξ);
//! - `ml_dsa_NN_sign_internal(sk, sig, &sig_len, m, m_len, pre, pre_len, rnd)`:
//!   ML-DSA.Sign_internal over M' = `pre ‖ m`, with the 32-byte `rnd`; the pure external
//!   interface of FIPS 204 (Algorithm 2) is `pre = 0 ‖ len(ctx) ‖ ctx` and `rnd` random
//!   (hedged) or all zero (deterministic);
//! - `ml_dsa_NN_verify(pk, sig, sig_len, m, m_len, ctx, ctx_len)`: ML-DSA.Verify, the pure
//!   external interface (aws-lc builds M' itself).
//!
//! mldsa-native keeps its whole working state (the expanded matrix, the masking vector, the
//! secret vectors) on the stack, so the key-handling calls run on a secure stack sized for
//! them (`StackSize::Sign`). Nothing here keeps a pointer past its call.
//!
//! Never here: key storage (that is [`crate::sign`]).

use std::ffi::c_int;

use crate::error::{Error, Result};

/// Length of the key-generation seed ξ and of the signing randomness `rnd`.
pub(crate) const SEED_LEN: usize = 32;
/// Longest context string FIPS 204 allows (its length is one byte of M').
pub(crate) const MAX_CONTEXT_LEN: usize = 255;

type Keypair = unsafe extern "C" fn(public_key: *mut u8, private_key: *mut u8, seed: *const u8) -> c_int;
type SignInternal = unsafe extern "C" fn(
    private_key: *const u8,
    sig: *mut u8,
    sig_len: *mut usize,
    message: *const u8,
    message_len: usize,
    pre: *const u8,
    pre_len: usize,
    rnd: *const u8,
) -> c_int;
type Verify = unsafe extern "C" fn(
    public_key: *const u8,
    sig: *const u8,
    sig_len: usize,
    message: *const u8,
    message_len: usize,
    ctx: *const u8,
    ctx_len: usize,
) -> c_int;

// SAFETY: each declaration copies its prototype from aws-lc-sys 0.47.0's bundled crypto/fipsmodule/ml_dsa headers
// (pointer and length types, `c_int` returns), under the version-prefixed name that crate links (pinned to =0.47.0 in
// Cargo.toml); the Wycheproof and CCTV tests call each one.
unsafe extern "C" {
    #[link_name = "aws_lc_0_47_0_ml_dsa_44_keypair_internal"]
    fn ml_dsa_44_keypair_internal(public_key: *mut u8, private_key: *mut u8, seed: *const u8) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_dsa_65_keypair_internal"]
    fn ml_dsa_65_keypair_internal(public_key: *mut u8, private_key: *mut u8, seed: *const u8) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_dsa_87_keypair_internal"]
    fn ml_dsa_87_keypair_internal(public_key: *mut u8, private_key: *mut u8, seed: *const u8) -> c_int;

    #[link_name = "aws_lc_0_47_0_ml_dsa_44_sign_internal"]
    fn ml_dsa_44_sign_internal(
        private_key: *const u8,
        sig: *mut u8,
        sig_len: *mut usize,
        message: *const u8,
        message_len: usize,
        pre: *const u8,
        pre_len: usize,
        rnd: *const u8,
    ) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_dsa_65_sign_internal"]
    fn ml_dsa_65_sign_internal(
        private_key: *const u8,
        sig: *mut u8,
        sig_len: *mut usize,
        message: *const u8,
        message_len: usize,
        pre: *const u8,
        pre_len: usize,
        rnd: *const u8,
    ) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_dsa_87_sign_internal"]
    fn ml_dsa_87_sign_internal(
        private_key: *const u8,
        sig: *mut u8,
        sig_len: *mut usize,
        message: *const u8,
        message_len: usize,
        pre: *const u8,
        pre_len: usize,
        rnd: *const u8,
    ) -> c_int;

    #[link_name = "aws_lc_0_47_0_ml_dsa_44_verify"]
    fn ml_dsa_44_verify(
        public_key: *const u8,
        sig: *const u8,
        sig_len: usize,
        message: *const u8,
        message_len: usize,
        ctx: *const u8,
        ctx_len: usize,
    ) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_dsa_65_verify"]
    fn ml_dsa_65_verify(
        public_key: *const u8,
        sig: *const u8,
        sig_len: usize,
        message: *const u8,
        message_len: usize,
        ctx: *const u8,
        ctx_len: usize,
    ) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_dsa_87_verify"]
    fn ml_dsa_87_verify(
        public_key: *const u8,
        sig: *const u8,
        sig_len: usize,
        message: *const u8,
        message_len: usize,
        ctx: *const u8,
        ctx_len: usize,
    ) -> c_int;
}

/// `ML_DSA_SUCCESS` in `ml_dsa.h` (ML-KEM's functions return 0 instead).
const SUCCESS: c_int = 1;

/// One ML-DSA parameter set: its sizes (FIPS 204 Table 2) and its three aws-lc functions.
pub struct Variant {
    /// `"ML-DSA-65"`.
    pub(crate) name: &'static str,
    pub(crate) public_key_len: usize,
    /// The expanded (semi-expanded, FIPS 204 skEncode) private key.
    pub(crate) private_key_len: usize,
    pub(crate) signature_len: usize,
    keypair: Keypair,
    sign: SignInternal,
    verify: Verify,
}

/// ML-DSA-44 (NIST category 2).
pub(crate) static ML_DSA_44: Variant = Variant {
    name: "ML-DSA-44",
    public_key_len: 1312,
    private_key_len: 2560,
    signature_len: 2420,
    keypair: ml_dsa_44_keypair_internal,
    sign: ml_dsa_44_sign_internal,
    verify: ml_dsa_44_verify,
};

/// ML-DSA-65 (NIST category 3).
pub(crate) static ML_DSA_65: Variant = Variant {
    name: "ML-DSA-65",
    public_key_len: 1952,
    private_key_len: 4032,
    signature_len: 3309,
    keypair: ml_dsa_65_keypair_internal,
    sign: ml_dsa_65_sign_internal,
    verify: ml_dsa_65_verify,
};

/// ML-DSA-87 (NIST category 5).
pub(crate) static ML_DSA_87: Variant = Variant {
    name: "ML-DSA-87",
    public_key_len: 2592,
    private_key_len: 4896,
    signature_len: 4627,
    keypair: ml_dsa_87_keypair_internal,
    sign: ml_dsa_87_sign_internal,
    verify: ml_dsa_87_verify,
};

impl Variant {
    /// ML-DSA.KeyGen_internal(ξ): writes the public key into `public_key` and the expanded
    /// private key into `private_key` (protected memory, by the caller's contract). On any
    /// failure both outputs are left zeroed.
    pub(crate) fn keypair(&self, seed: &[u8; SEED_LEN], public_key: &mut [u8], private_key: &mut [u8]) -> Result<()> {
        if public_key.len() != self.public_key_len || private_key.len() != self.private_key_len {
            return Err(Error::Internal("ML-DSA key generation was given output buffers of the wrong lengths"));
        }
        // SAFETY: both keys are writable for exactly this set's key lengths (checked above: what keypair writes);
        // `seed` is readable for the 32 bytes it reads; distinct borrows do not overlap; no pointer is kept.
        let rc = unsafe { (self.keypair)(public_key.as_mut_ptr(), private_key.as_mut_ptr(), seed.as_ptr()) };
        if injected_failure(Operation::Keypair) || rc != SUCCESS {
            zeroize::Zeroize::zeroize(public_key);
            zeroize::Zeroize::zeroize(private_key);
            return Err(Error::Internal("aws-lc's ML-DSA key generation failed (ml_dsa_*_keypair_internal)"));
        }
        Ok(())
    }

    /// ML-DSA.Sign_internal(sk, M' = `pre ‖ message`, rnd) into all of `signature`. On any
    /// failure `signature` is left zeroed.
    pub(crate) fn sign(
        &self,
        private_key: &[u8],
        message: &[u8],
        pre: &[u8],
        rnd: &[u8; SEED_LEN],
        signature: &mut [u8],
    ) -> Result<()> {
        if private_key.len() != self.private_key_len || signature.len() != self.signature_len {
            return Err(Error::Internal("ML-DSA signing was given buffers of the wrong lengths"));
        }
        let mut written = 0usize;
        // SAFETY: `private_key`/`signature` are readable/writable for this set's lengths (checked above: what sign
        // reads and writes); `message`, `pre`, `rnd` are readable for the lengths passed; `written` is a valid
        // out-pointer; `signature` (a `&mut`) overlaps no input; no pointer is kept.
        let rc = unsafe {
            (self.sign)(
                private_key.as_ptr(),
                signature.as_mut_ptr(),
                &mut written,
                message.as_ptr(),
                message.len(),
                pre.as_ptr(),
                pre.len(),
                rnd.as_ptr(),
            )
        };
        if injected_failure(Operation::Sign) || rc != SUCCESS || written != self.signature_len {
            zeroize::Zeroize::zeroize(signature);
            return Err(match rc {
                SUCCESS if written != self.signature_len => {
                    Error::Internal("aws-lc wrote another length than the ML-DSA signature's")
                }
                _ => Error::Internal("aws-lc's ML-DSA signing failed (ml_dsa_*_sign_internal)"),
            });
        }
        Ok(())
    }

    /// ML-DSA.Verify(pk, message, signature, ctx), the pure external interface: `Ok` for a
    /// valid signature, [`Error::InvalidSignature`] otherwise. The caller has checked the
    /// lengths of the public key, the signature and the context.
    pub(crate) fn verify(&self, public_key: &[u8], message: &[u8], ctx: &[u8], signature: &[u8]) -> Result<()> {
        if public_key.len() != self.public_key_len
            || signature.len() != self.signature_len
            || ctx.len() > MAX_CONTEXT_LEN
        {
            return Err(Error::Internal("ML-DSA verification was given inputs of the wrong lengths"));
        }
        // SAFETY: `public_key` is readable for this set's public-key length (checked above); `signature`, `message`
        // and `ctx` are readable for the lengths passed (aws-lc refuses other signature lengths and long contexts,
        // also checked above). Nothing is written; no pointer is kept.
        let rc = unsafe {
            (self.verify)(
                public_key.as_ptr(),
                signature.as_ptr(),
                signature.len(),
                message.as_ptr(),
                message.len(),
                ctx.as_ptr(),
                ctx.len(),
            )
        };
        if injected_failure(Operation::Verify) || rc != SUCCESS {
            return Err(Error::InvalidSignature);
        }
        Ok(())
    }
}

/// The backend calls a test can make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    Keypair,
    Sign,
    Verify,
}

#[cfg(test)]
thread_local! {
    static FAIL_NEXT: std::cell::Cell<Option<Operation>> = const { std::cell::Cell::new(None) };
}

/// Test hook: the next `operation` on this thread reports failure after the real call has
/// written its outputs, so the tests see that a failure wipes them.
#[cfg(test)]
pub(crate) fn fail_next(operation: Operation) {
    FAIL_NEXT.with(|f| f.set(Some(operation)));
}

#[cfg(test)]
fn injected_failure(operation: Operation) -> bool {
    FAIL_NEXT.with(|f| if f.get() == Some(operation) { f.take().is_some() } else { false })
}

#[cfg(not(test))]
#[inline(always)]
fn injected_failure(_: Operation) -> bool {
    false
}
