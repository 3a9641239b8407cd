//! age v1 files (the C2SP age format, as the `age` tool and typage write them): encrypt to
//! X25519 recipients (`age1…`), post-quantum hybrid ones (`age1pq1…`, ML-KEM-768 + X25519)
//! or a passphrase (scrypt), and decrypt with the matching identities; binary or ASCII
//! armored. Linux (the primitives are aws-lc's).
//!
//! Unlike the `age` crate, the file key, identities, passphrases and every chunk of
//! plaintext live in protected memory, and scrypt's work memory is wiped when freed.
//!
//! ```
//! use std::io::{Read, Write};
//! use strongroom::age::{Decryptor, Encryptor, Identity};
//!
//! let identity = Identity::generate_hybrid()?; // post-quantum
//! let mut encryptor = Encryptor::new(Vec::new(), &[identity.to_recipient()?])?;
//! encryptor.write_all(b"the plans")?;
//! let file = encryptor.finish()?;
//!
//! let mut plain = strongroom::SecretVec::new();
//! Decryptor::new(&file[..], &[identity])?.read_to_end_secret(&mut plain)?;
//! assert_eq!(&*plain.expose()?, b"the plans");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, BufRead, Read, Write};

use crate::buffer::LockedBuffer;
use crate::error::{Error, Result};
use crate::format::age::armor::ArmorWriter;
use crate::format::age::payload::PayloadReader;
use crate::format::age::recipients::{self, HybridIdentity, Passphrase, X25519Identity};
use crate::format::age::writer::{AgeWriter, Recipient as Wrapper};
use crate::format::age::{self as format, bech32};
use crate::secret::SecretVec;

/// Something that opens age files: an X25519 identity (`AGE-SECRET-KEY-1…`), a post-quantum
/// one (`AGE-SECRET-KEY-PQ-1…`), or a passphrase. Its secret lives in protected memory; it
/// cannot be cloned, and `Debug` shows only its kind.
pub struct Identity(recipients::Identity);

impl Identity {
    /// Parses one identity's text (`AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…`). The text
    /// is a secret: pass it from protected memory (a [`LockedBuffer`] a file was read into).
    ///
    /// ```
    /// use strongroom::age::Identity;
    /// let identity = Identity::generate_x25519()?;
    /// let text = identity.to_text()?;
    /// let again = Identity::parse(&text.expose()?)?;
    /// assert_eq!(again.to_recipient()?.to_string(), identity.to_recipient()?.to_string());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn parse(text: &[u8]) -> Result<Identity> {
        if text.len() > 19 && text[..19].eq_ignore_ascii_case(b"AGE-SECRET-KEY-PQ-1") {
            Ok(Identity(recipients::Identity::Hybrid(HybridIdentity::parse(text)?)))
        } else {
            Ok(Identity(recipients::Identity::X25519(X25519Identity::parse(text)?)))
        }
    }

    /// Every identity in the contents of an identity file (as `age-keygen` and
    /// `strongroom keygen` write them): one per line; blank lines and `#` comments skipped.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, age::Identity};
    /// let text = Identity::generate_x25519()?.to_text()?;
    /// let mut file = LockedBuffer::new(text.len() + 12)?;
    /// file.expose_mut()?[..12].copy_from_slice(b"# a comment\n");
    /// file.expose_mut()?[12..].copy_from_slice(&text.expose()?);
    /// assert_eq!(Identity::parse_file(&file.expose()?)?.len(), 1);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn parse_file(contents: &[u8]) -> Result<Vec<Identity>> {
        let lines = contents.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        lines.filter(|l| !l.is_empty() && !l.starts_with(b"#")).map(Identity::parse).collect()
    }

    /// A passphrase (protected memory already), for files encrypted with one; it spends at
    /// most work factor 22 (2^22 scrypt iterations, 4 GiB) on a file.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, age::Identity};
    /// let identity = Identity::passphrase(LockedBuffer::random(16)?);
    /// assert!(identity.to_recipient().is_err(), "a passphrase has no recipient to publish");
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn passphrase(passphrase: LockedBuffer) -> Identity {
        Identity(recipients::Identity::Passphrase(Passphrase::new(passphrase)))
    }

    /// A fresh X25519 identity.
    ///
    /// ```
    /// let identity = strongroom::age::Identity::generate_x25519()?;
    /// assert!(identity.to_recipient()?.to_string().starts_with("age1"));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn generate_x25519() -> Result<Identity> {
        let secret = crate::kem::random_secret::<32>()?;
        let mut text = LockedBuffer::new(bech32::encoded_len(recipients::IDENTITY_HRP, 32))?;
        secret.with(|sk| text.with_mut(|out| bech32::encode_into(recipients::IDENTITY_HRP, sk, true, out)))???;
        Identity::parse(&text.expose()?)
    }

    /// A fresh post-quantum hybrid identity (ML-KEM-768 + X25519, as X-Wing).
    ///
    /// ```
    /// let identity = strongroom::age::Identity::generate_hybrid()?;
    /// assert!(identity.to_recipient()?.to_string().starts_with("age1pq1"));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn generate_hybrid() -> Result<Identity> {
        Ok(Identity(recipients::Identity::Hybrid(HybridIdentity::generate()?)))
    }

    /// The identity's text (`AGE-SECRET-KEY-1…`, `AGE-SECRET-KEY-PQ-1…`), written into
    /// protected memory, for an identity file; [`Error::ApiMisuse`] for a passphrase.
    ///
    /// ```
    /// let text = strongroom::age::Identity::generate_x25519()?.to_text()?;
    /// assert!(text.expose()?.starts_with(b"AGE-SECRET-KEY-1"));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn to_text(&self) -> Result<LockedBuffer> {
        match &self.0 {
            recipients::Identity::X25519(identity) => identity.to_text(),
            recipients::Identity::Hybrid(identity) => identity.to_text(),
            recipients::Identity::Passphrase(_) => Err(Error::ApiMisuse("a passphrase has no identity text")),
        }
    }

    /// The recipient that files for this identity are encrypted to; [`Error::ApiMisuse`]
    /// for a passphrase (use [`Recipient::passphrase`]).
    ///
    /// ```
    /// let identity = strongroom::age::Identity::generate_x25519()?;
    /// println!("public key: {}", identity.to_recipient()?);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn to_recipient(&self) -> Result<Recipient> {
        match &self.0 {
            recipients::Identity::X25519(identity) => Ok(Recipient(Wrapper::X25519(identity.public()))),
            recipients::Identity::Hybrid(identity) => {
                Ok(Recipient(Wrapper::Hybrid(Box::new(identity.public().clone()))))
            }
            recipients::Identity::Passphrase(_) => Err(Error::ApiMisuse("a passphrase has no recipient to publish")),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            recipients::Identity::X25519(_) => "age::Identity(X25519, <redacted>)",
            recipients::Identity::Hybrid(_) => "age::Identity(mlkem768x25519, <redacted>)",
            recipients::Identity::Passphrase(_) => "age::Identity(passphrase, <redacted>)",
        })
    }
}

