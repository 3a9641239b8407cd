//! ChaCha20-Poly1305 with a 12-byte nonce (RFC 8439), the AEAD of age's payload and key
//! wrapping, on a secure stack; a failed open zeroes its output. aws-lc's on Linux (as for
//! strongroom's own AEAD, XChaCha20-Poly1305: [`super::aead`]), RustCrypto's elsewhere; the
//! tests check the two against each other.

use chacha20poly1305::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};

use crate::error::{Error, Result};
use crate::stack::{self, StackSize};

/// Nonce length in bytes.
pub(crate) const NONCE_LEN: usize = 12;
/// Tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;

/// The platform's implementation: aws-lc on Linux, RustCrypto elsewhere (and under Miri).
#[cfg(all(target_os = "linux", not(miri)))]
use super::aead_aws_lc::{chacha_open as platform_open, chacha_seal as platform_seal};
#[cfg(not(all(target_os = "linux", not(miri))))]
use rust_crypto_open as platform_open;
#[cfg(not(all(target_os = "linux", not(miri))))]
use rust_crypto_seal as platform_seal;

/// The stack a call needs. RustCrypto's generic cipher code, instantiated here, runs tens of
/// KiB deep when unoptimised (as for the RustCrypto XChaCha backend); aws-lc's does not.
const RUST_CRYPTO_STACK: StackSize =
    if cfg!(all(debug_assertions, unix, not(miri))) { StackSize::Bytes(64 * 1024) } else { StackSize::Crypto };
const STACK: StackSize = if cfg!(all(target_os = "linux", not(miri))) { StackSize::Crypto } else { RUST_CRYPTO_STACK };

/// Seals `plaintext` into `out` (`plaintext.len() + 16` bytes: ciphertext ‖ tag), with no
/// associated data (age uses none).
#[cfg_attr(
    all(not(test), not(all(target_os = "linux", not(miri)))),
    expect(dead_code, reason = "the age writer, its one user, needs aws-lc (Linux)")
)]
pub(crate) fn seal(key: &[u8; 32], nonce: &[u8; NONCE_LEN], plaintext: &[u8], out: &mut [u8]) -> Result<()> {
    if out.len() != plaintext.len() + TAG_LEN {
        return Err(Error::ApiMisuse("a sealed message is its plaintext and a 16-byte tag"));
    }
    stack::run_on(STACK, || platform_seal(key, nonce, plaintext, out))?
}

/// Opens `sealed` (ciphertext ‖ tag) into `out` (`sealed.len() - 16` bytes). A tag that does
/// not verify is [`Error::Crypto`], and `out` is zeroed.
pub(crate) fn open(key: &[u8; 32], nonce: &[u8; NONCE_LEN], sealed: &[u8], out: &mut [u8]) -> Result<()> {
    if sealed.len() < TAG_LEN || out.len() != sealed.len() - TAG_LEN {
        return Err(Error::ApiMisuse("an opened message is the sealed one without its 16-byte tag"));
    }
    let opened = stack::run_on(STACK, || platform_open(key, nonce, sealed, out))?;
    if opened.is_err() {
        zeroize::Zeroize::zeroize(out);
    }
    opened
}

