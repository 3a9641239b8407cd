//! Post-quantum key encapsulation with decapsulation keys in protected memory: ML-KEM
//! (FIPS 203) at all three security levels, and X-Wing ([`x_wing`]: ML-KEM-768 combined
//! with X25519).
//!
//! A [`DecapsulationKey`] holds its 64-byte seed `d ‖ z` (the form it is exported and
//! imported in) and the expanded key aws-lc computes from it, both in protected memory;
//! an [`EncapsulationKey`] is public bytes, checked on import as FIPS 203 demands; a
//! [`SharedSecret`] is written by aws-lc straight into protected memory. Every operation
//! that touches a secret (key generation, encapsulation, decapsulation) runs on a secure
//! stack, where mlkem-native keeps its secret vectors, and that stack is wiped after the
//! call. The three parameter sets are types ([`MlKem512`], [`MlKem768`], [`MlKem1024`]),
//! so a key of one cannot be used with another.
//!
//! A tampered ciphertext is not an error: ML-KEM's implicit rejection returns a
//! pseudorandom secret that matches nothing, and the protocol fails later, when the two
//! sides' secrets disagree. Only a ciphertext of the wrong length is refused.
//!
//! **Platforms.** Linux only (outside Miri): the implementation is aws-lc's (mlkem-native),
//! which strongroom links only there. **What it does not protect.** Ciphertexts and
//! encapsulation keys are public and live on the heap; copies you make of a seed or a
//! shared secret through [`Exposed`](crate::Exposed) guards are yours.
//!
//! ```
//! use strongroom::kem::{DecapsulationKey, MlKem768};
//!
//! let alice = DecapsulationKey::<MlKem768>::generate()?;
//! let public = alice.encapsulation_key().as_bytes().to_vec(); // sent to Bob
//!
//! let bob_view = strongroom::kem::EncapsulationKey::<MlKem768>::from_bytes(&public)?;
//! let (ciphertext, bob_secret) = bob_view.encapsulate()?; // ciphertext sent to Alice
//!
//! let alice_secret = alice.decapsulate(&ciphertext)?;
//! assert!(alice_secret == bob_secret);
//! # Ok::<(), strongroom::Error>(())
//! ```

mod ml_kem;
pub(crate) use ml_kem::random_secret;
mod shared_secret;
pub mod x_wing;

#[cfg(test)]
mod tests;

pub use ml_kem::{DecapsulationKey, EncapsulationKey, MlKem512, MlKem768, MlKem1024, ParameterSet};
pub use shared_secret::SharedSecret;

/// Length of an ML-KEM seed `d ‖ z`, the form a [`DecapsulationKey`] is exported in.
///
/// ```
/// assert_eq!(strongroom::kem::SEED_LEN, 64);
/// ```
pub const SEED_LEN: usize = crate::crypto::mlkem_aws_lc::SEED_LEN;

/// Length of a shared secret, for every algorithm here.
///
/// ```
/// assert_eq!(strongroom::kem::SHARED_SECRET_LEN, 32);
/// ```
pub const SHARED_SECRET_LEN: usize = crate::crypto::mlkem_aws_lc::SHARED_SECRET_LEN;
