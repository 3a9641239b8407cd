//! XChaCha20-Poly1305 (IETF construction: 24-byte nonce, 16-byte tag).

use crate::alloc::stack::{self, StackSize};
use crate::error::{Error, FormatError, Result};

/// Key length in bytes.
pub(crate) const KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub(crate) const NONCE_LEN: usize = 24;
/// Tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;
/// Longest message one call accepts (the cipher's counter allows 256 GiB; far below that,
/// every caller chunks its data).
pub(crate) const MAX_MESSAGE: usize = 1 << 36;

#[cfg(all(target_os = "linux", not(miri)))]
use super::aead_aws_lc as backend;
#[cfg(not(all(target_os = "linux", not(miri))))]
use super::aead_rust_crypto as backend;

/// Seals `plaintext` into `out` as `ciphertext ‖ tag`; `out` must be `plaintext.len() + 16`.
pub(crate) fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<()> {
    if plaintext.len() > MAX_MESSAGE || out.len() != plaintext.len() + TAG_LEN {
        return Err(Error::ApiMisuse("the output must be exactly the message length plus the tag"));
    }
    stack::run(StackSize::Small, || backend::seal(key, nonce, aad, plaintext, out))?
}

/// Opens `sealed` (`ciphertext ‖ tag`) into `out` (`sealed.len() - 16` bytes). A wrong key or
/// any change to nonce, AAD, ciphertext or tag is [`Error::Crypto`], and `out` is zeroed.
pub(crate) fn open(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
    out: &mut [u8],
) -> Result<()> {
    if sealed.len() < TAG_LEN || sealed.len() > MAX_MESSAGE + TAG_LEN {
        return Err(Error::Format(FormatError::TooShort));
    }
    if out.len() != sealed.len() - TAG_LEN {
        return Err(Error::ApiMisuse("the output must be exactly the sealed length minus the tag"));
    }
    let result = stack::run(StackSize::Small, || backend::open(key, nonce, aad, sealed, out))?;
    if result.is_err() {
        out.fill(0);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::aead_rust_crypto;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn round_trip_and_every_tampering_is_refused() {
        let key = [7u8; 32];
        let nonce = [9u8; 24];
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 1000] {
            let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut sealed = vec![0u8; len + TAG_LEN];
            seal(&key, &nonce, b"aad", &msg, &mut sealed).unwrap();
            let mut opened = vec![0u8; len];
            open(&key, &nonce, b"aad", &sealed, &mut opened).unwrap();
            assert_eq!(opened, msg);
            for bit in (0..sealed.len() * 8).step_by(if cfg!(miri) { 97 } else { 1 }) {
                sealed[bit / 8] ^= 1 << (bit % 8);
                let mut out = vec![0xAA; len];
                assert!(matches!(open(&key, &nonce, b"aad", &sealed, &mut out), Err(Error::Crypto)), "bit {bit}");
                assert!(out.iter().all(|&b| b == 0), "failed open left output behind");
                sealed[bit / 8] ^= 1 << (bit % 8);
            }
            let mut out = vec![0u8; len];
            assert!(open(&key, &nonce, b"aaD", &sealed, &mut out).is_err());
            assert!(open(&[8; 32], &nonce, b"aad", &sealed, &mut out).is_err());
        }
    }

    #[test]
    fn lengths_are_checked_before_the_call() {
        let mut out = [0u8; 10];
        assert!(matches!(seal(&[0; 32], &[0; 24], b"", b"abc", &mut out), Err(Error::Format(_))));
        assert!(matches!(open(&[0; 32], &[0; 24], b"", &[0; 15], &mut out), Err(Error::Format(_))));
        assert!(matches!(open(&[0; 32], &[0; 24], b"", &[0; 20], &mut out), Err(Error::Format(_))));
    }

    /// The platform backend and RustCrypto agree byte for byte, both ways.
    #[test]
    fn backends_agree() {
        let key = [0x42u8; 32];
        let nonce = [0x24u8; 24];
        for len in [0, 1, 64, 1000, 70_000] {
            if cfg!(miri) && len > 1000 {
                continue;
            }
            let msg: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let (mut a, mut b) = (vec![0u8; len + TAG_LEN], vec![0u8; len + TAG_LEN]);
            seal(&key, &nonce, b"x", &msg, &mut a).unwrap();
            aead_rust_crypto::seal(&key, &nonce, b"x", &msg, &mut b).unwrap();
            assert_eq!(a, b, "len {len}");
            let mut out = vec![0u8; len];
            aead_rust_crypto::open(&key, &nonce, b"x", &a, &mut out).unwrap();
            assert_eq!(out, msg);
        }
    }

    /// Project Wycheproof's XChaCha20-Poly1305 vectors, from `../shared/vectors` when present.
    #[test]
    #[cfg_attr(miri, ignore = "file I/O and 300 vectors: too slow under Miri")]
    fn wycheproof_xchacha20_poly1305() {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/wycheproof/xchacha20_poly1305_test.json");
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} is absent (the shared vectors live beside the repository)");
            return;
        };
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut checked = 0;
        for group in json["testGroups"].as_array().unwrap() {
            for t in group["tests"].as_array().unwrap() {
                let field = |k: &str| hex(t[k].as_str().unwrap());
                let (key, iv, aad, msg, ct, tag) =
                    (field("key"), field("iv"), field("aad"), field("msg"), field("ct"), field("tag"));
                let valid = t["result"] == "valid";
                let id = &t["tcId"];
                if key.len() != KEY_LEN || iv.len() != NONCE_LEN || tag.len() != TAG_LEN {
                    assert!(!valid, "test {id}: a valid vector with lengths we refuse");
                    continue;
                }
                let key: [u8; 32] = key.try_into().unwrap();
                let iv: [u8; 24] = iv.try_into().unwrap();
                let sealed = [ct.clone(), tag].concat();
                let mut out = vec![0u8; ct.len()];
                let opened = open(&key, &iv, &aad, &sealed, &mut out);
                assert_eq!(opened.is_ok(), valid, "test {id}: open");
                if valid {
                    assert_eq!(out, msg, "test {id}: plaintext");
                    let mut again = vec![0u8; msg.len() + TAG_LEN];
                    seal(&key, &iv, &aad, &msg, &mut again).unwrap();
                    assert_eq!(again, sealed, "test {id}: seal");
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} vectors checked");
    }
}
