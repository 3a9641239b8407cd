//! Streams through their public API: round trips at every boundary, and every way of
//! tampering with the ciphertext refused (every bit, every truncation, reordered, repeated
//! and dropped chunks, appended bytes, a wrong key, a hostile header).

use std::io::{Read, Write};

use strongroom::aead::Key;
use strongroom::stream::{Decryptor, Encryptor, HEADER_LEN};
use strongroom::{Error, LockedBuffer};

const SMALL: u8 = 6; // 64-byte chunks keep exhaustive tampering tests fast
const CHUNK: usize = 64;
const SEALED_CHUNK: usize = CHUNK + 16;

fn seal(key: &Key, data: &[u8], log2: u8) -> Vec<u8> {
    let mut enc = Encryptor::with_chunk_size(key, Vec::new(), log2).unwrap();
    // Odd-sized writes cross chunk boundaries at every offset.
    for piece in data.chunks(7) {
        enc.write_all(piece).unwrap();
    }
    enc.finish().unwrap()
}

fn open(key: &Key, sealed: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    let mut dec = Decryptor::new(key, sealed).map_err(std::io::Error::other)?;
    dec.read_to_end(&mut out)?;
    Ok(out)
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 7) as u8).collect()
}

#[test]
fn round_trips_at_every_chunk_boundary() {
    let key = Key::random().unwrap();
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5] {
        let sealed = seal(&key, &data(len), SMALL);
        let chunks = len.div_ceil(CHUNK).max(1); // the last chunk may be full, or empty
        assert_eq!(sealed.len(), HEADER_LEN + len + 16 * chunks, "len {len}");
        assert_eq!(open(&key, &sealed).unwrap(), data(len), "len {len}");
    }
    let big = data(300_000);
    assert_eq!(open(&key, &seal(&key, &big, 16)).unwrap(), big);
}

#[test]
fn every_bit_flip_and_every_truncation_is_refused() {
    let key = Key::random().unwrap();
    let sealed = seal(&key, &data(2 * CHUNK + 10), SMALL);
    for bit in 0..sealed.len() * 8 {
        let mut bad = sealed.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(open(&key, &bad).is_err(), "bit {bit} flipped and accepted");
    }
    for len in 0..sealed.len() {
        assert!(open(&key, &sealed[..len]).is_err(), "truncated to {len} bytes and accepted");
    }
}

#[test]
fn reordered_repeated_dropped_and_appended_chunks_are_refused() {
    let key = Key::random().unwrap();
    let sealed = seal(&key, &data(3 * CHUNK + 10), SMALL);
    let (header, body) = sealed.split_at(HEADER_LEN);
    let chunks: Vec<&[u8]> = body.chunks(SEALED_CHUNK).collect();
    assert_eq!(chunks.len(), 4);
    let join = |order: &[usize]| [header.to_vec(), order.iter().flat_map(|&i| chunks[i].to_vec()).collect()].concat();
    assert_eq!(open(&key, &join(&[0, 1, 2, 3])).unwrap(), data(3 * CHUNK + 10));
    for order in [&[1, 0, 2, 3][..], &[0, 0, 1, 2, 3], &[0, 2, 3], &[0, 1, 2], &[0, 1, 2, 3, 3]] {
        assert!(open(&key, &join(order)).is_err(), "chunk order {order:?} accepted");
    }
    let mut appended = sealed.clone();
    appended.push(0);
    assert!(open(&key, &appended).is_err(), "a byte after the last chunk was accepted");
}

#[test]
fn a_failed_chunk_releases_nothing_of_itself() {
    let key = Key::random().unwrap();
    let mut sealed = seal(&key, &data(2 * CHUNK), SMALL);
    let second_chunk = HEADER_LEN + SEALED_CHUNK + 3;
    sealed[second_chunk] ^= 1;
    let mut dec = Decryptor::new(&key, &sealed[..]).unwrap();
    let mut out = vec![0u8; 4 * CHUNK];
    let mut got = 0;
    let err = loop {
        match dec.read(&mut out[got..]) {
            Ok(0) => panic!("a tampered stream read to the end"),
            Ok(n) => got += n,
            Err(e) => break e,
        }
    };
    assert_eq!(got, CHUNK, "only the first, authentic chunk may be released");
    let inner = err.get_ref().and_then(|e| e.downcast_ref::<Error>());
    assert!(matches!(inner, Some(Error::Crypto)), "{err}");
}

#[test]
fn a_wrong_key_or_a_hostile_header_is_refused() {
    let key = Key::random().unwrap();
    let other = Key::random().unwrap();
    let sealed = seal(&key, b"secret", SMALL);
    assert!(open(&other, &sealed).is_err());
    // A header asking for 2^60-byte chunks must be refused, not allocated.
    let mut hostile = sealed.clone();
    hostile[9] = 60;
    assert!(matches!(Decryptor::new(&key, &hostile[..]), Err(Error::Format(_))));
    let mut future = sealed.clone();
    future[8] = 2;
    assert!(matches!(Decryptor::new(&key, &future[..]), Err(Error::Format(_))));
    // A stream key is an `aead::Key`: one of the wrong length is refused where it is made.
    let short_key = LockedBuffer::random(16).unwrap();
    assert!(matches!(Key::from_locked(&short_key), Err(Error::InvalidParameters(_))));
}