/// Someone a file is encrypted to: an X25519 public key (`age1…`), a post-quantum one
/// (`age1pq1…`), or a passphrase (which must then be the file's only recipient).
pub struct Recipient(Wrapper);

impl Recipient {
    /// Parses `age1…` or `age1pq1…`.
    ///
    /// ```
    /// use strongroom::age::{Identity, Recipient};
    /// let text = Identity::generate_x25519()?.to_recipient()?.to_string();
    /// assert_eq!(Recipient::parse(&text)?.to_string(), text);
    /// assert!(Recipient::parse("age1notarecipient").is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Recipient> {
        Ok(Recipient(Wrapper::parse(text)?))
    }

    /// A passphrase (protected memory already) and scrypt's work factor: `None` for age's
    /// default, 18 (2^18 iterations, 256 MiB, about a second); at most 22.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, age::Recipient};
    /// assert!(Recipient::passphrase(LockedBuffer::random(16)?, Some(30)).is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn passphrase(passphrase: LockedBuffer, work_factor: Option<u8>) -> Result<Recipient> {
        let work_factor = work_factor.unwrap_or(18);
        if !(1..=recipients::MAX_WORK_FACTOR).contains(&work_factor) {
            return Err(Error::ApiMisuse("an age work factor is 1 to 22"));
        }
        Ok(Recipient(Wrapper::Passphrase { passphrase, work_factor }))
    }
}

impl fmt::Display for Recipient {
    /// `age1…` or `age1pq1…`; `<passphrase>` for a passphrase.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hrp, key) = match &self.0 {
            Wrapper::X25519(key) => ("age", &key[..]),
            Wrapper::Hybrid(key) => ("age1pq", key.as_bytes()),
            Wrapper::Passphrase { .. } => return f.write_str("<passphrase>"),
        };
        let mut text = vec![0u8; bech32::encoded_len(hrp, key.len())];
        bech32::encode_into(hrp, key, false, &mut text).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "age::Recipient({self})")
    }
}

/// Decrypts an age file (binary or armored) read from `R`.
///
/// The header is checked when it is made; then chunks are released as they authenticate, so
/// on any error discard everything read so far, or use
/// [`read_to_end_secret`](Self::read_to_end_secret), which is all or nothing. What [`Read`]
/// copies into your buffers is yours to protect.
pub struct Decryptor<'a>(PayloadReader<Box<dyn BufRead + 'a>>);

