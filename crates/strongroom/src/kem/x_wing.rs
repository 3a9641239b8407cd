//! X-Wing (draft-connolly-cfrg-xwing-kem): ML-KEM-768 and X25519 combined, secure while
//! either is.
//!
//! The decapsulation key is a 32-byte seed, expanded with SHAKE256 into an ML-KEM-768 seed
//! (64 bytes) and an X25519 secret (32 bytes): the seed, the expansion and both derived
//! secrets live in protected memory, and the expansion runs on a secure stack. The shared
//! secret is `SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ "\.//^\")`, computed on a secure stack
//! straight into protected memory.
//!
//! ```
//! use strongroom::kem::x_wing::{DecapsulationKey, EncapsulationKey};
//!
//! let alice = DecapsulationKey::generate()?;
//! let bob_view = EncapsulationKey::from_bytes(alice.encapsulation_key().as_bytes())?;
//! let (ciphertext, bob_secret) = bob_view.encapsulate()?;
//! assert!(alice.decapsulate(&ciphertext)? == bob_secret);
//! # Ok::<(), strongroom::Error>(())
//! ```

use std::fmt;

use sha3::{Digest, Sha3_256};
use zeroize::Zeroize;

use super::SharedSecret;
use super::ml_kem::{self, MlKem768};
use crate::buffer::LockedBuffer;
use crate::crypto::mlkem_aws_lc::{X25519_LEN, shake256, x25519, x25519_public};
use crate::error::{Error, FormatError, Result};
use crate::exposed::Exposed;
use crate::secret::SecretBox;
use crate::stack::{self, StackSize};

/// Length of an X-Wing decapsulation key: its 32-byte seed.
///
/// ```
/// assert_eq!(strongroom::kem::x_wing::SEED_LEN, 32);
/// ```
pub const SEED_LEN: usize = 32;
/// Length of an X-Wing encapsulation key: ML-KEM-768's (1184 bytes) and X25519's (32).
///
/// ```
/// assert_eq!(strongroom::kem::x_wing::ENCAPSULATION_KEY_LEN, 1216);
/// ```
pub const ENCAPSULATION_KEY_LEN: usize = ML_KEM_EK_LEN + X25519_LEN;
/// Length of an X-Wing ciphertext: ML-KEM-768's (1088 bytes) and X25519's (32).
///
/// ```
/// assert_eq!(strongroom::kem::x_wing::CIPHERTEXT_LEN, 1120);
/// ```
pub const CIPHERTEXT_LEN: usize = ML_KEM_CT_LEN + X25519_LEN;
/// Length of the encapsulation randomness: ML-KEM's `m` and the ephemeral X25519 secret.
///
/// ```
/// assert_eq!(strongroom::kem::x_wing::ENCAPSULATION_SEED_LEN, 64);
/// ```
pub const ENCAPSULATION_SEED_LEN: usize = 64;

const ML_KEM_EK_LEN: usize = <MlKem768 as ml_kem::ParameterSet>::ENCAPSULATION_KEY_LEN;
const ML_KEM_CT_LEN: usize = <MlKem768 as ml_kem::ParameterSet>::CIPHERTEXT_LEN;

/// The combiner's label, `\.//^\` (the draft's `XWingLabel`).
const LABEL: &[u8; 6] = b"\\.//^\\";

/// The draft's combiner: `SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ XWingLabel)` into `out`. Runs
/// on the caller's secure stack, where the hash state stays.
fn combine(ss: &[[u8; 32]; 2], ct_x: &[u8; 32], pk_x: &[u8; 32], out: &mut [u8; 32]) {
    let mut hasher = Sha3_256::new();
    for part in [&ss[0], &ss[1], ct_x, pk_x, LABEL.as_slice()] {
        hasher.update(part);
    }
    hasher.finalize_into(out.into());
}

/// Splits a 64-byte array into its two halves.
fn halves(bytes: &[u8; 64]) -> &[[u8; 32]; 2] {
    bytemuck::cast_ref(bytes)
}

/// An X-Wing encapsulation key (public key): an ML-KEM-768 encapsulation key (checked as
/// FIPS 203 demands) followed by an X25519 public key.
///
/// ```
/// use strongroom::kem::x_wing::{DecapsulationKey, EncapsulationKey};
///
/// let key = DecapsulationKey::generate()?;
/// let public = EncapsulationKey::from_bytes(key.encapsulation_key().as_bytes())?;
/// assert_eq!(&public, key.encapsulation_key());
/// assert!(EncapsulationKey::from_bytes(&[0xFF; 1216]).is_err());
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EncapsulationKey {
    bytes: Box<[u8]>,
    ml_kem: ml_kem::EncapsulationKey<MlKem768>,
    x25519: [u8; X25519_LEN],
}

