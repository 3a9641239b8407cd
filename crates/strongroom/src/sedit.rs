//! The original `sedit` tool's encrypted files, versions 1 to 3: read all three, write v3,
//! so that files move both ways between the two tools.
//!
//! ```text
//! key = SHA3-256^rounds(Argon2id(passphrase, salt, m KiB, t passes, 1 lane, 32 bytes))
//! v1  = "SEDIT\0\x01\0" ‖ nonce (24) ‖ XChaCha20-Poly1305(key, nonce, aad = "", plaintext)
//!       (salt "sedit-v1-salt000"; m = 65536, t = 3, rounds = 1000)
//! v2  = "SEDIT\0\x02\0" ‖ salt (16) ‖ nonce ‖ ciphertext      (the same parameters)
//! v3  = "SEDIT\0\x03\0" ‖ m (u32 BE) ‖ t (u32 BE) ‖ rounds (u64 BE) ‖ salt (16)
//!       ‖ nonce ‖ ciphertext, the 40-byte header as the AAD
//! ```
//!
//! A v3 header's parameters come from the file before anything is authenticated: they are
//! checked against [`KdfLimits`] before any work, so a hostile file costs nothing. A file is
//! one AEAD message, so it is decrypted whole, into protected memory.
//!
//! ```
//! use strongroom::kdf::KdfParams;
//! use strongroom::sedit;
//!
//! let cheap = KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 }; // a test's, not yours
//! let file = sedit::encrypt(b"my notes", b"passphrase", &cheap)?;
//! assert!(sedit::is_sedit(&file));
//! let plain = sedit::decrypt(&file, b"passphrase")?;
//! assert_eq!(&*plain.expose()?, b"my notes");
//! assert!(sedit::decrypt(&file, b"wrong").is_err());
//! # Ok::<(), strongroom::Error>(())
//! ```

use crate::buffer::LockedBuffer;
use crate::crypto::aead::{self, NONCE_LEN, TAG_LEN};
use crate::error::{Error, FormatError, Result};
use crate::kdf::{self, KdfLimits, KdfParams};

/// The magic every version starts with, before its version byte and a zero.
const MAGIC: &[u8; 6] = b"SEDIT\0";
/// Length of a v3 header (the AAD).
const V3_HEADER_LEN: usize = 40;
/// v1's fixed salt.
const V1_SALT: &[u8; 16] = b"sedit-v1-salt000";
/// v1 and v2's parameters.
const LEGACY: KdfParams = KdfParams { memory_kib: 65536, iterations: 3, rounds: 1000 };

/// Whether `bytes` start like a sedit file (any version).
///
/// ```
/// assert!(!strongroom::sedit::is_sedit(b"age-encryption.org/v1\n"));
/// ```
pub fn is_sedit(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..6] == MAGIC[..] && bytes[7] == 0
}

/// Decrypts a sedit file (v1, v2 or v3) with `passphrase` (its raw bytes: nothing is
/// trimmed or normalised), within [`KdfLimits::DEFAULT`]. A wrong passphrase or any change
/// to the file is [`Error::Crypto`]; a file that is not sedit, or is cut short,
/// [`Error::Format`]; a v3 header asking for more work than the limits allow,
/// [`Error::LimitExceeded`], before any work.
///
/// ```
/// use strongroom::{Error, sedit};
/// let mut hostile = b"SEDIT\0\x03\0".to_vec();
/// hostile.extend_from_slice(&u32::MAX.to_be_bytes()); // 4 TiB of Argon2 memory
/// hostile.extend_from_slice(&[0; 76]);
/// assert!(matches!(sedit::decrypt(&hostile, b"pw"), Err(Error::LimitExceeded { .. })));
/// ```
pub fn decrypt(file: &[u8], passphrase: &[u8]) -> Result<LockedBuffer> {
    decrypt_with_limits(file, passphrase, &KdfLimits::DEFAULT)
}

