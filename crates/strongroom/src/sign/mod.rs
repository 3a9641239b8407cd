//! ML-DSA signatures (FIPS 204) with signing keys held in protected memory.
//!
//! One design over the three parameter sets, chosen by a type: [`MlDsa44`], [`MlDsa65`]
//! (the usual choice) and [`MlDsa87`].
//!
//! - A [`SigningKey`] holds the 32-byte seed ξ in a pooled [`SecretBox`] and the expanded
//!   private key the backend signs with in a frozen [`LockedBuffer`] (guard pages, locked,
//!   out of dumps and forked children, read-only at rest, wiped on drop). Key generation and
//!   signing run on a secure stack, where aws-lc keeps its secret intermediate values, and
//!   the stack is wiped after each call. The seed leaves protected memory only through
//!   [`SigningKey::with_seed`], lent to a closure.
//! - A [`VerifyingKey`] and a [`Signature`] are public bytes whose lengths are checked when
//!   they are made.
//! - [`SigningKey::sign`] is hedged (fresh randomness mixed with the key, FIPS 204's default
//!   and the safer choice against fault attacks); [`SigningKey::sign_deterministic`] gives the
//!   same signature for the same key, message and context.
//! - The context string (up to 255 bytes, else [`Error::ContextTooLong`]) separates uses of
//!   one key: a signature made under one context does not verify under another.
//!
//! This is the pure ML-DSA of FIPS 204 (not HashML-DSA, not external μ). Linux only: the
//! backend is aws-lc (mldsa-native), which strongroom links only there.
//!
//! ```
//! use strongroom::sign::{MlDsa65, SigningKey, VerifyingKey};
//!
//! let key = SigningKey::<MlDsa65>::generate()?;
//! let public = key.verifying_key().as_bytes().to_vec(); // published
//! let signature = key.sign(b"release 1.0", b"my-app v1")?;
//!
//! let verifier = VerifyingKey::<MlDsa65>::from_bytes(&public)?;
//! verifier.verify(b"release 1.0", b"my-app v1", signature.as_bytes())?;
//! assert!(verifier.verify(b"release 1.1", b"my-app v1", signature.as_bytes()).is_err());
//! # Ok::<(), strongroom::Error>(())
//! ```
//!
//! **What it does not protect.** Messages and signatures are the caller's; a signing key
//! that is nested inside another secure-stack call (e.g. inside [`stack::run`]) runs on that
//! stack, which must then be deep enough (use [`stack::run_with_size`] with 256 KiB). Never
//! here: the FFI itself (that is `crypto/mldsa_aws_lc.rs`).
//!
//! [`stack::run`]: crate::stack::run
//! [`stack::run_with_size`]: crate::stack::run_with_size

use std::fmt;
use std::marker::PhantomData;

use zeroize::Zeroize;

use crate::buffer::LockedBuffer;
use crate::crypto::mldsa_aws_lc::{self as backend, Variant};
use crate::error::{Error, FormatError, Result};
use crate::secret::SecretBox;
use crate::stack::{StackSize, run_on};

#[cfg(test)]
mod tests;

/// Length of a signing key's seed ξ: 32 bytes for every parameter set.
///
/// ```
/// assert_eq!(strongroom::sign::SEED_LEN, 32);
/// ```
pub const SEED_LEN: usize = backend::SEED_LEN;

/// Longest context string: 255 bytes (FIPS 204 encodes its length in one byte).
///
/// ```
/// assert_eq!(strongroom::sign::MAX_CONTEXT_LEN, 255);
/// ```
pub const MAX_CONTEXT_LEN: usize = backend::MAX_CONTEXT_LEN;

mod sealed {
    /// Ties a public parameter-set type to its backend functions; not implementable outside.
    pub trait Sealed {
        const VARIANT: &'static crate::crypto::mldsa_aws_lc::Variant;
        const PUBLIC_KEY: &'static str;
        const SIGNATURE: &'static str;
    }
}

