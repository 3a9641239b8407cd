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
