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
#[inline]
pub(crate) fn fill(dst: &mut [u8]) {
    let pattern = pattern();
    let mut chunks = dst.chunks_exact_mut(CANARY_LEN);
    for chunk in &mut chunks {
        // Fixed-size chunks compile to single vector stores, not a memcpy call each.
        *<&mut [u8; CANARY_LEN]>::try_from(chunk).expect("exact chunk") = *pattern;
    }
    // A byte loop for the short tail: cheaper than a memcpy call, and nothing when empty.
    for (d, p) in chunks.into_remainder().iter_mut().zip(pattern) {
        *d = *p;
    }
}

/// Whether `src` still holds exactly what [`fill`] wrote.
#[inline]
pub(crate) fn intact(src: &[u8]) -> bool {
    let pattern = pattern();
    let whole = u128::from_ne_bytes(*pattern);
    let mut chunks = src.chunks_exact(CANARY_LEN);
    // Accumulate differences instead of returning early: one branch at the end, and the
    // loop vectorises instead of calling memcmp per chunk.
    let diff = (&mut chunks)
        .fold(0u128, |acc, chunk| acc | (u128::from_ne_bytes(chunk.try_into().expect("exact chunk")) ^ whole));
    let tail = chunks.remainder().iter().zip(pattern).fold(0u8, |acc, (s, p)| acc | (s ^ p));
    diff == 0 && tail == 0
}

/// Whether every byte of `src` is zero; vectorises (no early exit).
#[inline]
pub(crate) fn is_zero(src: &[u8]) -> bool {
    let mut chunks = src.chunks_exact(16);
    let words = (&mut chunks).fold(0u128, |acc, c| acc | u128::from_ne_bytes(c.try_into().expect("exact chunk")));
    let tail = chunks.remainder().iter().fold(0u8, |acc, &b| acc | b);
    words == 0 && tail == 0
}

/// What to run before aborting on a breach: the purge registry sets it (it lives above this
/// layer), so a breach wipes every live secret first.
static BEFORE_ABORT: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets what a breach runs before aborting; only the first call counts. The function must
/// take no lock and free no memory: it may run on a thread that holds the allocator's locks.
pub(crate) fn on_breach(purge: fn()) {
    let _ = BEFORE_ABORT.set(purge);
}

/// Reports a canary breach and aborts: memory corruption is not a recoverable error.
pub(crate) fn breached(what: &str) -> ! {
    // Wipe what can be wiped first: the process is no longer trustworthy.
    if let Some(purge) = BEFORE_ABORT.get() {
        purge();
    }
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
    fn is_zero_sees_any_set_bit() {
        let mut bytes = [0u8; 45];
        assert!(is_zero(&bytes) && is_zero(&[]));
        for i in 0..bytes.len() {
            bytes[i] = 0x80;
            assert!(!is_zero(&bytes), "byte {i}");
            bytes[i] = 0;
        }
    }

    /// Corruptions that change several bytes the same way must not cancel out: a memset-style
    /// underflow writes one value over two whole chunks (and over a tail's bytes alike).
    #[test]
    fn detects_equal_corruptions_in_several_chunks_and_tail_bytes() {
        let mut gap = [0u8; 2 * CANARY_LEN + 3];
        for value in [0x00, 0xff, 0x41] {
            fill(&mut gap);
            gap[..2 * CANARY_LEN].fill(value);
            assert!(!intact(&gap), "two whole chunks set to {value:#x} went unnoticed");
            fill(&mut gap);
            for b in &mut gap[2 * CANARY_LEN..] {
                *b ^= 0x10; // every tail byte changed by the same difference
            }
            assert!(!intact(&gap), "tail bytes changed alike went unnoticed");
            fill(&mut gap);
            gap[3..3 + CANARY_LEN].fill(value); // straddling two chunks
            assert!(!intact(&gap), "a {value:#x} run across two chunks went unnoticed");
        }
    }

    #[test]
    fn is_zero_sees_equal_values_in_several_chunks_and_tail_bytes() {
        let mut bytes = [0u8; 2 * CANARY_LEN + 3];
        bytes[..2 * CANARY_LEN].fill(0x5a);
        assert!(!is_zero(&bytes), "two equal chunks cancelled");
        bytes.fill(0);
        bytes[2 * CANARY_LEN..].fill(0x5a);
        assert!(!is_zero(&bytes), "equal tail bytes cancelled");
    }

    /// Role of the child process in [`pattern_differs_between_processes`].
    const PRINT_PATTERN: &str = "STRONGROOM_TEST_PRINT_CANARY";

    /// The child half of [`pattern_differs_between_processes`]: prints this process's pattern.
    #[test]
    fn print_pattern_when_asked() {
        if std::env::var_os(PRINT_PATTERN).is_some() {
            println!("pattern={:02x?}", pattern());
        }
    }

    /// The pattern is drawn per process: a constant one (the same in every build and run)
    /// would let an overflow write the canary back exactly as it found it.
    #[test]
    #[cfg_attr(miri, ignore = "starts processes")]
    fn pattern_differs_between_processes() {
        let child_pattern = || {
            let exe = std::env::current_exe().expect("the test binary knows its path");
            let test = "alloc::canary::tests::print_pattern_when_asked";
            let out = std::process::Command::new(exe)
                .args(["--exact", test, "--nocapture", "--test-threads=1"])
                .env(PRINT_PATTERN, "1")
                .output()
                .expect("the child test process starts");
            let stdout = String::from_utf8_lossy(&out.stdout);
            // libtest prints the test's name on the same line first.
            let pattern = stdout.lines().find_map(|l| l.split_once("pattern=")).map(|(_, p)| p.to_owned());
            pattern.unwrap_or_else(|| panic!("the child printed no pattern:\n{stdout}"))
        };
        let (first, second) = (child_pattern(), child_pattern());
        let ours = format!("{:02x?}", pattern());
        assert_ne!(first, second, "two processes drew the same canary");
        assert_ne!(first, ours, "a child drew this process's canary");
    }

    #[test]
    fn pattern_is_not_all_zero() {
        // A zero canary would not notice a stray zeroing write.
        let mut gap = [0u8; CANARY_LEN];
        fill(&mut gap);
        assert_ne!(gap, [0u8; CANARY_LEN]);
    }
}
