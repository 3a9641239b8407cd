//! ML-KEM (FIPS 203): one generic design over the three parameter sets.

use std::fmt;
use std::marker::PhantomData;

use zeroize::Zeroize;

use super::SharedSecret;
use crate::buffer::LockedBuffer;
use crate::crypto::mlkem_aws_lc::{MESSAGE_LEN, ML_KEM_512, ML_KEM_768, ML_KEM_1024, MlKem, SEED_LEN};
use crate::error::{Error, FormatError, Result};
use crate::exposed::Exposed;
use crate::secret::SecretBox;
use crate::stack::{self, StackSize};

/// The modulus q of ML-KEM's ring: every encoded coefficient of an encapsulation key is below
/// it (FIPS 203, section 7.2, the modulus check).
const Q: u16 = 3329;

/// An ML-KEM parameter set: [`MlKem512`], [`MlKem768`] or [`MlKem1024`]. Sealed: the three
/// are the only ones.
///
/// ```
/// use strongroom::kem::{MlKem768, ParameterSet};
/// assert_eq!(MlKem768::NAME, "ML-KEM-768");
/// assert_eq!((MlKem768::ENCAPSULATION_KEY_LEN, MlKem768::CIPHERTEXT_LEN), (1184, 1088));
/// ```
pub trait ParameterSet: sealed::Sealed + Send + Sync + 'static {
    /// The FIPS 203 name: `"ML-KEM-768"`.
    const NAME: &'static str;
    /// Length of an encapsulation key (public key) in bytes.
    const ENCAPSULATION_KEY_LEN: usize;
    /// Length of a ciphertext in bytes.
    const CIPHERTEXT_LEN: usize;
}

mod sealed {
    /// What the library needs of a parameter set and callers cannot provide.
    pub trait Sealed {
        /// The expanded decapsulation key, as a byte array (kept in protected memory).
        type Expanded: zeroize::Zeroize + bytemuck::Zeroable + AsMut<[u8]> + AsRef<[u8]> + Send + Sync + 'static;
        /// `"an ML-KEM-768 encapsulation key"`, for length errors.
        const ENCAPSULATION_KEY_WHAT: &'static str;
        /// `"an ML-KEM-768 ciphertext"`, for length errors.
        const CIPHERTEXT_WHAT: &'static str;
        /// `"an expanded ML-KEM-768 decapsulation key"`, for length errors.
        const DECAPSULATION_KEY_WHAT: &'static str;
        /// The module rank k: 2, 3 or 4.
        const K: usize;
    }
}

/// The aws-lc functions and sizes of `P`.
fn backend<P: ParameterSet>() -> &'static MlKem {
    match P::K {
        2 => &ML_KEM_512,
        3 => &ML_KEM_768,
        _ => &ML_KEM_1024,
    }
}

