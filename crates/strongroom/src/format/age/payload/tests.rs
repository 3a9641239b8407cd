//! The header MAC and the payload against the age testkit, given each vector's file key.

use std::io::{BufReader, Read};

use sha2::{Digest, Sha256};

use super::*;
use crate::format::age::testkit::testkit;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn file_key(hex_key: &str) -> FileKey {
    SecretBox::copy_of(&hex(hex_key), |_| Error::Internal("testkit file keys are 16 bytes")).unwrap()
}

/// What decrypting a vector with its file key gives: the outcome the testkit names, and the
/// SHA-256 of every byte of plaintext released before it.
fn decrypt(file: &[u8], key: &FileKey) -> (&'static str, String) {
    let mut input = BufReader::new(file);
    let Ok(header) = Header::read(&mut input) else { return ("header failure", String::new()) };
    if verify_header_mac(key, &header).is_err() {
        return ("HMAC failure", String::new());
    }
    let mut reader = match PayloadReader::new(key, input) {
        Ok(reader) => reader,
        Err(Error::Format(FormatError::TooShort)) => return ("header failure", String::new()),
        Err(e) => panic!("{e}"),
    };
    let (mut hash, mut buf) = (Sha256::new(), [0u8; 10_000]);
    let outcome = loop {
        match reader.read(&mut buf) {
            Ok(0) => break "success",
            Ok(n) => hash.update(&buf[..n]),
            Err(e) => {
                assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{e}");
                break "payload failure";
            }
        }
    };
    (outcome, hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Every testkit vector that is not armored and whose outcome does not depend on a recipient
/// (success, payload failure, HMAC failure, and the `stream_` header failures of a missing
/// nonce): with its file key, the outcome is the testkit's, and the plaintext released before
/// it hashes to the testkit's `payload`.
#[test]
#[cfg_attr(not(strongroom_shared_vectors), ignore = "../shared (test vectors) is absent beside the repo root")]
fn the_age_testkit_payloads() {
    let mut checked = Vec::new();
    for v in testkit() {
        let expect = v.get("expect").unwrap();
        let stream_header = expect == "header failure" && v.name.starts_with("stream_");
        if v.get("armored") == Some("yes")
            || !(matches!(expect, "success" | "payload failure" | "HMAC failure") || stream_header)
        {
            continue;
        }
        let (outcome, hash) = decrypt(&v.file, &file_key(v.get("file key").unwrap()));
        assert_eq!(outcome, expect, "{}", v.name);
        if let Some(payload) = v.get("payload") {
            assert_eq!(hash, payload, "{}: the released plaintext differs", v.name);
        }
        checked.push(v.name);
    }
    eprintln!("age testkit payloads: {} vectors checked: {checked:?}", checked.len());
    assert!(checked.len() >= 29, "{checked:?}");
}

/// Memory stays at one chunk: the reader never holds more than a sealed chunk and a byte of
/// ciphertext, whatever the payload's length.
#[test]
#[cfg_attr(not(strongroom_shared_vectors), ignore = "../shared (test vectors) is absent beside the repo root")]
fn reads_ahead_one_chunk_and_a_byte() {
    let v = testkit().into_iter().find(|v| v.name == "stream_258_chunks").unwrap();
    let key = file_key(v.get("file key").unwrap());
    let mut input = BufReader::new(&v.file[..]);
    let header = Header::read(&mut input).unwrap();
    let offset = header.encode().len();
    struct Counting<'a>(&'a [u8], usize);
    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            self.1 += n;
            Ok(n)
        }
    }
    let mut counting = Counting(&v.file[offset..], 0);
    let mut reader = PayloadReader::new(&key, &mut counting).unwrap();
    reader.read_exact(&mut [0u8; 1]).unwrap();
    drop(reader);
    assert_eq!(counting.1, NONCE_LEN + CHUNK + TAG_LEN + 1);
}
