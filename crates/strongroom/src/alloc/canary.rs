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
            crate::sys::abort_with(&format!(
                "strongroom: cannot draw the canary from the OS RNG: {e}"
            ));
        }
        bytes
    })
}

/// Fills `dst` with the repeated pattern.
pub(crate) fn fill(dst: &mut [u8]) {
    let pattern = pattern();
    for chunk in dst.chunks_mut(CANARY_LEN) {
        chunk.copy_from_slice(&pattern[..chunk.len()]);
    }
}

/// Whether `src` still holds exactly what [`fill`] wrote.
pub(crate) fn intact(src: &[u8]) -> bool {
    let pattern = pattern();
    src.chunks(CANARY_LEN)
        .all(|chunk| chunk == &pattern[..chunk.len()])
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