impl EncapsulationKey {
    /// Imports an encapsulation key: exactly [`ENCAPSULATION_KEY_LEN`] bytes
    /// ([`FormatError::WrongLength`] otherwise) whose ML-KEM part passes the modulus check
    /// ([`FormatError::UnreducedCoefficient`]).
    ///
    /// ```
    /// use strongroom::{Error, FormatError, kem::x_wing::EncapsulationKey};
    /// assert!(matches!(
    ///     EncapsulationKey::from_bytes(&[0; 1184]),
    ///     Err(Error::Format(FormatError::WrongLength { expected: 1216, actual: 1184, .. }))
    /// ));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != ENCAPSULATION_KEY_LEN {
            return Err(Error::Format(FormatError::WrongLength {
                what: "an X-Wing encapsulation key",
                expected: ENCAPSULATION_KEY_LEN,
                actual: bytes.len(),
            }));
        }
        let (ml_kem, x25519) = bytes.split_at(ML_KEM_EK_LEN);
        let x25519 = x25519.try_into().map_err(|_| Error::Internal("an X25519 key is 32 bytes"))?;
        Ok(EncapsulationKey { bytes: bytes.into(), ml_kem: ml_kem::EncapsulationKey::from_bytes(ml_kem)?, x25519 })
    }

    /// The key's bytes (`pk_M ‖ pk_X`), to publish.
    ///
    /// ```
    /// let key = strongroom::kem::x_wing::DecapsulationKey::generate()?;
    /// assert_eq!(key.encapsulation_key().as_bytes().len(), 1216);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Encapsulates a fresh shared secret to this key: the ciphertext `ct_M ‖ ct_X` to send,
    /// and the secret in protected memory. The 64 random bytes are drawn into protected
    /// memory, and the computation runs on a secure stack.
    ///
    /// ```
    /// use strongroom::kem::x_wing::DecapsulationKey;
    ///
    /// let key = DecapsulationKey::generate()?;
    /// let (ciphertext, secret) = key.encapsulation_key().encapsulate()?;
    /// assert_eq!(ciphertext.len(), 1120);
    /// assert!(key.decapsulate(&ciphertext)? == secret);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn encapsulate(&self) -> Result<(Vec<u8>, SharedSecret)> {
        let seed = ml_kem::random_secret::<ENCAPSULATION_SEED_LEN>()?;
        seed.with(|seed| self.encapsulate_deterministic(seed))?
    }

    /// Encapsulates with the caller's randomness (`eseed`: ML-KEM's `m`, then the ephemeral
    /// X25519 secret), for known-answer tests. Outside tests `eseed` must be 64 fresh,
    /// secret random bytes used once: call [`encapsulate`](Self::encapsulate) instead.
    ///
    /// ```
    /// let key = strongroom::kem::x_wing::DecapsulationKey::generate()?;
    /// let (c1, s1) = key.encapsulation_key().encapsulate_deterministic(&[3; 64])?;
    /// let (c2, s2) = key.encapsulation_key().encapsulate_deterministic(&[3; 64])?;
    /// assert!(c1 == c2 && s1 == s2);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn encapsulate_deterministic(&self, eseed: &[u8; ENCAPSULATION_SEED_LEN]) -> Result<(Vec<u8>, SharedSecret)> {
        let mut ciphertext = vec![0u8; CIPHERTEXT_LEN];
        let mut secret = SharedSecret::zeroed()?;
        // ss_M ‖ ss_X.
        let mut parts = SecretBox::<[[u8; 32]; 2]>::new(|_| {})?;
        let result = stack::run_on(StackSize::Kem, || -> Result<()> {
            let [m, ephemeral] = halves(eseed);
            let (ct_m, ct_x) = ciphertext.split_at_mut(ML_KEM_CT_LEN);
            let ct_x: &mut [u8; X25519_LEN] =
                ct_x.try_into().map_err(|_| Error::Internal("an X25519 share is 32 bytes"))?;
            parts.with_mut(|ss| -> Result<()> {
                self.ml_kem.encapsulate_into(m, ct_m, &mut ss[0])?;
                x25519_public(ephemeral, ct_x);
                x25519(ephemeral, &self.x25519, &mut ss[1]);
                secret.with_mut(|out| combine(ss, ct_x, &self.x25519, out))
            })?
        })?;
        if let Err(error) = result {
            ciphertext.zeroize();
            return Err(error);
        }
        Ok((ciphertext, secret))
    }
}

