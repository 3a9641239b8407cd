//! age's payload and header MAC, given the file key.
//!
//! ```text
//! header MAC  = HMAC-SHA256(HKDF-SHA256(file key, salt = "", info = "header"), header up to "---")
//! payload     = nonce (16 random bytes) ‖ chunk 0 ‖ chunk 1 ‖ …
//! payload key = HKDF-SHA256(file key, salt = nonce, info = "payload")
//! chunk i     = ChaCha20-Poly1305(payload key, be88(i) ‖ last, 64 KiB of plaintext) (the last: 0 to 64 KiB)
//! ```
//!
//! The file key, the derived keys and every chunk of plaintext live in protected memory; a
//! chunk is released only after it authenticates, and memory use is one chunk whatever the
//! payload's length.

use std::io::{self, Read};

use subtle::ConstantTimeEq;

use super::header::Header;
use crate::buffer::LockedBuffer;
use crate::crypto::{chacha_ietf, hkdf_sha256};
use crate::error::{Error, FormatError, Result};
use crate::secret::SecretBox;

/// Length of age's file key.
pub(crate) const FILE_KEY_LEN: usize = 16;
/// Plaintext bytes per chunk (all chunks but the last are full).
const CHUNK: usize = 64 * 1024;
/// Length of the payload's nonce, the salt of its key.
const NONCE_LEN: usize = 16;
const TAG_LEN: usize = chacha_ietf::TAG_LEN;

/// The 16-byte key an age file is encrypted under, in protected memory.
pub(crate) type FileKey = SecretBox<[u8; FILE_KEY_LEN]>;

/// A 32-byte key derived from the file key with HKDF-SHA256, straight into protected memory.
fn derive(file_key: &FileKey, salt: &[u8], info: &[u8]) -> Result<SecretBox<[u8; 32]>> {
    let mut key = SecretBox::<[u8; 32]>::new(|_| {})?;
    file_key.with(|ikm| key.with_mut(|out| hkdf_sha256::hkdf(ikm, salt, info, out)))???;
    Ok(key)
}

/// The MAC of a header whose covered bytes are `covered`, under `file_key`.
pub(crate) fn header_mac(file_key: &FileKey, covered: &[u8]) -> Result<[u8; 32]> {
    let mac_key = derive(file_key, b"", b"header")?;
    let mut mac = [0u8; 32];
    mac_key.with(|key| hkdf_sha256::hmac(key, covered, &mut mac))??;
    Ok(mac)
}

/// Checks the header's MAC under `file_key`: [`Error::Crypto`] if it does not match (a wrong
/// file key, or a header changed after it was written).
pub(crate) fn verify_header_mac(file_key: &FileKey, header: &Header) -> Result<()> {
    let mac = header_mac(file_key, &header.covered)?;
    if bool::from(mac.ct_eq(&header.mac)) { Ok(()) } else { Err(Error::Crypto) }
}

/// The payload's key, from the file key and the payload's nonce.
pub(crate) fn payload_key(file_key: &FileKey, nonce: &[u8; NONCE_LEN]) -> Result<SecretBox<[u8; 32]>> {
    derive(file_key, nonce, b"payload")
}

/// Decrypts an age payload read from `R` (the input right after the header); reads fail
/// with [`io::ErrorKind::InvalidData`] wrapping [`Error::Crypto`] or [`Error::Format`] as
/// soon as a chunk does not authenticate or the chunking is wrong.
///
/// As with [`crate::stream::Decryptor`], chunks are released as they authenticate: on an
/// error, discard everything read so far.
pub(crate) struct PayloadReader<R: Read> {
    key: SecretBox<[u8; 32]>,
    input: R,
    /// The next chunk's index (the first 11 bytes of its nonce).
    index: u64,
    /// Ciphertext read but not yet opened: at most a sealed chunk and one byte more.
    pending: Vec<u8>,
    eof: bool,
    plain: LockedBuffer,
    plain_len: usize,
    plain_pos: usize,
    done: bool,
    /// Input follows the last chunk: an error once the last chunk has been read.
    trailing: bool,
}

