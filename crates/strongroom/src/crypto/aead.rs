//! XChaCha20-Poly1305 (IETF construction: 24-byte nonce, 16-byte tag): the checked front
//! door every caller in strongroom uses, and the one trait its backends implement.
//!
//! The front door checks lengths, switches to the crypto stack, calls the platform's
//! backend, and zeroes the output of a failed open. A backend ([`Backend`]) gets a [`Call`]
//! whose lengths are already checked, and nothing else to decide.

use crate::error::{Error, FormatError, Result};
use crate::stack::{self, StackSize};

/// Key length in bytes.
pub(crate) const KEY_LEN: usize = 32;
/// Nonce length in bytes.
pub(crate) const NONCE_LEN: usize = 24;
/// Tag length in bytes.
pub(crate) const TAG_LEN: usize = 16;
/// Longest message one call accepts (the cipher's counter allows 256 GiB; far below that,
/// every caller chunks its data).
pub(crate) const MAX_MESSAGE: usize = 1 << 36;

/// One XChaCha20-Poly1305 call, its lengths checked by the front door: `out` is
/// `input.len() + TAG_LEN` bytes for a seal and `input.len() - TAG_LEN` for an open, and
/// (being a `&mut`) overlaps no input.
pub(crate) struct Call<'a> {
    pub(crate) key: &'a [u8; KEY_LEN],
    pub(crate) nonce: &'a [u8; NONCE_LEN],
    pub(crate) aad: &'a [u8],
    /// The plaintext (seal) or `ciphertext ‖ tag` (open).
    pub(crate) input: &'a [u8],
    /// `ciphertext ‖ tag` (seal) or the plaintext (open).
    pub(crate) out: &'a mut [u8],
}