#[test]
fn an_unfinished_stream_does_not_decrypt() {
    let key = Key::random().unwrap();
    // Drop the encryptor without finishing: everything sealed so far is "not last".
    let partial = {
        let mut sink = Vec::new();
        let mut enc = Encryptor::with_chunk_size(&key, &mut sink, SMALL).unwrap();
        enc.write_all(&data(3 * CHUNK)).unwrap();
        drop(enc);
        sink
    };
    assert!(partial.len() > HEADER_LEN);
    assert!(open(&key, &partial).is_err());
}

// The wire format, pinned independently ---------------------------------------------------------

/// The stream format as its documentation describes it, built with RustCrypto's
/// XChaCha20-Poly1305 (not strongroom's backend): header = "SRSTREAM" ‖ 1 ‖ log2 ‖ 19-byte
/// prefix; chunk i sealed with nonce prefix ‖ be32(i) ‖ last and the header as associated data.
mod spec {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

    pub(crate) const PREFIX_LEN: usize = 19;

    pub(crate) fn header(log2: u8, prefix: &[u8; PREFIX_LEN]) -> Vec<u8> {
        [&b"SRSTREAM"[..], &[1, log2], prefix].concat()
    }

    fn nonce(prefix: &[u8], index: u32, last: bool) -> XNonce {
        let bytes = [prefix, &index.to_be_bytes(), &[u8::from(last)]].concat();
        XNonce::try_from(&bytes[..]).expect("24 bytes")
    }

    pub(crate) fn seal(key: &[u8; 32], log2: u8, prefix: &[u8; PREFIX_LEN], plain: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&Key::from(*key));
        let header = header(log2, prefix);
        let mut chunks: Vec<&[u8]> = plain.chunks(1 << log2).collect();
        if plain.len().is_multiple_of(1 << log2) {
            chunks.push(&[]); // the last chunk is never a full one: it may be empty
        }
        let mut out = header.clone();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut body = chunk.to_vec();
            let last = i + 1 == chunks.len();
            let tag = cipher
                .encrypt_inout_detached(&nonce(prefix, i as u32, last), &header, body.as_mut_slice().into())
                .expect("lengths within limits");
            out.extend_from_slice(&body);
            out.extend_from_slice(&tag);
        }
        out
    }

    /// Opens a stream whose chunks are `1 << log2` bytes; `None` if any chunk fails.
    pub(crate) fn open(key: &[u8; 32], stream: &[u8]) -> Option<Vec<u8>> {
        let cipher = XChaCha20Poly1305::new(&Key::from(*key));
        let (header, body) = stream.split_at(10 + PREFIX_LEN);
        let sealed_chunk = (1usize << header[9]) + 16;
        let chunks: Vec<&[u8]> = body.chunks(sealed_chunk).collect();
        let mut plain = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let last = i + 1 == chunks.len();
            let (text, tag) = chunk.split_at(chunk.len().checked_sub(16)?);
            let mut text = text.to_vec();
            let nonce = nonce(&header[10..], i as u32, last);
            cipher.decrypt_inout_detached(&nonce, header, text.as_mut_slice().into(), tag.try_into().ok()?).ok()?;
            plain.extend_from_slice(&text);
        }
        Some(plain)
    }
}

fn fixed_key() -> ([u8; 32], Key) {
    let bytes: [u8; 32] = std::array::from_fn(|i| i as u8 ^ 0xa5);
    (bytes, Key::from_bytes(&mut bytes.clone()).unwrap())
}

/// A known-answer test: streams built from the format's description (a fixed key and prefix)
/// decrypt, at every length around the chunk boundaries. A change to the header, the prefix
/// length or the nonce layout breaks it.
#[test]
fn decrypts_streams_built_from_the_format_description() {
    let (bytes, key) = fixed_key();
    let prefix: [u8; spec::PREFIX_LEN] = std::array::from_fn(|i| 0xc0 + i as u8);
    assert_eq!(HEADER_LEN, spec::header(SMALL, &prefix).len());
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5] {
        let stream = spec::seal(&bytes, SMALL, &prefix, &data(len));
        assert_eq!(open(&key, &stream).unwrap(), data(len), "len {len}");
    }
    // The same bytes under any other prefix in the header fail: the prefix is in every nonce.
    let mut stream = spec::seal(&bytes, SMALL, &prefix, &data(10));
    stream[HEADER_LEN - 1] ^= 1;
    assert!(open(&key, &stream).is_err());
}