/// An ML-DSA parameter set: [`MlDsa44`], [`MlDsa65`] or [`MlDsa87`]. Sealed.
///
/// ```
/// use strongroom::sign::{MlDsa44, MlDsa65, MlDsa87, ParameterSet};
///
/// assert_eq!((MlDsa44::PUBLIC_KEY_LEN, MlDsa44::SIGNATURE_LEN), (1312, 2420));
/// assert_eq!((MlDsa65::PUBLIC_KEY_LEN, MlDsa65::SIGNATURE_LEN), (1952, 3309));
/// assert_eq!((MlDsa87::PUBLIC_KEY_LEN, MlDsa87::SIGNATURE_LEN), (2592, 4627));
/// assert_eq!(MlDsa65::NAME, "ML-DSA-65");
/// ```
pub trait ParameterSet: sealed::Sealed + Clone + Send + Sync + 'static {
    /// The FIPS 204 name: `"ML-DSA-65"`.
    const NAME: &'static str = Self::VARIANT.name;
    /// Length of an encoded public key.
    const PUBLIC_KEY_LEN: usize = Self::VARIANT.public_key_len;
    /// Length of a signature.
    const SIGNATURE_LEN: usize = Self::VARIANT.signature_len;
}

macro_rules! parameter_set {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $label:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {}

        impl sealed::Sealed for $name {
            const VARIANT: &'static Variant = &backend::$variant;
            const PUBLIC_KEY: &'static str = concat!("an ", $label, " public key");
            const SIGNATURE: &'static str = concat!("an ", $label, " signature");
        }

        impl ParameterSet for $name {}
    };
}

parameter_set!(
    /// ML-DSA-44: NIST security category 2; 1312-byte public keys, 2420-byte signatures.
    ///
    /// ```
    /// let key = strongroom::sign::SigningKey::<strongroom::sign::MlDsa44>::generate()?;
    /// assert_eq!(key.sign(b"m", b"")?.as_bytes().len(), 2420);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    MlDsa44,
    ML_DSA_44,
    "ML-DSA-44"
);
parameter_set!(
    /// ML-DSA-65: NIST security category 3, the usual choice; 1952-byte public keys,
    /// 3309-byte signatures.
    ///
    /// ```
    /// let key = strongroom::sign::SigningKey::<strongroom::sign::MlDsa65>::generate()?;
    /// assert_eq!(key.sign(b"m", b"")?.as_bytes().len(), 3309);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    MlDsa65,
    ML_DSA_65,
    "ML-DSA-65"
);
parameter_set!(
    /// ML-DSA-87: NIST security category 5; 2592-byte public keys, 4627-byte signatures.
    ///
    /// ```
    /// let key = strongroom::sign::SigningKey::<strongroom::sign::MlDsa87>::generate()?;
    /// assert_eq!(key.sign(b"m", b"")?.as_bytes().len(), 4627);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    MlDsa87,
    ML_DSA_87,
    "ML-DSA-87"
);

/// An ML-DSA signing key: the seed ξ in protected memory (a pooled [`SecretBox`]), the
/// expanded private key in a frozen [`LockedBuffer`] (guarded, locked, read-only at rest),
/// and the matching [`VerifyingKey`].
///
/// It cannot be cloned and its `Debug` output shows nothing secret. It does not protect
/// against code of yours run inside [`with_seed`](Self::with_seed), nor against copies of
/// the seed you make there.
///
/// ```
/// use strongroom::sign::{MlDsa65, SigningKey};
///
/// let key = SigningKey::<MlDsa65>::generate()?;
/// assert_eq!(format!("{key:?}"), "SigningKey<ML-DSA-65>(<redacted>)");
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct SigningKey<P: ParameterSet> {
    seed: SecretBox<[u8; SEED_LEN]>,
    expanded: LockedBuffer,
    verifying: VerifyingKey<P>,
}

