//! Chunked authenticated encryption for data of any size, in constant memory.
//!
//! The STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár) over XChaCha20-Poly1305:
//!
//! ```text
//! header  = "SRSTREAM" ‖ version (1) ‖ log2(chunk size) (1) ‖ nonce prefix (19, random)
//! chunk i = XChaCha20-Poly1305(key, nonce = prefix ‖ be32(i) ‖ last, aad = header, plaintext i)
//! ```
//!
//! Every chunk but the last holds exactly one chunk of plaintext; the last (flag 1) holds
//! the rest, possibly nothing. So a chunk moved, repeated or dropped fails its tag (its
//! index is in the nonce), a stream cut at a chunk boundary fails (its new last chunk was
//! sealed as not-last), and bytes appended after the last chunk fail too. Plaintext is only
//! ever staged in protected memory (a guarded buffer, wiped on drop); ciphertext buffers are
//! ordinary memory. Memory use is two chunks whatever the stream's length.

use std::io::{self, Read, Write};

use crate::aead::Key;
use crate::buffer::LockedBuffer;
use crate::crypto::aead::{self, NONCE_LEN, TAG_LEN};
use crate::error::{Error, FormatError, Result};
use crate::secret::SecretVec;
use crate::sys;

const MAGIC: &[u8; 8] = b"SRSTREAM";
const VERSION: u8 = 1;
const PREFIX_LEN: usize = NONCE_LEN - 5;
/// Length of the stream header.
pub const HEADER_LEN: usize = MAGIC.len() + 2 + PREFIX_LEN;

/// Default chunk size: 16 KiB of plaintext per chunk. Each direction stages one chunk of
/// plaintext in locked memory, so the chunk size is what a stream costs of
/// `RLIMIT_MEMLOCK` (64 KiB in many containers); larger chunks save little: the per-chunk
/// cost is one 16-byte tag and one AEAD call.
pub const DEFAULT_CHUNK_LOG2: u8 = 14;
/// Smallest chunk a stream may use: 64 bytes.
pub const MIN_CHUNK_LOG2: u8 = 6;
/// Largest chunk a stream may use (and so the most a reader ever buffers): 1 MiB.
pub const MAX_CHUNK_LOG2: u8 = 20;

/// What both directions share: the key, the header, and the chunk counter.
struct Chunker<'k> {
    key: &'k Key,
    header: [u8; HEADER_LEN],
    chunk: usize,
    index: u32,
}

impl<'k> Chunker<'k> {
    fn new(key: &'k Key, header: [u8; HEADER_LEN]) -> Result<Self> {
        let log2 = header[MAGIC.len() + 1];
        if !(MIN_CHUNK_LOG2..=MAX_CHUNK_LOG2).contains(&log2) {
            return Err(Error::Format(FormatError::ParameterOutOfRange));
        }
        Ok(Chunker { key, header, chunk: 1 << log2, index: 0 })
    }

    fn nonce(&self, last: bool) -> [u8; NONCE_LEN] {
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..PREFIX_LEN].copy_from_slice(&self.header[MAGIC.len() + 2..]);
        nonce[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&self.index.to_be_bytes());
        nonce[NONCE_LEN - 1] = u8::from(last);
        nonce
    }

    fn advance(&mut self) -> Result<()> {
        self.index = self.index.checked_add(1).ok_or(Error::Format(FormatError::TooLong))?;
        Ok(())
    }
}

/// Encrypts everything written to it into `W` as a stream.
///
/// Call [`finish`](Self::finish) at the end: it seals the last chunk. A stream dropped
/// without `finish` is incomplete, and decrypting it fails.
///
/// ```
/// use std::io::{Read, Write};
/// use strongroom::{aead::Key, stream::{Decryptor, Encryptor}};
///
/// let key = Key::random()?;
/// let mut enc = Encryptor::new(&key, Vec::new())?;
/// enc.write_all(b"a large document")?;
/// let sealed = enc.finish()?;
///
/// let mut plain = Vec::new();
/// Decryptor::new(&key, &sealed[..])?.read_to_end(&mut plain)?;
/// assert_eq!(plain, b"a large document");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encryptor<'k, W: Write> {
    chunker: Chunker<'k>,
    out: W,
    staged: LockedBuffer,
    filled: usize,
    sealed: Vec<u8>,
}

