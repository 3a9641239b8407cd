//! HKDF-SHA256 (RFC 5869) and HMAC-SHA256 (RFC 2104), from RustCrypto, on a secure stack:
//! age derives its payload and header keys with them and authenticates its header. The
//! output goes into the caller's (protected) memory.

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::stack::{self, StackSize};

/// Fills `out` (at most 255 × 32 bytes) with HKDF-SHA256(`ikm`, `salt`, `info`).
pub(crate) fn hkdf(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    stack::run_on(StackSize::Crypto, || {
        Hkdf::<Sha256>::new(Some(salt), ikm)
            .expand(info, out)
            .map_err(|_| Error::ApiMisuse("HKDF-SHA256 gives at most 8160 bytes"))
    })?
}

/// HKDF-Extract with SHA-256: the pseudorandom key of `salt` and the concatenation of
/// `ikm_parts`, into `prk`. (For HPKE, where age's post-quantum recipient needs it: Linux.)
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn extract(salt: &[u8], ikm_parts: &[&[u8]], prk: &mut [u8; 32]) -> Result<()> {
    stack::run_on(StackSize::Crypto, || {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(salt).map_err(|_| Error::Internal("HMAC takes any key"))?;
        for part in ikm_parts {
            mac.update(part);
        }
        prk.copy_from_slice(&mac.finalize().into_bytes());
        Ok(())
    })?
}

/// HKDF-Expand with SHA-256: `out` (at most 8160 bytes) from `prk` and the concatenation of
/// `info_parts`.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn expand(prk: &[u8; 32], info_parts: &[&[u8]], out: &mut [u8]) -> Result<()> {
    stack::run_on(StackSize::Crypto, || {
        let hkdf = Hkdf::<Sha256>::from_prk(prk).map_err(|_| Error::Internal("a 32-byte PRK is long enough"))?;
        hkdf.expand_multi_info(info_parts, out).map_err(|_| Error::ApiMisuse("HKDF-SHA256 gives at most 8160 bytes"))
    })?
}

/// HMAC-SHA256 of `message` under `key`, into `out`.
pub(crate) fn hmac(key: &[u8], message: &[u8], out: &mut [u8; 32]) -> Result<()> {
    stack::run_on(StackSize::Crypto, || {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|_| Error::Internal("HMAC takes any key"))?;
        mac.update(message);
        out.copy_from_slice(&mac.finalize().into_bytes());
        Ok(())
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 5869, test case 1.
    #[test]
    fn rfc_5869_case_1() {
        let mut okm = [0u8; 42];
        hkdf(&[0x0b; 22], &hex("000102030405060708090a0b0c"), &hex("f0f1f2f3f4f5f6f7f8f9"), &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
    }

    /// RFC 5869 test case 1 again, through extract and expand (with split inputs).
    #[test]
    #[cfg(all(target_os = "linux", not(miri)))]
    fn extract_then_expand_is_hkdf() {
        let (mut prk, mut okm) = ([0u8; 32], [0u8; 42]);
        extract(&hex("000102030405060708090a0b0c"), &[&[0x0b; 10], &[0x0b; 12]], &mut prk).unwrap();
        assert_eq!(prk.to_vec(), hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
        expand(&prk, &[&hex("f0f1f2f3f4"), &hex("f5f6f7f8f9")], &mut okm).unwrap();
        assert_eq!(
            okm.to_vec(),
            hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")
        );
    }

    /// RFC 4231, test case 2.
    #[test]
    fn rfc_4231_case_2() {
        let mut mac = [0u8; 32];
        hmac(b"Jefe", b"what do ya want for nothing?", &mut mac).unwrap();
        assert_eq!(mac.to_vec(), hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    }
}