impl fmt::Debug for EncapsulationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "x_wing::EncapsulationKey(")?;
        self.bytes[..8].iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, "…)")
    }
}

/// An X-Wing decapsulation key, in protected memory: its 32-byte seed, and the ML-KEM-768
/// key and X25519 secret expanded from it (each in protected memory; see
/// [`ml_kem::DecapsulationKey`](super::DecapsulationKey)). It cannot be cloned and `Debug`
/// shows nothing of it. Export and import it as its seed: [`seed`](Self::seed),
/// [`from_seed`](Self::from_seed).
///
/// ```
/// use strongroom::kem::x_wing::DecapsulationKey;
///
/// let key = DecapsulationKey::generate()?;
/// let mut exported = *key.seed()?; // into memory of yours: protect it
/// let again = DecapsulationKey::from_seed(&mut exported)?;
/// assert_eq!(exported, [0; 32]);
/// assert_eq!(again.encapsulation_key(), key.encapsulation_key());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct DecapsulationKey {
    seed: SecretBox<[u8; SEED_LEN]>,
    ml_kem: ml_kem::DecapsulationKey<MlKem768>,
    x25519: SecretBox<[u8; X25519_LEN]>,
    encapsulation_key: EncapsulationKey,
}

impl DecapsulationKey {
    /// A fresh key from a random seed drawn into protected memory.
    ///
    /// ```
    /// use strongroom::kem::x_wing::DecapsulationKey;
    /// assert_ne!(DecapsulationKey::generate()?.encapsulation_key(), DecapsulationKey::generate()?.encapsulation_key());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn generate() -> Result<Self> {
        Self::from_protected_seed(ml_kem::random_secret()?)
    }

    /// The key whose seed is `seed`; `seed` is wiped.
    ///
    /// ```
    /// use strongroom::kem::x_wing::DecapsulationKey;
    /// let mut seed = [1u8; 32];
    /// let key = DecapsulationKey::from_seed(&mut seed)?;
    /// assert_eq!((seed, *key.seed()?), ([0; 32], [1; 32]));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_seed(seed: &mut [u8; SEED_LEN]) -> Result<Self> {
        let protected = SecretBox::copy_of(seed, |_| Error::Internal("a seed array has the seed's length"));
        seed.zeroize();
        Self::from_protected_seed(protected?)
    }

    /// The key whose seed is in `buffer` (exactly 32 bytes, else
    /// [`FormatError::WrongLength`]), protected memory to protected memory.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, kem::x_wing::DecapsulationKey};
    /// let key = DecapsulationKey::from_locked(&LockedBuffer::random(32)?)?;
    /// assert!(DecapsulationKey::from_locked(&LockedBuffer::random(64)?).is_err());
    /// # drop(key);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_locked(buffer: &LockedBuffer) -> Result<Self> {
        let wrong_length =
            |actual| Error::Format(FormatError::WrongLength { what: "an X-Wing seed", expected: SEED_LEN, actual });
        Self::from_protected_seed(SecretBox::copy_of(&buffer.expose()?, wrong_length)?)
    }

    /// `expandDecapsulationKey`: SHAKE256(seed, 96) = ML-KEM seed ‖ X25519 secret, in
    /// protected memory, on a secure stack.
    fn from_protected_seed(seed: SecretBox<[u8; SEED_LEN]>) -> Result<Self> {
        let mut expanded = SecretBox::<[u8; 96]>::new(|_| {})?;
        stack::run_on(StackSize::Kem, || seed.with(|s| expanded.with_mut(|e| shake256(s, e))))????;
        let (ml_kem_seed, x25519_secret) = expanded.with(|e| -> Result<_> {
            let ml_kem_seed = SecretBox::new(|m: &mut [u8; 64]| m.copy_from_slice(&e[..64]))?;
            let x25519_secret = SecretBox::new(|x: &mut [u8; 32]| x.copy_from_slice(&e[64..]))?;
            Ok((ml_kem_seed, x25519_secret))
        })??;
        drop(expanded);
        let ml_kem = ml_kem::DecapsulationKey::<MlKem768>::from_protected_seed(ml_kem_seed)?;
        let mut public = [0u8; X25519_LEN];
        stack::run_on(StackSize::Kem, || x25519_secret.with(|sk| x25519_public(sk, &mut public)))??;
        let mut bytes = Vec::with_capacity(ENCAPSULATION_KEY_LEN);
        bytes.extend_from_slice(ml_kem.encapsulation_key().as_bytes());
        bytes.extend_from_slice(&public);
        let encapsulation_key =
            EncapsulationKey { bytes: bytes.into(), ml_kem: ml_kem.encapsulation_key().clone(), x25519: public };
        Ok(DecapsulationKey { seed, ml_kem, x25519: x25519_secret, encapsulation_key })
    }

    /// Lends the 32-byte seed, in place, for export; what you copy it into is yours to
    /// protect.
    ///
    /// ```
    /// let key = strongroom::kem::x_wing::DecapsulationKey::generate()?;
    /// assert_eq!(key.seed()?.len(), 32);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn seed(&self) -> Result<Exposed<'_, [u8; SEED_LEN]>> {
        self.seed.expose()
    }

    /// The matching encapsulation key, to publish.
    ///
    /// ```
    /// let key = strongroom::kem::x_wing::DecapsulationKey::generate()?;
    /// assert_eq!(key.encapsulation_key().as_bytes().len(), 1216);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn encapsulation_key(&self) -> &EncapsulationKey {
        &self.encapsulation_key
    }

    /// Decapsulates `ciphertext` (`ct_M ‖ ct_X`, exactly [`CIPHERTEXT_LEN`] bytes, else
    /// [`FormatError::WrongLength`]) into a shared secret in protected memory, on a secure
    /// stack. A tampered ciphertext gives a secret that matches nothing, not an error.
    ///
    /// ```
    /// use strongroom::kem::x_wing::DecapsulationKey;
    ///
    /// let key = DecapsulationKey::generate()?;
    /// let (mut ciphertext, secret) = key.encapsulation_key().encapsulate()?;
    /// ciphertext[1119] ^= 1;
    /// assert!(key.decapsulate(&ciphertext)? != secret);
    /// assert!(key.decapsulate(&ciphertext[..1088]).is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SharedSecret> {
        if ciphertext.len() != CIPHERTEXT_LEN {
            return Err(Error::Format(FormatError::WrongLength {
                what: "an X-Wing ciphertext",
                expected: CIPHERTEXT_LEN,
                actual: ciphertext.len(),
            }));
        }
        let mut secret = SharedSecret::zeroed()?;
        let mut parts = SecretBox::<[[u8; 32]; 2]>::new(|_| {})?;
        stack::run_on(StackSize::Kem, || -> Result<()> {
            let (ct_m, ct_x) = ciphertext.split_at(ML_KEM_CT_LEN);
            let ct_x: &[u8; X25519_LEN] =
                ct_x.try_into().map_err(|_| Error::Internal("an X25519 share is 32 bytes"))?;
            parts.with_mut(|ss| -> Result<()> {
                self.ml_kem.decapsulate_into(ct_m, &mut ss[0])?;
                self.x25519.with(|sk| x25519(sk, ct_x, &mut ss[1]))?;
                secret.with_mut(|out| combine(ss, ct_x, &self.encapsulation_key.x25519, out))
            })?
        })??;
        Ok(secret)
    }
}

impl DecapsulationKey {
    /// Whether the X25519 part of `ciphertext` (which must be [`CIPHERTEXT_LEN`] bytes) gives
    /// the all-zero X25519 shared secret (a low-order point): X-Wing itself needs no such
    /// check, but age's post-quantum recipient refuses those ciphertexts, and only the key
    /// can tell.
    pub(crate) fn x25519_share_is_low_order(&self, ciphertext: &[u8]) -> Result<bool> {
        let ct_x: &[u8; X25519_LEN] = ciphertext
            .get(ML_KEM_CT_LEN..)
            .and_then(|x| x.try_into().ok())
            .ok_or(Error::ApiMisuse("an X-Wing ciphertext is 1120 bytes"))?;
        let mut shared = SecretBox::<[u8; X25519_LEN]>::new(|_| {})?;
        stack::run_on(StackSize::Kem, || self.x25519.with(|sk| shared.with_mut(|out| x25519(sk, ct_x, out))))???;
        shared.with(|s| s.iter().fold(0u8, |acc, &b| acc | b) == 0)
    }
}

impl fmt::Debug for DecapsulationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("x_wing::DecapsulationKey(<redacted>)")
    }
}
