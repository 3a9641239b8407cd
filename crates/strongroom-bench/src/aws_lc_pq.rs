//! The aws-lc functions strongroom's post-quantum code calls (ML-KEM-768, ML-DSA-65, X25519,
//! SHAKE256), called directly on ordinary stack and heap buffers, with no protected memory
//! and no secure stack: the baseline of `benches/pq.rs`, whose ratio to strongroom is the
//! cost of that protection. X-Wing is composed from them as strongroom composes it
//! (`kem/x_wing.rs`): SHAKE256 seed expansion, ML-KEM-768, X25519 and the SHA3-256 combiner.
//!
//! aws-lc-sys does not bind these functions; they are declared here by their linked names,
//! which carry aws-lc-sys's version prefix (`aws_lc_0_47_0_`): strongroom pins aws-lc-sys to
//! exactly 0.47.0, and this crate's `aws-lc-sys = "0.47"` resolves to that same build, so
//! both link the one copy of aws-lc. The prototypes mirror strongroom's own declarations
//! (`crypto/mlkem_aws_lc.rs`, `crypto/mldsa_aws_lc.rs`); `benches/pq.rs` checks once, before
//! measuring, that every wrapper here gives strongroom's outputs byte for byte.

use std::ffi::c_int;

use sha3::{Digest, Sha3_256};

/// ML-KEM seed `d ‖ z` length.
pub const ML_KEM_SEED_LEN: usize = 64;
/// ML-KEM encapsulation randomness `m` length.
pub const ML_KEM_MESSAGE_LEN: usize = 32;
/// ML-KEM-768 encapsulation key length.
pub const ML_KEM_768_EK_LEN: usize = 1184;
/// ML-KEM-768 (expanded) decapsulation key length.
pub const ML_KEM_768_DK_LEN: usize = 2400;
/// ML-KEM-768 ciphertext length.
pub const ML_KEM_768_CT_LEN: usize = 1088;
/// Shared secret length (ML-KEM and X-Wing).
pub const SHARED_SECRET_LEN: usize = 32;
/// X25519 scalar and point length.
pub const X25519_LEN: usize = 32;
/// X-Wing seed length.
pub const X_WING_SEED_LEN: usize = 32;
/// X-Wing encapsulation randomness length (ML-KEM's `m`, then the ephemeral X25519 secret).
pub const X_WING_ESEED_LEN: usize = 64;
/// X-Wing encapsulation key length (`pk_M ‖ pk_X`).
pub const X_WING_EK_LEN: usize = ML_KEM_768_EK_LEN + X25519_LEN;
/// X-Wing ciphertext length (`ct_M ‖ ct_X`).
pub const X_WING_CT_LEN: usize = ML_KEM_768_CT_LEN + X25519_LEN;
/// ML-DSA seed ξ and signing randomness `rnd` length.
pub const ML_DSA_SEED_LEN: usize = 32;
/// ML-DSA-65 public key length.
pub const ML_DSA_65_PK_LEN: usize = 1952;
/// ML-DSA-65 (expanded) private key length.
pub const ML_DSA_65_SK_LEN: usize = 4032;
/// ML-DSA-65 signature length.
pub const ML_DSA_65_SIG_LEN: usize = 3309;
/// Longest ML-DSA context string.
pub const ML_DSA_MAX_CONTEXT_LEN: usize = 255;

/// mlkem-native's success code (failure is 1).
const ML_KEM_SUCCESS: c_int = 0;
/// mldsa-native's success code (failure is 0).
const ML_DSA_SUCCESS: c_int = 1;