/// [`decrypt`] under other limits on a v3 file's parameters.
///
/// ```
/// use strongroom::{kdf::{KdfLimits, KdfParams}, sedit};
/// let params = KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 };
/// let file = sedit::encrypt(b"x", b"pw", &params)?;
/// let tight = KdfLimits { max_memory_kib: 512, ..KdfLimits::DEFAULT };
/// assert!(sedit::decrypt_with_limits(&file, b"pw", &tight).is_err());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn decrypt_with_limits(file: &[u8], passphrase: &[u8], limits: &KdfLimits) -> Result<LockedBuffer> {
    limits.check(&parse(file)?.params)?; // before any allocation, as `decrypt_into` does before any work
    let mut plain = LockedBuffer::new(plaintext_len(file)?)?;
    decrypt_into(file, passphrase, limits, &mut plain.expose_mut()?)?;
    Ok(plain)
}

/// How long the plaintext of `file` is (it is one AEAD message: its length follows from the
/// file's); [`Error::Format`] for a file that is not sedit or too short to be one.
///
/// ```
/// use strongroom::{kdf::KdfParams, sedit};
/// let file = sedit::encrypt(b"twelve bytes", b"pw", &KdfParams { memory_kib: 8, iterations: 1, rounds: 1 })?;
/// assert_eq!(sedit::plaintext_len(&file)?, 12);
/// assert!(sedit::plaintext_len(b"SEDIT\0\x03\0").is_err());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn plaintext_len(file: &[u8]) -> Result<usize> {
    Ok(parse(file)?.sealed()?.1.len() - TAG_LEN)
}

/// [`decrypt_with_limits`] into `out`, which must be exactly [`plaintext_len`] bytes: for a
/// caller that keeps the plaintext in protected memory of its own (an editor's text), so
/// it is written once, where it stays. On any error `out` is left zeroed.
///
/// ```
/// use strongroom::{SecretVec, kdf::{KdfLimits, KdfParams}, sedit};
/// let file = sedit::encrypt(b"notes", b"pw", &KdfParams { memory_kib: 8, iterations: 1, rounds: 1 })?;
/// let mut text = SecretVec::new();
/// text.extend_from_slice(&[0; 5])?;
/// sedit::decrypt_into(&file, b"pw", &KdfLimits::DEFAULT, &mut text.expose_mut()?)?;
/// assert_eq!(&*text.expose()?, b"notes");
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn decrypt_into(file: &[u8], passphrase: &[u8], limits: &KdfLimits, out: &mut [u8]) -> Result<()> {
    let opened = open_into(file, passphrase, limits, out);
    if opened.is_err() {
        out.fill(0);
    }
    opened
}

fn open_into(file: &[u8], passphrase: &[u8], limits: &KdfLimits, out: &mut [u8]) -> Result<()> {
    let parsed = parse(file)?;
    // Before any work, and before the body's length: the header alone decides (its
    // parameters are not authenticated yet).
    limits.check(&parsed.params)?;
    let (nonce, sealed) = parsed.sealed()?;
    if out.len() != sealed.len() - TAG_LEN {
        return Err(Error::ApiMisuse("decrypt_into's output must be exactly plaintext_len bytes"));
    }
    let derived = kdf::derive_key_with_limits(passphrase, parsed.salt, &parsed.params, limits)?;
    let key = derived.key.expose()?;
    let key: &[u8; 32] = (&key[..]).try_into().map_err(|_| Error::Internal("a derived key is 32 bytes"))?;
    aead::open(key, nonce, parsed.aad, sealed, out)
}

/// A sedit file's header taken apart; nothing in it is authenticated yet.
struct Parsed<'a> {
    params: KdfParams,
    salt: &'a [u8],
    aad: &'a [u8],
    /// What follows the header: the nonce, then the ciphertext and its tag.
    rest: &'a [u8],
}

