//! Writing age files: a fresh file key wrapped for each recipient (X25519, post-quantum
//! hybrid, or one passphrase), the header and its MAC, and the payload, sealed chunk by
//! chunk from protected memory.

use std::io::{self, Write};

use base64ct::{Base64Unpadded, Encoding};

use super::bech32;
use super::header::{Header, Stanza};
use super::payload::{FILE_KEY_LEN, FileKey, header_mac, payload_key};
use super::recipients::{WRAPPED_LEN, hpke_key_schedule};
use crate::buffer::LockedBuffer;
use crate::crypto::mlkem_aws_lc::{X25519_LEN, x25519, x25519_public};
use crate::crypto::{chacha_ietf, hkdf_sha256, scrypt_aws_lc};
use crate::error::{Error, FormatError, Result};
use crate::kem::random_secret;
use crate::kem::x_wing;
use crate::secret::SecretBox;
use crate::stack::{self, StackSize};

/// Plaintext bytes per chunk.
const CHUNK: usize = 64 * 1024;

/// Someone a file is encrypted to.
pub(crate) enum Recipient {
    /// An X25519 public key (`age1…`).
    X25519([u8; X25519_LEN]),
    /// A post-quantum hybrid public key (`age1pq1…`): X-Wing.
    Hybrid(Box<x_wing::EncapsulationKey>),
    /// A passphrase (the only recipient of its file), and the work factor to write.
    Passphrase { passphrase: LockedBuffer, work_factor: u8 },
}

impl Recipient {
    /// Parses a recipient's text: `age1…` (X25519) or `age1pq1…` (post-quantum). Public data.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("age1pq1") {
            let mut key = vec![0u8; x_wing::ENCAPSULATION_KEY_LEN];
            bech32::decode_into(text.as_bytes(), "age1pq", &mut key)?;
            return Ok(Recipient::Hybrid(Box::new(x_wing::EncapsulationKey::from_bytes(&key)?)));
        }
        let mut key = [0u8; X25519_LEN];
        bech32::decode_into(text.as_bytes(), "age", &mut key)?;
        Ok(Recipient::X25519(key))
    }

    /// The stanza that gives `file_key` to this recipient.
    fn wrap(&self, file_key: &FileKey) -> Result<Stanza> {
        match self {
            Recipient::X25519(public) => {
                let ephemeral = random_secret::<X25519_LEN>()?;
                let (mut share, mut shared) = ([0u8; X25519_LEN], SecretBox::<[u8; X25519_LEN]>::new(|_| {})?);
                stack::run_on(StackSize::Crypto, || {
                    ephemeral.with(|e| {
                        x25519_public(e, &mut share);
                        shared.with_mut(|out| x25519(e, public, out))
                    })
                })???;
                if shared.with(|s| s.iter().fold(0u8, |acc, &b| acc | b) == 0)? {
                    return Err(Error::Format(FormatError::InvalidEncoding(
                        "an X25519 recipient is a low-order point",
                    )));
                }
                let salt = [share, *public].concat();
                let mut wrap_key = SecretBox::<[u8; 32]>::new(|_| {})?;
                shared.with(|ikm| {
                    wrap_key.with_mut(|out| hkdf_sha256::hkdf(ikm, &salt, b"age-encryption.org/v1/X25519", out))
                })???;
                let body = seal(&wrap_key, &[0; 12], file_key)?;
                Ok(Stanza { tag: "X25519".into(), args: vec![Base64Unpadded::encode_string(&share)], body })
            }
            Recipient::Hybrid(public) => {
                let (enc, shared) = public.encapsulate()?;
                let (key, nonce) = hpke_key_schedule(&shared)?;
                let body = seal(&key, &nonce, file_key)?;
                Ok(Stanza { tag: "mlkem768x25519".into(), args: vec![Base64Unpadded::encode_string(&enc)], body })
            }
            Recipient::Passphrase { passphrase, work_factor } => {
                let mut salt = [0u8; 16];
                crate::sys::fill_random(&mut salt).map_err(Error::Random)?;
                let full_salt = [&b"age-encryption.org/v1/scrypt"[..], &salt].concat();
                let mut wrap_key = SecretBox::<[u8; 32]>::new(|_| {})?;
                passphrase.with(|pass| {
                    wrap_key.with_mut(|out| scrypt_aws_lc::scrypt(pass, &full_salt, *work_factor, 8, 1, out))
                })???;
                let body = seal(&wrap_key, &[0; 12], file_key)?;
                let args = vec![Base64Unpadded::encode_string(&salt), work_factor.to_string()];
                Ok(Stanza { tag: "scrypt".into(), args, body })
            }
        }
    }
}

