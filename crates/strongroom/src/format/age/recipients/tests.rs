//! Opening the age testkit's files with their identities and passphrases, end to end.

use std::io::{BufReader, Read};

use sha2::{Digest, Sha256};

use super::*;
use crate::format::age::testkit::{Vector, testkit};

fn locked(text: &str) -> LockedBuffer {
    let mut buffer = LockedBuffer::new(text.len()).unwrap();
    buffer.copy_from(text.as_bytes()).unwrap();
    buffer
}

/// The identities a vector names, or `None` if it needs one this build does not read yet.
fn identities(v: &Vector) -> Option<Vec<Identity>> {
    let mut out = Vec::new();
    for (key, value) in v.keys() {
        match key {
            "identity" if value.starts_with("AGE-SECRET-KEY-1") => {
                out.push(Identity::X25519(X25519Identity::parse(&locked(value).expose().unwrap()).unwrap()));
            }
            "identity" if value.starts_with("AGE-SECRET-KEY-PQ-1") => {
                out.push(Identity::Hybrid(HybridIdentity::parse(&locked(value).expose().unwrap()).unwrap()));
            }
            "identity" => return None,
            "passphrase" => out.push(Identity::Passphrase(Passphrase::new(locked(value)))),
            _ => {}
        }
    }
    Some(out)
}

/// The testkit's name for how opening `file` ends, and the SHA-256 of what was released.
fn outcome(file: &[u8], identities: &[Identity]) -> (&'static str, String) {
    let mut reader = match crate::format::age::open(BufReader::new(file), identities) {
        Ok(reader) => reader,
        Err(Error::NoMatchingIdentity) => return ("no match", String::new()),
        Err(Error::Crypto) => return ("HMAC failure", String::new()),
        Err(Error::Format(FormatError::InvalidArmor(_))) => return ("armor failure", String::new()),
        Err(Error::Format(_) | Error::LimitExceeded { .. }) => return ("header failure", String::new()),
        Err(other) => panic!("{other:?}"),
    };
    let (mut hash, mut buf) = (Sha256::new(), vec![0u8; 70_000]);
    let end = loop {
        match reader.read(&mut buf) {
            Ok(0) => break "success",
            Ok(n) => hash.update(&buf[..n]),
            Err(e) => match Error::from_reader(e) {
                Error::Format(FormatError::InvalidArmor(_)) => break "armor failure",
                _ => break "payload failure",
            },
        }
    };
    (end, hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Every testkit vector, binary or armored, opened with the identities and passphrases it
/// names: the outcome is the testkit's, and what was released hashes to its `payload`.
#[test]
#[cfg_attr(not(strongroom_shared_vectors), ignore = "../shared (test vectors) is absent beside the repo root")]
fn the_age_testkit_end_to_end() {
    let (mut checked, mut skipped) = (0, Vec::new());
    for v in testkit() {
        let Some(identities) = identities(&v) else {
            skipped.push(v.name);
            continue;
        };
        let (end, hash) = outcome(&v.file, &identities);
        // Armor that does not start with its BEGIN line is not recognised as armor at all,
        // and fails as a file that is not age (the testkit allows aliasing such cases).
        let expect = match v.get("expect").unwrap() {
            "armor failure" if v.name == "armor_garbage_leading" => "header failure",
            other => other,
        };
        assert_eq!(end, expect, "{}", v.name);
        if let Some(payload) = v.get("payload") {
            assert_eq!(hash, payload, "{}: the released plaintext differs", v.name);
        }
        checked += 1;
    }
    eprintln!("age testkit end to end: {checked} checked; skipped: {skipped:?}");
    assert!(skipped.is_empty() && checked >= 115, "{checked} checked, skipped {skipped:?}");
}

/// A work factor above the cap is refused at once, with the figures, before any scrypt work.
#[test]
fn a_hostile_work_factor_is_refused_before_any_work() {
    let stanza =
        Stanza { tag: "scrypt".into(), args: vec!["AAAAAAAAAAAAAAAAAAAAAA".into(), "40".into()], body: vec![0; 32] };
    let start = std::time::Instant::now();
    let got = Passphrase::new(locked("pw")).unwrap(&stanza);
    assert!(matches!(got, Err(Error::LimitExceeded { what: Parameter::WorkFactor, requested: 40, limit: 22 })));
    assert!(start.elapsed() < std::time::Duration::from_millis(100));
    for bad in ["", "0", "018", "+18", "-1", "0x12", "18 ", "99999999999999999999999"] {
        assert!(parse_work_factor(bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_work_factor("18").unwrap(), 18);
}
