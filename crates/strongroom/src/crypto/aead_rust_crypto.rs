//! XChaCha20-Poly1305 from RustCrypto: the backend off Linux and under Miri, and on Linux a
//! second, independent implementation the tests check aws-lc against.

use chacha20poly1305::aead::{AeadInOut, KeyInit, inout::InOutBuf};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};

use super::aead::{Backend, Call, TAG_LEN};
use crate::error::{Error, Result};
use crate::stack::StackSize;

/// XChaCha20-Poly1305 from RustCrypto's `chacha20poly1305`.
#[cfg_attr(all(target_os = "linux", not(miri)), allow(dead_code, reason = "the tests' second opinion on Linux"))]
pub(crate) struct RustCrypto;

/// The front door checked the lengths, so a length RustCrypto refuses is our bug.
#[cfg_attr(all(target_os = "linux", not(miri)), allow(dead_code, reason = "the tests' second opinion on Linux"))]
const LENGTHS: Error = Error::Internal("RustCrypto refused lengths the front door accepted");

impl Backend for RustCrypto {
    /// Where RustCrypto is the platform's AEAD the crypto stack is sized for it; on Linux,
    /// where only the tests cross-check it, an unoptimised build (generic code compiled at
    /// the caller's level: 21 KiB deep measured) gets a stack of its own.
    const STACK: StackSize = if cfg!(all(debug_assertions, target_os = "linux", not(miri))) {
        StackSize::Bytes(64 * 1024)
    } else {
        StackSize::Crypto
    };

    fn seal(call: Call<'_>) -> Result<()> {
        // The cipher keeps a copy of the key; the `zeroize` feature wipes it on drop, and it
        // sits on the secure stack besides.
        let cipher = XChaCha20Poly1305::new(call.key.into());
        let (body, tag_out) = call.out.split_at_mut(call.input.len());
        let buffer = InOutBuf::new(call.input, body).map_err(|_| LENGTHS)?;
        let tag = cipher.encrypt_inout_detached(<&XNonce>::from(call.nonce), call.aad, buffer).map_err(|_| LENGTHS)?;
        tag_out.copy_from_slice(&tag);
        Ok(())
    }

    fn open(call: Call<'_>) -> Result<()> {
        let cipher = XChaCha20Poly1305::new(call.key.into());
        let (body, tag) = call.input.split_at(call.input.len() - TAG_LEN);
        let tag = <&Tag>::try_from(tag).map_err(|_| LENGTHS)?;
        let buffer = InOutBuf::new(body, call.out).map_err(|_| LENGTHS)?;
        cipher.decrypt_inout_detached(<&XNonce>::from(call.nonce), call.aad, buffer, tag).map_err(|_| Error::Crypto)
    }
}
