//! age's recipient stanzas, from the side that opens them: X25519 identities and
//! passphrases (scrypt), each turning a stanza back into the file key.
//!
//! ```text
//! -> X25519 <ephemeral share, base64>           body: ChaCha20-Poly1305(wrap key, nonce 0, file key)
//!    wrap key = HKDF-SHA256(X25519(identity, share), salt = share ‖ recipient, "age-encryption.org/v1/X25519")
//! -> scrypt <salt, 16 bytes base64> <log2 N>     body: ChaCha20-Poly1305(wrap key, nonce 0, file key)
//!    wrap key = scrypt(passphrase, "age-encryption.org/v1/scrypt" ‖ salt, N, r = 8, p = 1)
//! ```
//!
//! A stanza of a type the identity handles but malformed (a share that is not 32 bytes of
//! canonical base64, a low-order share, a work factor with a leading zero, a body that is
//! not a 16-byte key and its tag) is an error for the whole file; one whose tag does not
//! verify is simply not for this identity. Secrets (identity keys, passphrases, shared
//! secrets, wrap keys, the file key) stay in protected memory.

use base64ct::{Base64Unpadded, Encoding};
use subtle::ConstantTimeEq;

use super::bech32;
use super::header::{Header, Stanza};
use super::payload::{FILE_KEY_LEN, FileKey};
use crate::buffer::LockedBuffer;
use crate::crypto::mlkem_aws_lc::{X25519_LEN, x25519, x25519_public};
use crate::crypto::{chacha_ietf, hkdf_sha256, scrypt_aws_lc};
use crate::error::{Error, FormatError, Result};
use crate::kdf::Parameter;
use crate::kem::{SharedSecret, x_wing};
use crate::secret::SecretBox;
use crate::stack::{self, StackSize};

/// The human-readable part of an X25519 identity (written in upper case).
pub(crate) const IDENTITY_HRP: &str = "age-secret-key-";
/// The body of every stanza here: a 16-byte file key and its 16-byte tag.
pub(crate) const WRAPPED_LEN: usize = FILE_KEY_LEN + chacha_ietf::TAG_LEN;
/// The highest scrypt work factor a file may ask for by default: 2^22 · 1 KiB = 4 GiB of
/// work memory, and seconds of work (age's own limit).
pub(crate) const MAX_WORK_FACTOR: u8 = 22;

fn malformed(rule: &'static str) -> Error {
    Error::Format(FormatError::InvalidHeader(rule))
}

/// Opens `body` (a wrapped file key) under `wrap_key`: `None` if its tag does not verify.
fn unwrap(wrap_key: &SecretBox<[u8; 32]>, body: &[u8]) -> Result<Option<FileKey>> {
    let mut file_key = FileKey::new(|_| {})?;
    let opened = wrap_key.with(|key| file_key.with_mut(|out| chacha_ietf::open(key, &[0; 12], body, out)))??;
    match opened {
        Ok(()) => Ok(Some(file_key)),
        Err(Error::Crypto) => Ok(None),
        Err(other) => Err(other),
    }
}

/// An X25519 identity (`AGE-SECRET-KEY-1…`): its secret scalar in protected memory, and its
/// public key.
pub(crate) struct X25519Identity {
    secret: SecretBox<[u8; X25519_LEN]>,
    public: [u8; X25519_LEN],
}

impl X25519Identity {
    /// Parses the identity's text, which should itself be in protected memory (a
    /// `LockedBuffer` read from the identity file); decoded on a secure stack straight into
    /// protected memory.
    pub(crate) fn parse(text: &[u8]) -> Result<Self> {
        let mut secret = SecretBox::<[u8; X25519_LEN]>::new(|_| {})?;
        stack::run_on(StackSize::Crypto, || secret.with_mut(|out| bech32::decode_into(text, IDENTITY_HRP, out)))???;
        let mut public = [0u8; X25519_LEN];
        stack::run_on(StackSize::Crypto, || secret.with(|sk| x25519_public(sk, &mut public)))??;
        Ok(X25519Identity { secret, public })
    }