// SAFETY: each prototype is copied from strongroom's declarations of the same symbols (crypto/mlkem_aws_lc.rs,
// crypto/mldsa_aws_lc.rs), which copy them from aws-lc-sys 0.47.0's bundled headers (crypto/fipsmodule/ml_kem/ml_kem.h,
// crypto/fipsmodule/ml_dsa/ml_dsa.h, include/openssl/curve25519.h, include/openssl/digest.h): pointer and length types
// and `c_int` returns, under the version-prefixed names that aws-lc-sys 0.47.0 links (the version strongroom pins and
// this crate resolves to). benches/pq.rs checks their results against strongroom's before measuring.
unsafe extern "C" {
    // ml_kem.h: 0 on success; the length arguments are in/out.
    #[link_name = "aws_lc_0_47_0_ml_kem_768_keypair_deterministic"]
    fn ml_kem_768_keypair_deterministic(
        pk: *mut u8,
        pk_len: *mut usize,
        sk: *mut u8,
        sk_len: *mut usize,
        seed: *const u8,
    ) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_kem_768_encapsulate_deterministic"]
    fn ml_kem_768_encapsulate_deterministic(
        ct: *mut u8,
        ct_len: *mut usize,
        ss: *mut u8,
        ss_len: *mut usize,
        pk: *const u8,
        seed: *const u8,
    ) -> c_int;
    #[link_name = "aws_lc_0_47_0_ml_kem_768_decapsulate"]
    fn ml_kem_768_decapsulate_raw(ss: *mut u8, ss_len: *mut usize, ct: *const u8, sk: *const u8) -> c_int;

    // curve25519.h: X25519 returns 1 unless the shared key is all zeros.
    #[link_name = "aws_lc_0_47_0_X25519"]
    fn x25519_raw(out_shared_key: *mut u8, private_key: *const u8, peer_public_value: *const u8) -> c_int;
    #[link_name = "aws_lc_0_47_0_X25519_public_from_private"]
    fn x25519_public_from_private(out_public_value: *mut u8, private_key: *const u8);

    // digest.h (sha3.c): `out`, or null on failure.
    #[link_name = "aws_lc_0_47_0_SHAKE256"]
    fn shake256_raw(data: *const u8, in_len: usize, out: *mut u8, out_len: usize) -> *mut u8;

    // ml_dsa.h: 1 on success, 0 on failure.
    #[link_name = "aws_lc_0_47_0_ml_dsa_65_keypair_internal"]
    fn ml_dsa_65_keypair_internal(public_key: *mut u8, private_key: *mut u8, seed: *const u8) -> c_int;
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
}

/// `ML-KEM-768.KeyGen_internal(d, z)`: the encapsulation key into `ek`, the expanded
/// decapsulation key into `dk`.
///
/// # Panics
/// If aws-lc reports a failure or writes other lengths.
pub fn ml_kem_768_keypair(
    seed: &[u8; ML_KEM_SEED_LEN],
    ek: &mut [u8; ML_KEM_768_EK_LEN],
    dk: &mut [u8; ML_KEM_768_DK_LEN],
) {
    let (mut ek_len, mut dk_len) = (ek.len(), dk.len());
    // SAFETY: `ek` and `dk` are writable for exactly ML-KEM-768's key sizes (their types), which is what the function
    // writes; `ek_len` and `dk_len` are valid in/out pointers holding those sizes; `seed` is readable for the 64 bytes
    // read. Distinct borrows, so no overlap; aws-lc keeps no pointer after returning.
    let rc = unsafe {
        ml_kem_768_keypair_deterministic(ek.as_mut_ptr(), &mut ek_len, dk.as_mut_ptr(), &mut dk_len, seed.as_ptr())
    };
    assert!(rc == ML_KEM_SUCCESS && ek_len == ek.len() && dk_len == dk.len(), "ML-KEM-768 keypair failed");
}

/// `ML-KEM-768.Encaps_internal(ek, m)`: the ciphertext into `ct`, the shared secret into `ss`.
///
/// # Panics
/// If aws-lc reports a failure or writes other lengths.
pub fn ml_kem_768_encapsulate(
    ek: &[u8; ML_KEM_768_EK_LEN],
    m: &[u8; ML_KEM_MESSAGE_LEN],
    ct: &mut [u8; ML_KEM_768_CT_LEN],
    ss: &mut [u8; SHARED_SECRET_LEN],
) {
    let (mut ct_len, mut ss_len) = (ct.len(), ss.len());
    // SAFETY: `ct` is writable for ML-KEM-768's ciphertext size and `ss` for 32 bytes (their types); the length
    // pointers are valid and hold those sizes; `ek` is readable for the encapsulation key size and `m` for the 32 bytes
    // read (their types). Outputs are `&mut`, so they overlap no input; no pointer is kept.
    let rc = unsafe {
        ml_kem_768_encapsulate_deterministic(
            ct.as_mut_ptr(),
            &mut ct_len,
            ss.as_mut_ptr(),
            &mut ss_len,
            ek.as_ptr(),
            m.as_ptr(),
        )
    };
    assert!(rc == ML_KEM_SUCCESS && ct_len == ct.len() && ss_len == ss.len(), "ML-KEM-768 encapsulate failed");
}

