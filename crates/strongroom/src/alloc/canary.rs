//! The process-wide canary: 16 random bytes, repeated to fill the gap in front of secret
//! data. A write that strays into the gap changes them, and the check when the memory is
//! freed turns that into an abort instead of silent corruption.

use std::sync::OnceLock;

/// Length of one repetition of the pattern; also the minimum gap in front of data.
pub(crate) const CANARY_LEN: usize = 16;

fn pattern() -> &'static [u8; CANARY_LEN] {
    static PATTERN: OnceLock<[u8; CANARY_LEN]> = OnceLock::new();
    PATTERN.get_or_init(|| {
        let mut bytes = [0u8; CANARY_LEN];
        if let Err(e) = crate::sys::fill_random(&mut bytes) {
            crate::sys::abort_with(&format!("strongroom: cannot draw the canary from the OS RNG: {e}"));
        }
        bytes
    })
}

/// Fills `dst` with the repeated pattern.
pub(crate) fn fill(dst: &mut [u8]) {
    let pattern = pattern();
    let mut chunks = dst.chunks_exact_mut(CANARY_LEN);
    for chunk in &mut chunks {
        // Fixed-size chunks compile to single vector stores, not a memcpy call each.
        *<&mut [u8; CANARY_LEN]>::try_from(chunk).expect("exact chunk") = *pattern;
    }
    let tail = chunks.into_remainder();
    tail.copy_from_slice(&pattern[..tail.len()]);
}

/// Whether `src` still holds exactly what [`fill`] wrote.
pub(crate) fn intact(src: &[u8]) -> bool {
    let pattern = u128::from_ne_bytes(*pattern());
    let mut chunks = src.chunks_exact(CANARY_LEN);
    // Accumulate differences instead of returning early: one branch at the end, and the
    // loop vectorises instead of calling memcmp per chunk.
    let diff = (&mut chunks)
        .fold(0u128, |acc, chunk| acc | (u128::from_ne_bytes(chunk.try_into().expect("exact chunk")) ^ pattern));
    let tail = chunks.remainder();
    diff == 0 && tail == &pattern.to_ne_bytes()[..tail.len()]
}

/// Reports a canary breach and aborts: memory corruption is not a recoverable error.
pub(crate) fn breached(what: &str) -> ! {
    crate::sys::abort_with(&format!(
        "strongroom: canary breach {what}: a write strayed outside a secret's bounds \
         (buffer overflow or wild pointer); aborting to contain the memory corruption"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_any_single_changed_byte() {
        let mut gap = [0u8; 37];
        fill(&mut gap);
        assert!(intact(&gap));
        for i in 0..gap.len() {
            gap[i] ^= 1;
            assert!(!intact(&gap), "flip at {i} went unnoticed");
            gap[i] ^= 1;
        }
    }

    #[test]
    fn pattern_is_not_all_zero() {
        // A zero canary would not notice a stray zeroing write.
        let mut gap = [0u8; CANARY_LEN];
        fill(&mut gap);
        assert_ne!(gap, [0u8; CANARY_LEN]);
    }
}