impl<R: Read> PayloadReader<R> {
    /// Reads the payload's nonce and derives its key; an input shorter than the nonce is
    /// [`FormatError::TooShort`].
    pub(crate) fn new(file_key: &FileKey, mut input: R) -> Result<Self> {
        let mut nonce = [0u8; NONCE_LEN];
        input.read_exact(&mut nonce).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => Error::Format(FormatError::TooShort),
            _ => Error::from_reader(e),
        })?;
        Ok(PayloadReader {
            key: payload_key(file_key, &nonce)?,
            input,
            index: 0,
            pending: Vec::with_capacity(CHUNK + TAG_LEN + 1),
            eof: false,
            plain: LockedBuffer::new(CHUNK)?,
            plain_len: 0,
            plain_pos: 0,
            done: false,
            trailing: false,
        })
    }

    /// Reads until `pending` holds more than one sealed chunk, or the input ends.
    fn fill(&mut self) -> io::Result<()> {
        let want = CHUNK + TAG_LEN + 1;
        let mut buf = [0u8; 8192];
        while !self.eof && self.pending.len() < want {
            let n = (want - self.pending.len()).min(buf.len());
            match self.input.read(&mut buf[..n]) {
                Ok(0) => self.eof = true,
                Ok(got) => self.pending.extend_from_slice(&buf[..got]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Opens the next chunk into the plaintext buffer.
    ///
    /// A short block can only be the last chunk. A full one is tried as a middle chunk, then
    /// as the last (which may be full): as age's reference reader does, so that what is
    /// released before an error matches it (the testkit checks this).
    fn open_chunk(&mut self) -> Result<()> {
        self.fill().map_err(Error::from_reader)?;
        let len = self.pending.len().min(CHUNK + TAG_LEN);
        if len < TAG_LEN {
            return Err(Error::Format(FormatError::Truncated));
        }
        let full = len == CHUNK + TAG_LEN;
        if !full && len == TAG_LEN && self.index > 0 {
            return Err(Error::Format(FormatError::EmptyLastChunk));
        }
        let plain_len = len - TAG_LEN;
        let mut plain = self.plain.expose_mut()?;
        let sealed = &self.pending[..len];
        let index = self.index;
        let open = |last: bool, out: &mut [u8]| {
            let mut nonce = [0u8; chacha_ietf::NONCE_LEN];
            nonce[3..11].copy_from_slice(&index.to_be_bytes()); // an 88-bit counter, big-endian
            nonce[11] = u8::from(last);
            self.key.with(|key| chacha_ietf::open(key, &nonce, sealed, out))?
        };
        let last = if full && open(false, &mut plain[..plain_len]).is_ok() {
            false
        } else {
            open(true, &mut plain[..plain_len])?;
            true
        };
        drop(plain);
        self.pending.drain(..len);
        self.plain_len = plain_len;
        self.plain_pos = 0;
        self.done = last;
        // Bytes after the last chunk: the chunk is authentic and is released; the next read
        // reports them.
        self.trailing = last && !self.pending.is_empty();
        self.index = self.index.checked_add(1).ok_or(Error::Format(FormatError::TooLong))?;
        Ok(())
    }
}

impl<R: Read> Read for PayloadReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.plain_pos == self.plain_len {
            if self.done {
                return if self.trailing { Err(into_io(Error::Format(FormatError::TrailingData))) } else { Ok(0) };
            }
            self.plain.wipe().map_err(into_io)?;
            self.open_chunk().map_err(into_io)?;
        }
        let n = out.len().min(self.plain_len - self.plain_pos);
        let plain = self.plain.expose().map_err(into_io)?;
        out[..n].copy_from_slice(&plain[self.plain_pos..self.plain_pos + n]);
        self.plain_pos += n;
        Ok(n)
    }
}

fn into_io(e: Error) -> io::Error {
    match e {
        Error::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}

#[cfg(test)]
mod tests;