/// `ML-KEM-768.Decaps(dk, c)` on an expanded decapsulation key: the shared secret into `ss`.
///
/// # Panics
/// If aws-lc reports a failure (it refuses a `dk` whose embedded hash of `ek` is wrong).
pub fn ml_kem_768_decapsulate(
    dk: &[u8; ML_KEM_768_DK_LEN],
    ct: &[u8; ML_KEM_768_CT_LEN],
    ss: &mut [u8; SHARED_SECRET_LEN],
) {
    let mut ss_len = ss.len();
    // SAFETY: `ss` is writable for 32 bytes (its type) and `ss_len` holds that size; `ct` and
    // `dk` are readable for ML-KEM-768's ciphertext and decapsulation key sizes (their types).
    // No pointer is kept.
    let rc = unsafe { ml_kem_768_decapsulate_raw(ss.as_mut_ptr(), &mut ss_len, ct.as_ptr(), dk.as_ptr()) };
    assert!(rc == ML_KEM_SUCCESS && ss_len == ss.len(), "ML-KEM-768 decapsulate failed");
}

/// `X25519(private, peer)` into `out`; an all-zero result is not refused (X-Wing does not).
pub fn x25519(private: &[u8; X25519_LEN], peer: &[u8; X25519_LEN], out: &mut [u8; X25519_LEN]) {
    // SAFETY: all three pointers are valid for the 32 bytes X25519 reads or writes (their
    // types); `out`, a `&mut`, overlaps neither input. No pointer is kept.
    let _nonzero = unsafe { x25519_raw(out.as_mut_ptr(), private.as_ptr(), peer.as_ptr()) };
}

/// The X25519 public key of `private` into `out`.
pub fn x25519_public(private: &[u8; X25519_LEN], out: &mut [u8; X25519_LEN]) {
    // SAFETY: both pointers are valid for the 32 bytes read or written (their types), and
    // `out`, a `&mut`, does not overlap `private`. No pointer is kept.
    unsafe { x25519_public_from_private(out.as_mut_ptr(), private.as_ptr()) };
}

/// `SHAKE256(input)` into all of `out`.
///
/// # Panics
/// If aws-lc reports a failure.
pub fn shake256(input: &[u8], out: &mut [u8]) {
    // SAFETY: `input` is readable for `input.len()` bytes and `out` writable for `out.len()`
    // bytes, the lengths passed; `out`, a `&mut`, overlaps nothing. No pointer is kept.
    let written = unsafe { shake256_raw(input.as_ptr(), input.len(), out.as_mut_ptr(), out.len()) };
    assert_eq!(written, out.as_mut_ptr(), "SHAKE256 failed");
}

/// The X-Wing combiner's label, `\.//^\`.
const X_WING_LABEL: &[u8; 6] = b"\\.//^\\";

/// `SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ XWingLabel)` into `out`.
fn x_wing_combine(ss_m: &[u8; 32], ss_x: &[u8; 32], ct_x: &[u8; 32], pk_x: &[u8; 32], out: &mut [u8; 32]) {
    let mut hasher = Sha3_256::new();
    for part in [ss_m, ss_x, ct_x, pk_x, X_WING_LABEL.as_slice()] {
        hasher.update(part);
    }
    hasher.finalize_into(out.into());
}

/// An X-Wing decapsulation key on plain memory: the expanded ML-KEM-768 key, the X25519
/// secret, and the encapsulation key (`pk_M ‖ pk_X`), as strongroom keeps them.
pub struct XWingKey {
    dk_m: [u8; ML_KEM_768_DK_LEN],
    sk_x: [u8; X25519_LEN],
    ek: [u8; X_WING_EK_LEN],
}

