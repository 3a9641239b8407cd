//! The narrow boundary to the primitive libraries. Nothing else in strongroom calls them.
//!
//! Rules every function here follows: lengths are checked before the call and return codes
//! after; secret outputs go only into caller-provided memory (protected memory, by the
//! callers' contract); and the call runs on a secure stack (see [`crate::stack`]), so
//! keys, subkeys and cipher state never sit on the thread's ordinary stack.
//!
//! Primitives, chosen by measurement against libsodium in one run (see the benchmarks):
//! XChaCha20-Poly1305 from aws-lc (0.5–0.7× libsodium's time at 1 KiB–1 MiB) on Linux, and
//! from RustCrypto elsewhere and under Miri (the two are tested against each other and
//! against Wycheproof); Argon2id from RustCrypto, on work memory strongroom provides;
//! SHA3-256 from RustCrypto; ML-KEM (mlkem-native), X25519 and SHAKE256 from aws-lc, on
//! Linux only (`kem`); ML-DSA (mldsa-native) from aws-lc, Linux only (`sign`), the one
//! maintained FIPS 204 implementation strongroom already links. Each primitive family has one trait its backends implement
//! ([`aead::Backend`]); only the AEAD has more than one backend.

pub(crate) mod aead;
#[cfg(all(target_os = "linux", not(miri)))]
#[allow(unsafe_code)] // the FFI boundary to aws-lc; every call has a SAFETY argument
mod aead_aws_lc;
mod aead_rust_crypto;
#[allow(unsafe_code)] // one cast: protected bytes viewed as Argon2 memory blocks
pub(crate) mod argon2id;
pub(crate) mod chacha_ietf;
pub(crate) mod hkdf_sha256;
#[allow(unsafe_code)] // one aws-lc call on Linux: SHA-256 of 32 bytes
pub(crate) mod mask;
#[cfg(all(target_os = "linux", not(miri)))]
#[allow(unsafe_code)] // the FFI boundary to aws-lc's ML-DSA; every call has a SAFETY argument
pub(crate) mod mldsa_aws_lc;
#[cfg(all(target_os = "linux", not(miri)))]
#[allow(unsafe_code)] // the FFI boundary to aws-lc's ML-KEM, X25519 and SHAKE256; every call has a SAFETY argument
pub(crate) mod mlkem_aws_lc;
#[cfg(all(target_os = "linux", not(miri)))]
#[allow(unsafe_code)] // one aws-lc call: EVP_PBE_scrypt, with its SAFETY argument
pub(crate) mod scrypt_aws_lc;
pub(crate) mod sha3;