macro_rules! parameter_set {
    ($(#[$doc:meta])* $name:ident, $k:literal, $label:literal, $ek:literal, $dk:literal, $ct:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {}

        impl ParameterSet for $name {
            const NAME: &'static str = $label;
            const ENCAPSULATION_KEY_LEN: usize = $ek;
            const CIPHERTEXT_LEN: usize = $ct;
        }

        impl sealed::Sealed for $name {
            type Expanded = [u8; $dk];
            const ENCAPSULATION_KEY_WHAT: &'static str = concat!("an ", $label, " encapsulation key");
            const CIPHERTEXT_WHAT: &'static str = concat!("an ", $label, " ciphertext");
            const DECAPSULATION_KEY_WHAT: &'static str = concat!("an expanded ", $label, " decapsulation key");
            const K: usize = $k;
        }
    };
}

parameter_set!(
    /// ML-KEM-512 (NIST security category 1): 800-byte encapsulation keys, 768-byte
    /// ciphertexts.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem512, ParameterSet};
    /// let key = DecapsulationKey::<MlKem512>::generate()?;
    /// assert_eq!(key.encapsulation_key().as_bytes().len(), MlKem512::ENCAPSULATION_KEY_LEN);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    MlKem512, 2, "ML-KEM-512", 800, 1632, 768
);
parameter_set!(
    /// ML-KEM-768 (NIST security category 3), the recommended default: 1184-byte
    /// encapsulation keys, 1088-byte ciphertexts.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768, ParameterSet};
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// assert_eq!(key.encapsulation_key().as_bytes().len(), MlKem768::ENCAPSULATION_KEY_LEN);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    MlKem768, 3, "ML-KEM-768", 1184, 2400, 1088
);
parameter_set!(
    /// ML-KEM-1024 (NIST security category 5): 1568-byte encapsulation keys and ciphertexts.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem1024, ParameterSet};
    /// let key = DecapsulationKey::<MlKem1024>::generate()?;
    /// assert_eq!(key.encapsulation_key().as_bytes().len(), MlKem1024::ENCAPSULATION_KEY_LEN);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    MlKem1024, 4, "ML-KEM-1024", 1568, 3168, 1568
);

/// FIPS 203's modulus check on an encapsulation key of the right length: every 12-bit
/// coefficient of `t̂` (all but the trailing 32-byte `ρ`) is below q. Public data: no need
/// for constant time.
fn check_modulus(key: &[u8]) -> Result<()> {
    let coefficients = &key[..key.len() - 32];
    for (i, b) in coefficients.chunks_exact(3).enumerate() {
        let pair = [u16::from(b[0]) | (u16::from(b[1] & 0x0F) << 8), u16::from(b[1] >> 4) | (u16::from(b[2]) << 4)];
        if let Some(at) = pair.iter().position(|&c| c >= Q) {
            return Err(Error::Format(FormatError::UnreducedCoefficient { index: 2 * i + at, value: pair[at] }));
        }
    }
    Ok(())
}

/// An ML-KEM encapsulation key (public key): public bytes, of the exact length and with
/// every coefficient reduced (checked when made).
///
/// ```
/// use strongroom::kem::{DecapsulationKey, EncapsulationKey, MlKem768};
///
/// let key = DecapsulationKey::<MlKem768>::generate()?;
/// let public = EncapsulationKey::<MlKem768>::from_bytes(key.encapsulation_key().as_bytes())?;
/// assert_eq!(&public, key.encapsulation_key());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct EncapsulationKey<P: ParameterSet> {
    bytes: Box<[u8]>,
    parameters: PhantomData<fn() -> P>,
}

impl<P: ParameterSet> EncapsulationKey<P> {
    /// Imports an encapsulation key: exactly [`P::ENCAPSULATION_KEY_LEN`](ParameterSet)
    /// bytes ([`FormatError::WrongLength`] otherwise), every coefficient below q = 3329
    /// ([`FormatError::UnreducedCoefficient`] otherwise: FIPS 203's modulus check).
    ///
    /// ```
    /// use strongroom::{Error, FormatError, kem::{EncapsulationKey, MlKem768}};
    ///
    /// let all_ff = EncapsulationKey::<MlKem768>::from_bytes(&[0xFF; 1184]);
    /// assert!(matches!(all_ff, Err(Error::Format(FormatError::UnreducedCoefficient { .. }))));
    /// assert!(matches!(
    ///     EncapsulationKey::<MlKem768>::from_bytes(&[0; 1183]),
    ///     Err(Error::Format(FormatError::WrongLength { expected: 1184, actual: 1183, .. }))
    /// ));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != P::ENCAPSULATION_KEY_LEN {
            return Err(Error::Format(FormatError::WrongLength {
                what: P::ENCAPSULATION_KEY_WHAT,
                expected: P::ENCAPSULATION_KEY_LEN,
                actual: bytes.len(),
            }));
        }
        check_modulus(bytes)?;
        Ok(EncapsulationKey { bytes: bytes.into(), parameters: PhantomData })
    }

    /// The key's bytes, to publish.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem1024};
    /// let key = DecapsulationKey::<MlKem1024>::generate()?;
    /// assert_eq!(key.encapsulation_key().as_bytes().len(), 1568);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Encapsulates a fresh shared secret to this key: returns the ciphertext (to send to the
    /// key's owner) and the secret, in protected memory. The 32 random bytes `m` are drawn
    /// into protected memory too, and everything runs on a secure stack.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768};
    ///
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// let (ciphertext, secret) = key.encapsulation_key().encapsulate()?;
    /// assert_eq!(ciphertext.len(), 1088);
    /// assert!(key.decapsulate(&ciphertext)? == secret);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn encapsulate(&self) -> Result<(Vec<u8>, SharedSecret)> {
        let m = random_secret::<MESSAGE_LEN>()?;
        m.with(|m| self.encapsulate_deterministic(m))?
    }

    /// Encapsulates with the caller's randomness `m` (FIPS 203's `ML-KEM.Encaps_internal`):
    /// for known-answer tests. The same `m` and key always give the same secret, so outside
    /// tests `m` must be 32 fresh random bytes, secret, used once: call
    /// [`encapsulate`](Self::encapsulate) instead.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem512};
    ///
    /// let key = DecapsulationKey::<MlKem512>::generate()?;
    /// let (c1, s1) = key.encapsulation_key().encapsulate_deterministic(&[7; 32])?;
    /// let (c2, s2) = key.encapsulation_key().encapsulate_deterministic(&[7; 32])?;
    /// assert!(c1 == c2 && s1 == s2);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn encapsulate_deterministic(&self, m: &[u8; MESSAGE_LEN]) -> Result<(Vec<u8>, SharedSecret)> {
        let mut ciphertext = vec![0u8; P::CIPHERTEXT_LEN];
        let mut secret = SharedSecret::zeroed()?;
        stack::run_on(StackSize::Kem, || secret.with_mut(|ss| self.encapsulate_into(m, &mut ciphertext, ss)))???;
        Ok((ciphertext, secret))
    }

    /// The encapsulation itself, into the caller's buffers (run on a secure stack).
    pub(crate) fn encapsulate_into(
        &self,
        m: &[u8; MESSAGE_LEN],
        ciphertext: &mut [u8],
        ss: &mut [u8; 32],
    ) -> Result<()> {
        backend::<P>().encapsulate(&self.bytes, m, ciphertext, ss)
    }
}

