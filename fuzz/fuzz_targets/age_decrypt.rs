//! age files, binary or armored, through `strongroom::age::Decryptor` with the age
//! testkit's X25519 and hybrid identities and its passphrase. Four modes, by the first
//! byte (modulo 4):
//!
//! 0. the rest is an age file: never a panic; whatever decrypts decrypts the same through
//!    `Read` and `read_to_end_secret`, which is all or nothing;
//! 1. the rest is a binary age file that the harness wraps in valid ASCII armor (fuzz-chosen
//!    line endings and surrounding whitespace): the armored file must decrypt exactly as
//!    the binary one does (the armor decoder is crate-private; this is how it is fuzzed);
//! 2. a fuzz-chosen plaintext is encrypted to the fixed recipients (or a passphrase with a
//!    low work factor), binary or armored, then mutated: decryption returns the plaintext
//!    when unmutated, and fails whenever a byte changed (for armor: a byte other than
//!    whitespace around or between the lines);
//! 3. the rest is an identity file, and a recipient: what parses is the canonical Bech32
//!    encoding of its key (up to case) and round-trips.
//!
//! The passphrase identity only sees inputs whose scrypt stanzas ask for a work factor of at
//! most 10: the library caps it at 22 (4 GiB, seconds of work), as age does, and the public
//! API has no lower limit.
#![no_main]

use std::io::{Read, Write};

use base64ct::{Base64, Encoding};
use libfuzzer_sys::fuzz_target;
use strongroom::Error;
use strongroom::age::{Decryptor, Encryptor, Identity, Recipient};
use strongroom_fuzz::{AGE_PASSPHRASE, Input, Mutation, age_identities, age_identities_for, all_or_nothing, locked};

/// Larger files are skipped: a few chunks say all there is to say.
const MAX_INPUT: usize = 1 << 20;

/// What decrypting `file` gives: the plaintext, or the error. Read both ways, which must
/// agree: `read_to_end_secret` (all or nothing: on an error, what was in its output before
/// stays and nothing else) and `Read` (chunks as they authenticate).
fn decrypt(file: &[u8]) -> Result<Vec<u8>, Error> {
    let identities = age_identities_for(file);
    let whole = Decryptor::new(file, identities)
        .and_then(|mut decryptor| all_or_nothing(|out| decryptor.read_to_end_secret(out)));
    let mut released = Vec::new();
    let streamed = Decryptor::new(file, identities).map(|mut decryptor| decryptor.read_to_end(&mut released));
    match (&whole, streamed) {
        (Ok(plain), Ok(Ok(_))) => assert_eq!(plain, &released, "read_to_end_secret and Read disagree"),
        (Err(_), Err(_) | Ok(Err(_))) => {}
        (whole, streamed) => panic!("read_to_end_secret gave {whole:?}, Read {streamed:?}"),
    }
    whole
}

/// Wraps `binary` in ASCII armor, with line endings and whitespace as `style` says.
fn armor(binary: &[u8], style: u8) -> Vec<u8> {
    let eol: &[u8] = if style & 1 == 0 { b"\n" } else { b"\r\n" };
    let mut out = Vec::new();
    for _ in 0..(style >> 1) % 3 {
        out.extend_from_slice(if style & 8 == 0 { b"\n" } else { b" \t\r\n" });
    }
    out.extend_from_slice(b"-----BEGIN AGE ENCRYPTED FILE-----");
    out.extend_from_slice(eol);
    for line in binary.chunks(48) {
        out.extend_from_slice(Base64::encode_string(line).as_bytes());
        out.extend_from_slice(eol);
    }
    out.extend_from_slice(b"-----END AGE ENCRYPTED FILE-----");
    match (style >> 4) % 4 {
        0 => {}
        1 => out.extend_from_slice(eol),
        2 => out.extend_from_slice(b"\n \t\n"),
        _ => out.extend_from_slice(b"\r"), // a `\r` alone ends the END line too
    }
    out
}

fn without_whitespace(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().copied().filter(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)).collect()
}