impl<'k, W: Write> Encryptor<'k, W> {
    /// A stream with 16 KiB chunks ([`DEFAULT_CHUNK_LOG2`]); writes its header to `out` at once.
    ///
    /// ```
    /// let key = strongroom::aead::Key::random()?;
    /// let enc = strongroom::stream::Encryptor::new(&key, Vec::new())?;
    /// assert_eq!(enc.finish()?.len(), strongroom::stream::HEADER_LEN + 16);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn new(key: &'k Key, out: W) -> Result<Self> {
        Self::with_chunk_size(key, out, DEFAULT_CHUNK_LOG2)
    }

    /// A stream whose chunks hold `2^chunk_log2` bytes of plaintext
    /// ([`MIN_CHUNK_LOG2`]`..=`[`MAX_CHUNK_LOG2`]).
    ///
    /// ```
    /// let key = strongroom::aead::Key::random()?;
    /// assert!(strongroom::stream::Encryptor::with_chunk_size(&key, Vec::new(), 30).is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with_chunk_size(key: &'k Key, mut out: W, chunk_log2: u8) -> Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        header[..MAGIC.len()].copy_from_slice(MAGIC);
        header[MAGIC.len()] = VERSION;
        header[MAGIC.len() + 1] = chunk_log2;
        sys::fill_random(&mut header[MAGIC.len() + 2..]).map_err(Error::Random)?;
        let chunker = Chunker::new(key, header)?;
        let staged = LockedBuffer::new(chunker.chunk)?;
        out.write_all(&header).map_err(Error::Io)?;
        Ok(Encryptor { sealed: vec![0u8; chunker.chunk + TAG_LEN], chunker, out, staged, filled: 0 })
    }

    /// Seals the staged bytes as the next chunk and writes it out.
    fn seal_chunk(&mut self, last: bool) -> Result<()> {
        let nonce = self.chunker.nonce(last);
        let sealed = &mut self.sealed[..self.filled + TAG_LEN];
        let staged = self.staged.expose()?;
        let header = &self.chunker.header;
        self.chunker.key.with(|key| aead::seal(key, &nonce, header, &staged[..self.filled], sealed))?;
        drop(staged);
        self.out.write_all(sealed).map_err(Error::Io)?;
        self.staged.wipe()?;
        self.filled = 0;
        self.chunker.advance()
    }

    /// Seals the last chunk and returns the writer.
    ///
    /// ```
    /// let key = strongroom::aead::Key::random()?;
    /// let mut enc = strongroom::stream::Encryptor::new(&key, Vec::new())?;
    /// std::io::Write::write_all(&mut enc, b"x")?;
    /// let out = enc.finish()?;
    /// assert_eq!(out.len(), strongroom::stream::HEADER_LEN + 1 + 16);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(mut self) -> Result<W> {
        self.seal_chunk(true)?;
        self.out.flush().map_err(Error::Io)?;
        Ok(self.out)
    }
}

impl<W: Write> Write for Encryptor<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // A full chunk is sealed only once more data arrives: the last chunk must be the one
        // `finish` seals, even when the length is a multiple of the chunk size.
        if self.filled == self.chunker.chunk {
            self.seal_chunk(false).map_err(into_io)?;
        }
        let n = data.len().min(self.chunker.chunk - self.filled);
        let mut staged = self.staged.expose_mut().map_err(into_io)?;
        staged[self.filled..self.filled + n].copy_from_slice(&data[..n]);
        self.filled += n;
        Ok(n)
    }

    /// Flushes the underlying writer; staged plaintext stays staged until its chunk is full.
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Decrypts a stream read from `R`; reads fail with [`io::ErrorKind::InvalidData`] (wrapping
/// [`Error::Crypto`] or [`Error::Format`]) as soon as a chunk does not authenticate, and
/// nothing from that chunk is released.
///
/// **Chunks are released as they authenticate.** A stream is checked chunk by chunk, so
/// through [`Read`] the plaintext of every chunk before a bad one has already been handed
/// out when the error comes (a truncated or tampered stream fails only at its end or at the
/// changed chunk). On any error, discard everything read from this decryptor; act on the
/// data only after a read returned `Ok(0)`.
///
/// **Plaintext in your buffer is yours to protect.** What [`Read`] copies into an ordinary
/// `Vec` or array is ordinary memory: it can be swapped, dumped, or left in the freed heap.
/// [`read_to_end_secret`](Self::read_to_end_secret) appends straight into a [`SecretVec`]
/// instead, and takes back what it appended if a later chunk fails.
///
/// ```
/// use std::io::Read;
/// let key = strongroom::aead::Key::random()?;
/// let mut truncated = strongroom::stream::Encryptor::new(&key, Vec::new())?.finish()?;
/// truncated.pop();
/// let mut out = Vec::new();
/// let err = strongroom::stream::Decryptor::new(&key, &truncated[..])?.read_to_end(&mut out).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
/// # Ok::<(), strongroom::Error>(())
/// ```
pub struct Decryptor<'k, R: Read> {
    chunker: Chunker<'k>,
    input: R,
    /// Ciphertext read but not yet opened (at most a chunk, its tag and one byte more).
    pending: Vec<u8>,
    eof: bool,
    plain: LockedBuffer,
    plain_len: usize,
    plain_pos: usize,
    done: bool,
}