impl<P: ParameterSet> Clone for EncapsulationKey<P> {
    fn clone(&self) -> Self {
        EncapsulationKey { bytes: self.bytes.clone(), parameters: PhantomData }
    }
}

impl<P: ParameterSet> PartialEq for EncapsulationKey<P> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<P: ParameterSet> Eq for EncapsulationKey<P> {}

impl<P: ParameterSet> fmt::Debug for EncapsulationKey<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncapsulationKey<{}>(", P::NAME)?;
        self.bytes[..8].iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, "…)")
    }
}

/// N random bytes drawn straight into protected memory.
pub(crate) fn random_secret<const N: usize>() -> Result<SecretBox<[u8; N]>> {
    let mut drawn = Ok(());
    let bytes = SecretBox::new(|b: &mut [u8; N]| drawn = crate::sys::fill_random(b))?;
    drawn.map_err(Error::Random)?;
    Ok(bytes)
}

/// An ML-KEM decapsulation key (private key), in protected memory: its 64-byte seed
/// `d ‖ z` (a pooled [`SecretBox`]) and the expanded key computed from it once, when the
/// key is made (1632 to 3168 bytes: a [`SecretBox`] in its own guarded region, locked, out
/// of dumps and forked children, wiped on drop). It cannot be cloned and `Debug` shows
/// nothing of it.
///
/// Export and import it as its seed (the default, and the smallest form), through protected
/// memory only: [`seed`](Self::seed) lends it, [`from_seed`](Self::from_seed) takes it and
/// wipes the source. For systems that store keys expanded, [`expanded`](Self::expanded)
/// lends the FIPS 203 expanded form and [`from_expanded`](Self::from_expanded) imports it,
/// checked. It does not protect the copies you make of either.
///
/// ```
/// use strongroom::kem::{DecapsulationKey, MlKem768};
///
/// let key = DecapsulationKey::<MlKem768>::generate()?;
/// let mut exported = *key.seed()?; // into memory of yours: protect it
/// let again = DecapsulationKey::<MlKem768>::from_seed(&mut exported)?;
/// assert_eq!(exported, [0; 64]);
/// assert_eq!(again.encapsulation_key(), key.encapsulation_key());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct DecapsulationKey<P: ParameterSet> {
    /// `None` for a key imported in expanded form, which has no seed.
    seed: Option<SecretBox<[u8; SEED_LEN]>>,
    expanded: SecretBox<<P as sealed::Sealed>::Expanded>,
    encapsulation_key: EncapsulationKey<P>,
}