impl<P: ParameterSet> SigningKey<P> {
    /// A fresh key from a random seed drawn straight into protected memory.
    ///
    /// ```
    /// use strongroom::sign::{MlDsa44, SigningKey};
    ///
    /// let (a, b) = (SigningKey::<MlDsa44>::generate()?, SigningKey::<MlDsa44>::generate()?);
    /// assert_ne!(a.verifying_key(), b.verifying_key());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn generate() -> Result<Self> {
        let mut drawn = Ok(());
        let seed = SecretBox::new(|s: &mut [u8; SEED_LEN]| drawn = crate::sys::fill_random(s))?;
        drawn.map_err(Error::Random)?;
        Self::expand(seed)
    }

    /// The key ML-DSA.KeyGen_internal derives from the seed ξ in `source`, which is moved into
    /// protected memory and wiped, also when expanding it fails.
    ///
    /// ```
    /// use strongroom::sign::{MlDsa65, SigningKey};
    ///
    /// let mut seed = [7u8; 32];
    /// let key = SigningKey::<MlDsa65>::from_seed(&mut seed)?;
    /// assert_eq!(seed, [0; 32]);
    /// let again = SigningKey::<MlDsa65>::from_seed(&mut [7u8; 32])?;
    /// assert_eq!(key.verifying_key(), again.verifying_key());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_seed(source: &mut [u8; SEED_LEN]) -> Result<Self> {
        let seed = SecretBox::copy_of(source, |_| Error::Internal("a seed array has the seed's length"));
        source.zeroize();
        Self::expand(seed?)
    }

    /// Copies the seed from a [`LockedBuffer`] (exactly [`SEED_LEN`] bytes, else
    /// [`Error::Format`] with [`FormatError::WrongLength`]), protected memory to protected
    /// memory; the buffer stays as it is. For seeds read from a file into protected memory.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, sign::{MlDsa87, SigningKey}};
    ///
    /// let key = SigningKey::<MlDsa87>::from_locked_seed(&LockedBuffer::random(32)?)?;
    /// assert!(SigningKey::<MlDsa87>::from_locked_seed(&LockedBuffer::random(31)?).is_err());
    /// # drop(key);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn from_locked_seed(buffer: &LockedBuffer) -> Result<Self> {
        let wrong_length =
            |actual| Error::Format(FormatError::WrongLength { what: "an ML-DSA seed", expected: SEED_LEN, actual });
        let seed = SecretBox::copy_of(&buffer.expose()?, wrong_length)?;
        Self::expand(seed)
    }

    fn expand(seed: SecretBox<[u8; SEED_LEN]>) -> Result<Self> {
        let variant = P::VARIANT;
        let mut expanded = LockedBuffer::new(variant.private_key_len)?;
        let mut public = vec![0u8; variant.public_key_len];
        run_on(StackSize::Sign, || -> Result<()> {
            let mut private = expanded.expose_mut()?;
            seed.with(|seed| variant.keypair(seed, &mut public, &mut private))?
        })??;
        expanded.freeze()?;
        Ok(SigningKey {
            seed,
            expanded,
            verifying: VerifyingKey { bytes: public.into_boxed_slice(), set: PhantomData },
        })
    }

    /// The public half, to publish.
    ///
    /// ```
    /// use strongroom::sign::{MlDsa44, ParameterSet, SigningKey};
    ///
    /// let key = SigningKey::<MlDsa44>::generate()?;
    /// assert_eq!(key.verifying_key().as_bytes().len(), MlDsa44::PUBLIC_KEY_LEN);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn verifying_key(&self) -> &VerifyingKey<P> {
        &self.verifying
    }

    /// Signs `message` under `context` (up to 255 bytes; `b""` for none), hedged: the
    /// signature mixes 32 fresh random bytes with the key, so signing the same message twice
    /// gives two different signatures, both valid.
    ///
    /// ```
    /// use strongroom::sign::{MlDsa65, SigningKey};
    ///
    /// let key = SigningKey::<MlDsa65>::generate()?;
    /// let (a, b) = (key.sign(b"message", b"ctx")?, key.sign(b"message", b"ctx")?);
    /// assert_ne!(a, b);
    /// key.verifying_key().verify(b"message", b"ctx", a.as_bytes())?;
    /// key.verifying_key().verify(b"message", b"ctx", b.as_bytes())?;
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn sign(&self, message: &[u8], context: &[u8]) -> Result<Signature<P>> {
        self.sign_with(message, context, Randomness::Fresh)
    }

    /// Signs `message` under `context` deterministically: the same key, message and context
    /// always give the same signature (FIPS 204 with `rnd` all zero). Prefer [`sign`](Self::sign)
    /// unless you need reproducible signatures; deterministic signing is more exposed to
    /// fault and side-channel attacks.
    ///
    /// ```
    /// use strongroom::sign::{MlDsa44, SigningKey};
    ///
    /// let key = SigningKey::<MlDsa44>::from_seed(&mut [1; 32])?;
    /// assert_eq!(key.sign_deterministic(b"m", b"")?, key.sign_deterministic(b"m", b"")?);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn sign_deterministic(&self, message: &[u8], context: &[u8]) -> Result<Signature<P>> {
        self.sign_with(message, context, Randomness::Zero)
    }

    pub(crate) fn sign_with(&self, message: &[u8], context: &[u8], rnd: Randomness) -> Result<Signature<P>> {
        let pre = prefix(context)?;
        let variant = P::VARIANT;
        let mut signature = vec![0u8; variant.signature_len];
        run_on(StackSize::Sign, || -> Result<()> {
            // On the secure stack, so wiped with it; hedged randomness is not secret once the
            // signature is out, but the caller's chosen one (tests) is copied here too.
            let mut random = [0u8; SEED_LEN];
            match rnd {
                Randomness::Fresh => crate::sys::fill_random(&mut random).map_err(Error::Random)?,
                Randomness::Zero => {}
                #[cfg(test)]
                Randomness::Given(given) => random = given,
            }
            let private = self.expanded.expose()?;
            let signed = variant.sign(&private, message, &pre, &random, &mut signature);
            random.zeroize();
            signed
        })??;
        Ok(Signature { bytes: signature.into_boxed_slice(), set: PhantomData })
    }

    /// Lends the seed ξ (the whole secret: the key is derived from it) to `f`, in place in
    /// protected memory: the one way to export a signing key, e.g. to write it to a file
    /// (and then to [`from_seed`](Self::from_seed) it back).
    ///
    /// ```
    /// use strongroom::sign::{MlDsa65, SigningKey};
    ///
    /// let key = SigningKey::<MlDsa65>::from_seed(&mut [9; 32])?;
    /// assert!(key.with_seed(|seed| seed == &[9; 32])?);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with_seed<R>(&self, f: impl FnOnce(&[u8; SEED_LEN]) -> R) -> Result<R> {
        self.seed.with(f)
    }
}

