//! The header parser against the age testkit (`../shared/vectors/age-testkit`), round trips,
//! and hostile input.

use std::io::BufReader;

use super::*;
use crate::format::age::testkit::testkit;

fn parse(bytes: &[u8]) -> Result<Header> {
    Header::read(&mut BufReader::with_capacity(7, bytes)) // small reads cross every line boundary
}

/// Every vector that is not armored: a header the testkit expects to parse does, and
/// encodes back to exactly the bytes it came from (so the MAC covers the same bytes); one
/// whose failure is the header's syntax (the `stanza_`, `hmac_` and `version_` vectors, and
/// the empty file) is refused. A "header failure" of a recipient type's own rules (an X25519
/// share that is not 32 bytes, a scrypt work factor with a leading zero) is refused here when
/// the syntax already breaks (a body that is not canonical base64), else by the recipient.
#[test]
#[cfg_attr(not(strongroom_shared_vectors), ignore = "../shared (test vectors) is absent beside the repo root")]
fn the_age_testkit_headers() {
    let (mut parsed, mut refused, mut armored) = (0, 0, 0);
    let mut left_to_recipients = Vec::new();
    for v in testkit() {
        if v.get("armored") == Some("yes") {
            armored += 1; // the armor is not read yet
            continue;
        }
        let header_failure = v.get("expect") == Some("header failure");
        let syntax = ["stanza_", "hmac_", "version_", "empty"].iter().any(|p| v.name.starts_with(p));
        match parse(&v.file) {
            Ok(header) => {
                assert!(!(header_failure && syntax), "{}: a malformed header was accepted", v.name);
                let encoded = header.encode();
                assert_eq!(encoded, v.file[..encoded.len()], "{}: does not encode back", v.name);
                assert_eq!(Header::encode_covered(&header.stanzas), header.covered, "{}", v.name);
                if header_failure {
                    left_to_recipients.push(v.name);
                }
                parsed += 1;
            }
            Err(e) => {
                assert!(header_failure, "{}: refused ({e}) but expected {:?}", v.name, v.get("expect"));
                refused += 1;
            }
        }
    }
    eprintln!(
        "age testkit headers: {parsed} parsed and re-encoded, {refused} refused; {armored} armored skipped; \
         header failures left to the recipients and the nonce: {left_to_recipients:?}"
    );
    assert!(parsed >= 50 && refused >= 18, "{parsed} parsed, {refused} refused");
}

fn stanza(tag: &str, args: &[&str], body_len: usize) -> Stanza {
    Stanza {
        tag: tag.into(),
        args: args.iter().map(|&a| a.into()).collect(),
        body: (0..body_len).map(|i| i as u8).collect(),
    }
}

/// Bodies of every length around the 48-byte (64-column) line boundary round-trip, with the
/// empty final line exactly when the body fills whole lines.
#[test]
fn bodies_of_every_length_round_trip() {
    for len in [0, 1, 47, 48, 49, 95, 96, 97, 200] {
        let header = Header {
            stanzas: vec![stanza("X25519", &["abc"], len), stanza("grease-tag", &[], 3)],
            mac: [7; 32],
            covered: Vec::new(),
        };
        let encoded = header.encode();
        let parsed = parse(&encoded).unwrap_or_else(|e| panic!("body of {len}: {e}"));
        assert_eq!(parsed.stanzas, header.stanzas, "body of {len}");
        assert_eq!(parsed.encode(), encoded, "body of {len}");
        assert_eq!(parsed.covered, Header::encode_covered(&header.stanzas));
    }
}

/// Every truncation and every single-byte change of a valid header is either refused with an
/// error or parses to something that encodes back to the input: never a panic, never a
/// header that re-encodes differently (which would let two byte strings share a MAC).
#[test]
fn truncated_and_altered_headers_are_refused_or_canonical() {
    let header = Header {
        stanzas: vec![stanza("X25519", &["c2hhcmU"], 32), stanza("t", &["a", "b"], 48)],
        mac: [1; 32],
        covered: Vec::new(),
    };
    let encoded = header.encode();
    for cut in 0..encoded.len() {
        assert!(parse(&encoded[..cut]).is_err(), "cut to {cut} bytes and accepted");
    }
    for at in 0..encoded.len() {
        for value in [0u8, b'\r', b' ', b'\n', b'A', b'-', 0x80] {
            let mut altered = encoded.clone();
            altered[at] = value;
            if let Ok(parsed) = parse(&altered) {
                let again = parsed.encode();
                assert_eq!(again, altered[..again.len()], "byte {at} set to {value:#x} parsed to a different encoding");
            }
        }
    }
}

#[test]
fn hostile_headers_are_bounded() {
    let mut long_line = b"age-encryption.org/v1\n-> X25519 ".to_vec();
    long_line.extend(std::iter::repeat_n(b'A', 64 * 1024));
    long_line.push(b'\n');
    assert!(matches!(parse(&long_line), Err(Error::Format(FormatError::InvalidHeader(_)))));
    let mut many = b"age-encryption.org/v1\n".to_vec();
    for _ in 0..=MAX_STANZAS {
        many.extend_from_slice(b"-> a\n\n");
    }
    many.extend_from_slice(b"--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
    assert!(matches!(parse(&many), Err(Error::Format(FormatError::InvalidHeader(_)))));
    assert!(matches!(parse(b"age-encryption.org/v2\n"), Err(Error::Format(FormatError::UnsupportedVersion))));
    assert!(matches!(parse(b"not age at all\n"), Err(Error::Format(FormatError::NotAStream))));
    assert!(matches!(parse(b""), Err(Error::Format(FormatError::TooShort))));
}