impl<P: ParameterSet> DecapsulationKey<P> {
    /// A fresh key: a random seed drawn into protected memory, expanded on a secure stack.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768};
    /// let (a, b) = (DecapsulationKey::<MlKem768>::generate()?, DecapsulationKey::<MlKem768>::generate()?);
    /// assert_ne!(a.encapsulation_key(), b.encapsulation_key());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn generate() -> Result<Self> {
        Self::from_protected_seed(random_secret()?)
    }

    /// The key whose seed is `d ‖ z` = `seed` (FIPS 203 `ML-KEM.KeyGen_internal(d, z)`);
    /// `seed` is wiped.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem512};
    ///
    /// let mut seed = [9u8; 64];
    /// let key = DecapsulationKey::<MlKem512>::from_seed(&mut seed)?;
    /// assert_eq!(seed, [0; 64]);
    /// assert_eq!(*key.seed()?, [9; 64]);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_seed(seed: &mut [u8; SEED_LEN]) -> Result<Self> {
        let protected = SecretBox::copy_of(seed, |_| Error::Internal("a seed array has the seed's length"));
        seed.zeroize();
        Self::from_protected_seed(protected?)
    }

    /// The key whose seed is in `buffer` (exactly 64 bytes, else
    /// [`FormatError::WrongLength`]): protected memory to protected memory, e.g. a seed read
    /// from a file straight into a [`LockedBuffer`]'s `expose_mut()`. The buffer stays as
    /// it is.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, kem::{DecapsulationKey, MlKem768}};
    ///
    /// let seed = LockedBuffer::random(64)?;
    /// let key = DecapsulationKey::<MlKem768>::from_locked(&seed)?;
    /// assert_eq!(&*key.seed()?, &*seed.expose()?);
    /// assert!(DecapsulationKey::<MlKem768>::from_locked(&LockedBuffer::random(32)?).is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_locked(buffer: &LockedBuffer) -> Result<Self> {
        let wrong_length =
            |actual| Error::Format(FormatError::WrongLength { what: "an ML-KEM seed", expected: SEED_LEN, actual });
        Self::from_protected_seed(SecretBox::copy_of(&buffer.expose()?, wrong_length)?)
    }

    /// Expands `seed`, on a secure stack, into protected memory.
    pub(crate) fn from_protected_seed(seed: SecretBox<[u8; SEED_LEN]>) -> Result<Self> {
        let mut expanded = SecretBox::<<P as sealed::Sealed>::Expanded>::new(|_| {})?;
        let mut public = vec![0u8; P::ENCAPSULATION_KEY_LEN];
        stack::run_on(StackSize::Kem, || {
            seed.with(|seed| expanded.with_mut(|dk| backend::<P>().keypair(seed, &mut public, dk.as_mut())))
        })????;
        let encapsulation_key = EncapsulationKey { bytes: public.into(), parameters: PhantomData };
        Ok(DecapsulationKey { seed: Some(seed), expanded, encapsulation_key })
    }

    /// The key whose FIPS 203 expanded form (`dk_PKE ‖ ek ‖ H(ek) ‖ z`: 1632, 2400 or 3168
    /// bytes) is in `buffer`, copied protected memory to protected memory and checked as
    /// FIPS 203 checks a decapsulation key: its length ([`FormatError::WrongLength`]), the
    /// stored hash of the encapsulation key inside it ([`FormatError::KeyHashMismatch`]),
    /// and, since that encapsulation key is what the key then publishes, the modulus check
    /// ([`FormatError::UnreducedCoefficient`]). The buffer stays as it is. Such a key has no
    /// seed: [`seed`](Self::seed) says so.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, kem::{DecapsulationKey, MlKem768}};
    ///
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// let mut stored = LockedBuffer::new(2400)?;
    /// stored.expose_mut()?.copy_from_slice(&key.expanded()?);
    /// let again = DecapsulationKey::<MlKem768>::from_expanded(&stored)?;
    /// let (ciphertext, secret) = again.encapsulation_key().encapsulate()?;
    /// assert!(key.decapsulate(&ciphertext)? == secret);
    /// assert!(again.seed().is_err(), "imported expanded: no seed");
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_expanded(buffer: &LockedBuffer) -> Result<Self> {
        let expanded_len = std::mem::size_of::<<P as sealed::Sealed>::Expanded>();
        let source = buffer.expose()?;
        if source.len() != expanded_len {
            let what = <P as sealed::Sealed>::DECAPSULATION_KEY_WHAT;
            return Err(Error::Format(FormatError::WrongLength { what, expected: expanded_len, actual: source.len() }));
        }
        // dk = dk_PKE (384k bytes) ‖ ek ‖ H(ek) (32) ‖ z (32); ek and H(ek) are public.
        let ek = &source[384 * P::K..384 * P::K + P::ENCAPSULATION_KEY_LEN];
        let stored_hash = &source[384 * P::K + P::ENCAPSULATION_KEY_LEN..expanded_len - 32];
        if crate::crypto::sha3::sha3_256(ek)[..] != *stored_hash {
            return Err(Error::Format(FormatError::KeyHashMismatch));
        }
        let encapsulation_key = EncapsulationKey::from_bytes(ek)?;
        let mut expanded = SecretBox::<<P as sealed::Sealed>::Expanded>::new(|_| {})?;
        expanded.with_mut(|dk| dk.as_mut().copy_from_slice(&source))?;
        Ok(DecapsulationKey { seed: None, expanded, encapsulation_key })
    }

    /// Lends the 64-byte seed `d ‖ z`, in place, for export. Whatever you copy it into is
    /// yours to protect (a file created `0600`, a [`LockedBuffer`]). A key imported
    /// [`from_expanded`](Self::from_expanded) has no seed: [`Error::ApiMisuse`].
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768};
    ///
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// let mut backup = strongroom::LockedBuffer::new(64)?;
    /// backup.expose_mut()?.copy_from_slice(&*key.seed()?);
    /// assert_eq!(DecapsulationKey::<MlKem768>::from_locked(&backup)?.encapsulation_key(), key.encapsulation_key());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn seed(&self) -> Result<Exposed<'_, [u8; SEED_LEN]>> {
        match &self.seed {
            Some(seed) => seed.expose(),
            None => Err(Error::ApiMisuse("this ML-KEM key was imported in expanded form and has no seed to export")),
        }
    }

    /// Lends the FIPS 203 expanded form (`dk_PKE ‖ ek ‖ H(ek) ‖ z`), in place, for export to
    /// systems that store keys expanded; prefer the 64-byte [`seed`](Self::seed), from which
    /// everything else follows. Whatever you copy it into is yours to protect.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem512};
    /// let key = DecapsulationKey::<MlKem512>::generate()?;
    /// let expanded = key.expanded()?;
    /// assert_eq!(expanded.len(), 1632);
    /// assert_eq!(&expanded[768..768 + 800], key.encapsulation_key().as_bytes());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expanded(&self) -> Result<Exposed<'_, [u8]>> {
        self.expanded.expose()?.try_map(|dk| Ok(dk.as_ref()))
    }

    /// The matching encapsulation key, to publish.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768};
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// assert_eq!(key.encapsulation_key().as_bytes().len(), 1184);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn encapsulation_key(&self) -> &EncapsulationKey<P> {
        &self.encapsulation_key
    }

    /// Decapsulates `ciphertext` into a shared secret in protected memory, on a secure
    /// stack. A ciphertext of the wrong length is [`FormatError::WrongLength`]; a tampered
    /// one of the right length gives a pseudorandom secret that matches the sender's in
    /// nothing (implicit rejection), not an error.
    ///
    /// ```
    /// use strongroom::kem::{DecapsulationKey, MlKem768};
    ///
    /// let key = DecapsulationKey::<MlKem768>::generate()?;
    /// let (mut ciphertext, secret) = key.encapsulation_key().encapsulate()?;
    /// ciphertext[0] ^= 1;
    /// assert!(key.decapsulate(&ciphertext)? != secret);
    /// assert!(key.decapsulate(&ciphertext[1..]).is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn decapsulate(&self, ciphertext: &[u8]) -> Result<SharedSecret> {
        if ciphertext.len() != P::CIPHERTEXT_LEN {
            return Err(Error::Format(FormatError::WrongLength {
                what: P::CIPHERTEXT_WHAT,
                expected: P::CIPHERTEXT_LEN,
                actual: ciphertext.len(),
            }));
        }
        let mut secret = SharedSecret::zeroed()?;
        stack::run_on(StackSize::Kem, || secret.with_mut(|ss| self.decapsulate_into(ciphertext, ss)))???;
        Ok(secret)
    }

    /// The decapsulation itself, into the caller's buffer (run on a secure stack).
    pub(crate) fn decapsulate_into(&self, ciphertext: &[u8], ss: &mut [u8; 32]) -> Result<()> {
        self.expanded.with(|dk| backend::<P>().decapsulate(dk.as_ref(), ciphertext, ss))?
    }
}

impl<P: ParameterSet> fmt::Debug for DecapsulationKey<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DecapsulationKey<{}>(<redacted>)", P::NAME)
    }
}
