//! The hash that masks the process key in the Coffer: `key = left ⊕ H(right)`.
//!
//! It never leaves the process (the key is per process and never stored), so each platform
//! uses its fastest: SHA-256 from aws-lc on Linux (the CPU's SHA extensions: ~85 ns for
//! 32 bytes here, against ~450 ns for RustCrypto's portable SHA3-256, which was a third of
//! the time of `Enclave::with`), SHA3-256 from RustCrypto elsewhere and under Miri.

/// Replaces `value` with `H(value)`.
pub(crate) fn hash_in_place(value: &mut [u8; 32]) {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        let mut out = [0u8; 32];
        // SAFETY: `SHA256` reads exactly `len` = 32 bytes from `value` and writes exactly
        // SHA256_DIGEST_LENGTH = 32 bytes to `out`, both valid for those lengths for the whole
        // call; it keeps no pointer after returning.
        unsafe { aws_lc_sys::SHA256(value.as_ptr(), value.len(), out.as_mut_ptr()) };
        *value = out;
        // `out` sits on the secure stack our callers run on, wiped after the call.
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        super::sha3::chain(value, 1);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn it_is_a_fixed_hash_of_the_value() {
        let (mut a, mut b) = ([7u8; 32], [7u8; 32]);
        super::hash_in_place(&mut a);
        super::hash_in_place(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, [7u8; 32]);
        if cfg!(all(target_os = "linux", not(miri))) {
            let mut zero = [0u8; 32];
            super::hash_in_place(&mut zero);
            assert_eq!(zero[..4], [0x66, 0x68, 0x7a, 0xad], "SHA-256(0^32) starts 66687aad");
        }
    }
}