    /// The recipient's public key.
    pub(crate) fn public(&self) -> [u8; X25519_LEN] {
        self.public
    }

    /// The identity's text (`AGE-SECRET-KEY-1…`), written into protected memory.
    pub(crate) fn to_text(&self) -> Result<LockedBuffer> {
        let mut text = LockedBuffer::new(bech32::encoded_len(IDENTITY_HRP, X25519_LEN))?;
        stack::run_on(StackSize::Crypto, || {
            self.secret.with(|sk| text.with_mut(|out| bech32::encode_into(IDENTITY_HRP, sk, true, out)))
        })????;
        Ok(text)
    }

    /// The file key from `stanza`, if it is an X25519 stanza for this identity.
    fn unwrap(&self, stanza: &Stanza) -> Result<Option<FileKey>> {
        if stanza.tag != "X25519" {
            return Ok(None);
        }
        let [share] = stanza.args.as_slice() else {
            return Err(malformed("an X25519 stanza has not exactly one argument"));
        };
        let share: [u8; X25519_LEN] = Base64Unpadded::decode_vec(share)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(malformed("an X25519 share is not 32 bytes of canonical base64"))?;
        if stanza.body.len() != WRAPPED_LEN {
            return Err(malformed("an X25519 stanza's body is not a 16-byte file key and its tag"));
        }
        let mut shared = SecretBox::<[u8; X25519_LEN]>::new(|_| {})?;
        stack::run_on(StackSize::Crypto, || self.secret.with(|sk| shared.with_mut(|out| x25519(sk, &share, out))))???;
        if shared.with(|s| bool::from(s[..].ct_eq(&[0u8; X25519_LEN][..])))? {
            return Err(malformed("an X25519 share is a low-order point (the shared secret is zero)"));
        }
        let salt = [share, self.public].concat();
        let mut wrap_key = SecretBox::<[u8; 32]>::new(|_| {})?;
        shared.with(|ikm| {
            wrap_key.with_mut(|out| hkdf_sha256::hkdf(ikm, &salt, b"age-encryption.org/v1/X25519", out))
        })???;
        unwrap(&wrap_key, &stanza.body)
    }
}

/// A passphrase, for scrypt stanzas, and the highest work factor it will spend on a file.
pub(crate) struct Passphrase {
    bytes: LockedBuffer,
    max_work_factor: u8,
}

impl Passphrase {
    /// `bytes` (protected memory already) with the default work-factor cap.
    pub(crate) fn new(bytes: LockedBuffer) -> Self {
        Passphrase { bytes, max_work_factor: MAX_WORK_FACTOR }
    }

    /// The file key from `stanza`, if it is a scrypt stanza this passphrase opens.
    fn unwrap(&self, stanza: &Stanza) -> Result<Option<FileKey>> {
        if stanza.tag != "scrypt" {
            return Ok(None);
        }
        let [salt, work_factor] = stanza.args.as_slice() else {
            return Err(malformed("a scrypt stanza has not exactly two arguments"));
        };
        let salt: [u8; 16] = Base64Unpadded::decode_vec(salt)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(malformed("a scrypt salt is not 16 bytes of canonical base64"))?;
        let work_factor = parse_work_factor(work_factor)?;
        if work_factor > u64::from(self.max_work_factor) {
            let limit = u64::from(self.max_work_factor);
            return Err(Error::LimitExceeded { what: Parameter::WorkFactor, requested: work_factor, limit });
        }
        if stanza.body.len() != WRAPPED_LEN {
            return Err(malformed("a scrypt stanza's body is not a 16-byte file key and its tag"));
        }
        let full_salt = [&b"age-encryption.org/v1/scrypt"[..], &salt].concat();
        let mut wrap_key = SecretBox::<[u8; 32]>::new(|_| {})?;
        let log_n = work_factor as u8; // at most the cap, checked above
        self.bytes
            .with(|pass| wrap_key.with_mut(|out| scrypt_aws_lc::scrypt(pass, &full_salt, log_n, 8, 1, out)))???;
        unwrap(&wrap_key, &stanza.body)
    }
}