impl XWingKey {
    /// `expandDecapsulationKey(seed)`: SHAKE256(seed, 96) = ML-KEM seed ‖ X25519 secret, then
    /// both key pairs.
    pub fn from_seed(seed: &[u8; X_WING_SEED_LEN]) -> Box<Self> {
        let mut expanded = [0u8; ML_KEM_SEED_LEN + X25519_LEN];
        shake256(seed, &mut expanded);
        let (ml_kem_seed, sk_x) = expanded.split_at(ML_KEM_SEED_LEN);
        let mut key = Box::new(XWingKey {
            dk_m: [0; ML_KEM_768_DK_LEN],
            sk_x: sk_x.try_into().expect("32 bytes"),
            ek: [0; X_WING_EK_LEN],
        });
        let (ek_m, pk_x) = key.ek.split_at_mut(ML_KEM_768_EK_LEN);
        let ek_m: &mut [u8; ML_KEM_768_EK_LEN] = ek_m.try_into().expect("ML-KEM-768 ek");
        ml_kem_768_keypair(ml_kem_seed.try_into().expect("64 bytes"), ek_m, &mut key.dk_m);
        x25519_public(&key.sk_x, pk_x.try_into().expect("32 bytes"));
        key
    }

    /// The encapsulation key `pk_M ‖ pk_X`.
    pub fn encapsulation_key(&self) -> &[u8; X_WING_EK_LEN] {
        &self.ek
    }

    /// X-Wing decapsulation of `ct` (`ct_M ‖ ct_X`) into `ss`.
    pub fn decapsulate(&self, ct: &[u8; X_WING_CT_LEN], ss: &mut [u8; SHARED_SECRET_LEN]) {
        let (ct_m, ct_x) = ct.split_at(ML_KEM_768_CT_LEN);
        let ct_x: &[u8; X25519_LEN] = ct_x.try_into().expect("32 bytes");
        let pk_x: &[u8; X25519_LEN] = self.ek[ML_KEM_768_EK_LEN..].try_into().expect("32 bytes");
        let (mut ss_m, mut ss_x) = ([0u8; 32], [0u8; 32]);
        ml_kem_768_decapsulate(&self.dk_m, ct_m.try_into().expect("ML-KEM-768 ct"), &mut ss_m);
        x25519(&self.sk_x, ct_x, &mut ss_x);
        x_wing_combine(&ss_m, &ss_x, ct_x, pk_x, ss);
    }
}

/// X-Wing encapsulation to `ek` (`pk_M ‖ pk_X`) with the randomness `eseed` (ML-KEM's `m`,
/// then the ephemeral X25519 secret): the ciphertext into `ct`, the shared secret into `ss`.
pub fn x_wing_encapsulate(
    ek: &[u8; X_WING_EK_LEN],
    eseed: &[u8; X_WING_ESEED_LEN],
    ct: &mut [u8; X_WING_CT_LEN],
    ss: &mut [u8; SHARED_SECRET_LEN],
) {
    let (ek_m, pk_x) = ek.split_at(ML_KEM_768_EK_LEN);
    let pk_x: &[u8; X25519_LEN] = pk_x.try_into().expect("32 bytes");
    let (m, ephemeral) = eseed.split_at(ML_KEM_MESSAGE_LEN);
    let ephemeral: &[u8; X25519_LEN] = ephemeral.try_into().expect("32 bytes");
    let (ct_m, ct_x) = ct.split_at_mut(ML_KEM_768_CT_LEN);
    let ct_x: &mut [u8; X25519_LEN] = ct_x.try_into().expect("32 bytes");
    let (mut ss_m, mut ss_x) = ([0u8; 32], [0u8; 32]);
    ml_kem_768_encapsulate(
        ek_m.try_into().expect("ML-KEM-768 ek"),
        m.try_into().expect("32 bytes"),
        ct_m.try_into().expect("ML-KEM-768 ct"),
        &mut ss_m,
    );
    x25519_public(ephemeral, ct_x);
    x25519(ephemeral, pk_x, &mut ss_x);
    x_wing_combine(&ss_m, &ss_x, ct_x, pk_x, ss);
}

