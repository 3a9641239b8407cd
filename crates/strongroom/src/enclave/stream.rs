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
use crate::sys;

const MAGIC: &[u8; 8] = b"SRSTREAM";
const VERSION: u8 = 1;
const PREFIX_LEN: usize = NONCE_LEN - 5;
/// Length of the stream header.
pub const HEADER_LEN: usize = MAGIC.len() + 2 + PREFIX_LEN;

/// Default chunk size: 64 KiB of plaintext per chunk.
pub const DEFAULT_CHUNK_LOG2: u8 = 16;
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
    /// A stream with 64 KiB chunks; writes its header to `out` at once.
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