impl<'k, R: Read> Decryptor<'k, R> {
    /// Reads and checks the header (magic, version, chunk size within limits).
    ///
    /// ```
    /// let key = strongroom::aead::Key::random()?;
    /// assert!(strongroom::stream::Decryptor::new(&key, &b"not a stream, just text"[..]).is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn new(key: &'k Key, mut input: R) -> Result<Self> {
        let mut header = [0u8; HEADER_LEN];
        input.read_exact(&mut header).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => Error::Format(FormatError::TooShort),
            _ => Error::Io(e),
        })?;
        if &header[..MAGIC.len()] != MAGIC {
            return Err(Error::Format(FormatError::NotAStream));
        }
        if header[MAGIC.len()] != VERSION {
            return Err(Error::Format(FormatError::UnsupportedVersion));
        }
        let chunker = Chunker::new(key, header)?;
        let plain = LockedBuffer::new(chunker.chunk)?;
        let pending = Vec::with_capacity(chunker.chunk + TAG_LEN + 1);
        Ok(Decryptor { chunker, input, pending, eof: false, plain, plain_len: 0, plain_pos: 0, done: false })
    }

    /// Reads until `pending` holds more than one sealed chunk, or the input ends.
    fn fill(&mut self) -> io::Result<()> {
        let want = self.chunker.chunk + TAG_LEN + 1;
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
    fn open_chunk(&mut self) -> Result<()> {
        self.fill().map_err(Error::Io)?;
        let sealed_chunk = self.chunker.chunk + TAG_LEN;
        // More than a whole chunk buffered means this one is not the last.
        let last = self.pending.len() <= sealed_chunk;
        let len = if last { self.pending.len() } else { sealed_chunk };
        if len < TAG_LEN {
            return Err(Error::Format(FormatError::Truncated));
        }
        let nonce = self.chunker.nonce(last);
        let plain_len = len - TAG_LEN;
        let mut plain = self.plain.expose_mut()?;
        let (header, sealed) = (&self.chunker.header, &self.pending[..len]);
        self.chunker.key.with(|key| aead::open(key, &nonce, header, sealed, &mut plain[..plain_len]))?;
        drop(plain);
        self.pending.drain(..len);
        self.plain_len = plain_len;
        self.plain_pos = 0;
        self.done = last;
        self.chunker.advance()
    }
}

impl<R: Read> Decryptor<'_, R> {
    /// Decrypts the rest of the stream, appending the plaintext to `out` (protected memory)
    /// and returning how many bytes it appended.
    ///
    /// All or nothing: if any chunk fails to authenticate (a tampered, truncated or extended
    /// stream, or the wrong key) or `out` cannot grow, `out` is truncated back to its length
    /// before the call, the appended bytes wiped, and the error is returned as it is
    /// ([`Error::Crypto`], [`Error::Format`], [`Error::Io`], ...), not wrapped in an
    /// `io::Error`.
    ///
    /// ```
    /// use std::io::Write;
    /// use strongroom::{Error, FormatError, SecretVec, aead::Key, stream::{Decryptor, Encryptor}};
    ///
    /// let key = Key::random()?;
    /// let mut enc = Encryptor::with_chunk_size(&key, Vec::new(), 6)?; // 64-byte chunks
    /// enc.write_all(&[7u8; 200])?;
    /// let sealed = enc.finish()?;
    ///
    /// let mut plain = SecretVec::new();
    /// assert_eq!(Decryptor::new(&key, &sealed[..])?.read_to_end_secret(&mut plain)?, 200);
    /// assert_eq!(&*plain.expose()?, &[7u8; 200][..]);
    ///
    /// // Cut off the last chunk: two chunks authenticate before the third fails; none is kept.
    /// let mut plain = SecretVec::new();
    /// let err = Decryptor::new(&key, &sealed[..sealed.len() - 24])?.read_to_end_secret(&mut plain);
    /// assert!(matches!(err, Err(Error::Crypto | Error::Format(FormatError::Truncated))));
    /// assert!(plain.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_to_end_secret(&mut self, out: &mut SecretVec<u8>) -> Result<usize> {
        let before = out.len();
        match self.append_rest(out) {
            Ok(()) => Ok(out.len() - before),
            Err(e) => {
                out.truncate(before); // wipes what this call appended
                Err(e)
            }
        }
    }

    fn append_rest(&mut self, out: &mut SecretVec<u8>) -> Result<()> {
        loop {
            if self.plain_pos < self.plain_len {
                let plain = self.plain.expose()?;
                out.extend_from_slice(&plain[self.plain_pos..self.plain_len])?;
                self.plain_pos = self.plain_len;
            }
            if self.done {
                return Ok(());
            }
            self.plain.wipe()?;
            self.open_chunk()?;
        }
    }
}