impl<P: ParameterSet> fmt::Debug for SigningKey<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey<{}>(<redacted>)", P::NAME)
    }
}

/// Where a signature's 32 bytes of randomness `rnd` come from.
#[derive(Clone, Copy)]
pub(crate) enum Randomness {
    /// Fresh from the operating system: hedged signing.
    Fresh,
    /// All zero: deterministic signing.
    Zero,
    /// Given by a test vector.
    #[cfg(test)]
    Given([u8; SEED_LEN]),
}

/// `0 ‖ len(ctx) ‖ ctx`: the prefix FIPS 204's pure ML-DSA.Sign and ML-DSA.Verify put before
/// the message (Algorithms 2 and 3).
fn prefix(context: &[u8]) -> Result<Vec<u8>> {
    let len = u8::try_from(context.len()).map_err(|_| Error::ContextTooLong { len: context.len() })?;
    let mut pre = Vec::with_capacity(2 + context.len());
    pre.extend_from_slice(&[0, len]);
    pre.extend_from_slice(context);
    Ok(pre)
}

/// An ML-DSA public key: public bytes of exactly [`ParameterSet::PUBLIC_KEY_LEN`].
///
/// ```
/// use strongroom::sign::{MlDsa65, SigningKey, VerifyingKey};
///
/// let key = SigningKey::<MlDsa65>::generate()?;
/// let copy = VerifyingKey::<MlDsa65>::from_bytes(key.verifying_key().as_bytes())?;
/// assert_eq!(&copy, key.verifying_key());
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Clone)]
pub struct VerifyingKey<P: ParameterSet> {
    bytes: Box<[u8]>,
    set: PhantomData<P>,
}