/// `ML-DSA-65.KeyGen_internal(ξ)`: the public key into `pk`, the expanded private key into
/// `sk`.
///
/// # Panics
/// If aws-lc reports a failure.
pub fn ml_dsa_65_keypair(
    seed: &[u8; ML_DSA_SEED_LEN],
    pk: &mut [u8; ML_DSA_65_PK_LEN],
    sk: &mut [u8; ML_DSA_65_SK_LEN],
) {
    // SAFETY: `pk` and `sk` are writable for exactly ML-DSA-65's public and private key sizes (their types; ml_dsa.h's
    // MLDSA65_PUBLIC_KEY_BYTES and MLDSA65_PRIVATE_KEY_BYTES), which is what the function writes; `seed` is readable
    // for the 32 bytes read. Distinct borrows, so no overlap; no pointer is kept.
    let rc = unsafe { ml_dsa_65_keypair_internal(pk.as_mut_ptr(), sk.as_mut_ptr(), seed.as_ptr()) };
    assert_eq!(rc, ML_DSA_SUCCESS, "ML-DSA-65 keypair failed");
}

/// Pure `ML-DSA-65.Sign(sk, message, ctx)` with the randomness `rnd` (all zero: the
/// deterministic variant) into `sig`: `Sign_internal` over `M' = 0 ‖ len(ctx) ‖ ctx ‖ message`,
/// the prefix built on the stack, as strongroom builds it (on the heap there).
///
/// # Panics
/// If `ctx` is longer than 255 bytes or aws-lc reports a failure.
pub fn ml_dsa_65_sign(
    sk: &[u8; ML_DSA_65_SK_LEN],
    message: &[u8],
    ctx: &[u8],
    rnd: &[u8; ML_DSA_SEED_LEN],
    sig: &mut [u8; ML_DSA_65_SIG_LEN],
) {
    let ctx_len = u8::try_from(ctx.len()).expect("an ML-DSA context is at most 255 bytes");
    let mut prefix = [0u8; 2 + ML_DSA_MAX_CONTEXT_LEN];
    prefix[1] = ctx_len;
    prefix[2..2 + ctx.len()].copy_from_slice(ctx);
    let pre = &prefix[..2 + ctx.len()];
    let mut written = 0usize;
    // SAFETY: `sk`/`sig` are readable/writable for ML-DSA-65's key and signature sizes (their types, what ml_dsa.h's
    // function uses); `message`, `pre`, `rnd` are readable for the lengths passed; `written` is a valid out-pointer;
    // `sig` (a `&mut`) overlaps no input; no pointer is kept.
    let rc = unsafe {
        ml_dsa_65_sign_internal(
            sk.as_ptr(),
            sig.as_mut_ptr(),
            &mut written,
            message.as_ptr(),
            message.len(),
            pre.as_ptr(),
            pre.len(),
            rnd.as_ptr(),
        )
    };
    assert!(rc == ML_DSA_SUCCESS && written == sig.len(), "ML-DSA-65 sign failed");
}

/// Pure `ML-DSA-65.Verify(pk, message, sig, ctx)`: whether `sig` is valid.
#[must_use]
pub fn ml_dsa_65_verify_ok(pk: &[u8; ML_DSA_65_PK_LEN], message: &[u8], ctx: &[u8], sig: &[u8]) -> bool {
    if ctx.len() > ML_DSA_MAX_CONTEXT_LEN {
        return false;
    }
    // SAFETY: `pk` is readable for ML-DSA-65's public key size (its type); `sig`, `message`, `ctx` are readable for the
    // lengths passed (aws-lc refuses other signature lengths and contexts over 255 bytes, also checked above). Nothing
    // is written; no pointer is kept.
    let rc = unsafe {
        ml_dsa_65_verify(pk.as_ptr(), sig.as_ptr(), sig.len(), message.as_ptr(), message.len(), ctx.as_ptr(), ctx.len())
    };
    rc == ML_DSA_SUCCESS
}
