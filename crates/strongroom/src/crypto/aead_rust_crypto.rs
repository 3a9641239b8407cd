//! XChaCha20-Poly1305 from RustCrypto: the backend off Linux and under Miri, and on Linux a
//! second, independent implementation the tests check aws-lc against.

use chacha20poly1305::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};

use super::aead::{KEY_LEN, NONCE_LEN};
use crate::error::{Error, Result};

#[cfg_attr(all(target_os = "linux", not(miri)), allow(dead_code, reason = "used by the tests on Linux"))]
pub(super) fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<()> {
    // The cipher keeps a copy of the key; the `zeroize` feature wipes it on drop, and it sits
    // on the secure stack besides.
    let cipher = XChaCha20Poly1305::new(key.into());
    let (body, tag_out) = out.split_at_mut(plaintext.len());
    let buffer = InOutBuf::new(plaintext, body).map_err(|_| Error::Crypto)?;
    let tag = cipher.encrypt_inout_detached(<&XNonce>::from(nonce), aad, buffer).map_err(|_| Error::Crypto)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

#[cfg_attr(all(target_os = "linux", not(miri)), allow(dead_code, reason = "used by the tests on Linux"))]
pub(super) fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let (body, tag) = sealed.split_at(out.len());
    let buffer = InOutBuf::new(body, out).map_err(|_| Error::Crypto)?;
    cipher
        .decrypt_inout_detached(<&XNonce>::from(nonce), aad, buffer, <&Tag>::try_from(tag).map_err(|_| Error::Crypto)?)
        .map_err(|_| Error::Crypto)
}