/// The file key sealed under `key` and `nonce`: a stanza body.
fn seal(key: &SecretBox<[u8; 32]>, nonce: &[u8; 12], file_key: &FileKey) -> Result<Vec<u8>> {
    let mut body = vec![0u8; WRAPPED_LEN];
    key.with(|k| file_key.with(|fk| chacha_ietf::seal(k, nonce, fk, &mut body)))???;
    Ok(body)
}

/// Encrypts everything written to it into `W` as an age file for `recipients`. Call
/// [`finish`](Self::finish): it seals the last chunk; a file not finished does not decrypt.
pub(crate) struct AgeWriter<W: Write> {
    key: SecretBox<[u8; 32]>,
    out: W,
    staged: LockedBuffer,
    filled: usize,
    sealed: Vec<u8>,
    index: u64,
}

impl<W: Write> AgeWriter<W> {
    /// Writes the header for `recipients` (at least one; a passphrase only alone) and the
    /// payload's nonce to `out`, and returns the writer of the plaintext.
    pub(crate) fn new(mut out: W, recipients: &[impl std::borrow::Borrow<Recipient>]) -> Result<Self> {
        let passphrases = recipients.iter().filter(|r| matches!(r.borrow(), Recipient::Passphrase { .. })).count();
        if recipients.is_empty() || (passphrases > 0 && recipients.len() > 1) {
            return Err(Error::ApiMisuse("an age file needs a recipient, and a passphrase must be its only one"));
        }
        let file_key: FileKey = random_secret::<FILE_KEY_LEN>()?;
        let stanzas = recipients.iter().map(|r| r.borrow().wrap(&file_key)).collect::<Result<Vec<_>>>()?;
        let covered = Header::encode_covered(&stanzas);
        let mac = header_mac(&file_key, &covered)?;
        let header = Header { stanzas, mac, covered };
        let mut nonce = [0u8; 16];
        crate::sys::fill_random(&mut nonce).map_err(Error::Random)?;
        let key = payload_key(&file_key, &nonce)?;
        out.write_all(&header.encode()).map_err(Error::Io)?;
        out.write_all(&nonce).map_err(Error::Io)?;
        let staged = LockedBuffer::new(CHUNK)?;
        Ok(AgeWriter { key, out, staged, filled: 0, sealed: vec![0u8; CHUNK + chacha_ietf::TAG_LEN], index: 0 })
    }

    fn seal_chunk(&mut self, last: bool) -> Result<()> {
        let mut nonce = [0u8; chacha_ietf::NONCE_LEN];
        nonce[3..11].copy_from_slice(&self.index.to_be_bytes());
        nonce[11] = u8::from(last);
        let sealed = &mut self.sealed[..self.filled + chacha_ietf::TAG_LEN];
        let staged = self.staged.expose()?;
        self.key.with(|key| chacha_ietf::seal(key, &nonce, &staged[..self.filled], sealed))??;
        drop(staged);
        self.out.write_all(sealed).map_err(Error::Io)?;
        self.staged.wipe()?;
        self.filled = 0;
        self.index += 1;
        Ok(())
    }

    /// Seals the last chunk, flushes, and returns the writer.
    pub(crate) fn finish(mut self) -> Result<W> {
        self.seal_chunk(true)?;
        self.out.flush().map_err(Error::Io)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for AgeWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // A full chunk is sealed only when more data comes: the last chunk must be the one
        // `finish` seals, and it may be empty only if the whole payload is.
        if self.filled == CHUNK {
            self.seal_chunk(false).map_err(into_io)?;
        }
        let n = data.len().min(CHUNK - self.filled);
        let mut staged = self.staged.expose_mut().map_err(into_io)?;
        staged[self.filled..self.filled + n].copy_from_slice(&data[..n]);
        self.filled += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn into_io(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        other => io::Error::other(other),
    }
}

#[cfg(test)]
mod tests;