impl<'a> Decryptor<'a> {
    /// Reads and checks the header with the first of `identities` that matches a recipient:
    /// [`Error::NoMatchingIdentity`] if none does, [`Error::Format`] for a malformed header,
    /// [`Error::Crypto`] if its MAC does not verify.
    ///
    /// ```
    /// use strongroom::{Error, age::{Decryptor, Identity}};
    /// let err = Decryptor::new(&b"not an age file"[..], &[Identity::generate_x25519()?]).unwrap_err();
    /// assert!(matches!(err, Error::Format(_)));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn new(input: impl Read + 'a, identities: &[Identity]) -> Result<Self> {
        let inner: Vec<&recipients::Identity> = identities.iter().map(|i| &i.0).collect();
        Ok(Decryptor(format::open(input, &inner)?))
    }

    /// Decrypts the rest of the file into `out` (protected memory); all or nothing: on any
    /// error `out` is truncated back (the appended bytes wiped) and the error returned as it
    /// is.
    ///
    /// ```
    /// use std::io::Write;
    /// use strongroom::{SecretVec, age::{Decryptor, Encryptor, Identity}};
    /// let identity = Identity::generate_x25519()?;
    /// let mut encryptor = Encryptor::new(Vec::new(), &[identity.to_recipient()?])?;
    /// encryptor.write_all(&[7; 100_000])?;
    /// let mut file = encryptor.finish()?;
    /// file.truncate(file.len() - 1);
    /// let mut plain = SecretVec::new();
    /// assert!(Decryptor::new(&file[..], &[identity])?.read_to_end_secret(&mut plain).is_err());
    /// assert!(plain.is_empty(), "the chunk that did authenticate was taken back");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_to_end_secret(&mut self, out: &mut SecretVec<u8>) -> Result<usize> {
        let before = out.len();
        let mut chunk = LockedBuffer::new(16 * 1024)?;
        let result = loop {
            let read = chunk.with_mut(|buf| self.0.read(buf))?;
            match read {
                Ok(0) => break Ok(out.len() - before),
                Ok(n) => {
                    if let Err(e) = chunk.with(|buf| out.extend_from_slice(&buf[..n]))? {
                        break Err(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(Error::from_reader(e)),
            }
        };
        if result.is_err() {
            out.truncate(before);
        }
        result
    }
}

impl fmt::Debug for Decryptor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("age::Decryptor")
    }
}

impl Read for Decryptor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Encrypts everything written to it into `W` as an age file. Call
/// [`finish`](Self::finish): a file not finished does not decrypt.
pub struct Encryptor<W: Write>(Sink<W>);

enum Sink<W: Write> {
    Binary(AgeWriter<W>),
    Armored(AgeWriter<ArmorWriter<W>>),
}

impl<W: Write> Encryptor<W> {
    /// A binary age file for `recipients` (at least one; a passphrase only alone, else
    /// [`Error::ApiMisuse`]); writes the header at once.
    ///
    /// ```
    /// use strongroom::age::{Encryptor, Identity};
    /// let to = [Identity::generate_x25519()?.to_recipient()?, Identity::generate_hybrid()?.to_recipient()?];
    /// let file = Encryptor::new(Vec::new(), &to)?.finish()?;
    /// assert!(file.starts_with(b"age-encryption.org/v1\n"));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn new(out: W, recipients: &[Recipient]) -> Result<Self> {
        let inner: Vec<&Wrapper> = recipients.iter().map(|r| &r.0).collect();
        Ok(Encryptor(Sink::Binary(AgeWriter::new(out, &inner)?)))
    }

    /// The same, ASCII armored (`-----BEGIN AGE ENCRYPTED FILE-----`).
    ///
    /// ```
    /// use strongroom::age::{Encryptor, Identity};
    /// let to = [Identity::generate_x25519()?.to_recipient()?];
    /// let file = Encryptor::armored(Vec::new(), &to)?.finish()?;
    /// assert!(file.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----\n"));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn armored(out: W, recipients: &[Recipient]) -> Result<Self> {
        let inner: Vec<&Wrapper> = recipients.iter().map(|r| &r.0).collect();
        Ok(Encryptor(Sink::Armored(AgeWriter::new(ArmorWriter::new(out), &inner)?)))
    }

    /// Seals the last chunk, ends the armor if any, flushes, and returns the writer.
    ///
    /// ```
    /// use std::io::Write;
    /// use strongroom::age::{Encryptor, Identity};
    /// let mut e = Encryptor::new(Vec::new(), &[Identity::generate_x25519()?.to_recipient()?])?;
    /// e.write_all(b"x")?;
    /// assert!(!e.finish()?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(self) -> Result<W> {
        match self.0 {
            Sink::Binary(writer) => writer.finish(),
            Sink::Armored(writer) => writer.finish()?.finish(),
        }
    }
}

impl<W: Write> fmt::Debug for Encryptor<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Sink::Binary(_) => "age::Encryptor(binary)",
            Sink::Armored(_) => "age::Encryptor(armored)",
        })
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Sink::Binary(writer) => writer.write(data),
            Sink::Armored(writer) => writer.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Sink::Binary(writer) => writer.flush(),
            Sink::Armored(writer) => writer.flush(),
        }
    }
}
