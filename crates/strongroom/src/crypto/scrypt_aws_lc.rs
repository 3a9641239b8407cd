//! scrypt (RFC 7914) from aws-lc (`EVP_PBE_scrypt`), for age's passphrase stanzas.
//!
//! Why aws-lc: scrypt's work memory (128 · r · N bytes: 256 MiB at age's default work factor)
//! holds values derived from the passphrase. aws-lc allocates it per call and wipes it when
//! it frees it (`OPENSSL_free` cleanses every allocation); the `scrypt` crate allocates it
//! with the global allocator and never wipes it.

use std::ffi::c_char;

use crate::error::{Error, Result};
use crate::stack::{self, StackSize};

/// scrypt(`passphrase`, `salt`, N = 2^`log_n`, r, p) into all of `out` (protected memory, by
/// the caller's contract), on a secure stack. On failure `out` is zeroed.
pub(crate) fn scrypt(passphrase: &[u8], salt: &[u8], log_n: u8, r: u32, p: u32, out: &mut [u8]) -> Result<()> {
    if log_n == 0 || log_n > 40 {
        return Err(Error::ApiMisuse("scrypt's log2 N is 1 to 40"));
    }
    let n = 1u64 << log_n;
    // The memory aws-lc needs: V (128 · r · N) and B (128 · r · p), with room to spare.
    let max_mem = 128u64
        .checked_mul(u64::from(r))
        .and_then(|v| v.checked_mul(n + u64::from(p) + 2))
        .and_then(|v| usize::try_from(v).ok())
        .ok_or(Error::ApiMisuse("scrypt parameters beyond this machine's address space"))?;
    let ok = stack::run_on(StackSize::Kdf, || {
        // SAFETY: every pointer is valid for the length passed with it (slices), `out` is a
        // `&mut` and so overlaps no input, and aws-lc keeps no pointer after the call.
        unsafe {
            aws_lc_sys::EVP_PBE_scrypt(
                passphrase.as_ptr().cast::<c_char>(),
                passphrase.len(),
                salt.as_ptr(),
                salt.len(),
                n,
                u64::from(r),
                u64::from(p),
                max_mem,
                out.as_mut_ptr(),
                out.len(),
            )
        }
    })?;
    if ok != 1 {
        zeroize::Zeroize::zeroize(out);
        return Err(Error::Internal("aws-lc's scrypt failed (out of memory?)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// RFC 7914 section 12, the first two vectors (the others take seconds to minutes).
    #[test]
    fn rfc_7914() {
        let mut out = [0u8; 64];
        scrypt(b"", b"", 4, 1, 1, &mut out).unwrap();
        assert_eq!(
            out.to_vec(),
            hex(
                "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
            )
        );
        scrypt(b"password", b"NaCl", 10, 8, 16, &mut out).unwrap();
        assert_eq!(
            out.to_vec(),
            hex(
                "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
            )
        );
    }
}
