//! The sequential SHA3-256 chain: `h1 = SHA3-256(input)`, `h(i+1) = SHA3-256(h(i))`.

use sha3::{Digest, Sha3_256};

/// Replaces `value` with `SHA3-256` applied `rounds` times (zero rounds leaves it as is).
/// Each round depends on the last, so the work cannot be spread across cores.
pub(crate) fn chain(value: &mut [u8; 32], rounds: u64) {
    for _ in 0..rounds {
        let mut hasher = Sha3_256::new();
        hasher.update(&value[..]);
        hasher.finalize_into(value.into());
    }
}

/// `SHA3-256(input)`: FIPS 203's `H`, for its decapsulation-key hash check.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn sha3_256(input: &[u8]) -> [u8; 32] {
    Sha3_256::digest(input).into()
}
