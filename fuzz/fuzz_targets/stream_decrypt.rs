//! strongroom's Stream format (`SRSTREAM`, chunked XChaCha20-Poly1305) through
//! `strongroom::stream::Decryptor` under a fixed key. Two modes, by the first byte's low bit:
//!
//! 0. the rest is a stream: never a panic; `read_to_end_secret` is all or nothing and agrees
//!    with `Read`, which releases only whole chunks before an error;
//! 1. a fuzz-chosen plaintext is encrypted with a fuzz-chosen chunk size (64 to 512 bytes, so
//!    that small inputs make many chunks), then mutated: it decrypts to the plaintext when
//!    unmutated, and fails whenever a byte changed, having released through `Read` only a
//!    prefix of the plaintext made of whole chunks.
#![no_main]

use std::io::{Read, Write};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongroom::aead::Key;
use strongroom::stream::{Decryptor, Encryptor, HEADER_LEN, MAX_CHUNK_LOG2, MIN_CHUNK_LOG2};
use strongroom_fuzz::{Input, Mutation, all_or_nothing};

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| Key::from_bytes(&mut [0x42; 32]).unwrap())
}

/// Decrypts `stream` both ways; the plaintext, or what `Read` released before the error.
fn decrypt(stream: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    let whole =
        Decryptor::new(key(), stream).and_then(|mut decryptor| all_or_nothing(|out| decryptor.read_to_end_secret(out)));
    let mut released = Vec::new();
    let streamed = match Decryptor::new(key(), stream) {
        Ok(mut decryptor) => decryptor.read_to_end(&mut released).map(|_| ()).map_err(|_| ()),
        Err(_) => Err(()),
    };
    match (whole, streamed) {
        (Ok(plain), Ok(())) => {
            assert_eq!(plain, released, "read_to_end_secret and Read disagree");
            Ok(plain)
        }
        (Err(_), Err(())) => {
            if !released.is_empty() {
                let log2 = stream[9];
                assert!((MIN_CHUNK_LOG2..=MAX_CHUNK_LOG2).contains(&log2));
                assert_eq!(released.len() % (1 << log2), 0, "part of a chunk was released before an error");
            }
            Err(released)
        }
        (whole, streamed) => panic!("read_to_end_secret gave {:?}, Read {streamed:?}", whole.map(|_| ())),
    }
}

fn structured(input: &mut Input) {
    let chunk_log2 = MIN_CHUNK_LOG2 + input.u8() % 4;
    let mutation = Mutation::from_bytes([input.u8(), input.u8(), input.u8(), input.u8()]);
    let plaintext = input.rest();
    let mut encryptor = Encryptor::with_chunk_size(key(), Vec::new(), chunk_log2).unwrap();
    encryptor.write_all(plaintext).unwrap();
    let mut stream = encryptor.finish().unwrap();
    assert_eq!(stream.len(), HEADER_LEN + plaintext.len() + (plaintext.len().max(1) - 1) / (1 << chunk_log2) * 16 + 16);
    let changed = mutation.apply(&mut stream);
    match decrypt(&stream) {
        Ok(plain) => {
            assert!(!changed, "a changed stream decrypted ({mutation:?})");
            assert_eq!(plain, plaintext);
        }
        Err(released) => {
            assert!(changed, "an unchanged stream did not decrypt");
            assert!(plaintext.starts_with(&released), "released bytes that are not the plaintext's");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 1 << 20 {
        return;
    }
    let mut input = Input::new(data);
    if input.u8() & 1 == 0 {
        let _ = decrypt(input.rest());
    } else {
        structured(&mut input)
    }
});