impl<'a> Parsed<'a> {
    /// The nonce, and the ciphertext with its tag.
    fn sealed(&self) -> Result<(&'a [u8; NONCE_LEN], &'a [u8])> {
        if self.rest.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::Format(FormatError::TooShort));
        }
        let (nonce, sealed) = self.rest.split_at(NONCE_LEN);
        let nonce = nonce.try_into().map_err(|_| Error::Internal("the nonce is 24 bytes"))?;
        Ok((nonce, sealed))
    }
}

/// Splits `file`'s header from the rest, checking only lengths and the magic.
fn parse(file: &[u8]) -> Result<Parsed<'_>> {
    if file.len() < 8 {
        return Err(Error::Format(FormatError::TooShort));
    }
    if !is_sedit(file) {
        return Err(Error::Format(FormatError::NotAStream));
    }
    let (params, salt, aad, rest) = match file[6] {
        1 => (LEGACY, &V1_SALT[..], &[][..], &file[8..]),
        2 => {
            let rest = file.get(8..).filter(|r| r.len() >= 16).ok_or(Error::Format(FormatError::TooShort))?;
            (LEGACY, &rest[..16], &[][..], &rest[16..])
        }
        3 => {
            let header = file.get(..V3_HEADER_LEN).ok_or(Error::Format(FormatError::TooShort))?;
            let word = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
            let rounds = u64::from_be_bytes(header[16..24].try_into().expect("8 bytes"));
            let params = KdfParams { memory_kib: word(8), iterations: word(12), rounds };
            (params, &header[24..40], header, &file[V3_HEADER_LEN..])
        }
        _ => return Err(Error::Format(FormatError::UnsupportedVersion)),
    };
    Ok(Parsed { params, salt, aad, rest })
}