/// A work factor as age writes it: a decimal number from 1, without sign, leading zeros or
/// anything else.
fn parse_work_factor(text: &str) -> Result<u64> {
    let canonical = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    let value = text.parse::<u64>().ok().filter(|_| canonical);
    value.ok_or(malformed("a scrypt work factor is not a decimal number from 1 without leading zeros"))
}

/// A post-quantum hybrid identity (`AGE-SECRET-KEY-PQ-1…`): an X-Wing key (ML-KEM-768 and
/// X25519) from its 32-byte seed, in protected memory. Its stanzas are HPKE (RFC 9180, base
/// mode) with the X-Wing KEM, HKDF-SHA256 and ChaCha20-Poly1305:
///
/// ```text
/// -> mlkem768x25519 <enc: the X-Wing ciphertext, base64>
/// body = HPKE.Open(key, base nonce, aad = "", wrapped file key), info = "age-encryption.org/mlkem768x25519"
/// ```
pub(crate) struct HybridIdentity {
    key: x_wing::DecapsulationKey,
}

/// The human-readable part of a post-quantum identity.
pub(crate) const HYBRID_IDENTITY_HRP: &str = "age-secret-key-pq-";
/// HPKE's suite: KEM X-Wing (0x647a), KDF HKDF-SHA256 (0x0001), AEAD ChaCha20-Poly1305
/// (0x0003).
pub(crate) const HPKE_SUITE: &[u8] = &[b'H', b'P', b'K', b'E', 0x64, 0x7a, 0x00, 0x01, 0x00, 0x03];
const HPKE_INFO: &[u8] = b"age-encryption.org/mlkem768x25519";

impl HybridIdentity {
    /// Parses the identity's text (itself in protected memory, as for
    /// [`X25519Identity::parse`]).
    pub(crate) fn parse(text: &[u8]) -> Result<Self> {
        let mut seed = LockedBuffer::new(x_wing::SEED_LEN)?;
        let mut decoded = Ok(());
        stack::run_on(StackSize::Crypto, || {
            seed.with_mut(|out| decoded = bech32::decode_into(text, HYBRID_IDENTITY_HRP, out))
        })??;
        decoded?;
        Ok(HybridIdentity { key: x_wing::DecapsulationKey::from_locked(&seed)? })
    }

    /// A fresh identity.
    pub(crate) fn generate() -> Result<Self> {
        Ok(HybridIdentity { key: x_wing::DecapsulationKey::generate()? })
    }

    /// The recipient's public key.
    pub(crate) fn public(&self) -> &x_wing::EncapsulationKey {
        self.key.encapsulation_key()
    }

    /// The identity's text (`AGE-SECRET-KEY-PQ-1…`), written into protected memory.
    pub(crate) fn to_text(&self) -> Result<LockedBuffer> {
        let mut text = LockedBuffer::new(bech32::encoded_len(HYBRID_IDENTITY_HRP, x_wing::SEED_LEN))?;
        let seed = self.key.seed()?;
        stack::run_on(StackSize::Crypto, || {
            text.with_mut(|out| bech32::encode_into(HYBRID_IDENTITY_HRP, &seed[..], true, out))
        })???;
        Ok(text)
    }