impl<P: ParameterSet> VerifyingKey<P> {
    /// A public key from its encoding; any other length than
    /// [`ParameterSet::PUBLIC_KEY_LEN`] is [`Error::Format`] with [`FormatError::WrongLength`].
    ///
    /// ```
    /// use strongroom::{Error, FormatError, sign::{MlDsa44, VerifyingKey}};
    ///
    /// let err = VerifyingKey::<MlDsa44>::from_bytes(&[0; 1311]).unwrap_err();
    /// assert!(matches!(err, Error::Format(FormatError::WrongLength { expected: 1312, actual: 1311, .. })));
    /// assert!(err.to_string().contains("an ML-DSA-44 public key is 1312 bytes"), "{err}");
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        check_len(bytes, P::PUBLIC_KEY, P::PUBLIC_KEY_LEN)?;
        Ok(VerifyingKey { bytes: bytes.into(), set: PhantomData })
    }

    /// The encoded public key.
    ///
    /// ```
    /// use strongroom::sign::{MlDsa87, SigningKey};
    ///
    /// assert_eq!(SigningKey::<MlDsa87>::generate()?.verifying_key().as_bytes().len(), 2592);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Checks that `signature` signs `message` under `context` for this key: `Ok(())`, or
    /// [`Error::InvalidSignature`]. A signature of another length than
    /// [`ParameterSet::SIGNATURE_LEN`] is [`Error::Format`] with [`FormatError::WrongLength`],
    /// a context over 255 bytes [`Error::ContextTooLong`]. Verification handles only public
    /// data, so it runs on the thread's own stack.
    ///
    /// ```
    /// use strongroom::{Error, sign::{MlDsa65, SigningKey}};
    ///
    /// let key = SigningKey::<MlDsa65>::generate()?;
    /// let signature = key.sign(b"message", b"")?;
    /// key.verifying_key().verify(b"message", b"", &signature)?;
    /// let other_context = key.verifying_key().verify(b"message", b"x", &signature);
    /// assert!(matches!(other_context, Err(Error::InvalidSignature)));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn verify(&self, message: &[u8], context: &[u8], signature: impl AsRef<[u8]>) -> Result<()> {
        let signature = signature.as_ref();
        if context.len() > MAX_CONTEXT_LEN {
            return Err(Error::ContextTooLong { len: context.len() });
        }
        check_len(signature, P::SIGNATURE, P::SIGNATURE_LEN)?;
        P::VARIANT.verify(&self.bytes, message, context, signature)
    }
}

// By hand: a derive would demand `P: PartialEq` of the (uninhabited) parameter-set type.
impl<P: ParameterSet> PartialEq for VerifyingKey<P> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<P: ParameterSet> Eq for VerifyingKey<P> {}

impl<P: ParameterSet> fmt::Debug for VerifyingKey<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.bytes[..8].iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "VerifyingKey<{}>({head}…)", P::NAME)
    }
}

/// An ML-DSA signature: public bytes of exactly [`ParameterSet::SIGNATURE_LEN`].
///
/// ```
/// use strongroom::sign::{MlDsa44, Signature, SigningKey};
///
/// let key = SigningKey::<MlDsa44>::generate()?;
/// let sent = key.sign(b"m", b"")?.as_bytes().to_vec();
/// let received = Signature::<MlDsa44>::from_bytes(&sent)?;
/// key.verifying_key().verify(b"m", b"", &received)?;
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Clone)]
pub struct Signature<P: ParameterSet> {
    bytes: Box<[u8]>,
    set: PhantomData<P>,
}

impl<P: ParameterSet> Signature<P> {
    /// A signature from its bytes; any other length than [`ParameterSet::SIGNATURE_LEN`] is
    /// [`Error::Format`] with [`FormatError::WrongLength`].
    ///
    /// ```
    /// use strongroom::sign::{MlDsa65, Signature};
    ///
    /// assert!(Signature::<MlDsa65>::from_bytes(&[0; 3309]).is_ok());
    /// assert!(Signature::<MlDsa65>::from_bytes(&[0; 3310]).is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        check_len(bytes, P::SIGNATURE, P::SIGNATURE_LEN)?;
        Ok(Signature { bytes: bytes.into(), set: PhantomData })
    }

    /// The signature's bytes, to send with the message.
    ///
    /// ```
    /// use strongroom::sign::{MlDsa87, SigningKey};
    ///
    /// assert_eq!(SigningKey::<MlDsa87>::generate()?.sign(b"", b"")?.as_bytes().len(), 4627);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

// By hand: a derive would demand `P: PartialEq` of the (uninhabited) parameter-set type.
impl<P: ParameterSet> PartialEq for Signature<P> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<P: ParameterSet> Eq for Signature<P> {}

impl<P: ParameterSet> AsRef<[u8]> for Signature<P> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl<P: ParameterSet> fmt::Debug for Signature<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.bytes[..8].iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "Signature<{}>({head}…)", P::NAME)
    }
}

fn check_len(bytes: &[u8], what: &'static str, expected: usize) -> Result<()> {
    if bytes.len() != expected {
        return Err(Error::Format(FormatError::WrongLength { what, expected, actual: bytes.len() }));
    }
    Ok(())
}