/// Encrypts `plaintext` as a v3 file under `passphrase` with `params` (a fresh salt and
/// nonce); [`KdfParams::DEFAULT`] is what the original tool writes.
///
/// ```
/// use strongroom::{kdf::KdfParams, sedit};
/// let file = sedit::encrypt(b"", b"pw", &KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 })?;
/// assert_eq!(file.len(), 40 + 24 + 16);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn encrypt(plaintext: &[u8], passphrase: &[u8], params: &KdfParams) -> Result<Vec<u8>> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; NONCE_LEN];
    crate::sys::fill_random(&mut salt).map_err(Error::Random)?;
    crate::sys::fill_random(&mut nonce).map_err(Error::Random)?;
    let mut file = Vec::with_capacity(V3_HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN);
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&[3, 0]);
    file.extend_from_slice(&params.memory_kib.to_be_bytes());
    file.extend_from_slice(&params.iterations.to_be_bytes());
    file.extend_from_slice(&params.rounds.to_be_bytes());
    file.extend_from_slice(&salt);
    let derived = kdf::derive_key_combined(passphrase, &salt, params)?;
    file.extend_from_slice(&nonce);
    let start = file.len();
    file.resize(start + plaintext.len() + TAG_LEN, 0);
    let (header, body) = file.split_at_mut(start);
    let key = derived.key.expose()?;
    let key: &[u8; 32] = (&key[..]).try_into().map_err(|_| Error::Internal("a derived key is 32 bytes"))?;
    aead::seal(key, &nonce, &header[..V3_HEADER_LEN], plaintext, body)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/sedit");

    /// Every original-sedit vector decrypts to its plaintext, byte for byte.
    #[test]
    #[cfg_attr(miri, ignore = "Argon2 is too slow under Miri")]
    #[cfg_attr(
        all(not(miri), not(strongroom_shared_vectors)),
        ignore = "../shared (test vectors) is absent beside the repo root"
    )]
    fn the_original_tools_files() {
        let cases = [
            ("v1_constructed", "legacy-v1"),
            ("v2_basic", "correct horse battery staple"),
            ("v2_fixed_salt", "password"),
            ("v2_unicode", "pässwörd-🔑"),
            ("v2_empty_plaintext", "a"),
            ("v3_cheap_params", "pw"),
        ];
        for (name, passphrase) in cases {
            let file = std::fs::read(format!("{VECTORS}/{name}.sedit")).unwrap();
            let expected = std::fs::read(format!("{VECTORS}/{name}.plaintext")).unwrap();
            let plain = decrypt(&file, passphrase.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&*plain.expose().unwrap(), &expected[..], "{name}");
            if name.starts_with("v3") {
                assert!(matches!(decrypt(&file, b"not it"), Err(Error::Crypto)), "{name}: a wrong passphrase");
            }
        }
    }

    const CHEAP: KdfParams = KdfParams { memory_kib: 8, iterations: 1, rounds: 0 };

    /// Every truncation and every bit flip of a small v3 file is refused, with an error and
    /// no panic. (Tight limits keep the flips of the parameters' high bits cheap: within the
    /// default ones, a flipped memory bit can ask for 512 MiB of honest work.)
    #[test]
    #[cfg_attr(miri, ignore = "Argon2 is too slow under Miri")]
    fn every_truncation_and_bit_flip_is_refused() {
        let limits = KdfLimits { max_memory_kib: 64, max_iterations: 2, max_rounds: 8 };
        let open = |bytes: &[u8]| decrypt_with_limits(bytes, b"pw", &limits);
        let file = encrypt(b"short note", b"pw", &CHEAP).unwrap();
        assert_eq!(&*open(&file).unwrap().expose().unwrap(), b"short note");
        for len in 0..file.len() {
            assert!(open(&file[..len]).is_err(), "cut to {len}");
        }
        for bit in 0..file.len() * 8 {
            let mut bad = file.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(open(&bad).is_err(), "bit {bit}");
        }
    }

    /// Hostile v3 parameters are refused before any work, in well under a second.
    #[test]
    fn hostile_parameters_are_refused_at_once() {
        let file = encrypt(b"x", b"pw", &CHEAP).unwrap();
        let start = std::time::Instant::now();
        for (at, value) in [(8, u32::MAX as u64), (12, u32::MAX as u64), (16, 1 << 40)] {
            let mut hostile = file.clone();
            if at == 16 {
                hostile[16..24].copy_from_slice(&value.to_be_bytes());
            } else {
                hostile[at..at + 4].copy_from_slice(&(value as u32).to_be_bytes());
            }
            assert!(matches!(decrypt(&hostile, b"pw"), Err(Error::LimitExceeded { .. })), "field at {at}");
        }
        let mut zero_memory = file.clone();
        zero_memory[8..12].copy_from_slice(&0u32.to_be_bytes());
        assert!(matches!(decrypt(&zero_memory, b"pw"), Err(Error::BelowMinimum { .. })));
        assert!(start.elapsed() < std::time::Duration::from_millis(500), "{:?}", start.elapsed());
    }

    /// The header alone decides: hostile parameters are refused even when the body is too
    /// short to hold a nonce and a tag (the fuzzer's find, when the length check came first),
    /// by `decrypt`, `decrypt_into` and with the body intact.
    #[test]
    fn hostile_parameters_are_refused_before_the_body_is_looked_at() {
        let mut short = encrypt(b"x", b"pw", &CHEAP).unwrap();
        short[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        short.truncate(V3_HEADER_LEN + 3);
        assert!(matches!(decrypt(&short, b"pw"), Err(Error::LimitExceeded { .. })));
        let mut out = [0u8; 0];
        let refused = decrypt_into(&short, b"pw", &KdfLimits::DEFAULT, &mut out);
        assert!(matches!(refused, Err(Error::LimitExceeded { .. })), "{refused:?}");
        let mut v2 = b"SEDIT\0\x02\0".to_vec();
        v2.extend_from_slice(&[0; 16 + 3]);
        let tight = KdfLimits { max_memory_kib: 1024, ..KdfLimits::DEFAULT };
        assert!(matches!(decrypt_with_limits(&v2, b"pw", &tight), Err(Error::LimitExceeded { .. })));
    }
}