    /// The file key from `stanza`, if it is a post-quantum stanza for this identity.
    fn unwrap(&self, stanza: &Stanza) -> Result<Option<FileKey>> {
        if stanza.tag != "mlkem768x25519" {
            return Ok(None);
        }
        let [enc] = stanza.args.as_slice() else {
            return Err(malformed("an mlkem768x25519 stanza has not exactly one argument"));
        };
        let enc = Base64Unpadded::decode_vec(enc)
            .ok()
            .filter(|e| e.len() == x_wing::CIPHERTEXT_LEN)
            .ok_or(malformed("an mlkem768x25519 enc is not 1120 bytes of canonical base64"))?;
        if stanza.body.len() != WRAPPED_LEN {
            return Err(malformed("an mlkem768x25519 stanza's body is not a 16-byte file key and its tag"));
        }
        if self.key.x25519_share_is_low_order(&enc)? {
            return Err(malformed("the X25519 part of an mlkem768x25519 enc is a low-order point"));
        }
        let (key, nonce) = hpke_key_schedule(&self.key.decapsulate(&enc)?)?;
        let mut file_key = FileKey::new(|_| {})?;
        let opened = key.with(|k| file_key.with_mut(|out| chacha_ietf::open(k, &nonce, &stanza.body, out)))??;
        match opened {
            Ok(()) => Ok(Some(file_key)),
            Err(Error::Crypto) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// HPKE's key schedule (RFC 9180, section 5.1) in base mode with no PSK, for age's suite
/// and info: the AEAD key (in protected memory) and base nonce from the KEM's shared secret.
pub(crate) fn hpke_key_schedule(shared: &SharedSecret) -> Result<(SecretBox<[u8; 32]>, [u8; chacha_ietf::NONCE_LEN])> {
    let labeled = |label: &'static [u8]| [&b"HPKE-v1"[..], HPKE_SUITE, label];
    let (mut psk_id_hash, mut info_hash) = ([0u8; 32], [0u8; 32]);
    hkdf_sha256::extract(b"", &labeled(b"psk_id_hash"), &mut psk_id_hash)?;
    let [version, suite, label] = labeled(b"info_hash");
    hkdf_sha256::extract(b"", &[version, suite, label, HPKE_INFO], &mut info_hash)?;
    let context = [&[0u8][..], &psk_id_hash, &info_hash].concat();
    let mut secret = SecretBox::<[u8; 32]>::new(|_| {})?;
    shared.with(|ss| secret.with_mut(|prk| hkdf_sha256::extract(ss, &labeled(b"secret"), prk)))???;
    let mut key = SecretBox::<[u8; 32]>::new(|_| {})?;
    let mut nonce = [0u8; chacha_ietf::NONCE_LEN];
    secret.with(|prk| -> Result<()> {
        let expand = |label: &'static [u8], out: &mut [u8]| {
            let length = (out.len() as u16).to_be_bytes();
            let [version, suite, label] = labeled(label);
            hkdf_sha256::expand(prk, &[&length[..], version, suite, label, &context], out)
        };
        key.with_mut(|k| expand(b"key", k))??;
        expand(b"base_nonce", &mut nonce)
    })??;
    Ok((key, nonce))
}

/// What can open an age file.
pub(crate) enum Identity {
    /// An X25519 identity.
    X25519(X25519Identity),
    /// A post-quantum hybrid identity.
    Hybrid(HybridIdentity),
    /// A passphrase.
    Passphrase(Passphrase),
}

impl Identity {
    fn unwrap(&self, stanza: &Stanza) -> Result<Option<FileKey>> {
        match self {
            Identity::X25519(identity) => identity.unwrap(stanza),
            Identity::Hybrid(identity) => identity.unwrap(stanza),
            Identity::Passphrase(passphrase) => passphrase.unwrap(stanza),
        }
    }
}

/// The file key of `header`, from the first stanza one of `identities` opens.
/// [`Error::NoMatchingIdentity`] if none does; a malformed stanza of a type an identity
/// handles fails the whole file, as does a scrypt stanza that is not alone (the age spec:
/// a passphrase-encrypted file has no other recipient).
pub(crate) fn file_key(header: &Header, identities: &[impl std::borrow::Borrow<Identity>]) -> Result<FileKey> {
    if header.stanzas.len() > 1 && header.stanzas.iter().any(|s| s.tag == "scrypt") {
        return Err(malformed("a scrypt stanza is not the only stanza"));
    }
    for stanza in &header.stanzas {
        for identity in identities {
            if let Some(key) = identity.borrow().unwrap(stanza)? {
                return Ok(key);
            }
        }
    }
    Err(Error::NoMatchingIdentity)
}

#[cfg(test)]
mod tests;