/// The other direction: what the encryptor writes opens with the description's decryptor.
#[test]
fn encrypts_streams_the_format_description_opens() {
    let (bytes, key) = fixed_key();
    for len in [0, CHUNK, 3 * CHUNK + 5] {
        let stream = seal(&key, &data(len), SMALL);
        assert_eq!(&stream[..10], &[&b"SRSTREAM"[..], &[1, SMALL]].concat()[..]);
        assert_eq!(spec::open(&bytes, &stream), Some(data(len)), "len {len}");
    }
}

/// Every one of the 19 prefix bytes is random: were any fixed, streams under one key would
/// share nonces sooner. Over 64 streams a random byte repeats all 64 times with probability
/// 2^-504.
#[test]
fn every_prefix_byte_varies_between_streams() {
    let key = Key::random().unwrap();
    let headers: Vec<Vec<u8>> = (0..64).map(|_| seal(&key, b"", SMALL)[..HEADER_LEN].to_vec()).collect();
    let prefix = HEADER_LEN - spec::PREFIX_LEN..HEADER_LEN;
    for i in prefix {
        assert!(headers.iter().any(|h| h[i] != headers[0][i]), "prefix byte at offset {i} is the same in 64 streams");
    }
}

// The reader underneath -------------------------------------------------------------------------

/// A reader over `bytes` that hands out at most `step` bytes per call, is interrupted before
/// every read, and counts what it handed out.
struct Flaky<'a> {
    bytes: &'a [u8],
    step: usize,
    interrupt_next: bool,
    handed_out: usize,
}

impl Read for Flaky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.interrupt_next = !self.interrupt_next;
        if !self.interrupt_next {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.step).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.handed_out += n;
        Ok(n)
    }
}

#[test]
fn interrupted_reads_are_retried() {
    let key = Key::random().unwrap();
    let sealed = seal(&key, &data(5 * CHUNK + 3), SMALL);
    // Through `read` itself (`read_to_end` would hide an Interrupted error by retrying it).
    let mut flaky = Flaky { bytes: &sealed, step: 13, interrupt_next: false, handed_out: 0 };
    let mut dec = Decryptor::new(&key, &mut flaky).unwrap();
    let (mut out, mut buf) = (Vec::new(), [0u8; 50]);
    loop {
        match dec.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => panic!("an interruption reached the caller: {e}"),
        }
    }
    assert_eq!(out, data(5 * CHUNK + 3));
    // And through `read_to_end_secret`, which returns errors as they are.
    let mut flaky = Flaky { bytes: &sealed, step: 13, interrupt_next: false, handed_out: 0 };
    let mut secret = strongroom::SecretVec::new();
    Decryptor::new(&key, &mut flaky).unwrap().read_to_end_secret(&mut secret).unwrap();
    assert_eq!(&*secret.expose().unwrap(), &data(5 * CHUNK + 3)[..]);
}

/// A reader whose every read after the header fails: the error reaches the caller at once,
/// neither retried forever nor swallowed into a short stream.
#[test]
fn a_failing_reader_is_reported_not_retried() {
    struct Failing<'a> {
        header: &'a [u8],
        calls: usize,
    }
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if !self.header.is_empty() {
                return self.header.read(buf);
            }
            self.calls += 1;
            assert!(self.calls < 100, "the decryptor retried a failing reader {} times", self.calls);
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let key = Key::random().unwrap();
    let sealed = seal(&key, &data(10), SMALL);
    let mut failing = Failing { header: &sealed[..HEADER_LEN], calls: 0 };
    let mut dec = Decryptor::new(&key, &mut failing).unwrap();
    let err = dec.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!((err.kind(), err.to_string()), (std::io::ErrorKind::Other, "disk on fire".to_owned()));
    drop(dec);
    assert_eq!(failing.calls, 1);
}

/// Constant memory: before it releases the first byte, the decryptor has read exactly one
/// sealed chunk and one byte more (to know the chunk is not the last), however long the
/// stream, and then one chunk more per chunk released.
#[test]
fn reads_ahead_exactly_one_chunk_and_one_byte() {
    let key = Key::random().unwrap();
    for log2 in [SMALL, 14] {
        let chunk = 1usize << log2;
        let sealed = seal(&key, &data(6 * chunk), log2);
        let mut flaky = Flaky { bytes: &sealed, step: usize::MAX, interrupt_next: false, handed_out: 0 };
        let mut dec = Decryptor::new(&key, &mut flaky).unwrap();
        let mut first = vec![0u8; chunk];
        dec.read_exact(&mut first[..1]).unwrap();
        dec.read_exact(&mut first[1..]).unwrap();
        drop(dec);
        assert_eq!(flaky.handed_out, HEADER_LEN + chunk + 16 + 1, "2^{log2}-byte chunks");
        assert_eq!(first, data(chunk));
    }
}