impl<R: Read> Read for Decryptor<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.plain_pos == self.plain_len {
            if self.done {
                return Ok(0);
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
mod tests {
    use super::*;

    const CHUNK: usize = 64;

    fn sealed(key: &Key, len: usize) -> Vec<u8> {
        let mut enc = Encryptor::with_chunk_size(key, Vec::new(), 6).unwrap();
        enc.write_all(&(0..len).map(|i| i as u8).collect::<Vec<u8>>()).unwrap();
        enc.finish().unwrap()
    }

    fn secret(bytes: &[u8]) -> SecretVec<u8> {
        let mut v = SecretVec::new();
        v.extend_from_slice(bytes).unwrap();
        v
    }

    #[test]
    fn read_to_end_secret_appends_after_what_is_there() {
        let key = Key::random().unwrap();
        for len in [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5] {
            let mut out = secret(b"kept");
            let appended = Decryptor::new(&key, &sealed(&key, len)[..]).unwrap().read_to_end_secret(&mut out).unwrap();
            assert_eq!(appended, len);
            let expected: Vec<u8> = b"kept".iter().copied().chain((0..len).map(|i| i as u8)).collect();
            assert_eq!(&*out.expose().unwrap(), &expected[..], "len {len}");
        }
    }

    #[test]
    fn read_to_end_secret_continues_after_read() {
        let key = Key::random().unwrap();
        let stream = sealed(&key, 2 * CHUNK + 3);
        let mut dec = Decryptor::new(&key, &stream[..]).unwrap();
        let mut first = [0u8; 10];
        dec.read_exact(&mut first).unwrap();
        let mut rest = SecretVec::new();
        assert_eq!(dec.read_to_end_secret(&mut rest).unwrap(), 2 * CHUNK + 3 - 10);
        assert_eq!(rest.expose().unwrap()[0], 10);
    }

    /// Every way a later chunk can fail (a flipped bit in the last chunk, a cut at the chunk
    /// boundary and inside the last chunk, a byte appended) leaves `out` as it was, although
    /// earlier chunks authenticated and were appended first.
    #[test]
    fn on_a_later_failure_out_is_truncated_back() {
        let key = Key::random().unwrap();
        let good = sealed(&key, 3 * CHUNK + 5);
        let last_chunk = HEADER_LEN + 3 * (CHUNK + TAG_LEN);
        let mut flipped = good.clone();
        flipped[last_chunk + 2] ^= 0x40;
        let mut appended = good.clone();
        appended.push(0);
        let cases = [
            ("flipped bit", flipped, Error::Crypto),
            ("cut at a chunk boundary", good[..last_chunk].to_vec(), Error::Crypto),
            ("cut inside the last chunk", good[..last_chunk + 3].to_vec(), Error::Format(FormatError::Truncated)),
            ("a byte appended", appended, Error::Crypto),
        ];
        for (what, bad, expected) in cases {
            let mut out = secret(b"before");
            let err = Decryptor::new(&key, &bad[..]).unwrap().read_to_end_secret(&mut out).unwrap_err();
            assert_eq!(err.to_string(), expected.to_string(), "{what}");
            assert_eq!(&*out.expose().unwrap(), b"before", "{what}: appended plaintext was kept");
        }
    }

    /// The control for the test above: through `Read`, the same bad stream does hand out the
    /// earlier chunks before it fails, which is why `read_to_end_secret` must take them back.
    #[test]
    fn through_read_earlier_chunks_are_released_before_the_error() {
        let key = Key::random().unwrap();
        let good = sealed(&key, 3 * CHUNK + 5);
        let cut = &good[..HEADER_LEN + 3 * (CHUNK + TAG_LEN)];
        let mut out = Vec::new();
        assert!(Decryptor::new(&key, cut).unwrap().read_to_end(&mut out).is_err());
        assert_eq!(out.len(), 2 * CHUNK, "the chunks before the last one were released");
    }
}