fn structured(input: &mut Input) {
    let flags = input.u8();
    let mutation = Mutation::from_bytes([input.u8(), input.u8(), input.u8(), input.u8()]);
    let repeat = usize::from(input.u8() % 8);
    let piece = input.rest();
    // Up to 8 extra copies of 16 KiB of the plaintext: files of several 64 KiB chunks.
    let mut plaintext = piece.to_vec();
    if !piece.is_empty() {
        while plaintext.len() < repeat * 16 * 1024 {
            plaintext.extend_from_slice(piece);
        }
    }
    let [x25519, hybrid] = age_identities() else { unreachable!() };
    let recipients = match (flags >> 1) % 4 {
        0 => vec![x25519.to_recipient().unwrap()],
        1 => vec![hybrid.to_recipient().unwrap()],
        2 => vec![hybrid.to_recipient().unwrap(), x25519.to_recipient().unwrap()],
        _ => vec![Recipient::passphrase(locked(AGE_PASSPHRASE), Some(1 + (flags >> 3) % 4)).unwrap()],
    };
    let armored = flags & 1 == 1;
    let mut encryptor = if armored {
        Encryptor::armored(Vec::new(), &recipients).unwrap()
    } else {
        Encryptor::new(Vec::new(), &recipients).unwrap()
    };
    encryptor.write_all(&plaintext).unwrap();
    let original = encryptor.finish().unwrap();
    let mut file = original.clone();
    let changed = mutation.apply(&mut file);
    match decrypt(&file) {
        Ok(plain) => {
            assert_eq!(plain, plaintext, "decrypted to something else ({mutation:?})");
            if changed {
                assert!(armored, "a changed binary file decrypted ({mutation:?})");
                assert_eq!(
                    without_whitespace(&file),
                    without_whitespace(&original),
                    "a changed armored file decrypted ({mutation:?})"
                );
            }
        }
        Err(e) => assert!(changed, "an unchanged file did not decrypt: {e:?}"),
    }
}

/// Identity files and recipients (Bech32, X25519 and X-Wing keys): what parses is the one
/// canonical encoding of its key up to case, and round-trips.
fn keys(text: &[u8]) {
    if let Ok(identities) = Identity::parse_file(text) {
        let lines = text.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let lines: Vec<&[u8]> = lines.filter(|l| !l.is_empty() && !l.starts_with(b"#")).collect();
        assert_eq!(lines.len(), identities.len());
        for (line, identity) in lines.iter().zip(&identities) {
            let text = identity.to_text().unwrap();
            assert_eq!(&*text.expose().unwrap(), &line.to_ascii_uppercase()[..], "a non-canonical identity parsed");
            let recipient = identity.to_recipient().unwrap().to_string();
            assert_eq!(Recipient::parse(&recipient).unwrap().to_string(), recipient);
        }
    }
    if let Ok(text) = std::str::from_utf8(text)
        && let Ok(recipient) = Recipient::parse(text)
    {
        let shown = recipient.to_string();
        assert_eq!(shown, text.to_ascii_lowercase(), "a non-canonical recipient parsed");
        assert_eq!(Recipient::parse(&shown).unwrap().to_string(), shown);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > MAX_INPUT {
        return;
    }
    let mut input = Input::new(data);
    match input.u8() % 4 {
        0 => {
            let _ = decrypt(input.rest());
        }
        1 => {
            let style = input.u8();
            let binary = input.rest();
            let text = binary.iter().position(|&b| !(b.is_ascii_whitespace() || b == 0x0b)).unwrap_or(binary.len());
            if binary[text..].starts_with(b"-----") {
                return; // read as armor already
            }
            let (plain, armored) = (decrypt(binary), decrypt(&armor(binary, style)));
            match (&plain, &armored) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "the armored file decrypted to something else"),
                (Err(_), Err(_)) => {}
                _ => panic!("binary: {plain:?}, armored: {armored:?}"),
            }
        }
        2 => structured(&mut input),
        _ => keys(input.rest()),
    }
});