/// RustCrypto's seal (lengths checked by the caller, on a secure stack).
#[cfg_attr(
    all(target_os = "linux", not(miri), not(test)),
    expect(dead_code, reason = "the tests' second opinion on Linux")
)]
fn rust_crypto_seal(key: &[u8; 32], nonce: &[u8; NONCE_LEN], plaintext: &[u8], out: &mut [u8]) -> Result<()> {
    // The cipher keeps a copy of the key: on the secure stack, wiped with it (and by the
    // `zeroize` feature on drop).
    let cipher = ChaCha20Poly1305::new(key.into());
    let (body, tag_out) = out.split_at_mut(plaintext.len());
    let buffer = InOutBuf::new(plaintext, body).map_err(|_| Error::Internal("equal lengths were checked"))?;
    let tag = cipher
        .encrypt_inout_detached(<&Nonce>::from(nonce), b"", buffer)
        .map_err(|_| Error::Internal("RustCrypto refused a length below its limit"))?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// RustCrypto's open (lengths checked by the caller, on a secure stack).
#[cfg_attr(
    all(target_os = "linux", not(miri), not(test)),
    expect(dead_code, reason = "the tests' second opinion on Linux")
)]
fn rust_crypto_open(key: &[u8; 32], nonce: &[u8; NONCE_LEN], sealed: &[u8], out: &mut [u8]) -> Result<()> {
    let cipher = ChaCha20Poly1305::new(key.into());
    let (body, tag) = sealed.split_at(sealed.len() - TAG_LEN);
    let tag = <&Tag>::try_from(tag).map_err(|_| Error::Internal("the tag is 16 bytes"))?;
    let buffer = InOutBuf::new(body, out).map_err(|_| Error::Internal("equal lengths were checked"))?;
    cipher.decrypt_inout_detached(<&Nonce>::from(nonce), b"", buffer, tag).map_err(|_| Error::Crypto)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A round trip; every changed byte is refused, and a refused open leaves nothing behind.
    #[test]
    fn seals_opens_and_refuses_tampering() {
        let (key, nonce) = ([0x42; 32], [7; NONCE_LEN]);
        let mut sealed = [0u8; 40];
        assert!(matches!(seal(&key, &nonce, &[1; 24], &mut sealed[..39]), Err(Error::ApiMisuse(_))));
        seal(&key, &nonce, b"twenty four bytes of msg", &mut sealed).unwrap();
        let mut out = [0u8; 24];
        open(&key, &nonce, &sealed, &mut out).unwrap();
        assert_eq!(&out, b"twenty four bytes of msg");
        for i in 0..sealed.len() {
            let mut bad = sealed;
            bad[i] ^= 1;
            assert!(matches!(open(&key, &nonce, &bad, &mut out), Err(Error::Crypto)), "byte {i}");
            assert_eq!(out, [0; 24], "a failed open left output behind");
        }
    }

    /// The platform's implementation and RustCrypto's agree byte for byte, both ways, at
    /// lengths around the 64-byte block.
    #[test]
    fn the_platform_agrees_with_rust_crypto() {
        let (key, nonce) = ([0x24; 32], [9; NONCE_LEN]);
        for len in [0, 1, 63, 64, 65, 1000] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let (mut a, mut b) = (vec![0u8; len + TAG_LEN], vec![0u8; len + TAG_LEN]);
            seal(&key, &nonce, &plain, &mut a).unwrap();
            stack::run_on(RUST_CRYPTO_STACK, || rust_crypto_seal(&key, &nonce, &plain, &mut b)).unwrap().unwrap();
            assert_eq!(a, b, "len {len}");
            let mut out = vec![0u8; len];
            stack::run_on(RUST_CRYPTO_STACK, || rust_crypto_open(&key, &nonce, &a, &mut out)).unwrap().unwrap();
            assert_eq!(out, plain);
        }
    }

    /// RFC 8439 section 2.8.2: the ciphertext of the sunscreen message (its AAD is not used
    /// by age, so only the ciphertext, which does not depend on the AAD, is compared).
    #[test]
    fn rfc_8439_ciphertext() {
        let key: [u8; 32] = std::array::from_fn(|i| 0x80 + i as u8);
        let nonce = [0x07, 0, 0, 0, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47];
        let text = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let mut sealed = vec![0u8; text.len() + TAG_LEN];
        seal(&key, &nonce, text, &mut sealed).unwrap();
        assert_eq!(
            &sealed[..16],
            &[0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb, 0x7b, 0x86, 0xaf, 0xbc, 0x53, 0xef, 0x7e, 0xc2]
        );
    }
}
