//! Files written here open with the reader: every recipient type, every size around the
//! chunk boundary, binary and armored; and only for the right identity.

use std::io::{Read, Write};

use super::*;
use crate::format::age::armor::ArmorWriter;
use crate::format::age::recipients::{HybridIdentity, Identity, Passphrase, X25519Identity};

fn locked(bytes: &[u8]) -> LockedBuffer {
    let mut buffer = LockedBuffer::new(bytes.len()).unwrap();
    buffer.copy_from(bytes).unwrap();
    buffer
}

/// A fresh X25519 identity and its recipient, through the identity's text as a user has it.
fn x25519_pair() -> (Identity, Recipient) {
    let secret = random_secret::<32>().unwrap();
    let mut text = vec![0u8; bech32::encoded_len("AGE-SECRET-KEY-", 32)];
    secret.with(|sk| bech32::encode_into("AGE-SECRET-KEY-", sk, true, &mut text)).unwrap().unwrap();
    let mut public = [0u8; 32];
    secret.with(|sk| x25519_public(sk, &mut public)).unwrap();
    let mut recipient_text = vec![0u8; bech32::encoded_len("age", 32)];
    bech32::encode_into("age", &public, false, &mut recipient_text).unwrap();
    let recipient = Recipient::parse(std::str::from_utf8(&recipient_text).unwrap()).unwrap();
    (Identity::X25519(X25519Identity::parse(&text).unwrap()), recipient)
}

fn hybrid_pair() -> (Identity, Recipient) {
    let key = x_wing::DecapsulationKey::generate().unwrap();
    let mut text = vec![0u8; bech32::encoded_len("AGE-SECRET-KEY-PQ-", 32)];
    bech32::encode_into("AGE-SECRET-KEY-PQ-", &*key.seed().unwrap(), true, &mut text).unwrap();
    let public = key.encapsulation_key().as_bytes();
    let mut recipient_text = vec![0u8; bech32::encoded_len("age1pq", public.len())];
    bech32::encode_into("age1pq", public, false, &mut recipient_text).unwrap();
    let recipient = Recipient::parse(std::str::from_utf8(&recipient_text).unwrap()).unwrap();
    (Identity::Hybrid(HybridIdentity::parse(&text).unwrap()), recipient)
}

fn passphrase_pair() -> (Identity, Recipient) {
    let identity = Identity::Passphrase(Passphrase::new(locked(b"correct horse")));
    (identity, Recipient::Passphrase { passphrase: locked(b"correct horse"), work_factor: 10 })
}

fn encrypt(recipients: &[Recipient], plain: &[u8], armored: bool) -> Vec<u8> {
    if armored {
        let mut writer = AgeWriter::new(ArmorWriter::new(Vec::new()), recipients).unwrap();
        writer.write_all(plain).unwrap();
        writer.finish().unwrap().finish().unwrap()
    } else {
        let mut writer = AgeWriter::new(Vec::new(), recipients).unwrap();
        for piece in plain.chunks(10_007) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }
}

fn decrypt(file: &[u8], identities: &[Identity]) -> Result<Vec<u8>> {
    let mut plain = Vec::new();
    crate::format::age::open(file, identities)?.read_to_end(&mut plain).map_err(Error::from_reader)?;
    Ok(plain)
}

#[test]
fn every_recipient_type_round_trips_at_every_chunk_boundary() {
    let pairs = [x25519_pair(), hybrid_pair(), passphrase_pair()];
    for (identity, recipient) in &pairs {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
            for armored in [false, true] {
                let file = encrypt(std::slice::from_ref(recipient), &plain, armored);
                let opened = decrypt(&file, std::slice::from_ref(identity)).unwrap();
                assert!(opened == plain, "len {len}, armored {armored}");
            }
        }
    }
}

#[test]
fn several_recipients_each_open_and_others_do_not() {
    let (alice, to_alice) = x25519_pair();
    let (bob, to_bob) = hybrid_pair();
    let (carol, _) = x25519_pair();
    let file = encrypt(&[to_alice, to_bob], b"for alice and bob", false);
    assert_eq!(decrypt(&file, &[alice]).unwrap(), b"for alice and bob");
    assert_eq!(decrypt(&file, &[bob]).unwrap(), b"for alice and bob");
    assert!(matches!(decrypt(&file, &[carol]), Err(Error::NoMatchingIdentity)));
    let (_, to_dave) = passphrase_pair();
    let (_, to_erin) = x25519_pair();
    assert!(matches!(AgeWriter::new(Vec::new(), &[to_dave, to_erin]), Err(Error::ApiMisuse(_))));
    assert!(matches!(AgeWriter::new(Vec::new(), &[] as &[Recipient]), Err(Error::ApiMisuse(_))));
}

#[test]
fn a_wrong_passphrase_does_not_match() {
    let (_, recipient) = passphrase_pair();
    let file = encrypt(&[recipient], b"secret", false);
    let wrong = Identity::Passphrase(Passphrase::new(locked(b"incorrect horse")));
    assert!(matches!(decrypt(&file, &[wrong]), Err(Error::NoMatchingIdentity)));
}

/// Every truncation and every bit flip of a small file, binary or armored, to an X25519
/// recipient or a passphrase, is refused (an error, never a panic, never the plaintext).
#[test]
fn every_truncation_and_bit_flip_is_refused() {
    // The passphrase's work factor is the lowest there is: the flips cost many derivations.
    let cheap_passphrase = (
        Identity::Passphrase(Passphrase::new(locked(b"pw"))),
        Recipient::Passphrase { passphrase: locked(b"pw"), work_factor: 1 },
    );
    for (identity, recipient) in [x25519_pair(), cheap_passphrase] {
        for armored in [false, true] {
            let file = encrypt(std::slice::from_ref(&recipient), b"a small secret", armored);
            let identities = std::slice::from_ref(&identity);
            assert_eq!(decrypt(&file, identities).unwrap(), b"a small secret");
            for len in 0..file.len() {
                // An armored file may lose its final newline and stay whole.
                let whole = armored && len == file.len() - 1;
                assert!(whole || decrypt(&file[..len], identities).is_err(), "cut to {len}, armored {armored}");
            }
            for bit in 0..file.len() * 8 {
                let mut bad = file.clone();
                bad[bit / 8] ^= 1 << (bit % 8);
                if let Ok(opened) = decrypt(&bad, identities) {
                    // Only armor's tolerated whitespace may change and still open: a flip
                    // in an outer newline turns it into another whitespace character.
                    assert!(armored && opened == b"a small secret", "bit {bit} flipped and opened: {opened:?}");
                }
            }
        }
    }
}