/// An implementation of XChaCha20-Poly1305. Every backend is tested byte for byte against
/// the others and against Project Wycheproof (the tests below).
pub(crate) trait Backend {
    /// Seals `call.input` into `call.out` as `ciphertext ‖ tag`. A failure is the library's
    /// fault ([`Error::Internal`]): the lengths were checked.
    fn seal(call: Call<'_>) -> Result<()>;
    /// Opens `call.input` into `call.out`. A tag that does not verify is [`Error::Crypto`];
    /// the front door then zeroes `out`.
    fn open(call: Call<'_>) -> Result<()>;
    /// The secure stack a call needs: the crypto stack, sized for the platform's backend
    /// (see [`StackSize::Crypto`]).
    const STACK: StackSize = StackSize::Crypto;
}

/// The backend strongroom uses on this platform: aws-lc on Linux (measured fastest), RustCrypto
/// elsewhere and under Miri.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) type Platform = super::aead_aws_lc::AwsLc;
/// The backend strongroom uses on this platform: aws-lc on Linux (measured fastest), RustCrypto
/// elsewhere and under Miri.
#[cfg(not(all(target_os = "linux", not(miri))))]
pub(crate) type Platform = super::aead_rust_crypto::RustCrypto;

/// Seals `plaintext` into `out` as `ciphertext ‖ tag`; `out` must be `plaintext.len() + 16`
/// (else [`Error::ApiMisuse`]).
pub(crate) fn seal(
    key: &[u8; KEY_LEN],
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<()> {
    seal_with::<Platform>(Call { key, nonce, aad, input: plaintext, out })
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
    open_with::<Platform>(Call { key, nonce, aad, input: sealed, out })
}

fn seal_with<B: Backend>(call: Call<'_>) -> Result<()> {
    if call.input.len() > MAX_MESSAGE || call.out.len() != call.input.len() + TAG_LEN {
        return Err(Error::ApiMisuse("the output must be exactly the message length plus the tag"));
    }
    stack::run_on(B::STACK, || B::seal(call))?
}

fn open_with<B: Backend>(call: Call<'_>) -> Result<()> {
    if call.input.len() < TAG_LEN || call.input.len() > MAX_MESSAGE + TAG_LEN {
        return Err(Error::Format(FormatError::TooShort));
    }
    if call.out.len() != call.input.len() - TAG_LEN {
        return Err(Error::ApiMisuse("the output must be exactly the sealed length minus the tag"));
    }
    let Call { key, nonce, aad, input, out } = call;
    let result = stack::run_on(B::STACK, || B::open(Call { key, nonce, aad, input, out: &mut *out }))?;
    if result.is_err() {
        out.fill(0);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(matches!(seal(&[0; 32], &[0; 24], b"", b"abc", &mut out), Err(Error::ApiMisuse(_))));
        assert!(matches!(open(&[0; 32], &[0; 24], b"", &[0; 15], &mut out), Err(Error::Format(_))));
        assert!(matches!(open(&[0; 32], &[0; 24], b"", &[0; 20], &mut out), Err(Error::ApiMisuse(_))));
    }

    /// Every backend compiled here agrees with RustCrypto byte for byte, both ways, through
    /// the same front door (lengths, stack, zeroing) the library uses.
    #[test]
    fn backends_agree() {
        use crate::crypto::aead_rust_crypto::RustCrypto;
        let key = [0x42u8; 32];
        let nonce = [0x24u8; 24];
        for len in [0, 1, 64, 1000, 70_000] {
            if cfg!(miri) && len > 1000 {
                continue;
            }
            let msg: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let (mut a, mut b) = (vec![0u8; len + TAG_LEN], vec![0u8; len + TAG_LEN]);
            seal_with::<Platform>(Call { key: &key, nonce: &nonce, aad: b"x", input: &msg, out: &mut a }).unwrap();
            seal_with::<RustCrypto>(Call { key: &key, nonce: &nonce, aad: b"x", input: &msg, out: &mut b }).unwrap();
            assert_eq!(a, b, "len {len}");
            let mut out = vec![0u8; len];
            open_with::<RustCrypto>(Call { key: &key, nonce: &nonce, aad: b"x", input: &a, out: &mut out }).unwrap();
            assert_eq!(out, msg);
            out.fill(0);
            open_with::<Platform>(Call { key: &key, nonce: &nonce, aad: b"x", input: &b, out: &mut out }).unwrap();
            assert_eq!(out, msg);
            b[len] ^= 1;
            let mut out = vec![0xAA; len];
            let forged = Call { key: &key, nonce: &nonce, aad: b"x", input: &b, out: &mut out };
            assert!(matches!(open_with::<RustCrypto>(forged), Err(Error::Crypto)));
            assert!(out.iter().all(|&x| x == 0), "a failed open left output behind");
        }
    }

    /// The crypto stack is sized from this: both backends, sealing and opening, stay within
    /// half of it, a twofold margin (an overflow would hit the guard page, not memory).
    #[test]
    #[cfg(all(unix, not(miri)))]
    fn crypto_calls_fit_the_crypto_stack() {
        use crate::crypto::aead_rust_crypto::RustCrypto;
        let limit = |platform: bool| {
            crate::testing::stack_margin(if platform { Platform::STACK.bytes() } else { RustCrypto::STACK.bytes() })
        };
        let (key, nonce) = ([1u8; 32], [2u8; 24]);
        let msg = vec![3u8; 70_000];
        let mut sealed = vec![0u8; msg.len() + TAG_LEN];
        let mut plain = vec![0u8; msg.len()];
        let mut depths = Vec::new();
        for platform in [true, false] {
            let seal = Call { key: &key, nonce: &nonce, aad: b"aad", input: &msg, out: &mut sealed };
            if platform { seal_with::<Platform>(seal) } else { seal_with::<RustCrypto>(seal) }.unwrap();
            depths.push(crate::stack::last_depth());
            let open = Call { key: &key, nonce: &nonce, aad: b"aad", input: &sealed, out: &mut plain };
            if platform { open_with::<Platform>(open) } else { open_with::<RustCrypto>(open) }.unwrap();
            depths.push(crate::stack::last_depth());
        }
        eprintln!("crypto stack depths (platform seal/open, RustCrypto seal/open): {depths:?}");
        let limits = [limit(true), limit(true), limit(false), limit(false)];
        assert!(depths.iter().zip(limits).all(|(&d, l)| d > 0 && d <= l), "depths {depths:?} exceed {limits:?} bytes");
    }

    /// Project Wycheproof's XChaCha20-Poly1305 vectors, from `../shared/vectors`: ignored when
    /// `../shared` is absent (build.rs), failed when it is present but the file is not.
    #[test]
    #[cfg_attr(miri, ignore = "file I/O and 300 vectors: too slow under Miri")]
    #[cfg_attr(
        all(not(miri), not(strongroom_shared_vectors)),
        ignore = "../shared (test vectors) is absent beside the repo root"
    )]
    fn wycheproof_xchacha20_poly1305() {
        let path =
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/wycheproof/xchacha20_poly1305_test.json");
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{path}: {e} (../shared is present, so its vectors must be)"));
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
